"""Dataset readers (real layouts written by the tests), the pair sampler, targets and losses."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from dcffnet.geometry import ResponseGeometry
from dcffnet.train.config import AugmentConfig, DatasetSpec
from dcffnet.data import (read_annotated_images, read_coco, read_dataset, read_folder, read_got10k,
                                    read_imagenet_vid, read_lasot, read_uav123)
from dcffnet.train.losses import balanced_cross_entropy, balanced_logistic_loss, car_loss, iou_loss
from dcffnet.train.sampling import PairDataset, split_tracks
from dcffnet.train.targets import car_targets, siamfc_labels
from train_fixtures import (write_annotated_images, write_coco, write_folder_dataset, write_got10k,
                            write_imagenet_vid, write_lasot, write_uav123)

SHARED_TRAIN = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "train"


def test_folder_reader(tmp_path):
    tracks = read_folder(write_folder_dataset(tmp_path))
    assert len(tracks) == 3
    t = tracks[0]
    assert len(t.frames) == 6 and t.frames[0].name == "00000001.jpg" and t.is_video
    assert np.isnan(t.boxes[-1]).all() and list(t.valid) == [0, 1, 2, 3, 4]
    (tmp_path / "split.txt").write_text("seq1\n")
    assert [t.name.split("/")[-1] for t in read_folder(tmp_path, split_file=tmp_path / "split.txt")] == ["seq1"]


def test_got10k_reader_applies_absence_and_cover(tmp_path):
    tracks = read_got10k(write_got10k(tmp_path))
    assert [t.qualified_name for t in tracks] == ["got10k/GOT-10k_Train_000001", "got10k/GOT-10k_Train_000002"]
    assert list(tracks[0].valid) == [0, 3, 4]  # frame 1 absent, frame 2 fully covered


def test_lasot_reader_with_occlusion_and_split(tmp_path):
    root = write_lasot(tmp_path)
    tracks = read_lasot(root)
    assert len(tracks) == 4 and list(tracks[0].valid) == [0, 1, 3]
    names = [t.qualified_name for t in read_lasot(root, split_file=root / "training_set.txt")]
    assert names == ["lasot/airplane-1", "lasot/bear-2"]


def test_uav123_reader_skips_split_sequences(tmp_path):
    with pytest.warns(UserWarning, match="split sequences"):
        tracks = read_uav123(write_uav123(tmp_path))
    assert [t.qualified_name for t in tracks] == ["uav123/car1", "uav123/person2"]
    assert 1 not in tracks[0].valid


def test_imagenet_vid_reader_one_track_per_object(tmp_path):
    tracks = read_imagenet_vid(write_imagenet_vid(tmp_path))
    assert len(tracks) == 2
    first, second = tracks
    assert first.frames[0].suffix == ".JPEG" and first.frames[0].is_file()
    np.testing.assert_allclose(first.boxes[0], [10, 12, 20, 16])
    assert list(second.valid) == [1, 2, 3]


def test_coco_reader(tmp_path):
    tracks = read_coco(write_coco(tmp_path))
    assert [t.qualified_name for t in tracks] == ["coco/1/10", "coco/2/13"]  # crowd and tiny boxes dropped
    assert not tracks[0].is_video and tracks[0].frames[0].is_file()


def test_annotated_images_reader(tmp_path):
    tracks = read_annotated_images(write_annotated_images(tmp_path))
    assert len(tracks) == 4 and all(not t.is_video for t in tracks)


def test_read_dataset_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset format"):
        read_dataset("mot17", tmp_path)
    with pytest.raises(FileNotFoundError):
        read_dataset("folder", tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no usable sequences"):
        read_dataset("folder", tmp_path / "empty")


@pytest.mark.skipif(not (SHARED_TRAIN / "tiny_coco").is_dir(), reason="../shared/data/train not present")
def test_shared_tiny_coco_and_davis():
    coco = read_coco(SHARED_TRAIN / "tiny_coco" / "annotations" / "instances_train2017.json")
    assert len(coco) > 100 and all(t.frames[0].is_file() for t in coco[:20])
    davis = read_folder(SHARED_TRAIN / "videos" / "davis2016_val")
    assert len(davis) == 20 and all(len(t.valid) > 10 for t in davis)


# ------------------------------------------------------------------------------------------- sampler
def _sampler(tmp_path, **aug):
    videos = read_folder(write_folder_dataset(tmp_path / "v"))
    stills = read_annotated_images(write_annotated_images(tmp_path / "s"))
    specs = [(DatasetSpec("folder", "v", weight=3.0, frame_range=2), videos),
             (DatasetSpec("images", "s", weight=1.0), stills)]
    return PairDataset(specs, 40, 63, 127, dataclasses.replace(AugmentConfig(), **aug), seed=7)


def test_pairs_are_deterministic_and_shaped(tmp_path):
    ds = _sampler(tmp_path)
    a, b = ds[3], ds[3]
    assert a["template"].shape == (3, 63, 63) and a["search"].shape == (3, 127, 127)
    assert a["template"].dtype == torch.uint8
    assert torch.equal(a["search"], b["search"]) and torch.equal(a["box"], b["box"])
    ds.set_epoch(1)
    assert not torch.equal(ds[3]["search"], a["search"])


def test_target_box_is_where_the_shift_puts_it(tmp_path):
    ds = _sampler(tmp_path, search_shift=0.0, search_scale=0.0, flip=0.0)
    for i in range(5):
        x1, y1, x2, y2 = ds[i]["box"].tolist()
        assert (x1 + x2) / 2 == pytest.approx(63.5, abs=1e-3) and (y1 + y2) / 2 == pytest.approx(63.5, abs=1e-3)


def test_mixture_weights_and_frame_range(tmp_path):
    ds = _sampler(tmp_path)
    rng_counts = {"folder": 0, "images": 0}
    for i in range(400):
        rng = np.random.default_rng([ds.seed, 0, i, 0])
        spec, track = ds._pick(rng)
        rng_counts[spec.format] += 1
        t, s = ds._frames(spec, track, rng)
        if track.is_video:
            assert abs(t - s) <= spec.frame_range and t in track.valid and s in track.valid
        else:
            assert t == s == 0
    assert 0.65 < rng_counts["folder"] / 400 < 0.85  # weight 3 : 1


def test_negative_pairs_are_flagged(tmp_path):
    ds = _sampler(tmp_path, negative=1.0)
    assert all(bool(ds[i]["negative"]) for i in range(4))


def test_unreadable_images_are_skipped_and_counted(tmp_path):
    ds = _sampler(tmp_path)
    for spec, tracks in ds.datasets:
        for t in tracks:
            t.frames[0].write_bytes(b"not an image")
    counts = [int(ds[i]["skipped"]) for i in range(30)]
    assert sum(counts) > 0


def test_split_is_by_sequence_and_stable():
    from dcffnet.data import Sequence

    tracks = [Sequence(f"seq{i}", [Path("a.jpg")], np.array([[0, 0, 5, 5]]), dataset="d") for i in range(200)]
    train, val = split_tracks(tracks, 0.1)
    assert 5 < len(val) < 40 and len(train) + len(val) == 200
    assert split_tracks(tracks, 0.1)[1] == val


# ------------------------------------------------------------------------------------------- targets
GEOM = ResponseGeometry(template_size=127, search_size=255, stride=6, size=22)


def test_siamfc_labels_centre_on_the_target():
    box = torch.tensor([[103.5, 103.5, 151.5, 151.5]])  # centre 127.5 = cell 10.67 -> cells 10 and 11
    labels = siamfc_labels(box, torch.tensor([False]), GEOM, r_pos=8.0)
    ys, xs = torch.nonzero(labels[0, 0], as_tuple=True)
    assert set(xs.tolist()) <= {10, 11, 12} and set(ys.tolist()) <= {10, 11, 12} and len(xs) > 0
    assert siamfc_labels(box, torch.tensor([True]), GEOM, 8.0).sum() == 0


def test_car_targets_inside_and_central():
    box = torch.tensor([[100.0, 110.0, 160.0, 150.0]])
    labels, reg = car_targets(box, torch.tensor([False]), GEOM, "inside")
    points = GEOM.cell_points()
    j = int(np.argmin(np.abs(points - 130)))
    l, t, r, b = reg[0, :, j, j].tolist()
    assert l == pytest.approx(points[j] - 100) and r == pytest.approx(160 - points[j])
    assert t == pytest.approx(points[j] - 110) and b == pytest.approx(150 - points[j])
    inside = ((points > 100) & (points < 160))[None, :] & ((points > 110) & (points < 150))[:, None]
    assert torch.equal(labels[0].bool(), torch.from_numpy(inside))
    central, _ = car_targets(box, torch.tensor([False]), GEOM, "central", 0.2)
    assert 0 < central.sum() < labels.sum()


def test_losses():
    labels = torch.zeros(2, 1, 5, 5)
    labels[:, :, 2, 2] = 1
    perfect = (labels * 2 - 1) * 20
    assert balanced_logistic_loss(perfect, labels) < 1e-6
    assert balanced_logistic_loss(torch.zeros_like(labels), labels) == pytest.approx(np.log(2), rel=1e-5)
    t = torch.tensor([[10.0, 10.0, 10.0, 10.0]])
    assert iou_loss(t, t) == pytest.approx(0.0, abs=1e-6)
    assert iou_loss(t * 0.5, t) > 0.5
    cls = torch.zeros(1, 2, 3, 3)
    lab = torch.zeros(1, 3, 3)
    lab[0, 1, 1] = 1
    assert balanced_cross_entropy(cls, lab) == pytest.approx(np.log(2), rel=1e-5)
    out = car_loss({"cls": cls, "reg": torch.full((1, 4, 3, 3), 10.0)}, lab, torch.full((1, 4, 3, 3), 10.0))
    assert out["reg"] == pytest.approx(0.0, abs=1e-6) and out["loss"] == pytest.approx(np.log(2), rel=1e-5)


@pytest.mark.parametrize("rotation", [0.0, 8.0])
def test_aspect_stretch_moves_the_box_with_the_pixels(rotation):
    """A white rectangle on black: the returned box must match the white pixels after the stretch."""
    from dcffnet.train.augment import search_crop

    image = np.zeros((300, 400, 3), np.uint8)
    image[100:160, 150:270] = 255  # x 150..270, y 100..160 -> box (150, 100, 120, 60)
    box = np.array([150.0, 100.0, 120.0, 60.0])
    aug = AugmentConfig(search_shift=10.0, search_scale=0.0, search_aspect=0.5, rotation=rotation, flip=0.0)
    ratios = []
    for seed in range(6):
        crop, (x1, y1, x2, y2) = search_crop(image, box, 127, 255, aug, np.random.default_rng(seed))
        ys, xs = np.nonzero(crop[..., 0] > 127)
        if rotation == 0:
            assert xs.min() == pytest.approx(x1, abs=1.5) and xs.max() + 1 == pytest.approx(x2, abs=1.5)
            assert ys.min() == pytest.approx(y1, abs=1.5) and ys.max() + 1 == pytest.approx(y2, abs=1.5)
        else:  # the box of a rotated box is shrunk towards its centre; the centre still matches
            assert (xs.min() + xs.max() + 1) / 2 == pytest.approx((x1 + x2) / 2, abs=1.5)
            assert (ys.min() + ys.max() + 1) / 2 == pytest.approx((y1 + y2) / 2, abs=1.5)
        ratios.append((x2 - x1) / (y2 - y1))
    assert max(ratios) - min(ratios) > 0.3  # the stretch really changes the shape (2.0 unstretched)
    assert all(2.0 * np.exp(-0.5) - 1e-6 <= r <= 2.0 * np.exp(0.5) + 1e-6 for r in ratios) or rotation > 0
