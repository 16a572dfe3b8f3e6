/* A light dense decoder for segmentation on a ResNet encoder: a top-down
 * path with skip connections from the four stages (FPN-style: 1x1 lateral
 * projections added to the upsampled coarser map, each merge refined by a
 * 3x3 conv + batchnorm + relu), a 1x1 classifier at stride 4, and a bilinear
 * upsampling to the input size.  Parameters are named "decoder.*". */
#ifndef GS_NN_DECODER_H
#define GS_NN_DECODER_H

#include "layers.h"

typedef struct gs_decoder {
    int64_t dim;                  /* channels of the top-down path */
    int n_classes;
    gs_conv_layer lateral[4];     /* stage s -> dim, 1x1 */
    gs_conv_layer refine[3];      /* after each merge at stages 3, 2, 1: 3x3 */
    gs_batchnorm_layer refine_bn[3];
    gs_conv_layer classifier;     /* dim -> n_classes, 1x1 with bias */
} gs_decoder;

/* stage_channels: the encoder's output channels per stage (gs_resnet's). */
gs_status gs_decoder_init(gs_context *ctx, gs_param_list *list, gs_decoder *dec, const int64_t stage_channels[4],
                          int64_t dim, int n_classes);
/* stages[1..4]: the encoder's stage outputs (gs_resnet_forward_stages);
 * returns logits (N, n_classes, out_h, out_w). */
gs_tensor *gs_decoder_forward(gs_context *ctx, const gs_decoder *dec, gs_tensor *const stages[5], int64_t out_h,
                              int64_t out_w, bool training);

#endif
