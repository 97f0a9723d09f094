#!/usr/bin/env bash
# Fifth queue (2026-12-03, after the margin speed-up of commit 4ffad90; one core, the other running
# benchmarks/real): margin rerun at every standard size, then the d = 128 extension.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=$PWD
ROOT=benchmarks/capacity/standard_add/v5
mkdir -p $ROOT
run() {  # run TAG FAMILIES D ALPHA METHOD
  echo "$(date -u +%T) start $1 load $(cat /proc/loadavg)"
  .venv/bin/python -m factmlp capacity --families $2 --d $3 --alpha $4 \
    --methods $5 --seeds 1 --workers 1 --no-progress --out $ROOT/$1 > $ROOT/$1.log 2>&1
  echo "$(date -u +%T) end $1 rc $? load $(cat /proc/loadavg)"
}
ALL=gaussian,spherical,spiked
run margin_d64 $ALL 64 1/32,1/16,1/8 margin
run margin_d32 $ALL 32 1/32,1/16,1/8 margin
run margin_d128_a1-32_spherical spherical 128 1/32 margin
for m in margin encdec hebbian gd; do run ${m}_d128_a1-16_spherical spherical 128 1/16 $m; done
for m in margin encdec hebbian gd; do run ${m}_d128_a1-32_gs gaussian,spiked 128 1/32 $m; done
for m in margin encdec hebbian gd; do run ${m}_d128_a1-8_spherical spherical 128 1/8 $m; done
for m in margin encdec hebbian gd; do run ${m}_d128_a1-16_gs gaussian,spiked 128 1/16 $m; done
