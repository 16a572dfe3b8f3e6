/* The tiny model whose checkpoints seed fuzz_checkpoint: a "model" group
 * (conv1.weight 2x1x1x2, bn1.running_var 2) and an "optimizer" group
 * (conv1.weight.exp_avg_sq 2x1x1x2), with the metadata below.  The seed
 * writer saves it; the target loads into it. */
#ifndef GS_FUZZ_CHECKPOINT_MODEL_H
#define GS_FUZZ_CHECKPOINT_MODEL_H

#include "io/checkpoint.h"

#define FUZZ_CKPT_ARCHITECTURE "fuzz-net bands=1 width=2"

typedef struct fuzz_ckpt_model {
    gs_param_list model, optimizer;
    gs_checkpoint_group groups[2];
} fuzz_ckpt_model;

/* Builds the lists in ctx's arenas, every value set to fill; aborts on failure. */
void fuzz_ckpt_model_init(gs_context *ctx, fuzz_ckpt_model *m, float fill);
void fuzz_ckpt_model_free(fuzz_ckpt_model *m);
/* Whether every value still equals fill. */
bool fuzz_ckpt_model_all(const fuzz_ckpt_model *m, float fill);

#endif
