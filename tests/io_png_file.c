/* The PNG writer: signature, IHDR as the spec lays it out, every chunk's
 * CRC-32, and IDAT inflating back to the pixels row by row (filter 0). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "io/png_file.h"
#include "test_paths.h"

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

Test(io_png_file, pixels_come_back_from_the_file) {
    char dir[256], path[320];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/picture.png", dir);
    int w = 7, h = 5;
    uint8_t rgb[7 * 5 * 3];
    for (int i = 0; i < w * h * 3; i++) rgb[i] = (uint8_t)(i * 37 + 11);
    gs_error err = {0};
    cr_assert_eq(gs_png_write_rgb(path, rgb, w, h, &err), GS_OK, "%s", err.message);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    uint8_t file[4096];
    size_t n = fread(file, 1, sizeof file, f);
    fclose(f);
    static const uint8_t SIGNATURE[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    cr_assert_eq(memcmp(file, SIGNATURE, 8), 0);
    size_t at = 8;
    uint8_t raw[5 * (1 + 7 * 3)];
    bool seen_end = false, seen_data = false;
    while (at + 12 <= n) {
        uint32_t length = be32(file + at);
        const uint8_t *type = file + at + 4, *data = file + at + 8;
        cr_assert_leq(at + 12 + length, n);
        uLong crc = crc32(crc32(0L, type, 4), data, length);
        cr_expect_eq(be32(data + length), (uint32_t)crc, "chunk %.4s: CRC", (const char *)type);
        if (!memcmp(type, "IHDR", 4)) {
            cr_expect_eq(length, 13u);
            cr_expect_eq(be32(data), (uint32_t)w);
            cr_expect_eq(be32(data + 4), (uint32_t)h);
            cr_expect_eq(data[8], 8);  /* bits */
            cr_expect_eq(data[9], 2);  /* truecolour */
        } else if (!memcmp(type, "IDAT", 4)) {
            uLongf size = sizeof raw;
            cr_assert_eq(uncompress(raw, &size, data, length), Z_OK);
            cr_assert_eq(size, sizeof raw);
            seen_data = true;
        } else if (!memcmp(type, "IEND", 4)) {
            seen_end = true;
        }
        at += 12 + length;
    }
    cr_assert(seen_data && seen_end);
    for (int y = 0; y < h; y++) {
        cr_expect_eq(raw[y * (1 + w * 3)], 0, "row %d filter", y);
        cr_expect_eq(memcmp(raw + y * (1 + w * 3) + 1, rgb + y * w * 3, (size_t)w * 3), 0, "row %d", y);
    }
    /* A folder that does not exist: an error naming the file, nothing left. */
    char bad[400];
    snprintf(bad, sizeof bad, "%s/missing/picture.png", dir);
    cr_expect_eq(gs_png_write_rgb(bad, rgb, w, h, &err), GS_ERR_IO);
    cr_expect(strstr(err.message, "missing/picture.png"), "%s", err.message);
    test_remove_tree(dir);
}
