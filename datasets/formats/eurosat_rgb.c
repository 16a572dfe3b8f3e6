/* EuroSAT RGB: <root>/<Class>/<Class>_<n>.jpg, 64x64x3 uint8 JPEG, 10 classes.
 *
 * Helber, Bischke, Dengel, Borth, "EuroSAT: A Novel Dataset and Deep Learning
 * Benchmark for Land Use and Land Cover Classification", IEEE JSTARS 12(7),
 * 2019: the 10 class folder names below, in the dataset's (alphabetical)
 * order, and the RGB images being Sentinel-2 bands B04, B03, B02.
 *
 * The root may also be a folder above the class folders (the archive unpacks
 * into 2750/).  Indexing and reading: class_folders.h. */
#include "class_folders.h"
#include "formats.h"

static const char *const EUROSAT_CLASSES[] = {
    "AnnualCrop", "Forest",        "HerbaceousVegetation", "Highway", "Industrial",
    "Pasture",    "PermanentCrop", "Residential",          "River",   "SeaLake",
};

/* Sentinel-2A centre wavelengths (ESA Sentinel-2 User Handbook, 2015,
 * spectral band table) of B04, B03, B02; all three at 10 m. */
static const gs_band_info EUROSAT_RGB_BANDS[] = {
    {"red", 664.6f, 10.0f},
    {"green", 559.8f, 10.0f},
    {"blue", 492.4f, 10.0f},
};

static const gs_class_folder_layout EUROSAT_RGB_LAYOUT = {
    .format_name = "eurosat-rgb",
    .dataset_name = "EuroSAT",
    .codec = GS_CODEC_JPEG,
    .official_classes = EUROSAT_CLASSES,
    .n_official = (int)(sizeof EUROSAT_CLASSES / sizeof *EUROSAT_CLASSES),
    .fixed_classes = true,
    .bands = 3,
    .height = 64,
    .width = 64,
    .pixel_type = GS_PIXEL_U8,
    .band_info = EUROSAT_RGB_BANDS,
};

static gs_status eurosat_rgb_open(gs_dataset *ds, gs_error *err) {
    return gs_class_folders_open(ds, &EUROSAT_RGB_LAYOUT, err);
}

static gs_status eurosat_rgb_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    return gs_class_folders_read(ds, &EUROSAT_RGB_LAYOUT, index, out, err);
}

const gs_dataset_format gs_format_eurosat_rgb = {
    .name = "eurosat-rgb",
    .summary = "EuroSAT RGB: <root>/<Class>/<Class>_<n>.jpg, 64x64x3, 10 classes",
    .open = eurosat_rgb_open,
    .read = eurosat_rgb_read,
    .close = NULL,
    .split_lists = "eurosat",
};
