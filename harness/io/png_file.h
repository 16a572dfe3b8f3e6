/* Writing 8-bit RGB images as PNG (zlib's deflate, no libpng): what a run
 * folder's pictures need (SatMAE's masked input / reconstruction / target). */
#ifndef GS_IO_PNG_FILE_H
#define GS_IO_PNG_FILE_H

#include <stdint.h>

#include "../core/error.h"

/* rgb: height rows of width pixels, 3 bytes each, top row first.  Written
 * to a temporary name and renamed, so a reader never sees half a file;
 * errors name the path. */
gs_status gs_png_write_rgb(const char *path, const uint8_t *rgb, int width, int height, gs_error *err);

#endif
