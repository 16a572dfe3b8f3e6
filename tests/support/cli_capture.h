/* Running a geossl command in process with its stdout and stderr captured,
 * and the checks every command-line test makes of a refusal. */
#ifndef GS_TEST_CLI_CAPTURE_H
#define GS_TEST_CLI_CAPTURE_H

typedef struct captured {
    int rc;
    char out[16384], err[4096];
} captured;

/* Runs command(argc, argv) (argv NULL-terminated) with stdout and stderr captured. */
captured run(int (*command)(int, char **), char **argv);

/* Lines in text. */
int lines(const char *text);

/* Exit 2, and stderr is exactly one line holding every fragment. */
void expect_refused(const captured *c, const char *const *fragments);
#define REFUSED(c, ...) expect_refused(&(c), (const char *const[]){__VA_ARGS__, NULL})

#endif
