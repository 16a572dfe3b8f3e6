/* Rasters and the size limits every image reader checks before decoding;
 * the TIFF and JPEG codecs are tiff_io.c and jpeg_io.c. */
#include "image_io.h"
#include "image_io_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

gs_status gs_raster_alloc(gs_raster *r, int bands, int64_t height, int64_t width, gs_error *err) {
    memset(r, 0, sizeof *r);
    if (bands < 1 || height < 1 || width < 1)
        return gs_error_set(err, GS_ERR_FORMAT, "invalid raster size %d x %lld x %lld", bands, (long long)height,
                            (long long)width);
    r->data = calloc((size_t)bands * (size_t)height * (size_t)width, sizeof(float));
    if (!r->data)
        return gs_error_set(err, GS_ERR_MEMORY, "out of memory for a %d x %lld x %lld raster", bands,
                            (long long)height, (long long)width);
    r->bands = bands;
    r->height = height;
    r->width = width;
    return GS_OK;
}

void gs_raster_free(gs_raster *r) {
    free(r->data);
    memset(r, 0, sizeof *r);
}

/* a * b for sizes, saturating at INT64_MAX: a header's dimensions multiply
 * past 64 bits (two 2^32 sides, 65535 samples) and must compare as huge,
 * not wrap to small. */
int64_t gs_image_size_mul(int64_t a, int64_t b) {
    if (a <= 0 || b <= 0) return 0;
    return a > INT64_MAX / b ? INT64_MAX : a * b;
}

int gs_pixel_type_bytes(gs_pixel_type type) {
    switch (type) {
    case GS_PIXEL_U8: return 1;
    case GS_PIXEL_U16:
    case GS_PIXEL_I16: return 2;
    case GS_PIXEL_F32: return 4;
    case GS_PIXEL_F64: return 8;
    }
    return 8;
}

int64_t gs_image_limit_bytes(const gs_image_limits *limits) {
    return limits && limits->max_bytes > 0 ? limits->max_bytes : GS_IMAGE_MAX_BYTES;
}

gs_status gs_image_check_limits(const char *path, int64_t width, int64_t height, int bands, gs_pixel_type type,
                                const gs_image_limits *limits, gs_error *err) {
    if (limits && ((limits->max_width > 0 && width > limits->max_width) ||
                   (limits->max_height > 0 && height > limits->max_height))) {
        char w[32] = "any", h[32] = "any";
        if (limits->max_width > 0) snprintf(w, sizeof w, "%lld", (long long)limits->max_width);
        if (limits->max_height > 0) snprintf(h, sizeof h, "%lld", (long long)limits->max_height);
        return gs_error_set(err, GS_ERR_FORMAT,
                            "%s declares %lld x %lld pixels (width x height); the limit is %s x %s: refused before "
                            "decoding",
                            path, (long long)width, (long long)height, w, h);
    }
    int64_t bytes = gs_image_size_mul(gs_image_size_mul(gs_image_size_mul(width, height), bands), gs_pixel_type_bytes(type));
    if (bytes > gs_image_limit_bytes(limits))
        return gs_error_set(err, GS_ERR_FORMAT,
                            "%s declares %lld x %lld pixels x %d bands of %d bytes (%lld bytes uncompressed); the "
                            "limit is %lld bytes: refused before decoding",
                            path, (long long)width, (long long)height, bands, gs_pixel_type_bytes(type),
                            (long long)bytes, (long long)gs_image_limit_bytes(limits));
    return GS_OK;
}

