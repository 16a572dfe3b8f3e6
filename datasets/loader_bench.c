#include "loader_bench.h"
#include "core/clock.h"

#include <string.h>
#include <time.h>

#include "loader.h"

gs_status gs_loader_bench(const gs_dataset *ds, const gs_loader_bench_options *opt_in, FILE *progress,
                          gs_loader_bench_result *out, gs_error *err) {
    gs_loader_bench_options opt = {0};
    if (opt_in) opt = *opt_in;
    memset(out, 0, sizeof *out);
    int batches = opt.batches > 0 ? opt.batches : 50;
    int views = opt.views > 0 ? opt.views : 2;
    const char *augment = opt.augment ? opt.augment : "simclr";
    if (views > GS_LOADER_MAX_VIEWS)
        return gs_error_set(err, GS_ERR_ARGUMENT, "bench loader: %d views (at most %d)", views, GS_LOADER_MAX_VIEWS);
    gs_loader_config cfg = {.dataset = ds, .batch_size = opt.batch_size > 0 ? opt.batch_size : 256,
                            .workers = opt.workers > 0 ? opt.workers : 2, .prefetch = opt.prefetch, .shuffle = true,
                            .seed = opt.seed, .n_views = views, .skip_bad = opt.skip_bad};
    int size = opt.size > 0 ? opt.size : (int)(ds->height < ds->width ? ds->height : ds->width);
    for (int v = 0; v < views; v++) {
        gs_status st = gs_augment_preset(augment, ds->bands, size, &cfg.views[v], err);
        if (st != GS_OK) return st;
    }
    /* Normalization costs the same whatever the statistics: unit ones
     * avoid a pass over the data before timing. */
    gs_band_stats unit = {.bands = ds->bands};
    for (int b = 0; b < ds->bands; b++) unit.std[b] = 1;
    cfg.normalize = &unit;
    gs_loader *loader;
    gs_status st = gs_loader_create(&cfg, &loader, err);
    if (st != GS_OK) return st;
    if (progress)
        fprintf(progress, "bench loader: %s (%lld samples, %d bands, %lldx%lld), batch %d, %d workers, %d x '%s' views of %dx%d\n",
                ds->root, (long long)ds->n_samples, ds->bands, (long long)ds->height, (long long)ds->width, cfg.batch_size,
                cfg.workers, views, augment, size, size);
    const gs_batch *b;
    st = gs_loader_next(loader, &b, err); /* warm-up, not timed */
    gs_cache_lock_stats lock0 = {0};
    out->cache = gs_cache_lock_stats_get(ds, &lock0);
    double t0 = gs_now_s(), last = t0;
    int64_t last_images = 0;
    for (int i = 0; st == GS_OK && i < batches; i++) {
        st = gs_loader_next(loader, &b, err);
        if (st != GS_OK || !b) break;
        out->batches++;
        out->images += b->n;
        out->skipped += b->skipped;
        double t = gs_now_s();
        if (progress && (t - last >= 2.0 || i + 1 == batches)) {
            fprintf(progress, "  batch %d/%d: %.0f img/s\n", i + 1, batches, (double)(out->images - last_images) / (t - last));
            last = t;
            last_images = out->images;
        }
    }
    out->seconds = gs_now_s() - t0;
    out->images_per_s = out->seconds > 0 ? (double)out->images / out->seconds : 0;
    if (out->cache) {
        gs_cache_lock_stats lock1;
        gs_cache_lock_stats_get(ds, &lock1);
        out->lock = (gs_cache_lock_stats){lock1.reads - lock0.reads, lock1.wait_s - lock0.wait_s, lock1.held_s - lock0.held_s};
    }
    gs_loader_destroy(loader);
    if (st != GS_OK) return st;
    if (progress) {
        fprintf(progress, "loader: %lld images in %.2f s: %.0f img/s (%d workers)\n", (long long)out->images, out->seconds,
                out->images_per_s, cfg.workers);
        if (out->cache)
            fprintf(progress,
                    "cache lock: %lld reads, %.3f s waiting, %.3f s held (%.1f us per read), %.1f%% of worker time waiting\n",
                    (long long)out->lock.reads, out->lock.wait_s, out->lock.held_s,
                    out->lock.reads ? 1e6 * out->lock.held_s / (double)out->lock.reads : 0.0,
                    out->seconds > 0 ? 100.0 * out->lock.wait_s / (out->seconds * cfg.workers) : 0.0);
    }
    return GS_OK;
}
