#include "metric_units.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const PERCENT_METRICS[] = {"top1",     "top5", "map_micro", "map_macro", "miou",
                                              "oa",       "f1_macro", "mean_class_accuracy"};
/* Per-class metrics are "<family>/<class>"; these families are percentages. */
static const char *const PERCENT_FAMILIES[] = {"accuracy/", "f1/", "iou/", "ap/"};

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

const char *gs_metric_unit(const char *metric) {
    for (size_t i = 0; i < sizeof PERCENT_METRICS / sizeof *PERCENT_METRICS; i++)
        if (!strcmp(metric, PERCENT_METRICS[i])) return "%";
    for (size_t i = 0; i < sizeof PERCENT_FAMILIES / sizeof *PERCENT_FAMILIES; i++)
        if (!strncmp(metric, PERCENT_FAMILIES[i], strlen(PERCENT_FAMILIES[i]))) return "%";
    if (!strcmp(metric, "img_per_s")) return "img/s";
    if (ends_with(metric, "_ms")) return "ms";
    if (ends_with(metric, "_s") || strstr(metric, "seconds") || strstr(metric, "wall_time")) return "s";
    /* The linear probe's validation score of the chosen L2 is kept as the
     * probe computes it: the fraction of validation images right (or mAP). */
    if (!strcmp(metric, "val_metric")) return "fraction 0-1";
    return "";
}

const char *gs_metric_unit_label(const char *metric) {
    const char *unit = gs_metric_unit(metric);
    return unit[0] ? unit : "no unit";
}

const char *gs_metric_display_name(const char *metric) {
    static const struct {
        const char *stored, *shown;
    } NAMES[] = {{"top1", "top-1"},       {"top5", "top-5"},         {"map_micro", "mAP (micro)"},
                 {"map_macro", "mAP (macro)"}, {"miou", "mIoU"},     {"oa", "OA"},
                 {"f1_macro", "F1 (macro)"}, {"img_per_s", "throughput"}, {"chosen_l2", "chosen L2 strength"},
                 {"val_metric", "validation score of the chosen L2"}};
    for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; i++)
        if (!strcmp(metric, NAMES[i].stored)) return NAMES[i].shown;
    return metric;
}

static const char *const PROTOCOLS[][2] = {
    {"knn", "kNN"}, {"linear", "linear probe"}, {"finetune", "fine-tuning"}, {"segmentation", "segmentation"}};

const char *gs_protocol_display_name(const char *protocol) {
    for (size_t i = 0; i < sizeof PROTOCOLS / sizeof *PROTOCOLS; i++)
        if (!strcmp(protocol, PROTOCOLS[i][0])) return PROTOCOLS[i][1];
    return protocol;
}

int gs_protocol_order(const char *protocol) {
    for (size_t i = 0; i < sizeof PROTOCOLS / sizeof *PROTOCOLS; i++)
        if (!strcmp(protocol, PROTOCOLS[i][0])) return (int)i;
    return (int)(sizeof PROTOCOLS / sizeof *PROTOCOLS);
}

void gs_format_fraction(char *buf, size_t size, double fraction) { snprintf(buf, size, "%g%%", fraction * 100.0); }
