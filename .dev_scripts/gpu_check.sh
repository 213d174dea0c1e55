#!/usr/bin/env bash
# GPU check for maintainers: on a CUDA machine that has torch, timm,
# onnxruntime and opencv but no OpenMMLab packages and no network, installs
# the pure-Python OpenMMLab wheels from .whl/ (written by
# .dev_scripts/fetch_gpu_wheels.sh), runs the CUDA-only tests (bf16
# training steps of each paper variant) and the 384 px benchmark against
# timm, and prints a compact table. Results go to $OUT (default
# /tmp/gpu_out).
# Usage, from the repository root: bash .dev_scripts/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, mmfashion_attr; print('torch', torch.__version__, 'fixes', mmfashion_attr.utils.compat.applied_fixes())"
# T_*: seconds allowed for each part (0 skips it); ROUNDS: round-robin
# repetitions of the main benchmark (median over rounds, see benchmark.py).
BENCH=tools/analysis_tools/benchmark.py
[ "${T_TESTS:-150}" -gt 0 ] && timeout ${T_TESTS:-150} python3 -m pytest -q -p no:cacheprovider tests/test_models/test_paper_variants_cuda.py 2>&1 | tee "$OUT/gpu_tests.log" | tail -n 5
B=${BATCH:-64}
[ "${T_BENCH:-240}" -gt 0 ] && timeout ${T_BENCH:-240} python3 $BENCH --device cuda --img-size 384 --batch "$B" \
  --precision bf16 --channels-last --steps 10 --rounds "${ROUNDS:-2}" \
  --out "$OUT/bench_bf16_cl.json" 2>&1 | grep -v -i warn | tee "$OUT/bench_bf16_cl.log" | tail -n 9
[ "${T_FP32:-100}" -gt 0 ] && timeout ${T_FP32:-100} python3 $BENCH --device cuda --img-size 384 --batch "$B" \
  --precision fp32 --steps 6 --variants approach3 plain timm \
  --out "$OUT/bench_fp32.json" 2>&1 | grep -v -i warn | tail -n 5
# mmpretrain's stock activation (Swish) for the plain classifier, to show
# what the fused in-place SiLU of EfficientNetV2Taps gains.
[ "${T_SWISH:-60}" -gt 0 ] && timeout ${T_SWISH:-60} python3 $BENCH --device cuda --img-size 384 --batch "$B" \
  --precision bf16 --channels-last --steps 10 --variants plain timm --plain-act Swish \
  --out "$OUT/bench_bf16_cl_swish.json" 2>&1 | grep -v -i warn | tail -n 3
exit 0
