/* placeholder until the pool kernels land */
#include "cpu_kernels.h"

const gs_pool_kernels gs_cpu_pool_kernels = {0};
