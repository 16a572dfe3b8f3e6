#include "checkpoint_fixture.h"

#include <criterion/criterion.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/file_digest.h"
#include "test_paths.h"

/* A small model and optimizer state with odd shapes, a 0-d tensor and dotted
 * names.  last_cols varies the shape of the very last tensor so a shape
 * mismatch is found only after everything else was read. */
void checkpoint_fixture_build(checkpoint_fixture *f, uint64_t seed, int64_t last_cols) {
    memset(f, 0, sizeof *f);
    gs_context_options options = {.n_threads = 1, .seed = seed};
    cr_assert_eq(gs_context_init(&f->ctx, &options), GS_OK);
    gs_context *ctx = &f->ctx;
    cr_assert(gs_param_add(ctx, &f->model, "conv1.weight", GS_PARAM_WEIGHT, GS_DIMS(7, 3, 3, 3)));
    cr_assert(gs_param_add(ctx, &f->model, "bn1.running_mean", GS_PARAM_BUFFER, GS_DIMS(7)));
    cr_assert(gs_param_add(ctx, &f->model, "layer1.0.conv1.weight", GS_PARAM_WEIGHT, GS_DIMS(5, 7, 1, 1)));
    cr_assert(gs_param_add(ctx, &f->model, "logit_scale", GS_PARAM_NO_DECAY, 0, (int64_t[]){1}));
    cr_assert(gs_param_add(ctx, &f->model, "fc.bias", GS_PARAM_NO_DECAY, GS_DIMS(3)));
    cr_assert(gs_param_add_in(ctx, &ctx->optim_state, &f->optim, "exp_avg.conv1.weight", GS_PARAM_BUFFER,
                              GS_DIMS(7, 3, 3, 3)));
    cr_assert(gs_param_add_in(ctx, &ctx->optim_state, &f->optim, "exp_avg_sq.fc.weight", GS_PARAM_BUFFER,
                              GS_DIMS(3, last_cols)));
    f->groups[0] = (gs_checkpoint_group){"model", &f->model};
    f->groups[1] = (gs_checkpoint_group){"optimizer", &f->optim};
}

void checkpoint_fixture_free(checkpoint_fixture *f) {
    gs_param_list_free(&f->model);
    gs_param_list_free(&f->optim);
    gs_context_free(&f->ctx);
}

/* Random values plus the ones a lossy path would break: -0, denormals, extremes. */
void checkpoint_fixture_fill_values(checkpoint_fixture *f) {
    const gs_param_list *lists[2] = {&f->model, &f->optim};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->count; i++) gs_tensor_fill_normal(&f->ctx, lists[l]->items[i].tensor, 1.0f);
    float *w = f->model.items[0].tensor->data;
    w[0] = -0.0f;
    w[1] = FLT_TRUE_MIN;
    w[2] = -FLT_MAX;
    w[3] = FLT_MIN;
}

void checkpoint_fixture_fill_constant(checkpoint_fixture *f, float value) {
    for (int i = 0; i < f->model.count; i++) gs_tensor_fill(f->model.items[i].tensor, value);
    for (int i = 0; i < f->optim.count; i++) gs_tensor_fill(f->optim.items[i].tensor, value);
}

bool checkpoint_lists_same_bits(const gs_param_list *a, const gs_param_list *b) {
    if (a->count != b->count) return false;
    for (int i = 0; i < a->count; i++) {
        const gs_tensor *x = a->items[i].tensor, *y = b->items[i].tensor;
        if (x->numel != y->numel || memcmp(x->data, y->data, (size_t)x->numel * sizeof(float))) return false;
    }
    return true;
}

bool checkpoint_list_all_equal(const gs_param_list *list, float value) {
    for (int i = 0; i < list->count; i++) {
        const gs_tensor *t = list->items[i].tensor;
        for (int64_t k = 0; k < t->numel; k++)
            if (memcmp(&t->data[k], &value, sizeof value)) return false;
    }
    return true;
}

const char *checkpoint_temp_file(char *buf, size_t size, const char *name) {
    char dir[512];
    test_temp_dir(dir, sizeof dir);
    cr_assert(dir[0], "no temporary directory");
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

/* Removes a file made by temp_file, its ".tmp" sibling and the directory. */
void checkpoint_remove_temp(const char *path) {
    char buf[620];
    unlink(path);
    snprintf(buf, sizeof buf, "%s.tmp", path);
    unlink(buf);
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (slash) *slash = '\0';
    rmdir(buf);
}

/* After changing a checkpoint behind geossl's back with libhdf5: a new
 * digest, so that the checks behind the digest are what the test reaches. */
void checkpoint_reseal(const char *path) {
    gs_error err = {0};
    cr_assert_eq(gs_file_digest_seal(path, &err), GS_OK, "%s", err.message);
}

void checkpoint_fixture_save(checkpoint_fixture *f, const char *path, int64_t step) {
    gs_checkpoint_meta meta = {.step = step, .rng = f->ctx.rng, .architecture = ARCH, .config = CONFIG};
    gs_status status = gs_checkpoint_save(&f->ctx, path, f->groups, 2, &meta);
    cr_assert_eq(status, GS_OK, "save failed: %s", f->ctx.error);
}

/* Loads into a fresh model filled with 7.0 and checks that the load fails
 * with `expected`, leaves every value at 7.0 and prints nothing itself. */
void checkpoint_expect_failed_load(const char *path, int64_t last_cols, const gs_checkpoint_load_options *options,
                               gs_status expected, checkpoint_fixture *g) {
    checkpoint_fixture_build(g, 2, last_cols);
    checkpoint_fixture_fill_constant(g, 7.0f);
    gs_checkpoint_info info;
    gs_status status = gs_checkpoint_load(&g->ctx, path, g->groups, 2, &info, options);
    cr_expect_eq(status, expected, "status %d (%s), expected %d", status, g->ctx.error, expected);
    cr_expect_eq(g->ctx.status, expected);
    cr_expect(checkpoint_list_all_equal(&g->model, 7.0f) && checkpoint_list_all_equal(&g->optim, 7.0f), "a failed load modified the model");
    cr_expect_null(info.architecture);
    cr_expect(strstr(g->ctx.error, path), "error does not name the path: %s", g->ctx.error);
}
