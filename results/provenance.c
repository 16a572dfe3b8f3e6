#include "provenance.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef GEOSSL_SOURCE_DIR
#define GEOSSL_SOURCE_DIR ""
#endif
#ifndef GEOSSL_GIT_COMMIT
#define GEOSSL_GIT_COMMIT "unknown"
#endif

uint64_t gs_fnv1a64(const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
}

/* The source path goes into a shell command: single-quote it, with each
 * embedded quote written as '\''. */
static int shell_quote(const char *s, char *out, size_t size) {
    size_t o = 0;
    if (o + 1 >= size) return 0;
    out[o++] = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            if (o + 4 >= size) return 0;
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            if (o + 1 >= size) return 0;
            out[o++] = *s;
        }
    }
    if (o + 2 > size) return 0;
    out[o++] = '\'';
    out[o] = '\0';
    return 1;
}

void gs_provenance_git_commit(char *buf, size_t size) {
    snprintf(buf, size, "%s", GEOSSL_GIT_COMMIT);
    char quoted[2048], command[2200];
    if (!GEOSSL_SOURCE_DIR[0] || !shell_quote(GEOSSL_SOURCE_DIR, quoted, sizeof quoted)) return;
    snprintf(command, sizeof command, "git -C %s describe --always --dirty --abbrev=12 2>/dev/null", quoted);
    FILE *p = popen(command, "r");
    if (!p) return;
    char line[128] = "";
    char *got = fgets(line, sizeof line, p);
    int rc = pclose(p);
    trim(line);
    if (got && rc == 0 && line[0]) snprintf(buf, size, "%s", line);
}

void gs_provenance_cpu_model(const char *cpuinfo_path, char *buf, size_t size) {
    snprintf(buf, size, "unknown");
    FILE *f = fopen(cpuinfo_path, "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t') value++;
        trim(value);
        if (*value) snprintf(buf, size, "%s", value);
        break;
    }
    fclose(f);
}

void gs_provenance_date_utc(char *buf, size_t size) {
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(buf, size, "unknown");
}

void gs_provenance_collect(gs_provenance *p, const char *config_text, int threads, double wall_time_s) {
    memset(p, 0, sizeof *p);
    gs_provenance_git_commit(p->git_commit, sizeof p->git_commit);
    const char *text = config_text ? config_text : "";
    snprintf(p->config_hash, sizeof p->config_hash, "%016llx",
             (unsigned long long)gs_fnv1a64(text, strlen(text)));
    gs_provenance_date_utc(p->date, sizeof p->date);
    gs_provenance_cpu_model("/proc/cpuinfo", p->cpu, sizeof p->cpu);
    p->threads = threads;
    p->wall_time_s = wall_time_s;
}

void gs_result_row_set_provenance(gs_result_row *row, const gs_provenance *p) {
    row->git_commit = p->git_commit;
    row->config_hash = p->config_hash;
    row->date = p->date;
    row->cpu = p->cpu;
    row->threads = p->threads;
    row->wall_time_s = p->wall_time_s;
}
