#include "cache_h5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gs_h5_quiet gs_h5_silence(void) {
    gs_h5_quiet q = {0};
    H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

void gs_h5_restore(gs_h5_quiet q) { H5Eset_auto2(H5E_DEFAULT, q.func, q.data); }

typedef struct innermost {
    char *buf;
    size_t size;
} innermost;

static herr_t take_innermost(unsigned n, const H5E_error2_t *e, void *data) {
    innermost *in = data;
    if (n == 0 && e->desc) snprintf(in->buf, in->size, "%s", e->desc);
    return 0;
}

void gs_h5_last_error(char *buf, size_t size) {
    innermost in = {buf, size};
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, &in);
    /* The sec2 driver wraps strerror as "... error message = '<reason>'". */
    char *msg = strstr(buf, "error message = '");
    if (msg) {
        memmove(buf, msg + strlen("error message = '"), strlen(msg + strlen("error message = '")) + 1);
        char *end = strchr(buf, '\'');
        if (end) *end = '\0';
    }
    if (!buf[0]) snprintf(buf, size, "HDF5 error");
}

hid_t gs_h5_open_read(const char *path) {
    hid_t fapl = gs_h5_file_access();
    if (fapl < 0) return fapl;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

hid_t gs_h5_create(const char *path) { return gs_h5_create_sealable(path); }

/* A write in loc's file failed (ok false): the file is abandoned before
 * the closes that follow flush into the failure (io/h5_file.h), and HDF5's
 * error stack, which those closes clear, is kept for the caller's message
 * (gs_h5_last_error).  The id to hand to failed_with, or -1. */
static hid_t failing(bool ok, hid_t loc) {
    if (ok) return -1;
    hid_t kept = H5Eget_current_stack();
    gs_h5_abandon(loc);
    return kept;
}

static bool failed_with(hid_t kept, bool ok) {
    if (kept >= 0) H5Eset_current_stack(kept);
    return ok;
}

bool gs_h5_write_i64_attr(hid_t loc, const char *name, int n, const int64_t *values) {
    hsize_t dims = (hsize_t)n;
    hid_t space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, NULL);
    if (space < 0) return false;
    hid_t attr = H5Acreate2(loc, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    bool ok = attr >= 0 && H5Awrite(attr, H5T_NATIVE_INT64, values) >= 0;
    hid_t kept = failing(ok, loc);
    if (attr >= 0) ok = H5Aclose(attr) >= 0 && ok;
    H5Sclose(space);
    return failed_with(kept, ok);
}

bool gs_h5_read_i64_attr(hid_t loc, const char *name, int n, int64_t *values) {
    if (H5Aexists(loc, name) <= 0) return false;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0) return false;
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
    bool ok = type >= 0 && space >= 0 && H5Tget_class(type) == H5T_INTEGER && H5Sget_simple_extent_npoints(space) == n &&
              H5Aread(attr, H5T_NATIVE_INT64, values) >= 0;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Aclose(attr);
    return ok;
}

static hid_t string_type(size_t size) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, size) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

bool gs_h5_write_string_attr(hid_t loc, const char *name, const char *text) {
    hid_t type = string_type(strlen(text) + 1), space = H5Screate(H5S_SCALAR);
    hid_t attr = type >= 0 && space >= 0 ? H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT) : -1;
    bool ok = attr >= 0 && H5Awrite(attr, type, text) >= 0;
    hid_t kept = failing(ok, loc);
    if (attr >= 0) ok = H5Aclose(attr) >= 0 && ok;
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    return failed_with(kept, ok);
}

char *gs_h5_read_string_attr(hid_t loc, const char *name) {
    if (H5Aexists(loc, name) <= 0) return NULL;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0) return NULL;
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
    char *text = NULL;
    if (type >= 0 && space >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) == 0 &&
        H5Sget_simple_extent_npoints(space) == 1) {
        size_t size = H5Tget_size(type);
        /* NULLPAD in memory: every stored character survives and the extra
         * zeroed byte terminates the string.  The declared size is bounded
         * before allocating (a corrupt one can declare gigabytes). */
        hid_t mem = H5Tcopy(H5T_C_S1);
        if (mem >= 0 && size > 0 && size <= GS_H5_MAX_STRING && gs_h5_fits_in_file(attr, size) &&
            H5Tset_size(mem, size) >= 0 && H5Tset_strpad(mem, H5T_STR_NULLPAD) >= 0 &&
            (text = calloc(size + 1, 1)) && H5Aread(attr, mem, text) < 0) {
            free(text);
            text = NULL;
        }
        if (mem >= 0) H5Tclose(mem);
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Aclose(attr);
    return text;
}

bool gs_h5_dataset_shape(hid_t f, const char *name, int ndims, hsize_t *dims, int *type_class, int *type_bytes) {
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) return false;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return false;
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    bool ok = type >= 0 && space >= 0 && H5Sget_simple_extent_ndims(space) == ndims &&
              H5Sget_simple_extent_dims(space, dims, NULL) == ndims;
    size_t bytes = ok ? H5Tget_size(type) : 0;
    ok = ok && bytes > 0 && bytes <= (size_t)INT32_MAX; /* stored in an int: no silent wrap */
    if (ok) {
        *type_class = (int)H5Tget_class(type);
        *type_bytes = (int)bytes;
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(d);
    return ok;
}

bool gs_h5_write_column(hid_t f, const char *name, hid_t file_type, hid_t mem_type, int64_t n, const void *data) {
    hsize_t dims = (hsize_t)n;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    if (space < 0) return false;
    hid_t d = H5Dcreate2(f, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    bool ok = d >= 0 && (n == 0 || H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    hid_t kept = failing(ok, f);
    if (d >= 0) ok = H5Dclose(d) >= 0 && ok;
    H5Sclose(space);
    return failed_with(kept, ok);
}

bool gs_h5_read_column(hid_t f, const char *name, hid_t mem_type, int64_t n, void *out) {
    hsize_t dims;
    int cls, bytes;
    if (!gs_h5_dataset_shape(f, name, 1, &dims, &cls, &bytes) || dims != (hsize_t)n) return false;
    if (n == 0) return true;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return false;
    bool ok = H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    H5Dclose(d);
    return ok;
}

bool gs_h5_write_strings(hid_t f, const char *name, const char *const *strings, int64_t n) {
    size_t width = 1;
    for (int64_t i = 0; i < n; i++) {
        size_t len = strlen(strings[i]) + 1;
        if (len > width) width = len;
    }
    char *buf = calloc((size_t)(n > 0 ? n : 1), width);
    hid_t type = string_type(width);
    bool ok = buf && type >= 0;
    for (int64_t i = 0; ok && i < n; i++) memcpy(buf + (size_t)i * width, strings[i], strlen(strings[i]));
    ok = ok && gs_h5_write_column(f, name, type, type, n, buf);
    if (type >= 0) H5Tclose(type);
    free(buf);
    return ok;
}

char **gs_h5_read_strings(hid_t f, const char *name, int64_t n) {
    hsize_t dims;
    int cls, width;
    if (!gs_h5_dataset_shape(f, name, 1, &dims, &cls, &width) || dims != (hsize_t)n || cls != H5T_STRING || width < 1 ||
        width > GS_H5_MAX_STRING || n < 0 || !gs_h5_fits_in_file(f, (uint64_t)n * (uint64_t)width))
        return NULL;
    char *buf = calloc((size_t)(n > 0 ? n : 1), (size_t)width);
    char **out = calloc((size_t)(n > 0 ? n : 1), sizeof *out);
    hid_t mem = H5Tcopy(H5T_C_S1);
    bool ok = buf && out && mem >= 0 && H5Tset_size(mem, (size_t)width) >= 0 && H5Tset_strpad(mem, H5T_STR_NULLPAD) >= 0;
    if (ok && n > 0) {
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
        ok = d >= 0 && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
        if (d >= 0) H5Dclose(d);
    }
    for (int64_t i = 0; ok && i < n; i++) {
        out[i] = strndup(buf + (size_t)i * (size_t)width, (size_t)width);
        ok = out[i] != NULL;
    }
    if (mem >= 0) H5Tclose(mem);
    free(buf);
    if (!ok && out) {
        gs_h5_free_strings(out, n);
        out = NULL;
    }
    return out;
}

void gs_h5_free_strings(char **strings, int64_t n) {
    if (!strings) return;
    for (int64_t i = 0; i < n; i++) free(strings[i]);
    free(strings);
}

bool gs_h5_write_stats(hid_t f, const gs_band_stats *s) {
    int64_t selection[3] = {s->samples, (int64_t)s->samples_hash, s->values};
    bool ok = gs_h5_write_column(f, "stats_mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->bands, s->mean) &&
              gs_h5_write_column(f, "stats_std", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s->bands, s->std);
    if (!ok) return false;
    hid_t d = H5Dopen2(f, "stats_mean", H5P_DEFAULT);
    /* samples, the hash of their stems (as int64 bits), values per band */
    ok = d >= 0 && gs_h5_write_i64_attr(d, "selection", 3, selection);
    if (d >= 0) H5Dclose(d);
    return ok;
}

bool gs_h5_read_stats(hid_t f, int bands, gs_band_stats *out) {
    memset(out, 0, sizeof *out);
    int64_t selection[3];
    if (H5Lexists(f, "stats_mean", H5P_DEFAULT) <= 0) return false;
    if (!gs_h5_read_column(f, "stats_mean", H5T_NATIVE_DOUBLE, bands, out->mean) ||
        !gs_h5_read_column(f, "stats_std", H5T_NATIVE_DOUBLE, bands, out->std))
        return false;
    hid_t d = H5Dopen2(f, "stats_mean", H5P_DEFAULT);
    bool ok = d >= 0 && gs_h5_read_i64_attr(d, "selection", 3, selection);
    if (d >= 0) H5Dclose(d);
    if (!ok) return false;
    out->bands = bands;
    out->samples = selection[0];
    out->samples_hash = (uint64_t)selection[1];
    out->values = selection[2];
    return true;
}

int gs_h5_dtype_bytes(gs_cache_dtype t) { return t == GS_CACHE_UINT8 ? 1 : t == GS_CACHE_UINT16 ? 2 : 4; }

hid_t gs_h5_pixel_native(gs_cache_dtype t) {
    return t == GS_CACHE_UINT8 ? H5T_NATIVE_UINT8 : t == GS_CACHE_UINT16 ? H5T_NATIVE_UINT16 : H5T_NATIVE_FLOAT;
}

hid_t gs_h5_mask_native(int bytes) {
    return bytes == 1 ? H5T_NATIVE_INT8 : bytes == 2 ? H5T_NATIVE_INT16 : H5T_NATIVE_INT32;
}

double gs_seconds_between(const struct timespec *a, const struct timespec *b) {
    return (double)(b->tv_sec - a->tv_sec) + 1e-9 * (double)(b->tv_nsec - a->tv_nsec);
}

bool gs_h5_sample_chunks(hid_t dset, hid_t native) {
    hid_t type = H5Dget_type(dset), space = H5Dget_space(dset), dcpl = H5Dget_create_plist(dset);
    hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
    int rank = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
    bool ok = type >= 0 && dcpl >= 0 && rank >= 1 && H5Tequal(type, native) > 0 && H5Pget_layout(dcpl) == H5D_CHUNKED &&
              H5Pget_nfilters(dcpl) == 0 && H5Pget_chunk(dcpl, rank, chunk) == rank && chunk[0] == 1;
    for (int i = 1; ok && i < rank; i++) ok = chunk[i] == dims[i];
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    return ok;
}
