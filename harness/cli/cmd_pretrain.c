/* geossl pretrain: self-supervised pretraining with progress, a checkpoint
 * every epoch and --resume. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "dist_options.h"
#include "options.h"
#include "provenance.h"
#include "evaluate.h"
#include "pretrain.h"
#include "loader.h"

/* The training samples a run on ds sees (gs_pretrain's: no test split). */
static int64_t training_samples(const gs_dataset *ds) {
    int64_t n = 0;
    for (int64_t i = 0; i < ds->n_samples; i++)
        n += ds->samples[i].split == GS_SPLIT_NONE || ds->samples[i].split == GS_SPLIT_TRAIN;
    return n;
}

/* The resolved recipe as `key = value` lines: what a run will do, every
 * default spelled out (the method's built in a scratch context), the views
 * in the syntax --augment and --set augment.KEY read.  Without --data the
 * views are those of 3-band images at --size (64 px unless given). */
static int print_recipe(const gs_pretrain_config *pc, const gs_dataset *ds, gs_error *err) {
    int bands = ds ? ds->bands : 3, size = pc->size > 0 ? pc->size : ds ? (int)ds->height : 64;
    int64_t n_train = ds ? training_samples(ds) : 0;
    gs_pretrain_resolved r;
    gs_augment_config views[GS_LOADER_MAX_VIEWS];
    int n_views = 0;
    if (gs_pretrain_resolve(pc, bands, size, n_train, &r, err) != GS_OK ||
        gs_pretrain_views(pc, bands, size, views, &n_views, err) != GS_OK)
        return 2;
    const gs_method_ops *ops = gs_method_find(pc->method);
    printf("method = %s\nbackbone = %s  # %s\n", ops->name, pc->backbone.name, r.architecture);
    if (ds)
        printf("data = %s:%s  # %d bands, %lld x %lld px, %lld training samples\n", ds->format->name, ds->root,
               ds->bands, (long long)ds->height, (long long)ds->width, (long long)n_train);
    else
        printf("data = none  # not given: the views below are for 3-band %d px images\n", size);
    printf("epochs = %d\nbatch = %d\nseed = %llu\n", pc->epochs, pc->batch, (unsigned long long)pc->seed);
    printf("optimizer = %s%s\n", gs_optimizer_kind_name(r.optimizer.kind), pc->optimizer >= 0 ? "" : "  # the method's");
    if (pc->lr > 0)
        printf("lr = %g\n", (double)r.optimizer.lr);
    else
        printf("lr = %g  # the method's %g at batch 256, x %d / 256\n", (double)r.optimizer.lr, (double)ops->lr,
               pc->batch);
    printf("weight_decay = %g%s\n", (double)r.optimizer.weight_decay, pc->weight_decay >= 0 ? "" : "  # the method's");
    if (r.optimizer.kind == GS_OPTIM_ADAMW)
        printf("betas = %g,%g\n", (double)r.optimizer.beta1, (double)r.optimizer.beta2);
    else
        printf("momentum = %g\n", (double)r.optimizer.momentum);
    if (r.own_schedule)
        printf("schedule = %s\n", ops->schedule ? ops->schedule : "the method's own");
    else if (r.steps_per_epoch > 0)
        printf("schedule.warmup_epochs = %g  # %lld of %lld steps, linear; then cosine to 0\n",
               (double)r.warmup_steps / (double)r.steps_per_epoch, (long long)r.warmup_steps,
               (long long)(r.steps_per_epoch * pc->epochs));
    else
        printf("schedule.warmup_epochs = %g  # linear; then cosine to 0\n",
               pc->has_warmup ? pc->warmup_epochs : 0.1 * pc->epochs);
    if (r.method.temperature > 0) printf("temperature = %g\n", (double)r.method.temperature);
    if (r.method.momentum > 0) printf("ema_momentum = %g  # target network's EMA base\n", (double)r.method.momentum);
    if (r.method.queue_size > 0) printf("queue = %d\n", r.method.queue_size);
    if (r.method.proj_hidden > 0) printf("head_hidden = %d\n", r.method.proj_hidden);
    if (r.method.proj_dim > 0) printf("head_dim = %d\n", r.method.proj_dim);
    if (r.method.local_crops > 0) printf("local_crops = %d\n", r.method.local_crops);
    if (pc->method_options && *pc->method_options) printf("method_options = %s\n", pc->method_options);
    printf("views = %d\n", n_views);
    for (int v = 0; v < n_views; v++) {
        bool same = v > 0 && !memcmp(&views[v], &views[v - 1], sizeof views[v]);
        if (same) {
            printf("view.%d = view.%d\n", v, v - 1);
            continue;
        }
        char prefix[32];
        snprintf(prefix, sizeof prefix, "view.%d.", v);
        gs_augment_print(stdout, prefix, &views[v]);
    }
    return 0;
}

/* --force sets the run it replaces aside (PATH.replaced) rather than
 * deleting it: a new run that fails before its first checkpoint (a bad
 * method option, a dataset error) puts it back, so a usage error never
 * costs the hours that run holds.  restore: back under its own name. */
static void set_aside(const char *path, bool restore) {
    char aside[4200];
    snprintf(aside, sizeof aside, "%s.replaced", path);
    if (restore)
        rename(aside, path);
    else
        rename(path, aside);
}

static void put_back(const char *out, const char *checkpoint, const char *log_csv, const char *config_json) {
    set_aside(checkpoint, true);
    set_aside(log_csv, true);
    set_aside(config_json, true);
    fprintf(stderr, "geossl pretrain: the run in %s is as it was before --force\n", out);
}

static void discard_aside(const char *path) {
    char aside[4200];
    snprintf(aside, sizeof aside, "%s.replaced", path);
    remove(aside);
}

/* --config / --set keys beyond the options' own names: the paths of a run
 * folder's config.json, so that file repeats its run. */
static const gs_config_key CONFIG_KEYS[] = {
    {"geossl", NULL, GS_KEY_RECORD, false},
    {"git_commit", NULL, GS_KEY_RECORD, false},
    {"written", NULL, GS_KEY_RECORD, false},
    {"backbone.name", "backbone", GS_KEY_OPTION, false},
    {"backbone.width", "width", GS_KEY_OPTION, false},
    {"backbone.stem", "stem", GS_KEY_OPTION, false},
    {"backbone.patch", "patch", GS_KEY_OPTION, false},
    {"backbone.architecture", NULL, GS_KEY_RECORD, false},
    {"data.spec", "data", GS_KEY_OPTION, false},
    {"data.band_names", "bands", GS_KEY_OPTION, false},
    {"data.tile", "tile", GS_KEY_OPTION, false},
    {"data.view_size", "size", GS_KEY_OPTION, false},
    {"data.bands", NULL, GS_KEY_RECORD, false},
    {"data.dates", "dates", GS_KEY_OPTION, false},
    {"data.train_samples", NULL, GS_KEY_RECORD, false},
    {"data.split", NULL, GS_KEY_RECORD, false},
    {"training.epochs", "epochs", GS_KEY_OPTION, false},
    {"training.batch", "batch", GS_KEY_OPTION, false},
    {"training.seed", "seed", GS_KEY_OPTION, false},
    {"training.threads", "threads", GS_KEY_OPTION, false},
    {"training.workers", "workers", GS_KEY_OPTION, false},
    {"training.keep_every", "keep-every", GS_KEY_OPTION, false},
    {"training.steps_per_epoch", NULL, GS_KEY_RECORD, false},
    {"training.total_steps", NULL, GS_KEY_RECORD, false},
    {"training.start_step", NULL, GS_KEY_RECORD, false},
    {"training.ranks", NULL, GS_KEY_RECORD, false},   /* mpirun -np sets it, not a file */
    {"training.sync_bn", NULL, GS_KEY_RECORD, false}, /* a flag: given on the command line */
    {"training.collectives", NULL, GS_KEY_RECORD, false},
    {"optimizer.kind", "optimizer", GS_KEY_OPTION, false},
    {"optimizer.lr", "lr", GS_KEY_OPTION, false},
    {"optimizer.weight_decay", "weight-decay", GS_KEY_OPTION, false},
    {"optimizer.momentum", NULL, GS_KEY_RECORD, false},
    {"optimizer.schedule", NULL, GS_KEY_RECORD, false},
    {"schedule.warmup_epochs", "warmup-epochs", GS_KEY_OPTION, false},
    {"method_config.temperature", "temperature", GS_KEY_OPTION, true},
    {"method_config.proj_hidden", "head-hidden", GS_KEY_OPTION, true},
    {"method_config.proj_dim", "head-dim", GS_KEY_OPTION, true},
    {"method_config.momentum", "ema-momentum", GS_KEY_OPTION, true},
    {"method_config.queue_size", "queue", GS_KEY_OPTION, true},
    {"method_config.local_crops", "local-crops", GS_KEY_OPTION, true},
    {"augment_overrides", "augment", GS_KEY_LIST, false},
    {"augment.", "augment", GS_KEY_ITEMS, false},
    {"views", NULL, GS_KEY_RECORD, false},
};

static int pretrain_command(int argc, char **argv, gs_parsed_args *args, gs_dist *dist);

int gs_cmd_pretrain(int argc, char **argv) {
    gs_parsed_args args;
    gs_dist dist = {.rank = 0, .size = 1};
    int code = pretrain_command(argc, argv, &args, &dist);
    gs_parsed_args_free(&args); /* option values may point into it */
    /* A rank that stops with an error stops the job: the others would wait
     * for it at the next step's sums. */
    if (dist.size > 1 && code != 0) gs_dist_abort(&dist, code);
    gs_dist_finish(&dist);
    return code;
}

static int pretrain_command(int argc, char **argv, gs_parsed_args *args, gs_dist *dist) {
    const char *method = NULL, *backbone = "resnet18", *data = NULL, *out = NULL, *optimizer = NULL,
               *stem = "imagenet", *augment = NULL, *method_options = NULL, *bands = NULL,
               *dump_views = NULL, *false_negative = NULL;
    long long epochs = 20, batch = 64, size = 0, seed = 0, threads = 0, workers = 2, width = 0, patch = 8,
              keep_every = 0;
    /* Unset: the method decides (gs_pretrain_config reads 0, or < 0 for weight decay, as "the method's"). */
    long long tile = GS_UNSET_INT, dates = GS_UNSET_INT;
    long long head_hidden = GS_UNSET_INT, head_dim = GS_UNSET_INT, queue = GS_UNSET_INT, local_crops = GS_UNSET_INT;
    double lr = GS_UNSET_FLOAT, temperature = GS_UNSET_FLOAT, weight_decay = GS_UNSET_FLOAT,
           warmup_epochs = GS_UNSET_FLOAT, ema_momentum = GS_UNSET_FLOAT, alpha = GS_UNSET_FLOAT;
    bool resume = false, force = false, print_config = false, head_relu = false, sync_bn = false;
    double dist_timeout = 60;
    /* --method's choices are the registry's, so a new method needs no edit here. */
    char method_names[256];
    const char *method_choices[32];
    gs_method_names_with_aliases(method_names, sizeof method_names);
    gs_option_split_choices(method_names, method_choices, 32);
    const gs_option options[] = {
        {"method", GS_OPT_STRING, &method, "NAME", "the SSL method (required)", GS_CHOICES(method_choices)},
        {"backbone", GS_OPT_STRING, &backbone, "NAME", "encoder [resnet18]", GS_CHOICES(GS_BACKBONE_NAMES)},
        {"data", GS_OPT_STRING, &data, "FORMAT:PATH", "pretraining data (required)", GS_ANY_TEXT},
        {"epochs", GS_OPT_INT, &epochs, "N", "epochs [20]", GS_EPOCHS_RANGE},
        {"out", GS_OPT_STRING, &out, "DIR", "run folder: checkpoint.h5 every epoch, log.csv every step (required)",
         GS_ANY_TEXT},
        {"batch", GS_OPT_INT, &batch, "N", "batch size [64]", GS_RANGE(2, 65536)},
        {"lr", GS_OPT_FLOAT, &lr, "X", "peak learning rate [the method's paper value x batch/256]", GS_ABOVE(0)},
        {"weight-decay", GS_OPT_FLOAT, &weight_decay, "X", "weight decay [the method's]", GS_AT_LEAST(0)},
        {"optimizer", GS_OPT_STRING, &optimizer, "NAME", "optimizer [the method's]", GS_CHOICES(GS_OPTIMIZER_NAMES)},
        {"warmup-epochs", GS_OPT_FLOAT, &warmup_epochs, "X",
         "linear lr warm-up in epochs, then cosine (not for methods with their own schedule) [10% of training]",
         GS_AT_LEAST(0)},
        {"temperature", GS_OPT_FLOAT, &temperature, "X", "contrastive (DINO: student) temperature [the method's]",
         GS_ABOVE(0)},
        {"ema-momentum", GS_OPT_FLOAT, &ema_momentum, "X",
         "target network's EMA base, raised to 1 on a cosine (BYOL, DINO) or fixed (MoCo v2, SeCo) [the method's: "
         "0.996, 0.996, 0.999, 0.999]",
         {.kind = GS_ALLOWED_NUMBERS, .min = 0, .max = 1, .min_exclusive = true}},
        {"head-hidden", GS_OPT_INT, &head_hidden, "N", "hidden width of the projection / DINO head [the method's]",
         GS_RANGE(1, 65536)},
        {"head-dim", GS_OPT_INT, &head_dim, "N", "output width of the projection / DINO head [128; DINO 65536]",
         GS_RANGE(1, 262144)},
        {"queue", GS_OPT_INT, &queue, "N",
         "MoCo v2 / SeCo queue length per head [65536 (SeCo 16384), at most half an epoch]", GS_RANGE(1, 1 << 24)},
        {"local-crops", GS_OPT_INT, &local_crops, "N", "DINO local crops besides the 2 global ones [6]",
         GS_RANGE(1, GS_METHOD_MAX_VIEWS - 2)},
        {"method-options", GS_OPT_STRING, &method_options, "K=V,...",
         "the method's own settings (keys: geossl list methods), e.g. date_sampling=replacement", GS_ANY_TEXT},
        {"false-negative", GS_OPT_STRING, &false_negative, "WHICH",
         "FALSE: the false negative is the closest pair of the whole batch (global, as released) or each "
         "anchor's own (per-anchor); --method-options false_negative=... [global]",
         GS_CHOICES(((const char *const[]){"global", "per-anchor", NULL}))},
        {"alpha", GS_OPT_FLOAT, &alpha, "X",
         "FALSE: confidence weight, a calibrated pair counts X as positive and 1 - X as negative; "
         "--method-options alpha=... [1]",
         GS_BETWEEN(0, 1)},
        {"head-relu", GS_OPT_FLAG, &head_relu, "",
         "FALSE: ReLU between the head's two linear layers (SimCLR's head; released: none); --method-options "
         "head_relu=1",
         GS_NO_VALUE},
        {"bands", GS_OPT_STRING, &bands, "NAMES",
         "bands by name, in this order: B4,B3,B2 (either spelling), rgb, or all; the checkpoint records them and "
         "eval selects the same ones [all]", GS_ANY_TEXT},
        {"tile", GS_OPT_INT, &tile, "PX",
         "tiled data (potsdam, geotiff, s2-timeseries): cut into PX x PX tiles, each one sample [the format's]",
         GS_RANGE(16, 65536)},
        {"dates", GS_OPT_INT, &dates, "N",
         "seasonal data (seco, ssl4eo-s12, s2-timeseries): the earliest N dates of each location; 1 gives "
         "single-date methods (MoCo v2, ...) one image per location [all]", GS_RANGE(1, 1000)},
        {"size", GS_OPT_INT, &size, "PX", "view size (0: the dataset's) [0]", GS_SIZE_RANGE},
        {"stem", GS_OPT_STRING, &stem, "NAME", "ResNet stem [imagenet]", GS_CHOICES(GS_STEM_NAMES)},
        {"width", GS_OPT_INT, &width, "N", "backbone width (0: standard) [0]", GS_WIDTH_RANGE},
        {"patch", GS_OPT_INT, &patch, "N", "ViT patch size [8]", GS_PATCH_RANGE},
        {"seed", GS_OPT_INT, &seed, "N", "random seed [0]", GS_SEED_RANGE},
        {"threads", GS_OPT_INT, &threads, "N", "compute threads (0: all cores) [0]", GS_THREADS_RANGE},
        {"workers", GS_OPT_INT, &workers, "N", "loader threads [2]", GS_WORKERS_RANGE},
        {"augment", GS_OPT_STRING, &augment, "K=V,...",
         "override the views' recipe, e.g. blur_sigma=0.1:2,crop_scale=0.2:1 (keys: --print-config)", GS_ANY_TEXT},
        {"keep-every", GS_OPT_INT, &keep_every, "N",
         "also keep every N-th epoch's checkpoint as checkpoint-epochNNN.h5, and the initial weights as "
         "checkpoint-epoch000.h5 (0: only the latest) [0]",
         GS_RANGE(0, 1000000)},
        {"dump-views", GS_OPT_STRING, &dump_views, "DIR",
         "also write each step's views (normalized and augmented, as the method gets them) to DIR as "
         "step-NNNNNN-view-V.npy, to train another implementation on the same pixels (large: "
         "batch x bands x size^2 x 4 bytes per view and step)", GS_ANY_TEXT},
        GS_SYNC_BN_OPTION(sync_bn),
        GS_DIST_TIMEOUT_OPTION(dist_timeout),
        {"print-config", GS_OPT_FLAG, &print_config, "", "print the resolved recipe (views included) and exit",
         GS_NO_VALUE},
        {"resume", GS_OPT_FLAG, &resume, "", "continue from DIR/checkpoint.h5 on the same batches", GS_NO_VALUE},
        {"force", GS_OPT_FLAG, &force, "", "start afresh in a folder that holds a run (its checkpoint and log go)",
         GS_NO_VALUE},
    };
    const gs_command_line line = {.command = "pretrain", .summary = "Self-supervised pretraining of an encoder.",
                                  .options = options, .n_options = (int)(sizeof options / sizeof *options),
                                  .takes_config = true, .config_keys = CONFIG_KEYS,
                                  .n_config_keys = (int)(sizeof CONFIG_KEYS / sizeof *CONFIG_KEYS)};
    int parsed = gs_command_line_parse(&line, argc, argv, args);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!method || ((!data || !out) && !print_config)) {
        fprintf(stderr, "geossl pretrain: --method, --data and --out are required (--print-config needs --method "
                        "only; see --help)\n");
        return 2;
    }
    /* Started by mpirun: join the job before any work, so every rank
     * refuses a bad setting alike. */
    if (!gs_cli_join_job("pretrain", dist, dist_timeout, sync_bn)) return 2;
    bool lead = dist->rank == 0; /* the rank that writes files and prints */
    if (!lead) args->quiet = true;
    if (resume && force) {
        fprintf(stderr, "geossl pretrain: --resume and --force contradict each other: choose one\n");
        return 2;
    }
    int kind = optimizer ? gs_option_choice(GS_OPTIMIZER_NAMES, optimizer) : -1; /* -1: the method's */
    /* FALSE's own options are its method options under another spelling. */
    char all_options[1400];
    const gs_method_ops *method_ops = gs_method_find(method);
    if (false_negative || !isnan(alpha) || head_relu) {
        if (!method_ops || strcmp(method_ops->name, "false")) {
            fprintf(stderr, "geossl pretrain: --false-negative, --alpha and --head-relu are FALSE's; %s has none\n",
                    method);
            return 2;
        }
        /* Both spellings of one setting would leave the last one silently winning. */
        const gs_method_config typed = {.options = method_options};
        const char *keys[3] = {false_negative ? "false_negative" : NULL, !isnan(alpha) ? "alpha" : NULL,
                               head_relu ? "head_relu" : NULL};
        char value[64];
        for (int k = 0; k < 3; k++)
            if (keys[k] && gs_method_option(&typed, keys[k], value, sizeof value)) {
                fprintf(stderr, "geossl pretrain: %s is given twice (an option and --method-options): keep one\n",
                        keys[k]);
                return 2;
            }
        int used = snprintf(all_options, sizeof all_options, "%s", method_options ? method_options : "");
        if (false_negative)
            used += snprintf(all_options + used, sizeof all_options - (size_t)used, "%sfalse_negative=%s",
                             used ? "," : "", false_negative);
        if (!isnan(alpha))
            used += snprintf(all_options + used, sizeof all_options - (size_t)used, "%salpha=%g", used ? "," : "",
                             alpha);
        if (head_relu) snprintf(all_options + used, sizeof all_options - (size_t)used, "%shead_relu=1", used ? "," : "");
        method_options = all_options;
    }
    char checkpoint[4096], log_csv[4096], config_json[4096], commit[64];
    snprintf(checkpoint, sizeof checkpoint, "%s/checkpoint.h5", out ? out : ".");
    snprintf(config_json, sizeof config_json, "%s/config.json", out ? out : ".");
    gs_provenance_git_commit(commit, sizeof commit);
    snprintf(log_csv, sizeof log_csv, "%s/log.csv", out ? out : ".");
    if (!print_config && resume && access(checkpoint, R_OK)) {
        /* Resuming a run that is not there is a usage error, as every other one: exit 2. */
        fprintf(stderr, "geossl pretrain: --resume but %s does not exist (start the run without --resume)\n",
                checkpoint);
        return 2;
    }
    gs_pretrain_config pc = {
        .method = method,
        .backbone = {.name = backbone, .width = (int)width, .patch = (int)patch, .pos = GS_POS_LEARNED,
                     .stem = (gs_stem)gs_option_choice(GS_STEM_NAMES, stem)},
        .epochs = (int)epochs, .batch = (int)batch, .size = (int)size, .lr = (float)gs_option_float_or(lr, 0),
        .weight_decay = (float)gs_option_float_or(weight_decay, -1), .optimizer = kind,
        .temperature = (float)gs_option_float_or(temperature, 0),
        .ema_momentum = (float)gs_option_float_or(ema_momentum, 0),
        .head_hidden = (int)gs_option_int_or(head_hidden, 0), .head_dim = (int)gs_option_int_or(head_dim, 0),
        .queue_size = (int)gs_option_int_or(queue, 0), .local_crops = (int)gs_option_int_or(local_crops, 0),
        .method_options = method_options, .seed = (uint64_t)seed, .workers = (int)workers, .checkpoint = checkpoint, .resume = resume,
        .augment = augment, .log_csv = log_csv, .config_json = config_json, .keep_every = (int)keep_every,
        .git_commit = commit, .version = GEOSSL_VERSION, .progress = args->quiet ? NULL : stderr,
        .has_warmup = !isnan(warmup_epochs), .warmup_epochs = gs_option_float_or(warmup_epochs, 0),
        .band_selection = bands,
        .tile = (int)gs_option_int_or(tile, 0), .dump_views = dump_views};
    gs_dataset ds;
    gs_error err = {0};
    /* A setting the method does not read is refused, not recorded as if it applied. */
    gs_method_config given = {.temperature = pc.temperature, .momentum = pc.ema_momentum,
                              .proj_hidden = pc.head_hidden, .proj_dim = pc.head_dim,
                              .queue_size = pc.queue_size, .local_crops = pc.local_crops};
    if (method_ops && gs_method_settings_check(method_ops, &given, &err) != GS_OK) {
        fprintf(stderr, "geossl pretrain: %s\n", err.message);
        return 2;
    }
    if (print_config && !lead) return 0; /* rank 0 prints the recipe once */
    if (print_config && !data) {
        int code = print_recipe(&pc, NULL, &err);
        if (code) fprintf(stderr, "geossl pretrain: %s\n", err.message);
        return code;
    }
    /* Pretraining sees the training images only: evaluation's test split is
     * held out (gs_evaluate_default_split). */
    gs_dataset_options dopt = {.patch_size = (int)gs_option_int_or(tile, 0), .dates = (int)gs_option_int_or(dates, 0)};
    if (bands) snprintf(dopt.bands, sizeof dopt.bands, "%s", bands);
    if (gs_dataset_open(data, &dopt, &ds, &err) != GS_OK || gs_evaluate_default_split(&ds, 0, &err) != GS_OK) {
        fprintf(stderr, "geossl pretrain: %s\n", err.message);
        return 1;
    }
    if (dates != GS_UNSET_INT && ds.dates <= 1 && dates > 1) {
        fprintf(stderr, "geossl pretrain: --dates %lld: %s has one date per sample\n", dates, data);
        gs_dataset_close(&ds);
        return 2;
    }
    if (tile != GS_UNSET_INT && !ds.format->tiled) {
        fprintf(stderr, "geossl pretrain: --tile cuts tiled data (potsdam, geotiff, s2-timeseries); %s samples are "
                        "whole images\n", ds.format->name);
        gs_dataset_close(&ds);
        return 2;
    }
    bool replacing = false;
    if (!print_config && lead) {
        /* A run folder is never overwritten by accident: its checkpoint is hours of work. */
        if (!resume && !access(checkpoint, F_OK)) {
            if (!force) {
                fprintf(stderr, "geossl pretrain: %s already holds a run (%s): continue it with --resume, or start "
                                "afresh with --force\n", out, checkpoint);
                gs_dataset_close(&ds);
                return 2;
            }
            fprintf(stderr, "geossl pretrain: --force: replacing the run in %s\n", out);
            replacing = true;
            set_aside(checkpoint, false);
            set_aside(log_csv, false);
            set_aside(config_json, false);
        }
    }
    gs_context ctx;
    gs_context_options co = {.n_threads = (int)threads, .seed = (unsigned long long)seed};
    gs_context_init(&ctx, &co);
    ctx.dist = dist;
    if (print_config) {
        int code = print_recipe(&pc, &ds, &err);
        if (code) fprintf(stderr, "geossl pretrain: %s\n", err.message);
        gs_context_free(&ctx);
        gs_dataset_close(&ds);
        return code;
    }
    bool made_folder = lead && access(out, F_OK) != 0;
    if ((lead && !gs_cli_make_folder("pretrain", out)) || (dump_views && !gs_cli_make_folder("pretrain", dump_views))) {
        gs_context_free(&ctx);
        gs_dataset_close(&ds);
        return 1;
    }
    /* Every view's recipe is checked before any work starts. */
    {
        gs_augment_config views[GS_LOADER_MAX_VIEWS];
        int n_views = 0;
        if (gs_pretrain_views(&pc, ds.bands, pc.size > 0 ? pc.size : (int)ds.height, views, &n_views, &err) != GS_OK) {
            fprintf(stderr, "geossl pretrain: %s\n", err.message);
            if (replacing) put_back(out, checkpoint, log_csv, config_json);
            gs_context_free(&ctx);
            gs_dataset_close(&ds);
            return 2;
        }
    }
    gs_pretrain_result r;
    int code = 0;
    if (gs_pretrain(&ctx, &ds, &pc, &r, &err) != GS_OK) {
        fprintf(stderr, "geossl pretrain: %s\n", err.message);
        if (!access(checkpoint, F_OK) && err.status == GS_ERR_NONFINITE) {
            /* Checkpoints refuse non-finite values, so the last one predates the problem. */
            fprintf(stderr,
                    "geossl pretrain: the last checkpoint, %s, was saved before it and is finite: continue from it "
                    "with --resume and a lower --lr, or start afresh with --force\n",
                    checkpoint);
        } else if (!access(checkpoint, F_OK)) {
            fprintf(stderr, "geossl pretrain: the last checkpoint is %s (continue with --resume)\n", checkpoint);
        } else if (lead) {
            /* Nothing was trained: leave no half-made run folder behind,
             * and the run --force was to replace as it was. */
            remove(log_csv);
            remove(config_json);
            if (replacing) put_back(out, checkpoint, log_csv, config_json);
            replacing = false;
            if (made_folder) rmdir(out);
        }
        code = 1;
    } else if (lead) {
        printf("%s %s: %lld step%s (from %lld), loss %.4f -> %.4f, embedding std %.4f, %.1f img/s, %.0f s\n", method,
               backbone, (long long)r.steps, r.steps == 1 ? "" : "s", (long long)r.start_step, (double)r.first_loss, (double)r.final_loss,
               (double)r.embedding_std, r.img_per_s, r.seconds);
        printf("checkpoint %s\n", checkpoint);
    }
    if (replacing) { /* the new run has a checkpoint of its own */
        discard_aside(checkpoint);
        discard_aside(log_csv);
        discard_aside(config_json);
    }
    gs_context_free(&ctx);
    gs_dataset_close(&ds);
    return code;
}
