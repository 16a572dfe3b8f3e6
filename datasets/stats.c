#include "stats.h"
#include "core/progress_lines.h"
#include "io/durable_file.h"

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache_dir.h"
#include "loader.h"

#define STATS_HEADER "geossl band statistics 1"

/* FNV-1a, 64-bit: a stable hash for names, not for security. */
static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ULL;
    return h;
}
#define FNV_START 0xCBF29CE484222325ULL

uint64_t gs_dataset_key(const gs_dataset *ds) {
    char text[4096];
    const gs_dataset_options *o = &ds->options;
    /* The band selection only enters the key when there is one, so the
     * files of data read whole keep their names. */
    char names[GS_MAX_BANDS * 17] = "";
    if (ds->source_bands) gs_dataset_band_names(ds, names, sizeof names);
    int n = snprintf(text, sizeof text, "%s\n%s\n%d %d %d %d %d%s%s",
                     ds->format && ds->format->name ? ds->format->name : "", ds->root ? ds->root : "", o->patch_size,
                     o->stride, o->eroded_labels, o->bigearthnet19, o->dates, names[0] ? "\nbands " : "", names);
    return fnv(FNV_START, text, (size_t)(n < (int)sizeof text ? n : (int)sizeof text - 1));
}

/* ---- fingerprint ----------------------------------------------------- */

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void add_file(gs_source_fingerprint *fp, const struct stat *st) {
    int64_t mtime = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    fp->files++;
    fp->bytes += st->st_size;
    if (mtime > fp->newest_mtime_ns) fp->newest_mtime_ns = mtime;
}

/* Every regular file below a sample's folder (patches, seasonal dates). */
static gs_status add_tree(gs_source_fingerprint *fp, const char *dir, int depth, gs_error *err) {
    DIR *d = opendir(dir);
    if (!d) return gs_error_set(err, GS_ERR_IO, "cannot list %s: %s", dir, strerror(errno));
    gs_status st = GS_OK;
    struct dirent *e;
    while (st == GS_OK && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat s;
        if (stat(path, &s) != 0) {
            st = gs_error_set(err, GS_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
        } else if (S_ISREG(s.st_mode)) {
            add_file(fp, &s);
        } else if (S_ISDIR(s.st_mode) && depth < 4) {
            st = add_tree(fp, path, depth + 1, err);
        }
    }
    closedir(d);
    return st;
}

gs_status gs_source_fingerprint_compute(const gs_dataset *ds, gs_source_fingerprint *out, gs_error *err) {
    memset(out, 0, sizeof *out);
    if (ds->format && ds->format->stored_fingerprint && ds->format->stored_fingerprint(ds, out)) return GS_OK;
    /* Patches of one tile share a path: each file counts once. */
    const char **paths = malloc((size_t)(ds->n_samples > 0 ? ds->n_samples : 1) * sizeof *paths);
    if (!paths) return gs_error_set(err, GS_ERR_MEMORY, "out of memory fingerprinting %s", ds->root);
    for (int64_t i = 0; i < ds->n_samples; i++) paths[i] = ds->samples[i].path;
    qsort(paths, (size_t)ds->n_samples, sizeof *paths, compare_strings);
    gs_status st = GS_OK;
    for (int64_t i = 0; i < ds->n_samples && st == GS_OK; i++) {
        if (i > 0 && !strcmp(paths[i], paths[i - 1])) continue;
        struct stat s;
        if (stat(paths[i], &s) != 0)
            st = gs_error_set(err, GS_ERR_IO, "cannot stat %s: %s", paths[i], strerror(errno));
        else if (S_ISDIR(s.st_mode))
            st = add_tree(out, paths[i], 0, err);
        else
            add_file(out, &s);
    }
    free(paths);
    return st;
}

uint64_t gs_dataset_content_key(const gs_dataset *ds) {
    uint64_t h = fnv(FNV_START, &ds->n_samples, sizeof ds->n_samples);
    for (int64_t i = 0; i < ds->n_samples; i++) {
        const gs_sample *s = &ds->samples[i];
        const int64_t fields[5] = {s->label, (int64_t)s->labels, s->split, s->x, s->y};
        h = fnv(h, s->stem, strlen(s->stem) + 1);
        h = fnv(h, fields, sizeof fields);
    }
    char names[GS_MAX_BANDS * 17] = "";
    gs_dataset_band_names(ds, names, sizeof names);
    h = fnv(h, names, strlen(names));
    gs_source_fingerprint fp;
    gs_error ignored = {0};
    if (gs_source_fingerprint_compute(ds, &fp, &ignored) == GS_OK) {
        const int64_t size[2] = {fp.files, fp.bytes};
        h = fnv(h, size, sizeof size);
    }
    return h;
}

/* ---- accumulation ---------------------------------------------------- */

void gs_stats_begin(gs_stats_accumulator *acc, int bands) {
    memset(acc, 0, sizeof *acc);
    acc->bands = bands;
    acc->hash = FNV_START;
}

void gs_stats_add(gs_stats_accumulator *acc, const float *pixels, int dates, int64_t plane, const char *stem) {
    int64_t nb = (int64_t)dates * plane;
    for (int b = 0; b < acc->bands; b++) {
        double sum = 0, m2 = 0;
        for (int d = 0; d < dates; d++) {
            const float *x = pixels + ((int64_t)d * acc->bands + b) * plane;
            for (int64_t i = 0; i < plane; i++) sum += x[i];
        }
        double mean = nb > 0 ? sum / nb : 0;
        for (int d = 0; d < dates; d++) {
            const float *x = pixels + ((int64_t)d * acc->bands + b) * plane;
            for (int64_t i = 0; i < plane; i++) m2 += (x[i] - mean) * (x[i] - mean);
        }
        /* Chan, Golub and LeVeque's combination of two partial moments. */
        int64_t na = acc->values, n = na + nb;
        if (n == 0) continue;
        double delta = mean - acc->mean[b];
        acc->mean[b] += delta * nb / n;
        acc->m2[b] += m2 + delta * delta * ((double)na * nb / n);
    }
    acc->values += nb;
    acc->samples++;
    acc->hash = fnv(acc->hash, stem, strlen(stem) + 1);
}

void gs_stats_end(const gs_stats_accumulator *acc, gs_band_stats *out) {
    memset(out, 0, sizeof *out);
    out->bands = acc->bands;
    out->samples = acc->samples;
    out->samples_hash = acc->hash;
    out->values = acc->values;
    for (int b = 0; b < acc->bands; b++) {
        out->mean[b] = acc->mean[b];
        out->std[b] = acc->values > 0 ? sqrt(acc->m2[b] / acc->values) : 0;
    }
}

gs_status gs_stats_training_indices(const gs_dataset *ds, int64_t **indices, int64_t *n, gs_error *err) {
    int64_t train = 0;
    for (int64_t i = 0; i < ds->n_samples; i++) train += ds->samples[i].split == GS_SPLIT_TRAIN;
    *n = train > 0 ? train : ds->n_samples;
    *indices = malloc((size_t)(*n > 0 ? *n : 1) * sizeof **indices);
    if (!*indices) return gs_error_set(err, GS_ERR_MEMORY, "out of memory selecting samples of %s", ds->root);
    int64_t k = 0;
    for (int64_t i = 0; i < ds->n_samples; i++)
        if (train == 0 || ds->samples[i].split == GS_SPLIT_TRAIN) (*indices)[k++] = i;
    return GS_OK;
}

uint64_t gs_stats_selection_hash(const gs_dataset *ds, const int64_t *indices, int64_t n) {
    uint64_t h = FNV_START;
    for (int64_t i = 0; i < n; i++) h = fnv(h, ds->samples[indices[i]].stem, strlen(ds->samples[indices[i]].stem) + 1);
    return h;
}

gs_status gs_stats_compute(const gs_dataset *ds, const int64_t *indices, int64_t n, int workers, FILE *progress,
                           gs_band_stats *out, gs_error *err) {
    gs_loader_config cfg = {.dataset = ds, .indices = indices, .n_indices = n, .batch_size = 32,
                            .workers = workers > 0 ? workers : 1, .epochs = 1};
    gs_loader *loader;
    gs_status st = gs_loader_create(&cfg, &loader, err);
    if (st != GS_OK) return st;
    gs_stats_accumulator acc;
    gs_stats_begin(&acc, ds->bands);
    int dates = ds->dates > 0 ? ds->dates : 1;
    int64_t plane = ds->height * ds->width, floats = gs_dataset_sample_floats(ds), done = 0;
    gs_progress_lines lines;
    gs_progress_lines_begin(&lines, progress);
    const gs_batch *b;
    while ((st = gs_loader_next(loader, &b, err)) == GS_OK && b) {
        for (int i = 0; i < b->n; i++)
            gs_stats_add(&acc, b->views[0].pixels + i * floats, dates, plane, ds->samples[b->indices[i]].stem);
        done += b->n;
        if (gs_progress_lines_due(&lines))
            fprintf(progress, "band statistics: %lld/%lld samples\n", (long long)done, (long long)n);
    }
    gs_loader_destroy(loader);
    if (st == GS_OK) gs_stats_end(&acc, out);
    if (st == GS_OK && progress)
        fprintf(progress, "band statistics: %lld samples in %.1f s\n", (long long)n,
                gs_progress_lines_elapsed(&lines));
    return st;
}

/* ---- the text file --------------------------------------------------- */

gs_status gs_stats_save(const char *path, const gs_dataset *ds, const gs_source_fingerprint *fp,
                        const gs_band_stats *s, gs_error *err) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return gs_error_set(err, GS_ERR_IO, "cannot write band statistics %s: %s", path, strerror(errno));
    (void)fchmod(fd, 0644); /* mkstemp's 0600 would hide the file from other users */
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return gs_error_set(err, GS_ERR_IO, "cannot write band statistics %s: %s", path, strerror(errno));
    }
    fprintf(f, STATS_HEADER "\nformat %s\nroot %s\n", ds->format && ds->format->name ? ds->format->name : "-",
            ds->root ? ds->root : "-");
    fprintf(f, "fingerprint %" PRId64 " %" PRId64 " %" PRId64 "\n", fp->files, fp->bytes, fp->newest_mtime_ns);
    fprintf(f, "samples %" PRId64 " %016" PRIx64 "\nvalues %" PRId64 "\nbands %d\n", s->samples, s->samples_hash,
            s->values, s->bands);
    for (int b = 0; b < s->bands; b++) {
        const char *name = b < ds->bands && ds->band_info[b].name[0] ? ds->band_info[b].name : "-";
        fprintf(f, "band %d %s %.17g %.17g\n", b, name, s->mean[b], s->std[b]);
    }
    if (fclose(f) != 0) {
        int e = errno;
        unlink(tmp);
        return gs_error_set(err, GS_ERR_IO, "cannot write band statistics %s: %s", path, strerror(e));
    }
    return gs_commit_file(tmp, path, err);
}

gs_status gs_stats_load(const char *path, gs_band_stats *out, gs_source_fingerprint *fp, gs_error *err) {
    memset(out, 0, sizeof *out);
    memset(fp, 0, sizeof *fp);
    FILE *f = fopen(path, "r");
    if (!f) return gs_error_set(err, GS_ERR_IO, "cannot open band statistics %s: %s", path, strerror(errno));
    char line[4200];
    const char *bad = NULL;
    int bands_seen = 0;
    if (!fgets(line, sizeof line, f) || strncmp(line, STATS_HEADER, strlen(STATS_HEADER))) bad = "no '" STATS_HEADER "' header";
    while (!bad && fgets(line, sizeof line, f)) {
        int b, end = 0;
        char name[64];
        double mean, std;
        if (!strncmp(line, "format ", 7) || !strncmp(line, "root ", 5)) continue;
        if (sscanf(line, "fingerprint %" SCNd64 " %" SCNd64 " %" SCNd64, &fp->files, &fp->bytes, &fp->newest_mtime_ns) == 3)
            continue;
        if (sscanf(line, "samples %" SCNd64 " %" SCNx64, &out->samples, &out->samples_hash) == 2) continue;
        if (sscanf(line, "values %" SCNd64, &out->values) == 1) continue;
        if (sscanf(line, "bands %d", &out->bands) == 1) {
            if (out->bands < 1 || out->bands > GS_MAX_BANDS) bad = "band count out of range";
            continue;
        }
        /* sscanf reads "nan" and "inf", and values float cannot hold
         * (1e300): the loader normalizes with float copies, where they
         * would turn every pixel into NaN or infinity.  Nothing may follow
         * the numbers (a damaged line that still starts with them). */
        if (sscanf(line, "band %d %63s %lf %lf %n", &b, name, &mean, &std, &end) == 4 && line[end] == '\0' &&
            b == bands_seen && b < out->bands && isfinite(mean) && isfinite(std) && fabs(mean) <= FLT_MAX &&
            std >= 0 && std <= FLT_MAX) {
            out->mean[b] = mean;
            out->std[b] = std;
            bands_seen++;
            continue;
        }
        bad = "an unreadable line";
    }
    fclose(f);
    if (!bad && (out->bands == 0 || bands_seen != out->bands || out->values <= 0)) bad = "missing lines (truncated?)";
    if (bad)
        return gs_error_set(err, GS_ERR_FORMAT, "band statistics %s are malformed: %s (delete the file to recompute)",
                            path, bad);
    return GS_OK;
}

gs_status gs_stats_get(const gs_dataset *ds, const char *cache_dir, int workers, FILE *progress, gs_band_stats *out,
                       gs_error *err) {
    int64_t *indices, n;
    gs_status st = gs_stats_training_indices(ds, &indices, &n, err);
    if (st != GS_OK) return st;
    uint64_t hash = gs_stats_selection_hash(ds, indices, n);
    gs_band_stats stored;
    bool has_stored = ds->format && ds->format->stored_stats && ds->format->stored_stats(ds, &stored);
    if (has_stored && stored.bands == ds->bands && stored.samples == n && stored.samples_hash == hash) {
        free(indices);
        *out = stored;
        return GS_OK;
    }
    gs_source_fingerprint fp, old_fp;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%016" PRIx64 ".stats", cache_dir, ds->format->name, gs_dataset_key(ds));
    st = gs_source_fingerprint_compute(ds, &fp, err);
    if (st == GS_OK && access(path, F_OK) == 0) {
        st = gs_stats_load(path, &stored, &old_fp, err);
        if (st == GS_OK && stored.bands == ds->bands && stored.samples == n && stored.samples_hash == hash &&
            !memcmp(&fp, &old_fp, sizeof fp)) {
            free(indices);
            *out = stored;
            return GS_OK;
        }
    }
    if (st == GS_OK) st = gs_stats_compute(ds, indices, n, workers, progress, out, err);
    free(indices);
    if (st != GS_OK) return st;
    /* The file only saves the next run a pass over the data: when it
     * cannot be written (a full disk), that is said and the statistics
     * computed here are used. */
    gs_error unsaved = {0};
    if (gs_cache_make_dir(cache_dir, &unsaved) != GS_OK || gs_stats_save(path, ds, &fp, out, &unsaved) != GS_OK)
        fprintf(progress ? progress : stderr, "band statistics: %s; going on without storing them\n", unsaved.message);
    return GS_OK;
}

gs_status gs_stats_get_in(const gs_dataset *ds, const char *dir, int workers, FILE *progress, gs_band_stats *out,
                          gs_error *err) {
    char buf[4000];
    if (dir)
        snprintf(buf, sizeof buf, "%s", dir);
    else
        gs_cache_default_dir(buf, sizeof buf);
    return gs_stats_get(ds, buf, workers, progress, out, err); /* it makes the folder, or says it cannot */
}
