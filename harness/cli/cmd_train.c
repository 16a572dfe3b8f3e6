/* geossl train: the engine's smoke run (supervised training on generated
 * images) with progress, checkpoints and --resume. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "core/context.h"
#include "options.h"
#include "progress.h"
#include "train/smoke.h"

static void show_progress(void *user, const gs_smoke_progress *p) {
    int width = 30, filled = (int)(width * p->step / (p->total ? p->total : 1));
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    gs_progress_update(user, p->step == p->total, "[%s] step %lld/%lld  loss %.4f  acc %3.0f%%  %.1f img/s  ETA %.0f s",
                       bar, (long long)p->step, (long long)p->total, (double)p->loss, 100.0 * p->accuracy,
                       p->img_per_s, p->eta_s);
}

static const char *SUMMARY =
    "Trains a backbone with a linear classifier on generated multi-band images (class-dependent gratings\n"
    "plus noise) to check the engine end to end: forward, backward, optimizer, checkpoints, resume.";

int gs_cmd_train(int argc, char **argv) {
    gs_smoke_config c = gs_smoke_default_config();
    const char *backbone = "resnet18", *optimizer = "sgd", *stem = "imagenet", *out = NULL;
    long long bands = 3, size = 64, batch = 32, steps = 30, classes = 10, threads = 0, seed = 0, width = 0,
              patch = 8, checkpoint_every = 10;
    /* Unset: the optimizer's default (below). */
    double lr = GS_UNSET_FLOAT, weight_decay = GS_UNSET_FLOAT, clip = 0;
    bool resume = false;
    const gs_option options[] = {
        {"backbone", GS_OPT_STRING, &backbone, "NAME", "encoder [resnet18]", GS_CHOICES(GS_BACKBONE_NAMES)},
        {"bands", GS_OPT_INT, &bands, "N", "input bands [3]", GS_RANGE(1, 1024)},
        {"size", GS_OPT_INT, &size, "PX", "image size [64]", GS_RANGE(8, 16384)},
        {"batch", GS_OPT_INT, &batch, "N", "batch size [32]", GS_RANGE(2, 65536)},
        {"steps", GS_OPT_INT, &steps, "N", "training steps [30]", GS_RANGE(1, 100000000)},
        {"classes", GS_OPT_INT, &classes, "N", "generated classes [10]", GS_RANGE(2, 1000)},
        {"optimizer", GS_OPT_STRING, &optimizer, "NAME", "optimizer [sgd]", GS_CHOICES(GS_OPTIMIZER_NAMES)},
        {"lr", GS_OPT_FLOAT, &lr, "X", "peak learning rate of the cosine schedule [sgd/lars 0.05, adamw 0.001]",
         GS_ABOVE(0)},
        {"weight-decay", GS_OPT_FLOAT, &weight_decay, "X", "weight decay [sgd/lars 0.0001, adamw 0.05]",
         GS_AT_LEAST(0)},
        {"clip", GS_OPT_FLOAT, &clip, "X", "clip the gradient norm to X (0: off) [0]", GS_AT_LEAST(0)},
        {"stem", GS_OPT_STRING, &stem, "NAME", "ResNet stem [imagenet]", GS_CHOICES(GS_STEM_NAMES)},
        {"width", GS_OPT_INT, &width, "N", "backbone width (0: standard) [0]", GS_WIDTH_RANGE},
        {"patch", GS_OPT_INT, &patch, "N", "ViT patch size [8]", GS_PATCH_RANGE},
        {"threads", GS_OPT_INT, &threads, "N", "threads (0: all cores) [0]", GS_THREADS_RANGE},
        {"seed", GS_OPT_INT, &seed, "N", "random seed [0]", GS_SEED_RANGE},
        {"out", GS_OPT_STRING, &out, "DIR", "write DIR/checkpoint.h5 (created if needed) [none]", GS_ANY_TEXT},
        {"checkpoint-every", GS_OPT_INT, &checkpoint_every, "N", "steps between checkpoints [10]",
         GS_RANGE(1, 100000000)},
        {"resume", GS_OPT_FLAG, &resume, "", "continue from DIR/checkpoint.h5 (needs --out)", GS_NO_VALUE},
    };
    const gs_command_line line = {.command = "train", .summary = SUMMARY, .options = options,
                                  .n_options = (int)(sizeof options / sizeof *options)};
    gs_parsed_args args;
    int parsed = gs_command_line_parse(&line, argc, argv, &args);
    if (parsed) return parsed == 1 ? 0 : 2;

    gs_optimizer_kind kind = (gs_optimizer_kind)gs_option_choice(GS_OPTIMIZER_NAMES, optimizer);
    if (resume && !out) {
        fprintf(stderr, "geossl train: --resume needs --out DIR (the run's folder)\n");
        return 2;
    }
    c.backbone.name = backbone;
    c.backbone.bands = (int)bands;
    c.backbone.img_size = (int)size;
    c.backbone.width = (int)width;
    c.backbone.patch = (int)patch;
    c.backbone.stem = (gs_stem)gs_option_choice(GS_STEM_NAMES, stem);
    c.batch = (int)batch;
    c.steps = steps;
    c.classes = (int)classes;
    c.optimizer = gs_optimizer_defaults(kind);
    c.optimizer.lr = (float)gs_option_float_or(lr, kind == GS_OPTIM_ADAMW ? 1e-3 : 0.05);
    if (kind != GS_OPTIM_ADAMW) c.optimizer.momentum = 0.9f;
    c.optimizer.weight_decay = (float)gs_option_float_or(weight_decay, kind == GS_OPTIM_ADAMW ? 0.05 : 1e-4);
    c.clip_norm = (float)clip;
    c.seed = (unsigned long long)seed;
    c.checkpoint_every = checkpoint_every;
    c.resume = resume;
    char path[4096];
    if (out) {
        if (!gs_cli_make_folder("train", out)) return 1;
        snprintf(path, sizeof path, "%s/checkpoint.h5", out);
        c.checkpoint_path = path;
    }
    gs_progress progress;
    gs_progress_init(&progress, stderr, args.quiet);
    c.progress = show_progress;
    c.progress_user = &progress;

    gs_context ctx;
    gs_context_options ctx_options = {.n_threads = (int)threads, .seed = c.seed};
    gs_context_init(&ctx, &ctx_options);
    gs_progress_note(&progress, "geossl train: %s, %lld band%s, %lldx%lld px, batch %lld, %lld step%s, %s, %d threads",
                     backbone, bands, bands == 1 ? "" : "s", size, size, batch, steps, steps == 1 ? "" : "s", optimizer,
                     ctx.n_threads);
    gs_smoke_result r;
    gs_status status = gs_smoke_train(&ctx, &c, &r);
    gs_progress_end(&progress);
    if (status != GS_OK) {
        fprintf(stderr, "geossl train: %s: %s\n", gs_status_name(status), ctx.error);
        if (out) fprintf(stderr, "geossl train: the last good checkpoint, if any, is %s\n", path);
        gs_context_free(&ctx);
        return 1;
    }
    printf("parameters %lld\n", (long long)r.parameters);
    if (r.start_step) printf("resumed at step %lld\n", (long long)r.start_step);
    printf("loss %.4f -> %.4f\n", (double)r.first_loss, (double)r.final_loss);
    printf("%.1f img/s (median)\n", r.median_img_per_s);
    printf("weights %016llx\n", (unsigned long long)r.weights_hash);
    if (out) printf("checkpoint %s\n", path);
    gs_context_free(&ctx);
    return 0;
}
