/* config.json of a pretraining run folder: the resolved configuration
 * (every hyperparameter with defaults filled in, the data, the views, seed,
 * threads, the git commit), written when the run starts or resumes, so a
 * reader of the folder knows exactly what produced its checkpoint. */
#ifndef GS_METHODS_RUN_RECORD_H
#define GS_METHODS_RUN_RECORD_H

#include "dataset.h"
#include "method.h"
#include "pretrain.h"

typedef struct gs_run_record {
    const gs_pretrain_config *cfg;  /* as given */
    const gs_method *method;        /* built: its resolved config and encoder */
    const gs_optimizer_config *optimizer;
    const gs_dataset *data;
    const gs_augment_config *views;
    int n_views;
    int64_t train_samples, steps_per_epoch, start_step;
    int64_t warmup_steps; /* of the default schedule (ignored for a method's own) */
    int threads;
    int ranks;    /* processes of a data-parallel job (1: one process) */
    bool sync_bn; /* batchnorm over the global batch across them */
} gs_run_record;

/* Writes path atomically (a temporary file renamed over it). */
gs_status gs_run_record_write(const char *path, const gs_run_record *r, gs_error *err);

#endif
