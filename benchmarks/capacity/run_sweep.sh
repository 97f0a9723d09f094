#!/usr/bin/env bash
# Capacity sweeps of benchmarks/capacity/, run from the repository root.
#
#   bash benchmarks/capacity/run_sweep.sh small      # the small sweep committed now (minutes)
#   bash benchmarks/capacity/run_sweep.sh standard   # the standard sweep (sized for about an hour on 2 cores)
#
# Both are resumable: rerunning skips every run already cached under OUT/cache/.
# Each writes OUT/results.csv, OUT/figs/*.png|pdf and OUT/table.md.
set -euo pipefail
which="${1:-small}"
PY="${PYTHON:-.venv/bin/python}"
FACTMLP="$PY -m factmlp"

case "$which" in
  small)
    OUT=benchmarks/capacity/small
    $FACTMLP capacity --families spherical --d 16,32 --alpha 1/8,1/4,1/2 \
      --methods encdec,hebbian,ntk,gd --seeds 1 --workers 1 --out "$OUT" || true
    ;;
  standard)
    OUT=benchmarks/capacity/standard
    # One BLAS thread per Dask worker: two workers already fill the 2 cores, and the
    # multithreaded OpenBLAS once crashed (SIGSEGV) in ntk's dense Gram solve.
    export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
    FAMS=spherical,gaussian,spiked
    # all four methods up to F d = 16384 ...
    $FACTMLP capacity --families $FAMS --d 32,64 --alpha 1/32,1/16 \
      --methods encdec,hebbian,ntk,gd --seeds 1 --workers 2 --out "$OUT" || true
    $FACTMLP capacity --families $FAMS --d 32 --alpha 1/8 \
      --methods encdec,hebbian,ntk,gd --seeds 1 --workers 2 --out "$OUT" || true
    # ... and without ntk at d = 64, F = 512 (F d = 32768 > dense_max = 16384): there its
    # system is solved by CG, which does not converge on it (uncapped, one construction
    # at h = 512 ran 8 CPU-minutes without finishing; with the default cap of 2000
    # iterations it ends in ConvergenceError after 25 s, relative residual 1.64).
    $FACTMLP capacity --families $FAMS --d 64 --alpha 1/8 \
      --methods encdec,hebbian,gd --seeds 1 --workers 2 --out "$OUT" || true
    ;;
  *)
    echo "usage: $0 small|standard" >&2; exit 2 ;;
esac
# exit status 1 from `capacity` only means some run found no storing width; the table shows which.
$FACTMLP plot "$OUT" --out "$OUT/figs"
$PY benchmarks/capacity/make_table.py "$OUT/results.csv" > "$OUT/table.md"
cat "$OUT/table.md"
