/* Published PyTorch weights in and out of our backbones, through safetensors.
 *
 * Our parameter names are torchvision's for ResNet ("layer1.0.conv1.weight",
 * "bn1.running_mean") and timm's for ViT ("patch_embed.proj.weight",
 * "blocks.0.attn.qkv.weight" with q, k and v fused as one (3D, D) matrix,
 * "cls_token", "pos_embed"), so a state_dict saved with
 * safetensors.torch.save_file maps one to one after wrapper prefixes
 * ("module." from DataParallel, "encoder." / "backbone." / "model." from SSL
 * wrappers) are stripped.
 *
 * Import is all-or-nothing: every tensor is read, converted and checked
 * before any parameter is written. */
#ifndef GS_IO_WEIGHTS_IMPORT_H
#define GS_IO_WEIGHTS_IMPORT_H

#include <stdbool.h>

#include "../core/context.h"
#include "../nn/params.h"
#include "safetensors.h"

typedef struct gs_weights_import_options {
    /* Prefixes stripped from the file's names, repeatedly, in any order
     * ("module.encoder.conv1.weight" -> "conv1.weight").  NULL: "module.",
     * "encoder.", "backbone.", "model.".  n = 0 with a non-NULL list strips
     * nothing. */
    const char *const *strip_prefixes;
    int n_strip_prefixes;
    /* The model's classifier ("fc.*" for ResNet, "head.*" for ViT) must be in
     * the file with its shape.  Off: a head the file lacks, or has with
     * another class count, keeps its current values (a warning is logged). */
    bool require_head;
    /* File tensors that match nothing in the model are GS_ERR_MISMATCH
     * instead of a warning.  torchvision's "num_batches_tracked" and a head
     * the model lacks never count. */
    bool unused_is_error;
} gs_weights_import_options;

typedef struct gs_weights_import_report {
    int loaded;              /* model tensors set from the file */
    int head_kept;           /* model head tensors left as they were */
    int ignored;             /* num_batches_tracked and head tensors the model lacks */
    int unused;              /* file tensors that match nothing */
    char unused_names[256];  /* the first few of them, comma separated */
    char stripped[64];       /* the prefix stripped from the first renamed tensor, "" when none */
    char architecture[192];  /* the file's "architecture" metadata (ours), "" when absent */
} gs_weights_import_report;

/* Reads path into params (the caller builds the model first: backbone->params).
 * Errors: GS_ERR_IO (cannot open), GS_ERR_FORMAT (not safetensors, or a needed
 * tensor in a dtype other than F32 / F16 / BF16), GS_ERR_MISMATCH (a model
 * tensor missing or misshapen: both shapes named, with the input-band and
 * position-table cases spelled out; two file tensors mapping to one name;
 * unused tensors with unused_is_error), GS_ERR_NONFINITE (NaN/Inf stored).
 * On error no parameter is modified.  options and report may be NULL. */
gs_status gs_weights_import(gs_context *ctx, const char *path, const gs_param_list *params,
                            const gs_weights_import_options *options, gs_weights_import_report *report);

/* Writes every tensor of params (buffers included) as F32 under its own name,
 * with metadata "format" = "pt", "producer" = "geossl" and "architecture"
 * (may be NULL).  PyTorch loads it with safetensors.torch.load_file and
 * load_state_dict.  GS_ERR_NONFINITE when a tensor holds NaN/Inf (nothing is
 * written); GS_ERR_IO when the file cannot be written. */
gs_status gs_weights_export(gs_context *ctx, const char *path, const gs_param_list *params, const char *architecture);

/* gs_weights_export with n_extra more metadata entries after those three
 * (what a reader of the file needs besides the names: the bands the encoder
 * takes, in order, and where its weights came from). */
gs_status gs_weights_export_meta(gs_context *ctx, const char *path, const gs_param_list *params,
                                 const char *architecture, const gs_st_meta *extra, int n_extra);

#endif
