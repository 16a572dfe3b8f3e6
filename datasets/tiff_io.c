/* TIFF and GeoTIFF through libtiff: probing, reading (whole, windowed,
 * size-capped), band names and EPSG codes from GDAL's tags, writing. */
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
#include <tiffio.h>

/* ---- TIFF ---------------------------------------------------------------- */

typedef struct tiff_messages {
    char text[256];
} tiff_messages;

/* Per-file handlers (libtiff >= 4.5): keep the first message for our error
 * and return 1 so libtiff's global handler stays silent. */
static int tiff_error_handler(TIFF *tif, void *user, const char *module, const char *fmt, va_list args) {
    (void)tif;
    (void)module;
    tiff_messages *m = user;
    if (!m->text[0]) vsnprintf(m->text, sizeof m->text, fmt, args);
    return 1;
}

static int tiff_warning_handler(TIFF *tif, void *user, const char *module, const char *fmt, va_list args) {
    (void)tif;
    (void)user;
    (void)module;
    (void)fmt;
    (void)args;
    return 1; /* GeoTIFF keys unknown to libtiff warn on every file: ignore */
}

static TIFF *tiff_open(const char *path, const char *mode, tiff_messages *m, gs_error *err) {
    memset(m, 0, sizeof *m);
    FILE *probe = strchr(mode, 'r') ? fopen(path, "rb") : NULL;
    if (strchr(mode, 'r')) {
        if (!probe) {
            gs_error_set(err, GS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
            return NULL;
        }
        fclose(probe);
    }
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(options, tiff_error_handler, m);
    TIFFOpenOptionsSetWarningHandlerExtR(options, tiff_warning_handler, m);
    TIFF *tif = TIFFOpenExt(path, mode, options);
    TIFFOpenOptionsFree(options);
    if (!tif)
        gs_error_set(err, strchr(mode, 'r') ? GS_ERR_FORMAT : GS_ERR_IO, "%s is not a readable TIFF (%s)", path,
                     m->text[0] ? m->text : "unknown reason");
    return tif;
}

static gs_status tiff_layout(TIFF *tif, const char *path, int64_t *width, int64_t *height, int *bands,
                             gs_pixel_type *type, gs_error *err) {
    uint32_t w = 0, h = 0;
    uint16_t spp = 1, bps = 0, format = SAMPLEFORMAT_UINT;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    if (w == 0 || h == 0 || spp == 0)
        return gs_error_set(err, GS_ERR_FORMAT, "%s: empty image (%u x %u, %u bands)", path, w, h, spp);
    if (bps == 8 && format == SAMPLEFORMAT_UINT)
        *type = GS_PIXEL_U8;
    else if (bps == 16 && format == SAMPLEFORMAT_UINT)
        *type = GS_PIXEL_U16;
    else if (bps == 16 && format == SAMPLEFORMAT_INT)
        *type = GS_PIXEL_I16;
    else if (bps == 32 && format == SAMPLEFORMAT_IEEEFP)
        *type = GS_PIXEL_F32;
    else if (bps == 64 && format == SAMPLEFORMAT_IEEEFP)
        *type = GS_PIXEL_F64;
    else
        return gs_error_set(err, GS_ERR_FORMAT,
                            "%s: unsupported sample type (%u bits, format %u); geossl reads 8/16-bit integers "
                            "and 32/64-bit floats",
                            path, bps, format);
    *width = w;
    *height = h;
    *bands = spp;
    return GS_OK;
}

gs_status gs_tiff_probe(const char *path, int64_t *width, int64_t *height, int *bands, gs_pixel_type *type,
                        gs_error *err) {
    tiff_messages m;
    TIFF *tif = tiff_open(path, "r", &m, err);
    if (!tif) return err->status;
    gs_status status = tiff_layout(tif, path, width, height, bands, type, err);
    TIFFClose(tif);
    return status;
}

static float sample_at(const unsigned char *buf, gs_pixel_type type, size_t i) {
    switch (type) {
    case GS_PIXEL_U8: return buf[i];
    case GS_PIXEL_U16: {
        uint16_t v;
        memcpy(&v, buf + 2 * i, 2);
        return v;
    }
    case GS_PIXEL_I16: {
        int16_t v;
        memcpy(&v, buf + 2 * i, 2);
        return v;
    }
    case GS_PIXEL_F32: {
        float v;
        memcpy(&v, buf + 4 * i, 4);
        return v;
    }
    case GS_PIXEL_F64: {
        double v;
        memcpy(&v, buf + 8 * i, 8);
        return (float)v;
    }
    }
    return 0.0f;
}

/* Copies the part of one decoded strip or tile (rows x cols at (row0, col0)
 * of the image; `planes` samples per pixel, for `plane` when separate) that
 * falls inside the window (out->height x out->width at (y0, x0)) into the
 * band-major raster. */
static void scatter_block(gs_raster *out, int64_t y0, int64_t x0, const unsigned char *buf, int64_t row0,
                          int64_t col0, int64_t rows, int64_t cols, int planes, int plane) {
    int64_t r_lo = y0 > row0 ? y0 - row0 : 0, r_hi = y0 + out->height - row0;
    int64_t c_lo = x0 > col0 ? x0 - col0 : 0, c_hi = x0 + out->width - col0;
    if (r_hi > rows) r_hi = rows;
    if (c_hi > cols) c_hi = cols;
    for (int64_t r = r_lo; r < r_hi; r++)
        for (int64_t c = c_lo; c < c_hi; c++)
            for (int p = 0; p < planes; p++) {
                int band = planes == 1 ? plane : p;
                float v = sample_at(buf, out->type, (size_t)((r * cols + c) * planes + p));
                out->data[((int64_t)band * out->height + row0 + r - y0) * out->width + col0 + c - x0] = v;
            }
}

/* Every strip or tile must lie inside the file.  libtiff checks that only
 * for the blocks it decodes, so a window read of a cut file could succeed
 * on its intact half; a truncated file is bad wherever it is read. */
static gs_status check_complete(TIFF *tif, const char *path, gs_error *err) {
    struct stat st;
    if (stat(path, &st) != 0) return gs_error_set(err, GS_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
    bool tiled = TIFFIsTiled(tif);
    uint64_t *offsets = NULL, *counts = NULL;
    TIFFGetField(tif, tiled ? TIFFTAG_TILEOFFSETS : TIFFTAG_STRIPOFFSETS, &offsets);
    TIFFGetField(tif, tiled ? TIFFTAG_TILEBYTECOUNTS : TIFFTAG_STRIPBYTECOUNTS, &counts);
    if (!offsets || !counts) return gs_error_set(err, GS_ERR_FORMAT, "%s: no %s table", path, tiled ? "tile" : "strip");
    uint32_t n = tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
    for (uint32_t i = 0; i < n; i++)
        if (offsets[i] + counts[i] > (uint64_t)st.st_size)
            return gs_error_set(err, GS_ERR_FORMAT,
                                "%s is truncated: %s %u ends at byte %llu, the file has %lld bytes", path,
                                tiled ? "tile" : "strip", i, (unsigned long long)(offsets[i] + counts[i]),
                                (long long)st.st_size);
    return GS_OK;
}

/* The size of what one strip or tile decodes to is the header's to claim:
 * it is allocated, so it is capped like a whole image. */
static gs_status check_block_size(const char *path, bool tiled, tmsize_t block, const gs_image_limits *limits,
                                  gs_error *err) {
    if (block <= 0)
        return gs_error_set(err, GS_ERR_FORMAT, "%s: invalid %s size (libtiff reports %lld bytes)", path,
                            tiled ? "tile" : "strip", (long long)block);
    if ((int64_t)block > gs_image_limit_bytes(limits))
        return gs_error_set(err, GS_ERR_FORMAT,
                            "%s declares %s of %lld bytes each; the limit is %lld bytes: refused before decoding", path,
                            tiled ? "tiles" : "strips", (long long)block,
                            (long long)gs_image_limit_bytes(limits));
    return GS_OK;
}

/* YCbCr (photometric 6) stores luma and chroma, and with chroma
 * subsampling (2 x 2 unless the file says otherwise) packs each block of
 * pixels as its lumas then one Cb and one Cr: a strip is smaller than
 * width x rows x 3 and not pixel-interleaved, so it cannot be read as
 * samples.  libtiff's RGBA interface converts it.  It decodes whole rows:
 * from the strip or tile row where the window starts (subsampled blocks
 * are aligned there) to the window's last row, the full width (its column
 * offset is not block-aware); rows come in the order the file stores them,
 * as the sample reader returns them.  out is allocated (3 bands). */
static gs_status read_ycbcr_window(TIFF *tif, const char *path, int64_t width, int64_t height, int64_t x0,
                                   int64_t y0, const gs_image_limits *limits, gs_raster *out, gs_error *err) {
    char emsg[1024] = "";
    if (out->bands != 3 || out->type != GS_PIXEL_U8 || !TIFFRGBAImageOK(tif, emsg))
        return gs_error_set(err, GS_ERR_FORMAT,
                            "%s: photometric interpretation YCbCr (6) with %d samples of %d bits cannot be converted "
                            "to RGB%s%s; convert the file to RGB (gdal_translate -co PHOTOMETRIC=RGB)",
                            path, out->bands, 8 * gs_pixel_type_bytes(out->type), emsg[0] ? ": " : "", emsg);
    uint32_t block_rows = 0;
    if (TIFFIsTiled(tif))
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &block_rows);
    else
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &block_rows);
    if (block_rows == 0 || block_rows > height) block_rows = (uint32_t)height;
    int64_t first = y0 / block_rows * block_rows, rows = y0 + out->height - first;
    int64_t bytes = gs_image_size_mul(gs_image_size_mul(width, rows), 4);
    if (first > INT_MAX) /* libtiff's row offset is an int */
        return gs_error_set(err, GS_ERR_FORMAT, "%s: YCbCr rows from %lld on cannot be converted to RGB", path,
                            (long long)first);
    if (bytes > gs_image_limit_bytes(limits))
        return gs_error_set(err, GS_ERR_FORMAT,
                            "%s: converting YCbCr rows %lld..%lld to RGB takes %lld bytes; the limit is %lld bytes", path,
                            (long long)first, (long long)(first + rows - 1), (long long)bytes,
                            (long long)gs_image_limit_bytes(limits));
    uint32_t *raster = malloc((size_t)bytes);
    if (!raster) return gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory converting YCbCr to RGB", path);
    TIFFRGBAImage img;
    if (!TIFFRGBAImageBegin(&img, tif, 1, emsg)) {
        free(raster);
        return gs_error_set(err, GS_ERR_FORMAT, "%s: cannot convert YCbCr (photometric 6) to RGB: %s", path, emsg);
    }
    img.req_orientation = img.orientation;
    img.row_offset = (int)first;
    img.col_offset = 0;
    int ok = TIFFRGBAImageGet(&img, raster, (uint32_t)width, (uint32_t)rows);
    TIFFRGBAImageEnd(&img);
    if (ok) {
        int64_t plane = out->height * out->width;
        for (int64_t r = 0; r < out->height; r++)
            for (int64_t c = 0; c < out->width; c++) {
                uint32_t v = raster[(y0 - first + r) * width + x0 + c];
                out->data[r * out->width + c] = (float)TIFFGetR(v);
                out->data[plane + r * out->width + c] = (float)TIFFGetG(v);
                out->data[2 * plane + r * out->width + c] = (float)TIFFGetB(v);
            }
    }
    free(raster);
    return ok ? GS_OK : gs_error_set(err, GS_ERR_FORMAT, "%s: cannot decode the YCbCr pixels, truncated or corrupt?", path);
}

/* Before sample_at indexes a decoded strip or tile, what libtiff says it
 * holds must cover every sample the layout implies: rows x cols x planes
 * samples.  A layout libtiff packs differently (subsampled chroma, a codec
 * that decodes to another size) would otherwise be read out of bounds. */
static gs_status check_block_bytes(const char *path, bool tiled, uint32_t index, int64_t rows, int64_t cols,
                                   int planes, gs_pixel_type type, int64_t have, const char *what, gs_error *err) {
    int64_t need =
        gs_image_size_mul(gs_image_size_mul(gs_image_size_mul(rows, cols), planes), gs_pixel_type_bytes(type));
    if (have >= need) return GS_OK;
    return gs_error_set(err, GS_ERR_FORMAT,
                        "%s: %s %u %s %lld bytes but its %lld x %lld pixels of %d samples need %lld: the layout is "
                        "not plain samples, or the file is corrupt",
                        path, tiled ? "tile" : "strip", index, what, (long long)have, (long long)rows, (long long)cols,
                        planes, (long long)need);
}

/* Decodes only the strips or tiles that overlap the window, so a patch of a
 * large scene (a 6000 x 6000 Potsdam tile) costs a patch, not the scene.
 * width/height <= 0: the whole image, which must fit `limits`; a window is
 * the caller's size, only the blocks it decodes are checked. */
static gs_status tiff_read_region(const char *path, int64_t x0, int64_t y0, int64_t win_w, int64_t win_h,
                                  const gs_image_limits *limits, gs_raster *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    tiff_messages m;
    TIFF *tif = tiff_open(path, "r", &m, err);
    if (!tif) return err->status;
    int64_t width, height;
    int bands;
    gs_pixel_type type;
    uint16_t planar = PLANARCONFIG_CONTIG, photometric = PHOTOMETRIC_MINISBLACK, compression = COMPRESSION_NONE;
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
    if (tiff_layout(tif, path, &width, &height, &bands, &type, err) != GS_OK ||
        check_complete(tif, path, err) != GS_OK) {
        TIFFClose(tif);
        return err->status;
    }
    if (win_w <= 0 || win_h <= 0) {
        if (gs_image_check_limits(path, width, height, bands, type, limits, err) != GS_OK) {
            TIFFClose(tif);
            return err->status;
        }
        x0 = y0 = 0;
        win_w = width;
        win_h = height;
    }
    if (x0 < 0 || y0 < 0 || x0 + win_w > width || y0 + win_h > height) {
        TIFFClose(tif);
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s: window %lld x %lld at (%lld, %lld) is outside the %lld x %lld image",
                            path, (long long)win_w, (long long)win_h, (long long)x0, (long long)y0, (long long)width,
                            (long long)height);
    }
    /* JPEG-compressed YCbCr (most JPEG-in-TIFF orthophotos): libtiff's JPEG
     * codec converts to RGB itself and then reports RGB strip sizes, so the
     * sample reader below applies.  Any other YCbCr goes through RGBA. */
    bool ycbcr_rgba = false;
    if (photometric == PHOTOMETRIC_YCBCR)
        ycbcr_rgba = !(compression == COMPRESSION_JPEG && planar == PLANARCONFIG_CONTIG && bands == 3 &&
                       type == GS_PIXEL_U8 && TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB));
    bool tiled = TIFFIsTiled(tif);
    tmsize_t block = tiled ? TIFFTileSize(tif) : TIFFStripSize(tif);
    if (check_block_size(path, tiled, block, limits, err) != GS_OK ||
        gs_raster_alloc(out, bands, win_h, win_w, err) != GS_OK) {
        TIFFClose(tif);
        return err->status;
    }
    out->type = type;
    if (ycbcr_rgba) {
        gs_status st = read_ycbcr_window(tif, path, width, height, x0, y0, limits, out, err);
        TIFFClose(tif);
        if (st != GS_OK) gs_raster_free(out);
        return st;
    }
    int planes = planar == PLANARCONFIG_SEPARATE ? 1 : bands;
    unsigned char *buf = malloc((size_t)block);
    if (!buf) {
        TIFFClose(tif);
        gs_raster_free(out);
        return gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory for a %lld-byte %s", path, (long long)block,
                            tiled ? "tile" : "strip");
    }
    int n_planes = planar == PLANARCONFIG_SEPARATE ? bands : 1;
    gs_status status = GS_OK;
    bool named = false; /* err already says what is wrong */
    if (tiled) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
        if (tw == 0 || th == 0) status = GS_ERR_FORMAT;
        for (int p = 0; p < n_planes && status == GS_OK; p++)
            for (int64_t y = y0 / th * th; y < y0 + win_h && status == GS_OK; y += th)
                for (int64_t x = x0 / tw * tw; x < x0 + win_w; x += tw) {
                    ttile_t t = TIFFComputeTile(tif, (uint32_t)x, (uint32_t)y, 0, (tsample_t)p);
                    if ((status = check_block_bytes(path, tiled, t, th, tw, planes, type, block, "is declared as",
                                                    err)) != GS_OK) {
                        named = true;
                        break;
                    }
                    tmsize_t got = TIFFReadEncodedTile(tif, t, buf, block);
                    if (got < 0) {
                        status = GS_ERR_FORMAT;
                        break;
                    }
                    if ((status = check_block_bytes(path, tiled, t, th, tw, planes, type, got, "decoded to", err)) !=
                        GS_OK) {
                        named = true;
                        break;
                    }
                    scatter_block(out, y0, x0, buf, y, x, th, tw, planes, p);
                }
    } else {
        uint32_t rows_per_strip = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
        if (rows_per_strip == 0 || rows_per_strip > height) rows_per_strip = (uint32_t)height;
        for (int p = 0; p < n_planes && status == GS_OK; p++)
            for (int64_t y = y0 / rows_per_strip * rows_per_strip; y < y0 + win_h; y += rows_per_strip) {
                tstrip_t s = TIFFComputeStrip(tif, (uint32_t)y, (tsample_t)p);
                /* The last strip holds only the rows left; libtiff returns that many. */
                int64_t rows = height - y < rows_per_strip ? height - y : rows_per_strip;
                if ((status = check_block_bytes(path, tiled, s, rows, width, planes, type, block, "is declared as",
                                                err)) != GS_OK) {
                    named = true;
                    break;
                }
                tmsize_t got = TIFFReadEncodedStrip(tif, s, buf, block);
                if (got < 0) {
                    status = GS_ERR_FORMAT;
                    break;
                }
                if ((status = check_block_bytes(path, tiled, s, rows, width, planes, type, got, "decoded to", err)) !=
                    GS_OK) {
                    named = true;
                    break;
                }
                scatter_block(out, y0, x0, buf, y, 0, rows_per_strip, width, planes, p);
            }
    }
    free(buf);
    TIFFClose(tif);
    if (status != GS_OK) {
        gs_raster_free(out);
        if (named) return status;
        return gs_error_set(err, GS_ERR_FORMAT, "%s: cannot decode the pixels, truncated or corrupt? (%s)", path,
                            m.text[0] ? m.text : "read failed");
    }
    return GS_OK;
}

gs_status gs_tiff_read(const char *path, gs_raster *out, gs_error *err) {
    return tiff_read_region(path, 0, 0, 0, 0, NULL, out, err);
}

gs_status gs_tiff_read_limited(const char *path, const gs_image_limits *limits, gs_raster *out, gs_error *err) {
    return tiff_read_region(path, 0, 0, 0, 0, limits, out, err);
}

gs_status gs_tiff_read_window(const char *path, int64_t x0, int64_t y0, int64_t width, int64_t height,
                              gs_raster *out, gs_error *err) {
    if (width < 1 || height < 1) {
        memset(out, 0, sizeof *out);
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s: empty window %lld x %lld", path, (long long)width,
                            (long long)height);
    }
    return tiff_read_region(path, x0, y0, width, height, NULL, out, err);
}

/* The GDAL_METADATA text (NUL-terminated, malloc'd) or NULL when the file
 * has none.  libtiff does not know the tag: it registers it as an anonymous
 * ASCII field when reading, whose value comes with a count. */
static char *tiff_gdal_metadata(TIFF *tif) {
    const TIFFField *field = TIFFFindField(tif, TIFFTAG_GDAL_METADATA, TIFF_ANY);
    if (!field || TIFFFieldDataType(field) != TIFF_ASCII) return NULL;
    const char *data = NULL;
    size_t length = 0;
    if (TIFFFieldPassCount(field)) {
        if (TIFFFieldReadCount(field) == TIFF_VARIABLE2) {
            uint32_t n = 0;
            if (!TIFFGetField(tif, TIFFTAG_GDAL_METADATA, &n, &data)) return NULL;
            length = n;
        } else {
            uint16_t n = 0;
            if (!TIFFGetField(tif, TIFFTAG_GDAL_METADATA, &n, &data)) return NULL;
            length = n;
        }
    } else {
        if (!TIFFGetField(tif, TIFFTAG_GDAL_METADATA, &data)) return NULL;
        length = data ? strlen(data) : 0;
    }
    if (!data) return NULL;
    char *text = malloc(length + 1);
    if (!text) return NULL;
    memcpy(text, data, length);
    text[length] = '\0'; /* the count may or may not include the file's NUL */
    return text;
}

/* The value of attribute `name` inside the start tag [tag, end), or false. */
static bool xml_attribute(const char *tag, const char *end, const char *name, char *out, size_t size) {
    size_t n = strlen(name);
    for (const char *p = tag + 1; p + n + 2 < end; p++) {
        if ((p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n') || strncmp(p, name, n) || p[n] != '=' ||
            (p[n + 1] != '"' && p[n + 1] != '\''))
            continue;
        const char *v = p + n + 2, *close = memchr(v, p[n + 1], (size_t)(end - v));
        if (!close || (size_t)(close - v) >= size) return false;
        memcpy(out, v, (size_t)(close - v));
        out[close - v] = '\0';
        return true;
    }
    return false;
}

/* Copies the element text [from, to) into out (size 16), decoding the five
 * predefined XML entities and trimming blanks. */
static void xml_text(const char *from, const char *to, char *out) {
    static const char *const entities[][2] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
                                              {"&apos;", "'"}};
    while (from < to && (*from == ' ' || *from == '\n' || *from == '\t' || *from == '\r')) from++;
    while (to > from && (to[-1] == ' ' || to[-1] == '\n' || to[-1] == '\t' || to[-1] == '\r')) to--;
    size_t k = 0;
    while (from < to && k < 15) {
        bool decoded = false;
        for (size_t e = 0; e < sizeof entities / sizeof *entities && !decoded; e++) {
            size_t n = strlen(entities[e][0]);
            if ((size_t)(to - from) >= n && !strncmp(from, entities[e][0], n)) {
                out[k++] = entities[e][1][0];
                from += n;
                decoded = true;
            }
        }
        if (!decoded) out[k++] = *from++;
    }
    out[k] = '\0';
}

gs_status gs_tiff_band_names(const char *path, int max_bands, char (*names)[16], int *named, gs_error *err) {
    *named = 0;
    for (int b = 0; b < max_bands; b++) names[b][0] = '\0';
    tiff_messages m;
    TIFF *tif = tiff_open(path, "r", &m, err);
    if (!tif) return err->status;
    char *text = tiff_gdal_metadata(tif);
    TIFFClose(tif);
    if (!text) return GS_OK;
    for (const char *p = strstr(text, "<Item"); p; p = strstr(p + 1, "<Item")) {
        const char *tag_end = strchr(p, '>'), *close = tag_end ? strstr(tag_end, "</Item>") : NULL;
        if (!close) break;
        char name[32], sample[16], role[32];
        if (tag_end[-1] == '/' || !xml_attribute(p, tag_end, "name", name, sizeof name) ||
            strcmp(name, "DESCRIPTION") || !xml_attribute(p, tag_end, "sample", sample, sizeof sample))
            continue; /* dataset-wide metadata, other items, or an empty element */
        if (xml_attribute(p, tag_end, "role", role, sizeof role) && strcmp(role, "description")) continue;
        char *rest;
        long b = strtol(sample, &rest, 10);
        if (*rest || rest == sample || b < 0 || b >= max_bands) continue;
        bool was_named = names[b][0] != '\0';
        xml_text(tag_end + 1, close, names[b]);
        *named += (names[b][0] != '\0') - was_named;
    }
    free(text);
    return GS_OK;
}

gs_status gs_tiff_epsg(const char *path, int *epsg, gs_error *err) {
    enum { GEO_KEY_DIRECTORY = 34735, PROJECTED_CRS = 3072, GEOGRAPHIC_CRS = 2048 };
    *epsg = 0;
    tiff_messages m;
    TIFF *tif = tiff_open(path, "r", &m, err);
    if (!tif) return err->status;
    /* libtiff does not know the GeoTIFF tags: read as an anonymous SHORT
     * array, whose value comes with a count. */
    const TIFFField *field = TIFFFindField(tif, GEO_KEY_DIRECTORY, TIFF_ANY);
    const uint16_t *keys = NULL;
    uint32_t n = 0;
    if (field && TIFFFieldDataType(field) == TIFF_SHORT && TIFFFieldPassCount(field)) {
        if (TIFFFieldReadCount(field) == TIFF_VARIABLE2) {
            if (!TIFFGetField(tif, GEO_KEY_DIRECTORY, &n, &keys)) keys = NULL;
        } else {
            uint16_t n16 = 0;
            if (!TIFFGetField(tif, GEO_KEY_DIRECTORY, &n16, &keys)) keys = NULL;
            n = n16;
        }
    }
    /* Header (version, revision, minor, number of keys), then 4 shorts per
     * key: id, tag holding the value (0: the value is inline), count, value. */
    int projected = 0, geographic = 0;
    for (uint32_t k = 0; keys && n >= 4 && k < keys[3] && 4 + 4 * k + 3 < n; k++) {
        const uint16_t *key = keys + 4 + 4 * k;
        if (key[1] != 0) continue;
        if (key[0] == PROJECTED_CRS) projected = key[3];
        if (key[0] == GEOGRAPHIC_CRS) geographic = key[3];
    }
    TIFFClose(tif);
    *epsg = projected ? projected : geographic;
    return GS_OK;
}

/* The GDAL_METADATA text naming each band, as gs_tiff_band_names reads it;
 * NULL when no band has a name. */
static char *gdal_metadata_text(const char *const *band_names, int bands) {
    if (!band_names) return NULL;
    size_t size = 32;
    for (int b = 0; b < bands; b++) size += 80 + (band_names[b] ? strlen(band_names[b]) : 0);
    char *text = malloc(size), *at = text;
    if (!text) return NULL;
    at += snprintf(at, size, "<GDALMetadata>\n");
    for (int b = 0; b < bands; b++)
        if (band_names[b] && band_names[b][0])
            at += snprintf(at, size - (size_t)(at - text),
                           "  <Item name=\"DESCRIPTION\" sample=\"%d\" role=\"description\">%s</Item>\n", b,
                           band_names[b]);
    snprintf(at, size - (size_t)(at - text), "</GDALMetadata>\n");
    return text;
}

static gs_status tiff_write(const char *path, const gs_raster *r, gs_pixel_type type, int lzw,
                            const char *const *band_names, gs_error *err) {
    char *metadata = gdal_metadata_text(band_names, r->bands);
    if (band_names && !metadata) return gs_error_set(err, GS_ERR_MEMORY, "out of memory writing %s", path);
    tiff_messages m;
    TIFF *tif = tiff_open(path, "w", &m, err);
    if (!tif) {
        free(metadata);
        return err->status;
    }
    if (metadata) {
        /* libtiff writes only tags it knows: declare GDAL's (an ASCII string).
         * It keeps the name pointer, hence a string literal. */
        const TIFFFieldInfo gdal = {TIFFTAG_GDAL_METADATA, TIFF_VARIABLE, TIFF_VARIABLE, TIFF_ASCII, FIELD_CUSTOM, 1, 0,
                                    (char *)"GDALMetadata"};
        TIFFMergeFieldInfo(tif, &gdal, 1);
        TIFFSetField(tif, TIFFTAG_GDAL_METADATA, metadata);
        free(metadata);
    }
    bool floating = type == GS_PIXEL_F32 || type == GS_PIXEL_F64;
    uint16_t bps = type == GS_PIXEL_U8 ? 8 : type == GS_PIXEL_F32 ? 32 : type == GS_PIXEL_F64 ? 64 : 16;
    uint16_t format = floating ? SAMPLEFORMAT_IEEEFP : type == GS_PIXEL_I16 ? SAMPLEFORMAT_INT : SAMPLEFORMAT_UINT;
    bool rgb = type == GS_PIXEL_U8 && (r->bands == 3 || r->bands == 4);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)r->width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)r->height);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)r->bands);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, bps);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, format);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, rgb ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, lzw ? COMPRESSION_LZW : COMPRESSION_NONE);
    int extra = r->bands - (rgb ? 3 : 1);
    if (extra > 0) {
        uint16_t kinds[64];
        for (int i = 0; i < extra && i < 64; i++)
            kinds[i] = (rgb && r->bands == 4) ? EXTRASAMPLE_ASSOCALPHA : EXTRASAMPLE_UNSPECIFIED;
        TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, (uint16_t)extra, kinds);
    }
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)1);
    size_t row_bytes = (size_t)r->width * (size_t)r->bands * (bps / 8);
    unsigned char *row = malloc(row_bytes);
    gs_status status = row ? GS_OK : GS_ERR_MEMORY;
    for (int64_t y = 0; y < r->height && status == GS_OK; y++) {
        for (int64_t x = 0; x < r->width; x++)
            for (int b = 0; b < r->bands; b++) {
                double v = r->data[((int64_t)b * r->height + y) * r->width + x];
                size_t i = (size_t)(x * r->bands + b);
                if (type == GS_PIXEL_F32) {
                    float f = (float)v;
                    memcpy(row + 4 * i, &f, 4);
                } else if (type == GS_PIXEL_F64) {
                    memcpy(row + 8 * i, &v, 8);
                } else {
                    double lo = type == GS_PIXEL_I16 ? -32768 : 0, hi = type == GS_PIXEL_U8 ? 255 : type == GS_PIXEL_U16 ? 65535 : 32767;
                    v = v < lo ? lo : v > hi ? hi : nearbyint(v);
                    if (type == GS_PIXEL_U8) {
                        row[i] = (unsigned char)v;
                    } else if (type == GS_PIXEL_U16) {
                        uint16_t u = (uint16_t)v;
                        memcpy(row + 2 * i, &u, 2);
                    } else {
                        int16_t s = (int16_t)v;
                        memcpy(row + 2 * i, &s, 2);
                    }
                }
            }
        if (TIFFWriteScanline(tif, row, (uint32_t)y, 0) < 0) status = GS_ERR_IO;
    }
    free(row);
    TIFFClose(tif);
    if (status != GS_OK)
        return gs_error_set(err, status, "cannot write %s (%s)", path, m.text[0] ? m.text : "write failed");
    return GS_OK;
}

gs_status gs_tiff_write(const char *path, const gs_raster *r, gs_pixel_type type, int lzw, gs_error *err) {
    return tiff_write(path, r, type, lzw, NULL, err);
}

gs_status gs_tiff_write_named(const char *path, const gs_raster *r, gs_pixel_type type, int lzw,
                              const char *const *band_names, gs_error *err) {
    return tiff_write(path, r, type, lzw, band_names, err);
}

