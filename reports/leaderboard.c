#include "leaderboard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool gs_metric_lower_is_better(const char *metric) {
    static const char *const LOWER[] = {"loss", "error", "err", "_ms", "time", "seconds", "wall_time"};
    for (size_t i = 0; i < sizeof LOWER / sizeof *LOWER; i++)
        if (strstr(metric, LOWER[i])) return true;
    return false;
}

gs_metric_tier gs_metric_tier_of(const char *metric) {
    static const char *const HEADLINE[] = {"top1", "map_micro", "map_macro", "miou"};
    static const char *const DIAGNOSTIC[] = {"chosen_l2", "val_metric"};
    if (strchr(metric, '/')) return GS_METRIC_PER_CLASS;
    for (size_t i = 0; i < sizeof DIAGNOSTIC / sizeof *DIAGNOSTIC; i++)
        if (!strcmp(metric, DIAGNOSTIC[i])) return GS_METRIC_DIAGNOSTIC;
    for (size_t i = 0; i < sizeof HEADLINE / sizeof *HEADLINE; i++)
        if (!strcmp(metric, HEADLINE[i])) return GS_METRIC_HEADLINE;
    return GS_METRIC_SUMMARY;
}

static int decimals_for(double v) {
    double a = fabs(v);
    return a >= 1000 ? 1 : a >= 1 ? 2 : 4;
}

void gs_format_metric(char *buf, size_t size, double value) {
    if (!isfinite(value))
        snprintf(buf, size, "%s", isnan(value) ? "nan" : value > 0 ? "inf" : "-inf");
    else
        snprintf(buf, size, "%.*f", decimals_for(value), value);
}

void gs_format_difference(char *buf, size_t size, double difference, double scale) {
    if (!isfinite(difference))
        gs_format_metric(buf, size, difference);
    else
        snprintf(buf, size, "%+.*f", decimals_for(scale), difference);
}

void gs_format_mean_std(char *buf, size_t size, double mean, double std, int n_seeds) {
    if (n_seeds < 2 || !isfinite(mean)) {
        gs_format_metric(buf, size, mean);
        return;
    }
    int d = decimals_for(mean);
    snprintf(buf, size, "%.*f ± %.*f", d, mean, d, std);
}

/* Sort key of a row: board fields, then entry fields, then seed, then file
 * order, so one sweep sees boards, entries and seeds as runs. */
static int compare_rows(const gs_result_row *a, const gs_result_row *b) {
    int c;
    if ((c = strcmp(a->eval_data, b->eval_data))) return c;
    if ((c = strcmp(a->protocol, b->protocol))) return c;
    if (!gs_label_fraction_equal(a->label_fraction, b->label_fraction))
        return a->label_fraction < b->label_fraction ? -1 : 1;
    if ((c = strcmp(a->metric, b->metric))) return c;
    if ((c = strcmp(a->method, b->method))) return c;
    if ((c = strcmp(a->backbone, b->backbone))) return c;
    if ((c = strcmp(a->pretrain_data, b->pretrain_data))) return c;
    if (a->seed != b->seed) return a->seed < b->seed ? -1 : 1;
    return 0;
}

static int compare_row_ptrs(const void *pa, const void *pb) {
    const gs_result_row *a = *(const gs_result_row *const *)pa, *b = *(const gs_result_row *const *)pb;
    int c = compare_rows(a, b);
    if (c) return c;
    return a < b ? -1 : a > b ? 1 : 0; /* rows are in file order in memory */
}

static bool same_board(const gs_result_row *a, const gs_result_row *b) {
    return !strcmp(a->eval_data, b->eval_data) && !strcmp(a->protocol, b->protocol) &&
           gs_label_fraction_equal(a->label_fraction, b->label_fraction) && !strcmp(a->metric, b->metric);
}

static bool same_entry(const gs_result_row *a, const gs_result_row *b) {
    return same_board(a, b) && !strcmp(a->method, b->method) && !strcmp(a->backbone, b->backbone) &&
           !strcmp(a->pretrain_data, b->pretrain_data);
}

/* Mean and sample std over seeds from rows [begin, end) of one entry. */
static gs_leader_entry summarize(const gs_result_row *const *rows, size_t begin, size_t end) {
    double sum = 0, sum_sq = 0;
    int n = 0;
    for (size_t i = begin; i < end; i++) {
        if (i + 1 < end && rows[i + 1]->seed == rows[i]->seed) continue; /* a later re-run of this seed wins */
        sum += rows[i]->value;
        n++;
    }
    double mean = sum / n;
    for (size_t i = begin; i < end; i++) {
        if (i + 1 < end && rows[i + 1]->seed == rows[i]->seed) continue;
        sum_sq += (rows[i]->value - mean) * (rows[i]->value - mean);
    }
    const gs_result_row *r = rows[begin];
    gs_leader_entry e = {.method = r->method, .backbone = r->backbone, .pretrain_data = r->pretrain_data,
                         .mean = mean, .std = n > 1 ? sqrt(sum_sq / (n - 1)) : 0.0, .n_seeds = n};
    for (size_t i = begin + 1; i < end && !e.mixed_settings[0]; i++) {
        char key[32], mine[32], theirs[32]; /* 4 x 31 + 8 fits mixed_settings */
        if (gs_settings_conflict(rows[begin]->settings, rows[i]->settings, key, mine, theirs, sizeof mine))
            snprintf(e.mixed_settings, sizeof e.mixed_settings, "%s=%s vs %s=%s", key, mine, key, theirs);
    }
    return e;
}

/* Best first; NaN means (a diverged run) last.  qsort has no context
 * argument, so the direction is carried by two comparators. */
static int by_name(const gs_leader_entry *a, const gs_leader_entry *b) {
    int c;
    if ((c = strcmp(a->method, b->method))) return c;
    if ((c = strcmp(a->backbone, b->backbone))) return c;
    return strcmp(a->pretrain_data, b->pretrain_data);
}

static int rank(const gs_leader_entry *a, const gs_leader_entry *b, bool lower_better) {
    bool an = isnan(a->mean), bn = isnan(b->mean);
    if (an != bn) return an ? 1 : -1;
    if (!an && a->mean != b->mean) return (a->mean > b->mean) != lower_better ? -1 : 1;
    return by_name(a, b);
}

static int rank_higher(const void *a, const void *b) { return rank(a, b, false); }
static int rank_lower(const void *a, const void *b) { return rank(a, b, true); }

void gs_leaderboards_free(gs_leaderboards *b) {
    for (size_t i = 0; i < b->n_boards; i++) free(b->boards[i].entries);
    free(b->boards);
    *b = (gs_leaderboards){0};
}

gs_status gs_leaderboards_build(const gs_results *results, gs_leaderboards *out, gs_error *err) {
    *out = (gs_leaderboards){0};
    size_t n = results->n_rows;
    if (!n) return GS_OK;
    const gs_result_row **rows = malloc(n * sizeof *rows);
    /* At most one board and one entry per row: allocate for the worst case. */
    out->boards = calloc(n, sizeof *out->boards);
    if (!rows || !out->boards) {
        free(rows);
        free(out->boards);
        out->boards = NULL;
        return gs_error_set(err, GS_ERR_MEMORY, "leaderboard: out of memory");
    }
    for (size_t i = 0; i < n; i++) rows[i] = &results->rows[i];
    qsort(rows, n, sizeof *rows, compare_row_ptrs);

    gs_status status = GS_OK;
    for (size_t b0 = 0; b0 < n && status == GS_OK;) {
        size_t b1 = b0 + 1;
        while (b1 < n && same_board(rows[b0], rows[b1])) b1++;
        gs_leaderboard *board = &out->boards[out->n_boards++];
        *board = (gs_leaderboard){.eval_data = rows[b0]->eval_data, .protocol = rows[b0]->protocol,
                                  .metric = rows[b0]->metric, .label_fraction = rows[b0]->label_fraction,
                                  .lower_is_better = gs_metric_lower_is_better(rows[b0]->metric)};
        board->entries = malloc((b1 - b0) * sizeof *board->entries);
        if (!board->entries) {
            status = gs_error_set(err, GS_ERR_MEMORY, "leaderboard: out of memory");
            break;
        }
        for (size_t e0 = b0; e0 < b1;) {
            size_t e1 = e0 + 1;
            while (e1 < b1 && same_entry(rows[e0], rows[e1])) e1++;
            board->entries[board->n_entries++] = summarize(rows, e0, e1);
            e0 = e1;
        }
        qsort(board->entries, board->n_entries, sizeof *board->entries,
              board->lower_is_better ? rank_lower : rank_higher);
        double best = board->entries[0].mean;
        for (size_t i = 0; i < board->n_entries && !isnan(best); i++)
            board->entries[i].best = board->entries[i].mean == best;
        b0 = b1;
    }
    free(rows);
    if (status != GS_OK) gs_leaderboards_free(out);
    return status;
}
