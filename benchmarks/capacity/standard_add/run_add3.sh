#!/usr/bin/env bash
# Third queue (2026-12-03, quiet machine, one core): margin at d = 64, F = 512 then F = 256, one family per run.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=$PWD
ROOT=benchmarks/capacity/standard_add
for a in 1/8 1/16; do
  for fam in spherical gaussian spiked; do
    tag="margin_d64_a${a/\//-}_${fam}"
    echo "$(date -u +%T) start $tag load $(cat /proc/loadavg)"
    .venv/bin/python -m factmlp capacity --families $fam --d 64 --alpha $a \
      --methods margin --seeds 1 --workers 1 --no-progress --out $ROOT/$tag > $ROOT/$tag.log 2>&1
    echo "$(date -u +%T) end $tag rc $? load $(cat /proc/loadavg)"
  done
done
