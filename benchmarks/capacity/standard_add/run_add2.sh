#!/usr/bin/env bash
# Second queue (reordered at 07:48 for the deadline: margin at d = 64 before gd+polish at d = 32, F = 128).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=$PWD
ROOT=benchmarks/capacity/standard_add
while kill -0 2944 2>/dev/null; do sleep 2; done
echo "$(date -u +%T) end margin_d32_a1-8 (first queue) load $(cat /proc/loadavg)"
for job in "margin 64 1/32" "gd+polish 32 1/8" "margin 64 1/16" "gd+polish 64 1/32" "margin 64 1/8"; do
  set -- $job; m=$1; d=$2; a=$3
  tag="${m/+/_}_d${d}_a${a/\//-}"
  echo "$(date -u +%T) start $tag load $(cat /proc/loadavg)"
  .venv/bin/python -m factmlp capacity --families spherical,gaussian,spiked --d $d --alpha $a \
    --methods $m --seeds 1 --workers 1 --no-progress --out $ROOT/$tag > $ROOT/$tag.log 2>&1
  echo "$(date -u +%T) end $tag rc $? load $(cat /proc/loadavg)"
done
