/* The safetensors file format, read and written here (Debian packages no
 * library for it).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON, then the
 * raw little-endian tensor data.  The JSON maps each tensor name to
 * {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]} (offsets into
 * the data that follows the header) and may hold "__metadata__", a map of
 * strings.  PyTorch's safetensors.torch.load_file reads what we write.
 *
 * Reading validates the whole header before any data is touched: a header
 * longer than the file, malformed JSON, unknown dtypes, offsets outside the
 * data or overlapping, byte lengths that disagree with shape x dtype size and
 * duplicate names are GS_ERR_FORMAT naming the file and the tensor.  Data is
 * read on demand with bounds checked, so corrupt files end in a clean error.
 * F32, F16 and BF16 tensors convert to float32; other dtypes (the int64
 * "num_batches_tracked" of torchvision, say) are listed but cannot be read
 * as floats. */
#ifndef GS_IO_SAFETENSORS_H
#define GS_IO_SAFETENSORS_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/context.h"
#include "../core/tensor.h"

/* Headers beyond this are refused as corrupt (the reference implementation
 * caps them at 100 MB too); real ones are a few hundred KB at most. */
#define GS_SAFETENSORS_MAX_HEADER ((uint64_t)100 << 20)

typedef enum gs_st_dtype {
    GS_ST_BOOL,
    GS_ST_U8,
    GS_ST_I8,
    GS_ST_F8_E5M2,
    GS_ST_F8_E4M3,
    GS_ST_I16,
    GS_ST_U16,
    GS_ST_F16,
    GS_ST_BF16,
    GS_ST_I32,
    GS_ST_U32,
    GS_ST_F32,
    GS_ST_F64,
    GS_ST_I64,
    GS_ST_U64,
} gs_st_dtype;

/* The format's name for a dtype ("F32") and its element size in bytes. */
const char *gs_st_dtype_name(gs_st_dtype dtype);
int gs_st_dtype_size(gs_st_dtype dtype);

typedef struct gs_st_tensor {
    char *name;
    gs_st_dtype dtype;
    int ndim;                       /* 0 for a scalar */
    int64_t shape[GS_MAX_DIMS];
    int64_t numel;
    uint64_t begin, end;            /* byte range within the data section */
} gs_st_tensor;

typedef struct gs_st_meta {
    char *key, *value;
} gs_st_meta;

/* An open file: its validated header, and the descriptor data is read from. */
typedef struct gs_safetensors {
    char *path;
    int fd;
    uint64_t data_start;            /* 8 + header length */
    uint64_t data_size;             /* bytes after the header */
    gs_st_tensor *tensors;          /* in file order */
    int count;
    gs_st_meta *meta;
    int meta_count;
} gs_safetensors;

/* Opens path and validates its header.  GS_ERR_IO when it cannot be opened
 * or read, GS_ERR_FORMAT when it is not a well-formed safetensors file.  On
 * failure *st is zeroed and needs no close. */
gs_status gs_safetensors_open(gs_context *ctx, const char *path, gs_safetensors *st);
void gs_safetensors_close(gs_safetensors *st);

/* NULL when absent. */
const gs_st_tensor *gs_safetensors_find(const gs_safetensors *st, const char *name);
/* The "__metadata__" value for key, or NULL. */
const char *gs_safetensors_meta(const gs_safetensors *st, const char *key);

/* Reads tensor t of st into dst (t->numel floats), converting F16 / BF16 to
 * float32.  GS_ERR_FORMAT for any other dtype (named, with the fix) and when
 * the file turns out shorter than its header says. */
gs_status gs_safetensors_read_f32(gs_context *ctx, const gs_safetensors *st, const gs_st_tensor *t, float *dst);

/* Writes tensors (named by tensor->name, float32) and metadata pairs to path
 * atomically (temporary file, fsync, rename).  GS_ERR_ARGUMENT for a missing
 * or duplicate name, GS_ERR_IO naming the path and reason when it cannot be
 * written (a previous file at path is then untouched). */
gs_status gs_safetensors_write(gs_context *ctx, const char *path, const gs_tensor *const *tensors, int count,
                               const gs_st_meta *meta, int meta_count);

/* Half-precision conversions, exact (every F16 and BF16 value is a float). */
float gs_f16_to_f32(uint16_t h);
float gs_bf16_to_f32(uint16_t h);

#endif
