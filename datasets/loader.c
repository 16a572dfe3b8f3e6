#include "loader.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Batches are numbered by a sequence number seq = epoch * per_epoch + batch
 * and assembled in a ring of slots (slot seq % n_slots).  Work is handed
 * out per sample, oldest batch first, so a batch is complete as early as
 * possible and any number of workers share it.  Batches are opened and
 * delivered in sequence order, which is what makes the ring safe: a slot is
 * reopened only after the consumer released the batch it held. */
enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_HELD };

typedef struct slot {
    enum slot_state state;
    int64_t seq;
    int n, next_pos, done;
    int64_t *indices;
    bool *bad;
    int32_t *labels;
    float *targets;
    int32_t *acquired; /* n x dates x 3, when the format knows dates */
    float *pixels[GS_LOADER_MAX_VIEWS];
    int32_t *masks[GS_LOADER_MAX_VIEWS];
    gs_augment_record *records[GS_LOADER_MAX_VIEWS];
    gs_error err; /* the error of the lowest failing position: the same whoever decoded first */
    int err_pos;
    gs_batch batch;
} slot;

typedef struct worker {
    struct gs_loader *loader;
    pthread_t thread;
    bool started;
    float *raw;
    int32_t *mask;
    gs_augment_workspace ws;
} worker;

struct gs_loader {
    const gs_dataset *ds;
    int64_t *indices, n; /* the samples in their unshuffled order */
    int batch_size;     /* samples this loader yields per batch: its shard of global_batch */
    int global_batch;   /* the batch the epoch is cut into */
    int64_t shard_first; /* where this loader's shard starts within a global batch */
    bool shuffle, skip_bad, segmentation, multilabel;
    uint64_t seed;
    int64_t per_epoch;
    int n_views;
    gs_augment_config views[GS_LOADER_MAX_VIEWS];
    int view_h[GS_LOADER_MAX_VIEWS], view_w[GS_LOADER_MAX_VIEWS];
    int64_t view_floats[GS_LOADER_MAX_VIEWS];
    bool normalize;
    float mean[GS_MAX_BANDS], std[GS_MAX_BANDS];
    int acquired_dates; /* dates per sample whose acquisition dates batches carry; 0: none */

    pthread_mutex_t mu;
    pthread_cond_t work, ready;
    bool sync_ready;
    slot *slots;
    int n_slots;
    int64_t next_open, next_deliver, end; /* sequence numbers */
    int64_t perm_epoch;
    int64_t *perm;
    int held; /* the slot the consumer holds, or -1 */
    bool stop;
    gs_error failed; /* sticky: once a batch failed, every later call reports it */
    int64_t skipped;
    worker *workers;
    int n_workers;
};

/* splitmix64's finalizer: a bijective mix, so distinct (seed, epoch, index)
 * triples give unrelated streams. */
static uint64_t mix64(uint64_t z) {
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static gs_rng sample_rng(uint64_t seed, int64_t epoch, int64_t index) {
    gs_rng rng;
    gs_rng_seed(&rng, mix64(mix64(mix64(seed ^ 0x5A17ULL) ^ (uint64_t)epoch) ^ (uint64_t)index));
    return rng;
}

/* The order of one epoch (call with the lock held). */
static void make_order(gs_loader *l, int64_t epoch) {
    memcpy(l->perm, l->indices, (size_t)l->n * sizeof *l->perm);
    if (l->shuffle) {
        gs_rng rng;
        gs_rng_seed(&rng, mix64(mix64(l->seed ^ 0x5EEDULL) ^ (uint64_t)epoch));
        for (int64_t i = l->n - 1; i > 0; i--) {
            int64_t j = (int64_t)gs_rng_below(&rng, (uint64_t)i + 1), t = l->perm[i];
            l->perm[i] = l->perm[j], l->perm[j] = t;
        }
    }
    l->perm_epoch = epoch;
}

/* Opens the next batch into its slot when that slot is free (lock held). */
static bool open_batch(gs_loader *l) {
    if (l->next_open >= l->end) return false;
    slot *s = &l->slots[l->next_open % l->n_slots];
    if (s->state != SLOT_FREE) return false;
    int64_t epoch = l->next_open / l->per_epoch, b = l->next_open % l->per_epoch;
    if (epoch != l->perm_epoch) make_order(l, epoch);
    int64_t first = b * l->global_batch + l->shard_first, n = l->n - first;
    s->n = (int)(n < l->batch_size ? n : l->batch_size);
    memcpy(s->indices, l->perm + first, (size_t)s->n * sizeof *s->indices);
    memset(s->bad, 0, (size_t)s->n * sizeof *s->bad);
    s->seq = l->next_open++;
    s->next_pos = s->done = 0;
    memset(&s->err, 0, sizeof s->err);
    s->err_pos = INT_MAX;
    s->state = SLOT_FILLING;
    pthread_cond_broadcast(&l->work);
    return true;
}

static slot *take_task(gs_loader *l, int *pos) {
    for (int64_t seq = l->next_deliver; seq < l->next_open; seq++) {
        slot *s = &l->slots[seq % l->n_slots];
        if (s->state == SLOT_FILLING && s->seq == seq && s->next_pos < s->n) {
            *pos = s->next_pos++;
            return s;
        }
    }
    return NULL;
}

/* Makes sure a read error names the sample's file. */
static void name_file(gs_error *err, const char *path) {
    if (strstr(err->message, path)) return;
    char message[sizeof err->message + 4096];
    snprintf(message, sizeof message, "%s: %s", path, err->message);
    size_t len = strlen(message);
    if (len >= sizeof err->message) len = sizeof err->message - 1;
    memcpy(err->message, message, len);
    err->message[len] = '\0';
}

static gs_status load_sample(gs_loader *l, worker *w, slot *s, int pos, int64_t epoch, gs_error *err) {
    const gs_dataset *ds = l->ds;
    int64_t index = s->indices[pos];
    const gs_sample *sample = &ds->samples[index];
    gs_sample_data data = {.pixels = w->raw, .mask = l->segmentation ? w->mask : NULL};
    gs_status st = gs_dataset_read(ds, index, &data, err);
    if (st == GS_OK) st = gs_sample_check_finite(ds, index, w->raw, err);
    if (st != GS_OK) {
        if (err->status == GS_OK) gs_error_set(err, st, "cannot read this sample");
        name_file(err, sample->path);
        return st;
    }
    gs_augment_input in = {.pixels = w->raw, .mask = data.mask, .dates = ds->dates > 0 ? ds->dates : 1,
                           .bands = ds->bands, .height = (int)ds->height, .width = (int)ds->width,
                           .mean = l->normalize ? l->mean : NULL, .std = l->normalize ? l->std : NULL};
    gs_rng rng = sample_rng(l->seed, epoch, index);
    for (int v = 0; v < l->n_views; v++) {
        int64_t plane = (int64_t)l->view_h[v] * l->view_w[v];
        st = gs_augment_apply(&l->views[v], &in, &rng, &w->ws, s->pixels[v] + pos * l->view_floats[v],
                              s->masks[v] ? s->masks[v] + pos * plane : NULL, &s->records[v][pos], err);
        if (st != GS_OK) return st;
    }
    s->labels[pos] = sample->label;
    if (s->acquired) gs_dataset_sample_dates(ds, index, s->acquired + (int64_t)pos * 3 * l->acquired_dates);
    if (l->multilabel)
        for (int c = 0; c < ds->n_classes; c++)
            s->targets[(int64_t)pos * ds->n_classes + c] = (float)((sample->labels >> c) & 1);
    return GS_OK;
}

static bool is_bad_file(gs_status st) { return st == GS_ERR_IO || st == GS_ERR_FORMAT || st == GS_ERR_MISMATCH; }

static void *worker_main(void *arg) {
    worker *w = arg;
    gs_loader *l = w->loader;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        int pos;
        slot *s = take_task(l, &pos);
        if (!s) {
            if (!open_batch(l)) pthread_cond_wait(&l->work, &l->mu);
            continue;
        }
        int64_t epoch = s->seq / l->per_epoch;
        pthread_mutex_unlock(&l->mu);
        gs_error err = {0};
        gs_status st = load_sample(l, w, s, pos, epoch, &err);
        pthread_mutex_lock(&l->mu);
        if (st != GS_OK && l->skip_bad && is_bad_file(st)) {
            s->bad[pos] = true;
        } else if (st != GS_OK && pos < s->err_pos) {
            s->err = err;
            s->err_pos = pos;
        }
        if (++s->done == s->n) {
            s->state = SLOT_READY;
            pthread_cond_broadcast(&l->ready);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Closes the gaps skipped samples left, keeping the order. */
static int compact(gs_loader *l, slot *s) {
    int kept = 0, n_classes = l->ds->n_classes;
    for (int p = 0; p < s->n; p++) {
        if (s->bad[p]) continue;
        if (p != kept) {
            s->indices[kept] = s->indices[p];
            s->labels[kept] = s->labels[p];
            if (s->acquired)
                memcpy(s->acquired + (int64_t)kept * 3 * l->acquired_dates,
                       s->acquired + (int64_t)p * 3 * l->acquired_dates, (size_t)(3 * l->acquired_dates) * sizeof(int32_t));
            if (l->multilabel)
                memcpy(s->targets + (int64_t)kept * n_classes, s->targets + (int64_t)p * n_classes,
                       (size_t)n_classes * sizeof(float));
            for (int v = 0; v < l->n_views; v++) {
                int64_t plane = (int64_t)l->view_h[v] * l->view_w[v];
                memcpy(s->pixels[v] + kept * l->view_floats[v], s->pixels[v] + p * l->view_floats[v],
                       (size_t)l->view_floats[v] * sizeof(float));
                if (s->masks[v]) memcpy(s->masks[v] + kept * plane, s->masks[v] + p * plane, (size_t)plane * sizeof(int32_t));
                s->records[v][kept] = s->records[v][p];
            }
        }
        kept++;
    }
    return s->n - kept;
}

gs_status gs_loader_next(gs_loader *l, const gs_batch **batch, gs_error *err) {
    *batch = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->held >= 0) {
        l->slots[l->held].state = SLOT_FREE;
        l->held = -1;
        pthread_cond_broadcast(&l->work);
    }
    if (l->failed.status != GS_OK || l->next_deliver >= l->end) {
        pthread_mutex_unlock(&l->mu);
        if (l->failed.status == GS_OK) return GS_OK;
        return gs_error_set(err, l->failed.status, "%s", l->failed.message);
    }
    int index = (int)(l->next_deliver % l->n_slots);
    slot *s = &l->slots[index];
    while (!(s->state == SLOT_READY && s->seq == l->next_deliver)) pthread_cond_wait(&l->ready, &l->mu);
    if (s->err.status != GS_OK) {
        l->failed = s->err;
        pthread_mutex_unlock(&l->mu);
        return gs_error_set(err, l->failed.status, "%s", l->failed.message);
    }
    s->state = SLOT_HELD;
    l->held = index;
    l->next_deliver++;
    pthread_mutex_unlock(&l->mu);

    gs_batch *b = &s->batch;
    b->skipped = compact(l, s);
    l->skipped += b->skipped;
    b->n = s->n - b->skipped;
    b->epoch = (int)(s->seq / l->per_epoch);
    b->batch = s->seq % l->per_epoch;
    *batch = b;
    return GS_OK;
}

void gs_loader_position(const gs_loader *l, int *epoch, int64_t *batch) {
    *epoch = (int)(l->next_deliver / l->per_epoch);
    *batch = l->next_deliver % l->per_epoch;
}

int64_t gs_loader_batches_per_epoch(const gs_loader *l) { return l->per_epoch; }
int64_t gs_loader_skipped(const gs_loader *l) { return l->skipped; }

/* ---- setup ----------------------------------------------------------- */

static gs_status check_config(const gs_loader_config *c, gs_error *err) {
    const gs_dataset *ds = c->dataset;
    if (!ds || !ds->format || !ds->format->read || ds->n_samples <= 0)
        return gs_error_set(err, GS_ERR_ARGUMENT, "loader: no open dataset with samples");
    if (ds->bands < 1 || ds->bands > GS_MAX_BANDS || ds->height < 1 || ds->width < 1 || ds->height > INT_MAX ||
        ds->width > INT_MAX)
        return gs_error_set(err, GS_ERR_ARGUMENT, "loader: dataset %s has %d bands of %lldx%lld", ds->root, ds->bands,
                            (long long)ds->height, (long long)ds->width);
    if (c->batch_size < 1 || c->workers < 1 || c->prefetch < 0 || c->epochs < 0 || c->start_epoch < 0 ||
        c->start_batch < 0)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "loader: batch size %d, %d workers, prefetch %d, epochs %d, start %d/%lld (batch size and "
                            "workers >= 1, the rest >= 0)",
                            c->batch_size, c->workers, c->prefetch, c->epochs, c->start_epoch, (long long)c->start_batch);
    if (c->shards > 1 && (c->shard < 0 || c->shard >= c->shards || c->batch_size % c->shards || !c->drop_last))
        return gs_error_set(err, GS_ERR_ARGUMENT, "loader: shard %d of %d of batches of %d (the batch must divide into "
                            "the shards, and the last smaller batch be dropped)", c->shard, c->shards, c->batch_size);
    if (c->n_views < 0 || c->n_views > GS_LOADER_MAX_VIEWS)
        return gs_error_set(err, GS_ERR_ARGUMENT, "loader: %d views (at most %d)", c->n_views, GS_LOADER_MAX_VIEWS);
    if (c->indices && c->n_indices <= 0) return gs_error_set(err, GS_ERR_ARGUMENT, "loader: an empty sample selection");
    for (int64_t i = 0; c->indices && i < c->n_indices; i++)
        if (c->indices[i] < 0 || c->indices[i] >= ds->n_samples)
            return gs_error_set(err, GS_ERR_ARGUMENT, "loader: sample index %lld is outside 0..%lld",
                                (long long)c->indices[i], (long long)ds->n_samples - 1);
    if (c->normalize && c->normalize->bands != ds->bands)
        return gs_error_set(err, GS_ERR_MISMATCH, "loader: statistics for %d bands, dataset %s has %d",
                            c->normalize->bands, ds->root, ds->bands);
    if (ds->task == GS_TASK_MULTILABEL && (ds->n_classes < 1 || ds->n_classes > 64))
        return gs_error_set(err, GS_ERR_ARGUMENT, "loader: %d multi-label classes (1 to 64)", ds->n_classes);
    for (int v = 0; v < c->n_views; v++) {
        gs_status st = gs_augment_check(&c->views[v], ds->bands, (int)ds->height, (int)ds->width, err);
        if (st != GS_OK) return st;
    }
    return GS_OK;
}

static gs_status alloc_slot(gs_loader *l, slot *s, gs_error *err) {
    size_t n = (size_t)l->batch_size;
    bool ok = (s->indices = malloc(n * sizeof *s->indices)) && (s->bad = malloc(n * sizeof *s->bad)) &&
              (s->labels = malloc(n * sizeof *s->labels));
    if (ok && l->multilabel) ok = (s->targets = calloc(n * (size_t)l->ds->n_classes, sizeof *s->targets)) != NULL;
    if (ok && l->acquired_dates > 0)
        ok = (s->acquired = calloc(n * 3 * (size_t)l->acquired_dates, sizeof *s->acquired)) != NULL;
    for (int v = 0; ok && v < l->n_views; v++) {
        int64_t plane = (int64_t)l->view_h[v] * l->view_w[v];
        ok = (s->pixels[v] = malloc(n * (size_t)l->view_floats[v] * sizeof(float))) &&
             (s->records[v] = calloc(n, sizeof(gs_augment_record))) &&
             (!l->segmentation || (s->masks[v] = malloc(n * (size_t)plane * sizeof(int32_t))));
        gs_batch_view *bv = &s->batch.views[v];
        bv->height = l->view_h[v];
        bv->width = l->view_w[v];
        bv->pixels = s->pixels[v];
        bv->masks = s->masks[v];
        bv->records = s->records[v];
    }
    gs_batch *b = &s->batch;
    b->dates = l->ds->dates > 0 ? l->ds->dates : 1;
    b->bands = l->ds->bands;
    b->n_views = l->n_views;
    b->indices = s->indices;
    b->labels = s->labels;
    b->targets = s->targets;
    b->acquired = s->acquired;
    b->n_classes = l->ds->n_classes;
    return ok ? GS_OK : gs_error_set(err, GS_ERR_MEMORY, "loader: out of memory for %d batches of %d samples", l->n_slots,
                                     l->batch_size);
}

static void free_slot(slot *s) {
    free(s->indices);
    free(s->bad);
    free(s->labels);
    free(s->targets);
    free(s->acquired);
    for (int v = 0; v < GS_LOADER_MAX_VIEWS; v++) {
        free(s->pixels[v]);
        free(s->masks[v]);
        free(s->records[v]);
    }
}

gs_status gs_loader_create(const gs_loader_config *c, gs_loader **out, gs_error *err) {
    *out = NULL;
    gs_status st = check_config(c, err);
    if (st != GS_OK) return st;
    const gs_dataset *ds = c->dataset;
    int64_t n = c->indices ? c->n_indices : ds->n_samples;
    int64_t per_epoch = c->drop_last ? n / c->batch_size : (n + c->batch_size - 1) / c->batch_size;
    if (per_epoch == 0)
        return gs_error_set(err, GS_ERR_ARGUMENT, "loader: drop_last with batch size %d leaves no batch of %lld samples",
                            c->batch_size, (long long)n);
    if (c->start_batch >= per_epoch || (c->epochs > 0 && c->start_epoch > c->epochs))
        return gs_error_set(err, GS_ERR_ARGUMENT, "loader: resume position %d/%lld is past the run (%lld batches per epoch)",
                            c->start_epoch, (long long)c->start_batch, (long long)per_epoch);
    gs_loader *l = calloc(1, sizeof *l);
    if (!l) return gs_error_set(err, GS_ERR_MEMORY, "loader: out of memory");
    l->ds = ds;
    l->n = n;
    l->per_epoch = per_epoch;
    l->global_batch = c->batch_size;
    l->batch_size = c->shards > 1 ? c->batch_size / c->shards : c->batch_size;
    l->shard_first = c->shards > 1 ? (int64_t)c->shard * l->batch_size : 0;
    l->shuffle = c->shuffle;
    l->skip_bad = c->skip_bad;
    l->seed = c->seed;
    l->segmentation = ds->task == GS_TASK_SEGMENTATION;
    l->multilabel = ds->task == GS_TASK_MULTILABEL;
    l->held = -1;
    l->perm_epoch = -1;
    l->next_open = l->next_deliver = c->start_epoch * l->per_epoch + c->start_batch;
    l->end = c->epochs > 0 ? c->epochs * l->per_epoch : INT64_MAX;
    l->n_views = c->n_views > 0 ? c->n_views : 1;
    int dates = ds->dates > 0 ? ds->dates : 1;
    for (int v = 0; v < l->n_views; v++) {
        l->views[v] = c->n_views > 0 ? c->views[v] : gs_augment_identity();
        l->view_h[v] = l->views[v].out_height ? l->views[v].out_height : (int)ds->height;
        l->view_w[v] = l->views[v].out_width ? l->views[v].out_width : (int)ds->width;
        l->view_floats[v] = (int64_t)dates * ds->bands * l->view_h[v] * l->view_w[v];
    }
    if (c->normalize) {
        l->normalize = true;
        gs_stats_to_float(c->normalize, l->mean, l->std);
    }
    l->n_slots = (c->prefetch > 0 ? c->prefetch : 2) + 1;
    l->n_workers = c->workers;
    l->indices = malloc((size_t)l->n * sizeof *l->indices);
    l->perm = malloc((size_t)l->n * sizeof *l->perm);
    l->slots = calloc((size_t)l->n_slots, sizeof *l->slots);
    l->workers = calloc((size_t)l->n_workers, sizeof *l->workers);
    if (!l->indices || !l->perm || !l->slots || !l->workers) {
        gs_loader_destroy(l);
        return gs_error_set(err, GS_ERR_MEMORY, "loader: out of memory for %lld sample indices", (long long)l->n);
    }
    for (int64_t i = 0; i < l->n; i++) l->indices[i] = c->indices ? c->indices[i] : i;
    /* A format that knows its samples' dates passes them with every batch
     * (SatMAE's temporal encoding). */
    if (ds->dates > 0 && l->n > 0) {
        int32_t *probe = malloc((size_t)(3 * ds->dates) * sizeof *probe);
        if (probe && gs_dataset_sample_dates(ds, l->indices[0], probe)) l->acquired_dates = ds->dates;
        free(probe);
    }
    for (int i = 0; i < l->n_slots && st == GS_OK; i++) st = alloc_slot(l, &l->slots[i], err);
    for (int i = 0; i < l->n_workers && st == GS_OK; i++) {
        worker *w = &l->workers[i];
        w->loader = l;
        w->raw = malloc((size_t)gs_dataset_read_floats(ds) * sizeof(float));
        w->mask = l->segmentation ? malloc((size_t)(ds->height * ds->width) * sizeof(int32_t)) : NULL;
        if (!w->raw || (l->segmentation && !w->mask))
            st = gs_error_set(err, GS_ERR_MEMORY, "loader: out of memory for worker buffers");
    }
    if (st == GS_OK && (pthread_mutex_init(&l->mu, NULL) != 0 || pthread_cond_init(&l->work, NULL) != 0 ||
                        pthread_cond_init(&l->ready, NULL) != 0))
        st = gs_error_set(err, GS_ERR_INTERNAL, "loader: cannot create its lock");
    if (st != GS_OK) {
        gs_loader_destroy(l);
        return st;
    }
    l->sync_ready = true;
    for (int i = 0; i < l->n_workers; i++) {
        if (pthread_create(&l->workers[i].thread, NULL, worker_main, &l->workers[i]) != 0) {
            gs_loader_destroy(l);
            return gs_error_set(err, GS_ERR_INTERNAL, "loader: cannot start worker thread %d of %d", i + 1, c->workers);
        }
        l->workers[i].started = true;
    }
    *out = l;
    return GS_OK;
}

void gs_loader_destroy(gs_loader *l) {
    if (!l) return;
    if (l->sync_ready) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_broadcast(&l->work);
        pthread_mutex_unlock(&l->mu);
    }
    for (int i = 0; l->workers && i < l->n_workers; i++) {
        worker *w = &l->workers[i];
        if (w->started) pthread_join(w->thread, NULL);
        free(w->raw);
        free(w->mask);
        gs_augment_workspace_free(&w->ws);
    }
    if (l->sync_ready) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->work);
        pthread_cond_destroy(&l->ready);
    }
    for (int i = 0; l->slots && i < l->n_slots; i++) free_slot(&l->slots[i]);
    free(l->slots);
    free(l->workers);
    free(l->indices);
    free(l->perm);
    free(l);
}

gs_tensor *gs_batch_view_tensor(gs_context *ctx, const gs_batch *b, int v) {
    const gs_batch_view *view = &b->views[v];
    if (b->dates > 1) /* seasonal data: every date of each location */
        return gs_tensor_wrap(ctx, view->pixels, GS_DIMS(b->n, b->dates, b->bands, view->height, view->width));
    return gs_tensor_wrap(ctx, view->pixels, GS_DIMS(b->n, b->bands, view->height, view->width));
}
