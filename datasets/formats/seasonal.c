/* placeholder until the seasonal formats land */
#include "formats.h"

const gs_dataset_format gs_format_seco = {0};
const gs_dataset_format gs_format_ssl4eo = {0};
