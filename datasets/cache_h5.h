/* Small HDF5 helpers for the cache (cache.c): quiet error handling,
 * attributes, 1-D columns, fixed-length string lists and the stored band
 * statistics.  Booleans: false when the object is missing or malformed;
 * callers name the file in their own message. */
#ifndef GS_DATASETS_CACHE_H5_H
#define GS_DATASETS_CACHE_H5_H

#include <hdf5.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "band_stats.h"
#include "cache_dtype.h"
#include "io/h5_file.h"

/* The longest string read back (a path, a stem, a class name). */
#define GS_H5_MAX_STRING 65536

/* HDF5 prints its error stack by default; geossl reports through gs_error,
 * so printing is off around each use (per thread in thread-safe builds). */
typedef struct gs_h5_quiet {
    H5E_auto2_t func;
    void *data;
} gs_h5_quiet;
gs_h5_quiet gs_h5_silence(void);
void gs_h5_restore(gs_h5_quiet q);
/* The innermost message of HDF5's error stack ("No space left on device"). */
void gs_h5_last_error(char *buf, size_t size);

/* Opens without checking the digest: callers verify it first (cache.c). */
hid_t gs_h5_open_read(const char *path);
/* With the user block for the digest header (io/h5_file.h). */
hid_t gs_h5_create(const char *path);

bool gs_h5_write_i64_attr(hid_t loc, const char *name, int n, const int64_t *values);
bool gs_h5_read_i64_attr(hid_t loc, const char *name, int n, int64_t *values);
bool gs_h5_write_string_attr(hid_t loc, const char *name, const char *text);
char *gs_h5_read_string_attr(hid_t loc, const char *name); /* malloc'd */

/* Rank, dimensions (exactly `ndims` of them) and element type of a dataset. */
bool gs_h5_dataset_shape(hid_t f, const char *name, int ndims, hsize_t *dims, int *type_class, int *type_bytes);
bool gs_h5_write_column(hid_t f, const char *name, hid_t file_type, hid_t mem_type, int64_t n, const void *data);
/* A 1-D dataset of exactly n elements. */
bool gs_h5_read_column(hid_t f, const char *name, hid_t mem_type, int64_t n, void *out);
bool gs_h5_write_strings(hid_t f, const char *name, const char *const *strings, int64_t n);
/* n malloc'd strings in a malloc'd array, or NULL. */
char **gs_h5_read_strings(hid_t f, const char *name, int64_t n);
void gs_h5_free_strings(char **strings, int64_t n);

bool gs_h5_write_stats(hid_t f, const gs_band_stats *s);
bool gs_h5_read_stats(hid_t f, int bands, gs_band_stats *out);

/* True when dset is stored unfiltered in chunks of one sample (the first
 * dimension 1, the rest whole) of exactly the memory type `native`, so a
 * raw chunk read is the sample. */
bool gs_h5_sample_chunks(hid_t dset, hid_t native);
/* Memory types of the stored pixels and masks. */
int gs_h5_dtype_bytes(gs_cache_dtype t);
hid_t gs_h5_pixel_native(gs_cache_dtype t);
hid_t gs_h5_mask_native(int bytes);
double gs_seconds_between(const struct timespec *a, const struct timespec *b);

#endif
