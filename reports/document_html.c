/* The HTML renderer: one page with inline CSS and figures embedded as
 * data: URIs (an SVG inside <img> cannot run scripts or break the page's
 * markup, whatever text ended up in its labels). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document.h"

static const char STYLE[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f6f7f9;"
    "color:#1d2330;line-height:1.45}"
    "main{max-width:1180px;margin:0 auto;padding:24px 32px 48px}"
    "h1{font-size:1.8em;margin:0 0 4px}h2{margin-top:2em;border-bottom:2px solid #d7dce4;padding-bottom:4px}"
    "h3{margin-top:1.6em;font-size:1.1em}h4{margin:1.2em 0 .4em;font-size:1em;color:#3a4358}"
    "nav{background:#fff;border:1px solid #d7dce4;border-radius:6px;padding:8px 16px;margin:16px 0}"
    "nav a{margin-right:18px;color:#2456a6;text-decoration:none}nav a:hover{text-decoration:underline}"
    "table{border-collapse:collapse;margin:8px 0 18px;background:#fff;font-size:.92em;"
    "box-shadow:0 1px 2px rgba(0,0,0,.06)}"
    "th,td{border:1px solid #d7dce4;padding:5px 10px;text-align:left;vertical-align:top}"
    /* A token longer than its column (a path, a URL) breaks instead of
     * pushing the table past the page; words still wrap whole.  Numbers keep
     * "mean ± std" on one line, and headers wrap at spaces. */
    "td{overflow-wrap:break-word}"
    "th{background:#eef1f6;font-weight:600}"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.num{white-space:nowrap}"
    "tr:nth-child(even) td{background:#fafbfc}"
    "td.best{font-weight:700;background:#e3f4e6!important}"
    "td.bad{font-weight:700;color:#a3141d;background:#fdeaea!important}"
    "td.good{color:#1d6b2f}"
    "td.quoted{font-style:italic;color:#4b5568}"
    ".note{background:#fff7e0;border-left:4px solid #e0a800;padding:8px 12px;margin:12px 0}"
    "figure{background:#fff;border:1px solid #d7dce4;border-radius:6px;padding:12px;margin:12px 0 20px;"
    "display:inline-block;max-width:100%}"
    "figure img{max-width:100%;height:auto;display:block}figcaption{color:#4b5568;font-size:.9em;margin-top:6px}"
    "details{margin:12px 0}summary{cursor:pointer;font-weight:600;color:#2456a6;padding:4px 0}"
    "p{max-width:900px}";

void gs_html_escape(gs_text *out, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': gs_text_append(out, "&lt;"); break;
        case '>': gs_text_append(out, "&gt;"); break;
        case '&': gs_text_append(out, "&amp;"); break;
        case '"': gs_text_append(out, "&quot;"); break;
        case '\'': gs_text_append(out, "&#39;"); break;
        default: gs_text_append_n(out, s, 1);
        }
    }
}

void gs_base64_encode(gs_text *out, const unsigned char *data, size_t len) {
    static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char quad[4];
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < len) v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < len) v |= data[i + 2];
        quad[0] = ALPHABET[(v >> 18) & 63];
        quad[1] = ALPHABET[(v >> 12) & 63];
        quad[2] = i + 1 < len ? ALPHABET[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < len ? ALPHABET[v & 63] : '=';
        gs_text_append_n(out, quad, 4);
    }
}

static gs_status read_whole(const char *path, gs_text *out, gs_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) gs_text_append_n(out, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) return gs_error_set(err, GS_ERR_IO, "%s: read error", path);
    if (!gs_text_ok(out)) return gs_error_set(err, GS_ERR_MEMORY, "%s: out of memory", path);
    return GS_OK;
}

static void html_figure(const gs_doc_block *b, const char *dir, gs_text *out) {
    const char *file = b->svg ? b->svg : b->png;
    const char *mime = b->svg ? "image/svg+xml" : "image/png";
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file ? file : "");
    gs_text data = {0};
    gs_error local = {0};
    gs_text_append(out, "<figure>");
    if (file && read_whole(path, &data, &local) == GS_OK) {
        gs_text_appendf(out, "<img alt=\"");
        gs_html_escape(out, b->text);
        gs_text_appendf(out, "\" src=\"data:%s;base64,", mime);
        gs_base64_encode(out, (const unsigned char *)gs_text_str(&data), data.len);
        gs_text_append(out, "\">");
    } else {
        /* A missing plot costs the figure, not the report. */
        gs_text_append(out, "<p class=\"note\">plot file missing: ");
        gs_html_escape(out, local.message[0] ? local.message : "no file");
        gs_text_append(out, "</p>");
    }
    gs_text_append(out, "<figcaption>");
    gs_html_escape(out, b->text);
    gs_text_append(out, "</figcaption></figure>\n");
    gs_text_free(&data);
}

static void html_table(const gs_doc_table *t, gs_text *out) {
    gs_text_append(out, "<table>\n");
    for (size_t r = 0; r < t->n_rows; r++) {
        gs_text_append(out, "<tr>");
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *tag = r == 0 ? "th" : "td";
            unsigned char mark = t->marks[r * t->n_cols + c];
            bool numeric = (t->numeric_cols >> c) & 1u;
            const char *mark_cls = r == 0                     ? NULL
                                   : mark == GS_CELL_BEST ? "best"
                                   : mark == GS_CELL_BAD  ? "bad"
                                   : mark == GS_CELL_GOOD ? "good"
                                   : mark == GS_CELL_QUOTED ? "quoted"
                                                          : NULL;
            if (numeric || mark_cls)
                gs_text_appendf(out, "<%s class=\"%s%s%s\">", tag, numeric ? "num" : "",
                                numeric && mark_cls ? " " : "", mark_cls ? mark_cls : "");
            else
                gs_text_appendf(out, "<%s>", tag);
            gs_html_escape(out, t->cells[r * t->n_cols + c]);
            gs_text_appendf(out, "</%s>", tag);
        }
        gs_text_append(out, "</tr>\n");
    }
    gs_text_append(out, "</table>\n");
}

gs_status gs_doc_render_html(const gs_doc *doc, const char *dir, gs_text *out, gs_error *err) {
    if (doc->failed) return gs_error_set(err, GS_ERR_MEMORY, "report: out of memory building the document");
    gs_text_append(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    gs_html_escape(out, doc->title);
    gs_text_appendf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n<h1>", STYLE);
    gs_html_escape(out, doc->title);
    gs_text_append(out, "</h1>\n<nav>");
    for (size_t i = 0, k = 0; i < doc->n_blocks; i++)
        if (doc->blocks[i].kind == GS_DOC_HEADING && doc->blocks[i].level == 1) {
            gs_text_appendf(out, "<a href=\"#s%zu\">", k++);
            gs_html_escape(out, doc->blocks[i].text);
            gs_text_append(out, "</a>");
        }
    gs_text_append(out, "</nav>\n");
    size_t open_folds = 0;
    for (size_t i = 0, k = 0; i < doc->n_blocks; i++) {
        const gs_doc_block *b = &doc->blocks[i];
        switch (b->kind) {
        case GS_DOC_HEADING:
            if (b->level == 1)
                gs_text_appendf(out, "<h2 id=\"s%zu\">", k++);
            else
                gs_text_appendf(out, "<h%d>", b->level + 1);
            gs_html_escape(out, b->text);
            gs_text_appendf(out, "</h%d>\n", b->level + 1);
            break;
        case GS_DOC_PARAGRAPH:
            gs_text_append(out, "<p>");
            gs_html_escape(out, b->text);
            gs_text_append(out, "</p>\n");
            break;
        case GS_DOC_NOTE:
            gs_text_append(out, "<p class=\"note\"><strong>Note:</strong> ");
            gs_html_escape(out, b->text);
            gs_text_append(out, "</p>\n");
            break;
        case GS_DOC_TABLE: html_table(&b->table, out); break;
        case GS_DOC_FIGURE: html_figure(b, dir, out); break;
        case GS_DOC_FOLD_BEGIN:
            gs_text_append(out, "<details><summary>");
            gs_html_escape(out, b->text);
            gs_text_append(out, "</summary>\n");
            open_folds++;
            break;
        case GS_DOC_FOLD_END:
            if (open_folds) {
                gs_text_append(out, "</details>\n");
                open_folds--;
            }
            break;
        }
    }
    for (; open_folds; open_folds--) gs_text_append(out, "</details>\n");
    gs_text_append(out, "</main>\n</body>\n</html>\n");
    if (!gs_text_ok(out)) return gs_error_set(err, GS_ERR_MEMORY, "report: out of memory rendering HTML");
    return GS_OK;
}
