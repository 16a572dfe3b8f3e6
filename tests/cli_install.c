/* What an installed geossl needs: `geossl --version` (and `geossl version`)
 * names the version and the commit it was built from, and the program finds
 * results/reference.csv under its own install prefix
 * (PREFIX/bin/geossl -> PREFIX/share/geossl/reference.csv), falling back to
 * the source tree's copy only when it runs from its build tree.  The lookup
 * is tested on fake prefixes; .ci/run installs for real. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_capture.h"
#include "commands.h"
#include "install_paths.h"
#include "test_paths.h"

/* "geossl 0.1.0 (commit 1a2b3c4d5e6f)" or "(commit 1a2b3c4d5e6f-dirty)", or
 * "(commit unknown)" outside a git checkout. */
static void expect_version_line(const char *line) {
    char expected[64];
    snprintf(expected, sizeof expected, "geossl %s (commit ", GEOSSL_VERSION);
    cr_assert(!strncmp(line, expected, strlen(expected)), "'%s' does not start with '%s'", line, expected);
    const char *commit = line + strlen(expected);
    size_t hex = strspn(commit, "0123456789abcdef");
    bool known = hex >= 7 && (!strcmp(commit + hex, ")\n") || !strcmp(commit + hex, "-dirty)\n"));
    cr_expect(known || !strcmp(commit, "unknown)\n"), "not a commit: '%s'", commit);
}

Test(cli_install, version_names_the_version_and_the_commit) {
    captured c = run(gs_cmd_version, (char *[]){"version", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    expect_version_line(c.out);
    /* `geossl --version` through the program's own dispatch. */
    FILE *p = popen("'" GEOSSL_BINARY "' --version", "r");
    cr_assert_not_null(p);
    char line[256] = "";
    cr_expect_not_null(fgets(line, sizeof line, p));
    cr_expect_eq(pclose(p), 0);
    expect_version_line(line);
    cr_expect_str_eq(line, c.out, "--version and version differ");
}

static void make_file(const char *path) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs("paper,table,method\n", f);
    fclose(f);
}

/* A fake install prefix (bin/geossl, share/geossl/reference.csv), a fake
 * build folder and a fake source tree, all under one temporary folder. */
typedef struct layout {
    char dir[256], prefix[300], exe[400], installed[400], build[300], build_exe[400], source_reference[400];
} layout;

static void make_layout(layout *l) {
    char temp[256], resolved[PATH_MAX];
    cr_assert(test_temp_dir(temp, sizeof temp)[0]);
    /* Resolved, as the lookup resolves what it finds ($TMPDIR may be a link). */
    cr_assert_not_null(realpath(temp, resolved));
    cr_assert_lt(strlen(resolved), sizeof l->dir);
    memcpy(l->dir, resolved, strlen(resolved) + 1);
    char path[400];
    snprintf(l->prefix, sizeof l->prefix, "%s/prefix", l->dir);
    const char *folders[] = {"prefix", "prefix/bin", "prefix/share", "prefix/share/geossl", "build", "src",
                             "src/results"};
    for (size_t i = 0; i < sizeof folders / sizeof *folders; i++) {
        snprintf(path, sizeof path, "%s/%s", l->dir, folders[i]);
        cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
    }
    snprintf(l->exe, sizeof l->exe, "%s/bin/geossl", l->prefix);
    snprintf(l->installed, sizeof l->installed, "%s/share/geossl/reference.csv", l->prefix);
    snprintf(l->build, sizeof l->build, "%s/build", l->dir);
    snprintf(l->build_exe, sizeof l->build_exe, "%s/geossl", l->build);
    snprintf(l->source_reference, sizeof l->source_reference, "%s/src/results/reference.csv", l->dir);
    make_file(l->exe);
    make_file(l->build_exe);
    make_file(l->source_reference);
}

Test(cli_install, an_installed_geossl_finds_the_reference_under_its_prefix) {
    layout l;
    make_layout(&l);
    char found[1024];
    /* Not installed yet: nothing, the source tree's copy is not for an installed program. */
    cr_expect_not(gs_cli_find_reference(l.exe, l.build, l.source_reference, found, sizeof found), "found %s", found);
    cr_expect_str_empty(found);
    make_file(l.installed);
    cr_assert(gs_cli_find_reference(l.exe, l.build, l.source_reference, found, sizeof found));
    cr_expect_str_eq(found, l.installed);
    /* Without a build tree at all (the program on another machine). */
    cr_assert(gs_cli_find_reference(l.exe, NULL, NULL, found, sizeof found));
    cr_expect_str_eq(found, l.installed);
    /* A path with "..", as /proc/self/exe never gives but a caller might. */
    char indirect[600];
    snprintf(indirect, sizeof indirect, "%s/bin/../bin/geossl", l.prefix);
    cr_assert(gs_cli_find_reference(indirect, NULL, NULL, found, sizeof found));
    cr_expect_str_eq(found, l.installed);
    test_remove_tree(l.dir);
}

Test(cli_install, a_geossl_in_its_build_tree_reads_the_source_trees_reference) {
    layout l;
    make_layout(&l);
    char found[1024];
    cr_assert(gs_cli_find_reference(l.build_exe, l.build, l.source_reference, found, sizeof found));
    cr_expect_str_eq(found, l.source_reference);
    /* A test program deeper in the build tree too. */
    char tests[500], test_exe[600];
    snprintf(tests, sizeof tests, "%s/tests", l.build);
    cr_assert_eq(mkdir(tests, 0755), 0);
    snprintf(test_exe, sizeof test_exe, "%s/cli_install", tests);
    make_file(test_exe);
    cr_assert(gs_cli_find_reference(test_exe, l.build, l.source_reference, found, sizeof found));
    cr_expect_str_eq(found, l.source_reference);
    /* A folder whose name merely starts like the build folder's is not inside it. */
    char sibling[600];
    snprintf(sibling, sizeof sibling, "%s-other", l.build);
    cr_assert_eq(mkdir(sibling, 0755), 0);
    char sibling_exe[700];
    snprintf(sibling_exe, sizeof sibling_exe, "%s/geossl", sibling);
    make_file(sibling_exe);
    cr_expect_not(gs_cli_find_reference(sibling_exe, l.build, l.source_reference, found, sizeof found), "found %s",
                  found);
    /* The source tree gone: nothing. */
    remove(l.source_reference);
    cr_expect_not(gs_cli_find_reference(l.build_exe, l.build, l.source_reference, found, sizeof found));
    test_remove_tree(l.dir);
}

/* This test program runs from the build tree: it finds the source tree's
 * reference.csv, the one `geossl report` used before it looked for a prefix. */
Test(cli_install, the_default_lookup_from_the_build_tree_finds_the_source_reference) {
    char found[4096];
    cr_assert_not_null(gs_cli_default_reference(found, sizeof found));
    cr_expect(strstr(found, "results/reference.csv"), "%s", found);
}
