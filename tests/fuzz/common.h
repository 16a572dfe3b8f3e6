/* Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Most geossl readers take a path, so each input is written to a file of its
 * own under /dev/shm (else $TMPDIR or /tmp), named after the process and a
 * random suffix, and removed after the call: no state outlives one input.
 * A helper that cannot write its file aborts: the run would otherwise fuzz
 * nothing and report success. */
#ifndef GS_FUZZ_COMMON_H
#define GS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Room for every path the helpers make. */
#define FUZZ_PATH_MAX 512

/* A new empty folder; *dir receives its path. */
void fuzz_make_dir(char dir[FUZZ_PATH_MAX]);
/* Writes size bytes to dir/name (dir NULL: a new file in the temporary
 * folder, its name ending in name); *path receives the file's path. */
void fuzz_write_file(const char *dir, const char *name, const uint8_t *data, size_t size, char path[FUZZ_PATH_MAX]);
/* Removes a file, or a folder and everything below it. */
void fuzz_remove(const char *path);
/* A NUL-terminated copy of data (malloc'd; aborts when memory runs out). */
char *fuzz_strndup(const uint8_t *data, size_t size);
/* Reports a broken invariant (a reader accepted what it documents it
 * refuses, or returned something inconsistent) as a crash libFuzzer keeps. */
_Noreturn void fuzz_fail(const char *target, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
