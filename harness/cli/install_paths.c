#define _XOPEN_SOURCE 700 /* realpath */
#include "install_paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef GEOSSL_BUILD_DIR
#define GEOSSL_BUILD_DIR ""
#endif

/* The source tree's copy (results/CMakeLists.txt); none when built without it. */
#ifndef GEOSSL_REFERENCE_CSV
#define GEOSSL_REFERENCE_CSV ""
#endif

static bool is_file(const char *path) { return access(path, R_OK) == 0; }

/* Whether path is dir or lies under it; both resolved (symlinks, "..") so a
 * build folder reached through a link still counts. */
static bool lies_inside(const char *path, const char *dir) {
    char real_path[PATH_MAX], real_dir[PATH_MAX];
    if (!realpath(path, real_path) || !realpath(dir, real_dir)) return false;
    size_t n = strlen(real_dir);
    if (n > 1 && real_dir[n - 1] == '/') n--;
    return !strncmp(real_path, real_dir, n) && (real_path[n] == '/' || real_path[n] == '\0');
}

bool gs_cli_find_reference(const char *exe_path, const char *build_dir, const char *source_reference, char *out,
                           size_t size) {
    if (size) out[0] = '\0';
    if (!exe_path || !exe_path[0]) return false;
    const char *slash = strrchr(exe_path, '/');
    char installed[PATH_MAX + 64], resolved[PATH_MAX];
    if (slash)
        snprintf(installed, sizeof installed, "%.*s/../share/geossl/reference.csv", (int)(slash - exe_path), exe_path);
    else
        snprintf(installed, sizeof installed, "../share/geossl/reference.csv");
    /* Resolved, so reports name P/share/geossl/reference.csv, not P/bin/../share/... */
    if (is_file(installed) && realpath(installed, resolved) && (size_t)snprintf(out, size, "%s", resolved) < size)
        return true;
    if (build_dir && build_dir[0] && source_reference && source_reference[0] && lies_inside(exe_path, build_dir) &&
        is_file(source_reference) && (size_t)snprintf(out, size, "%s", source_reference) < size)
        return true;
    if (size) out[0] = '\0';
    return false;
}

const char *gs_cli_default_reference(char *out, size_t size) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return NULL;
    exe[n] = '\0';
    return gs_cli_find_reference(exe, GEOSSL_BUILD_DIR, GEOSSL_REFERENCE_CSV, out, size) ? out : NULL;
}
