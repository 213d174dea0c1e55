"""Small files with the real public datasets' shapes, written into tmp dirs.

The Fashionpedia fixtures use the real ontology (a copy of Fashionpedia's
``label_descriptions.json`` under ``tests/fixtures/``) so ids are sparse as
in the real files. Label contents are hand-designed; the expected encodings are
hand-computed in the tests.
"""

import csv
import json
import os
import os.path as osp

import cv2
import numpy as np

ONTOLOGY = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))),
    'fixtures',
    'fashionpedia_label_descriptions.json',
)


def ontology_path() -> str:
    return ONTOLOGY


def load_ontology() -> dict:
    with open(ontology_path(), encoding='utf-8') as f:
        return json.load(f)


def gradient_image(path: str, w: int, h: int) -> None:
    """A smooth image whose pixel (x, y) is (x, y, 128) in BGR (mod 256)."""
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    img = np.stack([xs % 256, ys % 256, np.full_like(xs, 128)], -1)
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(path, img.astype(np.uint8))


def corrupt_image(path: str) -> None:
    """A JPEG cut in the middle (decoders fail on it)."""
    gradient_image(path, 64, 64)
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[: len(data) // 3])


def _info():
    return dict(description='fixture', year=2020)


def _image(iid, name, w, h):
    return dict(
        id=iid,
        width=w,
        height=h,
        file_name=name,
        license=1,
        time_captured='',
        original_url='',
        isstatic=1,
        kaggle_id='',
    )


# ------------------------------------------------------------ Fashionpedia
# Global attributes. Chosen ids (real ontology): 146 above-the-hip (length),
# 157 short (length), 160 wrist-length, 183 v-neck, 225 single breasted,
# 142 normal waist, 128 straight (silhouette), 317 plain (pattern),
# 325 floral, 339 toile de jouy, 340 plant (the last two after a gap of
# deleted ids 333-338), 0 classic (t-shirt) (nickname: not a chosen task).
FP_ATTR_TRAIN = [
    (1, 'a1.jpg', [317, 146, 157, 183, 0]),
    (2, 'a2.jpg', [325, 225, 142]),
    (3, 'a3.jpg', [340, 339]),
    (4, 'a4.jpg', [0]),  # nickname only: no chosen attribute
]
FP_ATTR_VAL = [(10, 'v1.jpg', [128, 160])]


def make_fashionpedia_attributes(
    root: str, broken: bool = False, with_images: bool = True
) -> dict:
    """``attributes_{train,val}2020.json`` + images under train/ and test/.

    ``broken`` plants: unknown attribute id 999, an annotation for unknown
    image 77, a second annotation of image 2, a corrupt image (a3.jpg) and
    a missing image (a2.jpg).
    """
    onto = load_ontology()
    paths = {}
    for split, folder, rows in (
        ('train', 'train', FP_ATTR_TRAIN),
        ('val', 'test', FP_ATTR_VAL),
    ):
        images = [_image(i, n, 60, 80) for i, n, _ in rows]
        anns = [dict(image_id=i, attribute_ids=list(a)) for i, _, a in rows]
        if broken and split == 'train':
            anns[0]['attribute_ids'].append(999)
            anns.append(dict(image_id=77, attribute_ids=[317]))
            anns.append(dict(image_id=2, attribute_ids=[328]))
        d = dict(
            info=_info(),
            licenses=[],
            attributes=onto['attributes'],
            images=images,
            annotations=anns,
        )
        paths[split] = osp.join(root, f'attributes_{split}2020.json')
        with open(paths[split], 'w', encoding='utf-8') as f:
            json.dump(d, f)
        if with_images:
            for _, n, _ in rows:
                gradient_image(osp.join(root, folder, n), 60, 80)
    if broken:
        corrupt_image(osp.join(root, 'train', 'a3.jpg'))
        os.remove(osp.join(root, 'train', 'a2.jpg'))
    return paths


# Instances: categories 10 dress, 1 top, 4 jacket, 23 shoe, 31 sleeve,
# 33 neckline, 32 pocket.
FP_INST = {
    'train': dict(
        images=[(1, 'i1.jpg', 200, 300), (2, 'i2.jpg', 400, 300)],
        anns=[
            # image 1: a dress with a sleeve and a neckline on it
            (101, 1, 10, [50, 40, 100, 200], [325, 154]),
            (102, 1, 31, [55, 60, 20, 50], [160]),
            (103, 1, 33, [80, 40, 30, 20], [183]),
            (104, 1, 23, [60, 260, 30, 30], []),  # shoe: not a garment
            (105, 1, 32, [160, 10, 20, 20], []),  # pocket off the dress
            # image 2: a top under a jacket; the sleeve lies in both boxes
            # and goes to the smaller one (the top)
            (201, 2, 1, [100, 50, 150, 100], [317]),
            (202, 2, 4, [80, 40, 200, 200], [225, 146]),
            (203, 2, 31, [110, 60, 30, 40], [157]),
        ],
    ),
    'val': dict(
        images=[(3, 'i3.jpg', 60, 90)],
        anns=[
            # waistline on a dress: never seen in train -> not allowed
            (301, 3, 10, [0, 0, 50, 80], [323, 142]),
        ],
    ),
}


def make_fashionpedia_instances(root: str, broken: bool = False) -> dict:
    onto = load_ontology()
    paths = {}
    for split, folder in (('train', 'train'), ('val', 'test')):
        spec = FP_INST[split]
        images = [_image(i, n, w, h) for i, n, w, h in spec['images']]
        anns = [
            dict(
                id=a,
                image_id=i,
                category_id=c,
                bbox=b,
                attribute_ids=list(at),
                area=b[2] * b[3],
                iscrowd=0,
                segmentation=[],
            )
            for a, i, c, b, at in spec['anns']
        ]
        if broken and split == 'train':
            anns.append(
                dict(
                    id=900,
                    image_id=1,
                    category_id=99,
                    bbox=[0, 0, 5, 5],
                    attribute_ids=[],
                )
            )
            anns.append(
                dict(
                    id=901,
                    image_id=1,
                    category_id=10,
                    bbox=[0, 0, 0, 5],
                    attribute_ids=[],
                )
            )
            anns.append(
                dict(
                    id=101,
                    image_id=1,
                    category_id=10,
                    bbox=[0, 0, 5, 5],
                    attribute_ids=[],
                )
            )
        d = dict(
            info=_info(),
            licenses=[],
            categories=onto['categories'],
            attributes=onto['attributes'],
            images=images,
            annotations=anns,
        )
        paths[split] = osp.join(root, f'instances_attributes_{split}2020.json')
        with open(paths[split], 'w', encoding='utf-8') as f:
            json.dump(d, f)
        for _, n, w, h in spec['images']:
            gradient_image(osp.join(root, folder, n), w, h)
    return paths


# ---------------------------------------------------------------- FashionAI
FASHIONAI_ROWS = [
    ('Images/collar_design_labels/a.jpg', 'collar_design_labels', 'nnynn'),
    ('Images/sleeve_length_labels/b.jpg', 'sleeve_length_labels', 'nnnmynnnn'),
    ('Images/pant_length_labels/c.jpg', 'pant_length_labels', 'nnnnny'),
    # one image per remaining attribute, so every attribute is labelled
    ('Images/skirt_length_labels/d.jpg', 'skirt_length_labels', 'nynnnn'),
    ('Images/coat_length_labels/e.jpg', 'coat_length_labels', 'nnynnnnn'),
    ('Images/lapel_design_labels/f.jpg', 'lapel_design_labels', 'nnnyn'),
    ('Images/neck_design_labels/g.jpg', 'neck_design_labels', 'ynnnn'),
    (
        'Images/neckline_design_labels/h.jpg',
        'neckline_design_labels',
        'nnnnnnnmny',
    ),
]


def make_fashionai(root: str, broken: bool = False) -> str:
    rows = list(FASHIONAI_ROWS)
    if broken:
        rows += [
            ('Images/hat_labels/d.jpg', 'hat_labels', 'ny'),
            ('Images/pant_length_labels/e.jpg', 'pant_length_labels', 'ny'),
            (
                'Images/pant_length_labels/f.jpg',
                'pant_length_labels',
                'nnxnny',
            ),
            (
                'Images/collar_design_labels/a.jpg',
                'collar_design_labels',
                'ynnnn',
            ),
        ]
    path = osp.join(root, 'Annotations', 'label.csv')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        csv.writer(f).writerows(rows)
    for img, _, _ in FASHIONAI_ROWS:
        gradient_image(osp.join(root, img), 40, 50)
    return path


# ---------------------------------------------------------- iMaterialist-18
IMAT_LABEL_MAP = [
    # labelId,taskId,labelName,taskName (file order is not id order)
    ('20', '3', 'V-Necks', 'Neckline'),
    ('1', '1', 'Argyle', 'Pattern'),
    ('2', '3', 'Asymmetric', 'Neckline'),
    ('3', '4', 'Athletic Pants', 'Category'),
    ('11', '2', 'Asymmetric', 'Style'),
    ('10', '2', 'Bandeaus', 'Style'),
]


def make_imaterialist2018(root: str, broken: bool = False) -> dict:
    lmap = osp.join(root, 'iMat_fashion_2018_label_map_228.csv')
    with open(lmap, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['labelId', 'taskId', 'labelName', 'taskName'])
        w.writerows(IMAT_LABEL_MAP)
    splits = {
        'train': [('1', ['20', '1']), ('2', ['3', '11', '10'])],
        'val': [('5', ['2'])],
    }
    paths = dict(label_map=lmap)
    for split, anns in splits.items():
        anns = [dict(imageId=i, labelId=list(lab)) for i, lab in anns]
        images = [
            dict(imageId=a['imageId'], url=f'http://x/{a["imageId"]}')
            for a in anns
        ]
        if broken and split == 'train':
            anns.append(dict(imageId='1', labelId=['1']))
            anns[1]['labelId'].append('999')
        name = 'train.json' if split == 'train' else 'validation.json'
        paths[split] = osp.join(root, name)
        with open(paths[split], 'w', encoding='utf-8') as f:
            json.dump(dict(images=images, annotations=anns), f)
        for a in images:
            gradient_image(
                osp.join(root, split, a['imageId'] + '.jpg'), 30, 30
            )
    return paths


# --------------------------------------------------------------- DeepFashion
DF_ATTRS = [
    ('floral', 1),
    ('striped', 1),
    ('denim', 2),
    ('a-line', 3),
    ('v-neck', 4),
    ('boho chic', 5),
]
DF_IMAGES = [
    ('img/Floral_Dress/img_00000001.jpg', '1 -1 -1 1 0 -1', 1, 'train'),
    ('img/Denim_Shorts/img_00000002.jpg', '-1 -1 1 -1 -1 -1', 2, 'train'),
    ('img/Boho_Top/img_00000003.jpg', '0 1 -1 -1 1 1', 3, 'val'),
]
DF_CATEGORIES = [('Dress', 3), ('Shorts', 2), ('Top', 1)]


def _listing(path, header, rows):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(f'{len(rows)}\n{header}\n')
        for r in rows:
            f.write(r + '\n')


def make_deepfashion(root: str, broken: bool = False) -> str:
    _listing(
        osp.join(root, 'Anno', 'list_attr_cloth.txt'),
        'attribute_name  attribute_type',
        [f'{n:<28} {t}' for n, t in DF_ATTRS],
    )
    rows = [f'{p:<50} {lab}' for p, lab, _, _ in DF_IMAGES]
    if broken:
        rows.append('img/Bad/img_00000004.jpg  1 2 -1 -1 -1 -1')
        rows.append('img/Bad/img_00000005.jpg  1 -1')
        rows.append(rows[0])
    _listing(
        osp.join(root, 'Anno', 'list_attr_img.txt'),
        'image_name  attribute_labels',
        rows,
    )
    _listing(
        osp.join(root, 'Anno', 'list_category_cloth.txt'),
        'category_name  category_type',
        [f'{n:<28} {t}' for n, t in DF_CATEGORIES],
    )
    _listing(
        osp.join(root, 'Anno', 'list_category_img.txt'),
        'image_name  category_label',
        [f'{p:<50} {c}' for p, _, c, _ in DF_IMAGES],
    )
    _listing(
        osp.join(root, 'Eval', 'list_eval_partition.txt'),
        'image_name  evaluation_status',
        [f'{p:<50} {s}' for p, _, _, s in DF_IMAGES],
    )
    for p, _, _, _ in DF_IMAGES:
        gradient_image(osp.join(root, p), 30, 40)
    return root
