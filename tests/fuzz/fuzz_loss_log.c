/* libFuzzer target: loss logs (`geossl report --loss-log`, reports/
 * loss_log.c): a run_id,step,loss CSV, or a run folder's log.csv
 * (step,epoch,loss,lr,embedding_std,img_per_s), whose run id is the
 * folder's name.  The input is written as <folder>/run-x/log.csv.
 *
 * Invariants: a malformed file is a format error; every point of an
 * accepted log has a run id (the folder's, "run-x", for a run-folder log). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "loss_log.h"

#define TARGET "fuzz_loss_log"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[FUZZ_PATH_MAX], run[FUZZ_PATH_MAX + 8], path[FUZZ_PATH_MAX];
    fuzz_make_dir(dir);
    snprintf(run, sizeof run, "%s/run-x", dir);
    if (mkdir(run, 0700) != 0) fuzz_fail(TARGET, "cannot make %s", run);
    fuzz_write_file(run, "log.csv", data, size, path);
    gs_loss_log log;
    gs_error err = {0};
    gs_status s = gs_loss_log_load(path, &log, &err);
    if (s == GS_OK) {
        for (size_t i = 0; i < log.n; i++)
            if (!log.points[i].run_id || (log.folder_run_id && strcmp(log.points[i].run_id, "run-x")))
                fuzz_fail(TARGET, "point %zu has run id '%s'", i, log.points[i].run_id ? log.points[i].run_id : "(null)");
        gs_loss_log_free(&log);
    } else if (s != GS_ERR_FORMAT) {
        fuzz_fail(TARGET, "a malformed log is status %d, not a format error: %s", (int)s, err.message);
    }
    fuzz_remove(dir);
    return 0;
}
