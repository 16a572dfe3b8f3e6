/* The text a checkpoint stores as its run configuration: space-separated
 * KEY=VALUE pairs, a value with spaces in double quotes
 * ("pretrain method=simclr arch=\"resnet18 bands=3 ...\" batch=256").
 * Evaluation reads back which method, backbone and data made a checkpoint. */
#ifndef GS_IO_RUN_CONFIG_H
#define GS_IO_RUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* The value of `key` (unquoted) into buf; false when the key is absent. */
bool gs_run_config_get(const char *text, const char *key, char *buf, size_t size);

/* Appends " key=value", quoting the value when it holds a space or is
 * empty; a double quote inside a value becomes a single quote (the text
 * has no escapes).  Returns false when buf is too small. */
bool gs_run_config_add(char *buf, size_t size, const char *key, const char *value);

#endif
