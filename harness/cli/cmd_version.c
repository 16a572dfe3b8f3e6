#include <stdio.h>

#include "commands.h"

int gs_cmd_version(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("geossl %s\n", GEOSSL_VERSION);
    return 0;
}
