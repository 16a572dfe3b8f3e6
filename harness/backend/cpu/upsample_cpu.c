/* placeholder until the upsample kernels land */
#include "cpu_kernels.h"

const gs_upsample_kernels gs_cpu_upsample_kernels = {0};
