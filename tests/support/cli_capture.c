#include "cli_capture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Points fd at a fresh temporary file; returns the saved descriptor. */
static int redirect(int fd, FILE *stream, int *file) {
    char path[] = "/tmp/geossl-capture-XXXXXX";
    *file = mkstemp(path);
    cr_assert_geq(*file, 0);
    unlink(path);
    fflush(stream);
    int saved = dup(fd);
    dup2(*file, fd);
    return saved;
}

static void restore(int fd, FILE *stream, int saved, int file, char *text, size_t size) {
    fflush(stream);
    dup2(saved, fd);
    close(saved);
    lseek(file, 0, SEEK_SET);
    ssize_t n = read(file, text, size - 1);
    text[n > 0 ? n : 0] = '\0';
    close(file);
}

captured run(int (*command)(int, char **), char **argv) {
    captured c;
    int argc = 0;
    while (argv[argc]) argc++;
    int out_file, err_file;
    int saved_out = redirect(1, stdout, &out_file), saved_err = redirect(2, stderr, &err_file);
    c.rc = command(argc, argv);
    restore(2, stderr, saved_err, err_file, c.err, sizeof c.err);
    restore(1, stdout, saved_out, out_file, c.out, sizeof c.out);
    return c;
}

int lines(const char *text) {
    int n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

void expect_refused(const captured *c, const char *const *fragments) {
    cr_expect_eq(c->rc, 2, "exit %d, stderr: %s", c->rc, c->err);
    cr_expect_eq(lines(c->err), 1, "not one line: %s", c->err);
    for (int i = 0; fragments[i]; i++) cr_expect(strstr(c->err, fragments[i]), "'%s' missing in: %s", fragments[i], c->err);
}
