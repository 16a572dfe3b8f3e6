#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GS_ARENA_ALIGN 64

/* Blocks form a list in allocation order; everything after `current` is
 * free, which makes marks and rewinds (stack discipline) possible. */
struct gs_arena_block {
    gs_arena_block *next;
    size_t size;
    size_t offset;
    unsigned char *memory;
};

void gs_arena_init(gs_arena *arena, const char *name, size_t block_size) {
    memset(arena, 0, sizeof *arena);
    arena->name = name;
    arena->block_size = block_size ? block_size : ((size_t)1 << 20);
}

void gs_arena_free(gs_arena *arena) {
    gs_arena_block *b = arena->blocks;
    while (b) {
        gs_arena_block *next = b->next;
        free(b->memory);
        free(b);
        b = next;
    }
    arena->blocks = arena->current = NULL;
    arena->used = arena->reserved = 0;
}

static gs_arena_block *new_block(gs_arena *arena, size_t bytes) {
    size_t size = bytes > arena->block_size ? bytes : arena->block_size;
    gs_arena_block *b = malloc(sizeof *b);
    if (!b) return NULL;
    b->memory = aligned_alloc(GS_ARENA_ALIGN, (size + GS_ARENA_ALIGN - 1) / GS_ARENA_ALIGN * GS_ARENA_ALIGN);
    if (!b->memory) {
        free(b);
        return NULL;
    }
    b->size = size;
    b->offset = 0;
    b->next = NULL;
    arena->reserved += size;
    return b;
}

void *gs_arena_alloc(gs_arena *arena, size_t bytes) {
    size_t need = (bytes + GS_ARENA_ALIGN - 1) / GS_ARENA_ALIGN * GS_ARENA_ALIGN;
    if (need == 0) need = GS_ARENA_ALIGN;
    gs_arena_block *b = arena->current;
    if (!b || b->size - b->offset < need) {
        /* Move on to the next free block that fits (kept from earlier
         * steps), or append a new one, growing geometrically so a large
         * step needs few blocks. */
        gs_arena_block *prev = b;
        b = b ? b->next : arena->blocks;
        while (b && b->size < need) {
            prev = b;
            b->offset = 0;
            b = b->next;
        }
        if (!b) {
            size_t grow = arena->reserved > need ? arena->reserved : need;
            b = new_block(arena, grow);
            if (!b) return NULL;
            if (prev)
                prev->next = b;
            else
                arena->blocks = b;
        }
        b->offset = 0;
        arena->current = b;
    }
    void *p = b->memory + b->offset;
    b->offset += need;
    arena->used += need;
    if (arena->used > arena->peak) arena->peak = arena->used;
    return p;
}

void *gs_arena_calloc(gs_arena *arena, size_t bytes) {
    void *p = gs_arena_alloc(arena, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void gs_arena_reset(gs_arena *arena) {
    arena->current = arena->blocks;
    if (arena->current) arena->current->offset = 0;
    arena->used = 0;
}

gs_arena_mark gs_arena_get_mark(const gs_arena *arena) {
    return (gs_arena_mark){.block = arena->current, .offset = arena->current ? arena->current->offset : 0,
                           .used = arena->used};
}

void gs_arena_rewind(gs_arena *arena, gs_arena_mark mark) {
    if (!mark.block) {
        gs_arena_reset(arena);
        return;
    }
    arena->current = mark.block;
    mark.block->offset = mark.offset;
    arena->used = mark.used;
}
