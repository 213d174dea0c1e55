#!/usr/bin/env bash
# The demo: set up .venv if needed, generate the embedded synthetic catalog,
# train the demo config with mmpretrain's own shipped tools/train.py,
# evaluate with its tools/test.py, print the per-attribute table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
PY=.venv/bin/python
CFG=${CFG:-configs/demo/approach1_effnetv2-b0_1xb16_synthetic-128px.py}
DATA=data/synthetic
WORK=${WORK_DIR:-work_dirs/demo}
MIM=$($PY -c "from mmfashion_attr.utils import mim_tools_dir; print(mim_tools_dir())")
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ ! -f "$DATA/schema.json" ]; then
  $PY tools/dataset_converters/make_synthetic.py "$DATA" --num ${NUM:-2000} --seed 0 --img-size 128
fi
start=$(date +%s)
$PY "$MIM/train.py" "$CFG" --work-dir "$WORK"
echo "== training took $(( $(date +%s) - start )) s"
CKPT=$(ls -t "$WORK"/epoch_*.pth | head -n 1)
$PY "$MIM/test.py" "$CFG" "$CKPT" --work-dir "$WORK/test"
$PY tools/analysis_tools/attribute_table.py "$CFG" --metrics "$WORK/test" --out "$WORK/attribute_table.json"
