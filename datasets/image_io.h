/* Reading and writing the raster files the datasets use: GeoTIFF (libtiff:
 * 8/16-bit integer, 32-bit float or 64-bit float samples, one or many bands, contiguous or
 * separate planes, strips or tiles, any compression libtiff decodes) and
 * JPEG (libjpeg-turbo).  Thread-safe: no shared state, errors in a gs_error. */
#ifndef GS_DATASETS_IMAGE_IO_H
#define GS_DATASETS_IMAGE_IO_H

#include <stdint.h>

#include "core/error.h"

/* F64: Earth Engine exports a time series as float64 unless told otherwise;
 * read as float32 (7 significant digits: digital numbers up to 16 bits and
 * reflectances are exact or within 6e-8 relative). */
typedef enum gs_pixel_type { GS_PIXEL_U8, GS_PIXEL_U16, GS_PIXEL_I16, GS_PIXEL_F32, GS_PIXEL_F64 } gs_pixel_type;

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

/* What a reader may be asked to allocate for one file, checked against the
 * header before any pixel is decoded: a file's header can declare any size
 * (a 461-byte JPEG declaring 60783 x 256 pixels cost 199 MB before).  The
 * byte cap counts samples as the file stores them, width x height x bands x
 * bytes per sample, i.e. the uncompressed image; decoding to float32 takes
 * up to 4x that.  It bounds the whole-image reads and every strip, tile or
 * row band a window read decodes. */
typedef struct gs_image_limits {
    int64_t max_width, max_height; /* 0: no bound beyond max_bytes */
    int64_t max_bytes;             /* 0: GS_IMAGE_MAX_BYTES */
} gs_image_limits;
/* The default: 10^9 bytes of samples (a 4 GB float raster at most), far
 * above any dataset geossl reads (a 6000 x 6000 x 4 Potsdam tile is 144 MB),
 * well below what a 32-bit TIFF or a 65500 x 65500 JPEG header may claim. */
#define GS_IMAGE_MAX_BYTES ((int64_t)1000000000)

/* An error naming the file, the declared size and the limit when a
 * width x height x bands image of `type` exceeds limits (NULL: the
 * defaults); GS_OK otherwise. */
gs_status gs_image_check_limits(const char *path, int64_t width, int64_t height, int bands, gs_pixel_type type,
                                const gs_image_limits *limits, gs_error *err);
/* Bytes per stored sample of a pixel type (1, 2, 4 or 8). */
int gs_pixel_type_bytes(gs_pixel_type type);

/* Reads every band.  Errors name the file and what is wrong with it.
 * YCbCr files (photometric 6: JPEG-in-TIFF aerial imagery, chroma
 * subsampled or not) are read as the RGB they encode, 3 uint8 bands;
 * YCbCr layouts libtiff cannot convert are refused naming the file and the
 * photometric interpretation.  The default limits apply. */
gs_status gs_tiff_read(const char *path, gs_raster *out, gs_error *err);
/* gs_tiff_read with caps (NULL: the defaults). */
gs_status gs_tiff_read_limited(const char *path, const gs_image_limits *limits, gs_raster *out, gs_error *err);
/* Reads every band of the width x height window at (x0, y0), decoding only
 * the strips or tiles it overlaps; a window outside the image is an error.
 * A strip or tile larger than GS_IMAGE_MAX_BYTES is refused. */
gs_status gs_tiff_read_window(const char *path, int64_t x0, int64_t y0, int64_t width, int64_t height,
                              gs_raster *out, gs_error *err);
/* Size, band count and sample type without decoding pixels. */
gs_status gs_tiff_probe(const char *path, int64_t *width, int64_t *height, int *bands, gs_pixel_type *type,
                        gs_error *err);
/* Band names as GDAL keeps them in a GeoTIFF's GDAL_METADATA tag (42112),
 * one item per named band:
 *   <Item name="DESCRIPTION" sample="3" role="description">B4</Item>
 * (sample counts from 0; Earth Engine exports and gdal_translate write it).
 * names[b] gets band b's name, "" where none is given, for b < max_bands;
 * names longer than 15 bytes are cut.  *named: how many bands got a name (0
 * when the file has no such tag, which is not an error). */
gs_status gs_tiff_band_names(const char *path, int max_bands, char (*names)[16], int *named, gs_error *err);
/* The EPSG code of a GeoTIFF's coordinate system, from its GeoKeyDirectory
 * (tag 34735): ProjectedCSTypeGeoKey (3072), else GeographicTypeGeoKey
 * (2048); 0 when the file has neither (not an error). */
gs_status gs_tiff_epsg(const char *path, int *epsg, gs_error *err);
/* Writes r with samples of `type` (values are rounded and clamped to the
 * type's range), contiguous planes, LZW compressed when asked.  RGB
 * photometric for 3 or 4 8-bit bands (the 4th tagged as alpha, as ISPRS
 * Potsdam RGBIR files are), min-is-black otherwise. */
gs_status gs_tiff_write(const char *path, const gs_raster *r, gs_pixel_type type, int lzw, gs_error *err);
/* The same, naming the bands in a GDAL_METADATA tag as Earth Engine exports
 * do (band_names: r->bands names; NULL or "" entries are left unnamed). */
gs_status gs_tiff_write_named(const char *path, const gs_raster *r, gs_pixel_type type, int lzw,
                              const char *const *band_names, gs_error *err);

/* JPEG: 1 (gray) or 3 (RGB) bands of 0..255.  The default limits apply;
 * the size is checked from the header, before decoding starts. */
gs_status gs_jpeg_read(const char *path, gs_raster *out, gs_error *err);
/* gs_jpeg_read with caps (NULL: the defaults): EuroSAT passes 64 x 64. */
gs_status gs_jpeg_read_limited(const char *path, const gs_image_limits *limits, gs_raster *out, gs_error *err);
gs_status gs_jpeg_write(const char *path, const gs_raster *r, int quality, gs_error *err);

#endif
