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

/* Room for any double in plain decimal: the smallest subnormal is "-0."
 * followed by 323 zeros and up to 17 digits. */
#define GS_DOUBLE_TEXT_SIZE 352

/* The shortest decimal form of v that reads back as the same double ("0.1",
 * not "0.10000000000000001"), written out in plain decimal: never with an
 * exponent ("70", not "7e+01"; "0.00001", not "1e-05"), no trailing zeros.
 * Both zeros are "0"; "nan", "inf", "-inf" for non-finite values. */
void gs_format_double(char buf[GS_DOUBLE_TEXT_SIZE], double v);

#endif
