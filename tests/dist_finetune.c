/* Fine-tuning across processes: 2 ranks at a global batch of 64 train as
 * one process does (with --sync-bn), rank 0 alone writes the rows, and
 * without --sync-bn the rows say their batchnorm saw each rank's shard.
 * mpirun on loopback, 1 thread per rank. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_runs.h"
#include "test_paths.h"

typedef struct work {
    char dir[256], spec[320];
} work;

static void make_data(work *w) { dist_make_data("eurosat-rgb", w->dir, sizeof w->dir, w->spec, sizeof w->spec); }

/* Two steps: beyond them SGD at the protocol's lr lifts rounding (a
 * different oneDNN ISA moves one process's loss as much). */
static void finetune(const work *w, int ranks, const char *extra, const char *results) {
    char args[2048], command[4096], out[16384];
    snprintf(args, sizeof args,
             "eval --protocol finetune --random-init --data %s --width 16 --stem small --batch 64 --iterations 2 "
             "--threads 1 --workers 1 --seed 3 -q --results %s/%s %s",
             w->spec, w->dir, results, extra);
    dist_command(command, sizeof command, ranks, args);
    cr_assert_eq(dist_shell(command, out, sizeof out), 0, "%s\n%s", command, out);
}

typedef struct rows {
    int count;
    double loss;
    char settings[512];
} rows;

/* The number of rows, the loss row's value and its settings (the last column). */
static rows read_rows(const work *w, const char *results) {
    rows r = {0};
    char path[600], line[4096];
    snprintf(path, sizeof path, "%s/%s", w->dir, results);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    for (bool header = true; fgets(line, sizeof line, f); header = false) {
        if (header) continue;
        r.count++;
        char *metric = strstr(line, ",loss,");
        if (metric) r.loss = atof(metric + strlen(",loss,"));
        line[strcspn(line, "\n")] = '\0';
        snprintf(r.settings, sizeof r.settings, "%s", strrchr(line, ',') + 1);
    }
    fclose(f);
    return r;
}

Test(dist_finetune, two_ranks_follow_one_process_and_rank_zero_writes, .timeout = 300) {
    work w;
    make_data(&w);
    finetune(&w, 0, "--sync-bn", "one.csv");
    finetune(&w, 2, "--sync-bn", "two.csv");
    finetune(&w, 2, "", "per-rank.csv");
    rows one = read_rows(&w, "one.csv"), two = read_rows(&w, "two.csv"), per_rank = read_rows(&w, "per-rank.csv");
    cr_log_info("training loss: one process %.7f, two ranks %.7f, two ranks without --sync-bn %.7f", one.loss, two.loss,
                per_rank.loss);
    cr_expect_gt(one.count, 0);
    cr_expect_eq(two.count, one.count, "rank 0 alone writes: %d rows against one process's %d", two.count, one.count);
    cr_expect_lt(fabs(two.loss - one.loss) / one.loss, 1e-5, "loss %.7f against one process's %.7f", two.loss, one.loss);
    cr_expect_str_eq(two.settings, one.settings, "with --sync-bn the measurement is one process's");
    cr_expect(strstr(per_rank.settings, "batchnorm=per-rank;ranks=2") != NULL, "%s", per_rank.settings);
    cr_expect_gt(fabs(per_rank.loss - one.loss) / one.loss, 1e-5, "per-rank batchnorm should change the loss");
    test_remove_tree(w.dir);
}

Test(dist_finetune, protocols_without_training_run_in_one_process, .timeout = 300) {
    work w;
    make_data(&w);
    char args[2048], command[4096], out[16384];
    snprintf(args, sizeof args, "eval --protocol knn --random-init --data %s --width 8 --stem small -q", w.spec);
    dist_command(command, sizeof command, 2, args);
    cr_expect_neq(dist_shell(command, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "--protocol knn runs in one process") != NULL, "%s", out);
    test_remove_tree(w.dir);
}
