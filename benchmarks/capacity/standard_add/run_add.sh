#!/usr/bin/env bash
# margin and gd+polish at the 18 standard sizes, smallest first, one invocation per (d, alpha, method).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=$PWD
ROOT=benchmarks/capacity/standard_add
for d in 32 64; do for a in 1/32 1/16 1/8; do for m in margin gd+polish; do
  tag="${m/+/_}_d${d}_a${a/\//-}"
  echo "$(date -u +%T) start $tag load $(cat /proc/loadavg)"
  .venv/bin/python -m factmlp capacity --families spherical,gaussian,spiked --d $d --alpha $a \
    --methods $m --seeds 1 --workers 1 --no-progress --out $ROOT/$tag > $ROOT/$tag.log 2>&1
  echo "$(date -u +%T) end $tag rc $? load $(cat /proc/loadavg)"
done; done; done
