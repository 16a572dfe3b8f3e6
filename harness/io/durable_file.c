#include "durable_file.h"
#include "file_digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void gs_sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

gs_status gs_commit_file(const char *tmp, const char *path, gs_error *err) {
    const char *step = "syncing";
    int fd = open(tmp, O_RDONLY);
    bool ok = fd >= 0 && fsync(fd) == 0;
    int e = ok ? 0 : errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        e = errno;
        step = "closing";
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        e = errno;
        step = "renaming";
    }
    if (!ok) {
        unlink(tmp);
        return gs_error_set(err, GS_ERR_IO, "cannot write %s: %s %s: %s", path, step, tmp, strerror(e));
    }
    gs_sync_parent_dir(path);
    return GS_OK;
}

gs_status gs_commit_sealed_file(const char *tmp, const char *path, gs_error *err) {
    gs_error seal = {0};
    if (gs_file_digest_seal(tmp, &seal) != GS_OK) {
        unlink(tmp);
        return gs_error_set(err, GS_ERR_IO, "cannot write %s: %s", path, seal.message);
    }
    return gs_commit_file(tmp, path, err);
}
