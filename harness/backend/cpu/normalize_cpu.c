/* placeholder until the normalize kernels land */
#include "cpu_kernels.h"

const gs_normalize_kernels gs_cpu_normalize_kernels = {0};
