/* Logging through a sink carried by the context; no global logger. */
#ifndef GS_LOG_H
#define GS_LOG_H

#include <stdarg.h>

typedef enum gs_log_level {
    GS_LOG_DEBUG = 0,
    GS_LOG_INFO = 1,
    GS_LOG_WARN = 2,
    GS_LOG_ERROR = 3,
} gs_log_level;

/* A sink receives one formatted line (without trailing newline). */
typedef void (*gs_log_sink)(void *user, gs_log_level level, const char *line);

typedef struct gs_logger {
    gs_log_sink sink; /* NULL: messages are dropped */
    void *user;
    gs_log_level min_level;
} gs_logger;

/* The default sink: writes "[level] line" to stderr (user is ignored). */
void gs_log_stderr_sink(void *user, gs_log_level level, const char *line);

void gs_logv(const gs_logger *logger, gs_log_level level, const char *fmt, va_list args);

#endif
