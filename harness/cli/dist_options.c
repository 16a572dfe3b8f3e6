#include "dist_options.h"

#include <stdio.h>

bool gs_cli_join_job(const char *command, gs_dist *dist, double timeout_s, bool sync_bn) {
    gs_error err = {0};
    if (gs_dist_init(dist, timeout_s, &err) != GS_OK) {
        fprintf(stderr, "geossl %s: %s\n", command, err.message);
        return false;
    }
    dist->sync_bn = sync_bn;
    return true;
}
