#include <stdio.h>

#include "commands.h"

int gs_cmd_train(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "geossl train: not yet available\n");
    return 1;
}
