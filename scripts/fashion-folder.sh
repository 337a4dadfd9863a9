#!/usr/bin/env bash
# Writes Fashion-MNIST (the IDX files of Debian's dataset-fashion-mnist) as a folder: dataset:
# OUT/train/<class>/NNNNN.png|jpg and OUT/test/..., every 4th image a quality-95 JPEG, the rest
# PNG, encoded by libpng / libjpeg-turbo through `tinyforge export-images`. NNNNN is the IDX index.
# Usage: scripts/fashion-folder.sh [OUT] [IDX_DIR]     (TINYFORGE=path/to/tinyforge to override)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-data/fashion-folder}
IDX=${2:-/usr/share/datasets/fashion-mnist}
BIN=${TINYFORGE:-.build/release/tinyforge}
[ -x "$BIN" ] || { echo "error: $BIN not found; build first: swift build -c release -Xswiftc -target-cpu -Xswiftc native" >&2; exit 2; }
rm -rf "$OUT"
"$BIN" export-images --dataset "fashion-mnist:$IDX" --out "$OUT" --jpeg-every 4 --quality 95
