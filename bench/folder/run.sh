#!/usr/bin/env bash
# Load speed of folder: datasets against Pillow + numpy (bench/RESULTS-folder.md).
# Usage: bench/folder/run.sh FOLDER [SIZE]   (FOLDER from scripts/fashion-folder.sh; SIZE 0 = keep)
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:?folder dataset}
SIZE=${2:-14}
BIN=${TINYFORGE:-.build/release/tinyforge}
CACHE=$(mktemp -d)
trap 'rm -rf "$CACHE"' EXIT
SRC="folder:$DIR,channels=1,cache=$CACHE"
[ "$SIZE" != 0 ] && SRC="$SRC,size=$SIZE"
# The machine is shared: besides wall time, bash's `time` gives the CPU seconds (user + sys)
# each run really used, which other load does not inflate.
TIMEFORMAT='   wall %R s, cpu %U s user + %S s sys'
for t in 1 2; do
  rm -rf "$CACHE"/*
  echo "## tinyforge, decode + resize, $t thread(s)"; time "$BIN" dataset-info --dataset "$SRC" --threads "$t"
done
echo "## tinyforge, cached load"; time "$BIN" dataset-info --dataset "$SRC"
for w in 1 2; do
  echo "## Pillow + numpy, $w process(es)"; time python3 bench/folder/pillow_load.py "$DIR" --size "$SIZE" --channels 1 --workers "$w"
done
