/* placeholder until the tokens kernels land */
#include "cpu_kernels.h"

const gs_tokens_kernels gs_cpu_tokens_kernels = {0};
