#include "cache_dir.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void gs_cache_default_dir(char *buf, size_t size) {
    const char *env = getenv("GEOSSL_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (env && *env)
        snprintf(buf, size, "%s", env);
    else if (xdg && *xdg)
        snprintf(buf, size, "%s/geossl", xdg);
    else if (home && *home)
        snprintf(buf, size, "%s/.cache/geossl", home);
    else
        snprintf(buf, size, ".geossl-cache");
}

gs_status gs_cache_make_dir(const char *dir, gs_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            struct stat st;
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return gs_error_set(err, GS_ERR_IO, "cannot create cache folder %s: %s", path, strerror(errno));
            if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
                return gs_error_set(err, GS_ERR_IO, "cache folder %s is not a folder", path);
            if (end) break;
            *p = '/';
        }
    }
    return GS_OK;
}
