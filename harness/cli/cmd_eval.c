/* geossl eval: one protocol on one dataset for an encoder (a geossl
 * checkpoint, published safetensors weights, or a random-init baseline),
 * over one or more seeds; metrics printed and appended to the results CSV.
 * The last line names the headline metric and its value in percent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include "cache.h"
#include "commands.h"
#include "core/clock.h"
#include "dataset.h"
#include "evaluate.h"
#include "eval_common.h"
#include "options.h"

static bool parse_fraction(const char *text, double *out) {
    char *end;
    double v = strtod(text, &end);
    if (end == text) return false;
    if (*end == '%') {
        v /= 100.0;
        end++;
    }
    *out = v;
    return !*end && v > 0 && v <= 1;
}

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
    if (!parse_fraction(a.labels, &fraction)) {
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
    char backbone_name[64]; /* the store's spelling: ViTs carry their patch size */
    if (strncmp(a.backbone, "vit", 3))
        snprintf(backbone_name, sizeof backbone_name, "%s", a.backbone);
    else
        snprintf(backbone_name, sizeof backbone_name, "%s/%lld", a.backbone, a.patch);
    gs_backbone_config bc = {.name = a.backbone, .bands = ds.bands, .img_size = (int)ds.height, .width = (int)a.width,
                             .patch = (int)a.patch, .stem = strcmp(a.stem, "small") ? GS_STEM_IMAGENET : GS_STEM_SMALL,
                             .pos = GS_POS_LEARNED};
    int exit_code = 0;
    gs_eval_result r = {0};
    for (long long s = 0; s < a.seeds && exit_code == 0; s++) {
        uint64_t seed = (uint64_t)(a.seed + s);
        gs_context ctx;
        gs_context_options co = {.n_threads = (int)a.threads, .seed = seed};
        gs_context_init(&ctx, &co);
        double t0 = gs_now_s();
        gs_backbone bb;
        if (gs_cli_load_encoder(&ctx, &bb, &bc, a.checkpoint, a.weights) != GS_OK) {
            fprintf(stderr, "geossl eval: %s: %s\n", gs_status_name(ctx.status), ctx.error);
            gs_context_free(&ctx);
            exit_code = 1;
            break;
        }
        /* Features are cached per encoder: a file's path and mtime, or a random init's seed. */
        char encoder_key[4400], cache_dir[4000];
        struct stat src;
        const char *source = a.checkpoint ? a.checkpoint : a.weights;
        if (source && stat(source, &src) == 0)
            snprintf(encoder_key, sizeof encoder_key, "%s|%s|%lld.%09ld", bb.arch, source, (long long)src.st_mtim.tv_sec,
                     src.st_mtim.tv_nsec);
        else
            snprintf(encoder_key, sizeof encoder_key, "%s|random|seed %llu|threads %d", bb.arch,
                     (unsigned long long)seed, ctx.n_threads);
        gs_cache_default_dir(cache_dir, sizeof cache_dir);
        gs_error dir_err = {0};
        bool use_cache = gs_cache_make_dir(cache_dir, &dir_err) == GS_OK;
        gs_eval_config ec = {.protocol = protocol, .label_fraction = fraction, .seed = seed, .batch = (int)a.batch,
                             .feature_cache_dir = use_cache ? cache_dir : NULL, .encoder_key = encoder_key,
                             .workers = (int)a.workers, .progress = stderr,
                             .finetune = {.epochs = (int)a.epochs, .batch = (int)a.batch}};
        fprintf(stderr, "geossl eval: %s %s on %s, %s labels, seed %llu\n", method, backbone_name, a.data, a.labels,
                (unsigned long long)seed);
        if (gs_evaluate(&ctx, &bb, &ds, &ec, &r, &err) != GS_OK) {
            fprintf(stderr, "geossl eval: %s\n", err.message);
            exit_code = 1;
        } else {
            double wall = gs_now_s() - t0;
            printf("seed %llu: %lld training and %lld test samples, %.1f s\n", (unsigned long long)seed,
                   (long long)r.n_train, (long long)r.n_test, wall);
            for (int i = 0; i < r.n_metrics; i++)
                if (!strchr(r.metrics[i].name, '/')) printf("  %-22s %.4f\n", r.metrics[i].name, r.metrics[i].value);
            gs_eval_identity id = {.method = method, .backbone = backbone_name, .pretrain_data = a.pretrain,
                                   .eval_data = ds.format->name, .protocol = protocol, .label_fraction = fraction,
                                   .seed = seed};
            if (a.results && gs_cli_append_results(a.results, &id, &r, ctx.n_threads, wall, &err) != GS_OK) {
                fprintf(stderr, "geossl eval: %s\n", err.message);
                exit_code = 1;
            }
        }
        gs_backbone_free(&bb);
        gs_context_free(&ctx);
    }
    gs_dataset_close(&ds);
    if (exit_code == 0 && r.n_metrics > 0)
        printf("%s %.2f\n", r.headline_label, r.metrics[r.headline].value);
    return exit_code;
}
