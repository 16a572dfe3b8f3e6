#!/usr/bin/env bash
# The same pretraining recipe in geossl and in plain PyTorch, side by side on
# one machine: for each seed, `geossl pretrain` and tools/reference/<method>_recipe.py
# train on the same training split, and `geossl eval --protocol knn` measures
# both encoders (the PyTorch one through its safetensors export), so the
# evaluation is one and the same code.  Prints, per side, kNN top-1 mean +- std
# over the seeds, the loss at 25 / 50 / 100% of training (mean over seeds)
# and the median wall time.  A benchmark, not a test: it takes minutes per run.
#
#   tools/bench/recipe_vs_pytorch.sh [options] [-- extra args for both sides]
#     --method NAME      simclr, mocov2, byol or dino [simclr]
#     --data SPEC        eurosat-rgb:DIR [eurosat-rgb:../shared/data/eurosat-rgb]
#     --epochs N         [10]     --batch N   [256]
#     --seeds "0 1 2"    seeds    [0 1 2]
#     --lr X --temperature X --weight-decay X   [the method's paper recipe below]
#   Recipes at batch 256 (the papers'; optimizer on both sides):
#     simclr  SGD   lr 0.3    T 0.2   wd 1e-6    (Chen et al. 2020, the issue's recipe)
#     mocov2  SGD   lr 0.03   T 0.2   wd 1e-4    (Chen et al. 2020, arXiv:2003.04297)
#     byol    SGD   lr 0.2            wd 1.5e-6  (Grill et al. 2020; LARS there, SGD on both sides here)
#     dino    AdamW lr 5e-4   T 0.1   wd 0.04    (Caron et al. 2021; wd cosine to 0.4 on both sides)
#     --blur-sigma "LO HI"    blur sigma range in px on both sides [geossl's default]
#     --out DIR          where runs and logs go [runs/recipe-vs-pytorch]
#     --only geossl|pytorch   run one side
#     --same-views       PyTorch trains on the views geossl's run dumped (pretrain
#                        --dump-views; its data order and augmentations): what
#                        differs then is the model and its training alone.  The
#                        dumps (about 25 MB a step at batch 256) are deleted after.
#     --same-init        PyTorch starts from geossl's initial weights (pretrain
#                        --keep-every writes them as checkpoint-epoch000.h5; BYOL
#                        only so far; needs python3-h5py)
set -euo pipefail
cd "$(dirname "$0")/../.."

method=simclr data=eurosat-rgb:../shared/data/eurosat-rgb epochs=10 batch=256 seeds="0 1 2"
lr="" temperature="" weight_decay="" blur="" out=runs/recipe-vs-pytorch only="" same_views="" same_init=""
while (($#)); do
    case "$1" in
    --method) method=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --lr) lr=$2; shift 2 ;;
    --temperature) temperature=$2; shift 2 ;;
    --weight-decay) weight_decay=$2; shift 2 ;;
    --blur-sigma) blur=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --same-views) same_views=1; shift ;;
    --same-init) same_init=1; shift ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    --) shift; break ;;
    *) echo "recipe_vs_pytorch: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$method" in
simclr) optimizer=sgd; : "${lr:=0.3}" "${temperature:=0.2}" "${weight_decay:=1e-6}" ;;
mocov2) optimizer=sgd; : "${lr:=0.03}" "${temperature:=0.2}" "${weight_decay:=1e-4}" ;;
byol) optimizer=sgd; : "${lr:=0.2}" "${weight_decay:=1.5e-6}" ;;
dino) optimizer=adamw; : "${lr:=5e-4}" "${temperature:=0.1}" "${weight_decay:=0.04}" ;;
*) echo "recipe_vs_pytorch: no recipe for method '$method' (simclr, mocov2, byol, dino)" >&2; exit 2 ;;
esac
# BYOL has no temperature: neither side is given one.
recipe=(--lr "$lr" --weight-decay "$weight_decay")
[ -n "$temperature" ] && recipe+=(--temperature "$temperature")
script=tools/reference/${method}_recipe.py
[ -f "$script" ] || { echo "recipe_vs_pytorch: no PyTorch script $script" >&2; exit 2; }
geossl=${GEOSSL:-build/geossl}
[ -x "$geossl" ] || { echo "recipe_vs_pytorch: build first ($geossl is missing)" >&2; exit 2; }
mkdir -p "$out"

gs_blur=() pt_blur=()
if [ -n "$blur" ]; then
    read -r lo hi <<<"$blur"
    gs_blur=(--augment "blur_sigma=$lo:$hi")
    pt_blur=(--blur-sigma-min "$lo" --blur-sigma-max "$hi")
else
    # geossl's default, as `geossl pretrain --print-config` states it.
    read -r lo hi < <("$geossl" pretrain --method "$method" --data "$data" --out /dev/null --print-config |
        sed -n 's/^view\.0\.blur_sigma = \([0-9.e-]*\):\([0-9.e-]*\) .*/\1 \2/p')
    pt_blur=(--blur-sigma-min "$lo" --blur-sigma-max "$hi")
fi

knn() { # eval args... -> top-1
    "$geossl" eval --protocol knn --data "$data" "$@" 2>/dev/null | sed -n 's/^top-1 //p'
}

if [ -n "$same_views$same_init" ] && [ -n "$only" ]; then
    echo "recipe_vs_pytorch: --same-views and --same-init need both sides (geossl's run writes them)" >&2
    exit 2
fi
for seed in $seeds; do
    dump=() views_from=()
    if [ -n "$same_views" ]; then
        dump=(--dump-views "$out/views-s$seed")
        views_from=(--views-from "$out/views-s$seed")
    fi
    if [ -n "$same_init" ]; then
        dump+=(--keep-every "$epochs")
        views_from+=(--init-from "$out/geossl-$method-s$seed/checkpoint-epoch000.h5")
    fi
    if [ "$only" != pytorch ]; then
        run=$out/geossl-$method-s$seed
        start=$(date +%s.%N)
        "$geossl" pretrain --method "$method" --optimizer "$optimizer" "${recipe[@]}" \
            --batch "$batch" --epochs "$epochs" --seed "$seed" --data "$data" --out "$run" --force \
            "${gs_blur[@]}" "${dump[@]}" "$@" >"$run.log" 2>&1
        wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
        echo "geossl seed $seed knn $(knn --checkpoint "$run/checkpoint.h5") wall $wall" | tee -a "$out/summary.txt"
    fi
    if [ "$only" != geossl ]; then
        run=$out/pytorch-$method-s$seed
        /usr/bin/python3 "$script" --data "$data" --epochs "$epochs" --batch "$batch" "${recipe[@]}" \
            --seed "$seed" --out "$run" "${pt_blur[@]}" "${views_from[@]}" "$@" >"$run.log" 2>&1
        if [ -n "$same_views" ]; then rm -rf "$out/views-s$seed"; fi
        wall=$(/usr/bin/python3 -c "import json; print(json.load(open('$run/result.json'))['wall_s'])")
        echo "pytorch seed $seed knn $(knn --weights "$run/backbone.safetensors") wall $wall" | tee -a "$out/summary.txt"
    fi
done

# Loss at 25/50/100% of training from each run's log.csv (step,...,loss,...).
/usr/bin/python3 - "$out" "$method" "$seeds" <<'EOF'
import csv, statistics, sys, os
out, method, seeds = sys.argv[1], sys.argv[2], sys.argv[3].split()
rows = {}
for line in open(os.path.join(out, "summary.txt")):
    side, _, seed, _, knn, _, wall = line.split()
    if seed in seeds:
        rows.setdefault(side, {})[seed] = (float(knn), float(wall))
print("\n| %s | kNN top-1 (mean +- std, %d seeds) | loss at 25%% / 50%% / 100%% | wall s (median) |" % (method, len(seeds)))
print("|---|---|---|---|")
for side in ("geossl", "pytorch"):
    if side not in rows:
        continue
    knns = [v[0] for v in rows[side].values()]
    walls = [v[1] for v in rows[side].values()]
    curves = []
    for seed in rows[side]:
        with open(os.path.join(out, "%s-%s-s%s" % (side, method, seed), "log.csv")) as f:
            curves.append([float(r["loss"]) for r in csv.DictReader(f)])
    n = min(len(c) for c in curves)
    at = [statistics.mean(c[max(0, int(n * q) - 1)] for c in curves) for q in (0.25, 0.5, 1.0)]
    sd = statistics.stdev(knns) if len(knns) > 1 else 0.0
    print("| %s | %.2f +- %.2f (%s) | %s | %.0f |" % (side, statistics.mean(knns), sd,
          ", ".join("%.2f" % k for k in knns), " / ".join("%.3f" % a for a in at), statistics.median(walls)))
EOF
