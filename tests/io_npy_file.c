/* The .npy writer: NumPy's format 1.0 byte for byte (magic, version, a
 * little-endian header length, a dict header padded so the data starts at a
 * multiple of 64 bytes and ending in a newline), then the floats as given. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy_file.h"
#include "test_paths.h"

typedef struct npy_bytes {
    unsigned char bytes[8192];
    size_t n;
} npy_bytes;

static void read_all(const char *path, npy_bytes *out) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    out->n = fread(out->bytes, 1, sizeof out->bytes, f);
    fclose(f);
}

static void check_file(const char *path, const int64_t *shape, int ndim, const char *shape_text) {
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) count *= shape[i];
    float *data = malloc((size_t)count * sizeof *data);
    for (int64_t i = 0; i < count; i++) data[i] = (float)i * 0.25f - 3.0f;
    gs_error err = {0};
    cr_assert_eq(gs_npy_write_f32(path, shape, ndim, data, &err), GS_OK, "%s", err.message);
    npy_bytes f;
    read_all(path, &f);
    static const unsigned char MAGIC[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    cr_assert_eq(memcmp(f.bytes, MAGIC, 8), 0, "magic and version 1.0");
    size_t header_len = f.bytes[8] | (size_t)f.bytes[9] << 8;
    size_t data_at = 10 + header_len;
    cr_expect_eq(data_at % 64, 0, "the data starts at %zu, not a multiple of 64", data_at);
    cr_assert_eq(f.n, data_at + (size_t)count * 4, "file of %zu bytes", f.n);
    cr_expect_eq(f.bytes[data_at - 1], '\n', "the header ends in a newline");
    char header[512] = {0};
    memcpy(header, f.bytes + 10, header_len < sizeof header ? header_len : sizeof header - 1);
    char expected[256];
    snprintf(expected, sizeof expected, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape_text);
    cr_expect_eq(strncmp(header, expected, strlen(expected)), 0, "header '%s'", header);
    for (size_t i = strlen(expected); i + 1 < header_len; i++)
        cr_expect_eq(header[i], ' ', "padding at %zu is '%c'", i, header[i]);
    cr_expect_eq(memcmp(f.bytes + data_at, data, (size_t)count * 4), 0, "the floats as given");
    free(data);
}

Test(io_npy_file, writes_numpy_format_1_0) {
    char dir[256], path[320];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.npy", dir);
    check_file(path, (int64_t[]){5}, 1, "(5,)"); /* a 1-tuple keeps its comma in Python */
    check_file(path, (int64_t[]){2, 3, 4, 5}, 4, "(2, 3, 4, 5)");
    check_file(path, (int64_t[]){1, 0}, 2, "(1, 0)");
}

Test(io_npy_file, errors_name_the_path_and_leave_nothing_behind) {
    char dir[256], path[320];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/no-such-folder/a.npy", dir);
    float x = 1;
    gs_error err = {0};
    cr_expect_eq(gs_npy_write_f32(path, (int64_t[]){1}, 1, &x, &err), GS_ERR_IO);
    cr_expect(strstr(err.message, "no-such-folder") != NULL, "%s", err.message);
    snprintf(path, sizeof path, "%s/b.npy", dir);
    cr_expect_eq(gs_npy_write_f32(path, (int64_t[]){-1}, 1, &x, &err), GS_ERR_ARGUMENT);
    FILE *f = fopen(path, "rb");
    cr_expect_null(f, "a refused array writes no file");
    if (f) fclose(f);
}
