/* geossl pretrain: self-supervised pretraining with progress, a checkpoint
 * every epoch and --resume. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "options.h"
#include "evaluate.h"
#include "pretrain.h"
#include "loader.h"

/* The resolved recipe as `key = value` lines: what a run will do, defaults
 * spelled out, and each view's augmentations in the syntax --augment reads. */
static int print_recipe(const gs_pretrain_config *pc, const gs_dataset *ds, gs_error *err) {
    int size = pc->size > 0 ? pc->size : (int)ds->height;
    gs_augment_config views[GS_LOADER_MAX_VIEWS];
    int n_views = 0;
    if (gs_pretrain_views(pc, ds->bands, size, views, &n_views, err) != GS_OK) return 2;
    printf("method = %s\nbackbone = %s\ndata = %s:%s  # %d bands, %lld x %lld px\n", pc->method, pc->backbone.name,
           ds->format->name, ds->root, ds->bands, (long long)ds->height, (long long)ds->width);
    printf("epochs = %d\nbatch = %d\nseed = %llu\n", pc->epochs, pc->batch, (unsigned long long)pc->seed);
    if (pc->lr > 0) printf("lr = %g\n", (double)pc->lr);
    else printf("lr = method default  # the paper's value x batch / 256\n");
    printf("warmup = 10%%  # of all steps, linear, then cosine to 0\n");
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

int gs_cmd_pretrain(int argc, char **argv) {
    const char *method = NULL, *backbone = "resnet18", *data = NULL, *out = NULL, *optimizer = NULL,
               *stem = "imagenet", *augment = NULL;
    long long epochs = 20, batch = 64, size = 0, seed = 0, threads = 0, workers = 2, width = 0, patch = 8;
    long long head_hidden = 0, head_dim = 0, queue = 0, local_crops = 0;
    double lr = 0, temperature = 0, weight_decay = -1;
    bool resume = false, force = false, print_config = false;
    const gs_option options[] = {
        {"method", GS_OPT_STRING, &method, "NAME", "simclr | moco | byol | dino (required)"},
        {"backbone", GS_OPT_STRING, &backbone, "NAME", "resnet18 | resnet50 | vit-tiny | vit-small [resnet18]"},
        {"data", GS_OPT_STRING, &data, "FORMAT:PATH", "pretraining data (required)"},
        {"epochs", GS_OPT_INT, &epochs, "N", "epochs [20]"},
        {"out", GS_OPT_STRING, &out, "DIR", "run folder: checkpoint.h5 every epoch, log.csv every step (required)"},
        {"batch", GS_OPT_INT, &batch, "N", "batch size [64]"},
        {"lr", GS_OPT_FLOAT, &lr, "X", "peak learning rate [the method's paper value x batch/256]"},
        {"weight-decay", GS_OPT_FLOAT, &weight_decay, "X", "weight decay [the method's]"},
        {"optimizer", GS_OPT_STRING, &optimizer, "NAME", "sgd | lars | adamw [the method's]"},
        {"temperature", GS_OPT_FLOAT, &temperature, "X", "contrastive (DINO: student) temperature [the method's]"},
        {"head-hidden", GS_OPT_INT, &head_hidden, "N", "hidden width of the projection / DINO head [the method's]"},
        {"head-dim", GS_OPT_INT, &head_dim, "N", "output width of the projection / DINO head [128; DINO 65536]"},
        {"queue", GS_OPT_INT, &queue, "N", "MoCo queue length [65536, at most half an epoch]"},
        {"local-crops", GS_OPT_INT, &local_crops, "N", "DINO local crops besides the 2 global ones [6]"},
        {"size", GS_OPT_INT, &size, "PX", "view size [the dataset's]"},
        {"stem", GS_OPT_STRING, &stem, "NAME", "ResNet stem: imagenet | small [imagenet]"},
        {"width", GS_OPT_INT, &width, "N", "backbone width (0: standard) [0]"},
        {"patch", GS_OPT_INT, &patch, "N", "ViT patch size [8]"},
        {"seed", GS_OPT_INT, &seed, "N", "random seed [0]"},
        {"threads", GS_OPT_INT, &threads, "N", "compute threads (0: all cores) [0]"},
        {"workers", GS_OPT_INT, &workers, "N", "loader threads [2]"},
        {"augment", GS_OPT_STRING, &augment, "K=V,...",
         "override the views' recipe, e.g. blur_sigma=0.1:2,crop_scale=0.2:1 (keys: --print-config)"},
        {"print-config", GS_OPT_FLAG, &print_config, "", "print the resolved recipe (views included) and exit"},
        {"resume", GS_OPT_FLAG, &resume, "", "continue from DIR/checkpoint.h5 on the same batches"},
        {"force", GS_OPT_FLAG, &force, "", "start afresh in a folder that holds a run (its checkpoint and log go)"},
    };
    int parsed = gs_options_parse("pretrain", "Self-supervised pretraining of an encoder.", options,
                                  (int)(sizeof options / sizeof *options), argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!method || !data || (!out && !print_config)) {
        fprintf(stderr, "geossl pretrain: --method, --data and --out are required (see --help)\n");
        return 2;
    }
    if (resume && force) {
        fprintf(stderr, "geossl pretrain: --resume and --force contradict each other: choose one\n");
        return 2;
    }
    int kind = -1;
    if (optimizer) {
        if (!strcmp(optimizer, "sgd")) kind = GS_OPTIM_SGD;
        else if (!strcmp(optimizer, "lars")) kind = GS_OPTIM_LARS;
        else if (!strcmp(optimizer, "adamw")) kind = GS_OPTIM_ADAMW;
        else {
            fprintf(stderr, "geossl pretrain: unknown optimizer '%s' (sgd, lars or adamw)\n", optimizer);
            return 2;
        }
    }
    char checkpoint[4096], log_csv[4096];
    snprintf(checkpoint, sizeof checkpoint, "%s/checkpoint.h5", out ? out : ".");
    snprintf(log_csv, sizeof log_csv, "%s/log.csv", out ? out : ".");
    if (!print_config) {
        if (resume && access(checkpoint, R_OK)) {
            fprintf(stderr, "geossl pretrain: --resume but %s does not exist\n", checkpoint);
            return 1;
        }
        /* A run folder is never overwritten by accident: its checkpoint is hours of work. */
        if (!resume && !access(checkpoint, F_OK)) {
            if (!force) {
                fprintf(stderr, "geossl pretrain: %s already holds a run (%s): continue it with --resume, or start "
                                "afresh with --force\n", out, checkpoint);
                return 2;
            }
            fprintf(stderr, "geossl pretrain: --force: replacing the run in %s\n", out);
            remove(checkpoint);
            remove(log_csv);
        }
    }
    gs_dataset ds;
    gs_error err = {0};
    /* Pretraining sees the training images only: evaluation's test split is
     * held out (gs_evaluate_default_split). */
    if (gs_dataset_open(data, NULL, &ds, &err) != GS_OK || gs_evaluate_default_split(&ds, 0, &err) != GS_OK) {
        fprintf(stderr, "geossl pretrain: %s\n", err.message);
        return 1;
    }
    gs_context ctx;
    gs_context_options co = {.n_threads = (int)threads, .seed = (unsigned long long)seed};
    gs_context_init(&ctx, &co);
    gs_pretrain_config pc = {
        .method = method,
        .backbone = {.name = backbone, .width = (int)width, .patch = (int)patch, .pos = GS_POS_LEARNED,
                     .stem = strcmp(stem, "small") ? GS_STEM_IMAGENET : GS_STEM_SMALL},
        .epochs = (int)epochs, .batch = (int)batch, .size = (int)size, .lr = (float)lr,
        .weight_decay = (float)weight_decay, .optimizer = kind, .temperature = (float)temperature,
        .head_hidden = (int)head_hidden, .head_dim = (int)head_dim, .queue_size = (int)queue, .local_crops = (int)local_crops,
        .seed = (uint64_t)seed, .workers = (int)workers, .checkpoint = checkpoint, .resume = resume,
        .augment = augment, .log_csv = log_csv, .progress = stderr};
    if (print_config) {
        int code = print_recipe(&pc, &ds, &err);
        if (code) fprintf(stderr, "geossl pretrain: %s\n", err.message);
        gs_context_free(&ctx);
        gs_dataset_close(&ds);
        return code;
    }
    if (!gs_cli_make_folder("pretrain", out)) {
        gs_context_free(&ctx);
        gs_dataset_close(&ds);
        return 1;
    }
    /* Every view's recipe is checked before any work starts. */
    {
        gs_augment_config views[GS_LOADER_MAX_VIEWS];
        int n_views = 0;
        int size_px = pc.size > 0 ? pc.size : (int)ds.height;
        if (gs_pretrain_views(&pc, ds.bands, size_px, views, &n_views, &err) != GS_OK) {
            fprintf(stderr, "geossl pretrain: %s\n", err.message);
            gs_context_free(&ctx);
            gs_dataset_close(&ds);
            return 2;
        }
    }
    gs_pretrain_result r;
    int code = 0;
    if (gs_pretrain(&ctx, &ds, &pc, &r, &err) != GS_OK) {
        fprintf(stderr, "geossl pretrain: %s\n", err.message);
        fprintf(stderr, "geossl pretrain: the last checkpoint written, if any, is %s (continue with --resume)\n",
                checkpoint);
        code = 1;
    } else {
        printf("%s %s: %lld steps (from %lld), loss %.4f -> %.4f, embedding std %.4f, %.1f img/s, %.0f s\n", method,
               backbone, (long long)r.steps, (long long)r.start_step, (double)r.first_loss, (double)r.final_loss,
               (double)r.embedding_std, r.img_per_s, r.seconds);
        printf("checkpoint %s\n", checkpoint);
    }
    gs_context_free(&ctx);
    gs_dataset_close(&ds);
    return code;
}
