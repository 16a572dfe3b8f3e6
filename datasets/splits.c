#include "splits.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void warn(gs_dataset *ds, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(gs_dataset *ds, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs("warning: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    ds->n_warnings++;
}

const char *gs_split_name(int split) {
    switch (split) {
    case GS_SPLIT_TRAIN: return "train";
    case GS_SPLIT_VAL: return "val";
    case GS_SPLIT_TEST: return "test";
    default: return "none";
    }
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

int gs_split_name_compare(const char *a, const char *b) {
    const char *pa = a, *pb = b;
    while (*pa && *pb) {
        if (is_digit(*pa) && is_digit(*pb)) {
            while (*pa == '0') pa++;
            while (*pb == '0') pb++;
            size_t la = 0, lb = 0;
            while (is_digit(pa[la])) la++;
            while (is_digit(pb[lb])) lb++;
            if (la != lb) return la < lb ? -1 : 1;
            int c = memcmp(pa, pb, la);
            if (c) return c < 0 ? -1 : 1;
            pa += la;
            pb += lb;
        } else {
            if (*pa != *pb) return (unsigned char)*pa < (unsigned char)*pb ? -1 : 1;
            pa++;
            pb++;
        }
    }
    if (*pa || *pb) return *pa ? 1 : -1;
    /* Equal as numbers ("x_7" and "x_007"): fall back to bytes so the order is total. */
    int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}

/* ---- seeded order ---------------------------------------------------------- */

/* splitmix64's finalizer: a bijective 64-bit mix. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A sample's place in its stratum: depends on the seed and its stem only,
 * never on the order the format indexed the files in. */
static uint64_t sample_key(uint64_t seed, const char *stem) {
    uint64_t h = 0xCBF29CE484222325ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)stem; *p; p++) h = (h ^ *p) * 0x100000001B3ULL;
    return mix64(h ^ mix64(seed + 0x9E3779B97F4A7C15ULL));
}

typedef struct member {
    int stratum;
    uint64_t key;
    const char *stem;
    int64_t index;
} member;

static int compare_by_key(const void *pa, const void *pb) {
    const member *a = pa, *b = pb;
    if (a->stratum != b->stratum) return a->stratum < b->stratum ? -1 : 1;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int compare_by_name(const void *pa, const void *pb) {
    const member *a = pa, *b = pb;
    if (a->stratum != b->stratum) return a->stratum < b->stratum ? -1 : 1;
    int c = gs_split_name_compare(a->stem, b->stem);
    if (c) return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Members (the samples in `split`, or all when split is GS_SPLIT_NONE and
 * all is set) with their strata; see splits.h for what a stratum is. */
static gs_status collect_members(const gs_dataset *ds, bool all, int split, uint64_t seed, member **out, int64_t *n_out,
                                 gs_error *err) {
    *out = NULL;
    *n_out = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < ds->n_samples; i++) n += all || ds->samples[i].split == split;
    if (n == 0) return GS_OK;
    member *m = malloc((size_t)n * sizeof *m);
    if (!m) return gs_error_set(err, GS_ERR_MEMORY, "out of memory splitting %s", ds->root);
    int64_t label_count[64] = {0};
    int64_t k = 0;
    for (int64_t i = 0; i < ds->n_samples; i++) {
        if (!all && ds->samples[i].split != split) continue;
        m[k].index = i;
        m[k].stem = ds->samples[i].stem;
        m[k].key = sample_key(seed, ds->samples[i].stem);
        m[k].stratum = 0;
        if (ds->task == GS_TASK_CLASSIFICATION) m[k].stratum = ds->samples[i].label >= 0 ? ds->samples[i].label : -1;
        if (ds->task == GS_TASK_MULTILABEL)
            for (int c = 0; c < 64; c++) label_count[c] += (ds->samples[i].labels >> c) & 1;
        k++;
    }
    if (ds->task == GS_TASK_MULTILABEL)
        for (int64_t j = 0; j < n; j++) {
            uint64_t labels = ds->samples[m[j].index].labels;
            int rarest = -1;
            for (int c = 0; c < 64; c++)
                if (((labels >> c) & 1) && (rarest < 0 || label_count[c] < label_count[rarest])) rarest = c;
            m[j].stratum = rarest;
        }
    *out = m;
    *n_out = n;
    return GS_OK;
}

/* ---- split files ------------------------------------------------------------ */

static int compare_stem_index(const void *pa, const void *pb) {
    const member *a = pa, *b = pb;
    int c = strcmp(a->stem, b->stem);
    return c ? c : (a->index < b->index ? -1 : a->index > b->index);
}

/* First member whose stem equals name, or -1; members sorted by stem. */
static int64_t find_stem(const member *by_stem, int64_t n, const char *name) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (strcmp(by_stem[mid].stem, name) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && !strcmp(by_stem[lo].stem, name) ? lo : -1;
}

/* The name a split-file line lists, in place: first CSV column, trimmed,
 * unquoted, folder part dropped.  NULL for blank and comment lines. */
static char *listed_name(char *line) {
    while (*line == ' ' || *line == '\t') line++;
    if (*line == '#') return NULL;
    line[strcspn(line, ",\t\r\n")] = '\0';
    size_t len = strlen(line);
    while (len > 0 && line[len - 1] == ' ') line[--len] = '\0';
    if (len >= 2 && line[0] == '"' && line[len - 1] == '"') {
        line[--len] = '\0';
        line++;
        len--;
    }
    char *slash = strrchr(line, '/'), *backslash = strrchr(line, '\\');
    if (backslash && (!slash || backslash > slash)) slash = backslash;
    if (slash) line = slash + 1;
    return *line ? line : NULL;
}

static gs_status apply_one_file(gs_dataset *ds, const char *path, int split, const member *by_stem, int64_t n,
                                bool *conflicted, gs_split_file_report *r, gs_error *err) {
    FILE *f = fopen(path, "r");
    if (!f)
        return gs_error_set(err, GS_ERR_IO, "cannot open %s split file %s: %s", gs_split_name(split), path,
                            strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int64_t line_no = 0;
    while (getline(&line, &cap, f) != -1) {
        line_no++;
        char *name = listed_name(line);
        if (!name) continue;
        r->listed[split]++;
        int64_t at = find_stem(by_stem, n, name);
        if (at < 0) {
            /* By stem: Forest_1.tif in EuroSAT's lists matches Forest_1.jpg. */
            char *dot = strrchr(name, '.');
            if (dot && dot != name) {
                *dot = '\0';
                at = find_stem(by_stem, n, name);
                *dot = '.';
            }
        }
        if (at < 0) {
            if (r->unmatched++ == 0)
                snprintf(r->first_unmatched, sizeof r->first_unmatched, "%s:%lld: %s", path, (long long)line_no, name);
            continue;
        }
        for (int64_t j = at; j < n && !strcmp(by_stem[j].stem, by_stem[at].stem); j++) {
            gs_sample *s = &ds->samples[by_stem[j].index];
            if (s->split == GS_SPLIT_NONE) {
                s->split = split;
            } else if (s->split != split && !conflicted[by_stem[j].index]) {
                conflicted[by_stem[j].index] = true;
                if (r->conflicts++ == 0)
                    snprintf(r->first_conflict, sizeof r->first_conflict, "%s (in the %s and %s files)", s->stem,
                             gs_split_name(s->split), gs_split_name(split));
            }
        }
    }
    bool read_error = ferror(f) != 0;
    free(line);
    fclose(f);
    if (read_error) return gs_error_set(err, GS_ERR_IO, "error reading split file %s", path);
    if (r->listed[split] == 0)
        return gs_error_set(err, GS_ERR_FORMAT, "split file %s lists no file names (expected one name per line)", path);
    return GS_OK;
}

gs_status gs_split_apply_files_report(gs_dataset *ds, const char *train_path, const char *val_path,
                                      const char *test_path, gs_split_file_report *report, gs_error *err) {
    gs_split_file_report local;
    gs_split_file_report *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    const char *paths[3] = {train_path, val_path, test_path};
    if (!train_path && !val_path && !test_path)
        return gs_error_set(err, GS_ERR_ARGUMENT, "no split files given (need at least one of train, val, test)");
    member *by_stem = NULL;
    int64_t n = 0;
    gs_status status = collect_members(ds, true, GS_SPLIT_NONE, 0, &by_stem, &n, err);
    if (status != GS_OK) return status;
    if (n > 1) qsort(by_stem, (size_t)n, sizeof *by_stem, compare_stem_index);
    bool *conflicted = calloc((size_t)(n > 0 ? n : 1), sizeof *conflicted);
    if (!conflicted) status = gs_error_set(err, GS_ERR_MEMORY, "out of memory applying split files to %s", ds->root);
    for (int64_t i = 0; status == GS_OK && i < ds->n_samples; i++) ds->samples[i].split = GS_SPLIT_NONE;
    for (int s = 0; s < 3 && status == GS_OK; s++)
        if (paths[s]) status = apply_one_file(ds, paths[s], s, by_stem, n, conflicted, r, err);
    free(conflicted);
    free(by_stem);
    if (status != GS_OK) return status;
    for (int64_t i = 0; i < ds->n_samples; i++)
        if (ds->samples[i].split >= 0) r->assigned[ds->samples[i].split]++;
    int64_t listed = r->listed[0] + r->listed[1] + r->listed[2];
    if (r->assigned[0] + r->assigned[1] + r->assigned[2] == 0)
        return gs_error_set(err, GS_ERR_FORMAT,
                            "none of the %lld names in the split files matches a sample under %s (first: %s): are "
                            "these the split files of this dataset?",
                            (long long)listed, ds->root, r->first_unmatched);
    if (r->unmatched > 0)
        warn(ds, "%lld of the %lld names in the split files match no sample under %s (first: %s)",
             (long long)r->unmatched, (long long)listed, ds->root, r->first_unmatched);
    if (r->conflicts > 0)
        warn(ds, "%lld samples are listed in more than one split file; each keeps the first (train, val, test) "
             "(first: %s)",
             (long long)r->conflicts, r->first_conflict);
    return GS_OK;
}

gs_status gs_split_apply_files(gs_dataset *ds, const char *train_path, const char *val_path, const char *test_path,
                               gs_error *err) {
    return gs_split_apply_files_report(ds, train_path, val_path, test_path, NULL, err);
}

/* ---- stratified and protocol splits ----------------------------------------- */

gs_status gs_split_stratified(gs_dataset *ds, const double fractions[3], uint64_t seed, gs_error *err) {
    double total = 0;
    for (int s = 0; s < 3; s++) {
        if (!(fractions[s] >= 0 && fractions[s] <= 1))
            return gs_error_set(err, GS_ERR_ARGUMENT, "split fraction %s = %g is not in [0, 1]", gs_split_name(s),
                                fractions[s]);
        total += fractions[s];
    }
    if (total > 1 + 1e-6)
        return gs_error_set(err, GS_ERR_ARGUMENT, "split fractions %g + %g + %g exceed 1", fractions[0], fractions[1],
                            fractions[2]);
    member *m = NULL;
    int64_t n = 0;
    gs_status status = collect_members(ds, true, GS_SPLIT_NONE, seed, &m, &n, err);
    if (status != GS_OK) return status;
    if (n > 1) qsort(m, (size_t)n, sizeof *m, compare_by_key);
    for (int64_t a = 0; a < n;) {
        int64_t b = a;
        while (b < n && m[b].stratum == m[a].stratum) b++;
        int64_t size = b - a;
        /* Largest remainder: floors first, then the leftover to the largest
         * fractional parts (ties to the earlier split), up to round(total * size). */
        int64_t target = total >= 1 - 1e-6 ? size : (int64_t)floor(total * (double)size + 0.5);
        int64_t count[3], given = 0;
        double remainder[3];
        for (int s = 0; s < 3; s++) {
            double exact = fractions[s] * (double)size;
            count[s] = (int64_t)floor(exact);
            remainder[s] = exact - (double)count[s];
            given += count[s];
        }
        while (given < target) {
            int best = 0;
            for (int s = 1; s < 3; s++)
                if (remainder[s] > remainder[best]) best = s;
            count[best]++;
            remainder[best] = -1;
            given++;
        }
        int64_t at = a;
        for (int s = 0; s < 3; s++)
            for (int64_t j = 0; j < count[s] && at < b; j++) ds->samples[m[at++].index].split = s;
        while (at < b) ds->samples[m[at++].index].split = GS_SPLIT_NONE;
        a = b;
    }
    free(m);
    snprintf(ds->split_source, sizeof ds->split_source, "stratified");
    return GS_OK;
}

gs_status gs_split_apply_standard(gs_dataset *ds, const char *dir, bool *found, gs_error *err) {
    *found = false;
    const char *prefix = ds->format ? ds->format->split_lists : NULL;
    const char *folder = dir ? dir : ds->root;
    if (!prefix) {
        if (dir)
            return gs_error_set(err, GS_ERR_ARGUMENT, "--splits %s: the %s format has no published split lists", dir,
                                ds->format ? ds->format->name : "?");
        return GS_OK;
    }
    static const char *const NAMES[3] = {"train", "val", "test"};
    char paths[3][4200];
    const char *present[3] = {NULL, NULL, NULL};
    for (int s = 0; s < 3; s++) {
        snprintf(paths[s], sizeof paths[s], "%s/%s-%s.txt", folder, prefix, NAMES[s]);
        if (access(paths[s], F_OK) == 0) present[s] = paths[s], *found = true;
    }
    if (!*found) {
        if (dir)
            return gs_error_set(err, GS_ERR_IO, "--splits %s: none of %s-train.txt, %s-val.txt, %s-test.txt is there",
                                dir, prefix, prefix, prefix);
        return GS_OK;
    }
    gs_status status = gs_split_apply_files(ds, present[0], present[1], present[2], err);
    if (status != GS_OK) return status;
    if (dir)
        snprintf(ds->split_source, sizeof ds->split_source, "file:%.150s", dir);
    else
        snprintf(ds->split_source, sizeof ds->split_source, "official");
    return GS_OK;
}

gs_status gs_split_every_nth(gs_dataset *ds, int n, gs_error *err) {
    if (n < 2) return gs_error_set(err, GS_ERR_ARGUMENT, "every-n-th split needs n >= 2, not %d", n);
    member *m = NULL;
    int64_t count = 0;
    gs_status status = collect_members(ds, true, GS_SPLIT_NONE, 0, &m, &count, err);
    if (status != GS_OK) return status;
    if (count > 1) qsort(m, (size_t)count, sizeof *m, compare_by_name);
    int64_t position = 0;
    for (int64_t j = 0; j < count; j++) {
        if (j > 0 && m[j].stratum != m[j - 1].stratum) position = 0;
        position++;
        ds->samples[m[j].index].split = position % n == 0 ? GS_SPLIT_TEST : GS_SPLIT_TRAIN;
    }
    free(m);
    snprintf(ds->split_source, sizeof ds->split_source, n == 2 ? "every-2nd" : n == 3 ? "every-3rd" : "every-%dth", n);
    return GS_OK;
}

/* ---- label-fraction subsets ------------------------------------------------- */

static int compare_index(const void *pa, const void *pb) {
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return a < b ? -1 : a > b;
}

gs_status gs_split_label_subset(const gs_dataset *ds, gs_split split, double fraction, uint64_t seed,
                                int64_t **indices, int64_t *count, gs_error *err) {
    *indices = NULL;
    *count = 0;
    if (!(fraction > 0 && fraction <= 1))
        return gs_error_set(err, GS_ERR_ARGUMENT, "label fraction %g is not in (0, 1]", fraction);
    member *m = NULL;
    int64_t n = 0;
    gs_status status = collect_members(ds, false, split, seed, &m, &n, err);
    if (status != GS_OK) return status;
    if (n == 0)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "no samples in the %s split of %s: apply split files or a split (stratified, every n-th) "
                            "first",
                            gs_split_name(split), ds->root);
    qsort(m, (size_t)n, sizeof *m, compare_by_key);
    bool *chosen = calloc((size_t)n, sizeof *chosen);
    if (!chosen) {
        free(m);
        return gs_error_set(err, GS_ERR_MEMORY, "out of memory choosing a label subset of %s", ds->root);
    }
    for (int64_t a = 0; a < n;) {
        int64_t b = a;
        while (b < n && m[b].stratum == m[a].stratum) b++;
        int64_t take = (int64_t)floor(fraction * (double)(b - a) + 0.5);
        chosen[a] = true; /* at least one per stratum, i.e. per class */
        for (int64_t j = a; j < a + take && j < b; j++) chosen[j] = true;
        a = b;
    }
    if (ds->task == GS_TASK_MULTILABEL) {
        /* Every label also gets the sample carrying it that comes first in key
         * order: the same sample whatever the fraction, so nesting holds. */
        int64_t first[64];
        for (int c = 0; c < 64; c++) first[c] = -1;
        for (int64_t j = 0; j < n; j++) {
            uint64_t labels = ds->samples[m[j].index].labels;
            for (int c = 0; c < 64; c++)
                if (((labels >> c) & 1) &&
                    (first[c] < 0 || m[j].key < m[first[c]].key ||
                     (m[j].key == m[first[c]].key && m[j].index < m[first[c]].index)))
                    first[c] = j;
        }
        for (int c = 0; c < 64; c++)
            if (first[c] >= 0) chosen[first[c]] = true;
    }
    int64_t k = 0;
    for (int64_t j = 0; j < n; j++) k += chosen[j];
    int64_t *out = malloc((size_t)k * sizeof *out);
    if (!out) {
        free(chosen);
        free(m);
        return gs_error_set(err, GS_ERR_MEMORY, "out of memory choosing a label subset of %s", ds->root);
    }
    k = 0;
    for (int64_t j = 0; j < n; j++)
        if (chosen[j]) out[k++] = m[j].index;
    qsort(out, (size_t)k, sizeof *out, compare_index);
    free(chosen);
    free(m);
    *indices = out;
    *count = k;
    return GS_OK;
}
