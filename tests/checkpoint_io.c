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

#include "checkpoint_fixture.h"
#include "io/checkpoint.h"
#include "io/file_digest.h"
#include "test_paths.h"

Test(checkpoint_io, round_trip_is_bit_exact) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a, b;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    for (int i = 0; i < 3; i++) gs_rng_next_u64(&a.ctx.rng);
    gs_rng saved_rng = a.ctx.rng;
    checkpoint_fixture_save(&a, path, 12345678901LL);

    checkpoint_fixture_build(&b, 99, 5);
    checkpoint_fixture_fill_constant(&b, 0.0f);
    gs_checkpoint_info info;
    gs_checkpoint_load_options options = {.architecture = ARCH};
    cr_assert_eq(gs_checkpoint_load(&b.ctx, path, b.groups, 2, &info, &options), GS_OK, "%s", b.ctx.error);
    cr_expect(checkpoint_lists_same_bits(&a.model, &b.model));
    cr_expect(checkpoint_lists_same_bits(&a.optim, &b.optim));
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
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&b);
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, loads_a_subset_of_groups_without_info) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a, b;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 3);
    checkpoint_fixture_build(&b, 2, 5);
    cr_assert_eq(gs_checkpoint_load(&b.ctx, path, b.groups, 1, NULL, NULL), GS_OK, "%s", b.ctx.error);
    cr_expect(checkpoint_lists_same_bits(&a.model, &b.model));
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&b);
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, save_replaces_atomically_and_leaves_no_temp_file) {
    char path[600], tmp[620];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    checkpoint_fixture a, b;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 1);
    cr_expect_eq(access(tmp, F_OK), -1);
    checkpoint_fixture_fill_constant(&a, 0.5f);
    checkpoint_fixture_save(&a, path, 2);
    cr_expect_eq(access(tmp, F_OK), -1, "%s left behind", tmp);

    checkpoint_fixture_build(&b, 2, 5);
    gs_checkpoint_info info;
    cr_assert_eq(gs_checkpoint_load(&b.ctx, path, b.groups, 2, &info, NULL), GS_OK, "%s", b.ctx.error);
    cr_expect_eq(info.step, 2);
    cr_expect(checkpoint_list_all_equal(&b.model, 0.5f) && checkpoint_list_all_equal(&b.optim, 0.5f));
    gs_checkpoint_info_free(&info);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&b);
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, failed_save_keeps_the_previous_checkpoint) {
    char path[600], tmp[620];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    checkpoint_fixture a;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 1);
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
    checkpoint_fixture_free(&a);
    checkpoint_remove_temp(path);
}

/* What a kill in the middle of a save leaves: the old checkpoint and a
 * partial temporary file.  The old one still loads; the next save succeeds. */
Test(checkpoint_io, interrupted_save_leaves_the_previous_checkpoint) {
    char path[600], tmp[620];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    checkpoint_fixture a, b;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 1);
    FILE *partial = fopen(tmp, "wb");
    cr_assert(partial);
    fputs("\x89HDF\r\n\x1a\n half a checkpoint", partial);
    fclose(partial);

    checkpoint_fixture_build(&b, 2, 5);
    cr_assert_eq(gs_checkpoint_load(&b.ctx, path, b.groups, 2, NULL, NULL), GS_OK, "%s", b.ctx.error);
    cr_expect(checkpoint_lists_same_bits(&a.model, &b.model));
    checkpoint_fixture_save(&a, path, 2);
    cr_expect_eq(access(tmp, F_OK), -1);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&b);
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, failed_rename_removes_the_temp_file) {
    char path[600], tmp[620];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cr_assert_eq(mkdir(path, 0755), 0); /* rename() cannot replace a directory by a file */
    checkpoint_fixture a;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    gs_checkpoint_meta meta = {.step = 1, .rng = a.ctx.rng, .architecture = ARCH};
    cr_expect_eq(gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta), GS_ERR_IO);
    cr_expect(strstr(a.ctx.error, path), "%s", a.ctx.error);
    cr_expect_eq(access(tmp, F_OK), -1, "%s left behind", tmp);
    checkpoint_fixture_free(&a);
    rmdir(path);
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, save_into_missing_directory_is_io_error) {
    char dir[512], path[600];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/no/such/dir/ckpt.h5", dir);
    checkpoint_fixture a;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    gs_checkpoint_meta meta = {.step = 1, .rng = a.ctx.rng, .architecture = ARCH, .config = ""};
    cr_expect_eq(gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta), GS_ERR_IO);
    cr_expect(strstr(a.ctx.error, path), "%s", a.ctx.error);
    cr_expect(strstr(a.ctx.error, strerror(ENOENT)), "%s", a.ctx.error);
    checkpoint_fixture_free(&a);
    rmdir(dir);
}

Test(checkpoint_io, names_with_slashes_are_rejected) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    cr_assert(gs_param_add(&a.ctx, &a.model, "head/weight", GS_PARAM_WEIGHT, GS_DIMS(2)));
    gs_checkpoint_meta meta = {.rng = a.ctx.rng, .architecture = ARCH};
    cr_expect_eq(gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta), GS_ERR_ARGUMENT);
    cr_expect(strstr(a.ctx.error, "head/weight"), "%s", a.ctx.error);
    cr_expect_eq(access(path, F_OK), -1);
    checkpoint_fixture_free(&a);
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, missing_file_is_io_error, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "absent.h5");
    checkpoint_fixture g;
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_IO, &g);
    cr_expect(strstr(g.ctx.error, strerror(ENOENT)), "%s", g.ctx.error);
    gs_clear_error(&g.ctx);
    gs_checkpoint_info info;
    cr_expect_eq(gs_checkpoint_read_info(&g.ctx, path, &info), GS_ERR_IO);
    checkpoint_fixture_free(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, truncated_file_is_format_error, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a, g;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 1);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size / 2), 0);
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "corrupt") && strstr(g.ctx.error, "truncated"), "%s", g.ctx.error);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, random_bytes_are_format_error, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "noise.h5");
    FILE *file = fopen(path, "wb");
    cr_assert(file);
    gs_rng rng;
    gs_rng_seed(&rng, 5);
    for (int i = 0; i < 4096; i++) fputc((int)(gs_rng_next_u64(&rng) & 0xff), file);
    fclose(file);
    checkpoint_fixture g;
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    checkpoint_fixture_free(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, foreign_hdf5_file_is_format_error, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "other.h5");
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(file, 0);
    hid_t group = H5Gcreate2(file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(group);
    H5Fclose(file);
    checkpoint_fixture g;
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "not a geossl checkpoint"), "%s", g.ctx.error);
    checkpoint_fixture_free(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, newer_format_version_is_refused) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a, g;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 1);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(file, 0);
    hid_t attr = H5Aopen(file, "geossl_checkpoint_format", H5P_DEFAULT);
    cr_assert_geq(attr, 0);
    int version = GS_CHECKPOINT_FORMAT_VERSION + 1;
    cr_assert_geq(H5Awrite(attr, H5T_NATIVE_INT, &version), 0);
    H5Aclose(attr);
    H5Fclose(file);
    checkpoint_reseal(path);
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_FORMAT, &g);
    cr_expect(strstr(g.ctx.error, "format version"), "%s", g.ctx.error);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&g);
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, architecture_mismatch_names_both, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a, g;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 1);
    const char *other = "resnet50 bands=13 width=64 stem=imagenet";
    gs_checkpoint_load_options options = {.architecture = other};
    checkpoint_expect_failed_load(path, 5, &options, GS_ERR_MISMATCH, &g);
    cr_expect(strstr(g.ctx.error, ARCH), "%s", g.ctx.error);
    cr_expect(strstr(g.ctx.error, other), "%s", g.ctx.error);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, shape_mismatch_names_the_tensor_and_shapes, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a, g;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 1);
    checkpoint_expect_failed_load(path, 4, NULL, GS_ERR_MISMATCH, &g);
    cr_expect(strstr(g.ctx.error, "optimizer/exp_avg_sq.fc.weight"), "%s", g.ctx.error);
    cr_expect(strstr(g.ctx.error, "(3, 5)") && strstr(g.ctx.error, "(3, 4)"), "%s", g.ctx.error);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, missing_tensor_or_group_is_mismatch) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a, g;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 1);

    checkpoint_fixture_build(&g, 2, 5);
    checkpoint_fixture_fill_constant(&g, 7.0f);
    cr_assert(gs_param_add(&g.ctx, &g.model, "fc.weight", GS_PARAM_WEIGHT, GS_DIMS(3, 5)));
    gs_tensor_fill(g.model.items[g.model.count - 1].tensor, 7.0f);
    cr_expect_eq(gs_checkpoint_load(&g.ctx, path, g.groups, 2, NULL, NULL), GS_ERR_MISMATCH);
    cr_expect(strstr(g.ctx.error, "model/fc.weight"), "%s", g.ctx.error);
    cr_expect(checkpoint_list_all_equal(&g.model, 7.0f) && checkpoint_list_all_equal(&g.optim, 7.0f));
    gs_clear_error(&g.ctx);
    gs_checkpoint_group groups[2] = {{"optimizer", &g.optim}, {"target_model", &g.optim}};
    cr_expect_eq(gs_checkpoint_load(&g.ctx, path, groups, 2, NULL, NULL), GS_ERR_MISMATCH);
    cr_expect(strstr(g.ctx.error, "target_model"), "%s", g.ctx.error);
    cr_expect(checkpoint_list_all_equal(&g.optim, 7.0f));
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&g);
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, unused_tensors_are_mismatch_unless_allowed) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a, g;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    cr_assert(gs_param_add(&a.ctx, &a.model, "head.weight", GS_PARAM_WEIGHT, GS_DIMS(2, 2)));
    gs_tensor_fill(a.model.items[a.model.count - 1].tensor, 1.0f);
    checkpoint_fixture_save(&a, path, 1);
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_MISMATCH, &g);
    cr_expect(strstr(g.ctx.error, "model/head.weight"), "%s", g.ctx.error);
    gs_clear_error(&g.ctx);
    gs_checkpoint_load_options options = {.architecture = ARCH, .allow_unused = true};
    cr_expect_eq(gs_checkpoint_load(&g.ctx, path, g.groups, 2, NULL, &options), GS_OK, "%s", g.ctx.error);
    cr_expect(checkpoint_lists_same_bits(&a.optim, &g.optim));
    cr_expect_eq(memcmp(a.model.items[0].tensor->data, g.model.items[0].tensor->data, 7 * 27 * sizeof(float)), 0);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&g);
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, stored_nan_is_nonfinite, .init = cr_redirect_stderr) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a, g;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    checkpoint_fixture_save(&a, path, 1);
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
    checkpoint_reseal(path);
    checkpoint_expect_failed_load(path, 5, NULL, GS_ERR_NONFINITE, &g);
    cr_expect(strstr(g.ctx.error, "optimizer/exp_avg_sq.fc.weight"), "%s", g.ctx.error);
    checkpoint_fixture_free(&a);
    checkpoint_fixture_free(&g);
    fflush(stderr);
    cr_expect_stderr_eq_str("");
    checkpoint_remove_temp(path);
}

Test(checkpoint_io, sticky_error_skips_the_call) {
    char path[600];
    checkpoint_temp_file(path, sizeof path, "ckpt.h5");
    checkpoint_fixture a;
    checkpoint_fixture_build(&a, 1, 5);
    checkpoint_fixture_fill_values(&a);
    gs_fail(&a.ctx, GS_ERR_SHAPE, "earlier failure");
    gs_checkpoint_meta meta = {.rng = a.ctx.rng, .architecture = ARCH};
    cr_expect_eq(gs_checkpoint_save(&a.ctx, path, a.groups, 2, &meta), GS_ERR_SHAPE);
    cr_expect_eq(access(path, F_OK), -1);
    cr_expect_str_eq(a.ctx.error, "earlier failure");
    checkpoint_fixture_free(&a);
    checkpoint_remove_temp(path);
}
