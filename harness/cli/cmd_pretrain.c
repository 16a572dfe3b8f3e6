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

int gs_cmd_pretrain(int argc, char **argv) {
    const char *method = NULL, *backbone = "resnet18", *data = NULL, *out = NULL, *optimizer = NULL,
               *stem = "imagenet";
    long long epochs = 20, batch = 64, size = 0, seed = 0, threads = 0, workers = 2, width = 0, patch = 8;
    long long head_hidden = 0, head_dim = 0, queue = 0, local_crops = 0;
    double lr = 0, temperature = 0, weight_decay = -1;
    bool resume = false;
    const gs_option options[] = {
        {"method", GS_OPT_STRING, &method, "NAME", "simclr | moco | byol | dino (required)"},
        {"backbone", GS_OPT_STRING, &backbone, "NAME", "resnet18 | resnet50 | vit-tiny | vit-small [resnet18]"},
        {"data", GS_OPT_STRING, &data, "FORMAT:PATH", "pretraining data (required)"},
        {"epochs", GS_OPT_INT, &epochs, "N", "epochs [20]"},
        {"out", GS_OPT_STRING, &out, "DIR", "run folder: DIR/checkpoint.h5 every epoch (required)"},
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
        {"resume", GS_OPT_FLAG, &resume, "", "continue from DIR/checkpoint.h5 on the same batches"},
    };
    int parsed = gs_options_parse("pretrain", "Self-supervised pretraining of an encoder.", options,
                                  (int)(sizeof options / sizeof *options), argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!method || !data || !out) {
        fprintf(stderr, "geossl pretrain: --method, --data and --out are required (see --help)\n");
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
    if (!gs_cli_make_folder("pretrain", out)) return 1;
    char checkpoint[4096];
    snprintf(checkpoint, sizeof checkpoint, "%s/checkpoint.h5", out);
    if (resume && access(checkpoint, R_OK)) {
        fprintf(stderr, "geossl pretrain: --resume but %s does not exist\n", checkpoint);
        return 1;
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
        .progress = stderr};
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
