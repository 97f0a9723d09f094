#!/usr/bin/env bash
# One prepared GPU check (< 8 min): install the gpu extra, run the CuPy parity
# tests, measure CuPy vs NumPy (rho, encdec construction, verification) at d = 128.
#   bash benchmarks/gpu/run.sh                 # on a CUDA machine, from the repository root
#   FACTMLP_GPU_SIZES=64 FACTMLP_GPU_INSTALL=0 bash benchmarks/gpu/run.sh   # NumPy half, tiny, no install
# Writes $OUT/gpu_bench.csv, $OUT/gpu_tests.log, $OUT/gpu_env.txt ($OUT defaults to benchmarks/gpu/results).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-benchmarks/gpu/results}"
SIZES="${FACTMLP_GPU_SIZES:-4096,16384}"
mkdir -p "$OUT"
rm -f "$OUT/gpu_bench.csv"
PY="${PYTHON:-python3}"
start=$(date +%s)

if [ "${FACTMLP_GPU_INSTALL:-1}" = "1" ]; then
  timeout 150 "$PY" -m pip install -q -e ".[gpu]" pytest pytest-timeout > "$OUT/gpu_install.log" 2>&1 \
    || echo "install of .[gpu] failed or timed out (see gpu_install.log); continuing with what is installed" | tee -a "$OUT/gpu_install.log"
fi
{
  echo "date: $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "nvidia-smi: not available"
  "$PY" -c "import factmlp.xp as x; print('cupy_available:', x.cupy_available())" 2>&1
  "$PY" -c "import cupy; print('cupy', cupy.__version__)" 2>&1 || true
  "$PY" -c "import numpy; print('numpy', numpy.__version__)"
  nproc
} > "$OUT/gpu_env.txt"
cat "$OUT/gpu_env.txt"

# parity tests: the gpu-marked ones and decodability's CuPy parity (skip, not fail, without a device)
timeout 180 "$PY" -m pytest -q -p no:cacheprovider -rs -o addopts="" \
  tests/test_xp.py tests/test_verify.py tests/test_decodability.py -k "cupy or gpu" > "$OUT/gpu_tests.log" 2>&1
echo "parity tests: exit $? (log: $OUT/gpu_tests.log)"
tail -5 "$OUT/gpu_tests.log"

left=$(( 450 - ($(date +%s) - start) ))
[ "$left" -lt 60 ] && left=60
OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}" timeout "$left" "$PY" benchmarks/gpu/bench.py \
  --sizes "$SIZES" --budget $(( left * 2 / 5 )) --out "$OUT/gpu_bench.csv"
echo "bench: exit $? after $(( $(date +%s) - start )) s total (csv: $OUT/gpu_bench.csv)"
