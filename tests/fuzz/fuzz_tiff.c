/* libFuzzer target: the TIFF glue of datasets/tiff_io.c (libtiff below it),
 * one file per input: probe, whole-image read under a dataset's caps, a
 * window read, GDAL band names and the EPSG code.
 *
 * The caps are those of a dataset that tiles scenes, kept small so that a
 * header declaring a huge image is refused rather than decoded (the default
 * 10^9-byte cap is tested by tests/, not here): 4096 x 4096 px, 16 MB of
 * samples.
 *
 * Invariants: every error names a status geossl documents for a bad file
 * (format, I/O on the file's contents, memory for an allowed size); a read
 * agrees with the probe on size, bands and type, and stays within the caps;
 * a window agrees with the whole image's pixels. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "common.h"
#include "image_io.h"

#define TARGET "fuzz_tiff"

static const gs_image_limits LIMITS = {.max_width = 4096, .max_height = 4096, .max_bytes = 16 << 20};

static void expect_bad_file(const char *what, gs_status s, const gs_error *err) {
    if (s != GS_ERR_FORMAT && s != GS_ERR_IO)
        fuzz_fail(TARGET, "%s of a bad file is status %d: %s", what, (int)s, err->message);
}

/* Same value, NaN equal to NaN. */
static bool same_value(float a, float b) { return a == b || (isnan(a) && isnan(b)); }

static void check_window(const char *path, const gs_raster *whole) {
    int64_t x0 = whole->width / 3, y0 = whole->height / 3;
    int64_t w = whole->width - x0 < 5 ? whole->width - x0 : 5, h = whole->height - y0 < 3 ? whole->height - y0 : 3;
    gs_raster win = {0};
    gs_error err = {0};
    gs_status s = gs_tiff_read_window(path, x0, y0, w, h, &win, &err);
    if (s != GS_OK) fuzz_fail(TARGET, "whole image read, but window (%lld, %lld) %lldx%lld not: %s", (long long)x0,
                              (long long)y0, (long long)w, (long long)h, err.message);
    if (win.width != w || win.height != h || win.bands != whole->bands)
        fuzz_fail(TARGET, "window is %lldx%lld x %d, asked %lldx%lld x %d", (long long)win.width,
                  (long long)win.height, win.bands, (long long)w, (long long)h, whole->bands);
    for (int b = 0; b < win.bands; b++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                float a = win.data[(b * h + y) * w + x];
                float c = whole->data[(b * whole->height + y0 + y) * whole->width + x0 + x];
                if (!same_value(a, c))
                    fuzz_fail(TARGET, "band %d pixel (%lld, %lld): window %g, whole image %g", b, (long long)(x0 + x),
                              (long long)(y0 + y), (double)a, (double)c);
            }
    gs_raster_free(&win);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_write_file(NULL, ".tif", data, size, path);
    gs_error err = {0};
    int64_t width = 0, height = 0;
    int bands = 0;
    gs_pixel_type type = GS_PIXEL_U8;
    gs_status ps = gs_tiff_probe(path, &width, &height, &bands, &type, &err);
    if (ps != GS_OK) expect_bad_file("probe", ps, &err);

    gs_raster r = {0};
    err = (gs_error){0};
    gs_status rs = gs_tiff_read_limited(path, &LIMITS, &r, &err);
    if (rs == GS_OK) {
        if (ps != GS_OK) fuzz_fail(TARGET, "read but the probe failed");
        if (r.width < 1 || r.height < 1 || r.bands < 1 || r.width > LIMITS.max_width || r.height > LIMITS.max_height ||
            r.width * r.height * r.bands * gs_pixel_type_bytes(r.type) > LIMITS.max_bytes)
            fuzz_fail(TARGET, "read a %lldx%lld x %d image beyond the caps", (long long)r.width, (long long)r.height,
                      r.bands);
        /* YCbCr files are read as the RGB they encode: 3 uint8 bands where the probe may say otherwise. */
        if (r.width != width || r.height != height)
            fuzz_fail(TARGET, "probe says %lldx%lld, read %lldx%lld", (long long)width, (long long)height,
                      (long long)r.width, (long long)r.height);
        check_window(path, &r);
        gs_raster_free(&r);
    } else if (rs != GS_ERR_MEMORY) {
        expect_bad_file("read", rs, &err);
    }

    char names[16][16];
    int named = 0;
    err = (gs_error){0};
    gs_status ns = gs_tiff_band_names(path, 16, names, &named, &err);
    if (ns == GS_OK) {
        if (named < 0 || named > 16) fuzz_fail(TARGET, "%d bands named of at most 16", named);
        for (int b = 0; b < 16; b++)
            if (!memchr(names[b], '\0', sizeof names[b])) fuzz_fail(TARGET, "band name %d is not terminated", b);
    } else {
        expect_bad_file("band names", ns, &err);
    }
    int epsg = 0;
    err = (gs_error){0};
    gs_status es = gs_tiff_epsg(path, &epsg, &err);
    if (es != GS_OK) expect_bad_file("EPSG", es, &err);
    fuzz_remove(path);
    return 0;
}
