#include "gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

bool gs_gnuplot_find(char *path, size_t size) {
    const char *env = getenv("PATH");
    /* An unset PATH means the system default; an empty one means nothing. */
    const char *dirs = env ? env : "/usr/local/bin:/usr/bin:/bin";
    while (*dirs) {
        const char *end = strchr(dirs, ':');
        size_t len = end ? (size_t)(end - dirs) : strlen(dirs);
        if (len > 0 && (size_t)snprintf(path, size, "%.*s/gnuplot", (int)len, dirs) < size) {
            struct stat st;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0) return true;
        }
        dirs += len;
        if (*dirs == ':') dirs++;
    }
    if (size) path[0] = '\0';
    return false;
}

static void quote(gs_text *out, const char *s, bool tic) {
    gs_text_append(out, "'");
    for (; *s; s++) {
        if (*s == '\'')
            gs_text_append(out, "''");
        else if (*s == '%' && tic)
            gs_text_append(out, "%%");
        else if ((unsigned char)*s < 0x20 || *s == 0x7f)
            gs_text_append(out, " ");
        else
            gs_text_append_n(out, s, 1);
    }
    gs_text_append(out, "'");
}

void gs_gnuplot_quote(gs_text *out, const char *s) { quote(out, s, false); }
void gs_gnuplot_quote_tic(gs_text *out, const char *s) { quote(out, s, true); }

gs_status gs_gnuplot_run(const char *gnuplot, const char *script_path, const char *log_path, gs_error *err) {
    posix_spawn_file_actions_t actions;
    if (posix_spawn_file_actions_init(&actions) != 0)
        return gs_error_set(err, GS_ERR_MEMORY, "gnuplot: cannot set up the subprocess");
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    char *argv[] = {(char *)gnuplot, (char *)script_path, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, gnuplot, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return gs_error_set(err, GS_ERR_IO, "gnuplot: cannot start %s (%s)", gnuplot, strerror(rc));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return gs_error_set(err, GS_ERR_IO, "gnuplot: wait failed (%s)", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return gs_error_set(err, GS_ERR_IO, "gnuplot failed on %s (exit %d); its messages are in %s", script_path,
                            WIFEXITED(status) ? WEXITSTATUS(status) : -1, log_path);
    return GS_OK;
}
