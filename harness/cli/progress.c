#include "progress.h"

#include <stdarg.h>
#include <unistd.h>

#include "core/clock.h"

void gs_progress_init(gs_progress *p, FILE *stream, bool quiet) {
    p->stream = quiet ? NULL : stream;
    p->tty = p->stream && isatty(fileno(p->stream));
    p->min_interval_s = p->tty ? GS_PROGRESS_TTY_INTERVAL_S : GS_PROGRESS_PIPE_INTERVAL_S;
    p->last_s = -1;
    p->line_open = false;
}

void gs_progress_end(gs_progress *p) {
    if (p->stream && p->line_open) fputc('\n', p->stream);
    p->line_open = false;
}

void gs_progress_update(gs_progress *p, bool last, const char *format, ...) {
    if (!p->stream) return;
    double now = gs_now_s();
    /* The first update is printed at once, so a slow task shows it started. */
    if (!last && p->last_s >= 0 && now - p->last_s < p->min_interval_s) return;
    p->last_s = now;
    va_list args;
    va_start(args, format);
    if (p->tty) {
        /* "\033[K" clears what a longer previous line left on the right. */
        fputc('\r', p->stream);
        vfprintf(p->stream, format, args);
        fputs("\033[K", p->stream);
        p->line_open = !last;
        if (last) fputc('\n', p->stream);
    } else {
        vfprintf(p->stream, format, args);
        fputc('\n', p->stream);
    }
    va_end(args);
    fflush(p->stream);
}

void gs_progress_note(gs_progress *p, const char *format, ...) {
    if (!p->stream) return;
    gs_progress_end(p);
    va_list args;
    va_start(args, format);
    vfprintf(p->stream, format, args);
    va_end(args);
    fputc('\n', p->stream);
}
