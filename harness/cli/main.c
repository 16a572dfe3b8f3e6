/* geossl: the command-line program.  main() only dispatches to commands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "dist/dist.h"

static const gs_command COMMANDS[] = {
    {"train", "a short supervised training run on generated data (the engine's smoke run)", gs_cmd_train},
    {"demo", "the whole pipeline on generated data: pretrain, evaluate, report (no arguments needed)", gs_cmd_demo},
    {"pretrain", "self-supervised pretraining (SimCLR, MoCo v2, BYOL, DINO) with checkpoints and --resume", gs_cmd_pretrain},
    {"eval", "evaluate an encoder: kNN, linear probe, fine-tuning or segmentation", gs_cmd_eval},
    {"run", "a benchmark grid from a suite file (resumable), then the report", gs_cmd_run},
    {"data", "datasets: list formats, check a dataset", gs_cmd_data},
    {"bench", "benchmarks: training and inference throughput, per-kernel timings", gs_cmd_bench},
    {"export", "write a pretrained encoder as safetensors (torchvision / timm names) for PyTorch", gs_cmd_export},
    {"report", "Markdown and HTML report from a results CSV: leaderboards, paper deltas, plots", gs_cmd_report},
    {"list", "list the methods (one canonical name per line, with their --method-options)", gs_cmd_list},
    {"version", "print the version and the git commit it was built from (also --version)", gs_cmd_version},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof *COMMANDS)

static void usage(FILE *out) {
    fprintf(out,
            "geossl %s - self-supervised learning benchmarks for remote sensing\n\n"
            "usage: geossl <command> [options]\n       geossl <command> --help\n\ncommands:\n",
            GEOSSL_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) return gs_cmd_version(argc - 1, argv + 1);
    /* Under mpirun -np N the other commands would run N independent copies,
     * each writing the same files. */
    int launched = gs_dist_launched_size();
    if (launched > 1 && strcmp(argv[1], "pretrain") && strcmp(argv[1], "eval") && strcmp(argv[1], "run")) {
        fprintf(stderr, "geossl: started as one of %d processes, but only 'pretrain', 'eval --protocol "
                        "finetune|segment' and 'run' run across processes: run '%s' without mpirun\n", launched,
                argv[1]);
        return 2;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "geossl: unknown command '%s' (run 'geossl --help' for the list)\n", argv[1]);
    return 2;
}
