/* Writing float32 arrays as NumPy .npy files (format version 1.0): views a
 * run trained on, dumped so that another implementation can train on the
 * very same pixels (pretrain --dump-views). */
#ifndef GS_IO_NPY_FILE_H
#define GS_IO_NPY_FILE_H

#include <stdint.h>

#include "../core/error.h"

/* data: the product of shape[0..ndim) floats, C order.  Written to a
 * temporary name and renamed, so a reader never sees half a file; errors
 * name the path. */
gs_status gs_npy_write_f32(const char *path, const int64_t *shape, int ndim, const float *data, gs_error *err);

#endif
