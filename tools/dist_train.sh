#!/usr/bin/env bash
# Multi-GPU (or multi-process CPU) training, same arguments as mmpretrain's
# dist_train.sh:  bash tools/dist_train.sh CONFIG GPUS [train.py args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT.
exec bash "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
