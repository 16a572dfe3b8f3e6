/* placeholder until the conv2d kernels land */
#include "cpu_kernels.h"

const gs_conv2d_kernels gs_cpu_conv2d_kernels = {0};
