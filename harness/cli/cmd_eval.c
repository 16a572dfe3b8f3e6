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
    eval_args a = {.backbone = "resnet18", .protocol = "knn", .labels = "100%", .method = NULL, .pretrain = NULL,
                   .stem = "imagenet", .seeds = 1, .seed = 0, .threads = 0, .epochs = 0, .batch = 0, .workers = 2,
                   .patch = 8, .width = 0};
    const gs_option options[] = {
        {"checkpoint", GS_OPT_STRING, &a.checkpoint, "FILE", "geossl checkpoint (HDF5) holding the encoder"},
        {"weights", GS_OPT_STRING, &a.weights, "FILE", "published weights (safetensors, torchvision/timm names)"},
        {"random-init", GS_OPT_FLAG, &a.random_init, "", "evaluate a randomly initialized encoder (the baseline)"},
        {"backbone", GS_OPT_STRING, &a.backbone, "NAME", "resnet18 | resnet50 | vit-tiny | vit-small [resnet18]"},
        {"protocol", GS_OPT_STRING, &a.protocol, "NAME", "knn | linear | finetune | segment [knn]"},
        {"labels", GS_OPT_STRING, &a.labels, "FRACTION", "training labels used: 1%, 10% or 100% [100%]"},
        {"data", GS_OPT_STRING, &a.data, "FORMAT:PATH", "the evaluation dataset (required)"},
        {"results", GS_OPT_STRING, &a.results, "FILE", "append one row per metric to this CSV [none]"},
        {"seeds", GS_OPT_INT, &a.seeds, "N", "runs with seeds seed..seed+N-1 (mean and std in reports) [1]"},
        {"seed", GS_OPT_INT, &a.seed, "N", "first seed [0]"},
        {"epochs", GS_OPT_INT, &a.epochs, "N", "fine-tuning epochs [10]"},
        {"batch", GS_OPT_INT, &a.batch, "N", "batch size [64 features, 32 fine-tuning]"},
        {"workers", GS_OPT_INT, &a.workers, "N", "loader threads [2]"},
        {"threads", GS_OPT_INT, &a.threads, "N", "compute threads (0: all cores) [0]"},
        {"patch", GS_OPT_INT, &a.patch, "N", "ViT patch size [8]"},
        {"width", GS_OPT_INT, &a.width, "N", "backbone width (0: standard) [0]"},
        {"stem", GS_OPT_STRING, &a.stem, "NAME", "ResNet stem: imagenet | small [imagenet]"},
        {"method", GS_OPT_STRING, &a.method, "NAME", "method name for the results [random, or the checkpoint's]"},
        {"pretrain-data", GS_OPT_STRING, &a.pretrain, "NAME", "pretraining data for the results [none]"},
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
    if (!gs_protocol_parse(a.protocol, &protocol)) {
        fprintf(stderr, "geossl eval: unknown protocol '%s' (knn, linear, finetune or segment)\n", a.protocol);
        return 2;
    }
    if (!gs_cli_parse_fraction(a.labels, &fraction)) {
        fprintf(stderr, "geossl eval: --labels takes a fraction such as 1%%, 10%% or 100%%, not '%s'\n", a.labels);
        return 2;
    }
    if (!gs_backbone_name_valid(a.backbone) || a.seeds < 1) {
        fprintf(stderr, "geossl eval: invalid --backbone '%s' or --seeds %lld\n", a.backbone, a.seeds);
        return 2;
    }
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
                     .stem = strcmp(a.stem, "small") ? GS_STEM_IMAGENET : GS_STEM_SMALL, .pos = GS_POS_LEARNED},
        .checkpoint = a.checkpoint, .weights = a.weights,
        .id = {.method = method, .backbone = backbone_name, .pretrain_data = a.pretrain, .eval_data = ds.format->name,
               .protocol = protocol, .label_fraction = fraction},
        .threads = (int)a.threads, .batch = (int)a.batch, .workers = (int)a.workers, .finetune_epochs = (int)a.epochs,
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
