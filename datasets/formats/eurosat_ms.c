/* EuroSAT MS, the all-bands release: <root>/<Class>/<Class>_<n>.tif, 13-band
 * uint16 GeoTIFF, 64x64, the same 10 classes as EuroSAT RGB.
 *
 * Helber, Bischke, Dengel, Borth, "EuroSAT: A Novel Dataset and Deep Learning
 * Benchmark for Land Use and Land Cover Classification", IEEE JSTARS 12(7),
 * 2019: all 13 Sentinel-2 bands, resampled to 10 m, stored in the order
 * B01..B08, B8A (the paper's "B08A"), B09, B10, B11, B12.
 *
 * The archive unpacks into ds/images/remote_sensing/otherDatasets/sentinel_2/tif/,
 * so the root may be any folder above the class folders (class_folders.h). */
#include "class_folders.h"
#include "formats.h"

static const char *const EUROSAT_CLASSES[] = {
    "AnnualCrop", "Forest",        "HerbaceousVegetation", "Highway", "Industrial",
    "Pasture",    "PermanentCrop", "Residential",          "River",   "SeaLake",
};

/* ESA band names; Sentinel-2A centre wavelengths and native resolutions from
 * the ESA Sentinel-2 User Handbook (2015), spectral band table. */
static const gs_band_info EUROSAT_MS_BANDS[] = {
    {"B01", 442.7f, 60.0f},  {"B02", 492.4f, 10.0f},  {"B03", 559.8f, 10.0f},  {"B04", 664.6f, 10.0f},
    {"B05", 704.1f, 20.0f},  {"B06", 740.5f, 20.0f},  {"B07", 782.8f, 20.0f},  {"B08", 832.8f, 10.0f},
    {"B8A", 864.7f, 20.0f},  {"B09", 945.1f, 60.0f},  {"B10", 1373.5f, 60.0f}, {"B11", 1613.7f, 20.0f},
    {"B12", 2202.4f, 20.0f},
};

static const gs_class_folder_layout EUROSAT_MS_LAYOUT = {
    .format_name = "eurosat-ms",
    .dataset_name = "EuroSAT",
    .codec = GS_CODEC_TIFF,
    .official_classes = EUROSAT_CLASSES,
    .n_official = (int)(sizeof EUROSAT_CLASSES / sizeof *EUROSAT_CLASSES),
    .fixed_classes = true,
    .bands = (int)(sizeof EUROSAT_MS_BANDS / sizeof *EUROSAT_MS_BANDS),
    .height = 64,
    .width = 64,
    .pixel_type = GS_PIXEL_U16,
    .band_info = EUROSAT_MS_BANDS,
};

static gs_status eurosat_ms_open(gs_dataset *ds, gs_error *err) {
    return gs_class_folders_open(ds, &EUROSAT_MS_LAYOUT, err);
}

static gs_status eurosat_ms_read(const gs_dataset *ds, int64_t index, gs_sample_data *out, gs_error *err) {
    return gs_class_folders_read(ds, &EUROSAT_MS_LAYOUT, index, out, err);
}

const gs_dataset_format gs_format_eurosat_ms = {
    .name = "eurosat-ms",
    .summary = "EuroSAT MS (all bands): <root>/<Class>/<Class>_<n>.tif, 13 x 64x64 uint16, 10 classes",
    .open = eurosat_ms_open,
    .read = eurosat_ms_read,
    .close = NULL,
    .split_lists = "eurosat",
};
