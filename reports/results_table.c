#include "results_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric_units.h"

/* The metric a column shows when a dataset was scored several ways: the
 * one papers quote for it (accuracy, mIoU, then micro before macro mAP, as
 * SSL4EO-S12 reports BigEarthNet). */
static const char *const HEADLINE_ORDER[] = {"top1", "miou", "map_micro", "map_macro"};

static int headline_rank(const char *metric) {
    for (size_t i = 0; i < sizeof HEADLINE_ORDER / sizeof *HEADLINE_ORDER; i++)
        if (!strcmp(metric, HEADLINE_ORDER[i])) return (int)i;
    return -1;
}

static bool same_place(const gs_results_column *c, const char *eval_data, const char *protocol, double fraction) {
    return !strcmp(c->eval_data, eval_data) && !strcmp(c->protocol, protocol) &&
           gs_label_fraction_equal(c->label_fraction, fraction);
}

static gs_results_column *find_place(gs_results_table *t, const char *eval_data, const char *protocol,
                                     double fraction) {
    for (size_t i = 0; i < t->n_columns; i++)
        if (same_place(&t->columns[i], eval_data, protocol, fraction)) return &t->columns[i];
    return NULL;
}

/* The column a number measured there goes in, or -1. */
static long column_of(const gs_results_table *t, const char *eval_data, const char *protocol, double fraction,
                      const char *metric) {
    for (size_t i = 0; i < t->n_columns; i++)
        if (same_place(&t->columns[i], eval_data, protocol, fraction) && !strcmp(t->columns[i].metric, metric))
            return (long)i;
    return -1;
}

static int by_column_order(const void *pa, const void *pb) {
    const gs_results_column *a = pa, *b = pb;
    int c = strcmp(a->eval_data, b->eval_data);
    if (c) return c;
    int oa = gs_protocol_order(a->protocol), ob = gs_protocol_order(b->protocol);
    if (oa != ob) return oa < ob ? -1 : 1;
    if ((c = strcmp(a->protocol, b->protocol))) return c;
    if (!gs_label_fraction_equal(a->label_fraction, b->label_fraction))
        return a->label_fraction < b->label_fraction ? -1 : 1;
    return strcmp(a->metric, b->metric);
}

/* Columns: every headline board's place (its best-known metric), then the
 * places of published numbers on datasets we evaluated. */
static void collect_columns(gs_results_table *t, const gs_leaderboards *boards, const gs_reference *reference) {
    for (size_t i = 0; i < boards->n_boards; i++) {
        const gs_leaderboard *b = &boards->boards[i];
        int rank = headline_rank(b->metric);
        if (rank < 0) continue;
        gs_results_column *c = find_place(t, b->eval_data, b->protocol, b->label_fraction);
        if (!c)
            t->columns[t->n_columns++] = (gs_results_column){.eval_data = b->eval_data, .protocol = b->protocol,
                                                             .metric = b->metric, .label_fraction = b->label_fraction};
        else if (rank < headline_rank(c->metric))
            c->metric = b->metric;
    }
    size_t n_ours = t->n_columns;
    for (size_t k = 0; reference && k < reference->n_rows; k++) {
        const gs_reference_row *r = &reference->rows[k];
        bool ours_dataset = false;
        for (size_t i = 0; i < n_ours && !ours_dataset; i++) ours_dataset = !strcmp(t->columns[i].eval_data, r->eval_data);
        if (!ours_dataset || headline_rank(r->metric) < 0 ||
            find_place(t, r->eval_data, r->protocol, r->label_fraction))
            continue;
        t->columns[t->n_columns++] = (gs_results_column){.eval_data = r->eval_data, .protocol = r->protocol,
                                                         .metric = r->metric, .label_fraction = r->label_fraction};
    }
    qsort(t->columns, t->n_columns, sizeof *t->columns, by_column_order);
}

static gs_results_row *add_row(gs_results_table *t, const char *method, const char *backbone,
                               const char *pretrain_data, const gs_reference_row *published) {
    gs_results_row *r = &t->rows[t->n_rows];
    *r = (gs_results_row){.method = method, .backbone = backbone, .pretrain_data = pretrain_data,
                          .published = published, .cells = t->cell_storage + t->n_rows * t->n_columns};
    t->n_rows++;
    return r;
}

static gs_results_row *find_our_row(gs_results_table *t, const gs_leader_entry *e) {
    for (size_t i = 0; i < t->n_rows; i++) {
        gs_results_row *r = &t->rows[i];
        if (!strcmp(r->method, e->method) && !strcmp(r->backbone, e->backbone) &&
            !strcmp(r->pretrain_data, e->pretrain_data))
            return r;
    }
    return add_row(t, e->method, e->backbone, e->pretrain_data, NULL);
}

/* One published row per paper and setting: a paper's numbers for several
 * columns share it, two papers' numbers for the same method never do. */
static gs_results_row *find_published_row(gs_results_table *t, const gs_reference_row *p) {
    for (size_t i = t->n_ours; i < t->n_rows; i++) {
        gs_results_row *r = &t->rows[i];
        if (!strcmp(r->method, p->method) && !strcmp(r->backbone, p->backbone) &&
            !strcmp(r->pretrain_data, p->pretrain_data) && !strcmp(r->published->paper, p->paper))
            return r;
    }
    return add_row(t, p->method, p->backbone, p->pretrain_data, p);
}

static bool is_random_init(const char *method) { return !strcmp(method, "random"); }

/* The baseline first, as papers put it above the methods it is the floor of. */
static int by_row_order(const void *pa, const void *pb) {
    const gs_results_row *a = pa, *b = pb;
    bool ra = is_random_init(a->method), rb = is_random_init(b->method);
    if (ra != rb) return ra ? -1 : 1;
    int c;
    if ((c = strcmp(a->method, b->method))) return c;
    if ((c = strcmp(a->backbone, b->backbone))) return c;
    return strcmp(a->pretrain_data, b->pretrain_data);
}

static void mark_best(gs_results_table *t) {
    for (size_t c = 0; c < t->n_columns; c++) {
        bool lower = gs_metric_lower_is_better(t->columns[c].metric), any = false;
        double best = 0;
        for (size_t i = 0; i < t->n_ours; i++) {
            const gs_results_cell *cell = &t->rows[i].cells[c];
            if (!cell->n_seeds || isnan(cell->mean)) continue;
            if (!any || (lower ? cell->mean < best : cell->mean > best)) best = cell->mean;
            any = true;
        }
        for (size_t i = 0; any && i < t->n_ours; i++) {
            gs_results_cell *cell = &t->rows[i].cells[c];
            cell->best = cell->n_seeds && cell->mean == best;
        }
    }
}

void gs_results_table_free(gs_results_table *t) {
    free(t->columns);
    free(t->rows);
    free(t->cell_storage);
    *t = (gs_results_table){0};
}

gs_status gs_results_table_build(const gs_leaderboards *boards, const gs_reference *reference,
                                 gs_results_table *out, gs_error *err) {
    *out = (gs_results_table){0};
    size_t n_reference = reference ? reference->n_rows : 0, max_rows = n_reference;
    for (size_t i = 0; i < boards->n_boards; i++) max_rows += boards->boards[i].n_entries;
    size_t max_columns = boards->n_boards + n_reference;
    if (!max_columns) return GS_OK;
    out->columns = calloc(max_columns, sizeof *out->columns);
    if (!out->columns) return gs_error_set(err, GS_ERR_MEMORY, "results table: out of memory");
    collect_columns(out, boards, reference);
    if (!out->n_columns) {
        out->n_published_not_shown = n_reference;
        return GS_OK;
    }
    out->rows = calloc(max_rows ? max_rows : 1, sizeof *out->rows);
    out->cell_storage = calloc((max_rows ? max_rows : 1) * out->n_columns, sizeof *out->cell_storage);
    if (!out->rows || !out->cell_storage) {
        gs_results_table_free(out);
        return gs_error_set(err, GS_ERR_MEMORY, "results table: out of memory");
    }
    for (size_t i = 0; i < boards->n_boards; i++) {
        const gs_leaderboard *b = &boards->boards[i];
        long c = column_of(out, b->eval_data, b->protocol, b->label_fraction, b->metric);
        for (size_t e = 0; c >= 0 && e < b->n_entries; e++) {
            const gs_leader_entry *entry = &b->entries[e];
            find_our_row(out, entry)->cells[c] =
                (gs_results_cell){.mean = entry->mean, .std = entry->std, .n_seeds = entry->n_seeds};
        }
    }
    out->n_ours = out->n_rows;
    /* Sorted before the published rows exist: their cells follow the rows. */
    qsort(out->rows, out->n_ours, sizeof *out->rows, by_row_order);
    for (size_t k = 0; k < n_reference; k++) {
        const gs_reference_row *p = &reference->rows[k];
        long c = column_of(out, p->eval_data, p->protocol, p->label_fraction, p->metric);
        gs_results_cell *cell = c >= 0 ? &find_published_row(out, p)->cells[c] : NULL;
        if (!cell || cell->n_seeds) { /* no column, or the paper gave this cell twice: the first is shown */
            out->n_published_not_shown++;
            continue;
        }
        *cell = (gs_results_cell){.mean = p->value, .std = NAN, .n_seeds = 1};
    }
    mark_best(out);
    return GS_OK;
}

void gs_results_column_label(char *buf, size_t size, const gs_results_column *c) {
    char fraction[32];
    gs_format_fraction(fraction, sizeof fraction, c->label_fraction);
    snprintf(buf, size, "%s · %s · %s labels · %s (%s)", c->eval_data, gs_protocol_display_name(c->protocol),
             fraction, gs_metric_display_name(c->metric), gs_metric_unit_label(c->metric));
}

const char *gs_results_row_method(const gs_results_row *r) {
    return !r->published && is_random_init(r->method) ? "random init" : r->method;
}

void gs_results_row_source(char *buf, size_t size, const gs_results_table *t, const gs_results_row *r) {
    if (r->published) {
        snprintf(buf, size, "published: %s", r->published->paper);
        return;
    }
    int low = 0, high = 0;
    for (size_t c = 0; c < t->n_columns; c++) {
        int n = r->cells[c].n_seeds;
        if (!n) continue;
        if (!low || n < low) low = n;
        if (n > high) high = n;
    }
    if (low == high)
        snprintf(buf, size, "geossl, %d seed%s", low, low == 1 ? "" : "s");
    else
        snprintf(buf, size, "geossl, %d-%d seeds", low, high);
}

/* Ten significant digits: averaging leaves float noise past them
 * (98.69999999999999 for the mean of 98.6 and 98.8) that is no information. */
static void csv_number(gs_text *line, double v, bool present) {
    char buf[GS_DOUBLE_TEXT_SIZE] = "", rounded[64];
    if (present && !isnan(v)) {
        snprintf(rounded, sizeof rounded, "%.10g", v);
        gs_format_double(buf, strtod(rounded, NULL));
    }
    gs_text_append(line, ",");
    gs_csv_append_field(line, buf);
}

void gs_results_table_csv(const gs_results_table *t, gs_text *out) {
    gs_text_append(out, "method,backbone,pretrain_data,source");
    for (size_t c = 0; c < t->n_columns; c++) {
        const gs_results_column *col = &t->columns[c];
        char fraction[32], name[512];
        gs_format_fraction(fraction, sizeof fraction, col->label_fraction);
        static const char *const PARTS[] = {"mean", "std", "seeds"};
        for (size_t p = 0; p < 3; p++) {
            if (p < 2)
                snprintf(name, sizeof name, "%s %s %s %s %s (%s)", col->eval_data, col->protocol, fraction,
                         col->metric, PARTS[p], gs_metric_unit_label(col->metric));
            else
                snprintf(name, sizeof name, "%s %s %s %s seeds", col->eval_data, col->protocol, fraction, col->metric);
            gs_text_append(out, ",");
            gs_csv_append_field(out, name);
        }
    }
    gs_text_append(out, "\n");
    for (size_t i = 0; i < t->n_rows; i++) {
        const gs_results_row *r = &t->rows[i];
        char source[512];
        gs_results_row_source(source, sizeof source, t, r);
        const char *ids[] = {gs_results_row_method(r), r->backbone, r->pretrain_data[0] ? r->pretrain_data : "none",
                             source};
        for (size_t k = 0; k < 4; k++) {
            if (k) gs_text_append(out, ",");
            gs_csv_append_field(out, ids[k]);
        }
        for (size_t c = 0; c < t->n_columns; c++) {
            const gs_results_cell *cell = &r->cells[c];
            csv_number(out, cell->mean, cell->n_seeds > 0);
            csv_number(out, cell->std, cell->n_seeds > 0);
            csv_number(out, cell->n_seeds, cell->n_seeds > 0 && !r->published);
        }
        gs_text_append(out, "\n");
    }
}
