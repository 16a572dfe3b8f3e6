#include <stdio.h>

#include "commands.h"
#include "options.h"

int gs_cmd_version(int argc, char **argv) {
    /* Parsed like every command, so a stray argument is a usage error, not ignored. */
    int parsed = gs_options_parse("version", "Prints the version.", NULL, 0, argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
    printf("geossl %s\n", GEOSSL_VERSION);
    return 0;
}
