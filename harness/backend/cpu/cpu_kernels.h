/* Kernel tables of the CPU backend, one per op family, each defined in its
 * own file next to this one (<family>_cpu.c). */
#ifndef GS_CPU_KERNELS_H
#define GS_CPU_KERNELS_H

#include "../backend.h"

extern const gs_activation_kernels gs_cpu_activation_kernels;
extern const gs_attention_kernels gs_cpu_attention_kernels;
extern const gs_batchnorm_kernels gs_cpu_batchnorm_kernels;
extern const gs_box_pool_kernels gs_cpu_box_pool_kernels;
extern const gs_channel_stats_kernels gs_cpu_channel_stats_kernels;
extern const gs_conv2d_kernels gs_cpu_conv2d_kernels;
extern const gs_elementwise_kernels gs_cpu_elementwise_kernels;
extern const gs_layernorm_kernels gs_cpu_layernorm_kernels;
extern const gs_loss_kernels gs_cpu_loss_kernels;
extern const gs_matmul_kernels gs_cpu_matmul_kernels;
extern const gs_normalize_kernels gs_cpu_normalize_kernels;
extern const gs_pool_kernels gs_cpu_pool_kernels;
extern const gs_reduce_kernels gs_cpu_reduce_kernels;
extern const gs_shape_kernels gs_cpu_shape_kernels;
extern const gs_softmax_kernels gs_cpu_softmax_kernels;
extern const gs_tokens_kernels gs_cpu_tokens_kernels;
extern const gs_upsample_kernels gs_cpu_upsample_kernels;

#endif
