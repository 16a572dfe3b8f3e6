#include "test_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *test_shared_data_dir(void) {
    const char *env = getenv("GEOSSL_SHARED_DATA");
    return env && *env ? env : GEOSSL_SHARED_DATA_DIR;
}

const char *test_fixture_path(const char *name, char *buf, unsigned long size) {
    snprintf(buf, size, "%s/%s", GEOSSL_FIXTURE_DIR, name);
    return buf;
}

const char *test_temp_dir(char *buf, unsigned long size) {
    const char *base = getenv("TMPDIR");
    snprintf(buf, size, "%s/geossl-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(buf)) buf[0] = '\0';
    return buf;
}

bool test_shared_path(const char *rel, char *path, unsigned long size) {
    snprintf(path, size, "%s/%s", test_shared_data_dir(), rel);
    struct stat st;
    return stat(path, &st) == 0;
}

void test_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) { /* lstat: a symlink to a folder is removed, not followed */
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char child[2048];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            test_remove_tree(child);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        remove(path);
    }
}

gs_status test_open_dataset(const char *format, const char *path, gs_dataset *ds, gs_error *err) {
    char spec[1400];
    snprintf(spec, sizeof spec, "%s:%s", format, path);
    memset(err, 0, sizeof *err);
    return gs_dataset_open(spec, NULL, ds, err);
}

int64_t test_find_stem(const gs_dataset *ds, const char *stem) {
    for (int64_t i = 0; i < ds->n_samples; i++)
        if (!strcmp(ds->samples[i].stem, stem)) return i;
    return -1;
}
