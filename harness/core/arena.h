/* Bump allocators with explicit lifetimes.
 *
 * The engine owns memory in four arenas (see context.h): parameters,
 * gradients, optimizer state, and activations.  The activation arena is reset
 * at the start of every step, which frees the whole forward pass and tape at
 * once.  Blocks are kept across resets, so a steady training loop stops
 * calling malloc after its first step. */
#ifndef GS_ARENA_H
#define GS_ARENA_H

#include <stddef.h>

typedef struct gs_arena_block gs_arena_block;

typedef struct gs_arena {
    const char *name;       /* for error messages: "activations", ... */
    gs_arena_block *blocks; /* in allocation order; those after `current` are free */
    gs_arena_block *current;
    size_t block_size;      /* minimum size of a new block */
    size_t used;            /* bytes handed out since the last reset */
    size_t peak;            /* high-water mark of `used` */
    size_t reserved;        /* bytes obtained from malloc */
} gs_arena;

void gs_arena_init(gs_arena *arena, const char *name, size_t block_size);
void gs_arena_free(gs_arena *arena);
/* 64-byte aligned memory, uninitialized.  NULL only when malloc fails. */
void *gs_arena_alloc(gs_arena *arena, size_t bytes);
/* Same, zero-filled. */
void *gs_arena_calloc(gs_arena *arena, size_t bytes);
/* Forget every allocation; keep the blocks for reuse. */
void gs_arena_reset(gs_arena *arena);

/* A position in the arena: rewinding to it frees everything allocated after
 * it (used by inference to drop a block's temporaries as it goes). */
typedef struct gs_arena_mark {
    gs_arena_block *block;
    size_t offset;
    size_t used;
} gs_arena_mark;

gs_arena_mark gs_arena_get_mark(const gs_arena *arena);
void gs_arena_rewind(gs_arena *arena, gs_arena_mark mark);

#endif
