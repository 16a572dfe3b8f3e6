/* Sentinel-2 MSI band metadata and the reading of one multi-resolution
 * acquisition (one single-band GeoTIFF per band, at 10, 20 and 60 m) onto the
 * grid of its finest band.  Shared by the BigEarthNet, SeCo and SSL4EO-S12
 * formats.  Thread-safe: no shared state, errors in a gs_error. */
#ifndef GS_DATASETS_SENTINEL2_H
#define GS_DATASETS_SENTINEL2_H

#include <stdint.h>

#include "dataset.h"

/* Fills `out` for a band named "B02", "B2", "B8A" or "B8a" (the datasets spell
 * them both ways); out->name is the canonical two-digit form ("B02", "B8A").
 * Returns 0 for a name that is not one of the 13 MSI bands. */
int gs_s2_band_info(const char *name, gs_band_info *out);

/* Brings one band (src_h x src_w) onto a dst_h x dst_w grid whose size is an
 * integer multiple k >= 1 of it, the same k on both axes, by bilinear
 * interpolation with pixel centres aligned: output pixel i samples the source
 * at (i + 0.5) / k - 0.5, clamped to the edge pixels.  (This is what
 * PyTorch's interpolate(mode="bilinear", align_corners=False) and GDAL's
 * bilinear warp do; k = 1 copies.)  Sizes that are not such a multiple are an
 * error naming band_path, ref_path and both sizes. */
gs_status gs_s2_upsample(const float *src, int64_t src_h, int64_t src_w, float *dst, int64_t dst_h, int64_t dst_w,
                         const char *band_path, const char *ref_path, gs_error *err);

/* Reads n single-band GeoTIFFs and writes them band-major (n, height, width)
 * into dst, each upsampled to the grid of paths[ref] (B02, the finest band),
 * which must be height x width.  A missing or unreadable file, a file with
 * more than one band, a reference of another size or a band whose size is not
 * an integer fraction of the reference's are errors naming the file. */
gs_status gs_s2_read_bands(const char *const *paths, int n, int ref, int64_t height, int64_t width, float *dst,
                           gs_error *err);

/* The names of the subfolders of `dir` (not "." or "..", symlinks to folders
 * included), sorted bytewise so that indexing is reproducible whatever order
 * the file system lists them in.  *names is NULL-terminated; free it with
 * gs_free_names.  A missing or unreadable dir is an error naming it. */
gs_status gs_list_subfolders(const char *dir, char ***names, int64_t *count, gs_error *err);
void gs_free_names(char **names);

#endif
