/* A growable text buffer for building CSV rows, Markdown and HTML in memory
 * before one write.  Allocation failure is sticky: later appends do nothing
 * and gs_text_ok() turns false, so callers check once at the end. */
#ifndef GS_TEXT_BUFFER_H
#define GS_TEXT_BUFFER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gs_text {
    char *data; /* always NUL-terminated once anything was appended */
    size_t len, cap;
    bool failed;
} gs_text;

void gs_text_append(gs_text *t, const char *s);
void gs_text_append_n(gs_text *t, const char *s, size_t n);
void gs_text_appendf(gs_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool gs_text_ok(const gs_text *t) { return !t->failed; }
/* The text so far ("" when empty). */
static inline const char *gs_text_str(const gs_text *t) { return t->data ? t->data : ""; }
void gs_text_free(gs_text *t);

/* Shortest decimal form of v that reads back as the same double ("0.1",
 * not "0.10000000000000001"); "nan", "inf", "-inf" for non-finite values. */
void gs_format_double(char buf[32], double v);

#endif
