/* The options and the start-up every command that runs across processes
 * (pretrain, eval, run) shares. */
#ifndef GS_CLI_DIST_OPTIONS_H
#define GS_CLI_DIST_OPTIONS_H

#include <stdbool.h>

#include "dist/dist.h"
#include "options.h"

#define GS_SYNC_BN_OPTION(flag)                                                                                    \
    {"sync-bn", GS_OPT_FLAG, &(flag), "",                                                                          \
     "across processes (under mpirun): batchnorm statistics over the global batch, as one process would compute " \
     "them (without it, each rank's own shard, and rows say batchnorm=per-rank)",                                 \
     GS_NO_VALUE}
#define GS_DIST_TIMEOUT_OPTION(seconds)                                                                          \
    {"dist-timeout", GS_OPT_FLOAT, &(seconds), "S",                                                              \
     "across processes: a rank that has not answered for S seconds (died, hangs) stops the job, naming it [60]", \
     GS_BETWEEN(1, 86400)}

/* Joins the job mpirun started (a job of one without it), before any work.
 * False after "geossl COMMAND: why" on stderr. */
bool gs_cli_join_job(const char *command, gs_dist *dist, double timeout_s, bool sync_bn);

#endif
