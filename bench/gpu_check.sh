#!/usr/bin/env bash
# GPU check of the training engine: train-step throughput on CUDA (bf16 autocast,
# channels_last) for the CNN, Transformer and GAN, and whether the data path or the
# model is the bottleneck (ivif data path alone vs model step alone vs the engine).
# Installs nothing: needs a Python with CUDA torch, numpy, scipy, pillow, pyyaml, tqdm and
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
import importlib.util, sys
missing = [m for m in ("torch", "numpy", "scipy", "PIL", "yaml", "tqdm", "cv2") if importlib.util.find_spec(m) is None]
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

# Engine smoke test on the device: bf16 + channels_last training, a checkpoint at step 3,
# --resume to the end, held-out evaluation and the output files, for each model.
echo
echo "== engine smoke: stop at step 3, resume, evaluate =="
"$PY" - "$DEVICE" "$PATCH" <<'SMOKE'
import sys, tempfile
from pathlib import Path
sys.path.insert(0, "bench")
from train_step import DEFAULT_IMAGES, build_cache_and_manifest, png_pairs
from ivif.training import RunPaths, TrainConfig, Trainer

device, patch = sys.argv[1], int(sys.argv[2])
with tempfile.TemporaryDirectory(prefix="ivif-gpu-smoke-") as tmp:
    cache, manifest = build_cache_and_manifest(*png_pairs(DEFAULT_IMAGES), Path(tmp))
    for model in ("cnn", "transformer", "gan"):
        config = TrainConfig(model=model, batch_size=8, patch_size=patch, max_steps=6, log_every=2, ckpt_every=100,
                             eval_images=2, device=device)
        out = Path(tmp) / model
        paths = RunPaths(manifest, cache, cache, cache, out, out / "metrics.json", out / "loss.csv")
        stopped = Trainer(config, paths, progress=False).fit(stop_after_steps=3)
        done = Trainer(config, paths, progress=False).fit(resume=True)
        produced = sorted(p.name for p in out.iterdir())
        ok = stopped.step == 3 and done.step == 6 and done.eval_metrics and "model.pt" in produced
        print(f"{model:<12}{'ok' if ok else 'FAILED'}: loss {done.losses.get('loss/total', float('nan')):.4f}, "
              f"eval SSIM {done.eval_metrics.get('SSIM', float('nan')):.3f}, files {produced}")
SMOKE
