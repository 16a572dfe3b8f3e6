#!/usr/bin/env bash
# Side-by-side training (or inference) throughput: geossl and PyTorch on the
# same configuration, runs alternating in one invocation, then both medians
# and the ratio geossl / PyTorch.
#
#   tools/bench/vs_pytorch.sh --backbone resnet18 --size 64 --bands 3 --batch 64 --threads 2 [--runs 3] [--inference]
#
# Needs a Release build in build/ (or GEOSSL=path/to/geossl) and Debian's
# /usr/bin/python3 with python3-torch and python3-torchvision.
set -euo pipefail
cd "$(dirname "$0")/../.."
GEOSSL=${GEOSSL:-build/geossl}
PYTHON=${PYTHON:-/usr/bin/python3}
backbone=resnet18 size=64 bands=3 batch=64 threads=2 runs=3 patch=8 inference=""
while (($#)); do
    case "$1" in
    --backbone) backbone=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --bands) bands=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --patch) patch=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --inference) inference=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "vs_pytorch.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -x "$GEOSSL" ] || { echo "vs_pytorch.sh: $GEOSSL not found: build first (bash tools/setup.sh)" >&2; exit 1; }
common=(--backbone "$backbone" --size "$size" --bands "$bands" --batch "$batch" --threads "$threads" --patch "$patch")
ours=() theirs=()
what=train
[ -n "$inference" ] && what=infer
for ((r = 1; r <= runs; r++)); do
    g=$("$GEOSSL" bench "$what" "${common[@]}" --warmup 3 --steps 7 --quiet)
    p=$("$PYTHON" tools/bench/pytorch_train.py "${common[@]}" ${inference:+--inference})
    gr=$(echo "$g" | awk '/ img\/s$/ && !/range/ {print $1}')
    pr=$(echo "$p" | awk '/ img\/s$/ {print $1}')
    echo "run $r: geossl $gr img/s, pytorch $pr img/s"
    ours+=("$gr") theirs+=("$pr")
    if ((r == 1)); then
        echo "  geossl:  $(echo "$g" | grep -E '^parameters|^peak' | tr '\n' ' ')"
        echo "  pytorch: $(echo "$p" | grep -E '^parameters|^peak' | tr '\n' ' ')"
    fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
mo=$(median "${ours[@]}") mt=$(median "${theirs[@]}")
echo "$what $backbone ${size}px ${bands} bands batch $batch threads $threads ($runs runs)"
echo "geossl median  $mo img/s"
echo "pytorch median $mt img/s"
awk -v a="$mo" -v b="$mt" 'BEGIN {printf "ratio geossl/pytorch %.2f\n", a / b}'
