/* Packing a dataset into the HDF5 cache (gs_cache_build, cache.h): the
 * loader decodes the samples in index order on worker threads (raw: no
 * normalization, no augmentation) and this thread appends them, one chunk
 * per sample, to a temporary file that replaces the cache when complete. */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "io/durable_file.h"
#include "io/file_digest.h"
#include "cache_dir.h"
#include "cache_h5.h"
#include "loader.h"
#include "stats.h"

typedef struct packer {
    const gs_dataset *src;
    const gs_cache_options *opt;
    gs_cache_dtype dtype;
    bool too_narrow; /* a value the dtype cannot hold exactly: retry wider */
    hid_t file, pixels, masks;
    int mask_bytes;
    int64_t written, *source_index;
    void *buf;
    gs_stats_accumulator acc;
    bool any_train;
    char reason[400];
} packer;

static bool h5_failed(packer *p, int64_t rc, const char *what) {
    if (rc >= 0) return false;
    /* Before any handle is closed: a close would flush into the failure
     * and leave libhdf5 with a half-closed file (io/h5_file.h). */
    if (p->file >= 0) gs_h5_abandon(p->file);
    if (!p->reason[0]) {
        char detail[300];
        gs_h5_last_error(detail, sizeof detail);
        snprintf(p->reason, sizeof p->reason, "%s: %s", what, detail);
    }
    return true;
}

static hid_t create_chunked(packer *p, const char *name, hid_t type, int rank, const hsize_t *dims) {
    hsize_t max[5], chunk[5];
    for (int i = 0; i < rank; i++) max[i] = chunk[i] = dims[i];
    max[0] = H5S_UNLIMITED; /* shrunk to the samples written when some were skipped */
    chunk[0] = 1;           /* one chunk per sample: a read is one contiguous block */
    hid_t space = H5Screate_simple(rank, dims, max), dcpl = H5Pcreate(H5P_DATASET_CREATE), d = -1;
    /* No chunk cache: each sample is written (and its space allocated) by
     * its H5Dwrite, so a full disk fails that call, and the last flush
     * writes only metadata into space the file already holds. */
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    if (!h5_failed(p, space, name) && !h5_failed(p, dcpl, name) && !h5_failed(p, dapl, name) &&
        !h5_failed(p, H5Pset_chunk(dcpl, rank, chunk), name) &&
        !h5_failed(p, H5Pset_chunk_cache(dapl, H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0, 1.0), name))
        h5_failed(p, d = H5Dcreate2(p->file, name, type, space, H5P_DEFAULT, dcpl, dapl), name);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (dapl >= 0) H5Pclose(dapl);
    return d;
}

static bool write_rows(packer *p, hid_t d, hid_t mem_type, int64_t first, int64_t n, const void *data, const char *what) {
    hid_t fspace = H5Dget_space(d);
    if (h5_failed(p, fspace, what)) return false;
    hsize_t start[5] = {0}, count[5];
    int rank = H5Sget_simple_extent_dims(fspace, count, NULL);
    start[0] = (hsize_t)first;
    count[0] = (hsize_t)n;
    hid_t mspace = H5Screate_simple(rank, count, NULL);
    bool ok = !h5_failed(p, mspace, what) &&
              !h5_failed(p, H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL), what) &&
              !h5_failed(p, H5Dwrite(d, mem_type, mspace, fspace, H5P_DEFAULT, data), what);
    if (mspace >= 0) H5Sclose(mspace);
    H5Sclose(fspace);
    return ok;
}

/* What one sample takes in the file: pixels, mask, and a generous share of
 * the chunk index and the sample table. */
static uint64_t sample_bytes(const packer *p) {
    const gs_dataset *ds = p->src;
    uint64_t pixels = (uint64_t)gs_dataset_sample_floats(ds) * (uint64_t)gs_h5_dtype_bytes(p->dtype);
    uint64_t mask = ds->task == GS_TASK_SEGMENTATION ? (uint64_t)(ds->height * ds->width) * (uint64_t)p->mask_bytes : 0;
    return pixels + mask + 256;
}

/* Room for libhdf5's bookkeeping beyond what is estimated per sample. */
#define RESERVE_SLACK ((uint64_t)1 << 16)

/* Space on disk for everything up to `end` (bytes from the file's start)
 * before libhdf5 writes there; a full disk fails here, cleanly. */
static bool reserve(packer *p, uint64_t end, const char *what) {
    int e = gs_h5_reserve(p->file, end);
    if (!e) return true;
    gs_h5_abandon(p->file);
    if (!p->reason[0]) snprintf(p->reason, sizeof p->reason, "%s (%.1f MB): %s", what, (double)end / 1e6, strerror(e));
    return false;
}

static bool fits(gs_cache_dtype t, float x) {
    if (t == GS_CACHE_FLOAT32) return true;
    return x >= 0 && x <= (t == GS_CACHE_UINT8 ? 255.0f : 65535.0f) && x == (float)(int32_t)x;
}

static bool write_batch(packer *p, const gs_batch *b) {
    const gs_dataset *ds = p->src;
    int64_t values = gs_dataset_sample_floats(ds), total = b->n * values, plane = ds->height * ds->width;
    const float *px = b->views[0].pixels;
    for (int64_t i = 0; i < total; i++) {
        if (!fits(p->dtype, px[i])) {
            p->too_narrow = true;
            snprintf(p->reason, sizeof p->reason, "sample %s holds %g, which %s cannot store exactly; use float32 or auto",
                     ds->samples[b->indices[i / values]].path, px[i], gs_cache_dtype_name(p->dtype));
            return false;
        }
        if (p->dtype == GS_CACHE_UINT8) ((uint8_t *)p->buf)[i] = (uint8_t)px[i];
        if (p->dtype == GS_CACHE_UINT16) ((uint16_t *)p->buf)[i] = (uint16_t)px[i];
    }
    const void *data = p->dtype == GS_CACHE_FLOAT32 ? (const void *)px : p->buf;
    if (!reserve(p, gs_h5_end(p->file) + (uint64_t)b->n * sample_bytes(p) + RESERVE_SLACK, "writing pixels")) return false;
    if (!write_rows(p, p->pixels, gs_h5_pixel_native(p->dtype), p->written, b->n, data, "writing pixels")) return false;
    if (p->masks >= 0) {
        const int32_t *m = b->views[0].masks;
        int32_t lo = p->mask_bytes == 1 ? INT8_MIN : p->mask_bytes == 2 ? INT16_MIN : INT32_MIN;
        int32_t hi = p->mask_bytes == 1 ? INT8_MAX : p->mask_bytes == 2 ? INT16_MAX : INT32_MAX;
        for (int64_t i = 0; i < b->n * plane; i++) {
            if (m[i] < lo || m[i] > hi) {
                snprintf(p->reason, sizeof p->reason, "mask of %s holds class %d, outside %d classes",
                         ds->samples[b->indices[i / plane]].path, m[i], ds->n_classes);
                return false;
            }
            if (p->mask_bytes == 1) ((int8_t *)p->buf)[i] = (int8_t)m[i];
            if (p->mask_bytes == 2) ((int16_t *)p->buf)[i] = (int16_t)m[i];
        }
        if (!write_rows(p, p->masks, gs_h5_mask_native(p->mask_bytes), p->written, b->n, p->mask_bytes == 4 ? (const void *)m : p->buf,
                        "writing masks"))
            return false;
    }
    int dates = ds->dates > 0 ? ds->dates : 1;
    for (int i = 0; i < b->n; i++) {
        const gs_sample *s = &ds->samples[b->indices[i]];
        p->source_index[p->written + i] = b->indices[i];
        if (!p->any_train || s->split == GS_SPLIT_TRAIN) gs_stats_add(&p->acc, px + i * values, dates, plane, s->stem);
    }
    p->written += b->n;
    return true;
}

static bool write_metadata(packer *p, const gs_source_fingerprint *fp) {
    const gs_dataset *ds = p->src;
    int64_t n = p->written;
    hsize_t dims[5] = {(hsize_t)n, (hsize_t)(ds->dates > 0 ? ds->dates : 1), (hsize_t)ds->bands, (hsize_t)ds->height,
                       (hsize_t)ds->width};
    if (h5_failed(p, H5Dset_extent(p->pixels, dims), "resizing pixels")) return false;
    hsize_t mdims[3] = {(hsize_t)n, (hsize_t)ds->height, (hsize_t)ds->width};
    if (p->masks >= 0 && h5_failed(p, H5Dset_extent(p->masks, mdims), "resizing masks")) return false;
    /* The table's space: the fixed columns, the string columns (fixed
     * width: every entry as wide as the longest), class names, and slack;
     * what is not used is trimmed after the file is closed. */
    uint64_t stem_w = 1, path_w = 1, name_w = 1;
    for (int64_t i = 0; i < n; i++) {
        const gs_sample *s = &ds->samples[p->source_index[i]];
        if (strlen(s->stem) + 1 > stem_w) stem_w = strlen(s->stem) + 1;
        if (strlen(s->path) + 1 > path_w) path_w = strlen(s->path) + 1;
    }
    for (int c = 0; c < ds->n_classes; c++)
        if (strlen(ds->class_names[c]) + 1 > name_w) name_w = strlen(ds->class_names[c]) + 1;
    if (!reserve(p, gs_h5_end(p->file) + (uint64_t)n * (64 + stem_w + path_w) + (uint64_t)ds->n_classes * name_w +
                        RESERVE_SLACK,
                 "writing the sample table"))
        return false;
    int32_t *i32 = malloc((size_t)n * sizeof *i32);
    int64_t *i64 = malloc((size_t)n * sizeof *i64);
    const char **stems = malloc((size_t)n * sizeof *stems), **paths = malloc((size_t)n * sizeof *paths);
    bool ok = i32 && i64 && stems && paths;
    if (!ok) snprintf(p->reason, sizeof p->reason, "out of memory for the sample table");
    size_t root_len = strlen(ds->root);
#define COLUMN(name, ftype, mtype, buf, expr)                                          \
    for (int64_t i = 0; ok && i < n; i++) {                                            \
        const gs_sample *s = &ds->samples[p->source_index[i]];                        \
        (void)s;                                                                        \
        buf[i] = expr;                                                                  \
    }                                                                                   \
    ok = ok && !h5_failed(p, gs_h5_write_column(p->file, name, ftype, mtype, n, buf) ? 0 : -1, name)
    COLUMN("label", H5T_STD_I32LE, H5T_NATIVE_INT32, i32, s->label);
    COLUMN("split", H5T_STD_I32LE, H5T_NATIVE_INT32, i32, s->split);
    COLUMN("group", H5T_STD_I32LE, H5T_NATIVE_INT32, i32, s->group);
    COLUMN("x", H5T_STD_I64LE, H5T_NATIVE_INT64, i64, s->x);
    COLUMN("y", H5T_STD_I64LE, H5T_NATIVE_INT64, i64, s->y);
    COLUMN("labels", H5T_STD_U64LE, H5T_NATIVE_UINT64, ((uint64_t *)i64), s->labels);
    COLUMN("source_index", H5T_STD_I64LE, H5T_NATIVE_INT64, i64, p->source_index[i]);
#undef COLUMN
    for (int64_t i = 0; ok && i < n; i++) {
        const gs_sample *s = &ds->samples[p->source_index[i]];
        stems[i] = s->stem;
        bool inside = !strncmp(s->path, ds->root, root_len) && s->path[root_len] == '/';
        paths[i] = inside ? s->path + root_len + 1 : s->path;
    }
    ok = ok && !h5_failed(p, gs_h5_write_strings(p->file, "stem", stems, n) ? 0 : -1, "stem") &&
         !h5_failed(p, gs_h5_write_strings(p->file, "path", paths, n) ? 0 : -1, "path");
    free(i32);
    free(i64);
    free(stems);
    free(paths);
    if (!ok) return false;
    const char *names[GS_MAX_BANDS];
    float wl[GS_MAX_BANDS], res[GS_MAX_BANDS];
    for (int b = 0; b < ds->bands; b++) {
        names[b] = ds->band_info[b].name;
        wl[b] = ds->band_info[b].wavelength_nm;
        res[b] = ds->band_info[b].resolution_m;
    }
    int64_t options[5] = {ds->options.patch_size, ds->options.stride, ds->options.eroded_labels, ds->options.bigearthnet19,
                          ds->options.dates};
    int64_t shape[6] = {ds->task, ds->n_classes, ds->bands, ds->dates > 0 ? ds->dates : 1, ds->height, ds->width};
    int64_t version = GS_CACHE_FORMAT_VERSION, skipped = ds->n_samples - n;
    int64_t fpv[3] = {fp->files, fp->bytes, fp->newest_mtime_ns};
    ok = (ds->n_classes == 0 ||
          gs_h5_write_strings(p->file, "class_names", (const char *const *)ds->class_names, ds->n_classes)) &&
         gs_h5_write_strings(p->file, "band_name", names, ds->bands) &&
         gs_h5_write_column(p->file, "band_wavelength_nm", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, ds->bands, wl) &&
         gs_h5_write_column(p->file, "band_resolution_m", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, ds->bands, res) &&
         gs_h5_write_i64_attr(p->file, "geossl_cache_format", 1, &version) &&
         gs_h5_write_string_attr(p->file, "source_format", ds->format->name) &&
         gs_h5_write_string_attr(p->file, "source_root", ds->root) &&
         gs_h5_write_i64_attr(p->file, "options", 5, options) && gs_h5_write_i64_attr(p->file, "shape", 6, shape) &&
         gs_h5_write_i64_attr(p->file, "source_samples", 1, &ds->n_samples) &&
         gs_h5_write_i64_attr(p->file, "skipped", 1, &skipped) &&
         gs_h5_write_i64_attr(p->file, "source_fingerprint", 3, fpv);
    if (ok && p->acc.samples > 0) {
        gs_band_stats stats;
        gs_stats_end(&p->acc, &stats);
        ok = gs_h5_write_stats(p->file, &stats);
    }
    return !h5_failed(p, ok ? 0 : -1, "writing the sample table");
}

static void progress_line(packer *p, const struct timespec *t0, int64_t done, int64_t total) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double s = gs_seconds_between(t0, &now);
    fprintf(p->opt->progress, "cache: %lld/%lld samples, %.0f samples/s\n", (long long)done, (long long)total,
            s > 0 ? done / s : 0.0);
}

/* One attempt at packing with p->dtype into tmp. */
static gs_status pack(packer *p, const char *tmp, const char *path, const gs_source_fingerprint *fp, gs_error *err) {
    const gs_dataset *ds = p->src;
    hsize_t dims[5] = {(hsize_t)ds->n_samples, (hsize_t)(ds->dates > 0 ? ds->dates : 1), (hsize_t)ds->bands,
                       (hsize_t)ds->height, (hsize_t)ds->width};
    hsize_t mdims[3] = {(hsize_t)ds->n_samples, (hsize_t)ds->height, (hsize_t)ds->width};
    hid_t ptype = p->dtype == GS_CACHE_UINT8 ? H5T_STD_U8LE : p->dtype == GS_CACHE_UINT16 ? H5T_STD_U16LE : H5T_IEEE_F32LE;
    hid_t mtype = p->mask_bytes == 1 ? H5T_STD_I8LE : p->mask_bytes == 2 ? H5T_STD_I16LE : H5T_STD_I32LE;
    p->pixels = p->masks = -1;
    /* The pixels' space is reserved first: a full disk is found now, not
     * after decoding every sample, and libhdf5 never writes into space
     * that is not there (io/h5_file.h). */
    uint64_t pixel_bytes = (uint64_t)ds->n_samples * sample_bytes(p);
    int space = gs_space_check(tmp, GS_DIGEST_BLOCK + pixel_bytes + RESERVE_SLACK);
    if (space)
        return gs_error_set(err, GS_ERR_IO, "cannot write cache %s: its pixels need %.1f MB: %s", path,
                            (double)pixel_bytes / 1e6, strerror(space));
    p->file = gs_h5_create(tmp);
    bool ok = !h5_failed(p, p->file, "creating the file") &&
              reserve(p, GS_DIGEST_BLOCK + pixel_bytes + RESERVE_SLACK, "reserving space for the pixels") &&
              (p->pixels = create_chunked(p, "pixels", ptype, 5, dims)) >= 0 &&
              (ds->task != GS_TASK_SEGMENTATION || (p->masks = create_chunked(p, "masks", mtype, 3, mdims)) >= 0);
    gs_loader_config cfg = {.dataset = ds, .batch_size = 16, .workers = p->opt->workers > 0 ? p->opt->workers : 1,
                            .epochs = 1, .skip_bad = p->opt->skip_bad};
    gs_loader *loader = NULL;
    gs_status st = ok ? gs_loader_create(&cfg, &loader, err) : GS_OK;
    gs_stats_begin(&p->acc, ds->bands);
    p->written = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t step = ds->n_samples / 20 + 1, seen = 0;
    const gs_batch *b;
    while (ok && st == GS_OK && (st = gs_loader_next(loader, &b, err)) == GS_OK && b) {
        ok = write_batch(p, b);
        int64_t before = seen;
        seen += b->n + b->skipped;
        if (p->opt->progress && seen / step != before / step) progress_line(p, &t0, seen, ds->n_samples);
    }
    gs_loader_destroy(loader);
    if (ok && st == GS_OK && p->written == 0)
        st = gs_error_set(err, GS_ERR_FORMAT, "no readable sample in %s: nothing to cache", ds->root);
    if (ok && st == GS_OK) ok = write_metadata(p, fp);
    char why[200] = "";
    if (ok && st == GS_OK && !gs_h5_flush_kept(p->file, why, sizeof why)) {
        if (why[0] && !p->reason[0]) snprintf(p->reason, sizeof p->reason, "flushing: %s", why);
        ok = !h5_failed(p, -1, "flushing");
    }
    /* A file that will be deleted (a loader error, a value the type cannot
     * hold) is not flushed by the closes either. */
    if (p->file >= 0 && (!ok || st != GS_OK)) gs_h5_abandon(p->file);
    /* Each handle closed once; the file last, since its close writes
     * whatever the datasets' closes left cached. */
    if (p->pixels >= 0) ok = !h5_failed(p, H5Dclose(p->pixels), "closing pixels") && ok;
    if (p->masks >= 0) ok = !h5_failed(p, H5Dclose(p->masks), "closing masks") && ok;
    p->pixels = p->masks = -1;
    if (p->file >= 0) {
        herr_t closed = H5Fclose(p->file);
        p->file = -1;
        ok = !h5_failed(p, closed, "closing") && ok;
    }
    if (st == GS_OK && !ok && !p->too_narrow)
        st = gs_error_set(err, GS_ERR_IO, "cannot write cache %s: %s", path, p->reason);
    return st;
}

gs_status gs_cache_build(const gs_dataset *src, const char *path, const gs_cache_options *opt, gs_cache_report *report,
                         gs_error *err) {
    gs_cache_options defaults = {0};
    gs_cache_report local;
    if (!opt) opt = &defaults;
    if (!report) report = &local;
    memset(report, 0, sizeof *report);
    if (!src || !src->format || !src->format->name || !src->root || src->n_samples <= 0)
        return gs_error_set(err, GS_ERR_ARGUMENT, "cache %s: no open dataset to pack", path);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gs_source_fingerprint fp;
    gs_status st = gs_source_fingerprint_compute(src, &fp, err);
    if (st != GS_OK) return st;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if ((st = gs_cache_make_dir(dir, err)) != GS_OK) return st;
    }
    packer p = {.src = src, .opt = opt, .file = -1, .pixels = -1, .masks = -1};
    p.mask_bytes = src->n_classes <= INT8_MAX ? 1 : src->n_classes <= INT16_MAX ? 2 : 4;
    for (int64_t i = 0; i < src->n_samples; i++) p.any_train |= src->samples[i].split == GS_SPLIT_TRAIN;
    /* One 16-sample batch of converted values (the loader's batch size). */
    int64_t batch_values = 16 * (gs_dataset_sample_floats(src) > src->height * src->width ? gs_dataset_sample_floats(src)
                                                                                           : src->height * src->width);
    p.buf = malloc((size_t)batch_values * sizeof(int32_t));
    p.source_index = malloc((size_t)src->n_samples * sizeof *p.source_index);
    if (!p.buf || !p.source_index) {
        free(p.buf);
        free(p.source_index);
        return gs_error_set(err, GS_ERR_MEMORY, "out of memory packing %s", path);
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    bool tmp_created = fd >= 0;
    if (!tmp_created) st = gs_error_set(err, GS_ERR_IO, "cannot write cache %s: %s", path, strerror(errno));
    else {
        (void)fchmod(fd, 0644); /* mkstemp's 0600 would hide the cache from other users */
        close(fd);
    }
    gs_h5_quiet quiet = gs_h5_silence();
    /* auto: the narrowest type first; a value it cannot hold exactly
     * (found in the first batches for real data) moves to the next. */
    gs_cache_dtype first = opt->dtype == GS_CACHE_AUTO ? GS_CACHE_UINT8 : opt->dtype;
    for (p.dtype = first; st == GS_OK; p.dtype++) {
        p.too_narrow = false;
        p.reason[0] = '\0';
        st = pack(&p, tmp, path, &fp, err);
        if (st != GS_OK || !p.too_narrow) break;
        if (opt->dtype != GS_CACHE_AUTO) {
            st = gs_error_set(err, GS_ERR_ARGUMENT, "cannot cache %s as %s: %s", path, gs_cache_dtype_name(opt->dtype),
                              p.reason);
            break;
        }
    }
    gs_h5_restore(quiet);
    if (st == GS_OK) {
        st = gs_h5_commit(tmp, path, err); /* trim, digest header, fsync, rename; removes tmp when it fails */
        tmp_created = false;
    }
    if (st != GS_OK && tmp_created) unlink(tmp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    report->samples = p.written;
    report->skipped = src->n_samples - p.written;
    report->dtype = p.dtype;
    report->built = true;
    report->seconds = gs_seconds_between(&t0, &t1);
    if (st == GS_OK && opt->progress)
        fprintf(opt->progress, "cache %s: %lld samples as %s (%lld skipped) in %.1f s\n", path, (long long)p.written,
                gs_cache_dtype_name(p.dtype), (long long)report->skipped, report->seconds);
    free(p.buf);
    free(p.source_index);
    return st;
}
