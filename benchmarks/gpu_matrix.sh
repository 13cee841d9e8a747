#!/usr/bin/env bash
# The GPU columns of the matrix (torch-*-cuda, jax-jit-*-gpu) and 10,000-step timings on CPU and
# GPU, on a machine with an NVIDIA GPU whose python3 already has torch and jax (no venv, no
# network). Logs go to $OUT (default /tmp/gpu-out). Usage: benchmarks/gpu_matrix.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
nvidia-smi -L
python3 -c "import torch, jax; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), '| jax', jax.__version__, jax.devices())"
# The default part, every cell on both devices; the report keeps the GPU ids.
timeout 330 python3 -m pytest -p no:cacheprovider -q -rs --backends reference,numpy,torch,torch-func,jax-jit \
  tests/test_matrix.py tests/test_cases.py --junitxml "$OUT/gpu-matrix.xml" 2>&1 | tee "$OUT/gpu-matrix.log" | tail -25
python3 - <<'PY' 2>&1 | tee "$OUT/gpu-timings.txt"
import time, backends
from bpcheck.reference.case import load_case
from bpcheck.reference.oracle import rounded_parameters
case = load_case("mazur-2015"); p = rounded_parameters(case, "float64")
for name in ["torch", "torch-func", "jax-jit"]:
    b = backends.get(name)
    for dev in b.devices():
        b.train(case, p, case.configs["as-written"], 10_000 if name == "jax-jit" else 100, "float64", dev)  # warm-up
        t = time.perf_counter(); tr = b.train(case, p, case.configs["as-written"], 10_000, "float64", dev)
        print(f"{name:10s} {dev:5s} 10,000 steps float64: {time.perf_counter() - t:.3f} s  E_total {tr.losses[-1]!r}")
PY
timeout 120 python3 -m pytest -p no:cacheprovider -q -m slow --backends torch-compile --cases mazur-2015 \
  --no-trajectories -k cuda tests/test_matrix.py 2>&1 | tee "$OUT/gpu-compile.log" | tail -8
# bpcheck bench on both devices (no tensorflow there; the 10,000-step figure and the sizes)
timeout 150 python3 -m bpcheck.cli bench --backend numpy,torch,torch-func,jax-jit --max-seconds 0.5 --out "$OUT/bench" \
  2>&1 | tail -3
