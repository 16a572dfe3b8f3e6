/* geossl version (and geossl --version): the version and the commit the
 * program was built from, so a result or a bug report can name the code
 * that made it.  The commit is read when the program is built
 * (cmake/build_commit.cmake), not from the source tree at run time: an
 * installed geossl has no source tree next to it. */
#include <stdio.h>

#include "commands.h"
#include "geossl_build_commit.h"
#include "options.h"

int gs_cmd_version(int argc, char **argv) {
    /* Parsed like every command, so a stray argument is a usage error, not ignored. */
    int parsed = gs_options_parse("version", "Prints the version and the git commit geossl was built from.", NULL, 0,
                                  argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
    printf("geossl %s (commit %s)\n", GEOSSL_VERSION, GEOSSL_BUILD_COMMIT);
    return 0;
}
