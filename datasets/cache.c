#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_h5.h"
#include "io/file_digest.h"
#include "stats.h"

/* What an open cache keeps; ds->state.  Its format struct is the dataset's
 * format: same name as the source's, read() served from the file. */
typedef struct cache_state {
    char *path;
    hid_t file, pixels, masks;
    gs_cache_dtype dtype;
    int mask_bytes;
    int64_t sample_values, plane;
    pthread_mutex_t mu; /* serializes this handle's HDF5 calls; guards lock */
    gs_cache_lock_stats lock;
    bool has_stats;
    gs_band_stats stats;
    gs_source_fingerprint fp;
    int64_t source_samples;
    bool raw_pixels, raw_masks; /* one native-order chunk per sample: read chunks directly */
    gs_dataset_format format;
    char format_name[64];
} cache_state;

static gs_status cache_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err);

const char *gs_cache_dtype_name(gs_cache_dtype t) {
    switch (t) {
    case GS_CACHE_UINT8: return "uint8";
    case GS_CACHE_UINT16: return "uint16";
    case GS_CACHE_FLOAT32: return "float32";
    default: return "auto";
    }
}

bool gs_cache_is(const gs_dataset *ds) { return ds && ds->format && ds->format->read == cache_read && ds->state; }

bool gs_cache_stats(const gs_dataset *ds, gs_band_stats *out) {
    if (!gs_cache_is(ds) || !((cache_state *)ds->state)->has_stats) return false;
    *out = ((cache_state *)ds->state)->stats;
    return true;
}

bool gs_cache_source_fingerprint(const gs_dataset *ds, gs_source_fingerprint *out) {
    if (!gs_cache_is(ds)) return false;
    *out = ((cache_state *)ds->state)->fp;
    return true;
}

const char *gs_cache_file(const gs_dataset *ds) { return gs_cache_is(ds) ? ((cache_state *)ds->state)->path : NULL; }

gs_cache_dtype gs_cache_pixel_type(const gs_dataset *ds) {
    return gs_cache_is(ds) ? ((cache_state *)ds->state)->dtype : GS_CACHE_AUTO;
}

bool gs_cache_lock_stats_get(const gs_dataset *ds, gs_cache_lock_stats *out) {
    if (!gs_cache_is(ds)) return false;
    cache_state *c = ds->state;
    pthread_mutex_lock(&c->mu);
    *out = c->lock;
    pthread_mutex_unlock(&c->mu);
    return true;
}

bool gs_cache_hdf5_threadsafe(void) {
    hbool_t ts = 0;
    return H5is_library_threadsafe(&ts) >= 0 && ts;
}

void gs_cache_path(const gs_dataset *src, const char *dir, char *buf, size_t size) {
    snprintf(buf, size, "%s/%s-%016" PRIx64 ".h5", dir, src->format->name, gs_dataset_key(src));
}

/* ---- reading ---------------------------------------------------------- */


/* One sample (the first dimension) of dset into buf: the raw chunk when
 * the layout allows (about half the time of a hyperslab read: 7 instead of
 * 12 us per 64x64x3 sample here), else a hyperslab read (a cache whose
 * chunks were changed, e.g. rewritten by h5py). */
static bool read_sample(hid_t dset, bool raw_chunk, int64_t index, hid_t mem_type, void *buf) {
    if (raw_chunk) {
        hsize_t offset[H5S_MAX_RANK] = {(hsize_t)index};
        uint32_t filters = 0;
        return H5Dread_chunk(dset, H5P_DEFAULT, offset, &filters, buf) >= 0 && filters == 0;
    }
    hid_t fspace = H5Dget_space(dset);
    if (fspace < 0) return false;
    hsize_t start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
    int ndims = H5Sget_simple_extent_dims(fspace, count, NULL);
    bool ok = false;
    if (ndims >= 1) {
        start[0] = (hsize_t)index;
        count[0] = 1;
        hid_t mspace = H5Screate_simple(ndims, count, NULL);
        ok = mspace >= 0 && H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dread(dset, mem_type, mspace, fspace, H5P_DEFAULT, buf) >= 0;
        if (mspace >= 0) H5Sclose(mspace);
    }
    H5Sclose(fspace);
    return ok;
}


static gs_status cache_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    cache_state *c = ds->state;
    if (index < 0 || index >= ds->n_samples)
        return gs_error_set(err, GS_ERR_ARGUMENT, "cache %s: no sample %lld", c->path, (long long)index);
    /* Raw reads into a private buffer, so the lock covers only the I/O. */
    void *raw = c->dtype == GS_CACHE_FLOAT32 ? (void *)out->pixels : malloc((size_t)(c->sample_values * gs_h5_dtype_bytes(c->dtype)));
    bool want_mask = c->masks >= 0 && out->mask;
    void *mraw = !want_mask ? NULL : c->mask_bytes == 4 ? (void *)out->mask : malloc((size_t)(c->plane * c->mask_bytes));
    if (!raw || (want_mask && !mraw)) {
        if (raw != out->pixels) free(raw);
        if (mraw != out->mask) free(mraw);
        return gs_error_set(err, GS_ERR_MEMORY, "cache %s: out of memory reading sample %lld", c->path, (long long)index);
    }
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&c->mu);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    gs_h5_quiet quiet = gs_h5_silence();
    bool ok = read_sample(c->pixels, c->raw_pixels, index, gs_h5_pixel_native(c->dtype), raw) &&
              (!want_mask || read_sample(c->masks, c->raw_masks, index, gs_h5_mask_native(c->mask_bytes), mraw));
    gs_h5_restore(quiet);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    c->lock.reads++;
    c->lock.wait_s += gs_seconds_between(&t0, &t1);
    c->lock.held_s += gs_seconds_between(&t1, &t2);
    pthread_mutex_unlock(&c->mu);
    if (ok && c->dtype == GS_CACHE_UINT8)
        for (int64_t i = 0; i < c->sample_values; i++) out->pixels[i] = ((const uint8_t *)raw)[i];
    if (ok && c->dtype == GS_CACHE_UINT16)
        for (int64_t i = 0; i < c->sample_values; i++) out->pixels[i] = ((const uint16_t *)raw)[i];
    if (ok && want_mask && c->mask_bytes == 1)
        for (int64_t i = 0; i < c->plane; i++) out->mask[i] = ((const int8_t *)mraw)[i];
    if (ok && want_mask && c->mask_bytes == 2)
        for (int64_t i = 0; i < c->plane; i++) out->mask[i] = ((const int16_t *)mraw)[i];
    if (raw != out->pixels) free(raw);
    if (mraw != out->mask) free(mraw);
    if (!ok)
        return gs_error_set(err, GS_ERR_FORMAT,
                            "cache %s: cannot read sample %lld (%s): the file is truncated or corrupt; delete it to "
                            "rebuild",
                            c->path, (long long)index, ds->samples[index].stem);
    return GS_OK;
}

static void cache_close(gs_dataset *ds) {
    cache_state *c = ds->state;
    if (!c) return;
    if (c->pixels >= 0) H5Dclose(c->pixels);
    if (c->masks >= 0) H5Dclose(c->masks);
    if (c->file >= 0) H5Fclose(c->file);
    pthread_mutex_destroy(&c->mu);
    free(c->path);
    free(c);
    ds->state = NULL;
    ds->format = NULL; /* it lived in the state */
}

/* Fills ds from the open file; the reason for a failure in *bad. */
static bool load_metadata(hid_t f, cache_state *c, gs_dataset *ds, const char **bad) {
    int64_t v[8];
    char *text = NULL;
#define NEED(cond, why)      \
    do {                     \
        if (!(cond)) {       \
            *bad = why;      \
            return false;    \
        }                    \
    } while (0)
    NEED((text = gs_h5_read_string_attr(f, "source_format")), "no source_format");
    snprintf(c->format_name, sizeof c->format_name, "%s", text);
    free(text);
    NEED((ds->root = gs_h5_read_string_attr(f, "source_root")), "no source_root");
    NEED(gs_h5_read_i64_attr(f, "options", 5, v), "no options");
    ds->options = (gs_dataset_options){.patch_size = (int)v[0], .stride = (int)v[1], .eroded_labels = v[2] != 0,
                                       .bigearthnet19 = v[3] != 0, .dates = (int)v[4]};
    NEED(gs_h5_read_i64_attr(f, "shape", 6, v), "no shape");
    ds->task = (gs_task)v[0];
    ds->n_classes = (int)v[1];
    ds->bands = (int)v[2];
    ds->dates = (int)v[3];
    ds->height = v[4];
    ds->width = v[5];
    NEED(ds->task >= GS_TASK_CLASSIFICATION && ds->task <= GS_TASK_UNLABELED && ds->n_classes >= 0 &&
             ds->n_classes < 100000 && ds->bands >= 1 && ds->bands <= GS_MAX_BANDS && ds->dates >= 1 && ds->height >= 1 &&
             ds->width >= 1,
         "shape attribute out of range");
    NEED(gs_h5_read_i64_attr(f, "source_samples", 1, &c->source_samples), "no source_samples");
    NEED(gs_h5_read_i64_attr(f, "source_fingerprint", 3, v), "no source_fingerprint");
    c->fp = (gs_source_fingerprint){v[0], v[1], v[2]};

    hsize_t dims[5];
    int type_class, type_bytes;
    NEED(gs_h5_dataset_shape(f, "pixels", 5, dims, &type_class, &type_bytes), "bad pixels dataset");
    NEED(dims[1] == (hsize_t)ds->dates && dims[2] == (hsize_t)ds->bands && dims[3] == (hsize_t)ds->height &&
             dims[4] == (hsize_t)ds->width && dims[0] >= 1,
         "pixels shape does not match the attributes");
    c->dtype = type_class == H5T_FLOAT && type_bytes == 4   ? GS_CACHE_FLOAT32
               : type_class == H5T_INTEGER && type_bytes == 1 ? GS_CACHE_UINT8
               : type_class == H5T_INTEGER && type_bytes == 2 ? GS_CACHE_UINT16
                                                             : GS_CACHE_AUTO;
    NEED(c->dtype != GS_CACHE_AUTO, "pixels of an unknown type");
    int64_t n = (int64_t)dims[0];
    /* Every sample's pixels are stored unfiltered, so they fit in the file:
     * bounds the sample count before the tables are allocated (in double,
     * which cannot overflow here). */
    NEED((double)n * (double)ds->dates * (double)ds->bands * (double)ds->height * (double)ds->width *
                 (double)type_bytes <=
             (double)INT64_MAX &&
             gs_h5_fits_in_file(f, (uint64_t)n * (uint64_t)ds->dates * (uint64_t)ds->bands * (uint64_t)ds->height *
                                       (uint64_t)ds->width * (uint64_t)type_bytes),
         "more pixels declared than the file holds");
    c->plane = ds->height * ds->width;
    c->sample_values = (int64_t)ds->dates * ds->bands * c->plane;
    if (ds->task == GS_TASK_SEGMENTATION) {
        hsize_t mdims[3];
        NEED(gs_h5_dataset_shape(f, "masks", 3, mdims, &type_class, &c->mask_bytes), "bad masks dataset");
        NEED(mdims[0] == (hsize_t)n && mdims[1] == (hsize_t)ds->height && mdims[2] == (hsize_t)ds->width &&
                 type_class == H5T_INTEGER && (c->mask_bytes == 1 || c->mask_bytes == 2 || c->mask_bytes == 4),
             "masks shape does not match the pixels");
    }

    ds->samples = calloc((size_t)n, sizeof *ds->samples);
    int32_t *i32 = malloc((size_t)n * sizeof *i32);
    int64_t *i64 = malloc((size_t)n * sizeof *i64);
    char **stems = NULL, **paths = NULL;
    bool ok = ds->samples && i32 && i64;
    if (ok) ds->n_samples = ds->capacity = n;
    for (int64_t i = 0; ok && i < n; i++) ds->samples[i].group = -1;
#define COLUMN(name, type, buf, field)                                                                \
    if (ok && !(ok = gs_h5_read_column(f, name, type, n, buf))) *bad = "bad '" name "' column";  \
    for (int64_t i = 0; ok && i < n; i++) ds->samples[i].field = buf[i]
    COLUMN("label", H5T_NATIVE_INT32, i32, label);
    COLUMN("split", H5T_NATIVE_INT32, i32, split);
    COLUMN("group", H5T_NATIVE_INT32, i32, group);
    COLUMN("x", H5T_NATIVE_INT64, i64, x);
    COLUMN("y", H5T_NATIVE_INT64, i64, y);
    COLUMN("labels", H5T_NATIVE_UINT64, ((uint64_t *)i64), labels);
#undef COLUMN
    if (ok && !(ok = (stems = gs_h5_read_strings(f, "stem", n)) && (paths = gs_h5_read_strings(f, "path", n))))
        *bad = "bad stem or path column";
    for (int64_t i = 0; ok && i < n; i++) {
        ds->samples[i].stem = stems[i];
        stems[i] = NULL;
        if (paths[i][0] == '/') {
            ds->samples[i].path = paths[i];
            paths[i] = NULL;
        } else {
            size_t len = strlen(ds->root) + strlen(paths[i]) + 2;
            if (!(ds->samples[i].path = malloc(len))) ok = false, *bad = "out of memory";
            else snprintf(ds->samples[i].path, len, "%s/%s", ds->root, paths[i]);
        }
    }
    gs_h5_free_strings(stems, n);
    gs_h5_free_strings(paths, n);
    free(i32);
    free(i64);
    if (!ok) {
        if (!*bad) *bad = "out of memory";
        return false;
    }
    if (ds->n_classes > 0) {
        char **names = gs_h5_read_strings(f, "class_names", ds->n_classes);
        NEED(names, "bad class_names");
        ds->class_names = names;
    }
    char **band_names = gs_h5_read_strings(f, "band_name", ds->bands);
    float wl[GS_MAX_BANDS], res[GS_MAX_BANDS];
    ok = band_names && gs_h5_read_column(f, "band_wavelength_nm", H5T_NATIVE_FLOAT, ds->bands, wl) &&
         gs_h5_read_column(f, "band_resolution_m", H5T_NATIVE_FLOAT, ds->bands, res);
    for (int b = 0; ok && b < ds->bands; b++) {
        snprintf(ds->band_info[b].name, sizeof ds->band_info[b].name, "%s", band_names[b]);
        ds->band_info[b].wavelength_nm = wl[b];
        ds->band_info[b].resolution_m = res[b];
    }
    gs_h5_free_strings(band_names, ds->bands);
    NEED(ok, "bad band information");
    c->has_stats = gs_h5_read_stats(f, ds->bands, &c->stats);
    return true;
#undef NEED
}

/* Labels index per-class arrays (protocols, metrics, splits): a value the
 * class count does not cover, as a damaged or hand-edited cache can hold,
 * would be read out of bounds there, so it is refused here, naming the
 * sample.  Classification samples hold 0..n_classes-1 (or the ignore
 * label); multi-label samples no bit at or above n_classes.  The other
 * tasks do not read these fields, so whatever they hold is left alone. */
static gs_status check_cache_labels(const gs_dataset *ds, const char *path, gs_error *err) {
    for (int64_t i = 0; i < ds->n_samples; i++) {
        const gs_sample *s = &ds->samples[i];
        bool label_ok = ds->task != GS_TASK_CLASSIFICATION || s->label == GS_IGNORE_LABEL ||
                        (s->label >= 0 && s->label < ds->n_classes);
        bool bits_ok = ds->task != GS_TASK_MULTILABEL || ds->n_classes >= 64 || (s->labels >> ds->n_classes) == 0;
        if (!label_ok || !bits_ok)
            return gs_error_set(err, GS_ERR_FORMAT,
                                "cache %s is corrupt: sample %lld (%s) has label %ld (label bits 0x%llx) but the "
                                "dataset has %d classes; delete it to rebuild",
                                path, (long long)i, s->stem ? s->stem : "?", (long)s->label,
                                (unsigned long long)s->labels, ds->n_classes);
    }
    return GS_OK;
}

/* The refusal for a file that failed its digest check. */
static gs_status unverified(const char *path, const gs_digest_check *d, gs_error *err) {
    if (d->state == GS_DIGEST_UNREADABLE) return gs_error_set(err, GS_ERR_IO, "cannot read cache %s: %s", path, d->detail);
    if (d->state == GS_DIGEST_MISMATCH)
        return gs_error_set(err, GS_ERR_FORMAT,
                            "cache %s is corrupt or was modified after geossl wrote it (%s), so it is not read; delete it "
                            "to rebuild",
                            path, d->detail);
    if (d->hdf5)
        return gs_error_set(err, GS_ERR_FORMAT,
                            "cache %s carries no digest (built by a geossl older than this one, or not a geossl cache) "
                            "and is not opened unverified; it is left alone: delete it, or run geossl data cache with "
                            "--rebuild, to rebuild it",
                            path);
    return gs_error_set(err, GS_ERR_FORMAT,
                        "cache %s is not a readable geossl cache (%s; truncated or corrupt?); delete it to rebuild", path,
                        d->detail);
}

static gs_status open_verified(const char *path, gs_dataset *out, gs_error *err);

gs_status gs_cache_open(const char *path, gs_dataset *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0) return gs_error_set(err, GS_ERR_IO, "cannot open cache %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return gs_error_set(err, GS_ERR_IO, "cache %s is not a file", path);
    /* libhdf5 is not hardened against damaged files: it sees only verified ones. */
    gs_digest_check d = gs_file_digest_verify(path);
    if (d.state != GS_DIGEST_VALID) return unverified(path, &d, err);
    return open_verified(path, out, err);
}

static gs_status open_verified(const char *path, gs_dataset *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0) return gs_error_set(err, GS_ERR_IO, "cannot open cache %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return gs_error_set(err, GS_ERR_IO, "cache %s is not a file", path);
    cache_state *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return gs_error_set(err, GS_ERR_MEMORY, "out of memory opening cache %s", path);
    }
    c->file = c->pixels = c->masks = -1;
    pthread_mutex_init(&c->mu, NULL);
    c->format.name = c->format_name;
    c->format.summary = "HDF5 cache of this format";
    c->format.read = cache_read;
    c->format.close = cache_close;
    c->format.stored_stats = gs_cache_stats;
    c->format.stored_fingerprint = gs_cache_source_fingerprint;
    out->format = &c->format;
    out->state = c;

    gs_h5_quiet quiet = gs_h5_silence();
    gs_status status = GS_OK;
    const char *bad = NULL;
    int64_t version = 0;
    c->file = gs_h5_open_read(path);
    if (c->file < 0) {
        status = gs_error_set(err, GS_ERR_FORMAT,
                              "cache %s is not a readable HDF5 file (truncated or corrupt?); delete it to rebuild", path);
    } else if (!gs_h5_read_i64_attr(c->file, "geossl_cache_format", 1, &version)) {
        status = gs_error_set(err, GS_ERR_FORMAT,
                              "%s is an HDF5 file but not a geossl cache (no geossl_cache_format attribute); it is "
                              "left alone: pass another cache path",
                              path);
    } else if (version != GS_CACHE_FORMAT_VERSION) {
        status = gs_error_set(err, GS_ERR_FORMAT, "cache %s has format version %lld, this geossl reads %d; delete it to rebuild",
                              path, (long long)version, GS_CACHE_FORMAT_VERSION);
    } else if (!load_metadata(c->file, c, out, &bad)) {
        status = gs_error_set(err, GS_ERR_FORMAT, "cache %s is corrupt: %s; delete it to rebuild", path, bad);
    } else if (check_cache_labels(out, path, err) != GS_OK) {
        status = err->status;
    } else {
        hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
        /* Each chunk is read once per epoch: no chunk cache, reads go
         * straight into the caller's buffer. */
        if (dapl >= 0) H5Pset_chunk_cache(dapl, 0, 0, 1.0);
        c->pixels = H5Dopen2(c->file, "pixels", dapl >= 0 ? dapl : H5P_DEFAULT);
        if (out->task == GS_TASK_SEGMENTATION) c->masks = H5Dopen2(c->file, "masks", dapl >= 0 ? dapl : H5P_DEFAULT);
        if (dapl >= 0) H5Pclose(dapl);
        if (c->pixels < 0 || (out->task == GS_TASK_SEGMENTATION && c->masks < 0))
            status = gs_error_set(err, GS_ERR_FORMAT, "cache %s is corrupt: cannot open its pixels; delete it to rebuild", path);
        c->raw_pixels = c->pixels >= 0 && gs_h5_sample_chunks(c->pixels, gs_h5_pixel_native(c->dtype));
        c->raw_masks = c->masks >= 0 && gs_h5_sample_chunks(c->masks, gs_h5_mask_native(c->mask_bytes));
    }
    gs_h5_restore(quiet);
    if (status != GS_OK) gs_dataset_close(out);
    return status;
}

/* ---- build or reuse ----------------------------------------------------- */

/* True when path is where gs_cache_path puts src's cache in path's folder:
 * a file geossl named, not one the user pointed --out at. */
static bool is_own_name(const gs_dataset *src, const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return false;
    char dir[4096], own[4200];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    gs_cache_path(src, dir, own, sizeof own);
    return !strcmp(own, path);
}

static bool same_options(const gs_dataset_options *a, const gs_dataset_options *b) {
    return a->patch_size == b->patch_size && a->stride == b->stride && a->eroded_labels == b->eroded_labels &&
           a->bigearthnet19 == b->bigearthnet19 && a->dates == b->dates;
}

gs_status gs_cache_use(const gs_dataset *src, const char *path, const gs_cache_options *opt, gs_dataset *out,
                       gs_cache_report *report, gs_error *err) {
    gs_cache_report local;
    if (!report) report = &local;
    memset(report, 0, sizeof *report);
    gs_source_fingerprint fp;
    gs_status st = gs_source_fingerprint_compute(src, &fp, err);
    if (st != GS_OK) return st;
    gs_digest_check d = {.state = GS_DIGEST_VALID};
    bool exists = access(path, F_OK) == 0;
    if (exists) d = gs_file_digest_verify(path);
    /* A cache only saves time: one that is provably geossl's but damaged,
     * or one at geossl's own name for this dataset written before digests,
     * is rebuilt instead of refused.  Anything else is left alone. */
    const char *replace = NULL;
    if (exists && d.state == GS_DIGEST_MISMATCH) replace = "is corrupt or was modified after geossl wrote it";
    if (exists && d.state == GS_DIGEST_MISSING && d.hdf5 && is_own_name(src, path))
        replace = "carries no digest (built by a geossl older than this one)";
    if (replace) {
        if (opt && opt->progress)
            fprintf(opt->progress, "cache %s %s%s%s: rebuilding it\n", path, replace, d.detail[0] ? ", " : "", d.detail);
    } else if (exists) {
        if (d.state != GS_DIGEST_VALID) return unverified(path, &d, err);
        st = open_verified(path, out, err);
        if (st != GS_OK) return st;
        cache_state *c = out->state;
        const char *stale = strcmp(c->format_name, src->format->name)          ? "another format"
                            : strcmp(out->root, src->root)                     ? "another folder"
                            : !same_options(&out->options, &src->options)      ? "other options"
                            : c->source_samples != src->n_samples              ? "a different number of samples"
                            : c->fp.files != fp.files || c->fp.bytes != fp.bytes ||
                                      c->fp.newest_mtime_ns != fp.newest_mtime_ns ? "files that changed since"
                                                                                   : NULL;
        if (!stale) {
            report->samples = out->n_samples;
            report->skipped = c->source_samples - out->n_samples;
            report->dtype = c->dtype;
            return GS_OK;
        }
        if (opt && opt->progress) fprintf(opt->progress, "cache %s was built from %s: rebuilding\n", path, stale);
        gs_dataset_close(out);
    }
    st = gs_cache_build(src, path, opt, report, err);
    if (st == GS_OK) st = gs_cache_open(path, out, err);
    return st;
}
