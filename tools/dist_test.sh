#!/usr/bin/env bash
# Multi-GPU (or multi-process CPU) testing, same arguments as mmpretrain's
# dist_test.sh:  bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT.
exec bash "$(dirname "$0")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
