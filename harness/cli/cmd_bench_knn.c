/* geossl bench knn: the kNN protocol's classification step alone, at
 * EuroSAT's 80/20 scale by default (21,600 x 512 training features against
 * 5,400 test features), on features drawn around class means so the votes
 * do real work.  Prints the median time and, beside it, this machine's
 * sgemm GFLOP/s at 2048^3 and the similarity GEMM's share of the work, so a
 * time reads as a fraction of the GEMM ceiling of the machine that ran it. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "commands.h"
#include "core/context.h"
#include "core/rng.h"
#include "knn.h"
#include "options.h"

/* Median GFLOP/s of a 2048^3 sgemm over 3 runs (after one warm-up). */
static double sgemm_ceiling(void) {
    const int n = 2048;
    float *a = malloc(sizeof(float) * (size_t)n * n), *b = malloc(sizeof(float) * (size_t)n * n),
          *c = malloc(sizeof(float) * (size_t)n * n);
    double gflops = NAN, runs[3];
    if (a && b && c) {
        for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = (float)(i % 13) * 0.01f;
        for (int r = -1; r < 3; r++) {
            double t0 = gs_now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
            if (r >= 0) runs[r] = gs_now_s() - t0;
        }
        gflops = 2.0 * n * n * n / gs_median(runs, 3) / 1e9;
    }
    free(a);
    free(b);
    free(c);
    return gflops;
}

int gs_cmd_bench_knn(int argc, char **argv) {
    long long n_train = 21600, n_test = 5400, dim = 512, classes = 10, k = 20, repeats = 5, threads = 0, seed = 0;
    const gs_option options[] = {
        {"train", GS_OPT_INT, &n_train, "N", "training features [21600: EuroSAT's 80%]", GS_RANGE(1, 10000000)},
        {"test", GS_OPT_INT, &n_test, "N", "test features [5400: EuroSAT's 20%]", GS_RANGE(1, 10000000)},
        {"dim", GS_OPT_INT, &dim, "N", "feature width [512: ResNet-18]", GS_RANGE(1, 65536)},
        {"classes", GS_OPT_INT, &classes, "N", "classes [10]", GS_RANGE(2, 100000)},
        {"k", GS_OPT_INT, &k, "N", "neighbours [20]", GS_RANGE(1, 100000)},
        {"repeats", GS_OPT_INT, &repeats, "N", "timed runs; the median is reported [5]", GS_RANGE(1, 1000)},
        {"threads", GS_OPT_INT, &threads, "N", "threads (0: all cores) [0]", GS_THREADS_RANGE},
        {"seed", GS_OPT_INT, &seed, "N", "random seed of the features [0]", GS_SEED_RANGE},
    };
    int parsed = gs_options_parse("bench knn",
                                  "Times the kNN protocol's classification (similarities, top-k, weighted votes) on\n"
                                  "generated features; prints the median ms, the machine's sgemm GFLOP/s and the share\n"
                                  "of that ceiling the similarity GEMM alone would need.",
                                  options, (int)(sizeof options / sizeof *options), argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
    gs_context ctx;
    gs_context_options co = {.n_threads = (int)threads};
    gs_context_init(&ctx, &co);
    size_t train_floats = (size_t)n_train * (size_t)dim, test_floats = (size_t)n_test * (size_t)dim;
    float *train = malloc(sizeof(float) * train_floats), *test = malloc(sizeof(float) * test_floats),
          *means = malloc(sizeof(float) * (size_t)classes * (size_t)dim);
    int32_t *train_labels = malloc(sizeof(int32_t) * (size_t)n_train),
            *test_labels = malloc(sizeof(int32_t) * (size_t)n_test),
            *predictions = malloc(sizeof(int32_t) * (size_t)n_test);
    double *runs = malloc(sizeof(double) * (size_t)repeats);
    int code = 0;
    if (!train || !test || !means || !train_labels || !test_labels || !predictions || !runs) {
        fprintf(stderr, "geossl bench knn: out of memory for %lld + %lld features of %lld\n", n_train, n_test, dim);
        code = 1;
    }
    gs_rng rng;
    gs_rng_seed(&rng, (uint64_t)seed);
    for (size_t i = 0; !code && i < (size_t)classes * (size_t)dim; i++) means[i] = gs_rng_normal(&rng);
    /* Each feature: its class mean plus noise 8 times its size, so that classes overlap and votes matter. */
    for (int set = 0; !code && set < 2; set++) {
        float *x = set ? test : train;
        int32_t *y = set ? test_labels : train_labels;
        long long n = set ? n_test : n_train;
        for (long long i = 0; i < n; i++) {
            y[i] = (int32_t)(i % classes);
            for (long long d = 0; d < dim; d++)
                x[i * dim + d] = means[(size_t)y[i] * (size_t)dim + (size_t)d] + 8.0f * gs_rng_normal(&rng);
        }
    }
    double top1 = 0;
    gs_knn_options ko = {.k = (int)k};
    for (long long r = -1; !code && r < repeats; r++) { /* r = -1: warm-up */
        double t0 = gs_now_s();
        if (gs_knn_classify(&ctx, train, train_labels, n_train, test, n_test, dim, (int)classes, &ko, predictions,
                            test_labels, &top1) != GS_OK) {
            fprintf(stderr, "geossl bench knn: %s\n", ctx.error);
            code = 1;
        } else if (r >= 0) {
            runs[r] = gs_now_s() - t0;
        }
    }
    if (!code) {
        double median = gs_median(runs, (int)repeats), ceiling = sgemm_ceiling();
        double gemm_gflop = 2.0 * (double)n_train * (double)n_test * (double)dim / 1e9;
        printf("knn: %lld train x %lld test x %lld dims, k %lld, %d threads\n", n_train, n_test, dim, k, ctx.n_threads);
        printf("median %.1f ms (of %lld runs), top-1 %.2f %%\n", 1e3 * median, repeats, 100.0 * top1);
        printf("sgemm 2048^3: %.1f GFLOP/s; the similarity GEMM (%.2f GFLOP) alone would take %.1f ms there, %.0f%% "
               "of the median\n",
               ceiling, gemm_gflop, 1e3 * gemm_gflop / ceiling, 100.0 * gemm_gflop / ceiling / median);
    }
    free(train);
    free(test);
    free(means);
    free(train_labels);
    free(test_labels);
    free(predictions);
    free(runs);
    gs_context_free(&ctx);
    return code;
}
