#include "safetensors.h"
#include "durable_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define METADATA_KEY "__metadata__"

/* ---- dtypes ---------------------------------------------------------- */

typedef struct dtype_info {
    const char *name;
    int size;
} dtype_info;

/* Indexed by gs_st_dtype. */
static const dtype_info DTYPES[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
    {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8},
};
#define N_DTYPES ((int)(sizeof DTYPES / sizeof DTYPES[0]))

const char *gs_st_dtype_name(gs_st_dtype dtype) {
    return (int)dtype >= 0 && (int)dtype < N_DTYPES ? DTYPES[dtype].name : "?";
}

int gs_st_dtype_size(gs_st_dtype dtype) { return (int)dtype >= 0 && (int)dtype < N_DTYPES ? DTYPES[dtype].size : 0; }

static bool dtype_from_name(const char *name, gs_st_dtype *out) {
    for (int i = 0; i < N_DTYPES; i++)
        if (!strcmp(DTYPES[i].name, name)) {
            *out = (gs_st_dtype)i;
            return true;
        }
    return false;
}

static float bits_to_f32(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

float gs_bf16_to_f32(uint16_t h) { return bits_to_f32((uint32_t)h << 16); }

float gs_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return bits_to_f32(sign | 0x7f800000u | (mantissa << 13)); /* Inf, NaN */
    if (exponent == 0) {
        /* Zero or subnormal: mantissa * 2^-24, exact in float32. */
        float magnitude = ldexpf((float)mantissa, -24);
        return sign ? -magnitude : magnitude;
    }
    return bits_to_f32(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

/* ---- raw I/O ---------------------------------------------------------- */

/* Reads n bytes at offset; false on error or end of file (errno 0 then). */
static bool read_at(int fd, uint64_t offset, void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = pread(fd, p, n, (off_t)offset);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (got == 0) errno = 0;
            return false;
        }
        p += got;
        n -= (size_t)got;
        offset += (uint64_t)got;
    }
    return true;
}

static bool write_all(int fd, const void *buf, size_t n) {
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t put = write(fd, p, n);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return false;
        p += put;
        n -= (size_t)put;
    }
    return true;
}

/* ---- header validation ------------------------------------------------ */

/* The largest integer a JSON number (a double) holds exactly. */
#define MAX_EXACT_INT 9007199254740992.0

static bool json_uint(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item)) return false;
    double v = item->valuedouble;
    if (!(v >= 0.0 && v <= MAX_EXACT_INT) || floor(v) != v) return false;
    *out = (uint64_t)v;
    return true;
}

static gs_status bad_file(gs_context *ctx, const char *path, const char *tensor, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* GS_ERR_FORMAT: "<path> is not a valid safetensors file: tensor '<name>': <detail>". */
static gs_status bad_file(gs_context *ctx, const char *path, const char *tensor, const char *fmt, ...) {
    char detail[320];
    va_list args;
    va_start(args, fmt);
    vsnprintf(detail, sizeof detail, fmt, args);
    va_end(args);
    if (tensor)
        return gs_fail(ctx, GS_ERR_FORMAT, "%s is not a valid safetensors file: tensor '%.120s': %s", path, tensor,
                       detail);
    return gs_fail(ctx, GS_ERR_FORMAT, "%s is not a valid safetensors file: %s", path, detail);
}

static gs_status parse_tensor(gs_context *ctx, const gs_safetensors *st, const cJSON *entry, gs_st_tensor *t) {
    const char *name = entry->string;
    if (!cJSON_IsObject(entry)) return bad_file(ctx, st->path, name, "its entry is not a JSON object");
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offsets))
        return bad_file(ctx, st->path, name, "needs \"dtype\" (a string), \"shape\" and \"data_offsets\" (arrays)");
    if (!dtype_from_name(dtype->valuestring, &t->dtype))
        return bad_file(ctx, st->path, name, "unknown dtype '%.32s'", dtype->valuestring);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > GS_MAX_DIMS)
        return bad_file(ctx, st->path, name, "has %d dimensions; geossl handles at most %d", ndim, GS_MAX_DIMS);
    t->ndim = ndim;
    /* numel * element size must stay within the data section, which bounds
     * the product long before it could overflow. */
    uint64_t numel = 1, size = (uint64_t)gs_st_dtype_size(t->dtype);
    int d = 0;
    for (const cJSON *dim = shape->child; dim; dim = dim->next, d++) {
        uint64_t v;
        if (!json_uint(dim, &v)) return bad_file(ctx, st->path, name, "shape entry %d is not a non-negative integer", d);
        t->shape[d] = (int64_t)v;
        if (v != 0 && numel > st->data_size / v) numel = st->data_size + 1; /* too big either way */
        else numel *= v;
    }
    if (numel > st->data_size / size)
        return bad_file(ctx, st->path, name, "its shape needs more bytes than the file's %llu bytes of data",
                        (unsigned long long)st->data_size);
    t->numel = (int64_t)numel;
    uint64_t begin, end;
    if (cJSON_GetArraySize(offsets) != 2 || !json_uint(offsets->child, &begin) || !json_uint(offsets->child->next, &end))
        return bad_file(ctx, st->path, name, "data_offsets must be two non-negative integers");
    if (begin > end || end > st->data_size)
        return bad_file(ctx, st->path, name,
                        "data_offsets [%llu, %llu] lie outside the %llu bytes of data (truncated file?)",
                        (unsigned long long)begin, (unsigned long long)end, (unsigned long long)st->data_size);
    if (end - begin != numel * size)
        return bad_file(ctx, st->path, name, "%llu bytes of data for %llu %s values (%llu bytes)",
                        (unsigned long long)(end - begin), (unsigned long long)numel, gs_st_dtype_name(t->dtype),
                        (unsigned long long)(numel * size));
    t->begin = begin;
    t->end = end;
    if (!(t->name = strdup(name))) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory reading %s", st->path);
    return GS_OK;
}

static gs_status parse_metadata(gs_context *ctx, gs_safetensors *st, const cJSON *meta) {
    if (!cJSON_IsObject(meta)) return bad_file(ctx, st->path, NULL, METADATA_KEY " is not a JSON object");
    int n = cJSON_GetArraySize(meta);
    if (n == 0) return GS_OK;
    if (!(st->meta = calloc((size_t)n, sizeof *st->meta)))
        return gs_fail(ctx, GS_ERR_MEMORY, "out of memory reading %s", st->path);
    for (const cJSON *item = meta->child; item; item = item->next) {
        if (!cJSON_IsString(item))
            return bad_file(ctx, st->path, NULL, METADATA_KEY " entry '%.80s' is not a string", item->string);
        gs_st_meta *m = &st->meta[st->meta_count++];
        if (!(m->key = strdup(item->string)) || !(m->value = strdup(item->valuestring)))
            return gs_fail(ctx, GS_ERR_MEMORY, "out of memory reading %s", st->path);
    }
    return GS_OK;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(gs_st_tensor *const *)a)->name, (*(gs_st_tensor *const *)b)->name);
}

static int by_offset(const void *a, const void *b) {
    const gs_st_tensor *x = *(gs_st_tensor *const *)a, *y = *(gs_st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Duplicate names and overlapping byte ranges, in O(n log n) so a hostile
 * header with millions of entries cannot stall the check. */
static gs_status check_layout(gs_context *ctx, const gs_safetensors *st) {
    if (st->count < 2) return GS_OK;
    gs_st_tensor **order = malloc((size_t)st->count * sizeof *order);
    if (!order) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory reading %s", st->path);
    for (int i = 0; i < st->count; i++) order[i] = &st->tensors[i];
    gs_status status = GS_OK;
    qsort(order, (size_t)st->count, sizeof *order, by_name);
    for (int i = 1; i < st->count && status == GS_OK; i++)
        if (!strcmp(order[i - 1]->name, order[i]->name))
            status = bad_file(ctx, st->path, order[i]->name, "the name appears twice in the header");
    qsort(order, (size_t)st->count, sizeof *order, by_offset);
    const gs_st_tensor *widest = order[0]; /* the range reaching furthest so far */
    for (int i = 1; i < st->count && status == GS_OK; i++) {
        if (order[i]->begin < widest->end)
            status = bad_file(ctx, st->path, order[i]->name, "its bytes [%llu, %llu) overlap those of '%.120s'",
                              (unsigned long long)order[i]->begin, (unsigned long long)order[i]->end, widest->name);
        if (order[i]->end > widest->end) widest = order[i];
    }
    free(order);
    return status;
}

static gs_status parse_header(gs_context *ctx, gs_safetensors *st, const char *text, size_t length) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, length, &end, false);
    if (!root) {
        size_t at = end && end >= text && end <= text + length ? (size_t)(end - text) : 0;
        return bad_file(ctx, st->path, NULL, "the header is not valid JSON (error near byte %zu of %zu)", at, length);
    }
    gs_status status = GS_OK;
    /* The writer pads the header with spaces; anything else after the JSON is junk. */
    for (const char *p = end; p && p < text + length && status == GS_OK; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\0')
            status = bad_file(ctx, st->path, NULL, "the header has bytes after its JSON object");
    if (status == GS_OK && !cJSON_IsObject(root)) status = bad_file(ctx, st->path, NULL, "the header is not a JSON object");
    int n = 0;
    if (status == GS_OK)
        for (const cJSON *item = root->child; item; item = item->next) n += strcmp(item->string, METADATA_KEY) != 0;
    if (status == GS_OK && n > 0 && !(st->tensors = calloc((size_t)n, sizeof *st->tensors)))
        status = gs_fail(ctx, GS_ERR_MEMORY, "out of memory reading %s", st->path);
    bool seen_meta = false;
    for (const cJSON *item = status == GS_OK ? root->child : NULL; item && status == GS_OK; item = item->next) {
        if (!strcmp(item->string, METADATA_KEY)) {
            status = seen_meta ? bad_file(ctx, st->path, NULL, METADATA_KEY " appears twice")
                               : parse_metadata(ctx, st, item);
            seen_meta = true;
        } else {
            status = parse_tensor(ctx, st, item, &st->tensors[st->count]);
            if (status == GS_OK) st->count++;
        }
    }
    cJSON_Delete(root);
    return status == GS_OK ? check_layout(ctx, st) : status;
}

/* ---- reading ---------------------------------------------------------- */

static gs_status open_file(gs_context *ctx, gs_safetensors *st, const char *path) {
    st->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (st->fd < 0) return gs_fail(ctx, GS_ERR_IO, "cannot open weights file %s: %s", path, strerror(errno));
    struct stat info;
    if (fstat(st->fd, &info) != 0)
        return gs_fail(ctx, GS_ERR_IO, "cannot read weights file %s: %s", path, strerror(errno));
    if (S_ISDIR(info.st_mode)) return gs_fail(ctx, GS_ERR_IO, "cannot read weights file %s: %s", path, strerror(EISDIR));
    uint64_t file_size = (uint64_t)info.st_size;
    unsigned char prefix[8];
    if (file_size < 8 || !read_at(st->fd, 0, prefix, 8))
        return bad_file(ctx, path, NULL, "%llu bytes is too short for the 8-byte header length",
                        (unsigned long long)file_size);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | prefix[i];
    if (header_len < 2 || header_len > GS_SAFETENSORS_MAX_HEADER || header_len > file_size - 8)
        return bad_file(ctx, path, NULL,
                        "its header length %llu does not fit the file's %llu bytes (truncated, or not safetensors)",
                        (unsigned long long)header_len, (unsigned long long)file_size);
    st->data_start = 8 + header_len;
    st->data_size = file_size - st->data_start;
    char *text = malloc((size_t)header_len + 1);
    if (!text) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory for the %llu-byte header of %s",
                              (unsigned long long)header_len, path);
    gs_status status = GS_OK;
    if (!read_at(st->fd, 8, text, (size_t)header_len))
        status = errno ? gs_fail(ctx, GS_ERR_IO, "cannot read weights file %s: %s", path, strerror(errno))
                       : bad_file(ctx, path, NULL, "the file ends inside its header (truncated)");
    else {
        text[header_len] = '\0';
        status = parse_header(ctx, st, text, (size_t)header_len);
    }
    free(text);
    return status;
}

gs_status gs_safetensors_open(gs_context *ctx, const char *path, gs_safetensors *st) {
    memset(st, 0, sizeof *st);
    st->fd = -1;
    if (gs_failed(ctx)) return ctx->status;
    if (!path || !*path) return gs_fail(ctx, GS_ERR_ARGUMENT, "no safetensors path given");
    if (!(st->path = strdup(path))) return gs_fail(ctx, GS_ERR_MEMORY, "out of memory opening %s", path);
    gs_status status = open_file(ctx, st, path);
    if (status != GS_OK) gs_safetensors_close(st);
    return status;
}

void gs_safetensors_close(gs_safetensors *st) {
    if (st->fd >= 0) close(st->fd);
    for (int i = 0; i < st->count; i++) free(st->tensors[i].name);
    free(st->tensors);
    for (int i = 0; i < st->meta_count; i++) {
        free(st->meta[i].key);
        free(st->meta[i].value);
    }
    free(st->meta);
    free(st->path);
    memset(st, 0, sizeof *st);
    st->fd = -1;
}

const gs_st_tensor *gs_safetensors_find(const gs_safetensors *st, const char *name) {
    for (int i = 0; i < st->count; i++)
        if (!strcmp(st->tensors[i].name, name)) return &st->tensors[i];
    return NULL;
}

const char *gs_safetensors_meta(const gs_safetensors *st, const char *key) {
    for (int i = 0; i < st->meta_count; i++)
        if (st->meta[i].key && !strcmp(st->meta[i].key, key)) return st->meta[i].value;
    return NULL;
}

gs_status gs_safetensors_read_f32(gs_context *ctx, const gs_safetensors *st, const gs_st_tensor *t, float *dst) {
    if (gs_failed(ctx)) return ctx->status;
    if (t->dtype != GS_ST_F32 && t->dtype != GS_ST_F16 && t->dtype != GS_ST_BF16)
        return gs_fail(ctx, GS_ERR_FORMAT,
                       "tensor '%.120s' in %s is %s; geossl reads F32, F16 and BF16 weights (convert it in PyTorch, "
                       "e.g. {k: v.float() for k, v in state.items()}, and save again)",
                       t->name, st->path, gs_st_dtype_name(t->dtype));
    size_t bytes = (size_t)(t->end - t->begin);
    if (bytes == 0) return GS_OK;
    /* The raw bytes land at the start of dst and are widened in place from
     * the last element down, so no element is overwritten before it is read. */
    unsigned char *raw = (unsigned char *)dst;
    if (!read_at(st->fd, st->data_start + t->begin, raw, bytes)) {
        if (errno) return gs_fail(ctx, GS_ERR_IO, "cannot read tensor '%.120s' from %s: %s", t->name, st->path,
                                  strerror(errno));
        return bad_file(ctx, st->path, t->name, "the file ends inside its data (truncated)");
    }
    for (int64_t i = t->numel - 1; i >= 0; i--) {
        const unsigned char *b = raw + (size_t)i * (size_t)gs_st_dtype_size(t->dtype);
        if (t->dtype == GS_ST_F32)
            dst[i] = bits_to_f32((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
        else {
            uint16_t h = (uint16_t)(b[0] | b[1] << 8);
            dst[i] = t->dtype == GS_ST_F16 ? gs_f16_to_f32(h) : gs_bf16_to_f32(h);
        }
    }
    return GS_OK;
}

/* ---- writing ---------------------------------------------------------- */

/* The JSON header, padded with spaces to a multiple of 8 bytes so the data
 * that follows is aligned (as the reference writer does).  NULL on OOM. */
static char *build_header(const gs_tensor *const *tensors, int count, const gs_st_meta *meta, int meta_count,
                          size_t *length) {
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL;
    if (ok && meta_count > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, METADATA_KEY);
        ok = m != NULL;
        for (int i = 0; ok && i < meta_count; i++)
            ok = cJSON_AddStringToObject(m, meta[i].key, meta[i].value ? meta[i].value : "") != NULL;
    }
    uint64_t offset = 0;
    for (int i = 0; ok && i < count; i++) {
        const gs_tensor *t = tensors[i];
        cJSON *entry = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape = entry ? cJSON_AddArrayToObject(entry, "shape") : NULL;
        cJSON *offsets = shape ? cJSON_AddArrayToObject(entry, "data_offsets") : NULL;
        ok = offsets && cJSON_AddStringToObject(entry, "dtype", "F32");
        for (int d = 0; ok && d < t->ndim; d++) ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        uint64_t end = offset + (uint64_t)t->numel * 4u;
        ok = ok && cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)offset)) &&
             cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)end));
        offset = end;
    }
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json) return NULL;
    size_t n = strlen(json), padded = (n + 7) / 8 * 8;
    char *out = realloc(json, padded + 1);
    if (!out) {
        free(json);
        return NULL;
    }
    memset(out + n, ' ', padded - n);
    out[padded] = '\0';
    *length = padded;
    return out;
}

static bool write_data(int fd, const gs_tensor *const *tensors, int count) {
    unsigned char buf[1 << 15];
    size_t used = 0;
    for (int i = 0; i < count; i++) {
        const gs_tensor *t = tensors[i];
        for (int64_t j = 0; j < t->numel; j++) {
            uint32_t bits;
            memcpy(&bits, &t->data[j], sizeof bits);
            for (int k = 0; k < 4; k++) buf[used++] = (unsigned char)(bits >> (8 * k));
            if (used == sizeof buf) {
                if (!write_all(fd, buf, used)) return false;
                used = 0;
            }
        }
    }
    return write_all(fd, buf, used);
}

static gs_status check_write_args(gs_context *ctx, const char *path, const gs_tensor *const *tensors, int count,
                                  const gs_st_meta *meta, int meta_count) {
    if (!path || !*path || count < 0 || (count > 0 && !tensors) || meta_count < 0 || (meta_count > 0 && !meta))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "gs_safetensors_write: needs a path, %d tensors and %d metadata entries",
                       count, meta_count);
    for (int i = 0; i < count; i++) {
        const char *name = tensors[i] ? tensors[i]->name : NULL;
        if (!name || !*name || !strcmp(name, METADATA_KEY))
            return gs_fail(ctx, GS_ERR_ARGUMENT, "cannot write tensor %d to %s: its name is empty or reserved", i, path);
        for (int j = 0; j < i; j++)
            if (!strcmp(tensors[j]->name, name))
                return gs_fail(ctx, GS_ERR_ARGUMENT, "cannot write %s: tensor '%s' is given twice", path, name);
    }
    for (int i = 0; i < meta_count; i++) {
        if (!meta[i].key) return gs_fail(ctx, GS_ERR_ARGUMENT, "cannot write %s: metadata entry %d has no key", path, i);
        for (int j = 0; j < i; j++)
            if (!strcmp(meta[j].key, meta[i].key))
                return gs_fail(ctx, GS_ERR_ARGUMENT, "cannot write %s: metadata key '%s' is given twice", path,
                               meta[i].key);
    }
    return GS_OK;
}

gs_status gs_safetensors_write(gs_context *ctx, const char *path, const gs_tensor *const *tensors, int count,
                               const gs_st_meta *meta, int meta_count) {
    if (gs_failed(ctx)) return ctx->status;
    if (check_write_args(ctx, path, tensors, count, meta, meta_count) != GS_OK) return ctx->status;
    size_t header_len = 0;
    char *header = build_header(tensors, count, meta, meta_count, &header_len);
    size_t path_len = strlen(path);
    char *tmp = malloc(path_len + 5);
    if (!header || !tmp) {
        free(header);
        free(tmp);
        return gs_fail(ctx, GS_ERR_MEMORY, "out of memory writing %s", path);
    }
    memcpy(tmp, path, path_len);
    memcpy(tmp + path_len, ".tmp", 5);
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)((uint64_t)header_len >> (8 * i));

    /* The first failing step and its errno, before later calls change errno. */
    const char *step = "creating";
    int err = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) err = errno;
    if (fd >= 0) {
        errno = 0;
        if (!(write_all(fd, prefix, 8) && write_all(fd, header, header_len) && write_data(fd, tensors, count))) {
            err = errno ? errno : EIO;
            step = "writing";
        }
        if (!err && fsync(fd) != 0) {
            err = errno;
            step = "syncing";
        }
        if (close(fd) != 0 && !err) {
            err = errno;
            step = "closing";
        }
        if (!err && rename(tmp, path) != 0) {
            err = errno;
            step = "renaming";
        }
        if (err) unlink(tmp);
    }
    gs_status status = GS_OK;
    if (err)
        status = gs_fail(ctx, GS_ERR_IO, "cannot write weights file %s: %s %s: %s", path, step, tmp, strerror(err));
    else
        gs_sync_parent_dir(path);
    free(header);
    free(tmp);
    return status;
}
