/* geossl bench kernels --count: instructions per kernel from callgrind, the
 * same number from one run to the next (what makes a 2% gate possible on a
 * busy machine).  Needs valgrind on PATH; skipped visibly without it and
 * in sanitizer builds (valgrind cannot run them). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

typedef struct count_row {
    char op[64], pass[16];
    long long instructions;
} count_row;

/* Runs the count for `only`; returns the rows read (-1: the command failed). */
static int count(const char *only, count_row *rows, int max, char *header, size_t header_size) {
    char command[1024];
    snprintf(command, sizeof command, "'%s' bench kernels --count --only %s 2>/dev/null", GEOSSL_BINARY, only);
    FILE *p = popen(command, "r");
    if (!p) return -1;
    int n = 0;
    char line[512];
    if (fgets(line, sizeof line, p)) snprintf(header, header_size, "%.200s", line);
    while (n < max && fgets(line, sizeof line, p)) {
        char shape[128];
        if (sscanf(line, "%63[^,],%127[^,],%15[^,],%lld", rows[n].op, shape, rows[n].pass, &rows[n].instructions) == 4)
            n++;
    }
    return pclose(p) == 0 ? n : -1;
}

Test(cli_bench_count, relu_is_counted_twice_the_same) {
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("valgrind cannot run a sanitizer build");
#endif
    if (system("command -v valgrind >/dev/null 2>&1") != 0) cr_skip_test("valgrind is not on PATH");
    count_row a[8], b[8];
    char header[256] = "", header2[256] = "";
    int na = count("relu", a, 8, header, sizeof header), nb = count("relu", b, 8, header2, sizeof header2);
    if (na < 0) {
        /* A CPU whose -march=native code valgrind cannot run (AVX-512) is told apart from a failure. */
        char command[1024], message[1024] = "";
        snprintf(command, sizeof command, "'%s' bench kernels --count --only relu 2>&1 >/dev/null", GEOSSL_BINARY);
        FILE *p = popen(command, "r");
        size_t n = p ? fread(message, 1, sizeof message - 1, p) : 0;
        message[n] = '\0';
        if (p) pclose(p);
        if (strstr(message, "valgrind cannot run an instruction of this build"))
            cr_skip_test("this build's -march=native code is beyond valgrind (build with -DGEOSSL_MARCH=x86-64-v3)");
        cr_assert_fail("bench kernels --count failed: %s", message);
    }
    cr_expect_str_eq(header, "op,shape,pass,instructions\n");
    cr_assert_eq(na, 2, "rows: %d", na);
    cr_assert_eq(nb, 2);
    cr_expect_str_eq(a[0].op, "relu");
    cr_expect_str_eq(a[0].pass, "forward");
    cr_expect_str_eq(a[1].pass, "backward");
    for (int i = 0; i < 2; i++) {
        /* 4M elements: at least one instruction per 8 of them, and not the whole program's count. */
        cr_expect(a[i].instructions > 64 * 64 * 32 * 32 / 8 && a[i].instructions < 1000000000LL, "%s: %lld",
                  a[i].pass, a[i].instructions);
        double change = (double)(b[i].instructions - a[i].instructions) / (double)a[i].instructions;
        cr_expect(change > -1e-3 && change < 1e-3, "%s: %lld then %lld", a[i].pass, a[i].instructions,
                  b[i].instructions);
    }
}

Test(cli_bench_count, counts_are_csv_only) {
    char command[1024];
    snprintf(command, sizeof command, "'%s' bench kernels --count --json >/dev/null 2>&1", GEOSSL_BINARY);
    int status = system(command);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 2, "exit %d", WEXITSTATUS(status));
}
