/* Training-loss logs for the report's loss curves: a CSV with the header
 * run_id,step,loss (one row per logged step, any number of runs), or the
 * log.csv of a pretraining run folder (step,epoch,loss,lr,embedding_std,
 * img_per_s), whose run id is the folder's name. */
#ifndef GS_LOSS_LOG_H
#define GS_LOSS_LOG_H

#include <stddef.h>

#include "core/error.h"
#include "csv_table.h"

typedef struct gs_loss_point {
    const char *run_id;
    double step, loss;
} gs_loss_point;

typedef struct gs_loss_log {
    gs_loss_point *points; /* file order */
    size_t n;
    gs_csv_table table;    /* owns the strings */
    char folder_run_id[256]; /* a run folder's log.csv: the folder's name */
} gs_loss_log;

gs_status gs_loss_log_load(const char *path, gs_loss_log *out, gs_error *err);
void gs_loss_log_free(gs_loss_log *log);

#endif
