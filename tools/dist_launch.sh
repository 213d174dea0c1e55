#!/usr/bin/env bash
# Shared launcher of dist_train.sh / dist_test.sh: torch.distributed.run on
# NNODES x NPROC processes of tools/SCRIPT with --launcher pytorch.
# Usage: bash tools/dist_launch.sh SCRIPT NPROC [script args...]
SCRIPT=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$(dirname "$0")/$SCRIPT" "${@:3}" --launcher pytorch
