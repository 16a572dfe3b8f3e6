#include "run_config.h"

#include <stdio.h>
#include <string.h>

bool gs_run_config_get(const char *text, const char *key, char *buf, size_t size) {
    size_t key_len = strlen(key);
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ' ') p++;
        const char *name = p;
        while (*p && *p != '=' && *p != ' ') p++;
        size_t name_len = (size_t)(p - name);
        const char *value = p, *end = p;
        if (*p == '=') {
            p++;
            if (*p == '"') {
                value = ++p;
                while (*p && *p != '"') p++;
                end = p;
                if (*p) p++;
            } else {
                value = p;
                while (*p && *p != ' ') p++;
                end = p;
            }
        }
        if (name_len == key_len && !strncmp(name, key, key_len)) {
            size_t n = (size_t)(end - value);
            if (n >= size) n = size - 1;
            memcpy(buf, value, n);
            buf[n] = '\0';
            return true;
        }
    }
    return false;
}

bool gs_run_config_add(char *buf, size_t size, const char *key, const char *value) {
    size_t used = strlen(buf);
    bool quote = !*value || strchr(value, ' ') != NULL;
    int n = snprintf(buf + used, size - used, " %s=%s", key, quote ? "\"" : "");
    if (n < 0 || (size_t)n >= size - used) return false;
    used += (size_t)n;
    for (const char *v = value; *v; v++) {
        if (used + 1 >= size) return false;
        buf[used++] = *v == '"' ? '\'' : *v;
    }
    if (quote) {
        if (used + 1 >= size) return false;
        buf[used++] = '"';
    }
    buf[used] = '\0';
    return true;
}
