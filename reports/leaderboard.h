/* Leaderboards: one per (evaluation data, protocol, label fraction,
 * metric); in each, one entry per (method, backbone, pretraining data) with
 * the mean and sample standard deviation over seeds, best marked.
 *
 * When a seed appears twice for the same entry (a re-run), the row later in
 * the file wins: it is the newer measurement. */
#ifndef GS_LEADERBOARD_H
#define GS_LEADERBOARD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "results_store.h"

typedef struct gs_leader_entry {
    const char *method, *backbone, *pretrain_data;
    double mean, std; /* std: sample (n-1) over seeds, 0 for one seed */
    int n_seeds;
    bool best;        /* the best mean of its board (ties all marked) */
    /* Non-empty when the averaged rows disagree in their settings column
     * (written by hand or by an older geossl; eval refuses to make such a
     * file): "KEY=A vs KEY=B", the first disagreement. */
    char mixed_settings[160];
} gs_leader_entry;

typedef struct gs_leaderboard {
    const char *eval_data, *protocol, *metric;
    double label_fraction;
    bool lower_is_better;
    gs_leader_entry *entries; /* best first */
    size_t n_entries;
} gs_leaderboard;

typedef struct gs_leaderboards {
    gs_leaderboard *boards; /* sorted by eval data, protocol, fraction, metric */
    size_t n_boards;
} gs_leaderboards;

/* The strings point into `results`, which must outlive the boards. */
gs_status gs_leaderboards_build(const gs_results *results, gs_leaderboards *out, gs_error *err);
void gs_leaderboards_free(gs_leaderboards *b);

/* Losses, errors and times are better when lower; everything else higher. */
bool gs_metric_lower_is_better(const char *metric);

/* Where a metric's leaderboard goes in a report.  Readers come for the
 * numbers papers quote (top-1, mAP, mIoU); the per-class breakdowns
 * ("accuracy/Forest", "iou/building": a name with a '/') outnumber them ten
 * to one and would bury them if sorted together. */
typedef enum gs_metric_tier {
    GS_METRIC_HEADLINE,  /* top1, map_micro, map_macro, miou */
    GS_METRIC_SUMMARY,   /* every other whole-dataset number: oa, kappa, f1_macro, loss, img_per_s, ... */
    GS_METRIC_PER_CLASS, /* one class's value */
    GS_METRIC_DIAGNOSTIC, /* a setting the protocol chose, not a score: chosen_l2, val_metric */
} gs_metric_tier;
gs_metric_tier gs_metric_tier_of(const char *metric);

/* Prints a metric value with the decimals its size calls for ("91.23",
 * "0.8523", "1234.5"); `std`, when >= 0, with the same decimals. */
void gs_format_metric(char *buf, size_t size, double value);
/* A difference printed with the decimals of the numbers it compares
 * (`scale`), signed: "+0.35", "-4.00". */
void gs_format_difference(char *buf, size_t size, double difference, double scale);
void gs_format_mean_std(char *buf, size_t size, double mean, double std, int n_seeds);

#endif
