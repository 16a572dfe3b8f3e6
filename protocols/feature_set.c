#include "feature_set.h"
#include "io/durable_file.h"
#include "io/file_digest.h"
#include "io/h5_file.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/progress_lines.h"
#include "loader.h"
#include "ops/ops.h"

void gs_feature_set_free(gs_feature_set *fs) {
    free(fs->features);
    free(fs->labels);
    free(fs->targets);
    memset(fs, 0, sizeof *fs);
}

gs_status gs_extract_features(gs_context *ctx, gs_backbone *encoder, const gs_feature_extractor *fx,
                              const gs_dataset *ds, const int64_t *indices, int64_t n, const gs_band_stats *stats,
                              int batch, int workers, FILE *progress, gs_feature_set *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    if (ds->dates > 1)
        return gs_error_set(err, GS_ERR_ARGUMENT, "features: %s has several dates per sample; evaluation protocols "
                                                  "take single-date datasets", ds->root);
    out->dim = fx ? fx->dim : encoder->feature_dim;
    out->n = n;
    out->n_classes = ds->n_classes;
    out->features = malloc((size_t)(n * out->dim) * sizeof(float));
    out->labels = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    if (ds->task == GS_TASK_MULTILABEL) out->targets = calloc((size_t)(n * ds->n_classes), 1);
    if (!out->features || !out->labels || (ds->task == GS_TASK_MULTILABEL && !out->targets)) {
        gs_feature_set_free(out);
        return gs_error_set(err, GS_ERR_MEMORY, "features: out of memory for %lld x %lld", (long long)n,
                            (long long)out->dim);
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
    gs_progress_lines lines;
    gs_progress_lines_begin(&lines, progress);
    const gs_batch *b;
    while (gs_loader_next(loader, &b, err) == GS_OK && b) {
        gs_step_begin(ctx);
        gs_tensor *x = gs_batch_view_tensor(ctx, b, 0);
        gs_tensor *y = fx ? fx->compute(ctx, fx->owner, x) : gs_backbone_forward(ctx, encoder, x, false);
        if (!y) break;
        if (y->numel != (int64_t)b->n * out->dim) {
            gs_fail(ctx, GS_ERR_SHAPE, "features: %lld values for %d samples of %lld", (long long)y->numel, b->n,
                    (long long)out->dim);
            break;
        }
        memcpy(out->features + row * out->dim, y->data, (size_t)(b->n * out->dim) * sizeof(float));
        memcpy(out->labels + row, b->labels, (size_t)b->n * sizeof(int32_t));
        if (out->targets && b->targets)
            for (int64_t i = 0; i < (int64_t)b->n * ds->n_classes; i++)
                out->targets[row * ds->n_classes + i] = b->targets[i] > 0.5f;
        row += b->n;
        if (gs_progress_lines_due(&lines))
            fprintf(progress, "features: %lld/%lld samples, %.0f s\n", (long long)row, (long long)n,
                    gs_progress_lines_elapsed(&lines));
    }
    gs_set_grad_enabled(ctx, previous);
    gs_loader_destroy(loader);
    if (gs_failed(ctx)) gs_error_set(err, ctx->status, "features: %s", ctx->error);
    else if (err->status == GS_OK && row != n)
        gs_error_set(err, GS_ERR_INTERNAL, "features: %lld of %lld samples came back", (long long)row, (long long)n);
    if (err->status != GS_OK) gs_feature_set_free(out);
    else if (progress)
        fprintf(progress, "features: %lld samples in %.1f s (%.0f img/s)\n", (long long)n,
                gs_progress_lines_elapsed(&lines), (double)n / (gs_progress_lines_elapsed(&lines) + 1e-9));
    return err->status;
}

/* ---- cache ---------------------------------------------------------------- */

static herr_t take_innermost(unsigned n, const H5E_error2_t *e, void *data) {
    if (n == 0 && e->desc) snprintf(data, 300, "%s", e->desc);
    return 0;
}

/* The innermost message of HDF5's error stack; the sec2 driver's ends in
 * "error message = '<strerror>'", the part worth showing. */
static void innermost_reason(char *buf, size_t size) {
    char desc[300] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, desc);
    const char *detail = desc, *mark = strstr(desc, "error message = '");
    if (mark) detail = mark + strlen("error message = '");
    snprintf(buf, size, "%.*s", (int)strcspn(detail, "'"), detail);
}

/* reason: the failure, read off HDF5's error stack before the closes
 * below clear it. */
static herr_t write_dataset(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data,
                            char *reason, size_t size) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t set = space < 0 ? -1 : H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t status = set < 0 ? -1 : H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (status < 0) {
        innermost_reason(reason, size);
        gs_h5_abandon(file); /* before the close below flushes into the failure (io/h5_file.h) */
    }
    if (set >= 0 && H5Dclose(set) < 0) status = -1;
    if (space >= 0) H5Sclose(space);
    return status;
}

gs_status gs_feature_set_save(const char *path, const char *key, const gs_feature_set *fs, gs_error *err) {
    /* A name of its own: two evaluations may store the same entry at once. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return gs_error_set(err, GS_ERR_IO, "cannot write the feature cache %s: %s", path, strerror(errno));
    close(fd);
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* Space for everything before libhdf5 writes any of it (io/h5_file.h);
     * what is not used is trimmed when the file is committed. */
    uint64_t bytes = GS_DIGEST_BLOCK + (1u << 16) + strlen(key) +
                     (uint64_t)fs->n * ((uint64_t)fs->dim * sizeof(float) + sizeof(int32_t) +
                                        (fs->targets ? (uint64_t)fs->n_classes : 0));
    char reason[300] = "";
    int reserved = gs_space_check(tmp, bytes);
    hid_t file = reserved ? -1 : gs_h5_create_sealable(tmp);
    if (!reserved && file < 0) innermost_reason(reason, sizeof reason);
    herr_t st = file < 0 ? -1 : 0;
    if (!reserved && file >= 0) reserved = gs_h5_reserve(file, bytes);
    if (reserved) {
        snprintf(reason, sizeof reason, "%s", strerror(reserved));
        st = -1;
    }
    if (st >= 0) {
        hsize_t fdims[2] = {(hsize_t)fs->n, (hsize_t)fs->dim}, ldims[1] = {(hsize_t)fs->n};
        hsize_t tdims[2] = {(hsize_t)fs->n, (hsize_t)fs->n_classes}, one[1] = {1};
        int32_t classes = fs->n_classes;
        hid_t str = H5Tcopy(H5T_C_S1);
        /* The first failure stops the writing: the file is abandoned. */
        if (str < 0 || H5Tset_size(str, strlen(key) + 1) < 0) st = -1;
        size_t rs = sizeof reason;
        if (st >= 0) st = write_dataset(file, "features", H5T_NATIVE_FLOAT, 2, fdims, fs->features, reason, rs);
        if (st >= 0) st = write_dataset(file, "labels", H5T_NATIVE_INT32, 1, ldims, fs->labels, reason, rs);
        if (st >= 0) st = write_dataset(file, "n_classes", H5T_NATIVE_INT32, 1, one, &classes, reason, rs);
        if (st >= 0 && fs->targets)
            st = write_dataset(file, "targets", H5T_NATIVE_UINT8, 2, tdims, fs->targets, reason, rs);
        if (st >= 0) st = write_dataset(file, "key", str, 1, one, key, reason, rs);
        if (str >= 0) H5Tclose(str);
        if (st >= 0 && !gs_h5_flush_kept(file, reason, sizeof reason)) {
            if (!reason[0]) innermost_reason(reason, sizeof reason);
            st = -1;
        }
    }
    if (file >= 0) {
        if (st < 0) gs_h5_abandon(file);
        herr_t closed = H5Fclose(file); /* once, whatever happened above */
        if (closed < 0 && !reason[0]) innermost_reason(reason, sizeof reason);
        if (closed < 0) st = -1;
    }
    H5Eset_auto2(H5E_DEFAULT, func, data);
    if (st < 0) {
        unlink(tmp);
        return gs_error_set(err, GS_ERR_IO, "cannot write the feature cache %s%s%s", path, reason[0] ? ": " : "", reason);
    }
    return gs_h5_commit(tmp, path, err);
}

/* A dataset of exactly n elements (of any shape) into out: a file that
 * declares more would overrun the caller's buffer. */
static bool read_dataset(hid_t file, const char *name, hid_t type, hssize_t n, void *out) {
    hid_t set = H5Dopen2(file, name, H5P_DEFAULT);
    if (set < 0) return false;
    hid_t space = H5Dget_space(set);
    bool ok = space >= 0 && H5Sget_simple_extent_npoints(space) == n &&
              H5Dread(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (space >= 0) H5Sclose(space);
    H5Dclose(set);
    return ok;
}

gs_status gs_feature_set_load(const char *path, const char *key, gs_feature_set *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    if (access(path, R_OK) != 0) return gs_error_set(err, GS_ERR_IO, "no feature cache at %s", path);
    /* libhdf5 sees only files this geossl sealed (io/file_digest.h). */
    gs_digest_check check = gs_file_digest_verify(path);
    if (check.state != GS_DIGEST_VALID)
        return gs_error_set(err, GS_ERR_FORMAT, "feature cache %s is not read (%s); it is recomputed", path,
                            check.detail);
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    gs_status status = GS_OK;
    hid_t fapl = gs_h5_file_access();
    hid_t file = fapl >= 0 ? H5Fopen(path, H5F_ACC_RDONLY, fapl) : -1;
    if (fapl >= 0) H5Pclose(fapl);
    char stored[1024] = "";
    if (file < 0) {
        status = gs_error_set(err, GS_ERR_FORMAT, "%s is not a readable feature cache (delete it to recompute)", path);
    } else {
        hid_t set = H5Dopen2(file, "features", H5P_DEFAULT), str = H5Tcopy(H5T_C_S1);
        H5Tset_size(str, sizeof stored);
        hid_t space = set >= 0 ? H5Dget_space(set) : -1;
        hsize_t dims[2] = {0, 0};
        int32_t classes = 0;
        if (space < 0 || H5Sget_simple_extent_ndims(space) != 2 || H5Sget_simple_extent_dims(space, dims, NULL) != 2 ||
            !read_dataset(file, "key", str, 1, stored) ||
            !read_dataset(file, "n_classes", H5T_NATIVE_INT32, 1, &classes) ||
            classes < 0 || classes > 100000 || (double)dims[0] * (double)dims[1] * sizeof(float) > (double)INT64_MAX ||
            !gs_h5_fits_in_file(file, dims[0] * dims[1] * sizeof(float))) {
            status = gs_error_set(err, GS_ERR_FORMAT, "%s is not a geossl feature cache (delete it to recompute)", path);
        } else if (strcmp(stored, key)) {
            status = gs_error_set(err, GS_ERR_MISMATCH, "%s holds features of another run", path);
        } else {
            out->n = (int64_t)dims[0];
            out->dim = (int64_t)dims[1];
            out->n_classes = classes;
            out->features = malloc((size_t)(out->n * out->dim) * sizeof(float));
            out->labels = malloc((size_t)(out->n > 0 ? out->n : 1) * sizeof(int32_t));
            bool ok = out->features && out->labels &&
                      read_dataset(file, "features", H5T_NATIVE_FLOAT, out->n * out->dim, out->features) &&
                      read_dataset(file, "labels", H5T_NATIVE_INT32, out->n, out->labels);
            if (ok && H5Lexists(file, "targets", H5P_DEFAULT) > 0) {
                out->targets = malloc((size_t)(out->n * classes > 0 ? out->n * classes : 1));
                ok = out->targets && read_dataset(file, "targets", H5T_NATIVE_UINT8, out->n * classes, out->targets);
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
