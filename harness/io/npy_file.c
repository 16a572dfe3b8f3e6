#include "npy_file.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

gs_status gs_npy_write_f32(const char *path, const int64_t *shape, int ndim, const float *data, gs_error *err) {
    if (ndim < 1 || ndim > 8) return gs_error_set(err, GS_ERR_ARGUMENT, "%s: %d dimensions (1 to 8)", path, ndim);
    /* The header is a Python dict literal padded with spaces so that the
     * data starts at a multiple of 64 bytes, ending in a newline. */
    char header[512];
    int used = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return gs_error_set(err, GS_ERR_ARGUMENT, "%s: negative extent %lld", path, (long long)shape[i]);
        used += snprintf(header + used, sizeof header - (size_t)used, "%lld%s", (long long)shape[i],
                         ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
        count *= shape[i];
    }
    used += snprintf(header + used, sizeof header - (size_t)used, "), }");
    const int preamble = 10; /* magic (6), version (2), header length (2) */
    int total = ((preamble + used + 1 + 63) / 64) * 64;
    int pad = total - preamble - used - 1;
    memset(header + used, ' ', (size_t)pad);
    header[used + pad] = '\n';
    int header_len = used + pad + 1;

    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return gs_error_set(err, GS_ERR_ARGUMENT, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "cannot create %s", tmp);
    /* The format is little-endian; so are the machines geossl runs on. */
    const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    unsigned char len[2] = {(unsigned char)(header_len & 0xff), (unsigned char)(header_len >> 8)};
    bool ok = fwrite(magic, 1, 8, f) == 8 && fwrite(len, 1, 2, f) == 2 &&
              fwrite(header, 1, (size_t)header_len, f) == (size_t)header_len &&
              (count == 0 || fwrite(data, sizeof *data, (size_t)count, f) == (size_t)count);
    if (fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return gs_error_set(err, GS_ERR_IO, "cannot write %s", path);
    }
    return GS_OK;
}
