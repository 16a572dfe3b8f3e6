/* Data-parallel pretraining on MPI: two ranks at a global batch of 64 follow
 * the loss trajectory of one process at the same batch and seed (with
 * --sync-bn; without it batchnorm sees each rank's shard, the one allowed
 * difference, shown too), and settings that cannot run across ranks are
 * refused before any work.  mpirun on loopback, 1 thread per rank. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dist_runs.h"
#include "test_paths.h"

#define STEPS 5

typedef struct work {
    char dir[256], spec[320];
} work;

static void make_data_in(work *w, const char *format) {
    dist_make_data(format, w->dir, sizeof w->dir, w->spec, sizeof w->spec);
}

static void make_data(work *w) { make_data_in(w, "eurosat-rgb"); }

/* A small lr keeps 5 steps from amplifying rounding: one process with
 * another BLAS kernel or thread count lands within 1e-6 of itself here. */
static void pretrain(const work *w, int ranks, const char *method, const char *extra, const char *name, double *loss) {
    char args[2048], command[4096], out[16384];
    snprintf(args, sizeof args,
             "pretrain --method %s --data %s --batch 64 --stem small --size 32 --epochs 1 %s "
             "--threads 1 --workers 1 --seed 3 -q --out %s/%s %s",
             method, w->spec, strstr(extra, "--lr") ? "" : "--lr 0.001", w->dir, name, extra);
    dist_command(command, sizeof command, ranks, args);
    int rc = dist_shell(command, out, sizeof out);
    cr_assert_eq(rc, 0, "%s\n%s", command, out);
    char run[600];
    snprintf(run, sizeof run, "%s/%s", w->dir, name);
    cr_assert_eq(dist_read_losses(run, loss, STEPS), STEPS, "%s: the log has fewer than %d steps\n%s", run, STEPS, out);
}

static double worst_relative(const double *a, const double *b) {
    double worst = 0;
    for (int i = 0; i < STEPS; i++) worst = fmax(worst, fabs(a[i] - b[i]) / fabs(b[i]));
    return worst;
}

/* `extra`: the method's own settings; `batchnorm`: its network has batchnorm
 * (a ViT has none, so --sync-bn changes nothing there). */
static void same_trajectory_on(const char *format, const char *method, const char *extra, bool batchnorm) {
    work w;
    make_data_in(&w, format);
    double one[STEPS], two[STEPS], per_rank_bn[STEPS];
    char sync[512];
    snprintf(sync, sizeof sync, "%s --sync-bn", extra);
    pretrain(&w, 0, method, sync, "one", one);
    pretrain(&w, 2, method, sync, "two", two);
    pretrain(&w, 2, method, extra, "two-local-bn", per_rank_bn);
    /* The record says how it ran: a global batch of 64 over 2 ranks. */
    char path[600], record[16384] = "";
    snprintf(path, sizeof path, "%s/two/config.json", w.dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    record[fread(record, 1, sizeof record - 1, f)] = '\0';
    fclose(f);
    char compact[16384];
    size_t used = 0;
    for (const char *c = record; *c && used < sizeof compact - 1; c++)
        if (*c != ' ' && *c != '\t' && *c != '\n') compact[used++] = *c;
    compact[used] = '\0';
    cr_expect(strstr(compact, "\"ranks\":2") && strstr(compact, "\"sync_bn\":true") && strstr(compact, "\"batch\":64"),
              "%s", record);
    for (int i = 0; i < STEPS; i++)
        cr_log_info("%s step %d: one process %.7f, two ranks %.7f, two ranks without --sync-bn %.7f", method, i + 1,
                    one[i], two[i], per_rank_bn[i]);
    cr_expect_lt(worst_relative(two, one), 1e-5, "%s: 2 ranks with --sync-bn leave the 1-process trajectory", method);
    /* Batchnorm over 32 images instead of 64 changes the very first loss. */
    if (batchnorm)
        cr_expect_gt(fabs(per_rank_bn[0] - one[0]) / one[0], 1e-5,
                     "%s: without --sync-bn the first step should differ (per-rank statistics)", method);
    else
        cr_expect_lt(worst_relative(per_rank_bn, one), 1e-5, "%s: no batchnorm, so --sync-bn should not matter", method);
    test_remove_tree(w.dir);
}

static void same_trajectory(const char *method, const char *extra, bool batchnorm) {
    same_trajectory_on("eurosat-rgb", method, extra, batchnorm);
}

Test(dist_pretrain, simclr_two_ranks_follow_one_process, .timeout = 300) { same_trajectory("simclr", "--width 16", true); }
Test(dist_pretrain, byol_two_ranks_follow_one_process, .timeout = 300) { same_trajectory("byol", "--width 16", true); }
/* The queue holds both ranks' keys (without --sync-bn the key encoder runs on a shuffled batch). */
Test(dist_pretrain, mocov2_two_ranks_follow_one_process, .timeout = 300) { same_trajectory("mocov2", "--width 16", true); }
/* False negatives are found among every rank's embeddings. */
Test(dist_pretrain, false_two_ranks_follow_one_process, .timeout = 300) { same_trajectory("false", "--width 16", true); }
/* Both contrasts over the global batch; regions drawn per image, whichever rank holds it.
 * GLCNet trains with Adam, whose normalized steps lift rounding-level
 * gradient differences to the step size: a smaller lr keeps 5 steps apart
 * from rounding. */
Test(dist_pretrain, glcnet_two_ranks_follow_one_process, .timeout = 300) { same_trajectory("glcnet", "--width 16 --lr 1e-5", true); }
/* Dates drawn over the global batch, keys shuffled and gathered into the three queues. */
Test(dist_pretrain, seco_two_ranks_follow_one_process, .timeout = 300) {
    same_trajectory_on("seco", "seco", "--width 16", true);
}
/* The masks are drawn over the global batch; a ViT, no batchnorm. */
Test(dist_pretrain, satmae_two_ranks_follow_one_process, .timeout = 300) {
    same_trajectory("satmae", "--backbone vit-tiny --patch 8 --width 48 --method-options decoder_width=64,decoder_depth=2,decoder_heads=4", false);
}
/* The center follows the global batch's teacher mean. */
Test(dist_pretrain, dino_two_ranks_follow_one_process, .timeout = 300) { same_trajectory("dino", "--width 16 --head-dim 256 --local-crops 2", true); }

/* An encoder pretrained with batchnorm over each rank's shard is another
 * recipe than one process's: every row evaluated from it says so, and one
 * pretrained with --sync-bn does not (its numbers are one process's). */
Test(dist_pretrain, rows_of_an_encoder_with_per_rank_batchnorm_say_so, .timeout = 300) {
    work w;
    make_data(&w);
    double loss[STEPS];
    pretrain(&w, 2, "simclr", "--width 8", "per-rank", loss);
    pretrain(&w, 2, "simclr", "--width 8 --sync-bn", "synced", loss);
    const char *runs[2] = {"per-rank", "synced"};
    for (int i = 0; i < 2; i++) {
        char args[2048], command[4096], out[16384], results[600], row[4096] = "";
        snprintf(results, sizeof results, "%s/%s.csv", w.dir, runs[i]);
        snprintf(args, sizeof args, "eval --protocol knn --checkpoint %s/%s --data %s --threads 1 -q --results %s",
                 w.dir, runs[i], w.spec, results);
        dist_command(command, sizeof command, 0, args);
        cr_assert_eq(dist_shell(command, out, sizeof out), 0, "%s\n%s", command, out);
        FILE *f = fopen(results, "r");
        cr_assert_not_null(f, "%s", results);
        cr_assert_not_null(fgets(row, sizeof row, f)); /* header */
        cr_assert_not_null(fgets(row, sizeof row, f));
        fclose(f);
        bool labelled = strstr(row, "pretrain_batchnorm=per-rank:2") != NULL;
        cr_expect_eq(labelled, i == 0, "%s: %s", runs[i], row);
    }
    test_remove_tree(w.dir);
}

Test(dist_pretrain, what_cannot_run_across_ranks_is_refused_up_front, .timeout = 300) {
    work w;
    make_data(&w);
    char args[2048], command[4096], out[16384];
    snprintf(args, sizeof args,
             "pretrain --method simclr --data %s --batch 63 --width 8 --stem small --size 32 --epochs 1 --threads 1 "
             "-q --out %s/odd", w.spec, w.dir);
    dist_command(command, sizeof command, 2, args);
    cr_expect_neq(dist_shell(command, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "--batch 63 is the global batch and must divide by the 2 ranks") != NULL, "%s", out);

    snprintf(args, sizeof args, "data check %s", w.spec);
    dist_command(command, sizeof command, 2, args);
    cr_expect_neq(dist_shell(command, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "only 'pretrain', 'eval --protocol finetune|segment' and 'run' run across processes") != NULL,
              "%s", out);
    test_remove_tree(w.dir);
}
