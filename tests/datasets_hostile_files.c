/* Hostile files (issue 15): inputs that are valid enough to get past the
 * first checks but would make a reader index out of bounds, allocate what a
 * header declares, or pass NaN on to training.  Each test writes its own
 * file, so it runs without ../shared; the reproducers in ../shared/repro are
 * read too when present (skipped visibly when absent). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tiffio.h>
#include <unistd.h>

#include "cache.h"
#include "image_io.h"
#include "loader.h"
#include "stats.h"
#include "synthetic.h"
#include "test_paths.h"

/* ../shared/repro/<name> (the reproducers sit next to ../shared/data). */
static bool repro_path(const char *name, char *path, size_t size) {
    snprintf(path, size, "%s/../repro/%s", test_shared_data_dir(), name);
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- YCbCr TIFF ------------------------------------------------------------ */

static unsigned char clamp_byte(double v) { return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : lrint(v)); }

/* The RGB a YCbCr TIFF encodes, computed here from its raw strips as the
 * TIFF 6.0 spec (section 21) lays them out and JFIF converts them
 * (default coefficients 0.299 / 0.587 / 0.114 and reference black/white
 * 0-255, chroma centred on 128): each sh x sv block of pixels is stored as
 * its sh * sv lumas, then one Cb, then one Cr.  Uncompressed files only.
 * rgb: 3 planes of width x height. */
static void reference_ycbcr(const char *path, int64_t *width, int64_t *height, unsigned char **rgb) {
    TIFFSetWarningHandler(NULL); /* the fuzzer's file has a tag libtiff does not know */
    TIFF *tif = TIFFOpen(path, "r");
    cr_assert_not_null(tif, "cannot open %s", path);
    uint32_t w = 0, h = 0, rows_per_strip = 0;
    uint16_t sh = 2, sv = 2, compression = 0;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
    TIFFGetFieldDefaulted(tif, TIFFTAG_YCBCRSUBSAMPLING, &sh, &sv);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
    cr_assert_eq(compression, COMPRESSION_NONE, "the reference decodes uncompressed YCbCr only");
    if (rows_per_strip > h) rows_per_strip = h;
    cr_assert_eq(rows_per_strip % sv, 0);
    int64_t plane = (int64_t)w * h, blocks_across = (w + sh - 1) / sh, block_bytes = sh * sv + 2;
    unsigned char *out = malloc((size_t)plane * 3);
    for (uint32_t s = 0; s < TIFFNumberOfStrips(tif); s++) {
        tmsize_t n = TIFFRawStripSize(tif, s);
        unsigned char *raw = malloc((size_t)n);
        cr_assert_eq(TIFFReadRawStrip(tif, s, raw, n), n);
        uint32_t row0 = s * rows_per_strip;
        for (uint32_t r = row0; r < h && r < row0 + rows_per_strip; r++)
            for (uint32_t c = 0; c < w; c++) {
                int64_t block = ((r - row0) / sv) * blocks_across + c / sh;
                cr_assert_lt((block + 1) * block_bytes, n + 1, "%s: strip %u is short", path, s);
                const unsigned char *b = raw + block * block_bytes;
                double y = b[((r - row0) % sv) * sh + c % sh], cb = b[sh * sv] - 128.0, cr = b[sh * sv + 1] - 128.0;
                out[(int64_t)r * w + c] = clamp_byte(y + 1.402 * cr);
                out[plane + (int64_t)r * w + c] = clamp_byte(y - 0.344136 * cb - 0.714136 * cr);
                out[2 * plane + (int64_t)r * w + c] = clamp_byte(y + 1.772 * cb);
            }
        free(raw);
    }
    TIFFClose(tif);
    *width = w;
    *height = h;
    *rgb = out;
}

/* gs_tiff_read gives the RGB the file encodes, within libtiff's fixed-point
 * rounding. */
static void expect_reads_as_reference(const char *path) {
    int64_t w, h;
    unsigned char *want;
    reference_ycbcr(path, &w, &h, &want);
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_tiff_read(path, &r, &err), GS_OK, "%s", err.message);
    cr_assert_eq(r.bands, 3);
    cr_assert_eq(r.width, w);
    cr_assert_eq(r.height, h);
    cr_expect_eq(r.type, GS_PIXEL_U8);
    int64_t off = 0;
    double worst = 0;
    for (int64_t i = 0; i < 3 * w * h; i++) {
        double d = fabs(r.data[i] - want[i]);
        if (d > worst) worst = d, off = i;
    }
    cr_expect_leq(worst, 2.0, "%s: band %lld, pixel %lld decoded to %g, the file encodes %d", path,
                  (long long)(off / (w * h)), (long long)(off % (w * h)), (double)r.data[off], want[off]);
    gs_raster_free(&r);
    free(want);
}

/* Writes an uncompressed YCbCr TIFF with 2 x 2 chroma subsampling (what the
 * reproducers are): luma varying per pixel, chroma per block, so a reader
 * that takes the packed blocks for pixel-interleaved samples, or reads past
 * the strip, sees other values. */
static void write_ycbcr_subsampled(const char *path, uint32_t w, uint32_t h, uint32_t rows_per_strip) {
    TIFF *tif = TIFFOpen(path, "w");
    cr_assert_not_null(tif);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_YCBCR);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    TIFFSetField(tif, TIFFTAG_YCBCRSUBSAMPLING, 2, 2);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
    uint32_t across = (w + 1) / 2;
    for (uint32_t s = 0, row0 = 0; row0 < h; s++, row0 += rows_per_strip) {
        uint32_t rows = h - row0 < rows_per_strip ? h - row0 : rows_per_strip, down = (rows + 1) / 2;
        size_t n = (size_t)across * down * 6;
        unsigned char *buf = malloc(n), *b = buf;
        for (uint32_t by = 0; by < down; by++)
            for (uint32_t bx = 0; bx < across; bx++, b += 6) {
                for (int k = 0; k < 4; k++) {
                    uint32_t r = row0 + 2 * by + k / 2, c = 2 * bx + k % 2;
                    b[k] = (unsigned char)(40 + (r * 3 + c * 5) % 170);
                }
                b[4] = (unsigned char)(100 + (bx * 7) % 60);            /* Cb */
                b[5] = (unsigned char)(110 + ((row0 / 2 + by) * 11) % 50); /* Cr */
            }
        cr_assert_geq(TIFFWriteEncodedStrip(tif, s, buf, (tmsize_t)n), 0);
        free(buf);
    }
    TIFFClose(tif);
}

Test(datasets_hostile_files, ycbcr_subsampled_tiff_reads_as_the_rgb_it_encodes) {
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ycbcr.tif", dir);
    write_ycbcr_subsampled(path, 70, 68, 16); /* 5 strips, the last of 4 rows */
    expect_reads_as_reference(path);

    /* A window (what the geotiff format reads per patch) is the same pixels
     * as the whole image, also when it starts inside a strip and a block. */
    gs_raster all, win;
    gs_error err = {0};
    cr_assert_eq(gs_tiff_read(path, &all, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_tiff_read_window(path, 5, 17, 40, 30, &win, &err), GS_OK, "%s", err.message);
    for (int b = 0; b < 3; b++)
        for (int64_t y = 0; y < 30; y++)
            for (int64_t x = 0; x < 40; x++)
                cr_assert_eq(win.data[(b * 30 + y) * 40 + x], all.data[(b * 68 + 17 + y) * 70 + 5 + x],
                             "band %d, window pixel (%lld, %lld)", b, (long long)y, (long long)x);
    gs_raster_free(&win);

    /* Through the dataset format: geotiff:DIR tiles it into one 64 px patch. */
    gs_dataset ds;
    cr_assert_eq(test_open_dataset("geotiff", dir, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 1);
    cr_assert_eq(ds.bands, 3);
    float *pixels = malloc(sizeof(float) * 3 * 64 * 64);
    gs_sample_data data = {.pixels = pixels};
    cr_assert_eq(ds.format->read(&ds, 0, &data, &err), GS_OK, "%s", err.message);
    for (int b = 0; b < 3; b++)
        for (int64_t y = 0; y < 64; y++)
            for (int64_t x = 0; x < 64; x++)
                cr_assert_eq(pixels[(b * 64 + y) * 64 + x], all.data[(b * 68 + y) * 70 + x]);
    free(pixels);
    gs_dataset_close(&ds);
    gs_raster_free(&all);
    test_remove_tree(dir);
}

static void expect_repro_reads(const char *name) {
    char path[1024];
    if (!repro_path(name, path, sizeof path)) cr_skip_test("reproducer %s is absent", path);
    expect_reads_as_reference(path);
}

Test(datasets_hostile_files, repro_ycbcr_subsampled_overflow) { expect_repro_reads("tiff-ycbcr-subsampled-overflow.tif"); }
Test(datasets_hostile_files, repro_tiff_fuzzer_overflow) { expect_repro_reads("tiff-fuzzer-overflow.tif"); }
Test(datasets_hostile_files, repro_ycbcr_subsampled_256) { expect_repro_reads("tiff-ycbcr-subsampled-256.tif"); }

/* JPEG-compressed YCbCr, the common JPEG-in-TIFF orthophoto: libtiff's JPEG
 * codec converts to RGB, read through the ordinary strip reader. */
Test(datasets_hostile_files, jpeg_ycbcr_tiff_reads_as_rgb) {
    if (!TIFFIsCODECConfigured(COMPRESSION_JPEG)) cr_skip_test("this libtiff has no JPEG codec");
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/jpeg-ycbcr.tif", dir);
    enum { W = 64, H = 48 };
    TIFF *tif = TIFFOpen(path, "w");
    cr_assert_not_null(tif);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, W);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, H);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_YCBCR);
    TIFFSetField(tif, TIFFTAG_YCBCRSUBSAMPLING, 2, 2);
    TIFFSetField(tif, TIFFTAG_JPEGQUALITY, 95);
    TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB); /* we hand it RGB */
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 16);
    unsigned char row[W * 3];
    for (uint32_t y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            row[3 * x] = (unsigned char)(60 + 2 * x);
            row[3 * x + 1] = (unsigned char)(50 + 3 * y);
            row[3 * x + 2] = (unsigned char)(120 + x - y);
        }
        cr_assert_geq(TIFFWriteScanline(tif, row, y, 0), 0);
    }
    TIFFClose(tif);
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_tiff_read(path, &r, &err), GS_OK, "%s", err.message);
    cr_assert_eq(r.bands, 3);
    double worst = 0;
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++) {
            double want[3] = {60 + 2 * x, 50 + 3 * y, 120 + x - y};
            for (int b = 0; b < 3; b++) worst = fmax(worst, fabs(r.data[(b * H + y) * W + x] - want[b]));
        }
    cr_expect_leq(worst, 12.0, "JPEG YCbCr at quality 95 decoded %g away from its RGB", worst);
    gs_raster_free(&r);
    test_remove_tree(dir);
}

/* ---- sizes declared in headers -------------------------------------------- */

/* A small JPEG whose SOF0 header is rewritten to declare width x height:
 * what the 461-byte reproducers are. */
static void write_jpeg_declaring(const char *path, unsigned width, unsigned height) {
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, 3, 16, 16, &err), GS_OK);
    for (int i = 0; i < 3 * 256; i++) r.data[i] = (float)(i % 200);
    cr_assert_eq(gs_jpeg_write(path, &r, 90, &err), GS_OK, "%s", err.message);
    gs_raster_free(&r);
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    size_t at = 0;
    while (at + 9 < n && !(buf[at] == 0xFF && buf[at + 1] == 0xC0)) at++;
    cr_assert_lt(at + 9, n, "no SOF0 marker in %s", path);
    buf[at + 5] = (unsigned char)(height >> 8), buf[at + 6] = (unsigned char)height;
    buf[at + 7] = (unsigned char)(width >> 8), buf[at + 8] = (unsigned char)width;
    fseek(f, 0, SEEK_SET);
    cr_assert_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
}

static void expect_refused(gs_status st, const gs_error *err, const char *path, const char *size, const char *limit) {
    cr_expect_eq(st, GS_ERR_FORMAT, "%s was not refused: %s", path, err->message);
    cr_expect(strstr(err->message, path) != NULL, "the file is not named: %s", err->message);
    cr_expect(strstr(err->message, size) != NULL, "the declared size %s is not named: %s", size, err->message);
    cr_expect(strstr(err->message, limit) != NULL, "the limit %s is not named: %s", limit, err->message);
}

Test(datasets_hostile_files, eurosat_jpeg_declaring_60783_rows_is_refused_before_decoding) {
    char dir[256], path[400];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/Forest", dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/Forest/Forest_1.jpg", dir);
    write_jpeg_declaring(path, 256, 60783);
    gs_raster r;
    gs_error err = {0};
    gs_image_limits eurosat = {.max_width = 64, .max_height = 64};
    expect_refused(gs_jpeg_read_limited(path, &eurosat, &r, &err), &err, path, "256 x 60783", "64 x 64");
    cr_expect_null(r.data);

    /* The format passes its size: reading the sample gives the same. */
    gs_dataset ds;
    cr_assert_eq(test_open_dataset("eurosat-rgb", dir, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 1);
    float pixels[3 * 64 * 64];
    gs_sample_data data = {.pixels = pixels};
    memset(&err, 0, sizeof err);
    expect_refused(ds.format->read(&ds, 0, &data, &err), &err, path, "256 x 60783", "64 x 64");
    gs_dataset_close(&ds);

    /* Without a format's size, the default byte cap still holds. */
    write_jpeg_declaring(path, 65500, 65500);
    memset(&err, 0, sizeof err);
    expect_refused(gs_jpeg_read(path, &r, &err), &err, path, "65500 x 65500", "1000000000 bytes");
    test_remove_tree(dir);
}

Test(datasets_hostile_files, resisc45_caps_at_256) {
    char dir[256], path[400];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/forest", dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/forest/forest_001.jpg", dir);
    write_jpeg_declaring(path, 257, 256);
    gs_dataset ds;
    gs_error err = {0};
    cr_assert_eq(test_open_dataset("resisc45", dir, &ds, &err), GS_OK, "%s", err.message);
    float *pixels = malloc(sizeof(float) * 3 * 256 * 256);
    gs_sample_data data = {.pixels = pixels};
    expect_refused(ds.format->read(&ds, 0, &data, &err), &err, path, "257 x 256", "256 x 256");
    free(pixels);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

Test(datasets_hostile_files, repro_jpeg_headers_are_refused) {
    const char *names[] = {"jpeg-60783x256-header.jpg", "jpeg-65500x65500-header.jpg"};
    int found = 0;
    for (int i = 0; i < 2; i++) {
        char path[1024];
        if (!repro_path(names[i], path, sizeof path)) continue;
        found++;
        gs_raster r;
        gs_error err = {0};
        gs_image_limits eurosat = {.max_width = 64, .max_height = 64};
        cr_expect_eq(gs_jpeg_read_limited(path, &eurosat, &r, &err), GS_ERR_FORMAT, "%s", path);
        cr_expect(strstr(err.message, "refused before decoding") != NULL, "%s", err.message);
        cr_expect(strstr(err.message, "64 x 64") != NULL, "%s", err.message);
    }
    if (!found) cr_skip_test("reproducers jpeg-*-header.jpg are absent from %s/../repro", test_shared_data_dir());
}

/* A 122-byte TIFF declaring a 40000 x 40000 scene in one LZW strip (no data
 * written): the geotiff format would index 390,625 patches of it and a
 * window read allocate a 1.6 GB strip. */
static void write_tiff_declaring(const char *path, uint32_t side) {
    TIFF *tif = TIFFOpen(path, "w");
    cr_assert_not_null(tif);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, side);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, side);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, side);
    TIFFWriteCheck(tif, 0, "write_tiff_declaring");
    TIFFWriteDirectory(tif);
    TIFFClose(tif);
}

Test(datasets_hostile_files, geotiff_scene_larger_than_the_cap_is_refused) {
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/huge.tif", dir);
    write_tiff_declaring(path, 40000);
    gs_dataset ds;
    gs_error err = {0};
    expect_refused(test_open_dataset("geotiff", dir, &ds, &err), &err, path, "40000 x 40000", "1000000000 bytes");
    gs_raster r;
    memset(&err, 0, sizeof err);
    expect_refused(gs_tiff_read_window(path, 0, 0, 64, 64, &r, &err), &err, path, "1600000000 bytes",
                   "1000000000 bytes");
    memset(&err, 0, sizeof err);
    expect_refused(gs_tiff_read(path, &r, &err), &err, path, "40000 x 40000", "1000000000 bytes");
    remove(path);

    /* The cap is an option: a 128 x 128 scene passes the default, not 10 kB. */
    memset(&err, 0, sizeof err);
    gs_raster small;
    cr_assert_eq(gs_raster_alloc(&small, 1, 128, 128, &err), GS_OK);
    snprintf(path, sizeof path, "%s/small.tif", dir);
    cr_assert_eq(gs_tiff_write(path, &small, GS_PIXEL_U8, 0, &err), GS_OK, "%s", err.message);
    gs_raster_free(&small);
    char spec[320];
    snprintf(spec, sizeof spec, "geotiff:%s", dir);
    cr_assert_eq(gs_dataset_open(spec, NULL, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_samples, 4);
    gs_dataset_close(&ds);
    gs_dataset_options options = {.max_scene_bytes = 10000};
    expect_refused(gs_dataset_open(spec, &options, &ds, &err), &err, path, "16384 bytes", "10000 bytes");
    test_remove_tree(dir);
}

Test(datasets_hostile_files, eurosat_ms_tiff_larger_than_64_is_refused_before_decoding) {
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/big.tif", dir);
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, 13, 96, 80, &err), GS_OK);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U16, 1, &err), GS_OK, "%s", err.message);
    gs_raster_free(&r);
    gs_image_limits eurosat = {.max_width = 64, .max_height = 64};
    expect_refused(gs_tiff_read_limited(path, &eurosat, &r, &err), &err, path, "80 x 96", "64 x 64");
    test_remove_tree(dir);
}

/* ---- non-finite values ---------------------------------------------------- */

/* A 64 x 64 float32 scene whose band 2 holds a NaN at row 3, column 5 (and
 * an infinity further on), next to a clean scene. */
static void write_nan_scenes(const char *dir, char *bad_path, size_t size) {
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, 2, 64, 64, &err), GS_OK);
    for (int64_t i = 0; i < 2 * 64 * 64; i++) r.data[i] = 0.25f * (float)(i % 97);
    char path[400];
    snprintf(path, sizeof path, "%s/a_clean.tif", dir);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_F32, 0, &err), GS_OK, "%s", err.message);
    r.data[64 * 64 + 3 * 64 + 5] = NAN;
    r.data[64 * 64 + 40 * 64 + 7] = INFINITY;
    snprintf(bad_path, size, "%s/b_nan.tif", dir);
    cr_assert_eq(gs_tiff_write(bad_path, &r, GS_PIXEL_F32, 1, &err), GS_OK, "%s", err.message);
    gs_raster_free(&r);
}

static void expect_names_nan(const gs_error *err, const char *path) {
    cr_expect(strstr(err->message, path) != NULL, "the file is not named: %s", err->message);
    cr_expect(strstr(err->message, "band 2") != NULL, "the band is not named: %s", err->message);
    cr_expect(strstr(err->message, "band 1") == NULL, "band 1 is clean: %s", err->message);
    cr_expect(strstr(err->message, "2 values") != NULL, "%s", err->message);
    cr_expect(strstr(err->message, "row 3, column 5") != NULL, "%s", err->message);
}

Test(datasets_hostile_files, nan_in_a_float_geotiff_is_named_and_refused_for_training) {
    char dir[256], bad[400];
    test_temp_dir(dir, sizeof dir);
    write_nan_scenes(dir, bad, sizeof bad);
    gs_dataset ds;
    gs_error err = {0};
    cr_assert_eq(test_open_dataset("geotiff", dir, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 2);
    float pixels[2 * 64 * 64];
    gs_sample_data data = {.pixels = pixels};
    cr_assert_eq(ds.format->read(&ds, 0, &data, &err), GS_OK, "%s", err.message);
    cr_expect_eq(gs_sample_check_finite(&ds, 0, pixels, &err), GS_OK, "the clean scene: %s", err.message);
    cr_assert_eq(ds.format->read(&ds, 1, &data, &err), GS_OK, "%s", err.message);
    cr_expect_eq(gs_sample_check_finite(&ds, 1, pixels, &err), GS_ERR_FORMAT, "a NaN went unnoticed");
    expect_names_nan(&err, bad);

    /* The loader (training, band statistics) refuses it. */
    gs_loader_config cfg = {.dataset = &ds, .batch_size = 2, .workers = 1, .epochs = 1};
    gs_loader *loader;
    cr_assert_eq(gs_loader_create(&cfg, &loader, &err), GS_OK, "%s", err.message);
    const gs_batch *b;
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_loader_next(loader, &b, &err), GS_ERR_FORMAT, "the loader passed a NaN on");
    expect_names_nan(&err, bad);
    gs_loader_destroy(loader);

    gs_band_stats stats;
    int64_t all[] = {0, 1};
    memset(&err, 0, sizeof err);
    cr_expect_neq(gs_stats_compute(&ds, all, 2, 1, NULL, &stats, &err), GS_OK, "statistics over a NaN were computed");
    expect_names_nan(&err, bad);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

/* `geossl data check` lists the file and band as bad and exits 1. */
Test(datasets_hostile_files, data_check_names_the_nan_file_and_band) {
    if (access(GEOSSL_BINARY, X_OK) != 0) cr_skip_test("%s is not built", GEOSSL_BINARY);
    char dir[256], bad[400], command[1200];
    test_temp_dir(dir, sizeof dir);
    write_nan_scenes(dir, bad, sizeof bad);
    snprintf(command, sizeof command, "%s data check geotiff:%s 2>&1", GEOSSL_BINARY, dir);
    FILE *p = popen(command, "r");
    cr_assert_not_null(p);
    char output[8192];
    size_t n = fread(output, 1, sizeof output - 1, p);
    output[n] = '\0';
    int status = pclose(p);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1, "data check exited %d:\n%s", status, output);
    char *line = strstr(output, "bad: ");
    cr_assert_not_null(line, "no bad file listed:\n%s", output);
    cr_expect(strstr(line, bad) != NULL && strstr(line, "band 2") != NULL, "%s", output);
    cr_expect(strstr(output, " nan") == NULL, "statistics still print nan:\n%s", output);
    test_remove_tree(dir);
}

/* A statistics file holding "nan" (sscanf reads it) is malformed, not a
 * mean that turns every normalized pixel into NaN. */
Test(datasets_hostile_files, stats_file_with_nan_is_malformed) {
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.stats", dir);
    FILE *f = fopen(path, "w");
    fputs("geossl band statistics 1\nformat geotiff\nroot /x\nfingerprint 1 2 3\nsamples 2 00000000000000ab\n"
          "values 100\nbands 2\nband 0 band1 1.5 0.5\nband 1 band2 nan 0\n",
          f);
    fclose(f);
    gs_band_stats s;
    gs_source_fingerprint fp;
    gs_error err = {0};
    cr_expect_eq(gs_stats_load(path, &s, &fp, &err), GS_ERR_FORMAT, "a nan mean was loaded");
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    test_remove_tree(dir);
}

static gs_status load_stats_text(const char *dir, const char *bands, gs_band_stats *s, gs_error *err) {
    char path[300];
    snprintf(path, sizeof path, "%s/y.stats", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "geossl band statistics 1\nformat eurosat-rgb\nroot data\nfingerprint 1 1 1\nsamples 1 0\n"
               "values 4096\n%s",
            bands);
    fclose(f);
    gs_source_fingerprint fp;
    return gs_stats_load(path, s, &fp, err);
}

/* What fuzz_band_stats found (tests/fuzz/regressions/band_stats): values a
 * double holds but float does not.  A mean of 1e300 would be infinity in
 * the loader's float copy: malformed.  A std of 1e-300 is 0 in float: a
 * constant band, normalized by 1 rather than divided by 0.  Bytes after the
 * numbers make a line malformed. */
Test(datasets_hostile_files, stats_beyond_float_are_refused_or_made_safe) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    gs_band_stats s;
    gs_error err = {0};
    cr_expect_eq(load_stats_text(dir, "bands 2\nband 0 red 100 2\nband 1 green 1e300 2\n", &s, &err), GS_ERR_FORMAT,
                 "a mean of 1e300 was loaded");
    memset(&err, 0, sizeof err);
    cr_expect_eq(load_stats_text(dir, "bands 1\nband 0 red 100 57.05e-300\xff\xff8\n", &s, &err), GS_ERR_FORMAT,
                 "trailing bytes were ignored");
    memset(&err, 0, sizeof err);
    cr_assert_eq(load_stats_text(dir, "bands 2\nband 0 red 100 1e-300\nband 1 green 7 1e-40\n", &s, &err), GS_OK,
                 "%s", err.message);
    float mean[GS_MAX_BANDS], std[GS_MAX_BANDS];
    gs_stats_to_float(&s, mean, std);
    for (int b = 0; b < 2; b++)
        cr_expect(std[b] == 1.0f, "band %d: std %g in float, the loader divides by it", b, (double)std[b]);
    test_remove_tree(dir);
}

/* ---- cache labels -------------------------------------------------------- */

/* A cache whose label column holds a value outside the class count (the
 * defect seen: 536870914 in a 10-class EuroSAT cache) is refused when it is
 * opened, naming the sample, instead of indexing per-class arrays with it.
 * The label is put into the source before the cache is built, so the file
 * is otherwise intact (a digest over the file, if any, matches). */
Test(datasets_hostile_files, cache_label_outside_the_class_count_is_refused) {
    char dir[256], data[300], spec[320], path[320];
    test_temp_dir(dir, sizeof dir);
    snprintf(data, sizeof data, "%s/eurosat", dir);
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", data, &(gs_synth_options){.count = 2}, &err), GS_OK, "%s",
                 err.message);
    gs_dataset src, c;
    snprintf(spec, sizeof spec, "eurosat-rgb:%s", data);
    cr_assert_eq(gs_dataset_open(spec, NULL, &src, &err), GS_OK, "%s", err.message);
    snprintf(path, sizeof path, "%s/c.h5", dir);
    cr_assert_eq(gs_cache_build(&src, path, NULL, NULL, &err), GS_OK, "%s", err.message);
    int64_t n = src.n_samples;
    cr_assert_eq(gs_cache_open(path, &c, &err), GS_OK, "the intact cache must open: %s", err.message);
    gs_dataset_close(&c);
    remove(path);

    int32_t label = src.samples[n - 1].label;
    src.samples[n - 1].label = 536870914;
    cr_assert_eq(gs_cache_build(&src, path, NULL, NULL, &err), GS_OK, "%s", err.message);
    src.samples[n - 1].label = label;
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_cache_open(path, &c, &err), GS_ERR_FORMAT, "a label of 536870914 in a 10-class cache was accepted");
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    cr_expect(strstr(err.message, "536870914") != NULL, "%s", err.message);
    cr_expect(strstr(err.message, src.samples[n - 1].stem) != NULL, "the sample is not named: %s", err.message);
    gs_dataset_close(&src);
    test_remove_tree(dir);
}
