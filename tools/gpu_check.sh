#!/usr/bin/env bash
# The one prepared GPU script (for sessions lent a GPU by the device tool):
# installs the carried pure-Python OpenMMLab wheels (.whl/, see README
# "Performance"), runs the CUDA-only tests (bf16 training steps of each
# variant) and the benchmark at 384 px against timm; prints a compact table.
# Usage on the GPU machine, from the repository root: bash tools/gpu_check.sh
set -uo pipefail
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, mmfashion_attr; print('torch', torch.__version__, 'fixes', mmfashion_attr.compat.applied_fixes())" 2>&1 | grep -v Warn
# T_*: seconds allowed for each part (0 skips it); ROUNDS: round-robin
# repetitions of the main benchmark (median over rounds, see benchmark.py).
[ "${T_TESTS:-150}" -gt 0 ] && timeout ${T_TESTS:-150} python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py 2>&1 | tee "$OUT/gpu_tests.log" | tail -n 5
B=${BATCH:-64}
[ "${T_BENCH:-240}" -gt 0 ] && timeout ${T_BENCH:-240} python3 tools/benchmark.py --device cuda --img-size 384 --batch "$B" \
  --precision bf16 --channels-last --warmup 5 --steps 10 --rounds "${ROUNDS:-2}" \
  --out "$OUT/bench_bf16_cl.json" 2>&1 | grep -v -i warn | tee "$OUT/bench_bf16_cl.log" | tail -n 9
[ "${T_FP32:-100}" -gt 0 ] && timeout ${T_FP32:-100} python3 tools/benchmark.py --device cuda --img-size 384 --batch "$B" \
  --precision fp32 --warmup 3 --steps 6 --variants approach3 plain timm \
  --out "$OUT/bench_fp32.json" 2>&1 | grep -v -i warn | tail -n 5
# mmpretrain's stock activation (Swish) for the plain classifier, to show
# what the fused in-place SiLU of EfficientNetV2Taps gains.
[ "${T_SWISH:-60}" -gt 0 ] && timeout ${T_SWISH:-60} python3 tools/benchmark.py --device cuda --img-size 384 --batch "$B" \
  --precision bf16 --channels-last --warmup 5 --steps 10 --variants plain timm --plain-act Swish \
  --out "$OUT/bench_bf16_cl_swish.json" 2>&1 | grep -v -i warn | tail -n 3
exit 0
