#!/usr/bin/env bash
# GLCNet, FALSE and SimCLR against random init for semantic segmentation, as
# GLCNet and FALSE are measured: each pretrains a ResNet-18 on Potsdam's
# training tiles, then `geossl eval --protocol segment --decoder deeplabv3plus`
# fine-tunes the whole network with a DeepLabv3+ head (the ASPP from the
# checkpoint when the pretraining trained one: GLCNet's) on a fraction of the
# training tiles and scores the official test tiles (the real crops: the val
# crop).  One seed drives both pretraining and fine-tuning.  Prints OA,
# kappa, mIoU and GLCNet's tile-averaged mIoU, mean +- std over the seeds,
# and the wall time of each part.  A benchmark, not a test: it takes about an
# hour on 2 cores with the defaults.
#
#   tools/bench/segmentation_table.sh [options]
#     --data generated|real|both   generated Potsdam (`geossl data synth potsdam`,
#                                  --count 16 tiles of 256 px; 1% and 10% of the tiles)
#                                  and/or the real crops in $GEOSSL_SHARED_DATA/potsdam-crops
#                                  (one 256 px crop each for training and test; 10% and 50%) [both]
#     --methods "glcnet false simclr"   pretraining methods (random init always runs)
#     --seeds "0 1 2"                   seeds [0 1 2]
#     --epochs N        pretraining epochs on the generated tiles [8]; the real
#                       crops (16 tiles, 1 step an epoch) get 8 times as many: the same steps
#     --iterations N    fine-tuning steps [100]       --tile PX   tile side [64]
#     --out DIR         runs, results.csv and the table [runs/segmentation-table]
set -euo pipefail
cd "$(dirname "$0")/../.."

data=both methods="glcnet false simclr" seeds="0 1 2" epochs=8 iterations=100 tile=64
out=runs/segmentation-table
while (($#)); do
    case "$1" in
    --data) data=$2; shift 2 ;;
    --methods) methods=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --tile) tile=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "segmentation_table.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$data" in generated | real | both) ;; *) echo "segmentation_table.sh: --data generated|real|both, not '$data'" >&2; exit 2 ;; esac
geossl=${GEOSSL:-./build/geossl}
[ -x "$geossl" ] || { echo "segmentation_table.sh: $geossl is not built (cmake --build build)" >&2; exit 1; }
shared=${GEOSSL_SHARED_DATA:-../shared/data}
# Several processes on 2 cores: OpenMP threads that spin while they wait
# would steal each other's cores.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

mkdir -p "$out"
timing=$out/timing.csv
[ -f "$timing" ] || echo "data,method,seed,part,seconds" >"$timing"

datasets=()
if [ "$data" != real ]; then
    if [ ! -d "$out/potsdam-generated" ]; then
        "$geossl" data synth potsdam "$out/potsdam-generated" --count 16 --size 256 --quiet
    fi
    # 256 training tiles: 1% is 3 (fine-tuning needs 2 at least for batchnorm).
    datasets+=("generated:potsdam:$out/potsdam-generated:$epochs:32:1% 10%")
fi
if [ "$data" != generated ]; then
    if [ -d "$shared/potsdam-crops" ]; then
        # 16 tiles, one step an epoch at batch 16: 8 times the epochs gives the
        # generated run's steps (256 tiles, 8 steps an epoch at batch 32).  1%
        # of 16 tiles is 1, too few to fine-tune: 10% (2 tiles) and 50% (8).
        datasets+=("real:potsdam:$shared/potsdam-crops:$((epochs * 8)):16:10% 50%")
    else
        echo "segmentation_table.sh: SKIPPED the real crops: $shared/potsdam-crops is absent (set GEOSSL_SHARED_DATA)" >&2
    fi
fi

timed() { # timed DATA METHOD SEED PART command...
    local d=$1 m=$2 s=$3 part=$4 t0 t1
    shift 4
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    echo "$d,$m,$s,$part,$(echo "$t1 - $t0" | bc)" >>"$timing"
}

for entry in "${datasets[@]}"; do
    IFS=: read -r name format path pre_epochs pre_batch fractions <<<"$entry"
    spec=$format:$path
    # One results file per dataset: the store names both folders "potsdam".
    results=$out/results-$name.csv
    for seed in $seeds; do
        for method in random $methods; do
            log=$out/$name-$method-s$seed.log
            source_args=(--random-init --method random)
            if [ "$method" != random ]; then
                run=$out/$name-$method-s$seed
                if [ ! -f "$run/checkpoint.h5" ] || [ -f "$run/.unfinished" ]; then
                    echo "== $name: pretrain $method seed $seed ($pre_epochs epochs, batch $pre_batch)" >&2
                    rm -rf "$run"
                    mkdir -p "$run" && touch "$run/.unfinished"
                    timed "$name" "$method" "$seed" pretrain \
                        "$geossl" pretrain --method "$method" --data "$spec" --tile "$tile" --size "$tile" \
                        --epochs "$pre_epochs" --batch "$pre_batch" --seed "$seed" --out "$run" \
                        --threads 2 --quiet >"$log" 2>&1
                    rm -f "$run/.unfinished"
                fi
                source_args=(--checkpoint "$run")
            fi
            for labels in $fractions; do
                echo "== $name: $method seed $seed, DeepLabv3+ on $labels of the tiles" >&2
                timed "$name" "$method" "$seed" "finetune-$labels" \
                    "$geossl" eval "${source_args[@]}" --data "$spec" --tile "$tile" --protocol segment \
                    --decoder deeplabv3plus --labels "$labels" --iterations "$iterations" --batch 8 \
                    --seed "$seed" --results "$results" --force --threads 2 --quiet >>"$log" 2>&1
            done
        done
    done
done

# The table: one row per data x method x label fraction, mean +- std over seeds.
for entry in "${datasets[@]}"; do
    name=${entry%%:*}
    awk -F, -v data="$name" '
    function col(name) { return idx[name] }
    NR == FNR && FNR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
    NR == FNR {
        m = $col("metric")
        if (m != "oa" && m != "kappa" && m != "miou" && m != "miou_tile_mean") next
        key = data SUBSEP $col("method") SUBSEP $col("label_fraction")
        if (!(key in seen)) { seen[key] = 1; keys[++nk] = key }
        v = $col("value") + 0
        n[key, m]++; sum[key, m] += v; sq[key, m] += v * v
        next
    }
    FNR > 1 && $1 == data { wall[$2] += $5 }
    function cell(key, m,   mean, var) {
        if (!n[key, m]) return "-"
        mean = sum[key, m] / n[key, m]
        var = n[key, m] > 1 ? (sq[key, m] - n[key, m] * mean * mean) / (n[key, m] - 1) : 0
        if (var < 0) var = 0
        return sprintf("%.2f +- %.2f", mean, sqrt(var))
    }
    END {
        print "| data | method | labels | seeds | OA % | kappa | mIoU % | tile-mean mIoU % | wall s (all seeds) |"
        print "|---|---|---|---|---|---|---|---|---|"
        for (i = 1; i <= nk; i++) {
            split(keys[i], k, SUBSEP)
            printf "| %s | %s | %g%% | %d | %s | %s | %s | %s | %.0f |\n", k[1], k[2], 100 * k[3],
                n[keys[i], "miou"], cell(keys[i], "oa"), cell(keys[i], "kappa"), cell(keys[i], "miou"),
                cell(keys[i], "miou_tile_mean"), wall[k[2]]
        }
    }' "$out/results-$name.csv" "$timing"
done | awk 'NR == 1 || !/^\| data|^\|---/ || NR == 2' | tee "$out/table.md"
echo "wall s: pretraining and fine-tuning of every seed and fraction of that method on that data" >&2
