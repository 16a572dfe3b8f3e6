/* placeholder until this format lands: an unnamed format is not listed */
#include "formats.h"

const gs_dataset_format gs_format_eurosat_ms = {0};
