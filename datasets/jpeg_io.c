/* JPEG through libjpeg: size-capped reading and writing. */
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
#include <setjmp.h>

#include <jpeglib.h> /* needs stdio.h and stddef.h first */

/* ---- JPEG ---------------------------------------------------------------- */

typedef struct jpeg_error_jump {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char text[JMSG_LENGTH_MAX];
    int warnings;
} jpeg_error_jump;

static void jpeg_error_exit(j_common_ptr info) {
    jpeg_error_jump *e = (jpeg_error_jump *)info->err;
    e->mgr.format_message(info, e->text);
    longjmp(e->jump, 1);
}

/* libjpeg decodes a truncated file with only a warning ("premature end of
 * data segment") and reports success: count warnings, keep the first. */
static void jpeg_note_warning(j_common_ptr info, int level) {
    jpeg_error_jump *e = (jpeg_error_jump *)info->err;
    if (level >= 0) return; /* trace messages */
    if (e->warnings++ == 0) e->mgr.format_message(info, e->text);
}

/* A progressive JPEG may hold any number of scans, each a pass over the
 * whole image: a small file of thousands of tiny scans decodes for minutes
 * (libjpeg-turbo's djpeg offers -maxscans for this).  Real encoders write
 * about ten; past this many the file is refused. */
enum { JPEG_MAX_SCANS = 500 };

static void jpeg_count_scans(j_common_ptr info) {
    if (!info->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)info;
    if (d->input_scan_number <= JPEG_MAX_SCANS) return;
    jpeg_error_jump *e = (jpeg_error_jump *)info->err;
    snprintf(e->text, sizeof e->text, "more than %d progressive scans", JPEG_MAX_SCANS);
    longjmp(e->jump, 1);
}

gs_status gs_jpeg_read(const char *path, gs_raster *out, gs_error *err) {
    return gs_jpeg_read_limited(path, NULL, out, err);
}

gs_status gs_jpeg_read_limited(const char *path, const gs_image_limits *limits, gs_raster *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct jpeg_decompress_struct info;
    jpeg_error_jump jerr;
    unsigned char *volatile row = NULL;
    info.err = jpeg_std_error(&jerr.mgr);
    jerr.mgr.error_exit = jpeg_error_exit;
    jerr.mgr.emit_message = jpeg_note_warning;
    jerr.text[0] = '\0';
    jerr.warnings = 0;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_decompress(&info);
        fclose(f);
        free(row);
        gs_raster_free(out);
        return gs_error_set(err, GS_ERR_FORMAT, "%s is not a readable JPEG (%s)", path, jerr.text);
    }
    jpeg_create_decompress(&info);
    struct jpeg_progress_mgr progress = {.progress_monitor = jpeg_count_scans};
    info.progress = &progress;
    jpeg_stdio_src(&info, f);
    jpeg_read_header(&info, TRUE);
    if (info.num_components != 1) info.out_color_space = JCS_RGB;
    /* The header's size, before jpeg_start_decompress allocates for it. */
    if (gs_image_check_limits(path, info.image_width, info.image_height, info.num_components == 1 ? 1 : 3,
                              GS_PIXEL_U8, limits, err) != GS_OK) {
        jpeg_destroy_decompress(&info);
        fclose(f);
        return err->status;
    }
    jpeg_start_decompress(&info);
    int bands = info.output_components;
    if (gs_raster_alloc(out, bands, info.output_height, info.output_width, err) != GS_OK) {
        jpeg_destroy_decompress(&info);
        fclose(f);
        return err->status;
    }
    out->type = GS_PIXEL_U8;
    row = malloc((size_t)info.output_width * (size_t)bands);
    if (!row) {
        jpeg_destroy_decompress(&info);
        fclose(f);
        gs_raster_free(out);
        return gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory decoding a row", path);
    }
    while (info.output_scanline < info.output_height) {
        int64_t y = info.output_scanline;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&info, rows, 1);
        for (int64_t x = 0; x < out->width; x++)
            for (int b = 0; b < bands; b++) out->data[((int64_t)b * out->height + y) * out->width + x] = row[x * bands + b];
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    free(row);
    fclose(f);
    if (jerr.warnings > 0) {
        gs_raster_free(out);
        return gs_error_set(err, GS_ERR_FORMAT, "%s is truncated or corrupt (libjpeg: %s)", path, jerr.text);
    }
    return GS_OK;
}

gs_status gs_jpeg_write(const char *path, const gs_raster *r, int quality, gs_error *err) {
    if (r->bands != 1 && r->bands != 3)
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s: JPEG holds 1 or 3 bands, not %d", path, r->bands);
    FILE *f = fopen(path, "wb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    struct jpeg_compress_struct info;
    jpeg_error_jump jerr;
    unsigned char *volatile row = NULL;
    info.err = jpeg_std_error(&jerr.mgr);
    jerr.mgr.error_exit = jpeg_error_exit;
    jerr.mgr.emit_message = jpeg_note_warning;
    jerr.warnings = 0;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&info);
        fclose(f);
        free(row);
        return gs_error_set(err, GS_ERR_IO, "cannot write %s (%s)", path, jerr.text);
    }
    jpeg_create_compress(&info);
    jpeg_stdio_dest(&info, f);
    info.image_width = (JDIMENSION)r->width;
    info.image_height = (JDIMENSION)r->height;
    info.input_components = r->bands;
    info.in_color_space = r->bands == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    row = malloc((size_t)r->width * (size_t)r->bands);
    while (info.next_scanline < info.image_height) {
        int64_t y = info.next_scanline;
        for (int64_t x = 0; x < r->width; x++)
            for (int b = 0; b < r->bands; b++) {
                float v = r->data[((int64_t)b * r->height + y) * r->width + x];
                row[x * r->bands + b] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : lrintf(v));
            }
        JSAMPROW rows[1] = {row};
        jpeg_write_scanlines(&info, rows, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    free(row);
    if (fclose(f) != 0) return gs_error_set(err, GS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return GS_OK;
}

