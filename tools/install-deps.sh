#!/usr/bin/env bash
# Installs the Debian 12 packages geossl builds and tests with (apt-get; sudo
# when not root).  Packages already installed are skipped.  PyTorch is not
# needed: it only regenerates the committed reference fixtures.
set -euo pipefail

PACKAGES=(build-essential cmake pkg-config libopenblas-openmp-dev libdnnl-dev libhdf5-dev libcriterion-dev
          libcsv-dev libcjson-dev libtiff-dev libjpeg-dev gnuplot-nox nettle-dev zlib1g-dev valgrind
          libopenmpi-dev openmpi-bin)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    echo "install-deps: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
