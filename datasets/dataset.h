/* The dataset interface: one format per file under datasets/formats/, each
 * indexing its real on-disk layout (open) and decoding one sample (read).
 * A dataset is named on the command line as FORMAT:PATH everywhere
 * (eurosat-rgb:/data/EuroSAT, bigearthnet:/data/BigEarthNet-v1.0, ...).
 *
 * Pixel values are returned as stored (uint8 0..255, Sentinel-2 digital
 * numbers, ...); normalization is the loader's job (stats.h).  read() is
 * thread-safe: it touches only the sample it decodes and reports errors in a
 * gs_error, so loader workers can call it concurrently. */
#ifndef GS_DATASETS_DATASET_H
#define GS_DATASETS_DATASET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

#define GS_MAX_BANDS 16
#define GS_IGNORE_LABEL (-1)

typedef enum gs_task {
    GS_TASK_CLASSIFICATION, /* one label per sample */
    GS_TASK_MULTILABEL,     /* a set of labels per sample (BigEarthNet) */
    GS_TASK_SEGMENTATION,   /* a label per pixel (Potsdam) */
    GS_TASK_UNLABELED,      /* pretraining imagery (seasonal Sentinel-2, GeoTIFF folders) */
} gs_task;

typedef enum gs_split { GS_SPLIT_NONE = -1, GS_SPLIT_TRAIN = 0, GS_SPLIT_VAL = 1, GS_SPLIT_TEST = 2 } gs_split;

typedef struct gs_band_info {
    char name[16];       /* "B04", "red", "IR" */
    float wavelength_nm; /* centre wavelength; 0 when unknown */
    float resolution_m;  /* native ground sampling distance; 0 when unknown */
} gs_band_info;

typedef struct gs_sample {
    char *path;       /* the sample's file, or its folder (BigEarthNet patch, seasonal location) */
    char *stem;       /* file or folder name without extension: what split files list */
    int32_t label;    /* classification: class index; otherwise GS_IGNORE_LABEL */
    uint64_t labels;  /* multi-label: bit c set when class c is present (<= 64 classes) */
    int split;        /* gs_split, from split files or gs_split_stratified */
    int64_t x, y;     /* patch offset inside a larger tile (Potsdam tiles, GeoTIFF scenes) */
    int32_t group;    /* location id for seasonal data, tile id for patches; -1 when none */
} gs_sample;

typedef struct gs_dataset_options {
    int patch_size;     /* tiling of large scenes (Potsdam tiles, GeoTIFF folders); 0: format default */
    int stride;         /* 0: patch_size (no overlap) */
    bool eroded_labels; /* Potsdam: use the *_noBoundary label files */
    bool bigearthnet19; /* BigEarthNet: the 19-class nomenclature instead of 43 */
    int dates;          /* seasonal formats: dates per sample; 0: format default */
    /* The largest scene a format accepts while indexing (GeoTIFF folders,
     * Potsdam tiles, time-series dates, the first band file that sets a
     * format's sample size), in bytes of samples as stored: width x height x
     * bands x bytes per sample.  0: 10^9 (GS_IMAGE_MAX_BYTES).  A header
     * can declare any size, and the index (one sample per patch) and each
     * strip decoded grow with it. */
    int64_t max_scene_bytes;
    /* Bands by name, in the order given: "B4,B3,B2" (Sentinel-2 names in
     * either spelling, B4 or B04), "red,green,blue", "rgb" (B04,B03,B02,
     * or red,green,blue, or R,G,B: whichever the data has), "all" or ""
     * (every band as the format reads it).  A name the data lacks is an
     * error naming it and the bands there are.  band_selection.c. */
    char bands[160];
} gs_dataset_options;

typedef struct gs_dataset_format gs_dataset_format;
/* band_stats.h; named here only by pointer, so dataset.h includes nothing of
 * the statistics or the cache. */
struct gs_band_stats;
struct gs_source_fingerprint;

typedef struct gs_dataset {
    const gs_dataset_format *format;
    char *root;
    gs_task task;
    int n_classes;
    char **class_names;           /* n_classes names */
    int bands;
    gs_band_info band_info[GS_MAX_BANDS];
    int64_t height, width;        /* of every sample as read() returns it */
    int dates;                    /* images per sample: 1, or several for seasonal formats */
    gs_sample *samples;
    int64_t n_samples;
    int64_t capacity;
    int64_t n_warnings;           /* unexpected names etc., reported by open() on stderr */
    gs_dataset_options options;
    /* Where the train/val/test split came from, as result rows record it:
     * "official" (the format's own or its published lists in the data
     * folder), "file:DIR" (lists from --splits DIR), "every-5th",
     * "stratified"; "" until a split is made. */
    char split_source[160];
    void *state;                  /* format-private */
    /* options.bands chose some of the bands the format reads: source_bands
     * of them (0: no selection), band_source[b] the source band that is
     * band b.  Read samples through gs_dataset_read, which applies it. */
    int source_bands;
    int band_source[GS_MAX_BANDS];
} gs_dataset;

/* What read() fills: buffers sized by the caller from the dataset. */
typedef struct gs_sample_data {
    float *pixels;  /* dates * bands * height * width */
    int32_t *mask;  /* segmentation: height * width class ids (GS_IGNORE_LABEL where unlabeled) */
} gs_sample_data;

struct gs_dataset_format {
    const char *name;    /* the FORMAT of FORMAT:PATH */
    const char *summary; /* one line for --help */
    /* Index the samples under ds->root (set by gs_dataset_open) and fill every
     * other field of ds.  Bad files found while indexing are errors naming the
     * file; unexpected but harmless things (an unknown class folder) warn. */
    gs_status (*open)(gs_dataset *ds, gs_error *err);
    gs_status (*read)(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err);
    void (*close)(gs_dataset *ds); /* frees ds->state; may be NULL */
    /* The published split lists' prefix: "<prefix>-train.txt", "-val.txt",
     * "-test.txt" in the data folder (EuroSAT's, RESISC45's); NULL: none. */
    const char *split_lists;
    /* What a packed copy of a dataset (the HDF5 cache) stores about its
     * source, so stats.c takes it from there instead of recomputing it,
     * without knowing the cache: the training band statistics (false when
     * none are stored) and the source's fingerprint.  NULL for formats that
     * read the source files themselves. */
    bool (*stored_stats)(const gs_dataset *ds, struct gs_band_stats *out);
    bool (*stored_fingerprint)(const gs_dataset *ds, struct gs_source_fingerprint *out);
    /* Cuts large scenes into tiles of options.patch_size (--tile). */
    bool tiled;
};

/* Parses "FORMAT:PATH", finds the format and opens it.  options may be NULL. */
gs_status gs_dataset_open(const char *spec, const gs_dataset_options *options, gs_dataset *out, gs_error *err);
void gs_dataset_close(gs_dataset *ds);
const gs_dataset_format *gs_dataset_format_find(const char *name);
/* Writes "  name  summary" lines for every format. */
void gs_dataset_print_formats(FILE *out);
/* The i-th format of the registry (0, 1, ...), NULL past the last. */
const gs_dataset_format *gs_dataset_format_at(int i);
/* Prints what a format found beyond the fields above, for `data check`: the
 * dates of each location of a time series.  Nothing for most formats. */
void gs_dataset_describe(const gs_dataset *ds, FILE *out);
/* The acquisition date of each of sample `index`'s ds->dates images, in the
 * order read() returns them, as year, month (1-12), day triples: ymd holds
 * 3 * ds->dates values.  For SatMAE's temporal encoding.  False (ymd
 * untouched) where the format does not know dates (s2-timeseries does, from
 * its file names). */
bool gs_dataset_sample_dates(const gs_dataset *ds, int64_t index, int32_t *ymd);

/* One sample as its format reads it, with options.bands' selection
 * applied: what every reader outside the formats calls.  out->pixels must
 * hold gs_dataset_read_floats(ds) floats; the sample is its first
 * gs_dataset_sample_floats(ds). */
gs_status gs_dataset_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err);
/* The buffer gs_dataset_read needs: the sample, plus, under a band
 * selection, room for the whole sample the format reads. */
int64_t gs_dataset_read_floats(const gs_dataset *ds);
/* Applies a band selection (as options.bands) to an open dataset; called by
 * gs_dataset_open.  A second selection picks among the bands already
 * selected. */
gs_status gs_dataset_select_bands(gs_dataset *ds, const char *spec, gs_error *err);
/* Whether the dataset's bands are exactly `names` ("B04,B03,B02"), in
 * that order, under either spelling: no selection needed. */
bool gs_dataset_bands_are(const gs_dataset *ds, const char *names);
/* The names of bands bands[0..n) (NULL: the first n) joined by ',';
 * returns out. */
const char *gs_dataset_band_names_at(const gs_dataset *ds, const int *bands, int n, char *out, size_t size);
/* The bands' names joined by ',' ("B04,B03,B02"), as checkpoints record
 * them; returns out. */
const char *gs_dataset_band_names(const gs_dataset *ds, char *out, size_t size);

/* Helpers for formats. */
gs_sample *gs_dataset_add_sample(gs_dataset *ds, const char *path, const char *stem, gs_error *err);
/* Index of `name` among the class names, or -1. */
int gs_dataset_class_index(const gs_dataset *ds, const char *name);
gs_status gs_dataset_set_classes(gs_dataset *ds, const char *const *names, int n, gs_error *err);
/* Floats read() needs for pixels: dates * bands * height * width. */
int64_t gs_dataset_sample_floats(const gs_dataset *ds);
/* The stem of a path: "a/b/Forest_12.tif" -> "Forest_12". malloc'd. */
char *gs_path_stem(const char *path);

#endif
