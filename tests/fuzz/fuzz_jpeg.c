/* libFuzzer target: the JPEG glue of datasets/jpeg_io.c (libjpeg-turbo
 * below it), one file per input, under RESISC45's cap (256 x 256, the
 * largest any JPEG format geossl reads allows) and EuroSAT's (64 x 64).
 *
 * Invariants: a bad file is a format or I/O error; an accepted image has 1
 * or 3 bands of 0..255 within the cap, and the 64 x 64 cap accepts exactly
 * the accepted images that fit it, with the same pixels. */
#include <string.h>

#include "common.h"
#include "image_io.h"

#define TARGET "fuzz_jpeg"

static gs_status read_capped(const char *path, int64_t side, gs_raster *r) {
    gs_error err = {0};
    gs_image_limits limits = {.max_width = side, .max_height = side};
    gs_status s = gs_jpeg_read_limited(path, &limits, r, &err);
    if (s == GS_OK) {
        if (r->width < 1 || r->height < 1 || r->width > side || r->height > side || (r->bands != 1 && r->bands != 3))
            fuzz_fail(TARGET, "accepted %lldx%lld x %d under a %lld px cap", (long long)r->width, (long long)r->height,
                      r->bands, (long long)side);
        for (int64_t i = 0; i < r->width * r->height * r->bands; i++)
            if (!(r->data[i] >= 0 && r->data[i] <= 255)) fuzz_fail(TARGET, "value %g at %lld", (double)r->data[i], (long long)i);
    } else if (s != GS_ERR_FORMAT && s != GS_ERR_IO) {
        fuzz_fail(TARGET, "a bad file is status %d: %s", (int)s, err.message);
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_write_file(NULL, ".jpg", data, size, path);
    gs_raster big = {0}, small = {0};
    gs_status bs = read_capped(path, 256, &big);
    gs_status ss = read_capped(path, 64, &small);
    if (bs == GS_OK && big.width <= 64 && big.height <= 64) {
        if (ss != GS_OK) fuzz_fail(TARGET, "read under 256 px, refused under 64 px at %lldx%lld", (long long)big.width,
                                   (long long)big.height);
        if (small.width != big.width || small.height != big.height || small.bands != big.bands ||
            memcmp(small.data, big.data, (size_t)(big.width * big.height * big.bands) * sizeof *big.data))
            fuzz_fail(TARGET, "the same file read twice gave different images");
    } else if (ss == GS_OK && bs != GS_OK) {
        fuzz_fail(TARGET, "read under 64 px, refused under 256 px");
    }
    gs_raster_free(&big);
    gs_raster_free(&small);
    fuzz_remove(path);
    return 0;
}
