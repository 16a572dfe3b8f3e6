/* datasets/ includes in one direction: the modules of datasets/ and
 * datasets/formats/ (a module is a .c and its .h; X_internal.h belongs to X)
 * form no cycle through their `#include "..."` lines.  A cycle let a call
 * bounce between modules (a dataset passed to gs_pretrain went cache ->
 * stats -> cache -> stats), so the failure names every module and the
 * include line of each step.  The files are read from the source tree at run
 * time; the detector itself is also run on a small tree with a known cycle. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_paths.h"

#define DATASETS_DIR GEOSSL_FIXTURE_DIR "/../../datasets"
#define MAX_FILES 256
#define MAX_MODULES 256
#define MAX_EDGES 2048
#define NAME_LEN 160

/* One step of the graph: module `from` includes module `to`, first seen as
 * `file` including `header`. */
typedef struct include_edge {
    int from, to;
    char file[NAME_LEN], header[NAME_LEN];
} include_edge;

typedef struct include_graph {
    char files[MAX_FILES][NAME_LEN]; /* paths relative to the root: "formats/potsdam.c" */
    int n_files;
    char modules[MAX_MODULES][NAME_LEN]; /* "cache", "formats/class_folders" */
    int n_modules;
    include_edge edges[MAX_EDGES];
    int n_edges;
} include_graph;

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

/* "formats/class_folders.c" -> "formats/class_folders"; "synthetic_internal.h" -> "synthetic". */
static void module_of(const char *file, char *out, size_t size) {
    snprintf(out, size, "%s", file);
    char *dot = strrchr(out, '.');
    if (dot) *dot = '\0';
    if (ends_with(out, "_internal")) out[strlen(out) - strlen("_internal")] = '\0';
}

static int module_index(include_graph *g, const char *file) {
    char name[NAME_LEN];
    module_of(file, name, sizeof name);
    for (int i = 0; i < g->n_modules; i++)
        if (!strcmp(g->modules[i], name)) return i;
    cr_assert_lt(g->n_modules, MAX_MODULES, "more than %d modules", MAX_MODULES);
    snprintf(g->modules[g->n_modules], NAME_LEN, "%s", name);
    return g->n_modules++;
}

static bool known_file(const include_graph *g, const char *path) {
    for (int i = 0; i < g->n_files; i++)
        if (!strcmp(g->files[i], path)) return true;
    return false;
}

/* The .c and .h files of root/sub ("" for root itself), as paths relative to root. */
static void list_sources(include_graph *g, const char *root, const char *sub) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s%s", root, *sub ? "/" : "", sub);
    DIR *d = opendir(dir);
    cr_assert(d, "cannot list %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with(e->d_name, ".c") && !ends_with(e->d_name, ".h")) continue;
        cr_assert_lt(g->n_files, MAX_FILES, "more than %d files under %s", MAX_FILES, root);
        char name[600];
        snprintf(name, sizeof name, "%.200s%s%.255s", sub, *sub ? "/" : "", e->d_name);
        cr_assert_lt(strlen(name), (size_t)NAME_LEN, "file name too long for the test: %s", name);
        memcpy(g->files[g->n_files++], name, strlen(name) + 1);
    }
    closedir(d);
}

/* `dir` joined with `include`, "a/../" collapsed: the path relative to the
 * root; false when it climbs out of the root. */
static bool resolve(const char *dir, const char *include, char *out, size_t size) {
    char joined[NAME_LEN * 2];
    snprintf(joined, sizeof joined, "%s%s%s", dir, *dir ? "/" : "", include);
    char parts[32][NAME_LEN];
    int n = 0;
    for (char *save = NULL, *p = strtok_r(joined, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
        if (!strcmp(p, ".")) continue;
        if (!strcmp(p, "..")) {
            if (n == 0) return false;
            n--;
            continue;
        }
        if (n == 32) return false;
        /* The return values are checked: a name or path too long is no match. */
        int w = snprintf(parts[n++], NAME_LEN, "%s", p);
        if (w < 0 || w >= NAME_LEN) return false;
    }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t used = strlen(out);
        int w = snprintf(out + used, size - used, "%s%s", i ? "/" : "", parts[i]);
        if (w < 0 || (size_t)w >= size - used) return false;
    }
    return true;
}

/* Edges from every `#include "..."` that names a file under the root;
 * includes of other parts of geossl ("core/error.h") and system headers are
 * not modules of this folder. */
static void read_includes(include_graph *g, const char *root) {
    for (int f = 0; f < g->n_files; f++) {
        char path[4096], dir[NAME_LEN], line[1024];
        snprintf(path, sizeof path, "%s/%s", root, g->files[f]);
        snprintf(dir, sizeof dir, "%s", g->files[f]);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else dir[0] = '\0';
        FILE *in = fopen(path, "r");
        cr_assert(in, "cannot read %s", path);
        int from = module_index(g, g->files[f]);
        while (fgets(line, sizeof line, in)) {
            char *p = line;
            while (*p == ' ' || *p == '\t') p++;
            if (*p++ != '#') continue;
            while (*p == ' ' || *p == '\t') p++;
            if (strncmp(p, "include", 7)) continue;
            p += 7;
            while (*p == ' ' || *p == '\t') p++;
            if (*p++ != '"') continue;
            char *end = strchr(p, '"');
            if (!end) continue;
            *end = '\0';
            char target[NAME_LEN];
            if (!resolve(dir, p, target, sizeof target) || !known_file(g, target)) continue;
            int to = module_index(g, target);
            bool seen = from == to;
            for (int e = 0; e < g->n_edges && !seen; e++) seen = g->edges[e].from == from && g->edges[e].to == to;
            if (seen) continue;
            cr_assert_lt(g->n_edges, MAX_EDGES, "more than %d include edges", MAX_EDGES);
            include_edge *e = &g->edges[g->n_edges++];
            *e = (include_edge){.from = from, .to = to};
            snprintf(e->file, sizeof e->file, "%s", g->files[f]);
            snprintf(e->header, sizeof e->header, "%s", p);
        }
        fclose(in);
    }
}

static int compare_names(const void *a, const void *b) { return strcmp(a, b); }

/* Sorted, so the search (and its report) does not depend on readdir's order. */
static void build_graph(include_graph *g, const char *root) {
    memset(g, 0, sizeof *g);
    list_sources(g, root, "");
    struct stat st;
    char formats[4096];
    snprintf(formats, sizeof formats, "%s/formats", root);
    if (stat(formats, &st) == 0 && S_ISDIR(st.st_mode)) list_sources(g, root, "formats");
    qsort(g->files, (size_t)g->n_files, sizeof g->files[0], compare_names);
}

/* Depth-first search state: the path from the search's start to the
 * current module, as edges, and each module's colour. */
typedef struct cycle_search {
    const include_graph *g;
    int colour[MAX_MODULES]; /* 0: unvisited, 1: on the current path, 2: done */
    int path[MAX_MODULES];   /* edge indices */
    int depth;
    char report[8192];
    int cycles;
} cycle_search;

/* Appends "a (a.c: #include "b.h") -> b (...) -> a" for the cycle closed by
 * edge `closing`, which returns to a module on the current path. */
static void describe_cycle(cycle_search *s, int closing) {
    const include_graph *g = s->g;
    int start = 0; /* the step leaving the module the closing edge returns to */
    while (start < s->depth && g->edges[s->path[start]].from != g->edges[closing].to) start++;
    size_t used = strlen(s->report);
    used += (size_t)snprintf(s->report + used, sizeof s->report - used, "\n  ");
    for (int i = start; i <= s->depth && used < sizeof s->report; i++) {
        const include_edge *e = &g->edges[i < s->depth ? s->path[i] : closing];
        used += (size_t)snprintf(s->report + used, sizeof s->report - used, "%s (%s: #include \"%s\") -> ",
                                 g->modules[e->from], e->file, e->header);
    }
    if (used < sizeof s->report)
        snprintf(s->report + used, sizeof s->report - used, "%s", g->modules[g->edges[closing].to]);
    s->cycles++;
}

static void visit(cycle_search *s, int module) {
    s->colour[module] = 1;
    for (int e = 0; e < s->g->n_edges; e++) {
        if (s->g->edges[e].from != module) continue;
        int to = s->g->edges[e].to;
        if (s->colour[to] == 1) {
            describe_cycle(s, e);
        } else if (s->colour[to] == 0) {
            s->path[s->depth++] = e;
            visit(s, to);
            s->depth--;
        }
    }
    s->colour[module] = 2;
}

/* The number of cycles the search closes (each described in s->report). */
static int find_cycles(const include_graph *g, cycle_search *s) {
    memset(s, 0, sizeof *s);
    s->g = g;
    for (int m = 0; m < g->n_modules; m++)
        if (s->colour[m] == 0) visit(s, m);
    return s->cycles;
}

static bool has_edge(const include_graph *g, const char *from, const char *to) {
    for (int e = 0; e < g->n_edges; e++)
        if (!strcmp(g->modules[g->edges[e].from], from) && !strcmp(g->modules[g->edges[e].to], to)) return true;
    return false;
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

Test(datasets_include_graph, no_module_of_datasets_includes_itself_through_others) {
    static include_graph g;
    static cycle_search s;
    build_graph(&g, DATASETS_DIR);
    read_includes(&g, DATASETS_DIR);
    /* The graph was read at all: a wrong folder must not pass as "no cycle". */
    cr_assert_gt(g.n_files, 20, "only %d sources found under %s", g.n_files, DATASETS_DIR);
    cr_assert(has_edge(&g, "loader", "dataset"), "loader.h's include of dataset.h was not seen");
    cr_assert(has_edge(&g, "formats/class_folders", "image_io"),
              "formats/class_folders.h's \"../image_io.h\" was not seen");
    cr_assert_eq(find_cycles(&g, &s), 0, "datasets/ includes in a circle (%d cycle%s):%s", s.cycles,
                 s.cycles == 1 ? "" : "s", s.report);
}

/* The detector on a known tree: a <-> b directly, b -> c -> formats/d -> b
 * through a parent include, and e_internal.h counted as e (no cycle). */
Test(datasets_include_graph, a_known_cycle_is_found_and_named) {
    char root[4096], formats[4200];
    test_temp_dir(root, sizeof root);
    snprintf(formats, sizeof formats, "%s/formats", root);
    cr_assert_eq(mkdir(formats, 0755), 0);
    write_file(root, "a.h", "#include \"b.h\"\n");
    write_file(root, "a.c", "#include \"a.h\"\n");
    write_file(root, "b.h", "#include <stdio.h>\n#include \"core/error.h\"\n");
    write_file(root, "b.c", "#include \"b.h\"\n  #  include \"a.h\"\n#include \"c.h\"\n");
    write_file(root, "c.h", "#include \"formats/d.h\"\n");
    write_file(formats, "d.h", "#include \"../b.h\"\n");
    write_file(root, "e.c", "#include \"e_internal.h\"\n");
    write_file(root, "e_internal.h", "#include \"e.h\"\n");
    write_file(root, "e.h", "\n");
    static include_graph g;
    static cycle_search s;
    build_graph(&g, root);
    read_includes(&g, root);
    cr_expect(has_edge(&g, "formats/d", "b"));
    cr_expect_not(has_edge(&g, "b", "core/error"));
    cr_expect_eq(find_cycles(&g, &s), 2, "%s", s.report);
    cr_expect(strstr(s.report, "a (a.h: #include \"b.h\") -> b (b.c: #include \"a.h\") -> a") ||
                  strstr(s.report, "b (b.c: #include \"a.h\") -> a (a.h: #include \"b.h\") -> b"),
              "%s", s.report);
    cr_expect(strstr(s.report, "c (c.h: #include \"formats/d.h\") -> formats/d (formats/d.h: #include \"../b.h\") -> b"),
              "%s", s.report);
    cr_expect_not(strstr(s.report, "e ("), "%s", s.report);
    test_remove_tree(root);
}
