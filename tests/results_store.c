/* The results store: awkward fields survive a write and a read, two
 * processes appending at once leave only whole rows, a corrupt or foreign
 * file is reported (file and line) and never touched, resuming finds cells;
 * provenance helpers; the committed reference numbers all carry citations. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "csv_table.h"
#include "provenance.h"
#include "reference.h"
#include "results_store.h"
#include "test_paths.h"

static gs_result_row plain_row(const char *method, long long seed, double value) {
    return (gs_result_row){.run_id = "run-1", .method = method, .backbone = "resnet18", .pretrain_data = "eurosat-ms",
                           .eval_data = "eurosat-ms", .protocol = "linear", .label_fraction = 0.1, .seed = seed,
                           .metric = "top1", .value = value, .git_commit = "abc", .config_hash = "0011",
                           .threads = 2, .date = "2024-01-02T03:04:05Z", .wall_time_s = 1.5, .cpu = "test cpu"};
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    if (len) *len = got;
    return buf;
}

static void spit(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Removes a file made by temp_file and its private directory. */
static void cleanup(const char *path) {
    remove(path);
    char dir[600];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    rmdir(dir);
}

static void temp_file(char *path, size_t size, const char *name) {
    char dir[512];
    cr_assert(test_temp_dir(dir, sizeof dir)[0], "no temp dir");
    snprintf(path, size, "%s/%s", dir, name);
}

Test(results_store, awkward_fields_round_trip) {
    char path[600];
    temp_file(path, sizeof path, "results.csv");
    gs_result_row rows[3] = {plain_row("simclr", 0, 1.0 / 3.0), plain_row("byol", 1, 91.25),
                             plain_row("dino", 2, -0.0)};
    rows[0].run_id = "a,b \"quoted\"\nsecond line";
    rows[0].cpu = "  padded cpu\t";
    rows[0].pretrain_data = "";
    rows[1].method = "mocov2, \"v2\"";
    rows[1].label_fraction = 0.01;
    rows[1].seed = -7;
    rows[1].date = "line\r\nend";
    rows[2].value = 1e-300;
    rows[2].wall_time_s = 12345.678;
    rows[2].backbone = "vit-small/16";
    rows[2].metric = "ünïcödé metric";
    gs_error err = {0};
    cr_assert_eq(gs_results_append(path, rows, 2, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_results_append(path, rows + 2, 1, &err), GS_OK, "%s", err.message);

    gs_results back;
    cr_assert_eq(gs_results_load(path, &back, &err), GS_OK, "%s", err.message);
    cr_assert_eq(back.n_rows, 3);
    for (size_t i = 0; i < 3; i++) {
        const gs_result_row *a = &rows[i], *b = &back.rows[i];
        cr_expect_str_eq(b->run_id, a->run_id);
        cr_expect_str_eq(b->method, a->method);
        cr_expect_str_eq(b->backbone, a->backbone);
        cr_expect_str_eq(b->pretrain_data, a->pretrain_data);
        cr_expect_str_eq(b->metric, a->metric);
        cr_expect_str_eq(b->cpu, a->cpu);
        cr_expect_str_eq(b->date, a->date);
        cr_expect_eq(b->label_fraction, a->label_fraction, "row %zu fraction", i);
        cr_expect_eq(b->value, a->value, "row %zu value %.17g", i, b->value);
        cr_expect_eq(b->wall_time_s, a->wall_time_s);
        cr_expect_eq(b->seed, a->seed);
        cr_expect_eq(b->threads, a->threads);
    }
    /* The multi-line first row starts on line 2; the next row after it. */
    cr_expect_eq(back.rows[0].line, 2);
    cr_expect_eq(back.rows[1].line, 4);
    gs_results_free(&back);

    /* One header, however many appends. */
    char *text = slurp(path, NULL);
    size_t headers = 0;
    for (const char *p = text; (p = strstr(p, "run_id,method,")) != NULL; p++) headers++;
    cr_expect_eq(headers, 1);
    cr_expect(strncmp(text, "run_id,method,backbone,pretrain_data,eval_data,protocol,label_fraction,seed,metric,"
                            "value,git_commit,config_hash,threads,date,wall_time_s,cpu\n", 119) == 0,
              "header: %.130s", text);
    free(text);
    cleanup(path);
}

Test(results_store, shortest_round_trip_numbers) {
    char buf[GS_DOUBLE_TEXT_SIZE];
    gs_format_double(buf, 0.1);
    cr_expect_str_eq(buf, "0.1");
    gs_format_double(buf, 1.0);
    cr_expect_str_eq(buf, "1");
    gs_format_double(buf, 1.0 / 3.0);
    cr_expect_eq(strtod(buf, NULL), 1.0 / 3.0);
    gs_format_double(buf, NAN);
    cr_expect_str_eq(buf, "nan");
    gs_format_double(buf, -INFINITY);
    cr_expect_str_eq(buf, "-inf");
}

/* A number in a results file is read by people and by spreadsheets: plain
 * decimal, never "7e+01" or "1e-05", still the shortest that reads back. */
Test(results_store, numbers_are_plain_decimal) {
    static const struct {
        double v;
        const char *text;
    } cases[] = {{70.0, "70"},       {100.0, "100"},         {1e21, "1000000000000000000000"},
                 {0.00001, "0.00001"}, {-2.5e-7, "-0.00000025"}, {123.456, "123.456"},
                 {-0.0, "0"},          {0.0, "0"},             {1.5, "1.5"},
                 {1234567.0, "1234567"}};
    char buf[GS_DOUBLE_TEXT_SIZE];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gs_format_double(buf, cases[i].v);
        cr_expect_str_eq(buf, cases[i].text, "%.17g", cases[i].v);
    }
    /* The extremes fit the buffer and read back exactly. */
    const double extremes[] = {DBL_MAX, -DBL_MAX, DBL_MIN, 4.9406564584124654e-324, -4.9406564584124654e-324,
                               1.0 / 3.0, 2.0 / 3.0 * 1e-300, 0.1 + 0.2, 12345678901234567890.0};
    for (size_t i = 0; i < sizeof extremes / sizeof *extremes; i++) {
        gs_format_double(buf, extremes[i]);
        cr_expect(strlen(buf) < sizeof buf);
        cr_expect_null(strpbrk(buf, "eE"), "exponent in %s", buf);
        cr_expect_eq(strtod(buf, NULL), extremes[i], "%s does not read back as %.17g", buf, extremes[i]);
    }
    /* Many doubles of every magnitude: plain, round-tripping, no trailing zeros. */
    unsigned long long state = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        double v;
        memcpy(&v, &state, sizeof v);
        if (!isfinite(v)) continue;
        gs_format_double(buf, v);
        cr_assert_null(strpbrk(buf, "eE"), "exponent in %s", buf);
        cr_assert_eq(strtod(buf, NULL), v, "%s does not read back as %.17g", buf, v);
        if (strchr(buf, '.')) cr_assert_neq(buf[strlen(buf) - 1], '0', "trailing zero in %s", buf);
    }
}

/* What lands in the file: a value of 70 is written "70". */
Test(results_store, rows_hold_plain_decimal_numbers) {
    char path[600];
    temp_file(path, sizeof path, "plain.csv");
    gs_result_row rows[2] = {plain_row("simclr", 0, 70.0), plain_row("simclr", 1, 0.00001)};
    rows[1].wall_time_s = 250000000.0;
    gs_error err = {0};
    cr_assert_eq(gs_results_append(path, rows, 2, &err), GS_OK, "%s", err.message);
    char *text = slurp(path, NULL);
    cr_expect(strstr(text, ",top1,70,"), "%s", text);
    cr_expect(strstr(text, ",top1,0.00001,"), "%s", text);
    cr_expect(strstr(text, ",250000000,"), "%s", text);
    cr_expect_null(strstr(text, "e+"), "%s", text);
    cr_expect_null(strstr(text, "e-0"), "%s", text);
    free(text);
    cleanup(path);
}

static void append_many(const char *path, const char *method) {
    for (int i = 0; i < 200; i++) {
        gs_result_row row = plain_row(method, i, 50.0 + i * 0.25);
        /* A long field makes each row span many bytes, so a torn or
         * interleaved write would show. */
        row.cpu = "a cpu model name long enough that one row is several hundred bytes, "
                  "written in one write() under the lock .......................................";
        gs_error err = {0};
        if (gs_results_append(path, &row, 1, &err) != GS_OK) {
            fprintf(stderr, "append failed: %s\n", err.message);
            _exit(1);
        }
    }
    _exit(0);
}

Test(results_store, two_processes_append_concurrently) {
    char path[600];
    temp_file(path, sizeof path, "shared.csv");
    pid_t a = fork();
    cr_assert_geq(a, 0);
    if (a == 0) append_many(path, "writer-a");
    pid_t b = fork();
    cr_assert_geq(b, 0);
    if (b == 0) append_many(path, "writer-b");
    int sa, sb;
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    cr_assert(WIFEXITED(sa) && WEXITSTATUS(sa) == 0, "writer a failed");
    cr_assert(WIFEXITED(sb) && WEXITSTATUS(sb) == 0, "writer b failed");

    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(path, &r, &err), GS_OK, "%s", err.message);
    cr_assert_eq(r.n_rows, 400);
    int seen[2][200] = {{0}};
    for (size_t i = 0; i < r.n_rows; i++) {
        int w = !strcmp(r.rows[i].method, "writer-b");
        cr_assert(w || !strcmp(r.rows[i].method, "writer-a"), "row %zu method %s", i, r.rows[i].method);
        cr_assert(r.rows[i].seed >= 0 && r.rows[i].seed < 200);
        cr_expect_eq(r.rows[i].value, 50.0 + (double)r.rows[i].seed * 0.25);
        seen[w][r.rows[i].seed]++;
    }
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 200; i++) cr_expect_eq(seen[w][i], 1, "writer %d seed %d seen %d times", w, i, seen[w][i]);
    gs_results_free(&r);
    cleanup(path);
}

/* The append waits for a lock held by someone else (as another run would
 * hold it) and goes ahead once it is released. */
Test(results_store, append_waits_for_the_lock) {
    char path[600];
    temp_file(path, sizeof path, "locked.csv");
    gs_result_row row = plain_row("first", 0, 1.0);
    gs_error err = {0};
    cr_assert_eq(gs_results_append(path, &row, 1, &err), GS_OK, "%s", err.message);
    struct stat before;
    cr_assert_eq(stat(path, &before), 0);

    int fd = open(path, O_RDWR);
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    cr_assert_eq(fcntl(fd, F_SETLKW, &lock), 0);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        gs_result_row second = plain_row("second", 1, 2.0);
        gs_error child_err = {0};
        _exit(gs_results_append(path, &second, 1, &child_err) == GS_OK ? 0 : 1);
    }
    nanosleep(&(struct timespec){.tv_nsec = 300 * 1000 * 1000}, NULL);
    struct stat during;
    cr_assert_eq(stat(path, &during), 0);
    cr_expect_eq(during.st_size, before.st_size, "the append did not wait for the lock");
    close(fd); /* releases the lock */
    int status;
    waitpid(child, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    gs_results r;
    cr_assert_eq(gs_results_load(path, &r, &err), GS_OK, "%s", err.message);
    cr_expect_eq(r.n_rows, 2);
    gs_results_free(&r);
    cleanup(path);
}

/* Each corrupt file: the append fails naming file and line, the bytes stay. */
static void expect_refused(const char *name, const char *content, const char *where) {
    char path[600];
    temp_file(path, sizeof path, name);
    spit(path, content);
    gs_result_row row = plain_row("simclr", 0, 90.0);
    gs_error err = {0};
    cr_expect_eq(gs_results_append(path, &row, 1, &err), GS_ERR_FORMAT, "%s was appended to", name);
    char expect[700];
    snprintf(expect, sizeof expect, "%s:%s", path, where);
    cr_expect(strstr(err.message, expect) != NULL, "message '%s' lacks '%s'", err.message, expect);
    char *after = slurp(path, NULL);
    cr_expect_str_eq(after, content, "%s was modified", name);
    free(after);
    gs_results r;
    gs_error load_err = {0};
    cr_expect_neq(gs_results_load(path, &r, &load_err), GS_OK);
    /* The check a command runs before its work refuses what an append would. */
    gs_error check_err = {0};
    cr_expect_eq(gs_results_check_appendable(path, &check_err), GS_ERR_FORMAT, "%s passed the up-front check", name);
    cr_expect(strstr(check_err.message, expect) != NULL, "message '%s' lacks '%s'", check_err.message, expect);
    cleanup(path);
}

#define HEADER                                                                                                   \
    "run_id,method,backbone,pretrain_data,eval_data,protocol,label_fraction,seed,metric,value,git_commit,"      \
    "config_hash,threads,date,wall_time_s,cpu\n"
#define GOOD_ROW "r,simclr,resnet18,x,eurosat-ms,linear,0.1,0,top1,90.5,c,h,2,2024-01-01T00:00:00Z,1.5,cpu\n"

Test(results_store, corrupt_or_foreign_files_are_reported_and_untouched) {
    expect_refused("foreign.csv", "name,score\nalice,3\n", "1:");
    expect_refused("columns.csv", HEADER GOOD_ROW "r,simclr,resnet18,x,eurosat-ms,linear,0.1,0,top1,90.5\n", "3:");
    expect_refused("value.csv", HEADER GOOD_ROW GOOD_ROW
                   "r,simclr,resnet18,x,eurosat-ms,linear,0.1,0,top1,ninety,c,h,2,d,1.5,cpu\n",
                   "4:");
    expect_refused("fraction.csv", HEADER "r,simclr,resnet18,x,eurosat-ms,linear,10,0,top1,9,c,h,2,d,1.5,cpu\n", "2:");
    expect_refused("quote.csv", HEADER GOOD_ROW "r,\"sim\"clr,resnet18,x,e,l,0.1,0,top1,9,c,h,2,d,1.5,cpu\n", "3:");
    expect_refused("torn.csv", HEADER GOOD_ROW "r,simclr,resnet18,x,eurosat-ms,lin", "3:");
}

/* Before an evaluation: a missing, empty or well-formed file in a writable
 * folder is fine; a missing folder, or a folder given as the file, is not. */
Test(results_store, up_front_check_of_a_results_path) {
    char dir[512], path[600];
    cr_assert(test_temp_dir(dir, sizeof dir)[0]);
    gs_error err = {0};
    snprintf(path, sizeof path, "%s/new.csv", dir);
    cr_expect_eq(gs_results_check_appendable(path, &err), GS_OK, "a new file: %s", err.message);
    cr_expect_eq(access(path, F_OK), -1, "the check created the file");
    spit(path, "");
    cr_expect_eq(gs_results_check_appendable(path, &err), GS_OK, "an empty file: %s", err.message);
    spit(path, HEADER GOOD_ROW);
    cr_expect_eq(gs_results_check_appendable(path, &err), GS_OK, "a results file: %s", err.message);
    remove(path);

    snprintf(path, sizeof path, "%s/missing/results.csv", dir);
    cr_expect_eq(gs_results_check_appendable(path, &err), GS_ERR_IO);
    cr_expect(strstr(err.message, "does not exist"), "%s", err.message);
    cr_expect(strstr(err.message, path), "names the path: %s", err.message);
    err = (gs_error){0};
    cr_expect_eq(gs_results_check_appendable(dir, &err), GS_ERR_IO);
    cr_expect(strstr(err.message, "not a regular file"), "%s", err.message);

    /* A bare file name is in the working folder. */
    char cwd[1024];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(dir), 0);
    err = (gs_error){0};
    cr_expect_eq(gs_results_check_appendable("results.csv", &err), GS_OK, "%s", err.message);
    cr_assert_eq(chdir(cwd), 0);
    rmdir(dir);
}

Test(results_store, invalid_rows_are_refused_before_the_file_is_touched) {
    char path[600];
    temp_file(path, sizeof path, "never.csv");
    gs_result_row row = plain_row("", 0, 1.0);
    gs_error err = {0};
    cr_expect_eq(gs_results_append(path, &row, 1, &err), GS_ERR_ARGUMENT);
    row = plain_row("simclr", 0, 1.0);
    row.label_fraction = 0.0;
    err = (gs_error){0};
    cr_expect_eq(gs_results_append(path, &row, 1, &err), GS_ERR_ARGUMENT);
    cr_expect_eq(access(path, F_OK), -1, "the file was created");
    cleanup(path);
}

Test(results_store, resume_finds_present_cells) {
    char path[600];
    temp_file(path, sizeof path, "resume.csv");
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load_existing(path, &r, &err), GS_OK, "%s", err.message);
    cr_expect_eq(r.n_rows, 0);
    gs_results_free(&r);
    cr_expect_neq(gs_results_load(path, &r, &err), GS_OK, "a missing file loads without error");

    gs_result_row rows[2] = {plain_row("simclr", 0, 90), plain_row("simclr", 1, 91)};
    cr_assert_eq(gs_results_append(path, rows, 2, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_results_load_existing(path, &r, &err), GS_OK, "%s", err.message);
    gs_result_cell cell = {.method = "simclr", .backbone = "resnet18", .pretrain_data = "eurosat-ms",
                           .eval_data = "eurosat-ms", .protocol = "linear", .label_fraction = 1.0 / 10.0, .seed = 1};
    cr_expect(gs_results_has_cell(&r, &cell));
    cell.seed = 2;
    cr_expect_not(gs_results_has_cell(&r, &cell));
    cell.seed = 0;
    cell.label_fraction = 0.01;
    cr_expect_not(gs_results_has_cell(&r, &cell));
    cell.label_fraction = 0.1;
    cell.protocol = "knn";
    cr_expect_not(gs_results_has_cell(&r, &cell));
    gs_results_free(&r);
    cleanup(path);
}

Test(results_store, provenance_helpers) {
    cr_expect_eq(gs_fnv1a64("", 0), 0xcbf29ce484222325ULL);
    cr_expect_eq(gs_fnv1a64("a", 1), 0xaf63dc4c8601ec8cULL);
    cr_expect_eq(gs_fnv1a64("foobar", 6), 0x85944171f73967e8ULL);

    char path[600], cpu[256];
    temp_file(path, sizeof path, "cpuinfo");
    spit(path, "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Imaginary CPU @ 3.00GHz  \nflags\t: x\n");
    gs_provenance_cpu_model(path, cpu, sizeof cpu);
    cr_expect_str_eq(cpu, "Imaginary CPU @ 3.00GHz");
    gs_provenance_cpu_model("/nonexistent/cpuinfo", cpu, sizeof cpu);
    cr_expect_str_eq(cpu, "unknown");

    gs_provenance p;
    gs_provenance_collect(&p, "lr=0.1\nbatch=64\n", 4, 2.5);
    cr_expect_str_eq(p.config_hash, "6b3888bd4ff6d4c0" /* FNV-1a of the text above */);
    cr_expect_eq(strlen(p.date), 20, "date '%s'", p.date);
    cr_expect(p.date[4] == '-' && p.date[10] == 'T' && p.date[19] == 'Z', "date '%s'", p.date);
    cr_expect(p.git_commit[0], "empty commit");
    gs_result_row row = plain_row("simclr", 0, 1);
    gs_result_row_set_provenance(&row, &p);
    cr_expect_eq(row.threads, 4);
    cr_expect_eq(row.wall_time_s, 2.5);
    cr_expect_eq(row.config_hash, p.config_hash);
    cleanup(path);
}

Test(results_store, reference_numbers_all_cite_their_source) {
    gs_reference ref;
    gs_error err = {0};
    cr_assert_eq(gs_reference_load(GEOSSL_REFERENCE_CSV, &ref, &err), GS_OK, "%s", err.message);
    cr_expect_gt(ref.n_rows, 0);
    for (size_t i = 0; i < ref.n_rows; i++) {
        const gs_reference_row *r = &ref.rows[i];
        cr_expect(r->citation[0] && r->paper[0] && r->table[0], "line %zu lacks a citation", r->line);
        cr_expect(r->value > 0 && r->value <= 100, "line %zu value %g is not a percentage", r->line, r->value);
        cr_expect(r->label_fraction > 0 && r->label_fraction <= 1, "line %zu", r->line);
    }
    gs_reference_free(&ref);

    char path[600];
    temp_file(path, sizeof path, "uncited.csv");
    spit(path, "method,backbone,pretrain_data,eval_data,protocol,label_fraction,metric,value,paper,table,citation,"
               "notes\nsimclr,resnet50,x,eurosat-ms,linear,1,top1,90,Some paper,Table 1,,\n");
    cr_expect_eq(gs_reference_load(path, &ref, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, ":2:") && strstr(err.message, "citation"), "%s", err.message);
    cleanup(path);
}

Test(results_store, csv_parser_reports_lines) {
    gs_csv_table t;
    gs_error err = {0};
    const char *text = "a,b\n\n\"x\ny\",2\n3,4";
    cr_assert_eq(gs_csv_parse(text, strlen(text), "mem", &t, &err), GS_OK, "%s", err.message);
    cr_assert_eq(t.n_rows, 3);
    cr_expect_eq(t.rows[1].line, 3);
    cr_expect_str_eq(t.rows[1].fields[0], "x\ny");
    cr_expect_eq(t.rows[2].line, 5);
    gs_csv_table_free(&t);
    const char *open_quote = "a,b\n\"never closed,1\n";
    cr_expect_eq(gs_csv_parse(open_quote, strlen(open_quote), "mem", &t, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, "mem:2:"), "%s", err.message);
}

/* A file from before the settings column is read with empty settings, and
 * the first append rewrites it with the column, every old row kept as it
 * was (its text, not a reformatted number). */
Test(results_store, a_file_without_settings_is_read_and_upgraded) {
    char path[600];
    temp_file(path, sizeof path, "legacy.csv");
    spit(path, "run_id,method,backbone,pretrain_data,eval_data,protocol,label_fraction,seed,metric,value,git_commit,"
               "config_hash,threads,date,wall_time_s,cpu\n"
               "old,simclr,resnet18,none,eurosat-rgb,knn,1,0,top1,91.80,abc,00,2,2024-01-01T00:00:00Z,1.0,x\n");
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(path, &r, &err), GS_OK, "%s", err.message);
    cr_assert_eq(r.n_rows, 1);
    cr_expect_str_eq(r.rows[0].settings, "");
    gs_results_free(&r);
    gs_result_row row = plain_row("byol", 3, 50.0);
    row.settings = "validation=10%-of-train;splits=every-5th";
    cr_assert_eq(gs_results_append(path, &row, 1, &err), GS_OK, "%s", err.message);
    char *text = slurp(path, NULL);
    cr_expect(strstr(text, ",cpu,settings\n") != NULL, "header not upgraded: %s", text);
    cr_expect(strstr(text, "91.80,abc,00,2,2024-01-01T00:00:00Z,1.0,x,\n") != NULL, "old row changed: %s", text);
    cr_expect(strstr(text, "splits=every-5th\n") != NULL, "%s", text);
    free(text);
    cr_assert_eq(gs_results_load(path, &r, &err), GS_OK, "%s", err.message);
    cr_expect_eq(r.n_rows, 2);
    gs_results_free(&r);
    cleanup(path);
}

/* The same measurement (every key field, settings included) is never in a
 * file twice: a repeat is refused with the file untouched; replace swaps it;
 * another setting is another measurement. */
Test(results_store, a_repeated_measurement_is_refused_or_replaced) {
    char path[600];
    temp_file(path, sizeof path, "dup.csv");
    gs_result_row rows[2] = {plain_row("simclr", 0, 70.0), plain_row("simclr", 0, 0.5)};
    rows[1].metric = "chosen_l2";
    rows[0].settings = rows[1].settings = "validation=10%-of-train;splits=official";
    gs_error err = {0};
    cr_assert_eq(gs_results_append(path, rows, 2, &err), GS_OK, "%s", err.message);
    char *before = slurp(path, NULL);
    rows[0].value = 71.0;
    gs_error dup = {0};
    cr_expect_eq(gs_results_append(path, rows, 2, &dup), GS_ERR_ARGUMENT);
    cr_expect(strstr(dup.message, "already holds") && strstr(dup.message, "--force"), "%s", dup.message);
    char *after = slurp(path, NULL);
    cr_expect_str_eq(after, before, "a refused append changed the file");
    free(after);
    gs_results_append_options replace = {.replace = true};
    cr_assert_eq(gs_results_append_ex(path, rows, 2, &replace, &err), GS_OK, "%s", err.message);
    cr_expect_eq(replace.replaced, 2);
    gs_result_row other = rows[0];
    other.settings = "validation=val-split;splits=official";
    cr_assert_eq(gs_results_append(path, &other, 1, &err), GS_OK, "%s", err.message);
    gs_results r;
    cr_assert_eq(gs_results_load(path, &r, &err), GS_OK, "%s", err.message);
    cr_assert_eq(r.n_rows, 3);
    int top1_71 = 0;
    for (size_t i = 0; i < r.n_rows; i++) top1_71 += !strcmp(r.rows[i].metric, "top1") && r.rows[i].value == 71.0;
    cr_expect_eq(top1_71, 2, "the replaced row and the other setting's");
    gs_result_row key = rows[0];
    key.metric = NULL;
    cr_expect_not_null(gs_results_find_key(&r, &key));
    key.seed = 9;
    cr_expect_null(gs_results_find_key(&r, &key));
    gs_results_free(&r);
    free(before);
    cleanup(path);
}
