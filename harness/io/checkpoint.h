/* Training checkpoints in HDF5.
 *
 * A checkpoint is one HDF5 file: one group per parameter list ("model",
 * "target_model", "optimizer", ...) holding a float32 dataset per tensor, named
 * by the tensor's name ("layer1.0.conv1.weight"), and metadata on the root:
 * the format version, the step, the RNG state, the architecture string and the
 * run configuration text.  h5py reads it as f["model"]["conv1.weight"][()].
 *
 * Saving is atomic (temporary file, fsync, rename), so an interrupted save
 * leaves the previous checkpoint in place; a full disk fails the save
 * cleanly (io/h5_file.h).  The file carries a SHA-256 digest of its bytes
 * in its HDF5 user block (io/file_digest.h), checked before libhdf5 reads
 * any of it: libhdf5 is not hardened against damaged or hostile files.  A
 * checkpoint without a digest (written before digests) is refused unless
 * $GEOSSL_TRUST_CHECKPOINTS_WITHOUT_DIGEST is 1 (then read with a warning).
 * Loading is all-or-nothing: the caller builds the model first, and on any
 * error no tensor is modified. */
#ifndef GS_IO_CHECKPOINT_H
#define GS_IO_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/context.h"
#include "../core/rng.h"
#include "../nn/params.h"

/* Bumped when the layout changes incompatibly; readers refuse newer files. */
#define GS_CHECKPOINT_FORMAT_VERSION 1

/* One named group of tensors.  Group and tensor names may contain dots but
 * not slashes; "config" is reserved for the configuration text. */
typedef struct gs_checkpoint_group {
    const char *name;
    const gs_param_list *params;
} gs_checkpoint_group;

/* What gs_checkpoint_save stores besides tensors.  NULL strings store "". */
typedef struct gs_checkpoint_meta {
    int64_t step;
    gs_rng rng;
    const char *architecture; /* e.g. "resnet18 bands=3 width=64 stem=imagenet" */
    const char *config;       /* the whole run configuration as text */
} gs_checkpoint_meta;

/* Metadata read back; the strings are malloc'd (gs_checkpoint_info_free). */
typedef struct gs_checkpoint_info {
    int format_version;
    int64_t step;
    gs_rng rng;
    char *architecture;
    char *config;
} gs_checkpoint_info;

typedef struct gs_checkpoint_load_options {
    /* NULL: any.  Otherwise the file's architecture must equal it exactly. */
    const char *architecture;
    /* Tensors in a loaded group that the caller's list lacks are a mismatch
     * unless this is set (e.g. loading an encoder out of encoder + head). */
    bool allow_unused;
} gs_checkpoint_load_options;

/* Writes all groups and meta to path atomically.  GS_ERR_IO naming the path
 * and the reason when the file cannot be written (the previous file, if any,
 * is untouched); GS_ERR_ARGUMENT for invalid or duplicate names;
 * GS_ERR_NONFINITE naming a tensor holding NaN/Inf (such a checkpoint could
 * not be loaded, so it must not replace a good one). */
gs_status gs_checkpoint_save(gs_context *ctx, const char *path, const gs_checkpoint_group *groups, int n_groups,
                             const gs_checkpoint_meta *meta);

/* Reads the given groups into the caller's existing tensors (same names and
 * shapes) and, when info_out is non-NULL, the metadata.  Only the groups
 * passed are read; the file may hold more.  Errors: GS_ERR_IO (cannot open),
 * GS_ERR_FORMAT (not HDF5, truncated, corrupt or modified (digest), no
 * digest, not a geossl checkpoint, newer format, a text longer than the file
 * or 16 MiB, a negative batchnorm running variance or AdamW second moment),
 * GS_ERR_MISMATCH (architecture, missing group or tensor, shape, unused
 * tensor), GS_ERR_NONFINITE (NaN/Inf stored).  On error nothing of the
 * caller's is modified and info_out is zeroed.  options may be NULL. */
gs_status gs_checkpoint_load(gs_context *ctx, const char *path, const gs_checkpoint_group *groups, int n_groups,
                             gs_checkpoint_info *info_out, const gs_checkpoint_load_options *options);

/* Only the metadata (for --resume and reports); same file errors as load. */
gs_status gs_checkpoint_read_info(gs_context *ctx, const char *path, gs_checkpoint_info *info_out);

void gs_checkpoint_info_free(gs_checkpoint_info *info);

/* The shape of one stored tensor ("heads/aspp.conv1x1.conv.weight"): its
 * rank, or 0 when the file or the tensor is not there or the file fails its
 * digest check (no error printed; a load of it says why),
 * with up to max_dims dimensions in dims.  For heads whose width the
 * checkpoint decides (a pretrained ASPP built for a narrow encoder). */
int gs_checkpoint_tensor_shape(const char *path, const char *name, int64_t *dims, int max_dims);

#endif
