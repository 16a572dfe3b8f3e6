/* Subcommands of the geossl program.  Each takes argv starting at its own
 * name and returns the process exit code. */
#ifndef GS_CLI_COMMANDS_H
#define GS_CLI_COMMANDS_H

typedef struct gs_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} gs_command;

int gs_cmd_train(int argc, char **argv);
int gs_cmd_bench(int argc, char **argv);
int gs_cmd_bench_knn(int argc, char **argv); /* bench knn (cmd_bench_knn.c) */
int gs_cmd_data(int argc, char **argv);
int gs_cmd_eval(int argc, char **argv);
int gs_cmd_pretrain(int argc, char **argv);
int gs_cmd_demo(int argc, char **argv);
int gs_cmd_run(int argc, char **argv);
/* `geossl data synth FORMAT DIR`: argv starts at "synth" (the `data` command routes it). */
int gs_cmd_data_synth(int argc, char **argv);
/* `geossl data check FORMAT:PATH`: argv starts at "check". */
int gs_cmd_data_check(int argc, char **argv);
int gs_cmd_version(int argc, char **argv);
int gs_cmd_list(int argc, char **argv);
int gs_cmd_report(int argc, char **argv);
int gs_cmd_export(int argc, char **argv);

#endif
