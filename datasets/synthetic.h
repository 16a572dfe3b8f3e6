/* The synthetic generator behind `geossl data synth FORMAT DIR`: writes a
 * dataset in the real on-disk layout of FORMAT (the same folder names, file
 * names, band files, JSON and split lists the real releases have), filled
 * with procedural imagery whose classes differ in texture and layout
 * (orientation, frequency, shapes, spatial arrangement) more than in their
 * per-band statistics.  It is the built-in default data of the demo and of
 * the tests, so FORMAT:DIR opens what gs_synth_write wrote into DIR.
 *
 * Deterministic: the same options give byte-identical files; every image
 * draws from its own generator seeded by (seed, format, item), so changing
 * count does not change the images that both runs write. */
#ifndef GS_DATASETS_SYNTHETIC_H
#define GS_DATASETS_SYNTHETIC_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

typedef struct gs_synth_options {
    uint64_t seed;
    /* What one unit is depends on the format; 0 takes the default:
     *   eurosat-rgb, eurosat-ms, resisc45: images per class (100, 100, 20)
     *   bigearthnet: patches (100)
     *   potsdam: training tiles (4); test tiles are half as many, rounded up
     *   seco, ssl4eo-s12: locations (20)
     *   geotiff: scenes (3); s2-timeseries: locations (4) */
    int count;
    /* Side in pixels of the finest grid; 0 takes the default:
     *   eurosat-*: 64; resisc45: 256; bigearthnet: 120 (a multiple of 6: the
     *   20 m and 60 m bands are size/2 and size/6); potsdam: 512;
     *   seco, ssl4eo-s12: 264 (a multiple of 6); geotiff: 512;
     *   s2-timeseries: 160 (each date is 0 to 2 px larger). */
    int size;
    int n_classes; /* resisc45: the first n of the 45 classes (0: all) */
    int dates;     /* seco, ssl4eo-s12, s2-timeseries: dates per location (0: 5, 4, 6) */
} gs_synth_options;

/* Writes FORMAT (a name of FORMAT:PATH: eurosat-rgb, eurosat-ms, resisc45,
 * bigearthnet, potsdam, seco, ssl4eo-s12, geotiff, s2-timeseries) into dir, which is
 * created (with its parents) when missing and must otherwise be an empty
 * folder.  opt may be NULL (defaults, seed 0).  Errors name the format, the
 * folder or the file that could not be written. */
gs_status gs_synth_write(const char *format, const char *dir, const gs_synth_options *opt, gs_error *err);

/* Writes "  name  what it writes" lines for every format. */
void gs_synth_print_formats(FILE *out);

#endif
