#!/usr/bin/env bash
# issue 15: Fashion-MNIST search with and without --patch auto under a tight SRAM budget (10 KB)
TF=${TF:-.build/release/tinyforge}
OUT=${1:?usage: search_patch.sh OUTDIR}
for p in off auto; do
  $TF compare --space mcu28 --dataset fashion-mnist --target stm32f746 --sram 10KB --flash 256KB --macs 6M \
    --trials 24 --batch 4 --seeds 3 --proposers random --epochs 2 --subset 0.1 \
    --eval-arg=--batch --eval-arg=64 --eval-arg=--lr --eval-arg=0.1 --patch $p --out "$OUT/$p"
done
