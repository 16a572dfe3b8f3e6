/* placeholder until the matmul kernels land */
#include "cpu_kernels.h"

const gs_matmul_kernels gs_cpu_matmul_kernels = {0};
