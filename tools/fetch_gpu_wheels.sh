#!/usr/bin/env bash
# Download the pure-Python wheels that the GPU machine (Python 3.12, torch,
# timm, numpy, opencv, einops, tqdm ... but no OpenMMLab packages) lacks into
# .whl/ (ignored by git), for the device tool's `carry`. Checked against a
# fresh venv holding only the GPU image's packages (see README "Performance").
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
