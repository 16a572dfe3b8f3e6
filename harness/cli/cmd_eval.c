/* geossl eval: one protocol on one dataset for an encoder (a geossl
 * checkpoint, published safetensors weights, or a random-init baseline),
 * over one or more seeds; metrics printed and appended to the results CSV.
 * The last line names the headline metric and its value in percent. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "dist_options.h"
#include "dataset.h"
#include "evaluate.h"
#include "eval_common.h"
#include "backend/backend.h"
#include "json_out.h"
#include "method.h"
#include "options.h"
#include "splits.h"

typedef struct eval_args {
    const char *checkpoint, *weights, *backbone, *protocol, *labels, *data, *results, *method, *pretrain, *stem,
        *splits, *decoder, *bands;
    bool random_init, force, freeze_encoder, json, sync_bn;
    long long seeds, seed, threads, epochs, iterations, batch, workers, patch, width, k, tile;
    double knn_temperature, layer_decay, dist_timeout;
} eval_args;

/* A checkpoint knows its method, backbone and pretraining data: they fill
 * the unset options, and an option that disagrees is an error naming both. */
static bool take_checkpoint_settings(eval_args *a, const gs_cli_checkpoint *c) {
    char given[160] = "", held[160] = "";
    const gs_method_ops *ops = a->method ? gs_method_find(a->method) : NULL;
    if (a->method && strcmp(c->method, "checkpoint") && strcmp(ops ? ops->name : a->method, c->method))
        snprintf(given, sizeof given, "--method %s", a->method), snprintf(held, sizeof held, "%s", c->method);
    if (a->pretrain && c->pretrain_data[0] && strcmp(a->pretrain, c->pretrain_data))
        snprintf(given, sizeof given, "--pretrain-data %s", a->pretrain),
            snprintf(held, sizeof held, "pretrained on %s", c->pretrain_data);
    if (c->has_backbone) {
        if (a->backbone && strcmp(a->backbone, c->backbone))
            snprintf(given, sizeof given, "--backbone %s", a->backbone), snprintf(held, sizeof held, "%s", c->backbone);
        if (a->stem && strcmp(a->stem, c->stem))
            snprintf(given, sizeof given, "--stem %s", a->stem), snprintf(held, sizeof held, "stem %s", c->stem);
        if (a->width != GS_UNSET_INT && a->width != c->width)
            snprintf(given, sizeof given, "--width %lld", a->width), snprintf(held, sizeof held, "width %d", c->width);
        if (a->patch != GS_UNSET_INT && a->patch != c->patch && strncmp(c->backbone, "vit", 3) == 0)
            snprintf(given, sizeof given, "--patch %lld", a->patch), snprintf(held, sizeof held, "patch %d", c->patch);
    }
    if (given[0]) {
        fprintf(stderr, "geossl eval: %s disagrees with the checkpoint %s (%s, %s with %d bands): leave the option "
                        "out, the checkpoint sets it\n", given, c->path, held, c->has_backbone ? c->backbone : "?",
                c->bands);
        return false;
    }
    if (!a->method && strcmp(c->method, "checkpoint")) a->method = c->method;
    if (!a->pretrain && c->pretrain_data[0]) a->pretrain = c->pretrain_data;
    if (c->has_backbone) {
        a->backbone = c->backbone;
        a->stem = c->stem;
        a->width = c->width;
        a->patch = c->patch;
    }
    return true;
}

static int eval_parsed(eval_args *ap, gs_parsed_args *argsp, gs_dist *dist);

int gs_cmd_eval(int argc, char **argv) {
    /* epochs and batch start unset: the protocol's defaults (gs_cli_eval_job reads 0 as those). */
    /* The encoder's settings start unset: a checkpoint supplies them, else the defaults in --help apply. */
    eval_args a = {.backbone = NULL, .protocol = "knn", .labels = "100%", .method = NULL, .pretrain = NULL,
                   .stem = NULL, .seeds = 1, .seed = 0, .threads = 0, .epochs = GS_UNSET_INT, .iterations = GS_UNSET_INT, .tile = GS_UNSET_INT,
                   .batch = GS_UNSET_INT, .workers = 2, .patch = GS_UNSET_INT, .width = GS_UNSET_INT,
                   .k = 20, .knn_temperature = 0.07, .layer_decay = GS_UNSET_FLOAT, .dist_timeout = 60};
    const gs_option options[] = {
        {"checkpoint", GS_OPT_STRING, &a.checkpoint, "PATH",
         "a pretrain run folder or its checkpoint file; method, backbone, bands and pretraining data come from it",
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
        {"iterations", GS_OPT_INT, &a.iterations, "N",
         "fine-tuning: exactly N optimizer steps, cycling over the training batches, instead of --epochs [epochs]",
         GS_RANGE(1, 100000000)},
        {"freeze-encoder", GS_OPT_FLAG, &a.freeze_encoder, "",
         "fine-tuning: train the head only; the encoder stays as loaded, batchnorm on its running statistics "
         "(FALSE's protocol)", GS_NO_VALUE},
        {"decoder", GS_OPT_STRING, &a.decoder, "NAME",
         "segment: the head; deeplabv3plus runs the encoder at output stride 16 and takes the ASPP from a "
         "checkpoint holding one (GLCNet's) [fpn]", GS_CHOICES(GS_SEGMENT_DECODER_NAMES)},
        {"layer-decay", GS_OPT_FLOAT, &a.layer_decay, "X",
         "fine-tuning a ViT: layer-wise lr decay, block i at X^(depth - i) of the head's lr; 1: none "
         "[the pretraining method's: 0.75 for satmae, else 1]", GS_BETWEEN(0.01, 1)},
        {"bands", GS_OPT_STRING, &a.bands, "NAMES",
         "bands by name, in this order: B4,B3,B2 (either spelling), rgb, or all [a checkpoint's own bands, found "
         "by name in the data; else all]", GS_ANY_TEXT},
        {"tile", GS_OPT_INT, &a.tile, "PX",
         "tiled data (potsdam, geotiff): cut into PX x PX tiles, each one sample [the format's: 256 for potsdam]",
         GS_RANGE(16, 65536)},
        {"batch", GS_OPT_INT, &a.batch, "N", "batch size [64 features, 32 fine-tuning]", GS_BATCH_RANGE},
        {"workers", GS_OPT_INT, &a.workers, "N", "loader threads [2]", GS_WORKERS_RANGE},
        {"threads", GS_OPT_INT, &a.threads, "N", "compute threads (0: all cores) [0]", GS_THREADS_RANGE},
        {"patch", GS_OPT_INT, &a.patch, "N", "ViT patch size [8]", GS_PATCH_RANGE},
        {"width", GS_OPT_INT, &a.width, "N", "backbone width (0: standard) [0]", GS_WIDTH_RANGE},
        {"stem", GS_OPT_STRING, &a.stem, "NAME", "ResNet stem [imagenet]", GS_CHOICES(GS_STEM_NAMES)},
        {"k", GS_OPT_INT, &a.k, "N", "kNN: neighbours that vote [20]", GS_RANGE(1, 100000)},
        {"knn-temperature", GS_OPT_FLOAT, &a.knn_temperature, "X", "kNN: temperature of the similarity weights [0.07]",
         GS_ABOVE(0)},
        {"splits", GS_OPT_STRING, &a.splits, "DIR",
         "published split lists (e.g. eurosat-train.txt) from DIR [the data folder's, else every 5th image is test]",
         GS_ANY_TEXT},
        {"force", GS_OPT_FLAG, &a.force, "", "replace rows of the same measurement already in --results",
         GS_NO_VALUE},
        {"method", GS_OPT_STRING, &a.method, "NAME", "method name for the results [the checkpoint's; random; imported]",
         GS_ANY_TEXT},
        {"pretrain-data", GS_OPT_STRING, &a.pretrain, "NAME", "pretraining data for the results [the checkpoint's; none]", GS_ANY_TEXT},
        GS_SYNC_BN_OPTION(a.sync_bn),
        GS_DIST_TIMEOUT_OPTION(a.dist_timeout),
        GS_JSON_OPTION(a.json),
    };
    const char *summary = "Evaluates an encoder with one protocol on one dataset and appends the metrics to a "
                          "results CSV.\nSplits: --splits DIR, else the dataset's own (its format's, or its published "
                          "lists in the data folder), else every 5th image of each class (sorted by file name) is "
                          "test; the settings column of each row says which.";
    gs_parsed_args args;
    int parsed = gs_command_line_parse(&(gs_command_line){.command = "eval", .summary = summary, .options = options,
                                                          .n_options = (int)(sizeof options / sizeof *options),
                                                          .takes_config = true},
                                       argc, argv, &args);
    if (parsed) {
        gs_parsed_args_free(&args);
        return parsed == 1 ? 0 : 2;
    }
    gs_dist dist = {.rank = 0, .size = 1};
    int code = eval_parsed(&a, &args, &dist);
    gs_parsed_args_free(&args); /* option values may point into it */
    /* A rank that stops with an error stops the job (the others would wait for it). */
    if (dist.size > 1 && code != 0) gs_dist_abort(&dist, code);
    gs_dist_finish(&dist);
    return code;
}

static int eval_parsed(eval_args *ap, gs_parsed_args *argsp, gs_dist *dist) {
    eval_args a = *ap;
    gs_parsed_args args = *argsp;
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
    bool trains = protocol == GS_PROTOCOL_FINETUNE || protocol == GS_PROTOCOL_SEGMENT;
    if (trains && a.batch == 1) {
        /* batchnorm needs two samples per step: a step of one would train nothing */
        fprintf(stderr, "geossl eval: --batch 1 cannot train --protocol %s (batchnorm needs at least 2 samples per "
                        "step; allowed: 2 to 65536)\n", a.protocol);
        return 2;
    }
    if (a.decoder && protocol != GS_PROTOCOL_SEGMENT) {
        fprintf(stderr, "geossl eval: --decoder %s is the head of --protocol segment; --protocol %s has none (leave "
                        "--decoder out, or use --protocol segment)\n", a.decoder, a.protocol);
        return 2;
    }
    if ((a.freeze_encoder || a.iterations != GS_UNSET_INT) && !trains) {
        fprintf(stderr, "geossl eval: %s is for the protocols that train (finetune, segment); --protocol %s trains "
                        "nothing\n", a.freeze_encoder ? "--freeze-encoder" : "--iterations", a.protocol);
        return 2;
    }
    if (a.iterations != GS_UNSET_INT && a.epochs != GS_UNSET_INT) {
        fprintf(stderr, "geossl eval: --iterations %lld and --epochs %lld both say how long to train: give one\n",
                a.iterations, a.epochs);
        return 2;
    }
    /* Under mpirun only the protocols that train a network share the work;
     * the others would compute the same numbers N times. */
    if (gs_dist_launched_size() > 1 && !trains) {
        fprintf(stderr, "geossl eval: --protocol %s runs in one process (only finetune and segment run across "
                        "processes): run it without mpirun\n", a.protocol);
        return 2;
    }
    if (!gs_cli_join_job("eval", dist, a.dist_timeout, a.sync_bn)) return 2;
    bool lead = dist->rank == 0; /* the rank that writes results and prints */
    if (!lead) {
        args.quiet = true;
        a.results = NULL;
        a.json = false;
    }
    gs_segment_decoder decoder = a.decoder ? (gs_segment_decoder)gs_option_choice(GS_SEGMENT_DECODER_NAMES, a.decoder)
                                           : GS_SEGMENT_DECODER_FPN;
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
    gs_cli_checkpoint ckpt;
    if (a.checkpoint && !gs_cli_checkpoint_read("eval", a.checkpoint, &ckpt)) return 2;
    if (a.checkpoint && !take_checkpoint_settings(&a, &ckpt)) return 2;
    if (a.checkpoint && ckpt.step == 0 && !args.quiet)
        fprintf(stderr, "geossl eval: %s holds the initial weights (step 0, before any %s training): the rows "
                        "measure a random network (settings pretrain_steps=0)\n", ckpt.path, ckpt.method);
    const char *backbone = a.backbone ? a.backbone : "resnet18", *stem = a.stem ? a.stem : "imagenet";
    if (protocol == GS_PROTOCOL_SEGMENT && strncmp(backbone, "resnet", 6)) {
        fprintf(stderr, "geossl eval: --protocol segment takes a ResNet's stages; %s is not a ResNet\n", backbone);
        return 2;
    }
    /* GLCNet pretrains backbone + ASPP: its checkpoint's ASPP starts the head, the decoder starts fresh. */
    const char *aspp_checkpoint = decoder == GS_SEGMENT_DECODER_DEEPLABV3PLUS && a.checkpoint && ckpt.has_aspp
                                      ? ckpt.path : NULL;
    int width = (int)gs_option_int_or(a.width, 0), patch = (int)gs_option_int_or(a.patch, 8);
    gs_dataset ds;
    gs_error err = {0};
    gs_dataset_options dopt = {.patch_size = (int)gs_option_int_or(a.tile, 0)};
    if (a.bands) snprintf(dopt.bands, sizeof dopt.bands, "%s", a.bands);
    if (gs_dataset_open(a.data, &dopt, &ds, &err) != GS_OK) {
        fprintf(stderr, "geossl eval: %s\n", err.message);
        return a.bands && err.status == GS_ERR_ARGUMENT ? 2 : 1;
    }
    /* The checkpoint's bands, by name, wherever they are in this data. */
    if (!a.bands && a.checkpoint && ckpt.band_names[0] && !gs_dataset_bands_are(&ds, ckpt.band_names)) {
        if (gs_dataset_select_bands(&ds, ckpt.band_names, &err) != GS_OK) {
            fprintf(stderr, "geossl eval: the checkpoint %s was pretrained on these %s; evaluate it on data that "
                            "has them, or choose others with --bands\n", ckpt.path, err.message);
            gs_dataset_close(&ds);
            return 2;
        }
        fprintf(stderr, "geossl eval: bands %s of %s, as the checkpoint was pretrained on them\n", ckpt.band_names,
                a.data);
    }
    if (a.tile != GS_UNSET_INT && !ds.format->tiled) {
        fprintf(stderr, "geossl eval: --tile cuts tiled data (potsdam, geotiff, s2-timeseries); %s samples are whole "
                        "images\n",
                ds.format->name);
        gs_dataset_close(&ds);
        return 2;
    }
    if (a.checkpoint && ckpt.bands > 0 && ckpt.bands != ds.bands) {
        fprintf(stderr, "geossl eval: this checkpoint is %s with %d bands, and %s has %d: evaluate it on data with "
                        "the bands it was pretrained on\n", backbone, ckpt.bands, a.data, ds.bands);
        gs_dataset_close(&ds);
        return 2;
    }
    if (a.splits) {
        bool found;
        if (gs_split_apply_standard(&ds, a.splits, &found, &err) != GS_OK) {
            fprintf(stderr, "geossl eval: %s\n", err.message);
            gs_dataset_close(&ds);
            return 2;
        }
    }
    const char *method = a.method ? a.method : a.random_init ? "random" : a.weights ? "imported" : ckpt.method;
    char backbone_name[64];
    gs_cli_backbone_label(backbone, width, !strcmp(stem, "small"), patch, backbone_name, sizeof backbone_name);
    gs_cli_eval_job job = {
        .ds = &ds,
        .backbone = {.name = backbone, .width = width, .patch = patch,
                     .stem = (gs_stem)gs_option_choice(GS_STEM_NAMES, stem), .pos = GS_POS_LEARNED},
        .checkpoint = a.checkpoint ? ckpt.path : NULL, .weights = a.weights,
        .id = {.method = method, .backbone = backbone_name, .pretrain_data = a.pretrain, .eval_data = ds.format->name,
               .protocol = protocol, .label_fraction = fraction},
        .threads = (int)a.threads, .batch = (int)gs_option_int_or(a.batch, 0), .workers = (int)a.workers,
        .finetune_epochs = (int)gs_option_int_or(a.epochs, 0), .iterations = (int)gs_option_int_or(a.iterations, 0),
        .freeze_encoder = a.freeze_encoder, .decoder = decoder, .aspp_checkpoint = aspp_checkpoint, .knn_k = (int)a.k,
        .knn_temperature = (float)a.knn_temperature, .results = a.results, .replace = a.force, .progress = args.quiet ? NULL : stderr,
        .dist = dist->size > 1 ? dist : NULL};
    gs_cli_eval_job_from_checkpoint(&job, a.checkpoint ? &ckpt : NULL,
                                    (float)gs_option_float_or(a.layer_decay, -1.0));
    if (job.layer_decay > 0.0f && job.layer_decay < 1.0f && protocol == GS_PROTOCOL_FINETUNE &&
        (strncmp(backbone, "vit", 3) || a.freeze_encoder)) {
        if (!isnan(a.layer_decay)) { /* given: a usage error; the method's default: not applicable */
            fprintf(stderr, "geossl eval: --layer-decay needs a ViT encoder that is fine-tuned (%s)\n",
                    a.freeze_encoder ? "--freeze-encoder keeps it fixed" : "this encoder is not a ViT");
            gs_dataset_close(&ds);
            return 2;
        }
        job.layer_decay = 0.0f;
    }
    /* A measurement already in the results file is found before any work. */
    for (long long s = 0; a.results && s < a.seeds; s++) {
        job.id.seed = (uint64_t)(a.seed + s);
        gs_eval_config ec = gs_cli_eval_config(&job);
        char settings[512];
        if (gs_evaluate_settings(&ds, &ec, settings, sizeof settings, &err) != GS_OK) {
            fprintf(stderr, "geossl eval: %s\n", err.message);
            gs_dataset_close(&ds);
            return 1;
        }
        if (!gs_cli_check_not_done("eval", a.results, &job.id, settings, a.force)) {
            gs_dataset_close(&ds);
            return 2;
        }
    }
    if (decoder == GS_SEGMENT_DECODER_DEEPLABV3PLUS && !aspp_checkpoint)
        fprintf(stderr, "geossl eval: deeplabv3plus: the ASPP starts fresh, as the decoder does (%s)\n",
                a.checkpoint ? "the checkpoint's heads group holds no aspp.*" : "no checkpoint");
    char labels[32];
    gs_cli_format_fraction(fraction, labels, sizeof labels);
    int exit_code = 0;
    gs_eval_result r = {0};
    /* Every rank scores the test split; rank 0 alone says so. */
    FILE *text = lead ? gs_cli_text_stream(a.json) : fopen("/dev/null", "w");
    if (!text) text = stderr;
    int threads = a.threads > 0 ? (int)a.threads : gs_backend_default_threads();
    for (long long s = 0; s < a.seeds && exit_code == 0; s++) {
        job.id.seed = (uint64_t)(a.seed + s);
        if (!args.quiet)
            fprintf(stderr, "geossl eval: %s %s on %s, %s labels, seed %llu\n", method, backbone_name, a.data, labels,
                    (unsigned long long)job.id.seed);
        double wall;
        gs_status status = gs_cli_evaluate(&job, &r, &wall, &err);
        if (r.n_metrics > 0) {
            fprintf(text, "seed %llu: %lld training and %lld test samples, %.1f s\n", (unsigned long long)job.id.seed,
                    (long long)r.n_train, (long long)r.n_test, wall);
            for (int i = 0; i < r.n_metrics; i++)
                if (!strchr(r.metrics[i].name, '/'))
                    fprintf(text, "  %-22s %.4f\n", r.metrics[i].name, r.metrics[i].value);
            /* The object is printed even when appending to --results failed:
             * the measurement itself is good. */
            if (a.json && !gs_cli_json_emit("eval", gs_cli_eval_result_json(&job.id, &r, a.data, threads, wall)))
                exit_code = 1;
        }
        if (status != GS_OK) {
            fprintf(stderr, "geossl eval: %s\n", err.message);
            exit_code = 1;
        }
    }
    gs_dataset_close(&ds);
    if (exit_code == 0 && r.n_metrics > 0)
        fprintf(text, "%s %.2f\n", r.headline_label, r.metrics[r.headline].value);
    if (!lead && text != stderr) fclose(text);
    return exit_code;
}
