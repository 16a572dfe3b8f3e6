#include "log.h"

#include <stdio.h>

static const char *level_name(gs_log_level level) {
    switch (level) {
    case GS_LOG_DEBUG: return "debug";
    case GS_LOG_INFO: return "info";
    case GS_LOG_WARN: return "warning";
    case GS_LOG_ERROR: return "error";
    }
    return "?";
}

void gs_log_stderr_sink(void *user, gs_log_level level, const char *line) {
    (void)user;
    fprintf(stderr, "[%s] %s\n", level_name(level), line);
}

void gs_logv(const gs_logger *logger, gs_log_level level, const char *fmt, va_list args) {
    if (!logger || !logger->sink || level < logger->min_level) return;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, args);
    logger->sink(logger->user, level, line);
}
