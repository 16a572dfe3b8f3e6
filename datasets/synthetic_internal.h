/* Shared machinery of the synthetic generator (synthetic*.c only): Sentinel-2
 * bands and material spectra, a spectral canvas, the shape and texture
 * primitives every format paints with, seeding, and file helpers. */
#ifndef GS_DATASETS_SYNTHETIC_INTERNAL_H
#define GS_DATASETS_SYNTHETIC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rng.h"
#include "image_io.h"
#include "synthetic.h"

/* ---- Sentinel-2 bands ----------------------------------------------------- */

/* The 13 MSI bands in wavelength order (B8A after B08). */
typedef enum s2_band {
    S2_B01,
    S2_B02,
    S2_B03,
    S2_B04,
    S2_B05,
    S2_B06,
    S2_B07,
    S2_B08,
    S2_B8A,
    S2_B09,
    S2_B10,
    S2_B11,
    S2_B12,
    S2_BANDS
} s2_band;

const char *s2_band_name(s2_band b);       /* "B01", ..., "B8A" */
const char *s2_band_short_name(s2_band b); /* "B1", ..., "B8A": SeCo and SSL4EO-S12 file names */
int s2_band_resolution_m(s2_band b);       /* 10, 20 or 60 */

/* ---- materials ------------------------------------------------------------ */

typedef enum synth_material {
    MAT_VEGETATION,
    MAT_DRY_VEGETATION,
    MAT_FOREST,
    MAT_CONIFER,
    MAT_SOIL,
    MAT_SAND,
    MAT_WATER,
    MAT_CONCRETE,
    MAT_ASPHALT,
    MAT_ROOF_RED,
    MAT_ROOF_GRAY,
    MAT_ROCK,
    MAT_SNOW,
    MAT_BURNT,
    MAT_WETLAND,
    MAT_COUNT
} synth_material;

/* Top-of-atmosphere reflectance x 10000 (Sentinel-2 L1C digital numbers) of
 * the material in each band. */
const float *synth_material_spectrum(synth_material m);

/* ---- random numbers --------------------------------------------------------- */

/* A generator for one item (an image, a patch, a location): seeded from the
 * run's seed, the format and the item's coordinates, so items are
 * independent of generation order. */
gs_rng synth_item_rng(uint64_t seed, const char *tag, uint64_t a, uint64_t b);
float synth_uniform(gs_rng *rng, float lo, float hi);
int synth_int(gs_rng *rng, int lo, int hi); /* uniform in [lo, hi] */

/* ---- the canvas ------------------------------------------------------------- */

/* A spectral image being painted: bands x h x w digital numbers; band_ids
 * says which Sentinel-2 band each plane is. */
typedef struct synth_canvas {
    int bands;
    s2_band band_ids[S2_BANDS];
    int h, w;
    float *data;
} synth_canvas;

gs_status synth_canvas_init(synth_canvas *c, const s2_band *ids, int bands, int h, int w, gs_error *err);
void synth_canvas_free(synth_canvas *c);
/* Every pixel set to the spectrum. */
void synth_fill(synth_canvas *c, const float *spectrum);
/* Blends spectrum over the canvas where mask (h x w, 0..1) is set; the
 * material's brightness follows modulation (h x w, around 1) when given. */
void synth_paint(synth_canvas *c, const float *mask, const float *spectrum, const float *modulation);
/* Multiplies every band by field (h x w). */
void synth_modulate(synth_canvas *c, const float *field);
/* Adds gaussian sensor noise of sigma_rel x value + sigma_abs. */
void synth_add_noise(synth_canvas *c, float sigma_rel, float sigma_abs, gs_rng *rng);

/* ---- fields and shapes (h x w floats, 0..1 unless said) -------------------- */

/* Smooth value noise summed over octaves (fractal): `cells` lattice cells
 * across the larger side for the first octave, each octave twice as fine
 * and `persistence` times as strong.  Normalized to 0..1. */
void synth_noise(float *out, int h, int w, float cells, int octaves, float persistence, gs_rng *rng);
/* Thresholds a field so that about `coverage` of it is set, with a soft
 * edge `softness` wide (in field units). */
void synth_threshold(float *field, int n, float coverage, float softness);
/* Soft square wave across direction angle (radians), period in pixels. */
void synth_stripes(float *out, int h, int w, float period, float angle, float phase, float duty);
/* Index of the nearest of n seeds (x, y pairs) for every pixel, with the
 * distance warped by warp (pixels) of noise so borders are not straight. */
void synth_voronoi(int32_t *out, int h, int w, const float *seeds, int n, float warp, gs_rng *rng);
/* Sets (max) a filled rectangle centred at (cx, cy), half sizes (hx, hy),
 * rotated by angle. */
void synth_rect(float *mask, int h, int w, float cx, float cy, float hx, float hy, float angle, float value);
/* Sets a filled disc, or a ring `ring` pixels wide when ring > 0. */
void synth_disc(float *mask, int h, int w, float cx, float cy, float r, float ring, float value);
/* Sets a straight band of the given width through (x0, y0) along angle. */
void synth_band(float *mask, int h, int w, float x0, float y0, float angle, float width, float value);
/* Sets a meandering band across the image along angle: a sine of the
 * given amplitude and wavelength (pixels) plus noise. */
void synth_meander(float *mask, int h, int w, float angle, float width, float amplitude, float wavelength, gs_rng *rng);
/* Box-filters each value over a (2r+1)^2 window, softening hard edges. */
void synth_blur(float *field, int h, int w, int r, float *scratch);

/* ---- scenes: layered recipes ----------------------------------------------- */

/* A scene is a ground material (role 0) with up to four layers, each
 * painting one role's material in one kind of shape.  Sizes are fractions
 * of the image side, so a recipe looks alike at 64 and 256 px. */
typedef enum synth_shape {
    SHAPE_NONE,
    SHAPE_TEXTURE,  /* continuous fractal blend: a cells across, b octaves, c contrast */
    SHAPE_PATCHES,  /* thresholded fractal noise: a cells across, b coverage, c edge softness */
    SHAPE_STRIPES,  /* parallel stripes: a period, b duty, c angle (radians; < 0: random) */
    SHAPE_PARCELS,  /* fields: a cells, b stripe period (0: solid), c fraction of fields painted */
    SHAPE_RECTS,    /* a count, b..c side range, all along the scene's layout angle */
    SHAPE_GRID,     /* streets along the layout angle: a spacing, b width, c share of streets present */
    SHAPE_BLOCKS,   /* houses inside a street grid of spacing a: b house size, c density */
    SHAPE_DISCS,    /* a count, b radius, c ring width (0: filled) */
    SHAPE_ROADS,    /* a count, b width, c layout: 0 random, 1 parallel pair, 2 crossing */
    SHAPE_RIVER,    /* meander: a width, b amplitude, c wavelength */
    SHAPE_SHORE,    /* half plane with a rough edge: a chance of none, b roughness, c offset range */
    SHAPE_LATTICE,  /* orchard rows of dots: a spacing, b radius, c share of the image planted */
    SHAPE_CONTOURS, /* terraces and dunes along noise level lines: a cells, b levels, c duty */
    SHAPE_PLANES,   /* aircraft silhouettes: a count, b length */
    SHAPE_SHARDS,   /* floes: a cells, b crack width, c share of cells set */
} synth_shape;

typedef struct synth_layer {
    synth_shape shape;
    int role;
    float a, b, c;
} synth_layer;

#define SYNTH_ROLES 4
#define SYNTH_LAYERS 4

typedef struct synth_recipe {
    const char *name;
    synth_material roles[SYNTH_ROLES]; /* typical material of each role; role 0 is the ground */
    synth_layer layers[SYNTH_LAYERS];
    float texture; /* strength of the ground's fine brightness texture */
} synth_recipe;

/* Work buffers of h x w for rendering. */
typedef struct synth_scratch {
    int h, w;
    float *mask, *field, *tmp, *modulation;
    int32_t *cells;
} synth_scratch;

gs_status synth_scratch_init(synth_scratch *s, int h, int w, gs_error *err);
void synth_scratch_free(synth_scratch *s);

/* Paints recipe r onto c (which it fills first) with the spectrum of each
 * role given (S2_BANDS values each), then blurs it a little as a sensor
 * would.  Adds no noise. */
void synth_render(synth_canvas *c, const synth_recipe *r, const float *const role_spectra[SYNTH_ROLES],
                  synth_scratch *s, gs_rng *rng);
/* base x a global gain x (1 + band_sd x normal) per band. */
void synth_jitter_spectrum(float *out, const float *base, float gain, float band_sd, gs_rng *rng);

/* ---- output ----------------------------------------------------------------- */

/* Copies canvas bands (in the order of `order`, by Sentinel-2 band) into a
 * raster, multiplying by scale. */
gs_status synth_canvas_to_raster(const synth_canvas *c, const s2_band *order, int n, float scale, gs_raster *out,
                                 gs_error *err);
/* Area-averages one canvas band by an integer factor into a 1-band raster. */
gs_status synth_band_downsample(const synth_canvas *c, s2_band band, int factor, float scale, gs_raster *out,
                                gs_error *err);

/* ---- files ---------------------------------------------------------------- */

/* snprintf into buf; an error naming the start of the path when it does not fit. */
gs_status synth_path(char *buf, size_t size, gs_error *err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
gs_status synth_mkdir(const char *path, gs_error *err); /* one level; an existing folder is fine */
gs_status synth_write_text(const char *path, const char *text, gs_error *err);

/* ---- formats (one file per family) --------------------------------------- */

gs_status synth_write_eurosat(const char *dir, const gs_synth_options *opt, bool multispectral, gs_error *err);
gs_status synth_write_resisc45(const char *dir, const gs_synth_options *opt, gs_error *err);
gs_status synth_write_bigearthnet(const char *dir, const gs_synth_options *opt, gs_error *err);
gs_status synth_write_potsdam(const char *dir, const gs_synth_options *opt, gs_error *err);
gs_status synth_write_seasonal(const char *dir, const gs_synth_options *opt, bool ssl4eo, gs_error *err);
gs_status synth_write_geotiff(const char *dir, const gs_synth_options *opt, gs_error *err);
gs_status synth_write_s2_timeseries(const char *dir, const gs_synth_options *opt, gs_error *err);

#endif
