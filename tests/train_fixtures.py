"""Writers of small datasets in their real on-disk layouts, for the reader and training tests."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np


def _image(path: Path, seed: int, size=(96, 72), box=None) -> None:
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.integers(0, 256, (9, 12, 3), dtype=np.uint8), size, interpolation=cv2.INTER_LINEAR)
    if box is not None and np.isfinite(box).all():
        x, y, w, h = (int(v) for v in box)
        img[y:y + h, x:x + w] = rng.integers(0, 256, (1, 1, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)


def _boxes(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    start = rng.uniform(10, 30, size=2)
    return np.array([[start[0] + 2 * i, start[1] + i, 24.0, 20.0] for i in range(n)])


def _write_gt(path: Path, boxes: np.ndarray, sep: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sep.join("nan" if not np.isfinite(v) else f"{v:.2f}" for v in b) for b in boxes]
    path.write_text("\n".join(lines) + "\n")


def write_folder_dataset(root: Path, sequences: int = 3, frames: int = 6) -> Path:
    """``<root>/<group>/<seq>/img/00000001.jpg`` + ``groundtruth.txt`` (one absent frame per sequence)."""
    for s in range(sequences):
        seq = root / "group" / f"seq{s}"
        boxes = _boxes(frames, s)
        boxes[-1] = np.nan
        for i in range(frames):
            _image(seq / "img" / f"{i + 1:08d}.jpg", 100 * s + i, box=None if i == frames - 1 else boxes[i])
        _write_gt(seq / "groundtruth.txt", boxes)
    return root


def write_got10k(root: Path, frames: int = 5) -> Path:
    names = ["GOT-10k_Train_000001", "GOT-10k_Train_000002"]
    for s, name in enumerate(names):
        seq = root / name
        boxes = _boxes(frames, s)
        for i in range(frames):
            _image(seq / f"{i + 1:08d}.jpg", s * 10 + i, box=boxes[i])
        _write_gt(seq / "groundtruth.txt", boxes)
        (seq / "absence.label").write_text("0\n1\n0\n0\n0\n")
        (seq / "cover.label").write_text("8\n8\n0\n8\n8\n")
    (root / "list.txt").write_text("\n".join(names) + "\n")
    return root


def write_lasot(root: Path, frames: int = 5) -> Path:
    for cls in ("airplane", "bear"):
        for k in (1, 2):
            seq = root / cls / f"{cls}-{k}"
            boxes = _boxes(frames, k)
            for i in range(frames):
                _image(seq / "img" / f"{i + 1:08d}.jpg", k * 10 + i, box=boxes[i])
            _write_gt(seq / "groundtruth.txt", boxes)
            (seq / "full_occlusion.txt").write_text("0,0,1,0,0")
            (seq / "out_of_view.txt").write_text("0,0,0,0,1")
    (root / "training_set.txt").write_text("airplane-1\nbear-2\n")
    return root


def write_uav123(root: Path, frames: int = 5) -> Path:
    for name in ("car1", "person2"):
        boxes = _boxes(frames, len(name))
        boxes[1] = np.nan
        for i in range(frames):
            _image(root / "data_seq" / "UAV123" / name / f"{i + 1:06d}.jpg", i, box=boxes[i - 1])
        _write_gt(root / "anno" / "UAV123" / f"{name}.txt", boxes)
    _write_gt(root / "anno" / "UAV123" / "bird1_1.txt", _boxes(3, 0))  # a split sequence: no own folder
    return root


def write_imagenet_vid(root: Path, frames: int = 4) -> Path:
    snippet = "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000"
    for i in range(frames):
        stem = f"{i:06d}"
        _image(root / "Data" / "VID" / "train" / snippet / f"{stem}.JPEG", i)
        objects = []
        for tid, (x, y) in ((0, (10 + i, 12)), (1, (50, 30 + i))):
            if tid == 1 and i == 0:
                continue  # object 1 appears from frame 1 on
            objects.append(f"<object><trackid>{tid}</trackid><name>n01</name><bndbox><xmax>{x + 20}</xmax>"
                           f"<xmin>{x}</xmin><ymax>{y + 16}</ymax><ymin>{y}</ymin></bndbox><occluded>0</occluded>"
                           "</object>")
        xml = (f"<annotation><folder>{snippet}</folder><filename>{stem}</filename>"
               f"<size><width>96</width><height>72</height></size>{''.join(objects)}</annotation>")
        path = root / "Annotations" / "VID" / "train" / snippet / f"{stem}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(xml)
    return root


def write_coco(root: Path) -> Path:
    images = [{"id": 1, "file_name": "000000000001.jpg", "width": 96, "height": 72},
              {"id": 2, "file_name": "000000000002.jpg", "width": 96, "height": 72}]
    for img in images:
        _image(root / "train2017" / img["file_name"], img["id"])
    annotations = [
        {"id": 10, "image_id": 1, "bbox": [10, 10, 30, 20], "iscrowd": 0, "category_id": 1, "area": 600},
        {"id": 11, "image_id": 1, "bbox": [50, 30, 20, 25], "iscrowd": 1, "category_id": 1, "area": 500},
        {"id": 12, "image_id": 2, "bbox": [5, 5, 2, 2], "iscrowd": 0, "category_id": 1, "area": 4},
        {"id": 13, "image_id": 2, "bbox": [20, 15, 40, 30], "iscrowd": 0, "category_id": 2, "area": 1200},
    ]
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    path = root / "annotations" / "instances_train2017.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": []}))
    return path


def write_annotated_images(root: Path, images: int = 4) -> Path:
    entries = []
    for i in range(images):
        box = [8.0 + i, 10.0, 30.0, 24.0]
        _image(root / "images" / f"{i}.jpg", 500 + i, box=box)
        entries.append({"file": f"images/{i}.jpg", "width": 96, "height": 72, "boxes": [box, [60, 40, 3, 3]],
                        "labels": ["thing", "tiny"]})
    (root / "annotations.json").write_text(json.dumps({"images": entries}))
    return root
