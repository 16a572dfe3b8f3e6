/* Reading and writing the raster files the datasets use: GeoTIFF (libtiff:
 * 8/16-bit integer or float samples, one or many bands, contiguous or
 * separate planes, strips or tiles, any compression libtiff decodes) and
 * JPEG (libjpeg-turbo).  Thread-safe: no shared state, errors in a gs_error. */
#ifndef GS_DATASETS_IMAGE_IO_H
#define GS_DATASETS_IMAGE_IO_H

#include <stdint.h>

#include "core/error.h"

typedef enum gs_pixel_type { GS_PIXEL_U8, GS_PIXEL_U16, GS_PIXEL_I16, GS_PIXEL_F32 } gs_pixel_type;

/* A decoded raster: values as stored in the file (no scaling), band-major
 * (bands, height, width), as float32. */
typedef struct gs_raster {
    int64_t width, height;
    int bands;
    gs_pixel_type type; /* the file's sample type */
    float *data;
} gs_raster;

/* Allocates data for bands x height x width (zeroed). */
gs_status gs_raster_alloc(gs_raster *r, int bands, int64_t height, int64_t width, gs_error *err);
void gs_raster_free(gs_raster *r);

/* Reads every band.  Errors name the file and what is wrong with it. */
gs_status gs_tiff_read(const char *path, gs_raster *out, gs_error *err);
/* Reads every band of the width x height window at (x0, y0), decoding only
 * the strips or tiles it overlaps; a window outside the image is an error. */
gs_status gs_tiff_read_window(const char *path, int64_t x0, int64_t y0, int64_t width, int64_t height,
                              gs_raster *out, gs_error *err);
/* Size, band count and sample type without decoding pixels. */
gs_status gs_tiff_probe(const char *path, int64_t *width, int64_t *height, int *bands, gs_pixel_type *type,
                        gs_error *err);
/* Writes r with samples of `type` (values are rounded and clamped to the
 * type's range), contiguous planes, LZW compressed when asked.  RGB
 * photometric for 3 or 4 8-bit bands (the 4th tagged as alpha, as ISPRS
 * Potsdam RGBIR files are), min-is-black otherwise. */
gs_status gs_tiff_write(const char *path, const gs_raster *r, gs_pixel_type type, int lzw, gs_error *err);

/* JPEG: 1 (gray) or 3 (RGB) bands of 0..255. */
gs_status gs_jpeg_read(const char *path, gs_raster *out, gs_error *err);
gs_status gs_jpeg_write(const char *path, const gs_raster *r, int quality, gs_error *err);

#endif
