"""Writing the synthetic dataset: samples, splits and the catalog files.

Every sample has its own random streams (spec, labels, rendering) derived
from ``(seed, index)``, so the output does not depend on the number of
worker processes, and changing a label knob (omission, unknown rate)
leaves the images unchanged.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import os.path as osp
import time
from typing import Dict, List, Tuple, Union

import cv2
import numpy as np

from ...structures import AttributeSchema
from ..catalog_writer import write_catalog
from .drawing import render_garment
from .specs import GarmentSpec, SyntheticConfig, make_labels, sample_spec
from .vocabulary import OPTIONAL_ATTRIBUTES, build_schema

GENERATOR_VERSION = 1
MARKER_FILE = 'generator.json'


def _rngs(seed: int, index: int):
    return tuple(
        np.random.default_rng([int(seed), int(index), k]) for k in range(3)
    )


def generate_sample(
    index: int, cfg: SyntheticConfig
) -> Tuple[np.ndarray, GarmentSpec, dict, dict]:
    """Sample ``index`` of the dataset of ``cfg``.

    Returns:
        ``(image, spec, labels, info)``: the BGR image, the true garment,
        the annotated attribute labels and the render info (see
        :func:`render_garment`) plus ``distractor`` (its spec or None).
    """
    r_spec, r_label, r_render = _rngs(cfg.seed, index)
    spec = sample_spec(r_spec, cfg.imbalance)
    distractor = None
    if r_spec.random() < min(1.0, 0.8 * cfg.clutter):
        distractor = sample_spec(r_spec, 0.0, exclude=(spec.category,))
    labels = make_labels(spec, r_label, cfg)
    img, info = render_garment(
        spec,
        cfg.img_size,
        r_render,
        cfg.detail_scale,
        cfg.clutter,
        distractor,
        cfg.supersample,
    )
    info['distractor'] = distractor
    return img, spec, labels, info


def _img_name(index: int, width: int) -> str:
    return f'img/{index + 1:0{width}d}.jpg'


def _work(args) -> List[tuple]:
    indices, cfg, out_dir, width, quality = args
    cv2.setNumThreads(1)
    out = []
    for i in indices:
        img, spec, labels, info = generate_sample(i, cfg)
        ok, buf = cv2.imencode(
            '.jpg', img, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)]
        )
        if not ok:
            raise RuntimeError(f'JPEG encoding failed for sample {i}')
        name = _img_name(i, width)
        with open(osp.join(out_dir, name), 'wb') as f:
            f.write(buf.tobytes())
        out.append((i, spec, labels, info['distractor'] is not None))
    return out


def _check_out_dir(out_dir: str, overwrite: bool) -> None:
    if (
        osp.isdir(out_dir)
        and os.listdir(out_dir)
        and not overwrite
        and not osp.exists(osp.join(out_dir, MARKER_FILE))
    ):
        raise FileExistsError(
            f'{out_dir}: not empty and not made by this generator (no '
            f'{MARKER_FILE}); pass overwrite=True (--overwrite) to write '
            'into it anyway'
        )


def make_synthetic_dataset(
    out_dir: str,
    num: int = 2000,
    seed: int = 0,
    img_size: int = 128,
    val_fraction: float = 0.2,
    test_fraction: float = 0.0,
    detail_scale: float = 1.0,
    clutter: float = 0.5,
    omission_rate: Union[float, Dict[str, float]] = 0.2,
    unknown_rate: float = 0.05,
    imbalance: float = 1.0,
    workers: int = 0,
    jpeg_quality: int = 90,
    overwrite: bool = False,
) -> dict:
    """Write the synthetic garment dataset in the catalog format.

    Writes ``schema.json``, ``train.jsonl``, ``val.jsonl`` (and
    ``test.jsonl`` when ``test_fraction > 0``), ``full_labels.jsonl`` (every
    image with its complete, true labels, in index order), ``generator.json``
    (the parameters) and the images ``img/NNNNNN.jpg``. Use it with
    ``CatalogDataset(data_root=out_dir, ann_file='train.jsonl',
    schema='schema.json')``. The output is a function of the arguments
    except ``workers``, ``out_dir`` and ``overwrite``.

    Args:
        out_dir: Output folder.
        num: Number of images.
        seed: Random seed.
        img_size: Side of the square images in pixels.
        val_fraction: Fraction of images in ``val.jsonl``.
        test_fraction: Fraction of images in ``test.jsonl``.
        detail_scale: Size factor of the small-ROI details (necklines,
            closures); 1 gives ~2 px button radius at 128 px.
        clutter: 0..1, background shapes, pixel noise and the chance
            (``0.8 * clutter``) of a second, unlabelled garment partly in
            view at an image edge.
        omission_rate: Chance that an optional attribute (length, pattern,
            sleeve_length, closure, neck_type) is left out of a record
            (missing); a float or ``{attribute: rate}``. ``category`` and
            ``colour`` are never omitted.
        unknown_rate: Chance that one value of a labelled optional attribute
            is written as unknown (``?value``).
        imbalance: Zipf exponent of the value frequencies (0: uniform).
        workers: Processes; 0 picks ``min(cpu_count, 8)`` (1 for small
            ``num``).
        jpeg_quality: JPEG quality.
        overwrite: Allow writing into a non-empty folder not made by the
            generator.

    Returns:
        A summary dict: ``splits`` (records per split), ``labelled_rate``
        (per attribute: labelled records / records the attribute applies
        to), ``value_counts`` (true values per attribute), ``multi_label``
        (fraction of records with more than one value, per attribute),
        ``unknown_values``, ``empty_lists``, ``omitted``, ``distractors``,
        ``files`` and ``seconds``.
    """
    if num < 1:
        raise ValueError(f'num must be >= 1, got {num}')
    if (
        not 0 <= val_fraction + test_fraction < 1
        or min(val_fraction, test_fraction) < 0
    ):
        raise ValueError(
            'val_fraction and test_fraction must be >= 0 and sum to < 1'
        )
    if img_size < 32:
        raise ValueError(f'img_size must be >= 32, got {img_size}')
    if isinstance(omission_rate, dict):
        bad = set(omission_rate) - set(OPTIONAL_ATTRIBUTES)
        if bad:
            raise ValueError(
                f'omission_rate for attributes that cannot be '
                f'omitted or do not exist: {sorted(bad)}'
            )
    t0 = time.time()
    _check_out_dir(out_dir, overwrite)
    os.makedirs(osp.join(out_dir, 'img'), exist_ok=True)
    cfg = SyntheticConfig(
        seed,
        img_size,
        detail_scale,
        clutter,
        omission_rate,
        unknown_rate,
        imbalance,
    )
    width = max(6, len(str(num)))

    schema = AttributeSchema.from_dict(build_schema(), source='synthetic')

    if workers <= 0:
        workers = 1 if num < 200 else min(os.cpu_count() or 1, 8)
    chunk = 32
    jobs = [
        (
            list(range(s, min(s + chunk, num))),
            cfg,
            out_dir,
            width,
            jpeg_quality,
        )
        for s in range(0, num, chunk)
    ]
    results: List[tuple] = []
    if workers > 1 and 'fork' in mp.get_all_start_methods():
        with mp.get_context('fork').Pool(workers) as pool:
            for part in pool.imap_unordered(_work, jobs):
                results += part
    else:
        for job in jobs:
            results += _work(job)
    results.sort(key=lambda r: r[0])

    # splits
    perm = np.random.default_rng([int(seed), 7919]).permutation(num)
    n_test = int(round(num * test_fraction))
    n_val = int(round(num * val_fraction))
    split_of = np.empty(num, dtype=object)
    split_of[:] = 'train'
    split_of[perm[:n_test]] = 'test'
    split_of[perm[n_test : n_test + n_val]] = 'val'
    splits = {'train': [], 'val': [], 'test': []}
    full = []
    for i, spec, labels, _ in results:
        name = _img_name(i, width)
        splits[split_of[i]].append(
            dict(img_path=name, category=spec.category, attributes=labels)
        )
        full.append(
            dict(
                img_path=name, category=spec.category, attributes=spec.labels()
            )
        )
    record_files = dict(splits)
    stale = osp.join(out_dir, 'test.jsonl')
    if n_test == 0:
        del record_files['test']
        if osp.exists(stale) and osp.exists(osp.join(out_dir, MARKER_FILE)):
            os.remove(stale)  # from an earlier run
    record_files['full_labels'] = full
    written = write_catalog(out_dir, schema, record_files)
    params = dict(
        generator='mmfashion_attr.datasets.synthetic',
        version=GENERATOR_VERSION,
        num=num,
        seed=seed,
        img_size=img_size,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        detail_scale=detail_scale,
        clutter=clutter,
        omission_rate=omission_rate,
        unknown_rate=unknown_rate,
        imbalance=imbalance,
        jpeg_quality=jpeg_quality,
    )
    with open(osp.join(out_dir, MARKER_FILE), 'w', encoding='utf-8') as f:
        json.dump(params, f, indent=1)

    summary = _summarise(results, schema)
    summary.update(
        out_dir=out_dir,
        num=num,
        seed=seed,
        img_size=img_size,
        splits={k: len(v) for k, v in splits.items()},
        files=dict(
            {k: v for k, v in written.items() if k in splits},
            schema=written['schema'],
            full_labels=written['full_labels'],
        ),
        seconds=round(time.time() - t0, 2),
    )
    return summary


def _summarise(results: List[tuple], schema) -> dict:
    applicable: Dict[str, int] = {}
    labelled: Dict[str, int] = {}
    multi: Dict[str, int] = {}
    counts: Dict[str, Dict[str, int]] = {
        a.name: {v: 0 for v in a.values} for a in schema.attributes
    }
    unknown = empty = distractors = 0
    for _, spec, labels, has_distractor in results:
        distractors += int(has_distractor)
        counts['category'][spec.category] += 1
        for attr, values in spec.labels().items():
            applicable[attr] = applicable.get(attr, 0) + 1
            for v in values:
                counts[attr][v] += 1
        for attr, values in labels.items():
            labelled[attr] = labelled.get(attr, 0) + 1
            if len(values) > 1:
                multi[attr] = multi.get(attr, 0) + 1
            if not values:
                empty += 1
            unknown += sum(v.startswith('?') for v in values)
    n = len(results)
    rate = {'category': 1.0}
    rate.update({a: labelled.get(a, 0) / applicable[a] for a in applicable})
    return dict(
        labelled_rate={
            a: round(rate[a], 4) for a in schema.names if a in rate
        },
        applicable={
            a: applicable.get(a, n if a == 'category' else 0)
            for a in schema.names
        },
        value_counts=counts,
        multi_label={
            a: round(multi.get(a, 0) / max(1, labelled.get(a, 0)), 4)
            for a in ('colour', 'closure')
        },
        unknown_values=unknown,
        empty_lists=empty,
        omitted=sum(applicable[a] - labelled.get(a, 0) for a in applicable),
        distractors=distractors,
    )
