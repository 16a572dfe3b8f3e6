/* One handle over the backbones, so training code and methods can take
 * "resnet18", "resnet50", "vit-tiny" or "vit-small" by name. */
#ifndef GS_NN_BACKBONE_H
#define GS_NN_BACKBONE_H

#include "resnet.h"
#include "vit.h"

typedef enum gs_backbone_kind { GS_BACKBONE_RESNET, GS_BACKBONE_VIT } gs_backbone_kind;

typedef struct gs_backbone_config {
    const char *name;  /* resnet18 | resnet50 | vit-tiny | vit-small */
    int bands;
    int img_size;      /* ViT: the input size (position table); ResNet: any input works */
    int width;         /* 0: the standard width (ResNet 64; ViT 192 / 384) */
    gs_stem stem;      /* ResNet only */
    int output_stride; /* ResNet only; 0: 32 (torchvision's); 16 or 8 dilate the last stages (DeepLab) */
    bool deeplab_dilation; /* ResNet at output stride 16 / 8: gs_resnet_config's (the first dilated block's rate) */
    int patch;         /* ViT only; 0: 16 */
    gs_pos_embed pos;  /* ViT only */
    int num_classes;   /* 0: features out */
} gs_backbone_config;

typedef struct gs_backbone {
    gs_backbone_kind kind;
    gs_resnet resnet;
    gs_vit vit;
    gs_param_list *params; /* the active network's parameters */
    int64_t feature_dim;
    const char *arch;      /* architecture string, checked when loading checkpoints */
} gs_backbone;

/* The supported names, NULL-terminated: "resnet18", "resnet50", "vit-tiny",
 * "vit-small" (the CLI's --backbone choices). */
extern const char *const GS_BACKBONE_NAMES[];
/* True for the supported names. */
bool gs_backbone_name_valid(const char *name);
gs_status gs_backbone_init(gs_context *ctx, gs_backbone *bb, const gs_backbone_config *config);
void gs_backbone_free(gs_backbone *bb);
/* x (N, bands, H, W) -> (N, num_classes) or (N, feature_dim). */
gs_tensor *gs_backbone_forward(gs_context *ctx, gs_backbone *bb, gs_tensor *x, bool training);

#endif
