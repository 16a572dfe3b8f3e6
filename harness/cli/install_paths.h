/* Where geossl finds the files it ships with: results/reference.csv (the
 * published numbers `report` and `run` compare with).
 *
 * `cmake --install build --prefix P` puts the program in P/bin and the file
 * in P/share/geossl, so the program looks next to itself, wherever P is
 * (/usr/local, ~/.local, a container's /opt): no path compiled in from the
 * source tree, which may be gone or belong to another version.  A geossl run
 * from its build folder (and the tests, which are in it too) has no such
 * prefix and reads the source tree's copy instead. */
#ifndef GS_CLI_INSTALL_PATHS_H
#define GS_CLI_INSTALL_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* The reference file for the geossl executable at exe_path (an absolute,
 * resolved path):
 *   1. <exe_path's folder>/../share/geossl/reference.csv when it exists (an
 *      installed geossl);
 *   2. else source_reference, when exe_path lies inside build_dir (a geossl
 *      or a test program run from the build tree it was built in);
 *   3. else none.
 * Writes the path into out and returns true when one was found.  build_dir
 * and source_reference may be NULL (no build-tree fallback). */
bool gs_cli_find_reference(const char *exe_path, const char *build_dir, const char *source_reference, char *out,
                           size_t size);

/* gs_cli_find_reference for this process (/proc/self/exe, and the build
 * folder and source tree it was compiled in); NULL when none was found,
 * else out. */
const char *gs_cli_default_reference(char *out, size_t size);

#endif
