#!/usr/bin/env bash
# Sixth queue (2026-12-03): GD rerun at d = 32 and 64 beside run_add5.sh's margin rerun, so the
# time ratios t margin / t GD compare runs on the same code and similar load (one core each).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=$PWD
ROOT=benchmarks/capacity/standard_add/v5
for d in 32 64; do
  tag="gd_d${d}"
  echo "$(date -u +%T) start $tag load $(cat /proc/loadavg)"
  .venv/bin/python -m factmlp capacity --families gaussian,spherical,spiked --d $d --alpha 1/32,1/16,1/8 \
    --methods gd --seeds 1 --workers 1 --no-progress --out $ROOT/$tag > $ROOT/$tag.log 2>&1
  echo "$(date -u +%T) end $tag rc $? load $(cat /proc/loadavg)"
done
