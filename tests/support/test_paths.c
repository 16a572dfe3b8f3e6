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
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char child[1024];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            test_remove_tree(child);
        }
        closedir(d);
    }
    remove(path);
}
