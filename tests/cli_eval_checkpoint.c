/* eval --checkpoint takes everything the checkpoint knows: a run folder or
 * its file; the method, backbone settings and pretraining data from the
 * checkpoint into every result row (never "checkpoint ... (none)"); an
 * option that disagrees with the checkpoint is refused naming both, before
 * any work; a resume with another method is refused naming both. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_capture.h"
#include "commands.h"
#include "eval_common.h"
#include "results_store.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct run_dir {
    char dir[256], data[320], spec[400], ms_data[320], ms_spec[400], run[320], results[320];
} run_dir;

/* Generated EuroSAT (RGB and MS) and one tiny SimCLR run (width 8, 1 epoch). */
static void pretrain_once(run_dir *w) {
    cr_assert(test_temp_dir(w->dir, sizeof w->dir)[0]);
    snprintf(w->data, sizeof w->data, "%s/eurosat", w->dir);
    snprintf(w->spec, sizeof w->spec, "eurosat-rgb:%s", w->data);
    snprintf(w->ms_data, sizeof w->ms_data, "%s/eurosat-ms", w->dir);
    snprintf(w->ms_spec, sizeof w->ms_spec, "eurosat-ms:%s", w->ms_data);
    snprintf(w->run, sizeof w->run, "%s/run", w->dir);
    snprintf(w->results, sizeof w->results, "%s/results.csv", w->dir);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", w->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_synth_options so = {.seed = 1, .count = 5}; /* every 5th image of a class is test */
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", w->data, &so, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_synth_write("eurosat-ms", w->ms_data, &so, &err), GS_OK, "%s", err.message);
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--data", w->spec, "--out", w->run,
                                                 "--epochs", "1", "--batch", "8", "--width", "8", "--stem", "small",
                                                 "--size", "32", "--threads", "1", "--workers", "1", NULL});
    cr_assert_eq(c.rc, 0, "pretrain failed: %s", c.err);
}

Test(cli_eval_checkpoint, rows_carry_the_checkpoints_method_backbone_and_data) {
    run_dir w;
    pretrain_once(&w);
    /* The folder, with no --width or --stem: the checkpoint has width 8 and the small stem. */
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", w.run, "--data", w.spec, "--threads", "1",
                                             "--results", w.results, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    char file[400];
    snprintf(file, sizeof file, "%s/checkpoint.h5", w.run);
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", file, "--data", w.spec, "--threads", "1", "--seed", "1",
                                    "--results", w.results, NULL});
    cr_assert_eq(c.rc, 0, "the file inside the folder: %s", c.err);
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(w.results, &r, &err), GS_OK, "%s", err.message);
    cr_assert_gt(r.n_rows, 1);
    for (size_t i = 0; i < r.n_rows; i++) {
        cr_expect_str_eq(r.rows[i].method, "simclr");
        cr_expect_str_eq(r.rows[i].pretrain_data, "eurosat-rgb");
        cr_expect_str_eq(r.rows[i].backbone, "resnet18-w8-small", "the checkpoint's width and stem are part of the label");
    }
    gs_results_free(&r);
    test_remove_tree(w.dir);
}

/* A run that fails before its first checkpoint leaves no folder and no
 * "continue with --resume" hint. */
Test(cli_eval_checkpoint, a_failed_start_leaves_no_folder) {
    run_dir w;
    pretrain_once(&w);
    char out[400];
    snprintf(out, sizeof out, "%s/never", w.dir);
    /* 40 training images are fewer than one batch of 64. */
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--data", w.spec, "--out", out,
                                                 "--epochs", "1", "--batch", "64", "--width", "8", "--threads", "1",
                                                 NULL});
    cr_expect_eq(c.rc, 1, "%s", c.err);
    cr_expect(strstr(c.err, "fewer than one batch"), "%s", c.err);
    cr_expect_null(strstr(c.err, "--resume"), "a hint to resume nothing: %s", c.err);
    cr_expect_neq(access(out, F_OK), 0, "%s was left behind", out);
    test_remove_tree(w.dir);
}

Test(cli_eval_checkpoint, a_disagreeing_option_is_refused_naming_both) {
    run_dir w;
    pretrain_once(&w);
    const char *bad[][2] = {{"--width", "16"}, {"--stem", "imagenet"}, {"--method", "byol"},
                            {"--backbone", "resnet50"}, {"--pretrain-data", "imagenet"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        captured c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", w.run, "--data", w.spec, "--results",
                                                 w.results, (char *)bad[i][0], (char *)bad[i][1], NULL});
        REFUSED(c, bad[i][0], bad[i][1], "disagrees with the checkpoint", "checkpoint.h5");
        cr_expect_str_empty(c.out, "%s %s: the evaluation ran", bad[i][0], bad[i][1]);
    }
    /* Agreeing options and the alias of the same method are fine. */
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", w.run, "--data", w.spec, "--width", "8",
                                             "--method", "simclr", "--threads", "1", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    /* 13-band data for a 3-band encoder, every band asked for: named, exit 2.
     * (Without --bands eval takes the encoder's red, green, blue by name.) */
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", w.run, "--data", w.ms_spec, "--bands", "all", NULL});
    REFUSED(c, "3 bands", "has 13");
    test_remove_tree(w.dir);
}

Test(cli_eval_checkpoint, resuming_with_another_method_names_both) {
    run_dir w;
    pretrain_once(&w);
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "byol", "--data", w.spec, "--out", w.run,
                                                 "--epochs", "2", "--batch", "8", "--width", "8", "--stem", "small",
                                                 "--size", "32", "--threads", "1", "--workers", "1", "--resume", NULL});
    cr_expect_neq(c.rc, 0);
    cr_expect(strstr(c.err, "simclr") && strstr(c.err, "byol"), "%s", c.err);
    test_remove_tree(w.dir);
}

static char *slurp_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc((size_t)n + 1, 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) buf[0] = '\0';
    fclose(f);
    return buf;
}

/* The run folder keeps config.json (the resolved configuration: defaults
 * filled in, the data, the split, the views) and, with --keep-every, the
 * checkpoint of every N-th epoch besides the latest. */
Test(cli_eval_checkpoint, the_run_folder_keeps_the_resolved_config_and_kept_epochs) {
    run_dir w;
    pretrain_once(&w);
    char path[600];
    snprintf(path, sizeof path, "%s/config.json", w.run);
    char *text = slurp_text(path);
    cr_assert_not_null(text, "no %s", path);
    cJSON *root = cJSON_Parse(text);
    cr_assert_not_null(root, "config.json does not parse: %s", text);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(root, "method")), "simclr");
    cJSON *opt = cJSON_GetObjectItem(root, "optimizer"), *data = cJSON_GetObjectItem(root, "data");
    cr_assert(opt && data);
    /* SimCLR's paper lr 0.3 (LARS) x batch 8 / 256, written resolved, not as "default". */
    cr_expect_float_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(opt, "lr")), 0.3 * 8 / 256, 1e-6);
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(data, "split")), "official");
    cr_expect_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(data, "train_samples")), 30);
    cr_expect_gt(cJSON_GetArraySize(cJSON_GetObjectItem(root, "views")), 1);
    cJSON_Delete(root);
    free(text);

    char out[400];
    snprintf(out, sizeof out, "%s/kept", w.dir);
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--data", w.spec, "--out", out,
                                                 "--epochs", "3", "--batch", "8", "--width", "8", "--stem", "small",
                                                 "--size", "32", "--threads", "1", "--workers", "1", "--keep-every",
                                                 "2", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    const char *present[] = {"checkpoint.h5", "checkpoint-epoch000.h5", "checkpoint-epoch002.h5", "config.json",
                             "log.csv"};
    for (size_t i = 0; i < sizeof present / sizeof *present; i++) {
        snprintf(path, sizeof path, "%s/%s", out, present[i]);
        cr_expect_eq(access(path, F_OK), 0, "%s missing", path);
    }
    snprintf(path, sizeof path, "%s/checkpoint-epoch001.h5", out);
    cr_expect_neq(access(path, F_OK), 0, "epoch 1 is not a multiple of 2");
    /* Epoch 0 holds the initial weights: the random baseline of this very run. */
    snprintf(path, sizeof path, "%s/checkpoint-epoch000.h5", out);
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", path, "--data", w.spec, "--threads", "1", "--results",
                                    w.results, "--json", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "pretrain_steps=0;") != NULL, "the row's settings do not say pretrain_steps=0: %s", c.out);
    cr_expect(strstr(c.err, "initial weights") != NULL, "stderr does not say they are the initial weights: %s", c.err);
    /* The final checkpoint of the same run is another measurement: its
     * settings differ, so it is refused beside the initial one. */
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", out, "--data", w.spec, "--threads", "1", "--results",
                                    w.results, NULL});
    cr_expect_eq(c.rc, 2, "rows of 0 and 9 pretraining steps (3 epochs of 3) were let into one entry: %s", c.err);
    cr_expect(strstr(c.err, "pretrain_steps=0") && strstr(c.err, "pretrain_steps=9"), "%s", c.err);
    test_remove_tree(w.dir);
}

/* A SatMAE checkpoint is evaluated as its authors do: kNN and the linear
 * probe on every group token, mean-pooled (settings features=mean_tokens,
 * said on stderr), fine-tuning with layer-wise lr decay 0.75
 * (layer_decay=0.75), which --layer-decay sets (1: none); --layer-decay on
 * a ResNet is refused before any work. */
Test(cli_eval_checkpoint, a_satmae_checkpoint_is_evaluated_on_pooled_group_tokens_with_layer_decay) {
    run_dir w;
    pretrain_once(&w);
    char run_dir_[400];
    snprintf(run_dir_, sizeof run_dir_, "%s/satmae", w.dir);
    captured c = run(gs_cmd_pretrain,
                     (char *[]){"pretrain", "--method", "satmae", "--backbone", "vit-tiny", "--patch", "16", "--width",
                                "48", "--data", w.ms_spec, "--out", run_dir_, "--epochs", "1", "--batch", "8",
                                "--threads", "1", "--workers", "1", "--method-options",
                                "decoder_width=16,decoder_depth=1,decoder_heads=2", NULL});
    cr_assert_eq(c.rc, 0, "pretrain failed: %s", c.err);
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", run_dir_, "--data", w.ms_spec, "--threads", "1",
                                    "--results", w.results, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.err, "spectral-group token") != NULL, "stderr does not say what is pooled: %s", c.err);
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", run_dir_, "--data", w.ms_spec, "--threads", "1",
                                    "--protocol", "finetune", "--iterations", "1", "--batch", "4", "--results",
                                    w.results, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", run_dir_, "--data", w.ms_spec, "--threads", "1",
                                    "--protocol", "finetune", "--iterations", "1", "--batch", "4", "--layer-decay",
                                    "1", "--seed", "1", "--results", w.results, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(w.results, &r, &err), GS_OK, "%s", err.message);
    int knn = 0, decayed = 0, plain = 0;
    for (size_t i = 0; i < r.n_rows; i++) {
        const gs_result_row *row = &r.rows[i];
        cr_expect_str_eq(row->method, "satmae");
        if (!strcmp(row->protocol, "knn")) {
            knn++;
            cr_expect(strstr(row->settings, "features=mean_tokens") != NULL, "knn settings: %s", row->settings);
        } else if (row->seed == 0) {
            decayed++;
            cr_expect(strstr(row->settings, "layer_decay=0.75") != NULL, "finetune settings: %s", row->settings);
            cr_expect(strstr(row->settings, "features=mean_tokens;head=fc_norm+linear") != NULL,
                      "fine-tuning does not say it trains on the pooled group tokens: %s", row->settings);
        } else {
            plain++;
            cr_expect_null(strstr(row->settings, "layer_decay"), "--layer-decay 1: %s", row->settings);
        }
    }
    cr_expect(knn > 0 && decayed > 0 && plain > 0, "rows: knn %d, decayed %d, plain %d", knn, decayed, plain);
    gs_results_free(&r);
    /* On a ResNet checkpoint: refused, naming the option. */
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", w.run, "--data", w.spec, "--protocol", "finetune",
                                    "--layer-decay", "0.75", NULL});
    REFUSED(c, "--layer-decay", "not a ViT");
    test_remove_tree(w.dir);
}

/* A checkpoint records its bands by name, and eval finds them by name in the
 * evaluation data: an RGB encoder on 13-band EuroSAT MS takes B04, B03, B02;
 * one pretrained on --bands B8A,B4,B3 takes those three from the whole MS
 * data, and on RGB data is refused naming the band it lacks. */
Test(cli_eval_checkpoint, eval_selects_the_checkpoints_bands_by_name) {
    run_dir w;
    pretrain_once(&w);
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", w.run, "--data", w.ms_spec, "--threads", "1",
                                             NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.err, "bands red,green,blue of"), "%s", c.err);
    char nir[400];
    snprintf(nir, sizeof nir, "%s/nir", w.dir);
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--data", w.ms_spec, "--bands", "B8A,B4,B3",
                                        "--out", nir, "--epochs", "1", "--batch", "8", "--width", "8", "--stem",
                                        "small", "--size", "32", "--threads", "1", "--workers", "1", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", nir, "--data", w.ms_spec, "--threads", "1", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.err, "bands B8A,B04,B03 of"), "%s", c.err);
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", nir, "--data", w.spec, NULL});
    REFUSED(c, "'B8A' is not in", "--bands");
    /* --bands overrides, and a band count that still differs is refused as before. */
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", nir, "--data", w.ms_spec, "--bands", "B4,B3", NULL});
    REFUSED(c, "3 bands", "has 2");
    /* data check takes --bands (and --tile) the same way. */
    c = run(gs_cmd_data, (char *[]){"data", "check", "--bands", "B8A,B4", w.ms_spec, NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "2 bands"), "%s", c.out);
    c = run(gs_cmd_data, (char *[]){"data", "check", "--bands", "B8A", w.spec, NULL});
    REFUSED(c, "'B8A' is not in");
    /* pretrain takes --tile too, for tiled formats only. */
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--data", w.ms_spec, "--tile", "32", "--out",
                                        nir, "--force", NULL});
    REFUSED(c, "--tile", "eurosat-ms");
    test_remove_tree(w.dir);
}

/* --force replaces a run only once the new one trains: a new run refused
 * for a bad method option leaves the old checkpoint, log and config where
 * they were (nothing set aside left behind), and a good one replaces them. */
Test(cli_eval_checkpoint, force_keeps_the_old_run_when_the_new_one_cannot_start) {
    run_dir w;
    pretrain_once(&w);
    char checkpoint[400], aside[420], log[400];
    snprintf(checkpoint, sizeof checkpoint, "%s/checkpoint.h5", w.run);
    snprintf(aside, sizeof aside, "%s.replaced", checkpoint);
    snprintf(log, sizeof log, "%s/log.csv", w.run);
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--data", w.spec, "--out", w.run,
                                                 "--epochs", "1", "--batch", "8", "--width", "8", "--stem", "small",
                                                 "--size", "32", "--threads", "1", "--workers", "1", "--force",
                                                 "--method-options", "no_such_key=1", NULL});
    cr_expect_neq(c.rc, 0, "a bad method option trained: %s", c.err);
    cr_expect(strstr(c.err, "as it was before --force"), "%s", c.err);
    cr_expect_eq(access(checkpoint, F_OK), 0, "the old checkpoint is gone");
    cr_expect_eq(access(log, F_OK), 0, "the old log is gone");
    cr_expect_neq(access(aside, F_OK), 0, "%s left behind", aside);
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", w.run, "--data", w.spec, "--threads", "1", NULL});
    cr_expect_eq(c.rc, 0, "the kept checkpoint does not evaluate: %s", c.err);
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "byol", "--data", w.spec, "--out", w.run, "--epochs",
                                        "1", "--batch", "8", "--width", "8", "--stem", "small", "--size", "32",
                                        "--threads", "1", "--workers", "1", "--force", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect_neq(access(aside, F_OK), 0, "%s left behind after a good run", aside);
    gs_cli_checkpoint ck;
    cr_assert(gs_cli_checkpoint_read("test", w.run, &ck));
    cr_expect_str_eq(ck.method, "byol");
    test_remove_tree(w.dir);
}

/* SeCo trains on B4, B3, B2 of 13-band data: its checkpoint records those
 * three names (not the data's 13), so eval picks them out of EuroSAT MS. */
Test(cli_eval_checkpoint, a_seco_checkpoint_records_the_bands_its_encoder_takes) {
    run_dir w;
    pretrain_once(&w);
    char seasonal[400], spec[420], out[400];
    snprintf(seasonal, sizeof seasonal, "%s/seasonal", w.dir);
    snprintf(spec, sizeof spec, "seco:%s", seasonal);
    snprintf(out, sizeof out, "%s/seco-run", w.dir);
    gs_synth_options so = {.seed = 1, .count = 12, .size = 66};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("seco", seasonal, &so, &err), GS_OK, "%s", err.message);
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "seco", "--data", spec, "--out", out,
                                                 "--epochs", "1", "--batch", "8", "--width", "8", "--size", "64",
                                                 "--threads", "1", "--workers", "1", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    gs_cli_checkpoint ck;
    cr_assert(gs_cli_checkpoint_read("test", out, &ck));
    cr_expect_str_eq(ck.band_names, "B04,B03,B02");
    c = run(gs_cmd_eval, (char *[]){"eval", "--checkpoint", out, "--data", w.ms_spec, "--threads", "1", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.err, "bands B04,B03,B02 of"), "%s", c.err);
    test_remove_tree(w.dir);
}

/* Networks of different sizes never share a backbone label (reports would
 * average them as seeds of one entry); the standard ones keep the plain name
 * that published numbers use. */
Test(cli_eval_checkpoint, backbone_labels_name_a_nonstandard_width_and_stem) {
    const struct {
        const char *backbone;
        int width;
        bool small_stem;
        int patch;
        const char *label;
    } cases[] = {
        {"resnet18", 0, false, 16, "resnet18"},        {"resnet18", 64, false, 16, "resnet18"},
        {"resnet18", 16, false, 16, "resnet18-w16"},   {"resnet50", 0, true, 16, "resnet50-small"},
        {"vit-tiny", 192, false, 8, "vit-tiny/8"},     {"vit-tiny", 48, false, 16, "vit-tiny-w48/16"},
        {"vit-small", 384, false, 16, "vit-small/16"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char label[64];
        gs_cli_backbone_label(cases[i].backbone, cases[i].width, cases[i].small_stem, cases[i].patch, label,
                              sizeof label);
        cr_expect_str_eq(label, cases[i].label);
    }
}
