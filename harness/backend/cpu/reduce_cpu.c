/* placeholder until the reduce kernels land */
#include "cpu_kernels.h"

const gs_reduce_kernels gs_cpu_reduce_kernels = {0};
