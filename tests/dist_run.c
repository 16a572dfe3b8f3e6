/* geossl run across processes: pretraining and fine-tuning cells run on
 * both ranks, kNN cells on each, rank 0 alone writes the run folder, the
 * results and the report, and the grid it writes is the one a single
 * process writes (the cells that train nothing to the last digit).
 * mpirun on loopback, 1 thread per rank. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist_runs.h"
#include "test_paths.h"

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return strdup(text);
}

/* "method,protocol,metric,value" of every row, one per line. */
static char *rows_of(const char *results) {
    char *text = slurp(results), *out = calloc(1, 1 << 20);
    cr_assert(text && out, "%s", results);
    size_t used = 0;
    for (char *line = strchr(text, '\n') + 1; *line; line += strcspn(line, "\n") + 1) {
        char *field[17] = {0};
        int n = 0;
        for (char *f = line; n < 17 && f;) {
            field[n++] = f;
            char *comma = memchr(f, ',', strcspn(f, "\n"));
            f = comma ? comma + 1 : NULL;
        }
        if (n < 10) break;
        used += (size_t)snprintf(out + used, (1 << 20) - used, "%.*s,%.*s,%.*s,%.*s\n",
                                 (int)strcspn(field[1], ","), field[1], (int)strcspn(field[5], ","), field[5],
                                 (int)strcspn(field[8], ","), field[8], (int)strcspn(field[9], ","), field[9]);
        if (!line[strcspn(line, "\n")]) break;
    }
    free(text);
    return out;
}

Test(dist_run, a_suite_on_two_ranks_writes_what_one_process_writes, .timeout = 300) {
    char dir[256], spec[320], suite[300], command[4096], args[1024], out[1 << 15];
    dist_make_data("eurosat-rgb", dir, sizeof dir, spec, sizeof spec);
    const char *data = strchr(spec, ':') + 1;
    snprintf(suite, sizeof suite, "%s/suite.conf", dir);
    FILE *f = fopen(suite, "w");
    cr_assert_not_null(f);
    fprintf(f, "name = two ranks\nbackbone = resnet18\nwidth = 16\nstem = small\nsize = 32\nmethods = random, simclr\n"
               "pretrain_data = eurosat-rgb:%s\nepochs = 1\nbatch = 64\neval_data = eurosat-rgb:%s\n"
               "protocols = knn, finetune\nlabel_fractions = 100%%\nseeds = 0\nthreads = 1\nworkers = 1\n"
               "finetune_epochs = 1\n", data, data);
    fclose(f);
    for (int ranks = 0; ranks <= 2; ranks += 2) {
        snprintf(args, sizeof args, "run %s --out %s/%s --sync-bn -q", suite, dir, ranks ? "two" : "one");
        dist_command(command, sizeof command, ranks, args);
        cr_assert_eq(dist_shell(command, out, sizeof out), 0, "%s\n%s", command, out);
        /* Rank 0 alone speaks: one summary line. */
        const char *summary = strstr(out, "4 cells: 4 run, 0 skipped (in results), 0 failed");
        cr_expect(summary && !strstr(summary + 1, "4 cells:"), "%s", out);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/one/results.csv", dir);
    char *one = rows_of(path);
    snprintf(path, sizeof path, "%s/two/results.csv", dir);
    char *two = rows_of(path);
    /* The same rows in the same order; the untrained kNN cell to the digit. */
    size_t lines_one = 0, lines_two = 0;
    for (const char *c = one; *c; c++) lines_one += *c == '\n';
    for (const char *c = two; *c; c++) lines_two += *c == '\n';
    cr_expect_eq(lines_two, lines_one, "rows: two ranks %zu, one process %zu", lines_two, lines_one);
    const char *knn_one = strstr(one, "random,knn,top1,"), *knn_two = strstr(two, "random,knn,top1,");
    cr_assert(knn_one && knn_two, "%s", two);
    cr_expect_eq(strcspn(knn_one, "\n"), strcspn(knn_two, "\n"));
    cr_expect(!strncmp(knn_one, knn_two, strcspn(knn_one, "\n")), "%.60s against %.60s", knn_two, knn_one);
    for (const char *p = one, *q = two; *p && *q; p += strcspn(p, "\n") + 1, q += strcspn(q, "\n") + 1) {
        const char *comma_p = p, *comma_q = q;
        for (int k = 0; k < 3; k++) comma_p = strchr(comma_p, ',') + 1, comma_q = strchr(comma_q, ',') + 1;
        cr_expect((comma_p - p) == (comma_q - q) && !strncmp(p, q, (size_t)(comma_p - p)), "row %.60s against %.60s",
                  q, p);
    }
    snprintf(path, sizeof path, "%s/two/pretrain/simclr/done", dir);
    cr_expect_eq(access(path, F_OK), 0, "%s", path);
    snprintf(path, sizeof path, "%s/two/report/index.html", dir);
    cr_expect_eq(access(path, F_OK), 0, "%s", path);
    free(one);
    free(two);
    test_remove_tree(dir);
}
