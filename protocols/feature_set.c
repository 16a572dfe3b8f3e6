#include "feature_set.h"
#include "io/durable_file.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "ops/ops.h"

void gs_feature_set_free(gs_feature_set *fs) {
    free(fs->features);
    free(fs->labels);
    free(fs->targets);
    memset(fs, 0, sizeof *fs);
}

gs_status gs_extract_features(gs_context *ctx, gs_backbone *encoder, const gs_dataset *ds, const int64_t *indices,
                              int64_t n, const gs_band_stats *stats, int batch, int workers, gs_feature_set *out,
                              gs_error *err) {
    memset(out, 0, sizeof *out);
    if (ds->dates > 1)
        return gs_error_set(err, GS_ERR_ARGUMENT, "features: %s has several dates per sample; evaluation protocols "
                                                  "take single-date datasets", ds->root);
    out->dim = encoder->feature_dim;
    out->n = n;
    out->n_classes = ds->n_classes;
    out->features = malloc((size_t)(n * out->dim) * sizeof(float));
    out->labels = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    if (ds->task == GS_TASK_MULTILABEL) out->targets = calloc((size_t)(n * ds->n_classes), 1);
    if (!out->features || !out->labels || (ds->task == GS_TASK_MULTILABEL && !out->targets)) {
        gs_feature_set_free(out);
        return gs_error_set(err, GS_ERR_MEMORY, "features: out of memory for %lld x %lld", (long long)n,
                            (long long)encoder->feature_dim);
    }
    gs_loader_config lc = {.dataset = ds, .indices = indices, .n_indices = n, .batch_size = batch,
                           .workers = workers, .shuffle = false, .epochs = 1, .n_views = 0, .normalize = stats};
    gs_loader *loader = NULL;
    if (gs_loader_create(&lc, &loader, err) != GS_OK) {
        gs_feature_set_free(out);
        return err->status;
    }
    bool previous = gs_set_grad_enabled(ctx, false);
    int64_t row = 0;
    const gs_batch *b;
    while (gs_loader_next(loader, &b, err) == GS_OK && b) {
        gs_step_begin(ctx);
        gs_tensor *y = gs_backbone_forward(ctx, encoder, gs_batch_view_tensor(ctx, b, 0), false);
        if (!y) break;
        memcpy(out->features + row * out->dim, y->data, (size_t)(b->n * out->dim) * sizeof(float));
        memcpy(out->labels + row, b->labels, (size_t)b->n * sizeof(int32_t));
        if (out->targets && b->targets)
            for (int64_t i = 0; i < (int64_t)b->n * ds->n_classes; i++)
                out->targets[row * ds->n_classes + i] = b->targets[i] > 0.5f;
        row += b->n;
    }
    gs_set_grad_enabled(ctx, previous);
    gs_loader_destroy(loader);
    if (gs_failed(ctx)) gs_error_set(err, ctx->status, "features: %s", ctx->error);
    else if (err->status == GS_OK && row != n)
        gs_error_set(err, GS_ERR_INTERNAL, "features: %lld of %lld samples came back", (long long)row, (long long)n);
    if (err->status != GS_OK) gs_feature_set_free(out);
    return err->status;
}

/* ---- cache ---------------------------------------------------------------- */

static herr_t write_dataset(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t set = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t status = set < 0 ? -1 : H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (set >= 0) H5Dclose(set);
    H5Sclose(space);
    return status;
}

gs_status gs_feature_set_save(const char *path, const char *key, const gs_feature_set *fs, gs_error *err) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = file < 0 ? -1 : 0;
    if (st >= 0) {
        hsize_t fdims[2] = {(hsize_t)fs->n, (hsize_t)fs->dim}, ldims[1] = {(hsize_t)fs->n};
        hsize_t tdims[2] = {(hsize_t)fs->n, (hsize_t)fs->n_classes}, one[1] = {1};
        int32_t classes = fs->n_classes;
        hid_t str = H5Tcopy(H5T_C_S1);
        H5Tset_size(str, strlen(key) + 1);
        st |= write_dataset(file, "features", H5T_NATIVE_FLOAT, 2, fdims, fs->features);
        st |= write_dataset(file, "labels", H5T_NATIVE_INT32, 1, ldims, fs->labels);
        st |= write_dataset(file, "n_classes", H5T_NATIVE_INT32, 1, one, &classes);
        if (fs->targets) st |= write_dataset(file, "targets", H5T_NATIVE_UINT8, 2, tdims, fs->targets);
        st |= write_dataset(file, "key", str, 1, one, key);
        H5Tclose(str);
        st |= H5Fclose(file);
    }
    H5Eset_auto2(H5E_DEFAULT, func, data);
    if (st < 0) {
        unlink(tmp);
        return gs_error_set(err, GS_ERR_IO, "cannot write the feature cache %s", path);
    }
    return gs_commit_file(tmp, path, err);
}

static bool read_dataset(hid_t file, const char *name, hid_t type, void *out) {
    hid_t set = H5Dopen2(file, name, H5P_DEFAULT);
    if (set < 0) return false;
    bool ok = H5Dread(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    H5Dclose(set);
    return ok;
}

gs_status gs_feature_set_load(const char *path, const char *key, gs_feature_set *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    if (access(path, R_OK) != 0) return gs_error_set(err, GS_ERR_IO, "no feature cache at %s", path);
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    gs_status status = GS_OK;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    char stored[1024] = "";
    if (file < 0) {
        status = gs_error_set(err, GS_ERR_FORMAT, "%s is not a readable feature cache (delete it to recompute)", path);
    } else {
        hid_t set = H5Dopen2(file, "features", H5P_DEFAULT), str = H5Tcopy(H5T_C_S1);
        H5Tset_size(str, sizeof stored);
        hid_t space = set >= 0 ? H5Dget_space(set) : -1;
        hsize_t dims[2] = {0, 0};
        int32_t classes = 0;
        if (space < 0 || H5Sget_simple_extent_dims(space, dims, NULL) != 2 || !read_dataset(file, "key", str, stored) ||
            !read_dataset(file, "n_classes", H5T_NATIVE_INT32, &classes)) {
            status = gs_error_set(err, GS_ERR_FORMAT, "%s is not a geossl feature cache (delete it to recompute)", path);
        } else if (strcmp(stored, key)) {
            status = gs_error_set(err, GS_ERR_MISMATCH, "%s holds features of another run", path);
        } else {
            out->n = (int64_t)dims[0];
            out->dim = (int64_t)dims[1];
            out->n_classes = classes;
            out->features = malloc((size_t)(out->n * out->dim) * sizeof(float));
            out->labels = malloc((size_t)(out->n > 0 ? out->n : 1) * sizeof(int32_t));
            bool ok = out->features && out->labels && read_dataset(file, "features", H5T_NATIVE_FLOAT, out->features) &&
                      read_dataset(file, "labels", H5T_NATIVE_INT32, out->labels);
            if (ok && H5Lexists(file, "targets", H5P_DEFAULT) > 0) {
                out->targets = malloc((size_t)(out->n * classes));
                ok = out->targets && read_dataset(file, "targets", H5T_NATIVE_UINT8, out->targets);
            }
            if (!ok) status = gs_error_set(err, GS_ERR_FORMAT, "%s is truncated or corrupt (delete it)", path);
        }
        if (space >= 0) H5Sclose(space);
        if (set >= 0) H5Dclose(set);
        H5Tclose(str);
        H5Fclose(file);
    }
    H5Eset_auto2(H5E_DEFAULT, func, data);
    if (status != GS_OK) gs_feature_set_free(out);
    return status;
}
