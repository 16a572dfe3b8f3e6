/* pretrain's --dump-views: every step's views as .npy files named by the
 * run's step, normalized as the method receives them, and the same pixels
 * again when a killed run resumes (so another implementation trained on
 * them sees exactly geossl's data order and augmentations). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "pretrain.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct npy {
    int64_t shape[4];
    float *data;
    int64_t count;
} npy;

/* Reads a 4-d float32 .npy as gs_npy_write_f32 writes it. */
static bool read_npy(const char *path, npy *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    unsigned char pre[10];
    bool ok = fread(pre, 1, 10, f) == 10;
    size_t header_len = pre[8] | (size_t)pre[9] << 8;
    char header[1024] = {0};
    ok = ok && header_len < sizeof header && fread(header, 1, header_len, f) == header_len;
    const char *shape = ok ? strstr(header, "'shape': (") : NULL;
    long long s[4];
    ok = shape && sscanf(shape, "'shape': (%lld, %lld, %lld, %lld)", &s[0], &s[1], &s[2], &s[3]) == 4;
    if (ok) {
        out->count = 1;
        for (int i = 0; i < 4; i++) out->count *= out->shape[i] = s[i];
        out->data = malloc((size_t)out->count * sizeof(float));
        ok = fread(out->data, sizeof(float), (size_t)out->count, f) == (size_t)out->count;
    }
    fclose(f);
    return ok;
}

static void pretrain(const char *spec, const char *dir, const char *views, int64_t stop_after, bool resume) {
    gs_error err = {0};
    gs_dataset ds;
    cr_assert_eq(gs_dataset_open(spec, NULL, &ds, &err), GS_OK, "%s", err.message);
    gs_context ctx;
    gs_context_options co = {.n_threads = 1, .seed = 4};
    gs_context_init(&ctx, &co);
    char ckpt[400];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.h5", dir);
    gs_pretrain_config pc = {.method = "simclr", .backbone = {.name = "resnet18", .width = 8}, .epochs = 2,
                             .batch = 16, .weight_decay = -1, .optimizer = -1, .seed = 3, .workers = 2,
                             .checkpoint = ckpt, .resume = resume, .stop_after = stop_after, .stats_dir = dir,
                             .head_hidden = 32, .head_dim = 16, .dump_views = views};
    gs_pretrain_result out;
    cr_assert_eq(gs_pretrain(&ctx, &ds, &pc, &out, &err), GS_OK, "%s", err.message);
    gs_context_free(&ctx);
    gs_dataset_close(&ds);
}

Test(methods_pretrain_dump_views, steps_are_normalized_views_and_repeat_after_resume) {
    char dir[256], data[300], spec[320], straight[300], split[300];
    test_temp_dir(dir, sizeof dir);
    snprintf(data, sizeof data, "%s/eurosat", dir);
    gs_error err = {0};
    gs_synth_options so = {.seed = 1, .count = 8}; /* 80 images: 5 steps of 16 per epoch */
    cr_assert_eq(gs_synth_write("eurosat-rgb", data, &so, &err), GS_OK, "%s", err.message);
    snprintf(spec, sizeof spec, "eurosat-rgb:%s", data);
    snprintf(straight, sizeof straight, "%s/straight", dir);
    snprintf(split, sizeof split, "%s/split", dir);
    mkdir(straight, 0777);
    mkdir(split, 0777);
    pretrain(spec, dir, straight, 0, false);
    /* A second run in its own folders, killed after its first epoch and resumed. */
    char split_run[300];
    snprintf(split_run, sizeof split_run, "%s/split-run", dir);
    mkdir(split_run, 0777);
    pretrain(spec, split_run, split, 5, false);
    pretrain(spec, split_run, split, 0, true);
    for (int step = 1; step <= 10; step++) {
        npy v[2][2];
        for (int side = 0; side < 2; side++)
            for (int view = 0; view < 2; view++) {
                char path[400];
                snprintf(path, sizeof path, "%s/step-%06d-view-%d.npy", side ? split : straight, step, view);
                cr_assert(read_npy(path, &v[side][view]), "%s is missing or not a 4-d float32 .npy", path);
            }
        const npy *a = &v[0][0], *b = &v[0][1];
        cr_expect(a->shape[0] == 16 && a->shape[1] == 3 && a->shape[2] == 64 && a->shape[3] == 64,
                  "step %d: shape (%lld, %lld, %lld, %lld)", step, (long long)a->shape[0], (long long)a->shape[1],
                  (long long)a->shape[2], (long long)a->shape[3]);
        /* Normalized pixels (per-band mean 0, std 1 over the data), not 0-255 values. */
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < a->count; i++) sum += a->data[i], sq += (double)a->data[i] * a->data[i];
        double mean = sum / (double)a->count, sd = sqrt(sq / (double)a->count - mean * mean);
        cr_expect(fabs(mean) < 0.6 && sd > 0.4 && sd < 2.0, "step %d: mean %g, std %g", step, mean, sd);
        cr_expect(memcmp(a->data, b->data, (size_t)a->count * sizeof(float)) != 0, "step %d: the two views agree",
                  step);
        /* Steps 1-5 were written by the killed run, 6-10 after the resume. */
        for (int view = 0; view < 2; view++)
            cr_expect(memcmp(v[0][view].data, v[1][view].data, (size_t)v[0][view].count * sizeof(float)) == 0,
                      "step %d view %d differs between the uninterrupted and the resumed run", step, view);
        for (int side = 0; side < 2; side++)
            for (int view = 0; view < 2; view++) free(v[side][view].data);
    }
    char extra[400];
    snprintf(extra, sizeof extra, "%s/step-000011-view-0.npy", straight);
    FILE *f = fopen(extra, "rb");
    cr_expect_null(f, "a run of 10 steps dumped an 11th");
    if (f) fclose(f);
    test_remove_tree(dir);
}
