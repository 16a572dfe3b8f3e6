/* Scene-classification datasets stored as one folder per class,
 * <root>/<Class>/<Class>_<n>.<ext>: EuroSAT RGB, EuroSAT MS and NWPU-RESISC45
 * share the indexing and decoding here; each format file only describes its
 * layout (class names, codec, shape, bands).
 *
 * Indexing (gs_class_folders_open):
 *  - the folder holding the class folders is the root itself or the
 *    shallowest folder below it that has class folders with images in them,
 *    so the root of an unpacked archive works (EuroSAT MS unpacks into
 *    ds/images/remote_sensing/otherDatasets/sentinel_2/tif/);
 *  - fixed_classes: the class list is the official one in its order, a folder
 *    with another name warns and is skipped, a missing class warns;
 *    otherwise the class list is the folders present (sorted by name) and a
 *    folder that is not an official name warns but is kept;
 *  - a class folder without images is an error naming it;
 *  - samples are ordered by class, then by file name in natural order
 *    (Forest_2 before Forest_10: gs_split_name_compare).
 * Nothing is decoded while indexing; read() checks each file's shape. */
#ifndef GS_DATASETS_CLASS_FOLDERS_H
#define GS_DATASETS_CLASS_FOLDERS_H

#include <stdbool.h>

#include "../dataset.h"
#include "../image_io.h"

typedef enum gs_image_codec { GS_CODEC_JPEG, GS_CODEC_TIFF } gs_image_codec;

typedef struct gs_class_folder_layout {
    const char *format_name;  /* "eurosat-rgb": prefixes warnings */
    const char *dataset_name; /* "EuroSAT": in messages */
    gs_image_codec codec;
    const char *const *official_classes;
    int n_official;
    bool fixed_classes;
    int bands;
    int64_t height, width;
    gs_pixel_type pixel_type;
    const gs_band_info *band_info; /* bands entries */
} gs_class_folder_layout;

gs_status gs_class_folders_open(gs_dataset *ds, const gs_class_folder_layout *layout, gs_error *err);
/* Decodes sample `index` into out->pixels (bands x height x width, values as
 * stored); a file of another shape or sample type is an error naming it. */
gs_status gs_class_folders_read(const gs_dataset *ds, const gs_class_folder_layout *layout, int64_t index,
                                gs_sample_data *out, gs_error *err);

#endif
