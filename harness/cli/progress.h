/* Progress lines the commands print while they work (steps, decoded
 * samples), on stderr so that stdout holds only the results.
 *
 * On a terminal one line is redrawn in place ('\r'); anywhere else (a pipe,
 * a log file, CI) each update is a whole line, at most one every few
 * seconds, so a log holds readable lines instead of one long line of
 * carriage returns or thousands of near-identical ones.  --quiet turns them
 * off.  The state lives in this struct, which the command owns and passes
 * to whoever prints. */
#ifndef GS_CLI_PROGRESS_H
#define GS_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct gs_progress {
    FILE *stream;          /* NULL: quiet, nothing is printed */
    bool tty;              /* stream is a terminal: redraw one line */
    double min_interval_s; /* between whole lines when not a terminal */
    double last_s;         /* when the last update was printed; < 0: none yet */
    bool line_open;        /* a redrawn line is on the terminal without its newline */
} gs_progress;

/* Whole lines at most every this many seconds when the stream is not a terminal. */
#define GS_PROGRESS_PIPE_INTERVAL_S 5.0
/* Redraws at most this often on a terminal (the eye cannot follow more). */
#define GS_PROGRESS_TTY_INTERVAL_S 0.1

/* quiet: print nothing.  Otherwise updates go to `stream`, drawn as its
 * isatty says. */
void gs_progress_init(gs_progress *p, FILE *stream, bool quiet);

/* One update (printf format, no newline).  `last`: the final update of the
 * task, always printed (and its terminal line ended); others are printed
 * when the interval has passed since the previous one. */
void gs_progress_update(gs_progress *p, bool last, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* A line that is not an update (a heading, a summary): printed whole unless
 * quiet, after ending any redrawn line. */
void gs_progress_note(gs_progress *p, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Ends a redrawn line left open (an interrupted task), so what follows
 * starts on its own line. */
void gs_progress_end(gs_progress *p);

/* For code that prints its own whole progress lines to a FILE * (NULL:
 * quiet): the stream, or NULL when quiet. */
static inline FILE *gs_progress_stream(const gs_progress *p) { return p->stream; }

#endif
