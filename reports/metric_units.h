/* What a metric's numbers are measured in, and the names a reader knows
 * metrics and protocols by.  Every number the report prints carries its
 * unit through here, so a table header, a plot axis and a CSV column never
 * disagree about whether 0.85 means 85 % or a kappa. */
#ifndef GS_METRIC_UNITS_H
#define GS_METRIC_UNITS_H

#include <stddef.h>

/* "%", "img/s", "s", "ms", "fraction 0-1", or "" for a number without a
 * unit (a loss, kappa, an L2 strength).  Stored metrics follow
 * results/README.md: accuracy-like ones in percent. */
const char *gs_metric_unit(const char *metric);
/* The unit as shown after a name: "%", "img/s", ... or "no unit". */
const char *gs_metric_unit_label(const char *metric);
/* "top-1", "mAP (micro)", "mIoU", ...; other metrics as stored. */
const char *gs_metric_display_name(const char *metric);
/* "kNN", "linear probe", "fine-tuning", ...; other protocols as stored. */
const char *gs_protocol_display_name(const char *protocol);
/* Where a protocol goes among a dataset's columns: the cheap frozen-feature
 * protocols first, as papers order them (kNN, linear, fine-tuning,
 * segmentation), anything else after them. */
int gs_protocol_order(const char *protocol);
/* A label fraction as the percentage papers write: "10%", "1%", "0.5%", "100%". */
void gs_format_fraction(char *buf, size_t size, double fraction);

#endif
