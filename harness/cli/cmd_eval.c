/* geossl eval: one protocol on one dataset for an encoder (a geossl
 * checkpoint, published safetensors weights, or a random-init baseline),
 * over one or more seeds; metrics printed and appended to the results CSV.
 * The last line names the headline metric and its value in percent. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "dataset.h"
#include "evaluate.h"
#include "eval_common.h"
#include "options.h"

typedef struct eval_args {
    const char *checkpoint, *weights, *backbone, *protocol, *labels, *data, *results, *method, *pretrain, *stem;
    bool random_init;
    long long seeds, seed, threads, epochs, batch, workers, patch, width;
} eval_args;

int gs_cmd_eval(int argc, char **argv) {
    /* epochs and batch start unset: the protocol's defaults (gs_cli_eval_job reads 0 as those). */
    eval_args a = {.backbone = "resnet18", .protocol = "knn", .labels = "100%", .method = NULL, .pretrain = NULL,
                   .stem = "imagenet", .seeds = 1, .seed = 0, .threads = 0, .epochs = GS_UNSET_INT,
                   .batch = GS_UNSET_INT, .workers = 2, .patch = 8, .width = 0};
    const gs_option options[] = {
        {"checkpoint", GS_OPT_STRING, &a.checkpoint, "FILE", "geossl checkpoint (HDF5) holding the encoder",
         GS_ANY_TEXT},
        {"weights", GS_OPT_STRING, &a.weights, "FILE", "published weights (safetensors, torchvision/timm names)",
         GS_ANY_TEXT},
        {"random-init", GS_OPT_FLAG, &a.random_init, "", "evaluate a randomly initialized encoder (the baseline)",
         GS_NO_VALUE},
        {"backbone", GS_OPT_STRING, &a.backbone, "NAME", "encoder [resnet18]", GS_CHOICES(GS_BACKBONE_NAMES)},
        {"protocol", GS_OPT_STRING, &a.protocol, "NAME", "evaluation protocol [knn]", GS_CHOICES(GS_PROTOCOL_NAMES)},
        {"labels", GS_OPT_STRING, &a.labels, "FRACTION",
         "training labels used: a fraction in (0, 1] such as 1%, 10%, 100% or 0.5 [100%]", GS_ANY_TEXT},
        {"data", GS_OPT_STRING, &a.data, "FORMAT:PATH", "the evaluation dataset (required)", GS_ANY_TEXT},
        {"results", GS_OPT_STRING, &a.results, "FILE",
         "append one row per metric to this results CSV (its folder must exist) [none]", GS_ANY_TEXT},
        {"seeds", GS_OPT_INT, &a.seeds, "N", "runs with seeds seed..seed+N-1 (mean and std in reports) [1]",
         GS_RANGE(1, 1000)},
        {"seed", GS_OPT_INT, &a.seed, "N", "first seed [0]", GS_SEED_RANGE},
        {"epochs", GS_OPT_INT, &a.epochs, "N", "fine-tuning epochs [10]", GS_EPOCHS_RANGE},
        {"batch", GS_OPT_INT, &a.batch, "N", "batch size [64 features, 32 fine-tuning]", GS_BATCH_RANGE},
        {"workers", GS_OPT_INT, &a.workers, "N", "loader threads [2]", GS_WORKERS_RANGE},
        {"threads", GS_OPT_INT, &a.threads, "N", "compute threads (0: all cores) [0]", GS_THREADS_RANGE},
        {"patch", GS_OPT_INT, &a.patch, "N", "ViT patch size [8]", GS_PATCH_RANGE},
        {"width", GS_OPT_INT, &a.width, "N", "backbone width (0: standard) [0]", GS_WIDTH_RANGE},
        {"stem", GS_OPT_STRING, &a.stem, "NAME", "ResNet stem [imagenet]", GS_CHOICES(GS_STEM_NAMES)},
        {"method", GS_OPT_STRING, &a.method, "NAME", "method name for the results [random, or the checkpoint's]",
         GS_ANY_TEXT},
        {"pretrain-data", GS_OPT_STRING, &a.pretrain, "NAME", "pretraining data for the results [none]", GS_ANY_TEXT},
    };
    const char *summary = "Evaluates an encoder with one protocol on one dataset and appends the metrics to a "
                          "results CSV.\nSplits: the dataset's own, else every 5th image of each class (sorted by "
                          "file name) is test.";
    int parsed = gs_options_parse("eval", summary, options, (int)(sizeof options / sizeof *options), argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
    gs_protocol protocol;
    double fraction;
    int sources = (a.checkpoint != NULL) + (a.weights != NULL) + a.random_init;
    if (!a.data) {
        fprintf(stderr, "geossl eval: --data FORMAT:PATH is required (see 'geossl data formats')\n");
        return 2;
    }
    if (sources != 1) {
        fprintf(stderr, "geossl eval: give exactly one of --checkpoint FILE, --weights FILE or --random-init\n");
        return 2;
    }
    gs_protocol_parse(a.protocol, &protocol); /* one of the choices: the parser checked */
    if (!gs_cli_parse_fraction(a.labels, &fraction)) {
        fprintf(stderr, "geossl eval: --labels %s is out of range (allowed: a fraction in (0, 1] such as 1%%, 10%%, "
                        "100%% or 0.5)\n", a.labels);
        return 2;
    }
    if (a.seeds - 1 > LLONG_MAX - a.seed) {
        fprintf(stderr, "geossl eval: --seed %lld with --seeds %lld would go past the largest seed, %lld\n", a.seed,
                a.seeds, LLONG_MAX);
        return 2;
    }
    /* An unusable results file is found now, not after an hour of fine-tuning. */
    if (a.results && !gs_cli_check_results("eval", a.results)) return 2;
    gs_dataset ds;
    gs_error err = {0};
    if (gs_dataset_open(a.data, NULL, &ds, &err) != GS_OK) {
        fprintf(stderr, "geossl eval: %s\n", err.message);
        return 1;
    }
    const char *method = a.method ? a.method : a.random_init ? "random" : a.weights ? "imported" : "checkpoint";
    char backbone_name[64];
    gs_cli_backbone_label(a.backbone, (int)a.patch, backbone_name, sizeof backbone_name);
    gs_cli_eval_job job = {
        .ds = &ds,
        .backbone = {.name = a.backbone, .width = (int)a.width, .patch = (int)a.patch,
                     .stem = (gs_stem)gs_option_choice(GS_STEM_NAMES, a.stem), .pos = GS_POS_LEARNED},
        .checkpoint = a.checkpoint, .weights = a.weights,
        .id = {.method = method, .backbone = backbone_name, .pretrain_data = a.pretrain, .eval_data = ds.format->name,
               .protocol = protocol, .label_fraction = fraction},
        .threads = (int)a.threads, .batch = (int)gs_option_int_or(a.batch, 0), .workers = (int)a.workers,
        .finetune_epochs = (int)gs_option_int_or(a.epochs, 0),
        .results = a.results, .progress = stderr};
    int exit_code = 0;
    gs_eval_result r = {0};
    for (long long s = 0; s < a.seeds && exit_code == 0; s++) {
        job.id.seed = (uint64_t)(a.seed + s);
        fprintf(stderr, "geossl eval: %s %s on %s, %s labels, seed %llu\n", method, backbone_name, a.data, a.labels,
                (unsigned long long)job.id.seed);
        double wall;
        gs_status status = gs_cli_evaluate(&job, &r, &wall, &err);
        if (r.n_metrics > 0) {
            printf("seed %llu: %lld training and %lld test samples, %.1f s\n", (unsigned long long)job.id.seed,
                   (long long)r.n_train, (long long)r.n_test, wall);
            for (int i = 0; i < r.n_metrics; i++)
                if (!strchr(r.metrics[i].name, '/')) printf("  %-22s %.4f\n", r.metrics[i].name, r.metrics[i].value);
        }
        if (status != GS_OK) {
            fprintf(stderr, "geossl eval: %s\n", err.message);
            exit_code = 1;
        }
    }
    gs_dataset_close(&ds);
    if (exit_code == 0 && r.n_metrics > 0)
        printf("%s %.2f\n", r.headline_label, r.metrics[r.headline].value);
    return exit_code;
}
