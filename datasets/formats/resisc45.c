/* NWPU-RESISC45: <root>/<class>/<class>_<nnn>.jpg, 256x256x3 uint8 JPEG.
 *
 * Cheng, Han, Lu, "Remote Sensing Image Scene Classification: Benchmark and
 * State of the Art", Proceedings of the IEEE 105(10), 2017: the 45 class
 * names below (the release's folder names), 700 images of 256x256 each.
 *
 * Any subset of class folders works: the class list is the folders present,
 * sorted by name; a folder that is not an official name warns and is kept
 * (samples often rename them, e.g. 'farmland').  Images of another size are
 * errors, never silently resized.  Indexing and reading: class_folders.h. */
#include "class_folders.h"
#include "formats.h"

static const char *const RESISC45_CLASSES[] = {
    "airplane",           "airport",          "baseball_diamond",     "basketball_court",  "beach",
    "bridge",             "chaparral",        "church",               "circular_farmland", "cloud",
    "commercial_area",    "dense_residential", "desert",              "forest",            "freeway",
    "golf_course",        "ground_track_field", "harbor",             "industrial_area",   "intersection",
    "island",             "lake",             "meadow",               "medium_residential", "mobile_home_park",
    "mountain",           "overpass",         "palace",               "parking_lot",       "railway",
    "railway_station",    "rectangular_farmland", "river",            "roundabout",        "runway",
    "sea_ice",            "ship",             "snowberg",             "sparse_residential", "stadium",
    "storage_tank",       "tennis_court",     "terrace",              "thermal_power_station", "wetland",
};

/* Aerial/satellite RGB from Google Earth at 0.2-30 m: no single wavelength
 * or resolution to state. */
static const gs_band_info RESISC45_BANDS[] = {
    {"red", 0.0f, 0.0f},
    {"green", 0.0f, 0.0f},
    {"blue", 0.0f, 0.0f},
};

static const gs_class_folder_layout RESISC45_LAYOUT = {
    .format_name = "resisc45",
    .dataset_name = "NWPU-RESISC45",
    .codec = GS_CODEC_JPEG,
    .official_classes = RESISC45_CLASSES,
    .n_official = (int)(sizeof RESISC45_CLASSES / sizeof *RESISC45_CLASSES),
    .fixed_classes = false,
    .bands = 3,
    .height = 256,
    .width = 256,
    .pixel_type = GS_PIXEL_U8,
    .band_info = RESISC45_BANDS,
};

static gs_status resisc45_open(gs_dataset *ds, gs_error *err) {
    return gs_class_folders_open(ds, &RESISC45_LAYOUT, err);
}

static gs_status resisc45_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    return gs_class_folders_read(ds, &RESISC45_LAYOUT, index, out, err);
}

const gs_dataset_format gs_format_resisc45 = {
    .name = "resisc45",
    .summary = "NWPU-RESISC45: <root>/<class>/<class>_<nnn>.jpg, 256x256x3, 45 classes (any subset)",
    .open = resisc45_open,
    .read = resisc45_read,
    .close = NULL,
    .split_lists = "resisc45",
};
