/* Running gnuplot as a subprocess.  gnuplot is a run-time dependency only:
 * when it is not on PATH the report keeps its tables and says so. */
#ifndef GS_GNUPLOT_H
#define GS_GNUPLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "text_buffer.h"

/* Finds an executable "gnuplot" in $PATH; false when there is none. */
bool gs_gnuplot_find(char *path, size_t size);

/* Appends `s` as a single-quoted gnuplot string ('' for a quote; control
 * characters become spaces so a label cannot end the script line). */
void gs_gnuplot_quote(gs_text *out, const char *s);
/* The same for tic labels, which gnuplot reads as format strings: '%' is
 * doubled too. */
void gs_gnuplot_quote_tic(gs_text *out, const char *s);

/* Runs `gnuplot SCRIPT` (no shell involved), its output appended to
 * `log_path`; GS_OK when it exits with status 0. */
gs_status gs_gnuplot_run(const char *gnuplot, const char *script_path, const char *log_path, gs_error *err);

#endif
