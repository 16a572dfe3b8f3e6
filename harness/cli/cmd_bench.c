/* geossl bench: training/inference throughput and per-kernel timings. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "bench/instruction_count.h"
#include "bench/kernel_bench.h"
#include "bench/kernel_count.h"
#include "bench/train_bench.h"
#include "cache_dir.h"
#include "commands.h"
#include "core/context.h"
#include "dataset.h"
#include "json_out.h"
#include "loader.h"
#include "loader_bench.h"
#include "options.h"

static int bench_train(int argc, char **argv, bool inference) {
    const char *backbone = "resnet18", *stem = "imagenet";
    long long size = 64, bands = 3, batch = 64, threads = 0, warmup = 3, steps = 7, patch = 8, seed = 0;
    bool json = false;
    const gs_option options[] = {
        {"backbone", GS_OPT_STRING, &backbone, "NAME", "encoder [resnet18]", GS_CHOICES(GS_BACKBONE_NAMES)},
        {"size", GS_OPT_INT, &size, "PX", "input size [64]", GS_RANGE(8, 16384)},
        {"bands", GS_OPT_INT, &bands, "N", "input bands [3]", GS_RANGE(1, 1024)},
        {"batch", GS_OPT_INT, &batch, "N", "batch size [64]", GS_BATCH_RANGE},
        {"threads", GS_OPT_INT, &threads, "N", "threads (0: all cores) [0]", GS_THREADS_RANGE},
        {"warmup", GS_OPT_INT, &warmup, "N", "untimed steps first [3]", GS_RANGE(0, 100000)},
        {"steps", GS_OPT_INT, &steps, "N", "timed steps; the median is reported [7]", GS_RANGE(1, 100000)},
        {"patch", GS_OPT_INT, &patch, "N", "ViT patch size [8]", GS_PATCH_RANGE},
        {"stem", GS_OPT_STRING, &stem, "NAME", "ResNet stem [imagenet]", GS_CHOICES(GS_STEM_NAMES)},
        {"seed", GS_OPT_INT, &seed, "N", "random seed [0]", GS_SEED_RANGE},
        GS_JSON_OPTION(json),
    };
    const char *summary = inference ? "Times feature extraction (forward, eval mode, no gradients); prints the median img/s."
                                    : "Times training steps (forward, backward, SGD) after warm-up; prints the median img/s.";
    const gs_command_line line = {.command = inference ? "bench infer" : "bench train", .summary = summary,
                                  .options = options, .n_options = (int)(sizeof options / sizeof *options)};
    gs_parsed_args args;
    int parsed = gs_command_line_parse(&line, argc, argv, &args);
    if (parsed) return parsed == 1 ? 0 : 2;
    gs_context ctx;
    gs_context_options co = {.n_threads = (int)threads, .seed = (unsigned long long)seed};
    gs_context_init(&ctx, &co);
    gs_train_bench_config c = {
        .backbone = {.name = backbone, .bands = (int)bands, .img_size = (int)size, .patch = (int)patch,
                     .stem = (gs_stem)gs_option_choice(GS_STEM_NAMES, stem), .pos = GS_POS_LEARNED},
        .batch = (int)batch, .warmup_steps = (int)warmup, .steps = (int)steps, .inference = inference};
    gs_train_bench_result r;
    if (gs_train_bench(&ctx, &c, args.quiet ? NULL : stderr, &r) != GS_OK) {
        fprintf(stderr, "geossl bench: %s: %s\n", gs_status_name(ctx.status), ctx.error);
        gs_context_free(&ctx);
        return 1;
    }
    FILE *text = gs_cli_text_stream(json);
    const char *what = inference ? "inference" : "training";
    fprintf(text, "%s %s %lldpx %lld bands batch %lld threads %d\n", what, backbone, size, bands, batch, ctx.n_threads);
    fprintf(text, "parameters %lld\n", (long long)r.parameters);
    fprintf(text, "peak memory %.1f MiB\n", r.peak_rss_kb / 1024.0);
    fprintf(text, "  activations %.1f MiB, parameters %.1f, gradients %.1f, optimizer %.1f, kernel scratch %.1f\n",
            r.activations_peak / 1048576.0, r.parameters_bytes / 1048576.0, r.gradients_bytes / 1048576.0,
            r.optimizer_bytes / 1048576.0, r.scratch_bytes / 1048576.0);
    fprintf(text, "range %.1f .. %.1f img/s\n", r.min_img_per_s, r.max_img_per_s);
    fprintf(text, "%.1f img/s\n", r.median_img_per_s);
    int code = 0;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddStringToObject(o, "bench", what);
            cJSON_AddStringToObject(o, "backbone", backbone);
            if (!strncmp(backbone, "vit", 3)) cJSON_AddNumberToObject(o, "patch", (double)patch);
            else cJSON_AddStringToObject(o, "stem", stem);
            cJSON_AddNumberToObject(o, "size", (double)size);
            cJSON_AddNumberToObject(o, "bands", (double)bands);
            cJSON_AddNumberToObject(o, "batch", (double)batch);
            cJSON_AddNumberToObject(o, "threads", ctx.n_threads);
            cJSON_AddNumberToObject(o, "warmup_steps", (double)warmup);
            cJSON_AddNumberToObject(o, "steps", (double)steps);
            cJSON_AddNumberToObject(o, "parameters", (double)r.parameters);
            cJSON_AddNumberToObject(o, "peak_memory_mib", r.peak_rss_kb / 1024.0);
            cJSON_AddNumberToObject(o, "activations_mib", r.activations_peak / 1048576.0);
            cJSON_AddNumberToObject(o, "parameters_mib", r.parameters_bytes / 1048576.0);
            cJSON_AddNumberToObject(o, "gradients_mib", r.gradients_bytes / 1048576.0);
            cJSON_AddNumberToObject(o, "optimizer_mib", r.optimizer_bytes / 1048576.0);
            cJSON_AddNumberToObject(o, "kernel_scratch_mib", r.scratch_bytes / 1048576.0);
            gs_cli_json_add_number(o, "min_img_per_s", r.min_img_per_s);
            gs_cli_json_add_number(o, "max_img_per_s", r.max_img_per_s);
            gs_cli_json_add_number(o, "img_per_s", r.median_img_per_s);
        }
        code = gs_cli_json_emit(inference ? "bench infer" : "bench train", o) ? 0 : 1;
    }
    gs_context_free(&ctx);
    return code;
}

/* `bench kernels --json`: each timing as an object, printed as it comes. */
typedef struct kernel_json {
    int threads;
    bool ok;
} kernel_json;

static void emit_kernel_json(const gs_kernel_timing *t, void *user) {
    kernel_json *k = user;
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "bench", "kernels");
        cJSON_AddStringToObject(o, "op", t->op);
        cJSON_AddStringToObject(o, "shape", t->shape);
        cJSON_AddStringToObject(o, "pass", t->pass);
        cJSON_AddNumberToObject(o, "threads", k->threads);
        gs_cli_json_add_number(o, "ms", t->ms);
        gs_cli_json_add_number(o, "gflops", t->gflops);
        gs_cli_json_add_number(o, "gbs", t->gbs);
    }
    k->ok &= gs_cli_json_emit("bench kernels", o);
}

static int bench_kernels(int argc, char **argv) {
    long long threads = 0, repeats = 5;
    const char *only = NULL, *backend = NULL;
    bool json = false, count = false;
    const gs_option options[] = {
        {"threads", GS_OPT_INT, &threads, "N", "threads (0: all cores) [0]", GS_THREADS_RANGE},
        {"repeats", GS_OPT_INT, &repeats, "N", "timed repetitions per op; the median is reported [5]",
         GS_RANGE(1, 100000)},
        {"only", GS_OPT_STRING, &only, "TEXT", "only ops whose name contains TEXT", GS_ANY_TEXT},
        {"backend", GS_OPT_STRING, &backend, "NAME",
         "kernels of this backend (cpu: geossl's own; onednn: oneDNN's convolutions) [the build's default]",
         GS_ANY_TEXT},
        {"count", GS_OPT_FLAG, &count, "",
         "instructions per op and pass instead of times, counted by valgrind's callgrind at 1 thread with the CPU "
         "paths pinned (repeatable on a busy machine; compare two with geossl report --kernels-baseline A "
         "--kernels B --threshold 2)",
         GS_NO_VALUE},
        GS_JSON_OPTION(json),
    };
    int parsed = gs_options_parse("bench kernels",
                                  "Times every op's forward and backward at the shapes ResNet-18 (64 px, batch 64) and\n"
                                  "ViT-Tiny (patch 8, 64 px, batch 64) use; prints CSV (median ms, GFLOP/s, GB/s).",
                                  options, (int)(sizeof options / sizeof *options), argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
    const gs_backend *chosen = backend ? gs_backend_by_name(backend) : NULL;
    if (backend && !chosen) {
        fprintf(stderr, "geossl bench kernels: --backend %s is not built (this build has: %s)\n", backend,
                gs_backend_names());
        return 2;
    }
    if (count && json) {
        fprintf(stderr, "geossl bench kernels: --count writes CSV; --json is for timings\n");
        return 2;
    }
    if (count && !gs_instruction_count_running()) {
        /* This process starts the counted one: itself, under callgrind. */
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "geossl bench kernels: cannot find this program's path to run it under valgrind\n");
            return 1;
        }
        self[n] = '\0';
        gs_error err = {0};
        if (gs_kernel_count(self, only, backend, stdout, &err) != GS_OK) {
            fprintf(stderr, "geossl bench kernels: %s\n", err.message);
            return 1;
        }
        return 0;
    }
    gs_context ctx;
    gs_context_options co = {.n_threads = (int)threads, .backend = chosen};
    gs_context_init(&ctx, &co);
    if (count) { /* the counted process, under callgrind */
        gs_status status = gs_kernel_count_run(&ctx, only);
        if (status != GS_OK) fprintf(stderr, "geossl bench kernels: %s\n", ctx.error);
        gs_context_free(&ctx);
        return status == GS_OK ? 0 : 1;
    }
    kernel_json k = {.threads = ctx.n_threads, .ok = true};
    gs_status status = json ? gs_kernel_bench_each(&ctx, (int)repeats, only, emit_kernel_json, &k)
                            : gs_kernel_bench(&ctx, stdout, (int)repeats, only);
    if (status != GS_OK) fprintf(stderr, "geossl bench kernels: %s\n", ctx.error);
    gs_context_free(&ctx);
    return status == GS_OK && k.ok ? 0 : 1;
}

static int bench_loader(int argc, char **argv) {
    long long batches = 50, batch = 256, workers = 2, views = 2, size = 0, seed = 0;
    const char *augment = "simclr";
    bool skip_bad = false, cache = false, json = false;
    /* The names gs_augment_preset knows, NULL-terminated for GS_CHOICES. */
    const char *presets[32];
    int n_presets = 0;
    while (n_presets < 31 && gs_augment_preset_name(n_presets)) {
        presets[n_presets] = gs_augment_preset_name(n_presets);
        n_presets++;
    }
    presets[n_presets] = NULL;
    const gs_option options[] = {
        {"batches", GS_OPT_INT, &batches, "N", "timed batches [50]", GS_RANGE(1, 1000000)},
        {"batch", GS_OPT_INT, &batch, "N", "batch size [256]", GS_BATCH_RANGE},
        {"workers", GS_OPT_INT, &workers, "N", "loader threads [2]", GS_WORKERS_RANGE},
        {"views", GS_OPT_INT, &views, "N", "augmented views per sample [2]", GS_RANGE(1, GS_LOADER_MAX_VIEWS)},
        {"size", GS_OPT_INT, &size, "PX", "view size (0: the dataset's) [0]", GS_SIZE_RANGE},
        {"augment", GS_OPT_STRING, &augment, "NAME", "augmentation preset [simclr]", GS_CHOICES(presets)},
        {"cache", GS_OPT_FLAG, &cache, "", "read through the HDF5 cache (built or reused first)", GS_NO_VALUE},
        {"skip-bad", GS_OPT_FLAG, &skip_bad, "", "skip unreadable samples", GS_NO_VALUE},
        {"seed", GS_OPT_INT, &seed, "N", "random seed [0]", GS_SEED_RANGE},
        GS_JSON_OPTION(json),
    };
    const gs_command_line line = {
        .command = "bench loader", .operands = "FORMAT:PATH", .min_operands = 1, .max_operands = 1,
        .summary = "Runs the threaded loader as pretraining does (shuffled, augmented views, normalized)\n"
                   "and prints decoded images per second.",
        .options = options, .n_options = (int)(sizeof options / sizeof *options)};
    gs_parsed_args args;
    int parsed = gs_command_line_parse(&line, argc, argv, &args);
    if (parsed) return parsed == 1 ? 0 : 2;
    const char *spec = args.operands[0];
    gs_dataset src, cached, *ds = &src;
    gs_error err = {0};
    if (gs_dataset_open(spec, NULL, &src, &err) != GS_OK) {
        fprintf(stderr, "geossl bench loader: %s\n", err.message);
        return 1;
    }
    if (cache) {
        char dir[4000], path[4096];
        gs_cache_default_dir(dir, sizeof dir);
        gs_cache_options co = {.workers = (int)workers, .progress = args.quiet ? NULL : stderr};
        if (gs_cache_make_dir(dir, &err) != GS_OK) goto fail;
        gs_cache_path(&src, dir, path, sizeof path);
        if (gs_cache_use(&src, path, &co, &cached, NULL, &err) != GS_OK) goto fail;
        ds = &cached;
    }
    gs_loader_bench_options o = {.batches = (int)batches, .batch_size = (int)batch, .workers = (int)workers,
                                 .views = (int)views, .size = (int)size, .augment = augment, .skip_bad = skip_bad,
                                 .seed = (uint64_t)seed};
    gs_loader_bench_result r;
    if (gs_loader_bench(ds, &o, args.quiet ? NULL : stderr, &r, &err) != GS_OK) goto fail;
    FILE *text = gs_cli_text_stream(json);
    fprintf(text, "loader %s: %lld images in %lld batches, %d workers, %lld views%s\n", spec, (long long)r.images,
            (long long)r.batches, (int)workers, views, cache ? ", from the cache" : "");
    if (r.cache) fprintf(text, "cache lock: %lld reads, %.3f s waiting\n", (long long)r.lock.reads, r.lock.wait_s);
    fprintf(text, "%.1f img/s\n", r.images_per_s);
    int code = 0;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddStringToObject(o, "bench", "loader");
            cJSON_AddStringToObject(o, "data", spec);
            cJSON_AddStringToObject(o, "augment", augment);
            cJSON_AddNumberToObject(o, "batch", (double)batch);
            cJSON_AddNumberToObject(o, "workers", (double)workers);
            cJSON_AddNumberToObject(o, "views", (double)views);
            cJSON_AddBoolToObject(o, "cache", cache);
            cJSON_AddNumberToObject(o, "batches", (double)r.batches);
            cJSON_AddNumberToObject(o, "images", (double)r.images);
            cJSON_AddNumberToObject(o, "skipped", (double)r.skipped);
            cJSON_AddNumberToObject(o, "seconds", r.seconds);
            gs_cli_json_add_number(o, "img_per_s", r.images_per_s);
            if (r.cache) {
                cJSON_AddNumberToObject(o, "cache_lock_reads", (double)r.lock.reads);
                cJSON_AddNumberToObject(o, "cache_lock_wait_s", r.lock.wait_s);
            }
        }
        code = gs_cli_json_emit("bench loader", o) ? 0 : 1;
    }
    if (cache) gs_dataset_close(&cached);
    gs_dataset_close(&src);
    return code;
fail:
    fprintf(stderr, "geossl bench loader: %s\n", err.message);
    if (ds == &cached) gs_dataset_close(&cached);
    gs_dataset_close(&src);
    return 1;
}

static int bench_training(int argc, char **argv) { return bench_train(argc, argv, false); }
static int bench_inference(int argc, char **argv) { return bench_train(argc, argv, true); }

/* The benchmarks, so help and the unknown-benchmark message list the same ones. */
typedef struct bench_kind {
    const char *name, *summary;
    int (*run)(int argc, char **argv);
} bench_kind;

static const bench_kind BENCHES[] = {
    {"train", "training throughput of a backbone (median img/s, parameters, peak memory)", bench_training},
    {"infer", "feature-extraction throughput", bench_inference},
    {"kernels", "every op's forward/backward time as CSV", bench_kernels},
    {"loader", "data-loader throughput on a dataset (FORMAT:PATH)", bench_loader},
    {"knn", "the kNN protocol's classification at EuroSAT's scale (median ms against the sgemm ceiling)",
     gs_cmd_bench_knn},
};
#define N_BENCHES (int)(sizeof BENCHES / sizeof *BENCHES)

int gs_cmd_bench(int argc, char **argv) {
    bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    if (argc < 2 || help) {
        FILE *out = help ? stdout : stderr; /* without a benchmark it is a usage error */
        fprintf(out, "usage: geossl bench <what> [options]\n\n");
        for (int i = 0; i < N_BENCHES; i++) fprintf(out, "  %-9s %s\n", BENCHES[i].name, BENCHES[i].summary);
        return help ? 0 : 2;
    }
    for (int i = 0; i < N_BENCHES; i++)
        if (!strcmp(argv[1], BENCHES[i].name)) return BENCHES[i].run(argc - 1, argv + 1);
    char names[256] = "";
    for (int i = 0; i < N_BENCHES; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", BENCHES[i].name);
    fprintf(stderr, "geossl bench: unknown benchmark '%s' (%s; see 'geossl bench --help')\n", argv[1], names);
    return 2;
}
