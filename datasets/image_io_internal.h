/* What image_io.c shares with the codecs (tiff_io.c, jpeg_io.c). */
#ifndef GS_DATASETS_IMAGE_IO_INTERNAL_H
#define GS_DATASETS_IMAGE_IO_INTERNAL_H

#include <stdint.h>

#include "image_io.h"

/* a * b for sizes, saturating at INT64_MAX (image_io.c). */
int64_t gs_image_size_mul(int64_t a, int64_t b);
/* limits->max_bytes, or GS_IMAGE_MAX_BYTES when unset. */
int64_t gs_image_limit_bytes(const gs_image_limits *limits);

#endif
