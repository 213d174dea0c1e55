#!/usr/bin/env bash
# Download into .whl/ (ignored by git) the pure-Python wheels that a CUDA
# machine with Python 3.12, torch, timm, numpy, opencv, einops and tqdm
# lacks to run this package offline: the OpenMMLab packages and their small
# dependencies. .dev_scripts/gpu_check.sh installs them from there.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
for p in mmengine==0.10.7 mmcv-lite==2.1.0 mmpretrain==1.2.0 mmdet==3.3.0 \
         addict==2.4.0 yapf==0.43.0 termcolor mat4py==0.6.0 \
         model-index==0.1.11 ordered-set==4.1.0 terminaltables==3.1.10 \
         importlib_metadata==8.7.0 platformdirs; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl "$p"
done
ls .whl
