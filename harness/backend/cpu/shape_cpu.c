/* placeholder until the shape kernels land */
#include "cpu_kernels.h"

const gs_shape_kernels gs_cpu_shape_kernels = {0};
