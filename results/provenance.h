/* Provenance recorded with every result row: the source commit, a hash of
 * the configuration, the CPU, the date; the caller adds threads and wall
 * time, which only it knows. */
#ifndef GS_PROVENANCE_H
#define GS_PROVENANCE_H

#include <stddef.h>
#include <stdint.h>

#include "results_store.h"

typedef struct gs_provenance {
    char git_commit[64];  /* "1a2b3c4d5e6f", "...-dirty", or "unknown" */
    char config_hash[17]; /* FNV-1a 64 of the configuration text, hex */
    char date[32];        /* 2024-05-01T12:34:56Z */
    char cpu[256];        /* /proc/cpuinfo "model name", or "unknown" */
    int threads;
    double wall_time_s;
} gs_provenance;

/* FNV-1a, 64 bit: stable across platforms, enough to tell configs apart. */
uint64_t gs_fnv1a64(const void *data, size_t len);

/* The commit of the source tree: `git describe --always --dirty` run in the
 * source directory when git is there, else the commit CMake saw at
 * configure time, else "unknown".  Never fails. */
void gs_provenance_git_commit(char *buf, size_t size);
/* The CPU model name from `cpuinfo_path` (normally /proc/cpuinfo), else
 * "unknown". */
void gs_provenance_cpu_model(const char *cpuinfo_path, char *buf, size_t size);
/* Now, in ISO 8601 UTC. */
void gs_provenance_date_utc(char *buf, size_t size);

/* Fills every field; `config_text` may be NULL (hash of ""). */
void gs_provenance_collect(gs_provenance *p, const char *config_text, int threads, double wall_time_s);
/* Points the row's provenance fields at `p` (which must outlive the row). */
void gs_result_row_set_provenance(gs_result_row *row, const gs_provenance *p);

#endif
