/* The document model and its Markdown renderer. */
#include "document.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_string(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}

static char *vformat(const char *fmt, va_list args) {
    va_list copy;
    va_copy(copy, args);
    char small[1];
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (s) vsnprintf(s, (size_t)n + 1, fmt, args);
    return s;
}

void gs_doc_init(gs_doc *doc, const char *title) {
    *doc = (gs_doc){0};
    doc->title = dup_string(title ? title : "geossl report");
    if (!doc->title) doc->failed = true;
}

void gs_doc_table_free(gs_doc_table *t) {
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++) free(t->cells[i]);
    free(t->cells);
    free(t->marks);
    *t = (gs_doc_table){0};
}

void gs_doc_free(gs_doc *doc) {
    for (size_t i = 0; i < doc->n_blocks; i++) {
        gs_doc_block *b = &doc->blocks[i];
        free(b->text);
        free(b->png);
        free(b->svg);
        gs_doc_table_free(&b->table);
    }
    free(doc->blocks);
    free(doc->title);
    *doc = (gs_doc){0};
}

static gs_doc_block *add_block(gs_doc *doc, gs_doc_kind kind) {
    if (doc->n_blocks == doc->cap_blocks) {
        size_t cap = doc->cap_blocks ? 2 * doc->cap_blocks : 32;
        gs_doc_block *grown = realloc(doc->blocks, cap * sizeof *grown);
        if (!grown) {
            doc->failed = true;
            return NULL;
        }
        doc->blocks = grown;
        doc->cap_blocks = cap;
    }
    gs_doc_block *b = &doc->blocks[doc->n_blocks++];
    *b = (gs_doc_block){.kind = kind};
    return b;
}

static void add_text_block(gs_doc *doc, gs_doc_kind kind, int level, const char *fmt, va_list args) {
    char *text = vformat(fmt, args);
    gs_doc_block *b = text ? add_block(doc, kind) : NULL;
    if (!b) {
        free(text);
        doc->failed = true;
        return;
    }
    b->level = level;
    b->text = text;
}

void gs_doc_heading(gs_doc *doc, int level, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    add_text_block(doc, GS_DOC_HEADING, level < 1 ? 1 : level > 3 ? 3 : level, fmt, args);
    va_end(args);
}

void gs_doc_paragraph(gs_doc *doc, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    add_text_block(doc, GS_DOC_PARAGRAPH, 0, fmt, args);
    va_end(args);
}

void gs_doc_note(gs_doc *doc, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    add_text_block(doc, GS_DOC_NOTE, 0, fmt, args);
    va_end(args);
}

void gs_doc_fold_begin(gs_doc *doc, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    add_text_block(doc, GS_DOC_FOLD_BEGIN, 0, fmt, args);
    va_end(args);
}

void gs_doc_fold_end(gs_doc *doc) { add_block(doc, GS_DOC_FOLD_END); }

void gs_doc_figure(gs_doc *doc, const char *caption, const char *png, const char *svg) {
    gs_doc_block *b = add_block(doc, GS_DOC_FIGURE);
    if (!b) return;
    b->text = dup_string(caption);
    b->png = dup_string(png);
    b->svg = dup_string(svg);
    if (!b->text || (png && !b->png) || (svg && !b->svg)) doc->failed = true;
}

void gs_doc_table_init(gs_doc_table *t, size_t n_cols, const char *const *header, unsigned numeric_cols) {
    *t = (gs_doc_table){.n_cols = n_cols, .numeric_cols = numeric_cols};
    gs_doc_table_row(t, header, NULL);
}

void gs_doc_table_row(gs_doc_table *t, const char *const *cells, const unsigned char *marks) {
    if (t->failed) return;
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 16;
        char **grown_cells = realloc(t->cells, cap * t->n_cols * sizeof *grown_cells);
        if (grown_cells) t->cells = grown_cells;
        unsigned char *grown_marks = grown_cells ? realloc(t->marks, cap * t->n_cols) : NULL;
        if (grown_marks) t->marks = grown_marks;
        if (!grown_cells || !grown_marks) {
            t->failed = true;
            return;
        }
        t->cap_rows = cap;
    }
    size_t base = t->n_rows * t->n_cols;
    for (size_t c = 0; c < t->n_cols; c++) {
        t->cells[base + c] = dup_string(cells[c] ? cells[c] : "");
        t->marks[base + c] = marks ? marks[c] : GS_CELL_PLAIN;
        if (!t->cells[base + c]) t->failed = true;
    }
    t->n_rows++;
}

void gs_doc_add_table(gs_doc *doc, gs_doc_table *t) {
    gs_doc_block *b = add_block(doc, GS_DOC_TABLE);
    if (!b || t->failed) {
        doc->failed = true;
        gs_doc_table_free(t);
        if (b) doc->n_blocks--;
        return;
    }
    b->table = *t;
    *t = (gs_doc_table){0};
}

/* ---- Markdown ---- */

void gs_markdown_escape(gs_text *out, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        /* Raw HTML in Markdown would be rendered: entities keep it text. */
        case '<': gs_text_append(out, "&lt;"); break;
        case '>': gs_text_append(out, "&gt;"); break;
        case '&': gs_text_append(out, "&amp;"); break;
        case '\n':
        case '\r': gs_text_append(out, " "); break;
        case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '#':
            gs_text_append_n(out, "\\", 1);
            gs_text_append_n(out, s, 1);
            break;
        default: gs_text_append_n(out, s, 1);
        }
    }
}

static void markdown_table(const gs_doc_table *t, gs_text *out) {
    for (size_t r = 0; r < t->n_rows; r++) {
        gs_text_append(out, "|");
        for (size_t c = 0; c < t->n_cols; c++) {
            unsigned char mark = t->marks[r * t->n_cols + c];
            bool bold = r > 0 && (mark == GS_CELL_BEST || mark == GS_CELL_BAD);
            bool italic = r > 0 && mark == GS_CELL_QUOTED && t->cells[r * t->n_cols + c][0];
            gs_text_append(out, " ");
            if (bold) gs_text_append(out, "**");
            if (italic) gs_text_append(out, "_");
            gs_markdown_escape(out, t->cells[r * t->n_cols + c]);
            if (italic) gs_text_append(out, "_");
            if (bold) gs_text_append(out, "**");
            gs_text_append(out, " |");
        }
        gs_text_append(out, "\n");
        if (r == 0) {
            gs_text_append(out, "|");
            for (size_t c = 0; c < t->n_cols; c++)
                gs_text_append(out, (t->numeric_cols >> c) & 1u ? " ---: |" : " --- |");
            gs_text_append(out, "\n");
        }
    }
    gs_text_append(out, "\n");
}

gs_status gs_doc_render_markdown(const gs_doc *doc, gs_text *out, gs_error *err) {
    if (doc->failed) return gs_error_set(err, GS_ERR_MEMORY, "report: out of memory building the document");
    gs_text_append(out, "# ");
    gs_markdown_escape(out, doc->title);
    gs_text_append(out, "\n\n");
    for (size_t i = 0; i < doc->n_blocks; i++) {
        const gs_doc_block *b = &doc->blocks[i];
        switch (b->kind) {
        case GS_DOC_HEADING:
            gs_text_append(out, b->level == 1 ? "## " : b->level == 2 ? "### " : "#### ");
            gs_markdown_escape(out, b->text);
            gs_text_append(out, "\n\n");
            break;
        case GS_DOC_PARAGRAPH:
        case GS_DOC_FOLD_BEGIN:
            gs_markdown_escape(out, b->text);
            gs_text_append(out, "\n\n");
            break;
        case GS_DOC_FOLD_END: break;
        case GS_DOC_NOTE:
            gs_text_append(out, "> **Note:** ");
            gs_markdown_escape(out, b->text);
            gs_text_append(out, "\n\n");
            break;
        case GS_DOC_TABLE: markdown_table(&b->table, out); break;
        case GS_DOC_FIGURE:
            gs_text_append(out, "![");
            gs_markdown_escape(out, b->text);
            gs_text_append(out, "](");
            gs_text_append(out, b->png ? b->png : b->svg ? b->svg : "");
            gs_text_append(out, ")");
            if (b->svg) {
                gs_text_append(out, " ([SVG](");
                gs_text_append(out, b->svg);
                gs_text_append(out, "))");
            }
            gs_text_append(out, "\n\n");
            break;
        }
    }
    if (!gs_text_ok(out)) return gs_error_set(err, GS_ERR_MEMORY, "report: out of memory rendering Markdown");
    return GS_OK;
}
