#include "text_buffer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(gs_text *t, size_t extra) {
    if (t->failed) return false;
    if (t->len + extra + 1 <= t->cap) return true;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + extra + 1) cap *= 2;
    char *grown = realloc(t->data, cap);
    if (!grown) {
        t->failed = true;
        return false;
    }
    t->data = grown;
    t->cap = cap;
    return true;
}

void gs_text_append_n(gs_text *t, const char *s, size_t n) {
    if (!reserve(t, n)) return;
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

void gs_text_append(gs_text *t, const char *s) { gs_text_append_n(t, s, strlen(s)); }

void gs_text_appendf(gs_text *t, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, args);
    va_end(args);
    if (n < 0) {
        t->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        gs_text_append_n(t, small, (size_t)n);
        return;
    }
    if (!reserve(t, (size_t)n)) return;
    va_start(args, fmt);
    vsnprintf(t->data + t->len, (size_t)n + 1, fmt, args);
    va_end(args);
    t->len += (size_t)n;
}

void gs_text_free(gs_text *t) {
    free(t->data);
    *t = (gs_text){0};
}

void gs_format_double(char buf[GS_DOUBLE_TEXT_SIZE], double v) {
    if (isnan(v)) {
        snprintf(buf, GS_DOUBLE_TEXT_SIZE, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, GS_DOUBLE_TEXT_SIZE, v > 0 ? "inf" : "-inf");
        return;
    }
    if (v == 0) { /* -0.0 too: a result of "-0" only puzzles a reader */
        snprintf(buf, GS_DOUBLE_TEXT_SIZE, "0");
        return;
    }
    /* The shortest %e form that reads back as v gives the significant digits
     * and the decimal exponent (17 digits always suffice); the digits are
     * then laid out around the decimal point without an exponent. */
    char scientific[40];
    for (int precision = 0; precision <= 16; precision++) {
        snprintf(scientific, sizeof scientific, "%.*e", precision, v);
        if (strtod(scientific, NULL) == v) break;
    }
    char digits[24];
    int n_digits = 0;
    const char *p = scientific + (v < 0);
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[n_digits++] = *p;
    int exponent = atoi(p + 1); /* v = d.ddd x 10^exponent */
    while (n_digits > 1 && digits[n_digits - 1] == '0') n_digits--;

    char *out = buf;
    if (v < 0) *out++ = '-';
    if (exponent < 0) {
        *out++ = '0';
        *out++ = '.';
        for (int i = 0; i < -exponent - 1; i++) *out++ = '0';
        memcpy(out, digits, (size_t)n_digits);
        out += n_digits;
    } else {
        for (int i = 0; i <= exponent; i++) *out++ = i < n_digits ? digits[i] : '0';
        if (n_digits > exponent + 1) {
            *out++ = '.';
            memcpy(out, digits + exponent + 1, (size_t)(n_digits - exponent - 1));
            out += n_digits - exponent - 1;
        }
    }
    *out = '\0';
}
