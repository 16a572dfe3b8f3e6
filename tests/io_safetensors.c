/* The safetensors reader and writer: bit-exact round trips, F16 / BF16
 * widening, and every malformed file ending in a clean GS_ERR_FORMAT that
 * names the file and the tensor: hand-made corrupt headers, every
 * truncation of a valid file, and random byte flips (run under ASan to
 * prove no read goes out of bounds). */
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "nn/params.h"
#include "test_paths.h"

typedef struct st_case {
    gs_context ctx;
    gs_param_list list;
    char dir[256];
    char path[320];
} st_case;

static void setup(st_case *c) {
    memset(c, 0, sizeof *c);
    gs_context_options options = {.n_threads = 1, .seed = 5};
    cr_assert_eq(gs_context_init(&c->ctx, &options), GS_OK);
    test_temp_dir(c->dir, sizeof c->dir);
    cr_assert(c->dir[0], "no temporary directory");
    snprintf(c->path, sizeof c->path, "%s/weights.safetensors", c->dir);
}

static void teardown(st_case *c) {
    unlink(c->path);
    rmdir(c->dir);
    gs_param_list_free(&c->list);
    gs_context_free(&c->ctx);
}

/* Three tensors with a 0-d one and the values a lossy path would break. */
static void build_list(st_case *c) {
    gs_context *ctx = &c->ctx;
    cr_assert(gs_param_add(ctx, &c->list, "conv1.weight", GS_PARAM_WEIGHT, GS_DIMS(4, 3, 3, 3)));
    cr_assert(gs_param_add(ctx, &c->list, "bn1.running_var", GS_PARAM_BUFFER, GS_DIMS(4)));
    cr_assert(gs_param_add(ctx, &c->list, "logit_scale", GS_PARAM_NO_DECAY, 0, (int64_t[]){1}));
    for (int i = 0; i < c->list.count; i++) gs_tensor_fill_normal(ctx, c->list.items[i].tensor, 1.0f);
    float *w = c->list.items[0].tensor->data;
    w[0] = -0.0f;
    w[1] = FLT_TRUE_MIN;
    w[2] = -FLT_MAX;
    w[3] = FLT_MIN;
}

static gs_status write_list(st_case *c, const char *path) {
    const gs_tensor *tensors[8];
    for (int i = 0; i < c->list.count; i++) tensors[i] = c->list.items[i].tensor;
    gs_st_meta meta[] = {{"architecture", "test arch \"quoted\" ünïcode"}, {"format", "pt"}};
    return gs_safetensors_write(&c->ctx, path, tensors, c->list.count, meta, 2);
}

/* Writes an 8-byte length, the header text and n data bytes. */
static void write_raw(const char *path, const char *header, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    size_t len = strlen(header);
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)((uint64_t)len >> (8 * i));
    fwrite(prefix, 1, 8, f);
    fwrite(header, 1, len, f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static unsigned char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(*size);
    cr_assert_eq(fread(buf, 1, *size, f), *size);
    fclose(f);
    return buf;
}

static void spill(const char *path, const unsigned char *buf, size_t size) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    if (size) fwrite(buf, 1, size, f);
    fclose(f);
}

/* Opens and reads every float tensor; the status of the first failure. */
static gs_status open_and_read(gs_context *ctx, const char *path) {
    gs_safetensors st;
    if (gs_safetensors_open(ctx, path, &st) != GS_OK) return ctx->status;
    for (int i = 0; i < st.count && !gs_failed(ctx); i++) {
        const gs_st_tensor *t = &st.tensors[i];
        float *buf = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *buf);
        cr_assert_not_null(buf);
        gs_safetensors_read_f32(ctx, &st, t, buf);
        free(buf);
    }
    gs_safetensors_close(&st);
    return ctx->status;
}

Test(io_safetensors, round_trip_is_bit_exact_with_metadata) {
    st_case c;
    setup(&c);
    build_list(&c);
    cr_assert_eq(write_list(&c, c.path), GS_OK, "%s", c.ctx.error);
    gs_safetensors st;
    cr_assert_eq(gs_safetensors_open(&c.ctx, c.path, &st), GS_OK, "%s", c.ctx.error);
    cr_assert_eq(st.count, 3);
    cr_expect_str_eq(gs_safetensors_meta(&st, "architecture"), "test arch \"quoted\" ünïcode");
    cr_expect_str_eq(gs_safetensors_meta(&st, "format"), "pt");
    cr_expect_null(gs_safetensors_meta(&st, "missing"));
    cr_expect_eq(st.data_start % 8, 0, "the data section is not 8-byte aligned");
    for (int i = 0; i < c.list.count; i++) {
        const gs_tensor *t = c.list.items[i].tensor;
        const gs_st_tensor *f = gs_safetensors_find(&st, t->name);
        cr_assert_not_null(f, "%s missing", t->name);
        cr_expect_eq(f->dtype, GS_ST_F32);
        cr_expect_eq(f->ndim, t->ndim, "%s", t->name);
        for (int d = 0; d < t->ndim; d++) cr_expect_eq(f->shape[d], t->shape[d]);
        float back[128];
        cr_assert_eq(gs_safetensors_read_f32(&c.ctx, &st, f, back), GS_OK, "%s", c.ctx.error);
        cr_expect_eq(memcmp(back, t->data, (size_t)t->numel * sizeof(float)), 0, "%s differs", t->name);
    }
    cr_expect_eq(gs_safetensors_find(&st, "logit_scale")->ndim, 0);
    gs_safetensors_close(&st);
    teardown(&c);
}

Test(io_safetensors, widens_f16_and_bf16_exactly) {
    st_case c;
    setup(&c);
    /* F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), -0, +Inf, 2^-14
     * (smallest normal), 0.333251953125; BF16: 1, 3.140625, -0.5, 1e38-ish. */
    const uint16_t f16[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x0400, 0x3555};
    const float f16_want[] = {1.0f, -2.0f, 65504.0f, 0x1p-24f, -0.0f, INFINITY, 0x1p-14f, 0.333251953125f};
    const uint16_t bf16[] = {0x3f80, 0x4049, 0xbf00, 0x7e96};
    const float bf16_want[] = {1.0f, 3.140625f, -0.5f, 0x1.2cp+126f};
    unsigned char data[24];
    for (int i = 0; i < 8; i++) data[2 * i] = (unsigned char)f16[i], data[2 * i + 1] = (unsigned char)(f16[i] >> 8);
    for (int i = 0; i < 4; i++)
        data[16 + 2 * i] = (unsigned char)bf16[i], data[16 + 2 * i + 1] = (unsigned char)(bf16[i] >> 8);
    write_raw(c.path,
              "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,4],\"data_offsets\":[0,16]},"
              "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[16,24]}}",
              data, sizeof data);
    gs_safetensors st;
    cr_assert_eq(gs_safetensors_open(&c.ctx, c.path, &st), GS_OK, "%s", c.ctx.error);
    float out[8];
    cr_assert_eq(gs_safetensors_read_f32(&c.ctx, &st, gs_safetensors_find(&st, "h"), out), GS_OK, "%s", c.ctx.error);
    for (int i = 0; i < 8; i++)
        cr_expect(out[i] == f16_want[i] && signbit(out[i]) == signbit(f16_want[i]), "F16 %04x: %a, want %a", f16[i],
                  (double)out[i], (double)f16_want[i]);
    cr_expect(isnan(gs_f16_to_f32(0x7e00)), "F16 NaN");
    cr_assert_eq(gs_safetensors_read_f32(&c.ctx, &st, gs_safetensors_find(&st, "b"), out), GS_OK, "%s", c.ctx.error);
    for (int i = 0; i < 4; i++) cr_expect_eq(out[i], bf16_want[i], "BF16 %04x: %a", bf16[i], (double)out[i]);
    gs_safetensors_close(&st);
    teardown(&c);
}

Test(io_safetensors, lists_other_dtypes_but_refuses_to_read_them_as_floats) {
    st_case c;
    setup(&c);
    unsigned char data[16] = {7};
    write_raw(c.path,
              "{\"bn1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
              "\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}",
              data, sizeof data);
    gs_safetensors st;
    cr_assert_eq(gs_safetensors_open(&c.ctx, c.path, &st), GS_OK, "%s", c.ctx.error);
    cr_expect_eq(gs_safetensors_find(&st, "bn1.num_batches_tracked")->dtype, GS_ST_I64);
    float out[1];
    cr_expect_eq(gs_safetensors_read_f32(&c.ctx, &st, gs_safetensors_find(&st, "w"), out), GS_ERR_FORMAT);
    cr_expect(strstr(c.ctx.error, "'w'") && strstr(c.ctx.error, "F64") && strstr(c.ctx.error, "F32, F16 and BF16"),
              "%s", c.ctx.error);
    gs_safetensors_close(&st);
    teardown(&c);
}

typedef struct corrupt_case {
    const char *header;
    size_t data_bytes;
    const char *expect; /* a fragment the message must hold */
} corrupt_case;

Test(io_safetensors, corrupt_headers_are_format_errors_naming_file_and_tensor) {
    const corrupt_case cases[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "'a': data_offsets [0, 16] lie outside"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "'a': data_offsets [8, 0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 16, "'a': 8 bytes of data for 3 F32 values"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlap those of 'a'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "'a': the name appears twice"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "not valid JSON"},
        {"{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'a': unknown dtype 'Q7'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "'a': shape entry 0"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "'a': shape entry 0"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8,
         "'a': its shape needs more bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 8, "'a': has 7 dimensions"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "'a': data_offsets must be two"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "'a': needs \"dtype\""},
        {"{\"a\":[1,2]}", 8, "'a': its entry is not a JSON object"},
        {"[1,2,3]", 8, "not a JSON object"},
        {"{\"__metadata__\":{\"k\":3}}", 0, "__metadata__ entry 'k' is not a string"},
        {"{\"__metadata__\":[]}", 0, "__metadata__ is not a JSON object"},
        {"{} junk", 0, "bytes after its JSON object"},
        {"", 0, "header length 0"},
    };
    st_case c;
    setup(&c);
    unsigned char data[16] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_raw(c.path, cases[i].header, data, cases[i].data_bytes);
        gs_clear_error(&c.ctx);
        gs_safetensors st;
        cr_expect_eq(gs_safetensors_open(&c.ctx, c.path, &st), GS_ERR_FORMAT, "case %zu (%s) opened", i,
                     cases[i].header);
        cr_expect(strstr(c.ctx.error, c.path) && strstr(c.ctx.error, cases[i].expect),
                  "case %zu: message '%s' lacks '%s'", i, c.ctx.error, cases[i].expect);
        cr_expect_eq(st.fd, -1);
    }
    /* A header length beyond the file. */
    unsigned char big[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'};
    spill(c.path, big, sizeof big);
    gs_clear_error(&c.ctx);
    gs_safetensors st;
    cr_expect_eq(gs_safetensors_open(&c.ctx, c.path, &st), GS_ERR_FORMAT);
    cr_expect(strstr(c.ctx.error, "header length 65535 does not fit the file's 16 bytes"), "%s", c.ctx.error);
    teardown(&c);
}

Test(io_safetensors, empty_and_scalar_tensors_are_valid) {
    st_case c;
    setup(&c);
    float one = 1.5f;
    write_raw(c.path,
              "{\"__metadata__\":{},\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
              "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}   ",
              &one, sizeof one);
    gs_safetensors st;
    cr_assert_eq(gs_safetensors_open(&c.ctx, c.path, &st), GS_OK, "%s", c.ctx.error);
    cr_expect_eq(gs_safetensors_find(&st, "empty")->numel, 0);
    float out = 0;
    cr_expect_eq(gs_safetensors_read_f32(&c.ctx, &st, gs_safetensors_find(&st, "s"), &out), GS_OK);
    cr_expect_eq(out, 1.5f);
    gs_safetensors_close(&st);
    teardown(&c);
}

Test(io_safetensors, every_truncation_is_a_format_error) {
    st_case c;
    setup(&c);
    build_list(&c);
    char valid[400];
    snprintf(valid, sizeof valid, "%s/valid.safetensors", c.dir);
    cr_assert_eq(write_list(&c, valid), GS_OK, "%s", c.ctx.error);
    size_t size;
    unsigned char *bytes = slurp(valid, &size);
    for (size_t n = 0; n < size; n++) {
        spill(c.path, bytes, n);
        gs_clear_error(&c.ctx);
        cr_assert_eq(open_and_read(&c.ctx, c.path), GS_ERR_FORMAT, "truncated to %zu of %zu bytes: %s", n, size,
                     c.ctx.error);
    }
    free(bytes);
    unlink(valid);
    teardown(&c);
}

Test(io_safetensors, random_byte_flips_end_cleanly) {
    st_case c;
    setup(&c);
    build_list(&c);
    char valid[400];
    snprintf(valid, sizeof valid, "%s/valid.safetensors", c.dir);
    cr_assert_eq(write_list(&c, valid), GS_OK, "%s", c.ctx.error);
    size_t size;
    unsigned char *bytes = slurp(valid, &size);
    unsigned char *copy = malloc(size);
    gs_rng rng;
    gs_rng_seed(&rng, 99);
    int outcomes[GS_ERR_INTERNAL + 1] = {0};
    size_t header_end = 8 + (size_t)bytes[0] + ((size_t)bytes[1] << 8);
    for (int iter = 0; iter < 5000; iter++) {
        memcpy(copy, bytes, size);
        /* Mostly the header (where parsing can go wrong), some in the data. */
        int flips = 1 + (int)gs_rng_below(&rng, 4);
        for (int k = 0; k < flips; k++) {
            size_t at = gs_rng_below(&rng, 10) < 8 ? gs_rng_below(&rng, header_end) : gs_rng_below(&rng, size);
            if (gs_rng_below(&rng, 2))
                copy[at] ^= (unsigned char)(1u << gs_rng_below(&rng, 8));
            else /* a JSON-significant character */
                copy[at] = (unsigned char)"{}[]\",:0123456789eE-. \\"[gs_rng_below(&rng, 23)];
        }
        spill(c.path, copy, size);
        gs_clear_error(&c.ctx);
        gs_status s = open_and_read(&c.ctx, c.path);
        cr_assert(s == GS_OK || s == GS_ERR_FORMAT, "iteration %d: status %d (%s)", iter, s, c.ctx.error);
        cr_assert(s == GS_OK || c.ctx.error[0], "iteration %d failed without a message", iter);
        outcomes[s]++;
    }
    cr_expect_gt(outcomes[GS_ERR_FORMAT], 1000, "too few flips were caught: the fuzzing is too gentle");
    fprintf(stderr, "byte flips: %d read fine, %d format errors\n", outcomes[GS_OK], outcomes[GS_ERR_FORMAT]);
    free(copy);
    free(bytes);
    unlink(valid);
    teardown(&c);
}

Test(io_safetensors, file_system_errors_are_io_errors) {
    st_case c;
    setup(&c);
    build_list(&c);
    gs_safetensors st;
    char missing[400];
    snprintf(missing, sizeof missing, "%s/none.safetensors", c.dir);
    cr_expect_eq(gs_safetensors_open(&c.ctx, missing, &st), GS_ERR_IO);
    cr_expect(strstr(c.ctx.error, missing) && strstr(c.ctx.error, "No such file"), "%s", c.ctx.error);
    gs_clear_error(&c.ctx);
    cr_expect_eq(gs_safetensors_open(&c.ctx, c.dir, &st), GS_ERR_IO, "a directory opened");
    gs_clear_error(&c.ctx);
    char nodir[400];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir.safetensors", c.dir);
    cr_expect_eq(write_list(&c, nodir), GS_ERR_IO);
    cr_expect(strstr(c.ctx.error, nodir), "%s", c.ctx.error);
    gs_clear_error(&c.ctx);
    /* A failed write leaves the previous file in place. */
    cr_assert_eq(write_list(&c, c.path), GS_OK, "%s", c.ctx.error);
    const gs_tensor *twice[] = {c.list.items[0].tensor, c.list.items[0].tensor};
    cr_expect_eq(gs_safetensors_write(&c.ctx, c.path, twice, 2, NULL, 0), GS_ERR_ARGUMENT);
    cr_expect(strstr(c.ctx.error, "'conv1.weight' is given twice"), "%s", c.ctx.error);
    gs_clear_error(&c.ctx);
    cr_expect_eq(open_and_read(&c.ctx, c.path), GS_OK, "%s", c.ctx.error);
    teardown(&c);
}
