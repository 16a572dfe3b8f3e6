/* What `geossl eval` and `geossl demo` share: building an encoder from a
 * checkpoint, published weights or random init, and appending an
 * evaluation's metrics to the results CSV. */
#ifndef GS_CLI_EVAL_COMMON_H
#define GS_CLI_EVAL_COMMON_H

#include "core/error.h"
#include "evaluate.h"
#include "nn/backbone.h"

/* checkpoint: the "model" group of a geossl checkpoint (heads, targets and
 * optimizer state in the file are left unused); weights: a safetensors
 * file; neither: random init.  Errors go to the context. */
gs_status gs_cli_load_encoder(gs_context *ctx, gs_backbone *bb, const gs_backbone_config *config,
                              const char *checkpoint, const char *weights);

typedef struct gs_eval_identity {
    const char *method, *backbone, *pretrain_data, *eval_data;
    gs_protocol protocol;
    double label_fraction;
    uint64_t seed;
} gs_eval_identity;

/* One row per metric, with provenance, in the results store's vocabulary. */
gs_status gs_cli_append_results(const char *path, const gs_eval_identity *id, const gs_eval_result *r, int threads,
                                double wall_s, gs_error *err);

#endif
