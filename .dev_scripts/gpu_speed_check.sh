#!/usr/bin/env bash
# GPU speed check: every GPU measurement of docs/en/notes/benchmarks.md
# ("GPU speed") in one call, under 8 minutes on one H100 / H200.
#
# Runs on a CUDA machine that has torch, timm, onnxruntime (onnxruntime-gpu
# for the CUDA / TensorRT providers) and opencv but no OpenMMLab packages
# and no network: the pure-Python OpenMMLab wheels are installed from .whl/
# (written by .dev_scripts/fetch_gpu_wheels.sh), as .dev_scripts/gpu_check.sh
# does. Parts, each under its own time limit (seconds; 0 skips a part), in
# order of priority:
#   T_TRAIN  training at batch 64: approach 3 and timm, eager and compiled
#            (torch.compile, inductor), bf16, channels-last
#   T_LAT    batch-1 latency of AttributeExtractor's backends: eager,
#            CUDA graphs by hand, torch.compile reduce-overhead, each
#            checked against eager within 1e-3 before it is timed
#   T_ORT    the same for ONNX Runtime (CUDA / TensorRT providers when
#            installed; a TensorRT engine build can take the whole limit)
#   T_INFER  inference throughput at batch 64: approach 3 eager and
#            compiled, timm eager
#   T_E2E    training fed by the real loader (800x1000 JPEGs, the configs'
#            pipeline, one worker per core) against model-only
# Results: $OUT (default /tmp/gpu_out): one JSON and one log per part, and
# summary.md with the machine, versions, date and every part's table.
# BATCH (64), ROUNDS (3), DEVICE (cuda), PRECISION (bf16), IMG (384), ARCH (m),
# WORKERS (one per usable core), PYTHON
# (python3) change the setting, e.g. for a smoke run of the script on the
# CPU: DEVICE=cpu PRECISION=fp32 IMG=32 ARCH=b0 BATCH=2 ROUNDS=1 T_TRAIN=0 T_LAT=0 T_ORT=0
# T_INFER=0 bash .dev_scripts/gpu_speed_check.sh
# Usage, from the repository root: bash .dev_scripts/gpu_speed_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
if ! "$PY" -c "import mmpretrain" 2>/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD PYTHONUNBUFFERED=1
S="$OUT/summary.md"
{
  echo "# GPU speed check, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$PY" - <<'EOF'
import importlib
import os
import torch
print('torch', torch.__version__, 'cuda', torch.version.cuda,
      'cudnn', torch.backends.cudnn.version(), 'cpus', os.cpu_count())
for m in ('timm', 'onnxruntime', 'mmengine', 'mmpretrain'):
    try:
        mod = importlib.import_module(m)
        extra = ''
        if m == 'onnxruntime':
            extra = ' ' + ','.join(mod.get_available_providers())
        print(m, mod.__version__ + extra)
    except ImportError:
        print(m, 'not installed')
EOF
} 2>&1 | tee "$S"
B=${BATCH:-64}
BENCH=tools/analysis_tools/benchmark.py
D=${DEVICE:-cuda}
PREC=${PRECISION:-bf16}
IMG=${IMG:-384}
COMMON="--device $D --img-size $IMG --arch ${ARCH:-m} --batch $B --precision $PREC --channels-last --max-warmup 20"
part() {  # part NAME SECONDS COMMAND...: run with a limit, keep the table
  local name=$1 secs=$2; shift 2
  [ "$secs" -gt 0 ] || return 0
  echo "## $name" >> "$S"
  echo '```' >> "$S"
  echo "\$ $*" >> "$S"
  timeout "$secs" "$@" > "$OUT/$name.log" 2> "$OUT/$name.err"
  local rc=$?
  cat "$OUT/$name.log" >> "$S"
  [ $rc -eq 0 ] || { echo "exit $rc (124: over ${secs}s)"; tail -n 3 "$OUT/$name.err"; } >> "$S"
  echo '```' >> "$S"
  tail -n 20 "$OUT/$name.log"
}
part train "${T_TRAIN:-220}" "$PY" $BENCH $COMMON --modes train --rounds "${ROUNDS:-3}" --steps 10 \
  --variants approach3 approach3:compiled timm timm:compiled \
  --compare approach3:compiled/timm:1.05 approach3:compiled/timm:compiled:1.0 \
  approach3/timm approach3:compiled/approach3 --out "$OUT/train.json"
part latency "${T_LAT:-70}" "$PY" tools/analysis_tools/benchmark_latency.py --device $D \
  --variant approach3 --arch ${ARCH:-m} --img-size $IMG --rounds "${ROUNDS:-3}" --steps 20 --max-warmup 20 \
  --backends eager cuda_graph compile \
  --compare cuda_graph/eager compile/eager --out "$OUT/latency.json"
part latency_ort "${T_ORT:-60}" "$PY" tools/analysis_tools/benchmark_latency.py --device $D \
  --variant approach3 --arch ${ARCH:-m} --img-size $IMG --rounds "${ROUNDS:-3}" --steps 20 --max-warmup 20 \
  --backends eager onnxruntime --compare onnxruntime/eager --out "$OUT/latency_ort.json"
part infer "${T_INFER:-50}" "$PY" $BENCH $COMMON --modes infer --rounds "${ROUNDS:-3}" --steps 10 \
  --variants approach3 approach3:compiled timm \
  --compare approach3/timm approach3:compiled/timm --out "$OUT/infer.json"
part e2e "${T_E2E:-60}" "$PY" tools/analysis_tools/benchmark_train_e2e.py --device $D \
  --variant approach3 --arch ${ARCH:-m} --img-size $IMG --batch "$B" ${WORKERS:+--workers $WORKERS} --precision $PREC --channels-last \
  --rounds "${ROUNDS:-3}" --steps 10 --max-warmup 10 --num-images 2048 --distinct 32 \
  --out "$OUT/e2e.json"
echo "-> $S"
exit 0
