#!/usr/bin/env bash
# SeCo and SatMAE next to the baselines they claim to beat, as issue 13 asks:
# each pretrains on generated seasonal data (`geossl data synth seco`) and on
# the real Sentinel-2 time series in $GEOSSL_SHARED_DATA (cut into 64 px
# tiles), then kNN and the linear probe score the encoder on the real
# EuroSAT MS sample, with the bands the checkpoint records (RGB for SeCo,
# MoCo v2 and SatMAE temporal; the ten grouped bands for SatMAE group; the
# 12 bands of SeCo's dataset (no B10; the real series' QA bands left out)
# for SeCo and MoCo v2 trained on all bands).
# Baselines: random init (ResNet-18 and ViT-Tiny, on RGB and on all 13
# bands) and MoCo v2 on one date of the same locations (--dates 1).
# --finetune N adds end-to-end fine-tuning (N iterations) as a third column.
# Prints one table and the wall time and img/s of each pretraining.  A
# benchmark, not a test: about half an hour on 2 cores with the defaults.
# Results: one CSV per row of the table in OUT/results/, named by its label.
#
#   tools/bench/seasonal_table.sh [options]
#     --epochs N   pretraining epochs [10]      --batch N   [16]
#     --seed N     [0]                          --data generated|real|both [both]
#     --finetune N fine-tuning iterations, 0: none [0]
#     --out DIR    [runs/seasonal-table]
set -euo pipefail
cd "$(dirname "$0")/../.."

epochs=10 batch=16 seed=0 data=both out=runs/seasonal-table finetune=0
while (($#)); do
    case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --finetune) finetune=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "seasonal_table.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
geossl=${GEOSSL:-./build/geossl}
[ -x "$geossl" ] || { echo "seasonal_table.sh: $geossl is not built (cmake --build build)" >&2; exit 1; }
shared=${GEOSSL_SHARED_DATA:-../shared/data}
for needed in eurosat-ms s2-timeseries-sen2dwater; do
    [ -d "$shared/$needed" ] || { echo "seasonal_table.sh: SKIPPED: $shared/$needed is absent (set GEOSSL_SHARED_DATA)" >&2; exit 0; }
done
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mkdir -p "$out/results"
timing=$out/timing.csv
eval_spec=eurosat-ms:$shared/eurosat-ms
[ -f "$timing" ] || echo "data,method,seconds,img_per_s" >"$timing"

sources=()
if [ "$data" != real ]; then
    # 40 locations x 5 dates, 72 px (the 20 m and 60 m bands at 36 and 12 px).
    [ -d "$out/seco-generated" ] || "$geossl" data synth seco "$out/seco-generated" --count 40 --size 72 --quiet
    sources+=("generated|seco:$out/seco-generated|")
fi
if [ "$data" != generated ]; then
    sources+=("real|s2-timeseries:$shared/s2-timeseries-sen2dwater|--tile 64")
fi

# The grouped bands SatMAE's default groups cover, by name ({B2,B3,B4,B8}
# {B5,B6,B7,B8A} {B11,B12}), in the order the groups index them.
group_bands=B2,B3,B4,B8,B5,B6,B7,B8A,B11,B12 groups=0:1:2:3/4:5:6:7/8:9
# SeCo's 12 bands (its dataset has no B10), present in both sources and in EuroSAT MS.
seco_bands=B1,B2,B3,B4,B5,B6,B7,B8,B8A,B9,B11,B12
satmae_small=decoder_width=128,decoder_depth=2 # the decoder shrunk to fit 2 cores (authors: 512 x 8)

pretrain() { # pretrain NAME SOURCE_NAME SPEC TILE_ARGS args...
    local name=$1 src=$2 spec=$3 tile=$4 run
    shift 4
    run=$out/$src-$name
    if [ ! -f "$run/checkpoint.h5" ]; then
        echo "== pretrain $name on $src" >&2
        # shellcheck disable=SC2086
        "$geossl" pretrain --data "$spec" $tile --size 64 --epochs "$epochs" --batch "$batch" --seed "$seed" \
            --out "$run" --force --threads 2 --quiet "$@" >"$run.log" 2>&1 || { cat "$run.log" >&2; return 1; }
        # "NAME BACKBONE: N steps (...), loss A -> B, ..., R img/s, S s"
        awk -v d="$src" -v m="$name" '/ img\/s, / { for (i = 1; i <= NF; i++) if ($(i) == "img/s,") r = $(i - 1)
              print d "," m "," $(NF - 1) "," r }' "$run.log" >>"$timing"
    fi
}

evaluate() { # evaluate LABEL SOURCE_ARGS...
    local label=$1 protocol protocols=(knn linear) length
    shift
    [ "$finetune" -gt 0 ] && protocols+=(finetune)
    for protocol in "${protocols[@]}"; do
        length=()
        [ "$protocol" = finetune ] && length=(--iterations "$finetune" --batch "$batch")
        "$geossl" eval "$@" --data "$eval_spec" --protocol "$protocol" --seed "$seed" "${length[@]}" \
            --results "$out/results/$label.csv" \
            --force --threads 2 --quiet >/dev/null 2>>"$out/eval.log" || echo "eval $label $protocol failed (see $out/eval.log)" >&2
    done
}

for entry in "${sources[@]}"; do
    IFS='|' read -r src spec tile <<<"$entry"
    pretrain seco "$src" "$spec" "$tile" --method seco
    pretrain mocov2 "$src" "$spec" "$tile" --method mocov2 --dates 1 --bands B4,B3,B2
    pretrain seco-all "$src" "$spec" "$tile" --method seco --bands "$seco_bands" --method-options bands=all
    pretrain mocov2-all "$src" "$spec" "$tile" --method mocov2 --dates 1 --bands "$seco_bands"
    pretrain satmae-group "$src" "$spec" "$tile" --method satmae --backbone vit-tiny --patch 8 \
        --bands "$group_bands" --method-options "variant=group,groups=$groups,$satmae_small"
    pretrain satmae-temporal "$src" "$spec" "$tile" --method satmae --backbone vit-tiny --patch 8 \
        --bands B4,B3,B2 --method-options "variant=temporal,$satmae_small"
    for name in seco mocov2 seco-all mocov2-all satmae-group satmae-temporal; do
        bands=RGB
        [ "$name" = satmae-group ] && bands="10 grouped"
        [ "${name%-all}" != "$name" ] && bands=12
        evaluate "$name on $src ($bands bands)" --checkpoint "$out/$src-$name"
    done
done
# The baselines: random encoders of both kinds, on RGB and on every band.
for bands in rgb all; do
    evaluate "random resnet18 ($bands bands)" --random-init --backbone resnet18 --bands "$bands"
    evaluate "random vit-tiny ($bands bands)" --random-init --backbone vit-tiny --patch 8 --bands "$bands"
done

# One row per results file (its name is the label): kNN and linear top-1.
{
    echo "| encoder | backbone | kNN top-1 % | linear top-1 % | fine-tune top-1 % |"
    echo "|---|---|---|---|---|"
    for file in "$out"/results/*.csv; do
        label=$(basename "$file" .csv)
        awk -F, -v label="$label" '
            NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
            $idx["metric"] == "top1" { v[$idx["protocol"]] = sprintf("%.2f", $idx["value"]); b = $idx["backbone"] }
            END { f = v["finetune"] == "" ? "-" : v["finetune"]
                  printf "| %s | %s | %s | %s | %s |\n", label, b, v["knn"], v["linear"], f }' "$file"
    done
} | tee "$out/table.md"
echo
echo "| data | method | pretraining wall s | img/s |"
echo "|---|---|---|---|"
tail -n +2 "$timing" | awk -F, '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' | tee -a "$out/table.md"
