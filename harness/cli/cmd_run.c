/* geossl run SUITE: the benchmark grid of a suite file (suite_config.h),
 * methods x eval datasets x protocols x label fractions x seeds, into one run
 * folder, then the report.
 *
 *   OUT/pretrain/<method>/checkpoint.h5   every epoch; an interrupted
 *                                          pretraining resumes from it
 *   OUT/pretrain/<method>/done            written once it has finished
 *   OUT/settings.txt                       the settings results depend on
 *   OUT/results.csv                        one row per metric per cell
 *   OUT/report/index.html, report.md
 *
 * A cell is skipped when results.csv already has a row for it, so a run that
 * was killed, or that had failing cells, is continued by running the same
 * command again.  A failing cell is reported and the run goes on; the exit
 * code is then 1.  Cells can be added to a suite later (methods, datasets,
 * protocols, fractions, seeds); the settings in OUT/settings.txt (backbone,
 * pretraining, fine-tuning) cannot change for the same folder, since the
 * results already there would not be comparable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "core/clock.h"
#include "dataset.h"
#include "eval_common.h"
#include "install_paths.h"
#include "io/durable_file.h"
#include "options.h"
#include "pretrain.h"
#include "dist_options.h"
#include "report.h"
#include "results_store.h"
#include "suite_config.h"

typedef enum { DATA_UNOPENED, DATA_OPEN, DATA_FAILED } data_state;

typedef struct suite_run {
    const gs_suite_config *cfg;
    char results[GS_SUITE_MAX_PATH + 32];
    char backbone_label[64];
    gs_results done; /* results.csv as it was when the run started */
    gs_dataset eval_ds[GS_SUITE_MAX_ITEMS];
    data_state eval_state[GS_SUITE_MAX_ITEMS];
    char eval_error[GS_SUITE_MAX_ITEMS][512];
    gs_dataset pretrain_ds; /* when pretrain_data is none of the eval datasets */
    data_state pretrain_state;
    int n_cells, n_failed, n_skipped, n_run;
    FILE *progress; /* pretraining's and evaluations' progress lines; NULL: --quiet */
    /* Under mpirun: pretraining and fine-tuning run across the ranks; rank 0
     * (lead) alone writes the run folder, the results and the report.
     * Every rank decides what to run from the files as they were at the
     * start (a barrier follows the reading), so the ranks stay in step. */
    gs_dist *dist;
    bool lead;
} suite_run;

/* One cell's coordinates in the grid, in run order (method outermost). */
typedef struct suite_cell {
    int method, data, protocol, fraction, seed;
} suite_cell;

static suite_cell cell_at(const gs_suite_config *c, int index) {
    suite_cell cell;
    cell.seed = index % c->n_seeds;
    index /= c->n_seeds;
    cell.fraction = index % c->n_label_fractions;
    index /= c->n_label_fractions;
    cell.protocol = index % c->n_protocols;
    index /= c->n_protocols;
    cell.data = index % c->n_eval_data;
    cell.method = index / c->n_eval_data;
    return cell;
}

/* "eurosat-rgb" of "eurosat-rgb:DIR": datasets are named by format in results. */
static void spec_format(const char *spec, char *out, size_t size) {
    const char *colon = strchr(spec, ':');
    snprintf(out, size, "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
}

static bool is_random(const char *method) { return !strcmp(method, "random"); }

static bool cell_done(const suite_run *s, suite_cell cell) {
    const gs_suite_config *c = s->cfg;
    char eval_format[64], pretrain_format[64];
    spec_format(c->eval_data[cell.data], eval_format, sizeof eval_format);
    spec_format(c->pretrain_data, pretrain_format, sizeof pretrain_format);
    gs_protocol p = c->protocols[cell.protocol];
    gs_result_cell rc = {.method = c->methods[cell.method], .backbone = s->backbone_label,
                         .pretrain_data = is_random(c->methods[cell.method]) ? "none" : pretrain_format,
                         .eval_data = eval_format,
                         .protocol = p == GS_PROTOCOL_SEGMENT ? "segmentation" : gs_protocol_name(p),
                         .label_fraction = c->label_fractions[cell.fraction], .seed = c->seeds[cell.seed]};
    return gs_results_has_cell(&s->done, &rc);
}

static void cell_label(const gs_suite_config *c, int index, char *out, size_t size) {
    suite_cell cell = cell_at(c, index);
    char format[64];
    spec_format(c->eval_data[cell.data], format, sizeof format);
    snprintf(out, size, "[cell %d/%d] %s %s %s %g%% seed %lld", index + 1,
             c->n_methods * c->n_eval_data * c->n_protocols * c->n_label_fractions * c->n_seeds,
             c->methods[cell.method], format, gs_protocol_name(c->protocols[cell.protocol]),
             100.0 * c->label_fractions[cell.fraction], c->seeds[cell.seed]);
}

/* ---- files of a pretraining ---- */

static bool file_exists(const char *path) { return access(path, F_OK) == 0; }

static void pretrain_path(const suite_run *s, int method, const char *file, char *out, size_t size) {
    snprintf(out, size, "%s/pretrain/%s%s%s", s->cfg->out, s->cfg->methods[method], file ? "/" : "", file ? file : "");
}

/* Writes text to path atomically (temporary file, fsync, rename). */
static gs_status write_small_file(const char *path, const char *text, gs_error *err) {
    char tmp[GS_SUITE_MAX_PATH + 128];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    bool ok = fputs(text, f) >= 0;
    ok &= fclose(f) == 0;
    if (!ok) {
        unlink(tmp);
        return gs_error_set(err, GS_ERR_IO, "cannot write %s", tmp);
    }
    return gs_commit_file(tmp, path, err);
}

/* Reads up to size-1 bytes; false when the file cannot be opened. */
static bool read_small_file(const char *path, char *out, size_t size) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
    return true;
}

/* What results in the run folder depend on besides their cell: changing
 * any of it in the suite file would mix incomparable numbers, and reuse
 * pretrained encoders trained otherwise.  "key = value" lines. */
static void run_settings(const gs_suite_config *c, char *out, size_t size) {
    snprintf(out, size,
             "backbone = %s\nwidth = %d\npatch = %d\nstem = %s\npretrain_data = %s\nepochs = %d\nbatch = %d\n"
             "size = %d\npretrain_seed = %lld\nfinetune_epochs = %d\neval_batch = %d\n",
             c->backbone, c->width, c->patch, c->small_stem ? "small" : "imagenet", c->pretrain_data, c->epochs,
             c->batch, c->size, c->seeds[0], c->finetune_epochs, c->eval_batch);
}

/* Compares the suite with OUT/settings.txt; writes it when missing (and
 * write is set).  False after a message naming the first difference. */
static bool check_settings(const gs_suite_config *c, const char *suite_path, bool write) {
    char path[GS_SUITE_MAX_PATH + 32], now[2 * GS_SUITE_MAX_PATH], before[2 * GS_SUITE_MAX_PATH];
    snprintf(path, sizeof path, "%s/settings.txt", c->out);
    run_settings(c, now, sizeof now);
    if (!read_small_file(path, before, sizeof before)) {
        gs_error err = {0};
        if (!write || write_small_file(path, now, &err) == GS_OK) return true;
        fprintf(stderr, "geossl run: %s\n", err.message);
        return false;
    }
    const char *a = now, *b = before;
    while (*a && *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || strncmp(a, b, la)) {
            fprintf(stderr,
                    "geossl run: %s says '%.*s' but %s was run with '%.*s': results made otherwise would not compare; "
                    "give the suite another out (or delete that folder)\n",
                    suite_path, (int)la, a, c->out, (int)lb, b);
            return false;
        }
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
    }
    if (*a || *b) {
        fprintf(stderr, "geossl run: %s holds settings this geossl does not write: give the suite another out\n", path);
        return false;
    }
    return true;
}

/* ---- datasets ---- */

/* Same format and the same file or folder (however the paths spell it).
 * Pretraining then uses that dataset's train split: test images the
 * protocols score on are never pretrained on. */
static bool same_dataset(const char *a, const char *b) {
    char fa[64], fb[64];
    spec_format(a, fa, sizeof fa);
    spec_format(b, fb, sizeof fb);
    if (strcmp(fa, fb)) return false;
    const char *pa = strchr(a, ':') + 1, *pb = strchr(b, ':') + 1;
    struct stat sa, sb;
    if (stat(pa, &sa) || stat(pb, &sb)) return !strcmp(pa, pb);
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Opens eval dataset i once, with the evaluation split fixed by the first
 * seed (the split `geossl eval --seed S --seeds N` would use). */
static gs_dataset *eval_dataset(suite_run *s, int i) {
    if (s->eval_state[i] == DATA_UNOPENED) {
        gs_error err = {0};
        s->eval_state[i] = DATA_FAILED;
        if (gs_dataset_open(s->cfg->eval_data[i], NULL, &s->eval_ds[i], &err) != GS_OK)
            snprintf(s->eval_error[i], sizeof s->eval_error[i], "%s", err.message);
        else if (gs_evaluate_default_split(&s->eval_ds[i], (uint64_t)s->cfg->seeds[0], &err) != GS_OK) {
            snprintf(s->eval_error[i], sizeof s->eval_error[i], "%s", err.message);
            gs_dataset_close(&s->eval_ds[i]);
        } else {
            s->eval_state[i] = DATA_OPEN;
        }
    }
    return s->eval_state[i] == DATA_OPEN ? &s->eval_ds[i] : NULL;
}

static gs_dataset *pretrain_dataset(suite_run *s, gs_error *err) {
    for (int i = 0; i < s->cfg->n_eval_data; i++)
        if (same_dataset(s->cfg->pretrain_data, s->cfg->eval_data[i])) {
            gs_dataset *ds = eval_dataset(s, i);
            if (!ds) gs_error_set(err, GS_ERR_IO, "%s", s->eval_error[i]);
            return ds;
        }
    if (s->pretrain_state == DATA_UNOPENED)
        s->pretrain_state = gs_dataset_open(s->cfg->pretrain_data, NULL, &s->pretrain_ds, err) == GS_OK ? DATA_OPEN
                                                                                                        : DATA_FAILED;
    else if (s->pretrain_state == DATA_FAILED)
        gs_error_set(err, GS_ERR_IO, "%s could not be opened (see above)", s->cfg->pretrain_data);
    return s->pretrain_state == DATA_OPEN ? &s->pretrain_ds : NULL;
}

/* Every dataset of the suite opens, checked before any work (and by
 * --dry-run): a path that does not exist is one line per dataset and exit
 * 1, not a grid of failed cells.  Opened datasets stay open for the run. */
static bool datasets_open(suite_run *s) {
    bool ok = true;
    for (int i = 0; i < s->cfg->n_eval_data; i++) {
        gs_dataset *ds = eval_dataset(s, i);
        if (!ds) {
            fprintf(stderr, "geossl run: eval_data %s: %s\n", s->cfg->eval_data[i], s->eval_error[i]);
            ok = false;
        } else if (s->progress) {
            fprintf(s->progress, "[data] %s: %lld samples\n", s->cfg->eval_data[i], (long long)ds->n_samples);
        }
    }
    bool pretrains = false;
    for (int m = 0; m < s->cfg->n_methods; m++) pretrains |= !is_random(s->cfg->methods[m]);
    if (pretrains) {
        gs_error err = {0};
        gs_dataset *ds = pretrain_dataset(s, &err);
        if (!ds) {
            fprintf(stderr, "geossl run: pretrain_data %s: %s\n", s->cfg->pretrain_data, err.message);
            ok = false;
        } else if (s->progress) {
            fprintf(s->progress, "[data] %s (pretraining): %lld samples\n", s->cfg->pretrain_data,
                    (long long)ds->n_samples);
        }
    }
    return ok;
}

/* ---- steps ---- */

/* Pretrains methods[method] into OUT/pretrain/<method>/ unless that was
 * finished before, resuming an interrupted run.  The checkpoint's path goes
 * to checkpoint. */
static gs_status pretrain(suite_run *s, int method, char *checkpoint, size_t size, gs_error *err) {
    const gs_suite_config *c = s->cfg;
    const char *name = c->methods[method];
    char dir[GS_SUITE_MAX_PATH + 64], done_path[GS_SUITE_MAX_PATH + 96], log_csv[GS_SUITE_MAX_PATH + 96];
    pretrain_path(s, method, NULL, dir, sizeof dir);
    /* The report draws its loss and embedding-std curves from this log. */
    pretrain_path(s, method, "log.csv", log_csv, sizeof log_csv);
    pretrain_path(s, method, "checkpoint.h5", checkpoint, size);
    pretrain_path(s, method, "done", done_path, sizeof done_path);
    if (s->lead && !gs_cli_make_folder("run", dir)) return gs_error_set(err, GS_ERR_IO, "cannot write in %s", dir);
    if (file_exists(done_path)) {
        printf("[pretrain %s] finished earlier: %s\n", name, checkpoint);
        return GS_OK;
    }
    gs_dataset *ds = pretrain_dataset(s, err);
    if (!ds) return err->status;
    bool resume = file_exists(checkpoint);
    printf("[pretrain %s] %s %d epoch%s on %s%s\n", name, resume ? "resuming" : "starting", c->epochs,
           c->epochs == 1 ? "" : "s", c->pretrain_data, resume ? " from its last checkpoint" : "");
    fflush(stdout);
    gs_context ctx;
    gs_context_options co = {.n_threads = c->threads, .seed = (unsigned long long)c->seeds[0]};
    gs_context_init(&ctx, &co);
    ctx.dist = s->dist;
    gs_pretrain_config pc = {
        .method = name,
        .backbone = {.name = c->backbone, .width = c->width, .patch = c->patch, .pos = GS_POS_LEARNED,
                     .stem = c->small_stem ? GS_STEM_SMALL : GS_STEM_IMAGENET},
        .epochs = c->epochs, .batch = c->batch, .size = c->size, .weight_decay = -1, .optimizer = -1,
        .seed = (uint64_t)c->seeds[0], .workers = c->workers, .checkpoint = checkpoint, .resume = resume,
        .log_csv = log_csv, .progress = s->progress};
    gs_pretrain_result r;
    if (gs_pretrain(&ctx, ds, &pc, &r, err) == GS_OK) {
        char summary[256];
        snprintf(summary, sizeof summary, "%lld step%s (from %lld), loss %.4f -> %.4f, %.0f s\n", (long long)r.steps,
                 r.steps == 1 ? "" : "s", (long long)r.start_step, (double)r.first_loss, (double)r.final_loss,
                 r.seconds);
        if (r.steps == r.start_step) /* killed after its last checkpoint */
            snprintf(summary, sizeof summary, "its last checkpoint was final (step %lld)\n", (long long)r.steps);
        if (!s->lead) printf("[pretrain %s] done: %s", name, summary);
        else if (write_small_file(done_path, summary, err) == GS_OK) printf("[pretrain %s] done: %s", name, summary);
    }
    gs_context_free(&ctx);
    return err->status;
}

/* Across ranks: every rank is at cell `index` (an error naming a rank that
 * is not stops this cell everywhere before any collective of it). */
static bool ranks_in_step(suite_run *s, int index, const char *label) {
    gs_error err = {0};
    if (gs_dist_check_in(s->dist, -2 - (int64_t)index, &err) == GS_OK) return true;
    printf("%s: failed: %s\n", label, err.message);
    s->n_failed++;
    return false;
}

/* Across ranks a cell counts as failed when it failed on any rank, so the
 * ranks keep the same counts and exit code. */
static bool failed_anywhere(suite_run *s, bool failed_here) {
    if (!s->dist || s->dist->size < 2) return failed_here;
    double failed = failed_here ? 1.0 : 0.0;
    gs_error err = {0};
    if (gs_dist_sum_f64(s->dist, &failed, 1, &err) != GS_OK) return true;
    return failed > 0;
}

/* Evaluates one cell and appends its rows; prints its line. */
static void evaluate_cell(suite_run *s, int index, const char *checkpoint) {
    const gs_suite_config *c = s->cfg;
    suite_cell cell = cell_at(c, index);
    char label[512], eval_format[64], pretrain_format[64];
    cell_label(c, index, label, sizeof label);
    spec_format(c->eval_data[cell.data], eval_format, sizeof eval_format);
    spec_format(c->pretrain_data, pretrain_format, sizeof pretrain_format);
    gs_dataset *ds = eval_dataset(s, cell.data);
    /* The pretrained method says how its encoder is evaluated (SatMAE's pooled tokens). */
    gs_cli_checkpoint ckpt;
    bool ready = ds && !(checkpoint && !gs_cli_checkpoint_read("run", checkpoint, &ckpt));
    if (!ds) printf("%s: failed: %s\n", label, s->eval_error[cell.data]);
    else if (!ready) printf("%s: failed: cannot read the checkpoint %s\n", label, checkpoint);
    /* Across ranks a cell runs everywhere or nowhere: one rank entering its
     * collectives without the others would wait on them, or worse. */
    if (failed_anywhere(s, !ready)) {
        if (ready) printf("%s: failed on another rank (its error is above)\n", label);
        s->n_failed++;
        return;
    }
    if (s->progress) fprintf(s->progress, "geossl run: %s\n", label);
    const char *method = c->methods[cell.method];
    gs_cli_eval_job job = {
        .ds = ds,
        .backbone = {.name = c->backbone, .width = c->width, .patch = c->patch, .pos = GS_POS_LEARNED,
                     .stem = c->small_stem ? GS_STEM_SMALL : GS_STEM_IMAGENET},
        .checkpoint = checkpoint,
        .id = {.method = method, .backbone = s->backbone_label,
               .pretrain_data = is_random(method) ? NULL : pretrain_format, .eval_data = eval_format,
               .protocol = c->protocols[cell.protocol], .label_fraction = c->label_fractions[cell.fraction],
               .seed = (uint64_t)c->seeds[cell.seed]},
        .threads = c->threads, .batch = c->eval_batch, .workers = c->workers, .finetune_epochs = c->finetune_epochs,
        .results = s->lead ? s->results : NULL, .progress = s->progress,
        .dist = s->dist && s->dist->size > 1 ? s->dist : NULL};
    gs_cli_eval_job_from_checkpoint(&job, checkpoint ? &ckpt : NULL, -1.0f);
    gs_eval_result *r = malloc(sizeof *r);
    gs_error err = {0};
    double wall = 0;
    if (!r)
        gs_error_set(&err, GS_ERR_MEMORY, "out of memory");
    else if (gs_cli_evaluate(&job, r, &wall, &err) == GS_OK)
        printf("%s: %s %.2f (%.0f s)\n", label, r->headline_label, r->metrics[r->headline].value, wall);
    if (err.status != GS_OK) printf("%s: failed: %s\n", label, err.message);
    if (failed_anywhere(s, err.status != GS_OK)) s->n_failed++;
    else s->n_run++;
    fflush(stdout);
    free(r);
}

/* Every cell of methods[method]: pretraining first when one still needs it. */
static void run_method(suite_run *s, int method, int first, int count) {
    int pending = 0;
    for (int i = first; i < first + count; i++) pending += !cell_done(s, cell_at(s->cfg, i));
    char checkpoint[GS_SUITE_MAX_PATH + 64], label[512];
    gs_error err = {0};
    bool encoder_ready = true;
    if (pending && !is_random(s->cfg->methods[method]) &&
        pretrain(s, method, checkpoint, sizeof checkpoint, &err) != GS_OK) {
        printf("[pretrain %s] failed: %s\n", s->cfg->methods[method], err.message);
        encoder_ready = false;
    }
    for (int i = first; i < first + count; i++) {
        cell_label(s->cfg, i, label, sizeof label);
        if (cell_done(s, cell_at(s->cfg, i))) {
            printf("%s: skipped (in results)\n", label);
            s->n_skipped++;
        } else if (!encoder_ready) {
            printf("%s: failed: no pretrained %s encoder\n", label, s->cfg->methods[method]);
            s->n_failed++;
        } else if (ranks_in_step(s, i, label)) {
            evaluate_cell(s, i, is_random(s->cfg->methods[method]) ? NULL : checkpoint);
        }
        fflush(stdout);
    }
}

static void dry_run(const suite_run *s) {
    const gs_suite_config *c = s->cfg;
    char path[GS_SUITE_MAX_PATH + 96], label[512];
    int pending = 0;
    for (int m = 0; m < c->n_methods; m++) {
        if (is_random(c->methods[m])) continue;
        const char *state = "not started";
        pretrain_path(s, m, "done", path, sizeof path);
        if (file_exists(path)) state = "finished";
        else if (pretrain_path(s, m, "checkpoint.h5", path, sizeof path), file_exists(path))
            state = "interrupted (resumes from its checkpoint)";
        printf("[pretrain %s] %s\n", c->methods[m], state);
    }
    for (int i = 0; i < s->n_cells; i++) {
        cell_label(c, i, label, sizeof label);
        bool done = cell_done(s, cell_at(c, i));
        pending += !done;
        printf("%s: %s\n", label, done ? "done (in results)" : "to run");
    }
    printf("%d cells: %d done, %d to run; results %s\n", s->n_cells, s->n_cells - pending, pending, s->results);
}

static int write_report(const suite_run *s) {
    char report_dir[GS_SUITE_MAX_PATH + 32];
    snprintf(report_dir, sizeof report_dir, "%s/report", s->cfg->out);
    if (!file_exists(s->results)) {
        printf("no results yet, so no report\n");
        return 1;
    }
    char reference[4096];
    gs_report_options ro = {.results_path = s->results,
                            .reference_path = gs_cli_default_reference(reference, sizeof reference),
                            .out_dir = report_dir, .regression_threshold = 0.1, .title = s->cfg->name};
    gs_report_summary summary;
    gs_error err = {0};
    if (gs_report_write(&ro, &summary, &err) != GS_OK) {
        fprintf(stderr, "geossl run: %s\n", err.message);
        return 1;
    }
    printf("report: %s/index.html\n", report_dir);
    return 0;
}

static int run_command(int argc, char **argv, gs_parsed_args *args, gs_dist *dist);

int gs_cmd_run(int argc, char **argv) {
    gs_parsed_args args;
    gs_dist dist = {.rank = 0, .size = 1};
    int code = run_command(argc, argv, &args, &dist);
    gs_parsed_args_free(&args);
    /* Failed cells are a normal ending (exit 1, rerun to retry); the ranks
     * leave together, since they ran the same cells. */
    gs_dist_finish(&dist);
    return code;
}

static int run_command(int argc, char **argv, gs_parsed_args *args, gs_dist *dist) {
    const char *out = NULL;
    bool dry = false, sync_bn = false;
    double dist_timeout = 60;
    const gs_option options[] = {
        {"dry-run", GS_OPT_FLAG, &dry, "", "list the cells and which are done; run nothing", GS_NO_VALUE},
        {"out", GS_OPT_STRING, &out, "DIR", "run folder [the suite's out]", GS_ANY_TEXT},
        GS_SYNC_BN_OPTION(sync_bn),
        GS_DIST_TIMEOUT_OPTION(dist_timeout),
    };
    const int n_options = (int)(sizeof options / sizeof *options);
    const char *summary = "Runs a suite's grid: every method x eval dataset x protocol x label fraction x seed,\n"
                          "pretraining each method once.  Cells already in OUT/results.csv are skipped, so running\n"
                          "the same command again continues a killed or failed run.  Ends with OUT/report.";
    const gs_command_line line = {.command = "run", .operands = "SUITE", .min_operands = 1, .max_operands = 1,
                                  .summary = summary, .options = options, .n_options = n_options,
                                  .sets_to_command = true};
    int parsed = gs_command_line_parse(&line, argc, argv, args);
    if (parsed == 1) printf("\n%s", GS_SUITE_CONFIG_HELP);
    if (parsed) return parsed == 1 ? 0 : 2;
    const char *suite_path = args->operands[0];
    if (!gs_cli_join_job("run", dist, dist_timeout, sync_bn)) return 2;
    bool lead = dist->rank == 0;
    /* The other ranks compute alongside rank 0 and say nothing. */
    if (!lead && !freopen("/dev/null", "w", stdout)) return 1;
    if (!lead) args->quiet = true;
    setvbuf(stdout, NULL, _IOLBF, 0); /* cell lines in order with the progress on stderr */

    gs_suite_config *cfg = malloc(sizeof *cfg);
    suite_run *s = calloc(1, sizeof *s);
    gs_error err = {0};
    int code = 0;
    if (!cfg || !s) {
        fprintf(stderr, "geossl run: out of memory\n");
        code = 1;
    } else if (gs_suite_config_load_with(suite_path, args->config, cfg, &err) != GS_OK) {
        fprintf(stderr, "geossl run: %s\n", err.message);
        code = err.status == GS_ERR_IO ? 1 : 2;
    } else if (gs_suite_config_resolve_shared(cfg, getenv("GEOSSL_SHARED_DATA"), &err) != GS_OK) {
        fprintf(stderr, "geossl run: %s\n", err.message);
        code = 2;
    } else if (out && strlen(out) >= sizeof cfg->out) {
        fprintf(stderr, "geossl run: --out is too long\n");
        code = 2;
    }
    if (code) goto done;
    if (out) memcpy(cfg->out, out, strlen(out) + 1);
    s->cfg = cfg;
    s->dist = dist;
    s->lead = lead;
    s->progress = args->quiet ? NULL : stderr;
    s->n_cells = cfg->n_methods * cfg->n_eval_data * cfg->n_protocols * cfg->n_label_fractions * cfg->n_seeds;
    snprintf(s->results, sizeof s->results, "%s/results.csv", cfg->out);
    gs_cli_backbone_label(cfg->backbone, cfg->width, cfg->small_stem, cfg->patch, s->backbone_label,
                          sizeof s->backbone_label);
    if (gs_results_load_existing(s->results, &s->done, &err) != GS_OK) {
        fprintf(stderr, "geossl run: %s (the run folder's results must be fixed or moved before continuing)\n",
                err.message);
        code = 1;
        goto done;
    }
    if (!check_settings(cfg, suite_path, false)) {
        code = 2;
        goto done;
    }
    if (!datasets_open(s)) {
        code = 1;
        goto done;
    }
    if (dry) {
        dry_run(s);
        goto done;
    }
    if (lead && (!gs_cli_make_folder("run", cfg->out) || !check_settings(cfg, suite_path, true))) {
        if (dist->size > 1) gs_dist_abort(dist, 1); /* the others would wait for rank 0 at the barrier */
        code = 1;
        goto done;
    }
    /* Every rank has read the results before rank 0 appends to them. */
    if (gs_dist_check_in(dist, -1, &err) != GS_OK) {
        fprintf(stderr, "geossl run: %s\n", err.message);
        code = 1;
        goto done;
    }
    double t0 = gs_now_s();
    int per_method = s->n_cells / cfg->n_methods;
    for (int m = 0; m < cfg->n_methods; m++) run_method(s, m, m * per_method, per_method);
    printf("%d cells: %d run, %d skipped (in results), %d failed, %.0f s\n", s->n_cells, s->n_run, s->n_skipped,
           s->n_failed, gs_now_s() - t0);
    code = ((lead && write_report(s) != 0) || s->n_failed > 0) ? 1 : 0;
    if (s->n_failed) printf("%d cells failed: run the same command again to retry them\n", s->n_failed);
done:
    if (s) {
        for (int i = 0; i < GS_SUITE_MAX_ITEMS; i++)
            if (s->eval_state[i] == DATA_OPEN) gs_dataset_close(&s->eval_ds[i]);
        if (s->pretrain_state == DATA_OPEN) gs_dataset_close(&s->pretrain_ds);
        gs_results_free(&s->done);
    }
    free(s);
    free(cfg);
    return code;
}
