#!/usr/bin/env bash
# GPU check of the training engine: train-step throughput on CUDA (bf16 autocast,
# channels_last) for the CNN, Transformer and GAN, and whether the data path or the
# model is the bottleneck (ivif data path alone vs model step alone vs the engine).
# Installs nothing: needs a Python with CUDA torch, numpy, pillow, pyyaml, tqdm and
# opencv (python3 by default; set PYTHON=...). Under 5 minutes on an H100.
#
#   bash bench/gpu_check.sh                 # on the GPU machine, from anywhere
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_PATCH=32 GPU_CHECK_STEPS=2 bash bench/gpu_check.sh   # dry run
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DEVICE=${GPU_CHECK_DEVICE:-cuda}
PATCH=${GPU_CHECK_PATCH:-128}
STEPS=${GPU_CHECK_STEPS:-30}
WARMUP=${GPU_CHECK_WARMUP:-5}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TQDM_DISABLE=1

"$PY" - "$DEVICE" <<'PREFLIGHT'
import importlib, sys
missing = [m for m in ("torch", "numpy", "PIL", "yaml", "tqdm", "cv2") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"gpu_check: missing Python modules {missing}; use a Python that has them (PYTHON=...)")
import torch
if sys.argv[1] == "cuda" and not torch.cuda.is_available():
    sys.exit("gpu_check: torch.cuda.is_available() is False; run on the GPU machine (or GPU_CHECK_DEVICE=cpu)")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}")
PREFLIGHT

run() {
    echo
    echo "== $* =="
    "$PY" bench/train_step.py --device "$DEVICE" --patch "$PATCH" --steps "$STEPS" --warmup "$WARMUP" "$@"
}
# The paper's setting with the upstream loop beside it (PNG decode per step, fp32).
run --batch 8 --workers 0
# Same, data loading in 4 worker processes (the data path must never bound the model).
run --batch 8 --workers 4 --skip-upstream
# A GPU-sized batch.
run --batch 32 --workers 4 --skip-upstream
