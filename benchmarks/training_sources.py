"""Markdown table of every training video (and image set) a checkpoint was trained on, for model cards.

    python benchmarks/training_sources.py --weights default --data-root DATA/train

Reads ``training.sequences`` / ``training.image_sets`` from the checkpoint's ``config.json`` and, for
each entry, the ``meta.json`` (videos) or ``source.json`` (image sets) in ``--data-root`` for the
original dataset, frame count and licence terms.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dcffnet import load_pretrained


def _meta(folder: Path, name: str) -> dict:
    path = folder / name
    return json.loads(path.read_text()) if path.is_file() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="default")
    parser.add_argument("--data-root", required=True, help="the training data folder the recipe's data_root named")
    args = parser.parse_args()
    _, info = load_pretrained(args.weights)
    training = info.get("training") or {}
    root = Path(args.data_root)
    sequences = training.get("sequences") or []
    print(f"{len(sequences)} training videos:\n")
    print("| source folder | sequence | original dataset | frames | licence / terms |")
    print("|---|---|---|---:|---|")
    total = 0
    for name in sequences:
        _, source, seq = name.rsplit("/", 2)
        meta = _meta(root.joinpath(*name.split("/")), "meta.json")
        frames = int(meta.get("frames", 0))
        total += frames
        licence = str(meta.get("license", "")).replace("|", "/")
        print(f"| {source} | {seq} | {meta.get('original_dataset', '')} | {frames} | {licence} |")
    print(f"\n{total} frames in all.\n", flush=True)
    sets = training.get("image_sets") or []
    catalog = _meta(root, "catalog.json").get("sources", {})
    if sets:
        print("| image set | images | boxes | origin / licence |")
        print("|---|---:|---:|---|")
        for name in sets:
            folder = root / name
            data = _meta(folder, "annotations.json")
            images = data.get("images", [])
            boxes = sum(len(i.get("boxes", [])) for i in images)
            src = _meta(folder, "source.json") or catalog.get(name, {})
            origin = src.get("license") or src.get("licence") or ""
            print(f"| {name} | {len(images)} | {boxes} | {str(origin).replace('|', '/')[:160]} |")


if __name__ == "__main__":
    main()
