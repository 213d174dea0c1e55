"""A randomly initialised tiny model with its config and checkpoint
(shared by the inference, export and picture tests)."""

import copy
import os.path as osp

import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from .schemas import TINY_SCHEMA
from .tinydata import make_tiny_catalog, write_tiny_config


def tiny_model_files(root, schema=None, seed=0, n=8):
    """``(config_path, checkpoint_path, data_root)`` of a random model on the
    tiny catalog; ``schema`` (default: the tiny one) is saved in the
    checkpoint's ``meta.dataset_meta`` like mmengine does."""
    root = make_tiny_catalog(str(root), n=n)
    cfg_path = write_tiny_config(root, osp.join(root, 'work'))
    cfg = Config.fromfile(cfg_path)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    ckpt = osp.join(root, 'random.pth')
    meta = dict(dataset_meta=dict(schema=copy.deepcopy(schema or TINY_SCHEMA)))
    torch.save(dict(state_dict=model.state_dict(), meta=meta), ckpt)
    return cfg_path, ckpt, root
