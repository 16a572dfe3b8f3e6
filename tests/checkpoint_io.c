/* HDF5 checkpoints: bit-exact round trips, atomic replacement, and every
 * failure mode of loading (a clear status, nothing modified, nothing printed). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <errno.h>
#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/checkpoint.h"
#include "io/file_digest.h"
#include "test_paths.h"

#define ARCH "resnet18 bands=3 width=64 stem=imagenet"
#define CONFIG "method = \"byol\"\n[optim]\nlr = 0.2\nnote = \"bändë, ☃\"\n"

typedef struct fixture {
    gs_context ctx;
    gs_param_list model, optim;
    gs_checkpoint_group groups[2];
} fixture;

/* A small model and optimizer state with odd shapes, a 0-d tensor and dotted
 * names.  last_cols varies the shape of the very last tensor so a shape
 * mismatch is found only after everything else was read. */
static void build(fixture *f, uint64_t seed, int64_t last_cols) {
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

static void destroy(fixture *f) {
    gs_param_list_free(&f->model);
    gs_param_list_free(&f->optim);
    gs_context_free(&f->ctx);
}

/* Random values plus the ones a lossy path would break: -0, denormals, extremes. */
static void fill_values(fixture *f) {
    const gs_param_list *lists[2] = {&f->model, &f->optim};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->count; i++) gs_tensor_fill_normal(&f->ctx, lists[l]->items[i].tensor, 1.0f);
    float *w = f->model.items[0].tensor->data;
    w[0] = -0.0f;
    w[1] = FLT_TRUE_MIN;
    w[2] = -FLT_MAX;
    w[3] = FLT_MIN;
}

static void fill_constant(fixture *f, float value) {
    for (int i = 0; i < f->model.count; i++) gs_tensor_fill(f->model.items[i].tensor, value);
    for (int i = 0; i < f->optim.count; i++) gs_tensor_fill(f->optim.items[i].tensor, value);
}

static bool same_bits(const gs_param_list *a, const gs_param_list *b) {
    if (a->count != b->count) return false;
    for (int i = 0; i < a->count; i++) {
        const gs_tensor *x = a->items[i].tensor, *y = b->items[i].tensor;
        if (x->numel != y->numel || memcmp(x->data, y->data, (size_t)x->numel * sizeof(float))) return false;
    }
    return true;
}

static bool all_equal(const gs_param_list *list, float value) {
    for (int i = 0; i < list->count; i++) {
        const gs_tensor *t = list->items[i].tensor;
        for (int64_t k = 0; k < t->numel; k++)
            if (memcmp(&t->data[k], &value, sizeof value)) return false;
    }
    return true;
}

static const char *temp_file(char *buf, size_t size, const char *name) {
    char dir[512];
    test_temp_dir(dir, sizeof dir);
    cr_assert(dir[0], "no temporary directory");
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

/* Removes a file made by temp_file, its ".tmp" sibling and the directory. */
static void remove_temp(const char *path) {
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
static void reseal(const char *path) {
    gs_error err = {0};
    cr_assert_eq(gs_file_digest_seal(path, &err), GS_OK, "%s", err.message);
}

static void save_ok(fixture *f, const char *path, int64_t step) {
    gs_checkpoint_meta meta = {.step = step, .rng = f->ctx.rng, .architecture = ARCH, .config = CONFIG};
    gs_status status = gs_checkpoint_save(&f->ctx, path, f->groups, 2, &meta);
    cr_assert_eq(status, GS_OK, "save failed: %s", f->ctx.error);
}

/* Loads into a fresh model filled with 7.0 and checks that the load fails
 * with `expected`, leaves every value at 7.0 and prints nothing itself. */
static void expect_failed_load(const char *path, int64_t last_cols, const gs_checkpoint_load_options *options,
                               gs_status expected, fixture *g) {
    build(g, 2, last_cols);
    fill_constant(g, 7.0f);
    gs_checkpoint_info info;
    gs_status status = gs_checkpoint_load(&g->ctx, path, g->groups, 2, &info, options);
    cr_expect_eq(status, expected, "status %d (%s), expected %d", status, g->ctx.error, expected);
    cr_expect_eq(g->ctx.status, expected);
    cr_expect(all_equal(&g->model, 7.0f) && all_equal(&g->optim, 7.0f), "a failed load modified the model");
    cr_expect_null(info.architecture);
    cr_expect(strstr(g->ctx.error, path), "error does not name the path: %s", g->ctx.error);
}

Test(checkpoint_io, round_trip_is_bit_exact) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a, b;
    build(&a, 1, 5);
    fill_values(&a);
    for (int i = 0; i < 3; i++) gs_rng_next_u64(&a.ctx.rng);
    gs_rng saved_rng = a.ctx.rng;
    save_ok(&a, path, 12345678901LL);

    build(&b, 99, 5);
    fill_constant(&b, 0.0f);
    gs_checkpoint_info info;
    gs_checkpoint_load_options options = {.architecture = ARCH};
    cr_assert_eq(gs_checkpoint_load(&b.ctx, path, b.groups, 2, &info, &options), GS_OK, "%s", b.ctx.error);
    cr_expect(same_bits(&a.model, &b.model));
    cr_expect(same_bits(&a.optim, &b.optim));
    cr_expect_eq(info.format_version, GS_CHECKPOINT_FORMAT_VERSION);
    cr_expect_eq(info.step, 12345678901LL);
    cr_expect_str_eq(info.architecture, ARCH);
    cr_expect_str_eq(info.config, CONFIG);
    cr_expect_eq(memcmp(info.rng.s, saved_rng.s, sizeof saved_rng.s), 0);
    b.ctx.rng = info.rng;
    for (int i = 0; i < 8; i++) cr_expect_eq(gs_rng_next_u64(&b.ctx.rng), gs_rng_next_u64(&a.ctx.rng));
    cr_expect_eq(gs_rng_normal(&b.ctx.rng), gs_rng_normal(&a.ctx.rng));
    gs_checkpoint_info_free(&info);
    cr_expect_null(info.config);

    gs_checkpoint_info only;
    cr_assert_eq(gs_checkpoint_read_info(&b.ctx, path, &only), GS_OK, "%s", b.ctx.error);
    cr_expect_eq(only.step, 12345678901LL);
    cr_expect_str_eq(only.architecture, ARCH);
    cr_expect_str_eq(only.config, CONFIG);
    gs_checkpoint_info_free(&only);
    destroy(&a);
    destroy(&b);
    remove_temp(path);
}

Test(checkpoint_io, loads_a_subset_of_groups_without_info) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a, b;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 3);
    build(&b, 2, 5);
    cr_assert_eq(gs_checkpoint_load(&b.ctx, path, b.groups, 1, NULL, NULL), GS_OK, "%s", b.ctx.error);
    cr_expect(same_bits(&a.model, &b.model));
    destroy(&a);
    destroy(&b);
    remove_temp(path);
}

Test(checkpoint_io, save_replaces_atomically_and_leaves_no_temp_file) {
    char path[600], tmp[620];
    temp_file(path, sizeof path, "ckpt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fixture a, b;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 1);
    cr_expect_eq(access(tmp, F_OK), -1);
    fill_constant(&a, 0.5f);
    save_ok(&a, path, 2);
    cr_expect_eq(access(tmp, F_OK), -1, "%s left behind", tmp);

    build(&b, 2, 5);
    gs_checkpoint_info info;
    cr_assert_eq(gs_checkpoint_load(&b.ctx, path, b.groups, 2, &info, NULL), GS_OK, "%s", b.ctx.error);
    cr_expect_eq(info.step, 2);
    cr_expect(all_equal(&b.model, 0.5f) && all_equal(&b.optim, 0.5f));
    gs_checkpoint_info_free(&info);
    destroy(&a);
    destroy(&b);
    remove_temp(path);
}

Test(checkpoint_io, failed_save_keeps_the_previous_checkpoint) {
    char path[600], tmp[620];
    temp_file(path, sizeof path, "ckpt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fixture a;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 1);
    a.optim.items[1].tensor->data[4] = NAN;
    gs_checkpoint_meta meta = {.step = 2, .rng = a.ctx.rng, .architecture = ARCH};
    cr_expect_eq(gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta), GS_ERR_NONFINITE);
    cr_expect(strstr(a.ctx.error, "optimizer/exp_avg_sq.fc.weight"), "%s", a.ctx.error);
    cr_expect_eq(access(tmp, F_OK), -1);
    gs_clear_error(&a.ctx);
    gs_checkpoint_info info;
    cr_assert_eq(gs_checkpoint_read_info(&a.ctx, path, &info), GS_OK, "%s", a.ctx.error);
    cr_expect_eq(info.step, 1);
    gs_checkpoint_info_free(&info);
    destroy(&a);
    remove_temp(path);
}

/* What a kill in the middle of a save leaves: the old checkpoint and a
 * partial temporary file.  The old one still loads; the next save succeeds. */
Test(checkpoint_io, interrupted_save_leaves_the_previous_checkpoint) {
    char path[600], tmp[620];
    temp_file(path, sizeof path, "ckpt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fixture a, b;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 1);
    FILE *partial = fopen(tmp, "wb");
    cr_assert(partial);
    fputs("\x89HDF\r\n\x1a\n half a checkpoint", partial);
    fclose(partial);

    build(&b, 2, 5);
    cr_assert_eq(gs_checkpoint_load(&b.ctx, path, b.groups, 2, NULL, NULL), GS_OK, "%s", b.ctx.error);
    cr_expect(same_bits(&a.model, &b.model));
    save_ok(&a, path, 2);
    cr_expect_eq(access(tmp, F_OK), -1);
    destroy(&a);
    destroy(&b);
    remove_temp(path);
}

Test(checkpoint_io, failed_rename_removes_the_temp_file) {
    char path[600], tmp[620];
    temp_file(path, sizeof path, "ckpt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cr_assert_eq(mkdir(path, 0755), 0); /* rename() cannot replace a directory by a file */
    fixture a;
    build(&a, 1, 5);
    fill_values(&a);
    gs_checkpoint_meta meta = {.step = 1, .rng = a.ctx.rng, .architecture = ARCH};
    cr_expect_eq(gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta), GS_ERR_IO);
    cr_expect(strstr(a.ctx.error, path), "%s", a.ctx.error);
    cr_expect_eq(access(tmp, F_OK), -1, "%s left behind", tmp);
    destroy(&a);
    rmdir(path);
    remove_temp(path);
}

Test(checkpoint_io, save_into_missing_directory_is_io_error) {
    char dir[512], path[600];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/no/such/dir/ckpt.h5", dir);
    fixture a;
    build(&a, 1, 5);
    fill_values(&a);
    gs_checkpoint_meta meta = {.step = 1, .rng = a.ctx.rng, .architecture = ARCH, .config = ""};
    cr_expect_eq(gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta), GS_ERR_IO);
    cr_expect(strstr(a.ctx.error, path), "%s", a.ctx.error);
    cr_expect(strstr(a.ctx.error, strerror(ENOENT)), "%s", a.ctx.error);
    destroy(&a);
    rmdir(dir);
}

Test(checkpoint_io, names_with_slashes_are_rejected) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a;
    build(&a, 1, 5);
    fill_values(&a);
    cr_assert(gs_param_add(&a.ctx, &a.model, "head/weight", GS_PARAM_WEIGHT, GS_DIMS(2)));
    gs_checkpoint_meta meta = {.rng = a.ctx.rng, .architecture = ARCH};
    cr_expect_eq(gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta), GS_ERR_ARGUMENT);
    cr_expect(strstr(a.ctx.error, "head/weight"), "%s", a.ctx.error);
    cr_expect_eq(access(path, F_OK), -1);
    destroy(&a);
    remove_temp(path);
}

Test(checkpoint_io, missing_file_is_io_error, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "absent.h5");
    fixture g;
    expect_failed_load(path, 5, NULL, GS_ERR_IO, &g);
    cr_expect(strstr(g.ctx.error, strerror(ENOENT)), "%s", g.ctx.error);
    gs_clear_error(&g.ctx);
    gs_checkpoint_info info;
    cr_expect_eq(gs_checkpoint_read_info(&g.ctx, path, &info), GS_ERR_IO);
    destroy(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    remove_temp(path);
}

Test(checkpoint_io, truncated_file_is_format_error, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a, g;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 1);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size / 2), 0);
    expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "corrupt") && strstr(g.ctx.error, "truncated"), "%s", g.ctx.error);
    destroy(&a);
    destroy(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    remove_temp(path);
}

Test(checkpoint_io, random_bytes_are_format_error, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "noise.h5");
    FILE *file = fopen(path, "wb");
    cr_assert(file);
    gs_rng rng;
    gs_rng_seed(&rng, 5);
    for (int i = 0; i < 4096; i++) fputc((int)(gs_rng_next_u64(&rng) & 0xff), file);
    fclose(file);
    fixture g;
    expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    destroy(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    remove_temp(path);
}

Test(checkpoint_io, foreign_hdf5_file_is_format_error, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "other.h5");
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(file, 0);
    hid_t group = H5Gcreate2(file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(group);
    H5Fclose(file);
    fixture g;
    expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "not a geossl checkpoint"), "%s", g.ctx.error);
    destroy(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    remove_temp(path);
}

Test(checkpoint_io, newer_format_version_is_refused) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a, g;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 1);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(file, 0);
    hid_t attr = H5Aopen(file, "geossl_checkpoint_format", H5P_DEFAULT);
    cr_assert_geq(attr, 0);
    int version = GS_CHECKPOINT_FORMAT_VERSION + 1;
    cr_assert_geq(H5Awrite(attr, H5T_NATIVE_INT, &version), 0);
    H5Aclose(attr);
    H5Fclose(file);
    reseal(path);
    expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "format version"), "%s", g.ctx.error);
    destroy(&a);
    destroy(&g);
    remove_temp(path);
}

Test(checkpoint_io, architecture_mismatch_names_both, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a, g;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 1);
    const char *other = "resnet50 bands=13 width=64 stem=imagenet";
    gs_checkpoint_load_options options = {.architecture = other};
    expect_failed_load(path, 5, &options, GS_ERR_MISMATCH, &g);
    cr_expect(strstr(g.ctx.error, ARCH), "%s", g.ctx.error);
    cr_expect(strstr(g.ctx.error, other), "%s", g.ctx.error);
    destroy(&a);
    destroy(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    remove_temp(path);
}

Test(checkpoint_io, shape_mismatch_names_the_tensor_and_shapes, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a, g;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 1);
    expect_failed_load(path, 4, NULL, GS_ERR_MISMATCH, &g);
    cr_expect(strstr(g.ctx.error, "optimizer/exp_avg_sq.fc.weight"), "%s", g.ctx.error);
    cr_expect(strstr(g.ctx.error, "(3, 5)") && strstr(g.ctx.error, "(3, 4)"), "%s", g.ctx.error);
    destroy(&a);
    destroy(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    remove_temp(path);
}

Test(checkpoint_io, missing_tensor_or_group_is_mismatch) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a, g;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 1);

    build(&g, 2, 5);
    fill_constant(&g, 7.0f);
    cr_assert(gs_param_add(&g.ctx, &g.model, "fc.weight", GS_PARAM_WEIGHT, GS_DIMS(3, 5)));
    gs_tensor_fill(g.model.items[g.model.count - 1].tensor, 7.0f);
    cr_expect_eq(gs_checkpoint_load(&g.ctx, path, g.groups, 2, NULL, NULL), GS_ERR_MISMATCH);
    cr_expect(strstr(g.ctx.error, "model/fc.weight"), "%s", g.ctx.error);
    cr_expect(all_equal(&g.model, 7.0f) && all_equal(&g.optim, 7.0f));
    gs_clear_error(&g.ctx);
    gs_checkpoint_group groups[2] = {{"optimizer", &g.optim}, {"target_model", &g.optim}};
    cr_expect_eq(gs_checkpoint_load(&g.ctx, path, groups, 2, NULL, NULL), GS_ERR_MISMATCH);
    cr_expect(strstr(g.ctx.error, "target_model"), "%s", g.ctx.error);
    cr_expect(all_equal(&g.optim, 7.0f));
    destroy(&a);
    destroy(&g);
    remove_temp(path);
}

Test(checkpoint_io, unused_tensors_are_mismatch_unless_allowed) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a, g;
    build(&a, 1, 5);
    fill_values(&a);
    cr_assert(gs_param_add(&a.ctx, &a.model, "head.weight", GS_PARAM_WEIGHT, GS_DIMS(2, 2)));
    gs_tensor_fill(a.model.items[a.model.count - 1].tensor, 1.0f);
    save_ok(&a, path, 1);
    expect_failed_load(path, 5, NULL, GS_ERR_MISMATCH, &g);
    cr_expect(strstr(g.ctx.error, "model/head.weight"), "%s", g.ctx.error);
    gs_clear_error(&g.ctx);
    gs_checkpoint_load_options options = {.architecture = ARCH, .allow_unused = true};
    cr_expect_eq(gs_checkpoint_load(&g.ctx, path, g.groups, 2, NULL, &options), GS_OK, "%s", g.ctx.error);
    cr_expect(same_bits(&a.optim, &g.optim));
    cr_expect_eq(memcmp(a.model.items[0].tensor->data, g.model.items[0].tensor->data, 7 * 27 * sizeof(float)), 0);
    destroy(&a);
    destroy(&g);
    remove_temp(path);
}

Test(checkpoint_io, stored_nan_is_nonfinite, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a, g;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 1);
    /* Corrupt the last tensor behind geossl's back (save refuses NaN). */
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(file, 0);
    hid_t dset = H5Dopen2(file, "optimizer/exp_avg_sq.fc.weight", H5P_DEFAULT);
    cr_assert_geq(dset, 0);
    float values[15];
    cr_assert_geq(H5Dread(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), 0);
    values[14] = NAN;
    cr_assert_geq(H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), 0);
    H5Dclose(dset);
    H5Fclose(file);
    reseal(path);
    expect_failed_load(path, 5, NULL, GS_ERR_NONFINITE, &g);
    cr_expect(strstr(g.ctx.error, "optimizer/exp_avg_sq.fc.weight"), "%s", g.ctx.error);
    destroy(&a);
    destroy(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    remove_temp(path);
}

Test(checkpoint_io, sticky_error_skips_the_call) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a;
    build(&a, 1, 5);
    fill_values(&a);
    gs_fail(&a.ctx, GS_ERR_SHAPE, "earlier failure");
    gs_checkpoint_meta meta = {.rng = a.ctx.rng, .architecture = ARCH};
    cr_expect_eq(gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta), GS_ERR_SHAPE);
    cr_expect_eq(access(path, F_OK), -1);
    cr_expect_str_eq(a.ctx.error, "earlier failure");
    destroy(&a);
    remove_temp(path);
}

/* ---- damaged and hostile files (issue 15) ------------------------------- */

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_gt(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n);
    cr_assert(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void write_all(const char *path, const unsigned char *buf, size_t size) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    cr_assert_eq(fwrite(buf, 1, size, f), size);
    cr_assert_eq(fclose(f), 0);
}

/* Byte offset of the one place the file stores `value` (little-endian float). */
static size_t find_float(const char *path, float value) {
    size_t size, at = 0, hits = 0;
    unsigned char *buf = read_all(path, &size);
    for (size_t i = 0; i + sizeof value <= size; i++)
        if (!memcmp(buf + i, &value, sizeof value)) {
            at = i;
            hits++;
        }
    free(buf);
    cr_assert_eq(hits, 1, "%g is stored %zu times in %s", (double)value, hits, path);
    return at;
}

static void flip_bit(const char *path, size_t offset, int bit) {
    size_t size;
    unsigned char *buf = read_all(path, &size);
    cr_assert_lt(offset, size);
    buf[offset] ^= (unsigned char)(1u << bit);
    write_all(path, buf, size);
    free(buf);
}

/* A checkpoint as geossl wrote them before digests: the HDF5 data alone,
 * superblock at byte 0 (libhdf5 finds it there as well as at 512). */
static void strip_digest_header(const char *path) {
    size_t size;
    unsigned char *buf = read_all(path, &size);
    cr_assert_gt(size, (size_t)GS_DIGEST_BLOCK);
    write_all(path, buf + GS_DIGEST_BLOCK, size - GS_DIGEST_BLOCK);
    free(buf);
}

static void expect_stderr_empty(void) {
    fflush(stderr);
    cr_expect_stderr_eq_str("");
}

/* One flipped bit anywhere in the data (here the exponent of a weight,
 * which made it 1e38) is refused before libhdf5 reads the file, naming
 * the file and saying how to recover; metadata and shapes are refused too. */
Test(checkpoint_io, a_flipped_bit_is_refused_naming_the_file, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "ckpt.h5");
    fixture a, g;
    build(&a, 1, 5);
    fill_values(&a);
    a.model.items[2].tensor->data[0] = 0.3125f;
    save_ok(&a, path, 1);
    flip_bit(path, find_float(path, 0.3125f) + 3, 6);
    expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "corrupt or was modified"), "%s", g.ctx.error);
    cr_expect(strstr(g.ctx.error, "earlier checkpoint") && strstr(g.ctx.error, "rerun"), "%s", g.ctx.error);
    gs_clear_error(&g.ctx);
    gs_checkpoint_info info;
    cr_expect_eq(gs_checkpoint_read_info(&g.ctx, path, &info), GS_ERR_FORMAT);
    int64_t dims[4];
    cr_expect_eq(gs_checkpoint_tensor_shape(path, "model/conv1.weight", dims, 4), 0);
    /* The header itself is covered: a bit of the stored digest. */
    save_ok(&a, path, 1);
    flip_bit(path, 40, 0);
    destroy(&g);
    expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "corrupt or was modified"), "%s", g.ctx.error);
    destroy(&a);
    destroy(&g);
    expect_stderr_empty();
    remove_temp(path);
}

/* The defect seen: one flipped bit put a negative value into a batchnorm
 * running variance and the checkpoint loaded.  The digest refuses the
 * flip; a file whose digest is right but whose variance (or AdamW second
 * moment) is negative is refused by the range check, naming the tensor. */
Test(checkpoint_io, negative_running_variance_is_refused, .init = cr_redirect_stderr) {
    const char *names[2] = {"bn1.running_var", "fc.weight.exp_avg_sq"};
    for (int n = 0; n < 2; n++) {
        char path[600];
        temp_file(path, sizeof path, "bn.h5");
        gs_context ctx, ctx2;
        gs_context_options co = {.n_threads = 1, .seed = 1};
        cr_assert_eq(gs_context_init(&ctx, &co), GS_OK);
        cr_assert_eq(gs_context_init(&ctx2, &co), GS_OK);
        gs_param_list list = {0}, loaded = {0};
        gs_tensor *t = gs_param_add(&ctx, &list, names[n], GS_PARAM_BUFFER, GS_DIMS(6));
        gs_tensor *u = gs_param_add(&ctx2, &loaded, names[n], GS_PARAM_BUFFER, GS_DIMS(6));
        cr_assert(t && u);
        gs_tensor_fill(t, 0.5f);
        t->data[0] = 0.0f; /* zero is a variance */
        t->data[3] = 0.3125f;
        gs_checkpoint_group group = {"model", &list}, into = {"model", &loaded};
        gs_checkpoint_meta meta = {.rng = ctx.rng, .architecture = ARCH};
        cr_assert_eq(gs_checkpoint_save(&ctx, path, &group, 1, &meta), GS_OK, "%s", ctx.error);
        cr_assert_eq(gs_checkpoint_load(&ctx2, path, &into, 1, NULL, NULL), GS_OK, "%s", ctx2.error);

        flip_bit(path, find_float(path, 0.3125f) + 3, 7); /* the sign bit */
        gs_tensor_fill(u, 7.0f);
        cr_expect_eq(gs_checkpoint_load(&ctx2, path, &into, 1, NULL, NULL), GS_ERR_FORMAT, "%s", names[n]);
        cr_expect(strstr(ctx2.error, path) && strstr(ctx2.error, "corrupt or was modified"), "%s", ctx2.error);
        gs_clear_error(&ctx2);

        reseal(path);
        cr_expect_eq(gs_checkpoint_load(&ctx2, path, &into, 1, NULL, NULL), GS_ERR_FORMAT, "%s", names[n]);
        cr_expect(strstr(ctx2.error, path) && strstr(ctx2.error, names[n]) && strstr(ctx2.error, "-0.3125"), "%s",
                  ctx2.error);
        cr_expect(all_equal(&loaded, 7.0f), "a refused load modified the model");
        gs_param_list_free(&list);
        gs_param_list_free(&loaded);
        gs_context_free(&ctx);
        gs_context_free(&ctx2);
        remove_temp(path);
    }
    expect_stderr_empty();
}

#define TRUST_ENV "GEOSSL_TRUST_CHECKPOINTS_WITHOUT_DIGEST"

/* A checkpoint written before digests is refused with a message that says
 * how to go on; with the variable set it loads, with a warning. */
Test(checkpoint_io, checkpoint_without_digest_is_refused_unless_trusted, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "old.h5");
    fixture a, g;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 4);
    strip_digest_header(path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(file, 0, "the stripped file is not the HDF5 file an older geossl wrote");
    H5Fclose(file);

    unsetenv(TRUST_ENV);
    expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "carries no digest") && strstr(g.ctx.error, TRUST_ENV "=1") &&
                  strstr(g.ctx.error, "rerun"),
              "%s", g.ctx.error);
    destroy(&g);

    setenv(TRUST_ENV, "1", 1);
    build(&g, 2, 5);
    gs_checkpoint_info info;
    gs_status st = gs_checkpoint_load(&g.ctx, path, g.groups, 2, &info, NULL);
    unsetenv(TRUST_ENV);
    cr_assert_eq(st, GS_OK, "%s", g.ctx.error);
    cr_expect_eq(info.step, 4);
    cr_expect(same_bits(&a.model, &g.model) && same_bits(&a.optim, &g.optim));
    gs_checkpoint_info_free(&info);
    destroy(&a);
    destroy(&g);
    fflush(stderr);
    char said[1024] = "";
    FILE *err = cr_get_redirected_stderr();
    size_t n = fread(said, 1, sizeof said - 1, err);
    said[n] = '\0';
    cr_expect(strstr(said, "carries no digest") && strstr(said, path), "no warning: '%s'", said);
    remove_temp(path);
}

/* What ../shared/repro holds: mutated checkpoints from before digests that
 * overflowed a heap buffer inside libhdf5 (H5Aexists) and made the reader
 * allocate 2.8 GB.  Refused, naming the file, before libhdf5 reads them. */
static void expect_repro_refused(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/../repro/%s", test_shared_data_dir(), name);
    if (access(path, R_OK) != 0) cr_skip_test("reproducer %s is absent", path);
    fixture g;
    expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "carries no digest"), "%s", g.ctx.error);
    gs_clear_error(&g.ctx);
    gs_checkpoint_info info;
    cr_expect_eq(gs_checkpoint_read_info(&g.ctx, path, &info), GS_ERR_FORMAT);
    int64_t dims[4];
    cr_expect_eq(gs_checkpoint_tensor_shape(path, "heads/aspp.conv1x1.conv.weight", dims, 4), 0);
    destroy(&g);
    expect_stderr_empty();
}

Test(checkpoint_io, repro_hdf5_overflow_is_refused, .init = cr_redirect_stderr) {
    expect_repro_refused("checkpoint-hdf5-overflow.h5");
}

Test(checkpoint_io, repro_huge_string_is_refused, .init = cr_redirect_stderr) {
    expect_repro_refused("checkpoint-huge-string.h5");
}

/* The same kind of file made here, so the check runs without ../shared:
 * a checkpoint whose object headers were overwritten, once as an old file
 * (no digest) and once with its digest; neither reaches libhdf5. */
Test(checkpoint_io, mutated_checkpoints_are_refused_before_libhdf5, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "mutated.h5");
    for (int sealed = 0; sealed < 2; sealed++) {
        fixture a, g;
        build(&a, 1, 5);
        fill_values(&a);
        save_ok(&a, path, 1);
        size_t size, base = sealed ? GS_DIGEST_BLOCK : 0;
        if (!sealed) strip_digest_header(path);
        unsigned char *buf = read_all(path, &size);
        /* Past the superblock: the root group's header, its attributes
         * (the format version H5Aexists read out of bounds) and the first
         * objects' headers. */
        for (size_t i = base + 96; i < base + 2048 && i < size; i += 37) buf[i] ^= 0xa5;
        write_all(path, buf, size);
        free(buf);
        expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
        cr_expect(strstr(g.ctx.error, sealed ? "corrupt or was modified" : "carries no digest"), "%s", g.ctx.error);
        gs_clear_error(&g.ctx);
        gs_checkpoint_info info;
        cr_expect_eq(gs_checkpoint_read_info(&g.ctx, path, &info), GS_ERR_FORMAT);
        destroy(&a);
        destroy(&g);
    }
    expect_stderr_empty();
    remove_temp(path);
}

/* A string whose declared size is larger than any configuration (and than
 * the file) is refused without allocating it, even in a file whose digest
 * is right (a digest is no signature: whoever writes a file can seal it). */
Test(checkpoint_io, a_huge_declared_string_is_not_allocated, .init = cr_redirect_stderr) {
    char path[600];
    temp_file(path, sizeof path, "huge.h5");
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    cr_assert_geq(H5Pset_userblock(fcpl, GS_DIGEST_BLOCK), 0);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    H5Pclose(fcpl);
    cr_assert_geq(file, 0);
    int version = GS_CHECKPOINT_FORMAT_VERSION;
    int64_t step = 1;
    uint64_t rng[4] = {1, 2, 3, 4};
    hsize_t four = 4;
    hid_t scalar = H5Screate(H5S_SCALAR), vec = H5Screate_simple(1, &four, NULL);
    hid_t a1 = H5Acreate2(file, "geossl_checkpoint_format", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    hid_t a2 = H5Acreate2(file, "step", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    hid_t a3 = H5Acreate2(file, "rng_state", H5T_STD_U64LE, vec, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(H5Awrite(a1, H5T_NATIVE_INT, &version), 0);
    cr_assert_geq(H5Awrite(a2, H5T_NATIVE_INT64, &step), 0);
    cr_assert_geq(H5Awrite(a3, H5T_NATIVE_UINT64, rng), 0);
    hid_t arch = H5Tcopy(H5T_C_S1);
    H5Tset_size(arch, strlen(ARCH) + 1);
    hid_t a4 = H5Acreate2(file, "architecture", arch, scalar, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(H5Awrite(a4, arch, ARCH), 0);
    /* 64 MiB declared, nothing stored (allocated late, never written). */
    hid_t huge = H5Tcopy(H5T_C_S1);
    cr_assert_geq(H5Tset_size(huge, (size_t)64 << 20), 0);
    hid_t config = H5Dcreate2(file, "config", huge, scalar, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(config, 0);
    H5Dclose(config);
    H5Tclose(huge);
    H5Tclose(arch);
    H5Aclose(a1);
    H5Aclose(a2);
    H5Aclose(a3);
    H5Aclose(a4);
    H5Sclose(scalar);
    H5Sclose(vec);
    cr_assert_geq(H5Fclose(file), 0);
    reseal(path);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_lt(st.st_size, 1 << 20, "the file stores the string after all");

    gs_context ctx;
    gs_context_options co = {.n_threads = 1};
    cr_assert_eq(gs_context_init(&ctx, &co), GS_OK);
    gs_checkpoint_info info;
    cr_expect_eq(gs_checkpoint_read_info(&ctx, path, &info), GS_ERR_FORMAT, "a 64 MiB string was read");
    cr_expect(strstr(ctx.error, path) && strstr(ctx.error, "config"), "%s", ctx.error);
    gs_context_free(&ctx);
    expect_stderr_empty();
    remove_temp(path);
}

/* A save that runs out of room (here a file size limit, as a full disk
 * would) fails cleanly: an error naming the file and the reason, no
 * temporary file, the previous checkpoint intact, and libhdf5 left in a
 * state it can shut down from (it crashed at exit after a failed close).
 * In a child, so the limit and libhdf5's shutdown stay out of this process. */
Test(checkpoint_io, save_on_a_full_disk_keeps_the_previous_checkpoint) {
    char path[600], tmp[620];
    temp_file(path, sizeof path, "ckpt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fixture a, b;
    build(&a, 1, 5);
    fill_values(&a);
    save_ok(&a, path, 1);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    fill_constant(&a, 0.25f);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of the signal */
        struct rlimit limit = {(rlim_t)st.st_size, (rlim_t)st.st_size};
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(20);
        gs_checkpoint_meta meta = {.step = 2, .rng = a.ctx.rng, .architecture = ARCH, .config = CONFIG};
        gs_status status = gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta);
        int code = status != GS_ERR_IO                        ? 21
                   : !strstr(a.ctx.error, path)                ? 22
                   : !strstr(a.ctx.error, strerror(EFBIG))     ? 23
                                                               : 0;
        if (code) fprintf(stderr, "child: %s\n", a.ctx.error);
        H5close(); /* what the exit handler does; it crashed on a half-closed file */
        _exit(code);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the child died of signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    cr_expect_eq(WEXITSTATUS(status), 0, "child exit %d (see its stderr)", WEXITSTATUS(status));
    cr_expect_eq(access(tmp, F_OK), -1, "%s left behind", tmp);
    build(&b, 2, 5);
    gs_checkpoint_info info;
    cr_assert_eq(gs_checkpoint_load(&b.ctx, path, b.groups, 2, &info, NULL), GS_OK, "%s", b.ctx.error);
    cr_expect_eq(info.step, 1);
    gs_checkpoint_info_free(&info);
    destroy(&a);
    destroy(&b);
    remove_temp(path);
}
