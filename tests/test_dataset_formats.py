"""One registry of dataset formats: training, dcffnet eval / tune / calibrate and every --format read it."""

import argparse

import pytest

from dcffnet.cli import build_parser
from dcffnet.data import DATASET_FORMATS, READERS, format_names, get_format, read_dataset
from dcffnet.eval.datasets import FORMATS, load_benchmark


def _format_choices(command: str) -> list[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    [action] = [a for a in sub.choices[command]._actions if "--format" in a.option_strings]
    return list(action.choices)


@pytest.mark.parametrize("command", ["eval", "tune", "calibrate"])
def test_cli_format_choices_are_the_registry_benchmarks(command):
    assert _format_choices(command) == format_names(benchmark_only=True)


def test_readers_and_benchmarks_come_from_the_registry():
    names = [n for f in DATASET_FORMATS for n in (f.name, *f.aliases)]
    assert len(names) == len(set(names)), "a format name or alias is used twice"
    assert list(READERS) == names == format_names()
    assert all(READERS[n] is get_format(n).read for n in names)
    assert list(FORMATS) == format_names(benchmark_only=True)
    assert set(format_names(benchmark_only=True)) == {n for f in DATASET_FORMATS if f.benchmark
                                                      for n in (f.name, *f.aliases)}
    # the names the eval CLI accepted before the registry are all still there
    assert {"otb", "vot", "lasot", "got10k", "uav", "folder"} <= set(FORMATS)
    # and training's
    assert {"folder", "got10k", "lasot", "uav123", "imagenet_vid", "coco", "images"} <= set(READERS)
    assert get_format("uav123") is get_format("uav")
    assert all(f.description for f in DATASET_FORMATS)


def test_training_only_formats_are_refused_by_eval_with_the_reason(tmp_path):
    with pytest.raises(ValueError, match="'coco' \\(it is read for training only\\).*available: folder"):
        load_benchmark(tmp_path, "coco")
    with pytest.raises(ValueError, match="unknown benchmark format 'mot'"):
        load_benchmark(tmp_path, "mot")
    with pytest.raises(ValueError, match="unknown dataset format 'mot'.*imagenet_vid"):
        read_dataset("mot", tmp_path)
