/* Loads the inputs, computes the sections, draws the plots and writes
 * report.md, index.html and results_table.csv (each through a temporary
 * file and rename, so an interrupted run never leaves half a report). */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "document.h"
#include "kernel_regression.h"
#include "leaderboard.h"
#include "loss_log.h"
#include "paper_delta.h"
#include "plots.h"
#include "provenance.h"
#include "reference.h"
#include "report_sections.h"
#include "results_store.h"
#include "results_table.h"

/* Everything the report holds on to while it is built. */
typedef struct report_inputs {
    gs_results results;
    gs_leaderboards boards;
    gs_reference reference;
    gs_paper_comparisons comparisons;
    gs_results_table table;
    gs_loss_logs logs;
    gs_kernel_timings kernels_base, kernels_new;
    gs_kernel_comparison kernels;
    gs_plots plots;
    gs_doc doc;
} report_inputs;

static void inputs_free(report_inputs *in) {
    gs_doc_free(&in->doc);
    gs_plots_free(&in->plots);
    gs_kernel_comparison_free(&in->kernels);
    gs_kernel_timings_free(&in->kernels_new);
    gs_kernel_timings_free(&in->kernels_base);
    gs_loss_logs_free(&in->logs);
    gs_results_table_free(&in->table);
    gs_paper_comparisons_free(&in->comparisons);
    gs_reference_free(&in->reference);
    gs_leaderboards_free(&in->boards);
    gs_results_free(&in->results);
}

static gs_status make_dirs(const char *path, gs_error *err) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return gs_error_set(err, GS_ERR_ARGUMENT, "report: output path too long");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return gs_error_set(err, GS_ERR_IO, "%s: cannot create (%s)", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return gs_error_set(err, GS_ERR_IO, "%s: cannot create (%s)", buf, strerror(errno));
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return gs_error_set(err, GS_ERR_IO, "%s: not a directory", buf);
    return GS_OK;
}

#define RESULTS_TABLE_CSV "results_table.csv"

static gs_status write_atomically(const char *dir, const char *name, const gs_text *text, gs_error *err) {
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    FILE *f = fopen(tmp, "wb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "%s: cannot write (%s)", tmp, strerror(errno));
    size_t n = fwrite(gs_text_str(text), 1, text->len, f);
    if (fclose(f) != 0 || n != text->len) {
        remove(tmp);
        return gs_error_set(err, GS_ERR_IO, "%s: write failed (disk full?)", tmp);
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return gs_error_set(err, GS_ERR_IO, "%s: cannot rename into place (%s)", path, strerror(errno));
    }
    return GS_OK;
}

static gs_status load_inputs(const gs_report_options *o, report_inputs *in, char *reference_note, size_t note_size,
                             gs_error *err) {
    gs_status s = GS_OK;
    if (o->results_path) s = gs_results_load(o->results_path, &in->results, err);
    if (s == GS_OK) s = gs_leaderboards_build(&in->results, &in->boards, err);
    if (s == GS_OK && o->results_path) {
        struct stat st;
        if (!o->reference_path)
            snprintf(reference_note, note_size, "No reference file was given (--reference FILE).");
        else if (stat(o->reference_path, &st) != 0)
            snprintf(reference_note, note_size, "No comparison: the reference file %s does not exist.",
                     o->reference_path);
        else if ((s = gs_reference_load(o->reference_path, &in->reference, err)) == GS_OK)
            s = gs_paper_compare(&in->boards, &in->reference, &in->comparisons, err);
    }
    if (s == GS_OK && o->results_path)
        s = gs_results_table_build(&in->boards, in->reference.n_rows ? &in->reference : NULL, &in->table, err);
    if (s == GS_OK && o->loss_log_path) s = gs_loss_logs_add(&in->logs, o->loss_log_path, err);
    if (s == GS_OK && o->results_path) s = gs_loss_logs_discover(&in->logs, o->results_path, err);
    if (s == GS_OK && o->kernels_path) {
        s = gs_kernel_timings_load(o->kernels_baseline_path, &in->kernels_base, err);
        if (s == GS_OK) s = gs_kernel_timings_load(o->kernels_path, &in->kernels_new, err);
        if (s == GS_OK)
            s = gs_kernel_compare(&in->kernels_base, &in->kernels_new, o->regression_threshold, &in->kernels, err);
    }
    return s;
}

static void build_document(const gs_report_options *o, report_inputs *in, const char *reference_note) {
    gs_doc *doc = &in->doc;
    char date[32];
    gs_provenance_date_utc(date, sizeof date);
    if (o->preface) gs_doc_note(doc, "%s", o->preface);
    if (o->results_path)
        gs_doc_paragraph(doc, "Generated %s from %s: %zu result rows in %zu leaderboards.", date, o->results_path,
                         in->results.n_rows, in->boards.n_boards);
    else
        gs_doc_paragraph(doc, "Generated %s (kernel timings only).", date);
    bool have_reference = o->results_path && !reference_note[0];
    if (o->results_path) {
        gs_section_results_table(doc, &in->table, RESULTS_TABLE_CSV, have_reference ? o->reference_path : NULL);
        gs_section_mixed_settings(doc, &in->boards);
    }
    if (o->results_path || o->loss_log_path) {
        gs_section_plots(doc, &in->plots, &in->logs);
    }
    if (o->results_path) {
        gs_section_paper(doc, &in->comparisons, o->reference_path, reference_note[0] ? reference_note : NULL);
        gs_section_leaderboards(doc, &in->boards);
        gs_section_settings(doc, &in->results);
    }
    if (o->kernels_path)
        gs_section_kernels(doc, &in->kernels, o->regression_threshold, o->kernels_baseline_path, o->kernels_path);
    if (o->results_path) gs_section_provenance(doc, &in->results);
}

gs_status gs_report_write(const gs_report_options *o, gs_report_summary *summary, gs_error *err) {
    if (summary) *summary = (gs_report_summary){0};
    if (!o || !o->out_dir || (!o->results_path && !o->kernels_path))
        return gs_error_set(err, GS_ERR_ARGUMENT, "report: give an output folder and --results and/or --kernels");
    if (!o->kernels_path != !o->kernels_baseline_path)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "report: --kernels and --kernels-baseline go together (the new run and the baseline)");
    report_inputs in = {0};
    char reference_note[4400] = "";
    gs_doc_init(&in.doc, o->title);
    gs_status s = load_inputs(o, &in, reference_note, sizeof reference_note, err);
    if (s == GS_OK) s = make_dirs(o->out_dir, err);
    gs_plot_inputs plot_inputs = {.boards = &in.boards, .table = o->results_path ? &in.table : NULL,
                                   .logs = &in.logs};
    if (s == GS_OK && (o->results_path || o->loss_log_path)) s = gs_plots_draw(o->out_dir, &plot_inputs, &in.plots, err);
    if (s == GS_OK) build_document(o, &in, reference_note);
    gs_text md = {0}, html = {0}, csv = {0};
    if (s == GS_OK) s = gs_doc_render_markdown(&in.doc, &md, err);
    if (s == GS_OK) s = gs_doc_render_html(&in.doc, o->out_dir, &html, err);
    if (s == GS_OK && o->results_path) {
        gs_results_table_csv(&in.table, &csv);
        if (!gs_text_ok(&csv)) s = gs_error_set(err, GS_ERR_MEMORY, "report: out of memory writing the table's CSV");
    }
    if (s == GS_OK && o->results_path) s = write_atomically(o->out_dir, RESULTS_TABLE_CSV, &csv, err);
    if (s == GS_OK) s = write_atomically(o->out_dir, "report.md", &md, err);
    if (s == GS_OK) s = write_atomically(o->out_dir, "index.html", &html, err);
    if (s == GS_OK && summary)
        *summary = (gs_report_summary){.n_rows = in.results.n_rows, .n_leaderboards = in.boards.n_boards,
                                       .n_comparisons = in.comparisons.n, .n_run_logs = in.logs.n,
                                       .n_plots = in.plots.n,
                                       .n_plots_failed = in.plots.n_failed, .plots_skipped = in.plots.gnuplot_missing,
                                       .n_regressions = in.kernels.n_slower};
    gs_text_free(&md);
    gs_text_free(&html);
    gs_text_free(&csv);
    inputs_free(&in);
    return s;
}
