#include "png_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* One chunk: length, type, data, CRC-32 of type and data (PNG spec 5.3). */
static bool write_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t length) {
    uint8_t head[8];
    put_be32(head, length);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (length) crc = crc32(crc, data, length);
    uint8_t tail[4];
    put_be32(tail, (uint32_t)crc);
    return fwrite(head, 1, 8, f) == 8 && (!length || fwrite(data, 1, length, f) == length) &&
           fwrite(tail, 1, 4, f) == 4;
}

gs_status gs_png_write_rgb(const char *path, const uint8_t *rgb, int width, int height, gs_error *err) {
    if (width <= 0 || height <= 0 || width > 1 << 16 || height > 1 << 16)
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s: a %d x %d image cannot be written", path, width, height);
    /* Each row: filter type 0 (none), then its pixels. */
    size_t row = 1 + 3 * (size_t)width, raw_size = row * (size_t)height;
    uint8_t *raw = malloc(raw_size);
    uLongf packed_size = compressBound((uLong)raw_size);
    uint8_t *packed = malloc(packed_size);
    if (!raw || !packed) {
        free(raw);
        free(packed);
        return gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory for a %d x %d image", path, width, height);
    }
    for (int y = 0; y < height; y++) {
        raw[y * row] = 0;
        memcpy(raw + y * row + 1, rgb + (size_t)y * 3 * (size_t)width, 3 * (size_t)width);
    }
    int z = compress2(packed, &packed_size, raw, (uLong)raw_size, 6);
    free(raw);
    if (z != Z_OK) {
        free(packed);
        return gs_error_set(err, GS_ERR_INTERNAL, "%s: deflate failed (zlib %d)", path, z);
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(packed);
        return gs_error_set(err, GS_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    }
    static const uint8_t SIGNATURE[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)width);
    put_be32(ihdr + 4, (uint32_t)height);
    ihdr[8] = 8;  /* bits per sample */
    ihdr[9] = 2;  /* colour type: truecolour */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering, type per row */
    ihdr[12] = 0; /* no interlace */
    bool ok = fwrite(SIGNATURE, 1, 8, f) == 8 && write_chunk(f, "IHDR", ihdr, 13) &&
              write_chunk(f, "IDAT", packed, (uint32_t)packed_size) && write_chunk(f, "IEND", NULL, 0);
    free(packed);
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok || rename(tmp, path) != 0) {
        if (ok) saved = errno;
        remove(tmp);
        return gs_error_set(err, GS_ERR_IO, "cannot write %s: %s", path, strerror(saved));
    }
    return GS_OK;
}
