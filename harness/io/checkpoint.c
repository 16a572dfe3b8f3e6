#include "checkpoint.h"
#include "durable_file.h"
#include "file_digest.h"
#include "h5_file.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FORMAT_ATTR "geossl_checkpoint_format"
#define STEP_ATTR "step"
#define RNG_ATTR "rng_state"
#define ARCH_ATTR "architecture"
/* A dataset, not an attribute: attributes are limited to 64 KiB and a run
 * configuration has no such bound. */
#define CONFIG_DATASET "config"
/* The longest text read back (architecture, configuration): far above any
 * real configuration, far below what a corrupt length field can declare
 * (a mutated checkpoint declared 2.8 GB). */
#define MAX_TEXT_BYTES (16u << 20)
/* Set to 1: checkpoints without a digest (from before digests) are read,
 * with a warning.  Checked on every read, never cached. */
#define TRUST_ENV "GEOSSL_TRUST_CHECKPOINTS_WITHOUT_DIGEST"

/* HDF5 prints its error stack to stderr by default; geossl reports through
 * the context instead, so printing is off for the duration of each call. */
typedef struct h5_quiet {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

static h5_quiet h5_silence(void) {
    h5_quiet q = {0};
    H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

static void h5_restore(h5_quiet q) { H5Eset_auto2(H5E_DEFAULT, q.func, q.data); }

static bool valid_name(const char *name) {
    return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/* ---- saving ---------------------------------------------------------- */

typedef struct writer {
    char reason[256]; /* the first failure, captured before a later call clears HDF5's error stack */
    hid_t file;       /* open for writing; abandoned at the first failure (h5_file.h) */
} writer;

static herr_t innermost_error(unsigned n, const H5E_error2_t *err, void *data) {
    if (n == 0 && err->desc) snprintf(data, 200, "%s", err->desc);
    return 0;
}

/* True (and the reason recorded) when an HDF5 call failed.  The sec2
 * driver's messages embed "error message = '<strerror>'"; that part is the
 * useful one. */
static bool failed(writer *w, int64_t rc, const char *what) {
    if (rc >= 0) return false;
    /* Before any handle is closed: a close would flush into the failure
     * (h5_file.h).  HDF5's error stack, read below, is kept. */
    if (w->file >= 0) gs_h5_abandon(w->file);
    if (w->reason[0]) return true;
    char desc[200] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, desc);
    const char *detail = desc;
    char *msg = strstr(desc, "error message = '");
    if (msg) {
        detail = msg + strlen("error message = '");
        char *end = strchr(detail, '\'');
        if (end) *end = '\0';
    }
    snprintf(w->reason, sizeof w->reason, "%s: %s", what, *detail ? detail : "HDF5 error");
    return true;
}

static bool write_attr(writer *w, hid_t loc, const char *name, hid_t file_type, hid_t mem_type, hsize_t n,
                       const void *data) {
    hid_t space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    if (failed(w, space, name)) return false;
    hid_t attr = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    bool ok = !failed(w, attr, name) && !failed(w, H5Awrite(attr, mem_type, data), name);
    if (attr >= 0) ok = !failed(w, H5Aclose(attr), name) && ok;
    H5Sclose(space);
    return ok;
}

static bool write_string(writer *w, hid_t loc, const char *name, const char *text, bool as_attr) {
    if (!text) text = "";
    hid_t type = H5Tcopy(H5T_C_S1);
    if (failed(w, type, name)) return false;
    hid_t space = -1, obj = -1;
    bool ok = !failed(w, H5Tset_size(type, strlen(text) + 1), name) &&
              !failed(w, H5Tset_strpad(type, H5T_STR_NULLTERM), name) &&
              !failed(w, space = H5Screate(H5S_SCALAR), name);
    if (ok && as_attr) {
        ok = !failed(w, obj = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name) &&
             !failed(w, H5Awrite(obj, type, text), name);
        if (obj >= 0) ok = !failed(w, H5Aclose(obj), name) && ok;
    } else if (ok) {
        ok = !failed(w, obj = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), name) &&
             !failed(w, H5Dwrite(obj, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, text), name);
        if (obj >= 0) ok = !failed(w, H5Dclose(obj), name) && ok;
    }
    if (space >= 0) H5Sclose(space);
    H5Tclose(type);
    return ok;
}

static bool write_tensor(writer *w, hid_t group, const char *group_name, const gs_tensor *t) {
    char what[160];
    snprintf(what, sizeof what, "tensor '%.60s/%.80s'", group_name, t->name);
    hsize_t dims[GS_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) dims[i] = (hsize_t)t->shape[i];
    hid_t space = t->ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(t->ndim, dims, NULL);
    if (failed(w, space, what)) return false;
    hid_t dset = H5Dcreate2(group, t->name, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    bool ok = !failed(w, dset, what);
    if (ok && t->numel > 0) ok = !failed(w, H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data), what);
    if (dset >= 0) ok = !failed(w, H5Dclose(dset), what) && ok;
    H5Sclose(space);
    return ok;
}

static bool write_file(writer *w, const char *tmp, const gs_checkpoint_group *groups, int n_groups,
                       const gs_checkpoint_meta *meta) {
    /* Space for everything before libhdf5 writes any of it (h5_file.h):
     * the tensors, a generous share per tensor for names and headers, the
     * texts; what is not used is trimmed when the file is committed. */
    uint64_t bytes = GS_DIGEST_BLOCK + (1u << 16) + (meta->architecture ? strlen(meta->architecture) : 0) +
                     (meta->config ? strlen(meta->config) : 0);
    for (int g = 0; g < n_groups; g++)
        for (int i = 0; i < groups[g].params->count; i++)
            bytes += (uint64_t)groups[g].params->items[i].tensor->numel * sizeof(float) + 1024;
    int e = gs_space_check(tmp, bytes);
    if (e) {
        snprintf(w->reason, sizeof w->reason, "it needs %.1f MB: %s", (double)bytes / 1e6, strerror(e));
        return false;
    }
    hid_t file = gs_h5_create_sealable(tmp);
    if (failed(w, file, "creating the file")) return false;
    w->file = file;
    e = gs_h5_reserve(file, bytes);
    if (e) {
        snprintf(w->reason, sizeof w->reason, "reserving %.1f MB: %s", (double)bytes / 1e6, strerror(e));
        gs_h5_abandon(file);
        H5Fclose(file);
        w->file = -1;
        return false;
    }

    int version = GS_CHECKPOINT_FORMAT_VERSION;
    bool ok = write_attr(w, file, FORMAT_ATTR, H5T_STD_I32LE, H5T_NATIVE_INT, 1, &version) &&
              write_attr(w, file, STEP_ATTR, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &meta->step) &&
              write_attr(w, file, RNG_ATTR, H5T_STD_U64LE, H5T_NATIVE_UINT64, 4, meta->rng.s) &&
              write_string(w, file, ARCH_ATTR, meta->architecture, true) &&
              write_string(w, file, CONFIG_DATASET, meta->config, false);
    for (int g = 0; ok && g < n_groups; g++) {
        hid_t group = H5Gcreate2(file, groups[g].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        ok = !failed(w, group, groups[g].name);
        const gs_param_list *list = groups[g].params;
        for (int i = 0; ok && i < list->count; i++) ok = write_tensor(w, group, groups[g].name, list->items[i].tensor);
        if (group >= 0) ok = !failed(w, H5Gclose(group), groups[g].name) && ok;
    }
    char why[200] = "";
    if (ok && !gs_h5_flush_kept(file, why, sizeof why)) {
        if (why[0]) snprintf(w->reason, sizeof w->reason, "flushing: %s", why);
        ok = !failed(w, -1, "flushing");
    }
    if (!ok) gs_h5_abandon(file); /* e.g. an argument error: the file is discarded */
    /* Close errors matter: cached metadata and raw data are written here. */
    herr_t closed = H5Fclose(file);
    w->file = -1;
    ok = !failed(w, closed, "closing") && ok;
    return ok;
}

static gs_status check_save_args(gs_context *ctx, const char *path, const gs_checkpoint_group *groups, int n_groups,
                                 const gs_checkpoint_meta *meta) {
    if (!path || !*path || !meta || n_groups < 0 || (n_groups > 0 && !groups))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "gs_checkpoint_save: needs a path, metadata and %d groups", n_groups);
    for (int g = 0; g < n_groups; g++) {
        const char *name = groups[g].name;
        if (!valid_name(name) || !strcmp(name, CONFIG_DATASET))
            return gs_fail(ctx, GS_ERR_ARGUMENT, "checkpoint group name '%s' is empty, reserved or contains '/'",
                           name ? name : "(null)");
        if (!groups[g].params) return gs_fail(ctx, GS_ERR_ARGUMENT, "checkpoint group '%s' has no parameter list", name);
        for (int h = 0; h < g; h++)
            if (!strcmp(groups[h].name, name)) return gs_fail(ctx, GS_ERR_ARGUMENT, "checkpoint group '%s' is given twice", name);
        const gs_param_list *list = groups[g].params;
        for (int i = 0; i < list->count; i++) {
            const gs_tensor *t = list->items[i].tensor;
            if (!valid_name(t->name))
                return gs_fail(ctx, GS_ERR_ARGUMENT, "tensor name '%s' in checkpoint group '%s' is empty or contains '/'",
                               t->name ? t->name : "(null)", name);
            for (int j = 0; j < i; j++)
                if (!strcmp(list->items[j].tensor->name, t->name))
                    return gs_fail(ctx, GS_ERR_ARGUMENT, "tensor '%s/%s' is in the checkpoint twice", name, t->name);
            int64_t bad = gs_first_nonfinite(t->data, t->numel);
            if (bad >= 0)
                return gs_fail(ctx, GS_ERR_NONFINITE,
                               "refusing to save checkpoint %s: tensor '%s/%s' holds a non-finite value at index %lld",
                               path, name, t->name, (long long)bad);
        }
    }
    return GS_OK;
}

gs_status gs_checkpoint_save(gs_context *ctx, const char *path, const gs_checkpoint_group *groups, int n_groups,
                             const gs_checkpoint_meta *meta) {
    if (gs_failed(ctx)) return ctx->status;
    if (check_save_args(ctx, path, groups, n_groups, meta) != GS_OK) return ctx->status;

    size_t len = strlen(path);
    char *tmp = malloc(len + 5);
    if (!tmp) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory saving checkpoint %s", path);
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);

    writer w = {.reason = "", .file = -1};
    /* Created here first because HDF5 does not report errno reliably; a
     * missing directory or a permission problem gets its real reason. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(w.reason, sizeof w.reason, "creating %.200s: %s", tmp, strerror(errno));
        free(tmp);
        return gs_fail(ctx, GS_ERR_IO, "cannot write checkpoint %s: %s", path, w.reason);
    }
    close(fd);

    h5_quiet quiet = h5_silence();
    bool ok = write_file(&w, tmp, groups, n_groups, meta);
    h5_restore(quiet);

    if (!ok) {
        unlink(tmp);
        free(tmp);
        return gs_fail(ctx, GS_ERR_IO, "cannot write checkpoint %s: %s", path, w.reason);
    }
    gs_error commit = {0};
    gs_h5_commit(tmp, path, &commit);
    free(tmp);
    if (commit.status != GS_OK) return gs_fail(ctx, GS_ERR_IO, "checkpoint: %s", commit.message);
    return GS_OK;
}

/* ---- loading --------------------------------------------------------- */

static gs_status corrupt(gs_context *ctx, const char *path, const char *detail) {
    return gs_fail(ctx, GS_ERR_FORMAT, "%s is not a readable geossl checkpoint (truncated or corrupt?)%s%s", path,
                   detail ? ": " : "", detail ? detail : "");
}

static bool read_number_attr(hid_t loc, const char *name, H5T_class_t cls, hid_t mem_type, hssize_t n, void *out) {
    if (H5Aexists(loc, name) <= 0) return false;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0) return false;
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
    bool ok = type >= 0 && space >= 0 && H5Tget_class(type) == cls && H5Sget_simple_extent_npoints(space) == n &&
              H5Aread(attr, mem_type, out) >= 0;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Aclose(attr);
    return ok;
}

/* A fixed-length string attribute or scalar dataset; malloc'd, NULL when
 * absent or malformed. */
static char *read_string(hid_t loc, const char *name, bool as_attr) {
    if ((as_attr ? H5Aexists(loc, name) : H5Lexists(loc, name, H5P_DEFAULT)) <= 0) return NULL;
    hid_t obj = as_attr ? H5Aopen(loc, name, H5P_DEFAULT) : H5Dopen2(loc, name, H5P_DEFAULT);
    if (obj < 0) return NULL;
    hid_t type = as_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t space = as_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    char *text = NULL;
    if (type >= 0 && space >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) == 0 &&
        H5Sget_simple_extent_npoints(space) == 1) {
        size_t size = H5Tget_size(type);
        hid_t mem = H5Tcopy(H5T_C_S1);
        /* The declared size is bounded before allocating: a corrupt one
         * asked for gigabytes.  NULLPAD in memory: a converted
         * null-terminated string keeps every character, and the extra
         * zeroed byte terminates it. */
        if (size > 0 && size <= MAX_TEXT_BYTES && gs_h5_fits_in_file(obj, size) && mem >= 0 &&
            H5Tset_size(mem, size) >= 0 && H5Tset_strpad(mem, H5T_STR_NULLPAD) >= 0 && (text = calloc(size + 1, 1))) {
            herr_t rc = as_attr ? H5Aread(obj, mem, text) : H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, text);
            if (rc < 0) {
                free(text);
                text = NULL;
            }
        }
        if (mem >= 0) H5Tclose(mem);
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (as_attr)
        H5Aclose(obj);
    else
        H5Dclose(obj);
    return text;
}

static bool trusted_without_digest(void) {
    const char *v = getenv(TRUST_ENV);
    return v && !strcmp(v, "1");
}

/* Checks path against its digest before libhdf5 reads any of it: libhdf5
 * is not hardened against damaged or hostile files. */
static gs_status verify_digest(gs_context *ctx, const char *path) {
    gs_digest_check c = gs_file_digest_verify(path);
    if (c.state == GS_DIGEST_VALID) return GS_OK;
    if (c.state == GS_DIGEST_UNREADABLE)
        return gs_fail(ctx, GS_ERR_IO, "cannot read checkpoint %s: %s", path, c.detail);
    if (c.state == GS_DIGEST_MISMATCH)
        return gs_fail(ctx, GS_ERR_FORMAT,
                       "checkpoint %s is corrupt or was modified after geossl wrote it (%s), so it is not read; use an "
                       "earlier checkpoint of the run (pretrain --keep-every N keeps checkpoint-epochNNN.h5) or rerun "
                       "the pretraining",
                       path, c.detail);
    if (!c.hdf5) return corrupt(ctx, path, c.detail);
    if (trusted_without_digest()) {
        gs_log(ctx, GS_LOG_WARN, "checkpoint %s carries no digest; read unverified because %s=1", path, TRUST_ENV);
        return GS_OK;
    }
    return gs_fail(ctx, GS_ERR_FORMAT,
                   "checkpoint %s carries no digest (written by a geossl older than this one, or not a geossl "
                   "checkpoint) and is not handed unverified to libhdf5, which a damaged file can crash; rerun the "
                   "pretraining, or if you trust the file set " TRUST_ENV "=1 (checkpoints saved from then on carry "
                   "a digest)",
                   path);
}

/* Opens path and reads its metadata; call with HDF5 printing silenced.  On
 * success *file_out is open and info holds malloc'd strings. */
static gs_status open_checkpoint(gs_context *ctx, const char *path, hid_t *file_out, gs_checkpoint_info *info) {
    memset(info, 0, sizeof *info);
    *file_out = -1;
    if (!path || !*path) return gs_fail(ctx, GS_ERR_ARGUMENT, "no checkpoint path given");
    int fd = open(path, O_RDONLY);
    if (fd < 0) return gs_fail(ctx, GS_ERR_IO, "cannot open checkpoint %s: %s", path, strerror(errno));
    struct stat st;
    bool is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    close(fd);
    if (is_dir) return gs_fail(ctx, GS_ERR_IO, "cannot open checkpoint %s: %s", path, strerror(EISDIR));
    if (verify_digest(ctx, path) != GS_OK) return ctx->status;

    hid_t fapl = gs_h5_file_access();
    if (fapl < 0) return gs_fail(ctx, GS_ERR_INTERNAL, "cannot set up HDF5 to read %s", path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (file < 0) return corrupt(ctx, path, NULL);

    int version = 0;
    htri_t has_format = H5Aexists(file, FORMAT_ATTR);
    if (has_format == 0) {
        H5Fclose(file);
        return gs_fail(ctx, GS_ERR_FORMAT, "%s is an HDF5 file but not a geossl checkpoint (no '%s' attribute)", path,
                       FORMAT_ATTR);
    }
    if (has_format < 0 || !read_number_attr(file, FORMAT_ATTR, H5T_INTEGER, H5T_NATIVE_INT, 1, &version)) {
        H5Fclose(file);
        return corrupt(ctx, path, "bad format attribute");
    }
    if (version < 1 || version > GS_CHECKPOINT_FORMAT_VERSION) {
        H5Fclose(file);
        return gs_fail(ctx, GS_ERR_FORMAT, "checkpoint %s has format version %d; this geossl reads versions 1 to %d",
                       path, version, GS_CHECKPOINT_FORMAT_VERSION);
    }
    info->format_version = version;
    const char *bad = NULL;
    if (!read_number_attr(file, STEP_ATTR, H5T_INTEGER, H5T_NATIVE_INT64, 1, &info->step))
        bad = "bad '" STEP_ATTR "' attribute";
    else if (!read_number_attr(file, RNG_ATTR, H5T_INTEGER, H5T_NATIVE_UINT64, 4, info->rng.s))
        bad = "bad '" RNG_ATTR "' attribute";
    else if (!(info->architecture = read_string(file, ARCH_ATTR, true)))
        bad = "bad '" ARCH_ATTR "' attribute";
    else if (!(info->config = read_string(file, CONFIG_DATASET, false)))
        bad = "bad '" CONFIG_DATASET "' dataset";
    if (bad) {
        gs_checkpoint_info_free(info);
        H5Fclose(file);
        return corrupt(ctx, path, bad);
    }
    *file_out = file;
    return GS_OK;
}

/* Tensors whose values are never negative, whatever the training:
 * batchnorm running variances ("bn1.running_var") and AdamW's second
 * moments ("conv1.weight.exp_avg_sq", optim/optimizer.c).  A negative one
 * is damage (a flipped sign bit loaded silently before digests). */
static bool never_negative(const char *name) {
    const char *last = strrchr(name, '.');
    last = last ? last + 1 : name;
    return !strcmp(last, "running_var") || !strcmp(last, "exp_avg_sq");
}

static void dims_str(int ndim, const hsize_t *dims, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %llu" : "%llu", (unsigned long long)dims[i]);
    if (used < size) snprintf(buf + used, size - used, ")");
}

/* Reads one tensor of the file into dst (the staging buffer), checking
 * type, shape and finiteness. */
static gs_status read_tensor(gs_context *ctx, const char *path, hid_t group, const char *group_name,
                             const gs_tensor *t, float *dst) {
    char want[128], have[128];
    gs_shape_str(t, want, sizeof want);
    htri_t exists = H5Lexists(group, t->name, H5P_DEFAULT);
    if (exists < 0) return corrupt(ctx, path, t->name);
    if (exists == 0)
        return gs_fail(ctx, GS_ERR_MISMATCH, "checkpoint %s has no tensor '%s/%s' (shape %s in this model)", path,
                       group_name, t->name, want);
    hid_t dset = H5Dopen2(group, t->name, H5P_DEFAULT);
    if (dset < 0) return corrupt(ctx, path, t->name);
    hid_t type = H5Dget_type(dset), space = H5Dget_space(dset);
    gs_status status = GS_OK;
    int ndim = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[H5S_MAX_RANK];
    if (type < 0 || H5Tget_class(type) != H5T_FLOAT || ndim < 0 || ndim > H5S_MAX_RANK ||
        H5Sget_simple_extent_type(space) == H5S_NULL || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        status = corrupt(ctx, path, t->name);
        goto done;
    }
    bool same = ndim == t->ndim;
    for (int i = 0; same && i < ndim; i++) same = dims[i] == (hsize_t)t->shape[i];
    if (!same) {
        dims_str(ndim, dims, have, sizeof have);
        status = gs_fail(ctx, GS_ERR_MISMATCH, "tensor '%s/%s' has shape %s in checkpoint %s, this model's is %s",
                         group_name, t->name, have, path, want);
        goto done;
    }
    if (t->numel > 0 && H5Dread(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0) {
        status = corrupt(ctx, path, t->name);
        goto done;
    }
    int64_t bad = gs_first_nonfinite(dst, t->numel);
    if (bad >= 0) {
        status = gs_fail(ctx, GS_ERR_NONFINITE, "tensor '%s/%s' in checkpoint %s holds a non-finite value at index %lld",
                         group_name, t->name, path, (long long)bad);
        goto done;
    }
    if (never_negative(t->name))
        for (int64_t i = 0; i < t->numel; i++)
            if (dst[i] < 0.0f) {
                status = gs_fail(ctx, GS_ERR_FORMAT,
                                 "tensor '%s/%s' in checkpoint %s holds %g at index %lld, but it is never negative: "
                                 "the file is corrupt",
                                 group_name, t->name, path, (double)dst[i], (long long)i);
                break;
            }
done:
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(dset);
    return status;
}

/* Names the first tensor of the file's group that the caller's list lacks. */
static gs_status check_unused(gs_context *ctx, const char *path, hid_t group, const char *group_name,
                              const gs_param_list *list) {
    H5G_info_t ginfo;
    if (H5Gget_info(group, &ginfo) < 0) return corrupt(ctx, path, group_name);
    if (ginfo.nlinks == (hsize_t)list->count) return GS_OK;
    for (hsize_t i = 0; i < ginfo.nlinks; i++) {
        char name[256];
        ssize_t n = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
        if (n < 0) return corrupt(ctx, path, group_name);
        if ((size_t)n >= sizeof name || !gs_param_find(list, name))
            return gs_fail(ctx, GS_ERR_MISMATCH, "checkpoint %s has tensor '%s/%s' that this model lacks", path,
                           group_name, name);
    }
    return GS_OK;
}

static gs_status read_groups(gs_context *ctx, const char *path, hid_t file, const gs_checkpoint_group *groups,
                             int n_groups, bool allow_unused, float *staging) {
    float *dst = staging;
    for (int g = 0; g < n_groups; g++) {
        const char *name = groups[g].name;
        htri_t exists = H5Lexists(file, name, H5P_DEFAULT);
        if (exists < 0) return corrupt(ctx, path, name);
        if (exists == 0) return gs_fail(ctx, GS_ERR_MISMATCH, "checkpoint %s has no group '%s'", path, name);
        hid_t group = H5Gopen2(file, name, H5P_DEFAULT);
        if (group < 0) return corrupt(ctx, path, name);
        const gs_param_list *list = groups[g].params;
        gs_status status = GS_OK;
        for (int i = 0; status == GS_OK && i < list->count; i++) {
            const gs_tensor *t = list->items[i].tensor;
            status = read_tensor(ctx, path, group, name, t, dst);
            dst += t->numel;
        }
        if (status == GS_OK && !allow_unused) status = check_unused(ctx, path, group, name, list);
        H5Gclose(group);
        if (status != GS_OK) return status;
    }
    return GS_OK;
}

static gs_status check_load_args(gs_context *ctx, const gs_checkpoint_group *groups, int n_groups, size_t *total) {
    *total = 0;
    if (n_groups < 0 || (n_groups > 0 && !groups))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "gs_checkpoint_load: %d groups given without an array", n_groups);
    for (int g = 0; g < n_groups; g++) {
        if (!valid_name(groups[g].name) || !groups[g].params)
            return gs_fail(ctx, GS_ERR_ARGUMENT, "checkpoint group name '%s' is empty or contains '/', or has no list",
                           groups[g].name ? groups[g].name : "(null)");
        const gs_param_list *list = groups[g].params;
        for (int i = 0; i < list->count; i++) {
            const gs_tensor *t = list->items[i].tensor;
            if (!valid_name(t->name))
                return gs_fail(ctx, GS_ERR_ARGUMENT, "tensor name '%s' in group '%s' is empty or contains '/'",
                               t->name ? t->name : "(null)", groups[g].name);
            *total += (size_t)t->numel;
        }
    }
    return GS_OK;
}

gs_status gs_checkpoint_load(gs_context *ctx, const char *path, const gs_checkpoint_group *groups, int n_groups,
                             gs_checkpoint_info *info_out, const gs_checkpoint_load_options *options) {
    if (info_out) memset(info_out, 0, sizeof *info_out);
    if (gs_failed(ctx)) return ctx->status;
    if (!path || !*path) return gs_fail(ctx, GS_ERR_ARGUMENT, "no checkpoint path given");
    size_t total;
    if (check_load_args(ctx, groups, n_groups, &total) != GS_OK) return ctx->status;
    /* All-or-nothing: everything is read and checked here before any of the
     * caller's tensors is written. */
    float *staging = total ? malloc(total * sizeof *staging) : NULL;
    if (total && !staging)
        return gs_fail(ctx, GS_ERR_MEMORY, "out of memory (%zu floats) loading checkpoint %s", total, path);

    h5_quiet quiet = h5_silence();
    gs_checkpoint_info info;
    hid_t file;
    gs_status status = open_checkpoint(ctx, path, &file, &info);
    if (status == GS_OK) {
        const char *want = options ? options->architecture : NULL;
        if (want && strcmp(want, info.architecture))
            status = gs_fail(ctx, GS_ERR_MISMATCH, "checkpoint %s is for '%s', this model is '%s'", path,
                             info.architecture, want);
        else
            status = read_groups(ctx, path, file, groups, n_groups, options && options->allow_unused, staging);
        H5Fclose(file);
    }
    h5_restore(quiet);

    if (status == GS_OK) {
        const float *src = staging;
        for (int g = 0; g < n_groups; g++) {
            const gs_param_list *list = groups[g].params;
            for (int i = 0; i < list->count; i++) {
                gs_tensor *t = list->items[i].tensor;
                if (t->numel) memcpy(t->data, src, (size_t)t->numel * sizeof *src);
                src += t->numel;
            }
        }
        if (info_out)
            *info_out = info;
        else
            gs_checkpoint_info_free(&info);
    } else {
        gs_checkpoint_info_free(&info);
    }
    free(staging);
    return status;
}

gs_status gs_checkpoint_read_info(gs_context *ctx, const char *path, gs_checkpoint_info *info_out) {
    if (info_out) memset(info_out, 0, sizeof *info_out);
    if (gs_failed(ctx)) return ctx->status;
    if (!info_out) return gs_fail(ctx, GS_ERR_ARGUMENT, "gs_checkpoint_read_info: no output given");
    h5_quiet quiet = h5_silence();
    hid_t file;
    gs_status status = open_checkpoint(ctx, path, &file, info_out);
    if (status == GS_OK) H5Fclose(file);
    h5_restore(quiet);
    return status;
}

void gs_checkpoint_info_free(gs_checkpoint_info *info) {
    if (!info) return;
    free(info->architecture);
    free(info->config);
    memset(info, 0, sizeof *info);
}

int gs_checkpoint_tensor_shape(const char *path, const char *name, int64_t *dims, int max_dims) {
    H5E_auto2_t report;
    void *report_data;
    H5Eget_auto2(H5E_DEFAULT, &report, &report_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* absent is an answer, not an error to print */
    int rank = 0;
    /* Unverified files never reach libhdf5; the load that follows says why. */
    gs_digest_check check = gs_file_digest_verify(path);
    bool readable = check.state == GS_DIGEST_VALID ||
                    (check.state == GS_DIGEST_MISSING && check.hdf5 && trusted_without_digest());
    hid_t fapl = readable ? gs_h5_file_access() : -1;
    hid_t file = fapl >= 0 ? H5Fopen(path, H5F_ACC_RDONLY, fapl) : -1;
    if (fapl >= 0) H5Pclose(fapl);
    hid_t dset = file >= 0 && H5Lexists(file, name, H5P_DEFAULT) > 0 ? H5Dopen2(file, name, H5P_DEFAULT) : -1;
    if (dset >= 0) {
        hid_t space = H5Dget_space(dset);
        hsize_t h[H5S_MAX_RANK]; /* what the file declares, up to HDF5's limit */
        int n = space >= 0 ? H5Sget_simple_extent_dims(space, h, NULL) : -1;
        if (n > 0 && n <= 16) {
            rank = n;
            for (int i = 0; i < n && i < max_dims; i++) dims[i] = (int64_t)h[i];
        }
        if (space >= 0) H5Sclose(space);
        H5Dclose(dset);
    }
    if (file >= 0) H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, report, report_data);
    return rank;
}
