/* Training-loss logs for the report's loss curves: a CSV with the header
 * run_id,step,loss (one row per logged step, any number of runs), or the
 * log.csv of a pretraining run folder (step,epoch,loss,lr,embedding_std,
 * img_per_s), whose run id is the folder's name. */
#ifndef GS_LOSS_LOG_H
#define GS_LOSS_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "csv_table.h"

typedef struct gs_loss_point {
    const char *run_id;
    double step, loss;
    double embedding_std, img_per_s; /* a run folder's log only; NAN in the run_id,step,loss layout */
} gs_loss_point;

typedef struct gs_loss_log {
    gs_loss_point *points; /* file order */
    size_t n;
    gs_csv_table table;    /* owns the strings */
    /* A run folder's log.csv: the folder's name (NULL otherwise).  On the
     * heap, not in this struct, because the points point at it and a
     * gs_loss_logs array of these moves when it grows. */
    char *folder_run_id;
    unsigned long long file_device, file_inode; /* which file it is, however its path was spelled */
} gs_loss_log;

gs_status gs_loss_log_load(const char *path, gs_loss_log *out, gs_error *err);
void gs_loss_log_free(gs_loss_log *log);
/* Whether point i is its run's first in the log (a log holds few runs and
 * many steps, so only the points where the run id changes are compared). */
bool gs_loss_log_run_starts_at(const gs_loss_log *log, size_t i);

/* Several logs: the one given by hand and the run folders' found on their own. */
typedef struct gs_loss_logs {
    gs_loss_log *logs;
    size_t n;
    size_t n_unreadable;   /* run folder logs that could not be read (a run killed mid-row) */
    char unreadable[512];  /* the first one's error */
} gs_loss_logs;

/* Appends the log at `path` (an error is the caller's: it named the file). */
gs_status gs_loss_logs_add(gs_loss_logs *logs, const char *path, gs_error *err);
/* Finds the log.csv of every run folder beside a results file, where
 * `geossl demo` (DIR/<method>/) and `geossl run` (OUT/pretrain/<method>/)
 * keep their pretraining runs, in name order; files already in `logs` are
 * not read twice.  A log.csv that is not a run folder's (another header) is
 * passed over; one that cannot be read is counted, not an error: the report
 * goes on without its curves. */
gs_status gs_loss_logs_discover(gs_loss_logs *logs, const char *results_path, gs_error *err);
void gs_loss_logs_free(gs_loss_logs *logs);

#endif
