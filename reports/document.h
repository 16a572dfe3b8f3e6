/* A report as a list of blocks (headings, paragraphs, notes, tables,
 * figures), built once and rendered twice: to Markdown and to one
 * self-contained HTML page.  All escaping happens in the renderers, so the
 * sections never worry about which format their text lands in. */
#ifndef GS_REPORT_DOCUMENT_H
#define GS_REPORT_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "text_buffer.h"

typedef enum gs_cell_mark {
    GS_CELL_PLAIN = 0,
    GS_CELL_BEST,   /* the leaderboard's best: bold, highlighted */
    GS_CELL_BAD,    /* a regression or a setting mismatch: bold, red */
    GS_CELL_GOOD,   /* an improvement or a matching setting: green */
    GS_CELL_QUOTED, /* a number quoted from elsewhere (a paper), not measured here: italic */
} gs_cell_mark;

typedef struct gs_doc_table {
    size_t n_cols, n_rows; /* row 0 is the header */
    char **cells;          /* n_rows * n_cols, owned */
    unsigned char *marks;  /* gs_cell_mark per cell */
    unsigned numeric_cols; /* bit c set: column c is right-aligned */
    size_t cap_rows;
    bool failed;
} gs_doc_table;

typedef enum gs_doc_kind {
    GS_DOC_HEADING,
    GS_DOC_PARAGRAPH,
    GS_DOC_NOTE,
    GS_DOC_TABLE,
    GS_DOC_FIGURE,
    GS_DOC_FOLD_BEGIN, /* text: the one line shown while folded */
    GS_DOC_FOLD_END,
} gs_doc_kind;

typedef struct gs_doc_block {
    gs_doc_kind kind;
    int level;      /* headings: 1..3 */
    char *text;     /* heading, paragraph, note; figure caption */
    char *png;      /* figures: paths relative to the report folder */
    char *svg;
    gs_doc_table table;
} gs_doc_block;

typedef struct gs_doc {
    char *title;
    gs_doc_block *blocks;
    size_t n_blocks, cap_blocks;
    bool failed; /* an allocation failed somewhere: rendering reports it */
} gs_doc;

void gs_doc_init(gs_doc *doc, const char *title);
void gs_doc_free(gs_doc *doc);
void gs_doc_heading(gs_doc *doc, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void gs_doc_paragraph(gs_doc *doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gs_doc_note(gs_doc *doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gs_doc_figure(gs_doc *doc, const char *caption, const char *png, const char *svg);
/* Blocks between a fold's begin and end are collapsed in HTML (<details>,
 * the summary line shown) and written out as usual in Markdown, after the
 * summary as a paragraph.  A fold left open is closed at the end. */
void gs_doc_fold_begin(gs_doc *doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gs_doc_fold_end(gs_doc *doc);

/* Tables are filled on their own and then handed to the document. */
void gs_doc_table_init(gs_doc_table *t, size_t n_cols, const char *const *header, unsigned numeric_cols);
/* `marks` may be NULL (all plain). */
void gs_doc_table_row(gs_doc_table *t, const char *const *cells, const unsigned char *marks);
/* Moves the table into the document (t is emptied). */
void gs_doc_add_table(gs_doc *doc, gs_doc_table *t);
void gs_doc_table_free(gs_doc_table *t);

/* Renderers.  HTML reads each figure's SVG (or PNG) from `dir` and embeds it
 * as a data: URI so index.html stands alone. */
gs_status gs_doc_render_markdown(const gs_doc *doc, gs_text *out, gs_error *err);
gs_status gs_doc_render_html(const gs_doc *doc, const char *dir, gs_text *out, gs_error *err);

/* Escaping, exposed for tests. */
void gs_html_escape(gs_text *out, const char *s);
void gs_markdown_escape(gs_text *out, const char *s);
void gs_base64_encode(gs_text *out, const unsigned char *data, size_t len);

#endif
