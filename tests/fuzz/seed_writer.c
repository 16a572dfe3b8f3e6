/* Writes the seeds of the HDF5 targets with geossl's own writers (run by
 * make_corpus.sh; not a fuzz target):
 *
 *   seed_writer checkpoint OUT.h5 STEP     the tiny model of checkpoint_model.h
 *   seed_writer cache SPEC OUT.h5 [PATCH]  gs_cache_build of a dataset (FORMAT:PATH)
 *   seed_writer features OUT.h5 KEY [multilabel]  a 4 x 3 feature cache */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cache.h"
#include "checkpoint_model.h"
#include "common.h"
#include "feature_set.h"

static int write_checkpoint(const char *path, long long step) {
    gs_context ctx;
    if (gs_context_init(&ctx, &(gs_context_options){.n_threads = 1, .backend = gs_backend_cpu()}) != GS_OK) return 1;
    fuzz_ckpt_model m;
    fuzz_ckpt_model_init(&ctx, &m, 0.0f);
    const gs_param_list *lists[2] = {&m.model, &m.optimizer};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->count; i++) {
            gs_tensor *t = lists[l]->items[i].tensor;
            for (int64_t j = 0; j < t->numel; j++) t->data[j] = 0.25f * (float)(j + 1) + (float)step;
        }
    gs_checkpoint_meta meta = {.step = step, .architecture = FUZZ_CKPT_ARCHITECTURE,
                               .config = "method = simclr\nepochs = 1\nseed = 3\n"};
    gs_rng_seed(&meta.rng, (uint64_t)step + 1);
    gs_status s = gs_checkpoint_save(&ctx, path, m.groups, 2, &meta);
    if (s != GS_OK) fprintf(stderr, "seed_writer: %s\n", ctx.error);
    fuzz_ckpt_model_free(&m);
    gs_context_free(&ctx);
    return s != GS_OK;
}

static int write_cache(const char *spec, const char *path, int patch) {
    gs_dataset src;
    gs_error err = {0};
    gs_dataset_options options = {.patch_size = patch};
    gs_cache_options copt = {.dtype = GS_CACHE_AUTO, .workers = 1};
    if (gs_dataset_open(spec, &options, &src, &err) != GS_OK || gs_cache_build(&src, path, &copt, NULL, &err) != GS_OK) {
        fprintf(stderr, "seed_writer: %s\n", err.message);
        return 1;
    }
    gs_dataset_close(&src);
    return 0;
}

static int write_features(const char *path, const char *key, bool multilabel) {
    float features[12] = {0.5f, -1, 2, 3, 0, 0.25f, -0.125f, 8, 1e-3f, 4, 5, -6};
    int32_t labels[4] = {0, 1, 2, 1};
    uint8_t targets[12] = {1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1};
    gs_feature_set fs = {.features = features, .n = 4, .dim = 3, .labels = labels,
                         .targets = multilabel ? targets : NULL, .n_classes = 3};
    gs_error err = {0};
    if (gs_feature_set_save(path, key, &fs, &err) != GS_OK) {
        fprintf(stderr, "seed_writer: %s\n", err.message);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "checkpoint")) return write_checkpoint(argv[2], atoll(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "cache")) return write_cache(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 0);
    if (argc >= 4 && !strcmp(argv[1], "features"))
        return write_features(argv[2], argv[3], argc > 4 && !strcmp(argv[4], "multilabel"));
    fprintf(stderr, "usage: seed_writer checkpoint OUT STEP | cache SPEC OUT [PATCH] | features OUT KEY [multilabel]\n");
    return 2;
}
