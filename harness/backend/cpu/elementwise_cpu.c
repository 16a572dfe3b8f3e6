/* placeholder until the elementwise kernels land */
#include "cpu_kernels.h"

const gs_elementwise_kernels gs_cpu_elementwise_kernels = {0};
