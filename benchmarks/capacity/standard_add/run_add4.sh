#!/usr/bin/env bash
# Fourth queue (2026-12-03): the d = 128 extension, spherical only, F = 512 (alpha 1/32), one method per run.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=$PWD
ROOT=benchmarks/capacity/standard_add
while kill -0 8698 2>/dev/null; do sleep 5; done
for m in encdec gd margin hebbian; do
  tag="${m}_d128_a1-32_spherical"
  echo "$(date -u +%T) start $tag load $(cat /proc/loadavg)"
  .venv/bin/python -m factmlp capacity --families spherical --d 128 --alpha 1/32 \
    --methods $m --seeds 1 --workers 1 --no-progress --out $ROOT/$tag > $ROOT/$tag.log 2>&1
  echo "$(date -u +%T) end $tag rc $? load $(cat /proc/loadavg)"
done
