/* What `geossl data check` prints for a reader: the warnings and their
 * count on one stream (stderr), "-" for a band whose wavelength the format
 * does not know (never "0nm"), a class table whose columns stay in line
 * whatever the length of the class names, classes without samples
 * summarised in one line, and "1 bad file", not "1 bad files". */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_capture.h"
#include "commands.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct scratch {
    char dir[256], data[320], spec[400];
} scratch;

static void make_scratch(scratch *s, const char *format, int count) {
    cr_assert(test_temp_dir(s->dir, sizeof s->dir)[0]);
    snprintf(s->data, sizeof s->data, "%s/%s", s->dir, format);
    snprintf(s->spec, sizeof s->spec, "%s:%s", format, s->data);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", s->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_synth_options so = {.seed = 1, .count = count};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write(format, s->data, &so, &err), GS_OK, "%s", err.message);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* The line of `text` that starts with `start`, copied into line; false when none. */
static bool find_line(const char *text, const char *start, char *line, size_t size) {
    for (const char *p = text; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] == '\n')) {
        if (strncmp(p, start, strlen(start))) continue;
        size_t n = strcspn(p, "\n");
        snprintf(line, size, "%.*s", (int)(n < size ? n : size - 1), p);
        return true;
    }
    return false;
}

Test(cli_data_check, warnings_and_their_count_share_stderr_and_one_bad_file_is_singular) {
    scratch s;
    make_scratch(&s, "eurosat-rgb", 5);
    char path[600];
    /* Two things to warn about while indexing, and one file that does not decode. */
    snprintf(path, sizeof path, "%s/Forest/notes.txt", s.data);
    write_file(path, "not an image\n");
    snprintf(path, sizeof path, "%s/NotAClass", s.data);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/River/River_1.jpg", s.data);
    write_file(path, "this is not a JPEG");
    captured c = run(gs_cmd_data, (char *[]){"data", "check", s.spec, NULL});
    cr_expect_eq(c.rc, 1, "a bad file without --skip-bad: %s", c.err);
    cr_expect(strstr(c.err, "warning: ") && strstr(c.err, "2 warnings while indexing"),
              "the warnings and their count are both on stderr: %s", c.err);
    cr_expect_null(strstr(c.out, "warning"), "stdout: %s", c.out);
    cr_expect(strstr(c.err, "ignored 1 file that is not"), "%s", c.err);
    cr_expect(strstr(c.out, "decoded 49 samples, 1 bad file\n"), "%s", c.out);
    cr_expect(strstr(c.err, "1 bad file (listed above)"), "%s", c.err);
    cr_expect_null(strstr(c.err, "1 bad files"), "%s", c.err);
    test_remove_tree(s.dir);
}

Test(cli_data_check, bands_of_unknown_wavelength_show_a_dash) {
    scratch s;
    make_scratch(&s, "resisc45", 1); /* RESISC45's red, green, blue have no stated wavelength */
    captured c = run(gs_cmd_data, (char *[]){"data", "check", "--limit", "3", s.spec, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect_null(strstr(c.out, "0nm"), "%s", c.out);
    char line[256];
    cr_assert(find_line(c.out, "red ", line, sizeof line), "no band row for red: %s", c.out);
    char name[16], wavelength[16];
    cr_assert_eq(sscanf(line, "%15s %15s", name, wavelength), 2, "%s", line);
    cr_expect_str_eq(wavelength, "-", "%s", line);
    test_remove_tree(s.dir);
}

/* BigEarthNet's 43 classes on 20 generated patches: some classes have
 * samples, most have none, and one of those with samples is "Land
 * principally occupied by agriculture, with significant areas of natural
 * vegetation" (86 characters). */
Test(cli_data_check, long_class_names_keep_the_columns_and_empty_classes_are_summarised) {
    scratch s;
    make_scratch(&s, "bigearthnet", 20);
    captured c = run(gs_cmd_data, (char *[]){"data", "check", "--limit", "1", s.spec, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    const char *header = strstr(c.out, "none  class\n");
    cr_assert_not_null(header, "no class table header ending with the class column: %s", c.out);
    while (header > c.out && header[-1] != '\n') header--;
    size_t header_len = strcspn(header, "\n");
    /* Where each of the 4 count columns ends in the header. */
    const char *columns[] = {"train", "val", "test", "none"};
    size_t column_end[4];
    for (int k = 0; k < 4; k++) {
        const char *at = strstr(header, columns[k]);
        cr_assert(at && (size_t)(at - header) < header_len, "no column %s in the header", columns[k]);
        column_end[k] = (size_t)(at - header) + strlen(columns[k]);
    }
    /* The rows: the lines after the header that start with a blank (a
     * right-aligned count); the summary after them starts with its number. */
    int rows = 0;
    bool long_name_listed = false;
    for (const char *row = header + header_len + 1; *row == ' '; rows++) {
        size_t len = strcspn(row, "\n");
        char text[512];
        snprintf(text, sizeof text, "%.*s", (int)(len < sizeof text ? len : sizeof text - 1), row);
        /* Each count ends exactly where its column's title ends. */
        for (int k = 0; k < 4; k++) {
            cr_assert_lt(column_end[k], len, "row %d is too short: %s", rows, text);
            cr_expect(row[column_end[k] - 1] >= '0' && row[column_end[k] - 1] <= '9' && row[column_end[k]] == ' ',
                      "the %s column is out of line in: %s", columns[k], text);
        }
        long_name_listed |= strstr(text, "Land principally occupied by agriculture, with significant areas of "
                                         "natural vegetation") != NULL;
        cr_expect_null(strstr(text, "       0        0        0        0  "), "a class without samples is listed: %s",
                       text);
        row += len + 1;
    }
    cr_expect(long_name_listed, "the test needs the 86-character class among the listed ones: %s", c.out);
    cr_expect_gt(rows, 5);
    const char *summary = strstr(c.out, " classes with no samples: ");
    cr_assert_not_null(summary, "no summary of the empty classes: %s", c.out);
    while (summary > c.out && summary[-1] != '\n') summary--;
    int empty = 0;
    cr_assert_eq(sscanf(summary, "%d classes with no samples:", &empty), 1, "%s", summary);
    cr_expect_eq(empty + rows, 43, "%d listed + %d summarised", rows, empty);
    cr_expect(strstr(c.out, "Estuaries"), "the summary names the classes: %s", c.out);
    test_remove_tree(s.dir);
}
