/* geossl bench knn: the kNN step timed on generated features, with the
 * machine's sgemm ceiling beside it; bad sizes refused before any work. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static int run(const char *args, char *out, size_t size) {
    char command[1024];
    snprintf(command, sizeof command, "'%s' bench knn %s 2>&1", GEOSSL_BINARY, args);
    FILE *p = popen(command, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(cli_bench_knn, small_run_reports_time_accuracy_and_ceiling) {
    char out[4096];
    int rc = run("--train 600 --test 200 --dim 32 --classes 4 --k 5 --repeats 2 --threads 1", out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "knn: 600 train x 200 test x 32 dims, k 5, 1 threads") != NULL, "%s", out);
    double ms = -1, top1 = -1, gflops = -1;
    const char *m = strstr(out, "median "), *s = strstr(out, "sgemm 2048^3: ");
    cr_assert(m && s, "%s", out);
    cr_expect_eq(sscanf(m, "median %lf ms (of 2 runs), top-1 %lf %%", &ms, &top1), 2, "%s", m);
    cr_expect_eq(sscanf(s, "sgemm 2048^3: %lf GFLOP/s", &gflops), 1, "%s", s);
    cr_expect(ms > 0 && gflops > 0, "%s", out);
    /* Four overlapping classes: better than chance (25%), not perfect. */
    cr_expect(top1 > 25.0 && top1 < 100.0, "top-1 %g", top1);
}

Test(cli_bench_knn, bad_sizes_are_usage_errors) {
    char out[4096];
    cr_expect_eq(run("--k 0", out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "--k 0 is out of range") != NULL, "%s", out);
    cr_expect_eq(run("--classes 1", out, sizeof out), 2, "%s", out);
}
