/* SeCo's date draws, visible to tests: the reference test feeds the draws
 * PyTorch made, the sampling test reads the ones SeCo made. */
#ifndef GS_METHODS_SECO_H
#define GS_METHODS_SECO_H

#include <stdint.h>

#include "method.h"

/* The next loss call uses these dates instead of drawing its own: n rows of
 * (t0, t1, t2), one per location of the batch (q and k2 come from date t0,
 * k0 from t1, k1 from t2).  Used once, then SeCo draws again. */
gs_status gs_seco_set_dates(gs_context *ctx, gs_method *m, const int32_t *dates, int64_t n);
/* The last step's (t0, t1, t2) rows; *n is the batch (0 before any step). */
const int32_t *gs_seco_dates(const gs_method *m, int64_t *n);

#endif
