#include "backbone.h"

#include <string.h>

const char *const GS_BACKBONE_NAMES[] = {"resnet18", "resnet50", "vit-tiny", "vit-small", NULL};

bool gs_backbone_name_valid(const char *name) {
    for (int i = 0; name && GS_BACKBONE_NAMES[i]; i++)
        if (!strcmp(name, GS_BACKBONE_NAMES[i])) return true;
    return false;
}

gs_status gs_backbone_init(gs_context *ctx, gs_backbone *bb, const gs_backbone_config *c) {
    memset(bb, 0, sizeof *bb);
    if (gs_failed(ctx)) return ctx->status;
    if (!gs_backbone_name_valid(c->name))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "unknown backbone '%s' (use resnet18, resnet50, vit-tiny or vit-small)",
                       c->name ? c->name : "(none)");
    if (!strncmp(c->name, "resnet", 6)) {
        bb->kind = GS_BACKBONE_RESNET;
        gs_resnet_config rc = gs_resnet_default_config(!strcmp(c->name, "resnet18") ? 18 : 50, c->bands);
        if (c->width > 0) rc.width = c->width;
        rc.stem = c->stem;
        rc.output_stride = c->output_stride;
        rc.deeplab_dilation = c->deeplab_dilation;
        rc.num_classes = c->num_classes;
        if (gs_resnet_init(ctx, &bb->resnet, &rc) != GS_OK) return ctx->status;
        bb->params = &bb->resnet.params;
        bb->feature_dim = bb->resnet.feature_dim;
        bb->arch = bb->resnet.arch;
    } else {
        bb->kind = GS_BACKBONE_VIT;
        int patch = c->patch > 0 ? c->patch : 16;
        gs_vit_config vc = !strcmp(c->name, "vit-tiny") ? gs_vit_tiny_config(c->img_size, patch, c->bands)
                                                        : gs_vit_small_config(c->img_size, patch, c->bands);
        if (c->width > 0) {
            vc.dim = c->width;
            vc.mlp_dim = 4 * c->width;
        }
        vc.pos = c->pos;
        vc.num_classes = c->num_classes;
        if (gs_vit_init(ctx, &bb->vit, &vc) != GS_OK) return ctx->status;
        bb->params = &bb->vit.params;
        bb->feature_dim = vc.dim;
        bb->arch = bb->vit.arch;
    }
    return GS_OK;
}

void gs_backbone_free(gs_backbone *bb) {
    if (bb->kind == GS_BACKBONE_RESNET)
        gs_resnet_free(&bb->resnet);
    else
        gs_vit_free(&bb->vit);
}

gs_tensor *gs_backbone_forward(gs_context *ctx, gs_backbone *bb, gs_tensor *x, bool training) {
    /* ViTs here have no batchnorm and no dropout: training mode changes nothing. */
    if (bb->kind == GS_BACKBONE_RESNET) return gs_resnet_forward(ctx, &bb->resnet, x, training);
    return gs_vit_forward(ctx, &bb->vit, x);
}
