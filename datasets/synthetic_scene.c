/* Layered scene recipes: the ground material, then each layer's shapes in
 * its role's material.  Every random choice (positions, angles, sizes) is
 * drawn here from the image's generator, so two images of one recipe share
 * their kind of layout and nothing else. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synthetic_internal.h"

#define PI_F 3.14159265358979f

gs_status synth_scratch_init(synth_scratch *s, int h, int w, gs_error *err) {
    memset(s, 0, sizeof *s);
    size_t n = (size_t)h * (size_t)w;
    s->h = h;
    s->w = w;
    s->mask = malloc(sizeof(float) * n);
    s->field = malloc(sizeof(float) * n);
    s->tmp = malloc(sizeof(float) * n);
    s->modulation = malloc(sizeof(float) * n);
    s->cells = malloc(sizeof(int32_t) * n);
    if (!s->mask || !s->field || !s->tmp || !s->modulation || !s->cells) {
        synth_scratch_free(s);
        return gs_error_set(err, GS_ERR_MEMORY, "out of memory for %d x %d synthetic work buffers", h, w);
    }
    return GS_OK;
}

void synth_scratch_free(synth_scratch *s) {
    free(s->mask);
    free(s->field);
    free(s->tmp);
    free(s->modulation);
    free(s->cells);
    memset(s, 0, sizeof *s);
}

void synth_jitter_spectrum(float *out, const float *base, float gain, float band_sd, gs_rng *rng) {
    for (int b = 0; b < S2_BANDS; b++) {
        float f = 1.0f + band_sd * gs_rng_normal(rng);
        out[b] = base[b] * gain * (f < 0.2f ? 0.2f : f);
    }
}

/* What a layer needs besides its parameters. */
typedef struct scene {
    int h, w;
    float side;         /* the smaller image side: sizes are fractions of it */
    float layout_angle; /* shared by streets, blocks and rectangles of one image */
    float layout_phase_x, layout_phase_y;
    synth_scratch *s;
    gs_rng *rng;
} scene;

static void clear(float *m, const scene *sc) { memset(m, 0, sizeof(float) * (size_t)sc->h * (size_t)sc->w); }

static float jitter(gs_rng *rng, float v, float spread) { return v * synth_uniform(rng, 1.0f - spread, 1.0f + spread); }

static void shape_texture(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask;
    synth_noise(m, sc->h, sc->w, jitter(sc->rng, l->a, 0.2f), (int)l->b, 0.55f, sc->rng);
    size_t n = (size_t)sc->h * sc->w;
    for (size_t i = 0; i < n; i++) {
        float v = 0.5f + (m[i] - 0.5f) * l->c;
        m[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
}

static void shape_patches(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask;
    synth_noise(m, sc->h, sc->w, jitter(sc->rng, l->a, 0.2f), 3, 0.5f, sc->rng);
    synth_threshold(m, sc->h * sc->w, jitter(sc->rng, l->b, 0.3f), l->c);
}

static void shape_stripes(const synth_layer *l, scene *sc) {
    float angle = l->c < 0.0f ? synth_uniform(sc->rng, 0.0f, PI_F) : l->c;
    synth_stripes(sc->s->mask, sc->h, sc->w, jitter(sc->rng, l->a, 0.2f) * sc->side, angle,
                  synth_uniform(sc->rng, 0.0f, 1.0f), l->b);
}

static void random_seeds(float *seeds, int n, const scene *sc) {
    for (int k = 0; k < n; k++) {
        seeds[2 * k] = synth_uniform(sc->rng, 0.0f, (float)sc->w);
        seeds[2 * k + 1] = synth_uniform(sc->rng, 0.0f, (float)sc->h);
    }
}

static void shape_parcels(const synth_layer *l, scene *sc) {
    enum { MAX_CELLS = 32 };
    int n = synth_int(sc->rng, (int)(l->a * 0.7f) > 1 ? (int)(l->a * 0.7f) : 1, (int)(l->a * 1.3f) + 1);
    if (n > MAX_CELLS) n = MAX_CELLS;
    float seeds[2 * MAX_CELLS];
    random_seeds(seeds, n, sc);
    synth_voronoi(sc->s->cells, sc->h, sc->w, seeds, n, 0.04f * sc->side, sc->rng);
    float *m = sc->s->mask, *stripes = sc->s->tmp;
    clear(m, sc);
    size_t count = (size_t)sc->h * sc->w;
    for (int k = 0; k < n; k++) {
        if (gs_rng_uniform(sc->rng) >= l->c) continue;
        /* A field is a partial cover of the role's material (its level),
         * ploughed or sown in rows that thin the cover by `depth`. */
        float level = synth_uniform(sc->rng, 0.5f, 1.0f), depth = synth_uniform(sc->rng, 0.4f, 0.8f);
        bool striped = l->b > 0.0f;
        if (striped)
            synth_stripes(stripes, sc->h, sc->w, jitter(sc->rng, l->b, 0.3f) * sc->side,
                          synth_uniform(sc->rng, 0.0f, PI_F), synth_uniform(sc->rng, 0.0f, 1.0f),
                          synth_uniform(sc->rng, 0.35f, 0.65f));
        for (size_t i = 0; i < count; i++)
            if (sc->s->cells[i] == k) m[i] = level * (striped ? 1.0f - depth * stripes[i] : 1.0f);
    }
}

static void shape_rects(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask;
    clear(m, sc);
    int n = synth_int(sc->rng, (int)ceilf(l->a * 0.6f), (int)ceilf(l->a * 1.4f));
    for (int k = 0; k < n; k++) {
        float hx = 0.5f * synth_uniform(sc->rng, l->b, l->c) * sc->side;
        float hy = 0.5f * synth_uniform(sc->rng, l->b, l->c) * sc->side;
        synth_rect(m, sc->h, sc->w, synth_uniform(sc->rng, 0.0f, (float)sc->w),
                   synth_uniform(sc->rng, 0.0f, (float)sc->h), hx, hy, sc->layout_angle, 1.0f);
    }
}

/* Grid lines at spacing through the layout phase, in both directions. */
static void shape_grid(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask;
    clear(m, sc);
    float spacing = l->a * sc->side, width = l->b * sc->side;
    float reach = sqrtf((float)sc->h * sc->h + (float)sc->w * sc->w);
    float cx = 0.5f * sc->w, cy = 0.5f * sc->h;
    for (int dir = 0; dir < 2; dir++) {
        float angle = sc->layout_angle + dir * 0.5f * PI_F;
        float nx = -sinf(angle), ny = cosf(angle);
        float phase = dir ? sc->layout_phase_y : sc->layout_phase_x;
        for (float t = -reach + phase * spacing; t < reach; t += spacing) {
            if (gs_rng_uniform(sc->rng) >= l->c) continue;
            synth_band(m, sc->h, sc->w, cx + t * nx, cy + t * ny, angle, width, 1.0f);
        }
    }
}

/* Houses along the inside edges of each block of the grid. */
static void shape_blocks(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask;
    clear(m, sc);
    float spacing = l->a * sc->side, house = l->b * sc->side;
    float ca = cosf(sc->layout_angle), sa = sinf(sc->layout_angle);
    float cx = 0.5f * sc->w, cy = 0.5f * sc->h;
    float reach = sqrtf((float)sc->h * sc->h + (float)sc->w * sc->w) * 0.5f + spacing;
    int blocks = (int)(reach / spacing) + 1;
    float step = house * 1.6f;
    for (int bu = -blocks; bu <= blocks; bu++)
        for (int bv = -blocks; bv <= blocks; bv++) {
            /* Block centre in layout coordinates: halfway between grid lines. */
            float u0 = (bu + sc->layout_phase_y + 0.5f) * spacing, v0 = (bv + sc->layout_phase_x + 0.5f) * spacing;
            float inner = 0.5f * spacing - 0.12f * spacing - 0.5f * house;
            if (inner <= 0.0f) continue;
            for (int side = 0; side < 4; side++)
                for (float t = -inner; t <= inner; t += step) {
                    if (gs_rng_uniform(sc->rng) >= l->c) continue;
                    float u = side < 2 ? t : (side == 2 ? -inner : inner);
                    float v = side < 2 ? (side == 0 ? -inner : inner) : t;
                    u += u0;
                    v += v0;
                    float x = cx + u * ca - v * sa, y = cy + u * sa + v * ca;
                    float hs = 0.5f * jitter(sc->rng, house, 0.25f), ht = 0.5f * jitter(sc->rng, house, 0.25f);
                    synth_rect(m, sc->h, sc->w, x, y, hs, ht, sc->layout_angle, 1.0f);
                }
        }
}

static void shape_discs(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask;
    clear(m, sc);
    int n = synth_int(sc->rng, (int)ceilf(l->a * 0.6f), (int)ceilf(l->a * 1.4f));
    for (int k = 0; k < n; k++) {
        float r = jitter(sc->rng, l->b, 0.3f) * sc->side;
        synth_disc(m, sc->h, sc->w, synth_uniform(sc->rng, 0.1f, 0.9f) * sc->w,
                   synth_uniform(sc->rng, 0.1f, 0.9f) * sc->h, r, l->c * sc->side, 1.0f);
    }
}

static void shape_roads(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask;
    clear(m, sc);
    float width = jitter(sc->rng, l->b, 0.25f) * sc->side;
    if (width < 1.2f) width = 1.2f;
    float x0 = synth_uniform(sc->rng, 0.3f, 0.7f) * sc->w, y0 = synth_uniform(sc->rng, 0.3f, 0.7f) * sc->h;
    float angle = synth_uniform(sc->rng, 0.0f, PI_F);
    int layout = (int)l->c;
    int n = l->a < 1.0f ? 1 : (int)l->a;
    for (int k = 0; k < n; k++) {
        if (layout == 1) {
            /* Two carriageways (or rails) side by side. */
            float gap = 1.4f * width + 0.03f * sc->side;
            float nx = -sinf(angle), ny = cosf(angle);
            synth_band(m, sc->h, sc->w, x0 - 0.5f * gap * nx, y0 - 0.5f * gap * ny, angle, width, 1.0f);
            synth_band(m, sc->h, sc->w, x0 + 0.5f * gap * nx, y0 + 0.5f * gap * ny, angle, width, 1.0f);
        } else if (layout == 2) {
            float cross = angle + synth_uniform(sc->rng, 0.35f, 0.65f) * PI_F;
            synth_band(m, sc->h, sc->w, x0, y0, angle, width, 1.0f);
            synth_band(m, sc->h, sc->w, x0, y0, cross, width, 1.0f);
        } else {
            synth_band(m, sc->h, sc->w, x0, y0, angle, width, 1.0f);
        }
        x0 = synth_uniform(sc->rng, 0.1f, 0.9f) * sc->w;
        y0 = synth_uniform(sc->rng, 0.1f, 0.9f) * sc->h;
        angle = synth_uniform(sc->rng, 0.0f, PI_F);
    }
}

static void shape_river(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask;
    clear(m, sc);
    synth_meander(m, sc->h, sc->w, synth_uniform(sc->rng, 0.0f, PI_F), jitter(sc->rng, l->a, 0.3f) * sc->side,
                  jitter(sc->rng, l->b, 0.4f) * sc->side, jitter(sc->rng, l->c, 0.3f) * sc->side, sc->rng);
}

static void shape_shore(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask, *rough = sc->s->tmp;
    clear(m, sc);
    if (gs_rng_uniform(sc->rng) < l->a) return;
    float angle = synth_uniform(sc->rng, 0.0f, 2.0f * PI_F);
    float offset = synth_uniform(sc->rng, -l->c, l->c) * sc->side;
    float nx = cosf(angle), ny = sinf(angle), amp = l->b * sc->side;
    synth_noise(rough, sc->h, sc->w, 3.0f, 3, 0.5f, sc->rng);
    for (int y = 0; y < sc->h; y++)
        for (int x = 0; x < sc->w; x++) {
            size_t i = (size_t)y * sc->w + x;
            float d = (x - 0.5f * sc->w) * nx + (y - 0.5f * sc->h) * ny - offset + amp * (rough[i] - 0.5f);
            float v = d + 0.5f;
            m[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
}

static void shape_lattice(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask, *region = sc->s->tmp;
    clear(m, sc);
    bool everywhere = l->c >= 1.0f;
    if (!everywhere) {
        synth_noise(region, sc->h, sc->w, 2.0f, 2, 0.5f, sc->rng);
        synth_threshold(region, sc->h * sc->w, l->c, 0.01f);
    }
    float spacing = jitter(sc->rng, l->a, 0.15f) * sc->side, r = jitter(sc->rng, l->b, 0.15f) * sc->side;
    float row_spacing = spacing * synth_uniform(sc->rng, 1.0f, 1.5f);
    float angle = synth_uniform(sc->rng, 0.0f, PI_F), ca = cosf(angle), sa = sinf(angle);
    float cx = 0.5f * sc->w, cy = 0.5f * sc->h;
    float reach = 0.5f * sqrtf((float)sc->h * sc->h + (float)sc->w * sc->w) + spacing;
    for (float v = -reach; v <= reach; v += row_spacing)
        for (float u = -reach; u <= reach; u += spacing) {
            float x = cx + u * ca - v * sa, y = cy + u * sa + v * ca;
            if (x < -r || y < -r || x > sc->w + r || y > sc->h + r) continue;
            int xi = (int)x, yi = (int)y;
            if (xi < 0) xi = 0;
            if (yi < 0) yi = 0;
            if (xi >= sc->w) xi = sc->w - 1;
            if (yi >= sc->h) yi = sc->h - 1;
            if (!everywhere && region[(size_t)yi * sc->w + xi] < 0.5f) continue;
            synth_disc(m, sc->h, sc->w, x, y, r, 0.0f, 1.0f);
        }
}

static void shape_contours(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask;
    synth_noise(m, sc->h, sc->w, jitter(sc->rng, l->a, 0.2f), 2, 0.4f, sc->rng);
    float threshold = cosf(PI_F * l->c);
    size_t n = (size_t)sc->h * sc->w;
    for (size_t i = 0; i < n; i++) {
        float v = (sinf(2.0f * PI_F * m[i] * l->b) - threshold) * 2.0f + 0.5f;
        m[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
}

static void shape_planes(const synth_layer *l, scene *sc) {
    float *m = sc->s->mask;
    clear(m, sc);
    int n = synth_int(sc->rng, (int)ceilf(l->a * 0.6f), (int)ceilf(l->a * 1.4f));
    for (int k = 0; k < n; k++) {
        float len = jitter(sc->rng, l->b, 0.2f) * sc->side;
        float x = synth_uniform(sc->rng, 0.15f, 0.85f) * sc->w, y = synth_uniform(sc->rng, 0.15f, 0.85f) * sc->h;
        float angle = synth_uniform(sc->rng, 0.0f, 2.0f * PI_F), ca = cosf(angle), sa = sinf(angle);
        synth_rect(m, sc->h, sc->w, x, y, 0.5f * len, 0.06f * len, angle, 1.0f);
        /* Wings a little ahead of the middle, tail at the back. */
        synth_rect(m, sc->h, sc->w, x + 0.08f * len * ca, y + 0.08f * len * sa, 0.07f * len, 0.45f * len, angle, 1.0f);
        synth_rect(m, sc->h, sc->w, x - 0.42f * len * ca, y - 0.42f * len * sa, 0.04f * len, 0.16f * len, angle, 1.0f);
    }
}

static void shape_shards(const synth_layer *l, scene *sc) {
    enum { MAX_CELLS = 64 };
    int n = (int)l->a > MAX_CELLS ? MAX_CELLS : (int)l->a < 2 ? 2 : (int)l->a;
    float seeds[2 * MAX_CELLS];
    bool set[MAX_CELLS];
    random_seeds(seeds, n, sc);
    for (int k = 0; k < n; k++) set[k] = gs_rng_uniform(sc->rng) < l->c;
    synth_voronoi(sc->s->cells, sc->h, sc->w, seeds, n, 0.02f * sc->side, sc->rng);
    float *m = sc->s->mask;
    int r = (int)ceilf(0.5f * l->b * sc->side);
    const int32_t *cells = sc->s->cells;
    for (int y = 0; y < sc->h; y++)
        for (int x = 0; x < sc->w; x++) {
            int32_t id = cells[(size_t)y * sc->w + x];
            bool crack = false;
            for (int d = 1; d <= r && !crack; d++)
                crack = (x + d < sc->w && cells[(size_t)y * sc->w + x + d] != id) ||
                        (y + d < sc->h && cells[(size_t)(y + d) * sc->w + x] != id);
            m[(size_t)y * sc->w + x] = set[id] && !crack ? 1.0f : 0.0f;
        }
}

static void render_layer(const synth_layer *l, scene *sc) {
    switch (l->shape) {
    case SHAPE_NONE: clear(sc->s->mask, sc); break;
    case SHAPE_TEXTURE: shape_texture(l, sc); break;
    case SHAPE_PATCHES: shape_patches(l, sc); break;
    case SHAPE_STRIPES: shape_stripes(l, sc); break;
    case SHAPE_PARCELS: shape_parcels(l, sc); break;
    case SHAPE_RECTS: shape_rects(l, sc); break;
    case SHAPE_GRID: shape_grid(l, sc); break;
    case SHAPE_BLOCKS: shape_blocks(l, sc); break;
    case SHAPE_DISCS: shape_discs(l, sc); break;
    case SHAPE_ROADS: shape_roads(l, sc); break;
    case SHAPE_RIVER: shape_river(l, sc); break;
    case SHAPE_SHORE: shape_shore(l, sc); break;
    case SHAPE_LATTICE: shape_lattice(l, sc); break;
    case SHAPE_CONTOURS: shape_contours(l, sc); break;
    case SHAPE_PLANES: shape_planes(l, sc); break;
    case SHAPE_SHARDS: shape_shards(l, sc); break;
    }
}

void synth_render(synth_canvas *c, const synth_recipe *r, const float *const role_spectra[SYNTH_ROLES],
                  synth_scratch *s, gs_rng *rng) {
    scene sc = {
        .h = c->h,
        .w = c->w,
        .side = (float)(c->h < c->w ? c->h : c->w),
        .s = s,
        .rng = rng,
    };
    sc.layout_angle = synth_uniform(rng, 0.0f, 0.5f * PI_F);
    sc.layout_phase_x = gs_rng_uniform(rng);
    sc.layout_phase_y = gs_rng_uniform(rng);
    size_t n = (size_t)c->h * c->w;
    /* The ground's own texture: a fine fractal brightness variation. */
    synth_noise(s->modulation, c->h, c->w, 0.12f * sc.side, 3, 0.5f, rng);
    for (size_t i = 0; i < n; i++) s->modulation[i] = 1.0f + r->texture * (s->modulation[i] - 0.5f);
    synth_fill(c, role_spectra[0]);
    synth_modulate(c, s->modulation);
    for (int k = 0; k < SYNTH_LAYERS; k++) {
        const synth_layer *l = &r->layers[k];
        if (l->shape == SHAPE_NONE) continue;
        render_layer(l, &sc);
        int role = l->role >= 0 && l->role < SYNTH_ROLES ? l->role : 0;
        synth_paint(c, s->mask, role_spectra[role], s->modulation);
    }
    /* The sensor's blur: half of each pixel's value comes from its 3x3 neighbourhood. */
    for (int b = 0; b < c->bands; b++) {
        float *plane = c->data + (size_t)b * n;
        memcpy(s->field, plane, sizeof(float) * n);
        synth_blur(s->field, c->h, c->w, 1, s->tmp);
        for (size_t i = 0; i < n; i++) plane[i] = 0.5f * (plane[i] + s->field[i]);
    }
}
