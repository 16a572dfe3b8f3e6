/* mkstemps (BSD/GNU) and nftw (XSI). */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700

#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *temp_root(void) {
    struct stat st;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0) return "/dev/shm";
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

_Noreturn void fuzz_fail(const char *target, const char *fmt, ...) {
    fprintf(stderr, "\n%s: invariant broken: ", target);
    va_list args;
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    abort();
}

void fuzz_make_dir(char dir[FUZZ_PATH_MAX]) {
    int n = snprintf(dir, FUZZ_PATH_MAX, "%s/geossl-fuzz-%ld-XXXXXX", temp_root(), (long)getpid());
    if (n < 0 || n >= FUZZ_PATH_MAX || !mkdtemp(dir)) fuzz_fail("fuzz_common", "cannot make a folder: %s", strerror(errno));
}

static void write_all(int fd, const uint8_t *data, size_t size, const char *path) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fuzz_fail("fuzz_common", "cannot write %s: %s", path, strerror(errno));
        data += n;
        size -= (size_t)n;
    }
}

void fuzz_write_file(const char *dir, const char *name, const uint8_t *data, size_t size, char path[FUZZ_PATH_MAX]) {
    int fd, n;
    if (dir) {
        n = snprintf(path, FUZZ_PATH_MAX, "%s/%s", dir, name);
        if (n < 0 || n >= FUZZ_PATH_MAX) fuzz_fail("fuzz_common", "path too long: %s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    } else {
        n = snprintf(path, FUZZ_PATH_MAX, "%s/geossl-fuzz-%ld-XXXXXX%s", temp_root(), (long)getpid(), name);
        if (n < 0 || n >= FUZZ_PATH_MAX) fuzz_fail("fuzz_common", "path too long for %s", name);
        fd = mkstemps(path, (int)strlen(name));
    }
    if (fd < 0) fuzz_fail("fuzz_common", "cannot create %s: %s", path, strerror(errno));
    write_all(fd, data, size, path);
    if (close(fd) != 0) fuzz_fail("fuzz_common", "cannot close %s: %s", path, strerror(errno));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

void fuzz_remove(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    int rc = S_ISDIR(st.st_mode) ? nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) : remove(path);
    if (rc != 0) fuzz_fail("fuzz_common", "cannot remove %s: %s", path, strerror(errno));
}

char *fuzz_strndup(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) fuzz_fail("fuzz_common", "out of memory for %zu bytes", size);
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
