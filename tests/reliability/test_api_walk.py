"""A walk over the public API and command line with generated bad values (issue 26, "How to prove
it"): every call either succeeds or fails with one of the documented errors (``dcffnet.errors``:
``WeightsNotFoundError``, ``CheckpointError``, ``DatasetError``) or a ``ValueError`` /
``TypeError`` / ``FileNotFoundError`` with a message; never a raw ``KeyError``, ``IndexError``,
``AttributeError``, ``OverflowError``, ``UnicodeDecodeError``, ``UnicodeEncodeError``,
``ZeroDivisionError`` or ``RecursionError``, and never a crash of the process. The command line
exits with a non-zero status and one line on stderr, without a traceback.

Documented exceptions to "no ``KeyError``": an unknown id in ``MultiTracker.remove`` /
``target`` / ``tracker`` (docs/api.md), and, until ``dcffnet.hparams.get_preset`` raises a
``ValueError``, an unknown preset name (``test_an_unknown_preset_is_a_value_error`` records it).

Entry points walked: ``Tracker(...)`` arguments, ``Tracker.init`` / ``update`` with bad frames and
boxes, ``MultiTracker.add`` / ``remove`` / ``update``, ``TrackerHParams(...)`` /
``resolve_hparams``, ``dcffnet.data.read_dataset_report`` / ``read_frame`` with bad paths, and
``dcffnet.cli.main`` for ``track``, ``eval``, ``export`` and ``models``.

Two layers: every listed awkward value (``SPECIAL_VALUES``, ``SPECIAL_BOXES``, ``SPECIAL_FRAMES``,
the path kinds of ``PATH_KINDS``) at every entry point that takes one, as parametrized cases, so
each kind is tried on every run; and generated values and call sequences on top (hypothesis).
Examples per property: ``DCFFNET_PROPERTY_EXAMPLES`` (default 40; the command-line walks, which
run the command in-process, half as many), derandomized so CI repeats. No request leaves the machine: the
hub is offline (``HF_HUB_OFFLINE=1``) with an empty cache.
"""

from __future__ import annotations

import collections.abc
import contextlib
import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import dcffnet  # noqa: E402
from dcffnet.checkpoint import bundled_checkpoints  # noqa: E402
from dcffnet.cli import main  # noqa: E402
from dcffnet.data import format_names, read_dataset_report, read_frame  # noqa: E402
from dcffnet.errors import CheckpointError, DatasetError, WeightsNotFoundError  # noqa: E402
from dcffnet.hparams import TrackerHParams, resolve_hparams  # noqa: E402

EXAMPLES = int(os.environ.get("DCFFNET_PROPERTY_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])
#: the command-line walks: half as many examples (each runs a command)
CLI_SETTINGS = settings(SETTINGS, max_examples=max(1, EXAMPLES // 2))
#: what may reach a user: the package's documented errors and argument errors with a message
DOCUMENTED = (WeightsNotFoundError, CheckpointError, DatasetError, ValueError, TypeError, FileNotFoundError)
#: what must never reach a user (checked first: UnicodeDecodeError is a ValueError)
RAW = (KeyError, IndexError, AttributeError, OverflowError, UnicodeDecodeError, UnicodeEncodeError,
       ZeroDivisionError, RecursionError)
#: the message of the one documented KeyError outside MultiTracker (dcffnet.hparams.get_preset)
PRESET_KEY_ERROR = "unknown hyper-parameter preset"

# ------------------------------------------------------------------------------------------ values
#: one value of each awkward kind: wrong types, NaN / inf, huge, tiny, empty, NUL, a lone surrogate
#: (what a file name with non-UTF-8 bytes becomes in Python), control characters, a very long
#: name, names of the wrong kind, nested lists, numpy scalars and arrays
SPECIAL_VALUES: list[Any] = [
    None, True, False, 0, -1, 2**31, 2**70, -(2**70), math.nan, math.inf, -math.inf, 1e308, 1e-300, -0.0, 0.5,
    complex("nan+1j"), "", " ", "\x00", "\udcff", "a\r\nb", "x" * 5000, "default", "org/name", "org/name@",
    "./nope", "~/nope", "1,2,3,4", "\U0001f600", b"default", [], [1, 2], [[1, 2]], {}, {"lr": 1}, object(),
    np.array([[1.0, 2.0]]), np.float64("nan"), np.bool_(True), np.int64(2**62),
]
AWKWARD = st.one_of(
    st.sampled_from(SPECIAL_VALUES), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(), st.text(max_size=12), st.binary(max_size=6),
    st.lists(st.integers(-3, 3), max_size=5), st.lists(st.lists(st.integers(0, 9), max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**70), 2**70), st.integers(),
                   st.sampled_from([0.0, 1e-300, 1e-3, 1.0, 1e7, 1e8]))
#: boxes: right and wrong lengths, nested, booleans, strings, NaN / inf, tiny, huge, arrays of odd
#: dtypes, and plain awkward values
BOXES = st.one_of(
    st.lists(NUMBER, min_size=0, max_size=6), st.tuples(NUMBER, NUMBER, NUMBER, NUMBER),
    st.tuples(st.floats(0, 40), st.floats(0, 40), st.floats(1e-320, 1e-2), st.floats(1e-320, 1e-2)),
    st.lists(st.one_of(NUMBER, st.booleans(), st.text(max_size=3), st.none(), st.lists(NUMBER, max_size=2)),
             min_size=4, max_size=4),
    st.sampled_from([np.array([[1, 2, 3, 4]]), np.array([1, 2, 3, 4], dtype=bool), np.array(["1", "2", "3", "4"]),
                     np.array([1, 2, 3, 4], dtype=complex), np.array([1, 2, 3, 4], dtype=object),
                     np.array([1, 2, 3, 4], dtype=np.uint64), np.zeros((4, 0)), np.array(5.0)]),
    AWKWARD,
)
SPECIAL_BOXES: list[Any] = [
    [[10, 10], [20, 16]], [[10, 10, 20, 16]], np.array([[10, 10, 20, 16]]), (10, 10, [20], 16), (True,) * 4,
    (10, 10, True, 16), ["10", "10", "20", "16"], "10,10,20,16", (10, 10, None, 16), (10, 10, 20j, 16),
    np.array([1, 1, 1, 1], dtype=bool), np.array(["1", "2", "3", "4"]), np.zeros((4, 0)), np.array(5.0),
    (0, 0, 1e-300, 1e-300), (10, 10, 5e-324, 16), (10, 10, 0, 16), (10, 10, -5, 16), (math.nan, 10, 20, 16),
    (10, 10, math.inf, 16), (1e308, 10, 20, 16), (2**70, 10, 20, 16), (10**400, 10, 20, 16), (10, 10, 20),
    (10, 10, 20, 16, 1), (),
    (500, 500, 20, 16), (-100, -100, 20, 16), [np.float64("nan")] * 4, [object()] * 4,
]
DTYPES = ["uint8", "uint16", "float32", "float64", "int8", "int64", "bool", "complex64", "object", "U1"]
SPECIAL_FRAMES: list[Any] = [
    np.zeros((0, 64, 3), np.uint8), np.zeros((48, 0, 3), np.uint8), np.zeros((48, 64, 0), np.uint8),
    np.zeros((48, 64, 2), np.uint8), np.zeros((48, 64, 5), np.uint8), np.zeros((2, 48, 64, 3), np.uint8),
    np.zeros(64, np.uint8), np.array(7, np.uint8), *[np.zeros((48, 64, 3), dtype) for dtype in DTYPES[2:]],
    np.full((48, 64, 3), np.nan, np.float32), [[0, 1], [2, 3]], "frame.png", b"\x89PNG", None, 3, object(),
]


@st.composite
def frames(draw) -> Any:
    """A frame of any shape (0-4 dimensions, empty sides, 0-6 channels) and dtype, or an awkward value."""
    if draw(st.integers(0, 3)) == 0:
        return draw(AWKWARD)
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim)))
    if ndim >= 2 and draw(st.booleans()):
        shape = (draw(st.integers(1, 48)), draw(st.integers(1, 48))) + shape[2:]
    dtype = draw(st.sampled_from(DTYPES))
    values = np.random.default_rng(draw(st.integers(0, 99))).integers(0, 255, shape)
    return values.astype(dtype)


# ---------------------------------------------------------------------------------------- checking
def _refused_cleanly(call: Callable[[], Any], *, also: tuple[type[BaseException], ...] = ()) -> Any:
    """Run ``call``: its result, or ``None`` when it raised a documented error with a message (or one
    of ``also``). Any other exception fails the test, naming the call."""
    try:
        return call()
    except also:
        return None
    except RAW as exc:
        if isinstance(exc, KeyError) and str(exc).strip("'\"").startswith(PRESET_KEY_ERROR):
            return None  # documented (dcffnet.get_preset), see test_an_unknown_preset_is_a_value_error
        pytest.fail(f"raw {type(exc).__name__} reached the caller: {exc!r}")
    except DOCUMENTED as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        return None


@pytest.fixture(scope="module", autouse=True)
def _offline_hub(tmp_path_factory):
    """No request leaves the machine, and no cached hub checkpoint helps a name along."""
    # huggingface_hub reads HF_HUB_OFFLINE once, on import: imported now, it stays online for the
    # later modules' local hub (dcffnet reads the variable on every call)
    import huggingface_hub.constants  # noqa: F401

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("hub-cache")))
        yield


@pytest.fixture(scope="module")
def tracker() -> dcffnet.Tracker:
    return dcffnet.Tracker()


@pytest.fixture(scope="module")
def multi() -> dcffnet.MultiTracker:
    return dcffnet.MultiTracker()


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    rng = np.random.default_rng(3)
    return cv2.resize(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), (64, 48), interpolation=cv2.INTER_NEAREST)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A folder of things a path may point at: frames, a tiny benchmark, files that are not what
    they are named, an empty folder, a file whose name is not UTF-8."""
    root = tmp_path_factory.mktemp("walk")
    rng = np.random.default_rng(5)
    (root / "frames").mkdir()
    for i in range(3):
        cv2.imwrite(str(root / "frames" / f"{i}.png"), rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    seq = root / "bench" / "seq"
    (seq / "img").mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(seq / "img" / f"{i:04d}.jpg"), rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    (seq / "groundtruth.txt").write_text("10,10,20,16\n" * 3)
    (root / "empty").mkdir()
    (root / "text.jpg").write_text("not an image")
    (root / "text.json").write_text("not json")
    (root / "list.json").write_text("[]")
    (root / "binary.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    (root / "a-file").write_text("a file, not a folder")
    png = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))[1].tobytes()
    (root / os.fsdecode(b"\xff-latin1.png")).write_bytes(png)
    return root


def _path(files: Path, draw_name: str) -> str:
    """A path under ``files`` (or an absolute oddity) for a drawn name."""
    special = {"<frames>": files / "frames", "<bench>": files / "bench", "<empty>": files / "empty",
               "<text.jpg>": files / "text.jpg", "<text.json>": files / "text.json", "<list.json>": files / "list.json",
               "<binary.png>": files / "binary.png", "<under-a-file>": files / "a-file" / "x",
               "<latin1>": files / os.fsdecode(b"\xff-latin1.png"), "<missing>": files / "missing" / "x",
               "<dev-null>": Path("/dev/null"), "<long>": files / ("x" * 5000), "<nul>": files / "a\x00b",
               "<surrogate>": files / "\udcff", "<spaces>": files / " a b "}
    return str(special.get(draw_name, files / draw_name))


PATH_KINDS = ["<frames>", "<bench>", "<empty>", "<text.jpg>", "<text.json>", "<list.json>", "<binary.png>",
              "<under-a-file>", "<latin1>", "<missing>", "<dev-null>", "<long>", "<nul>", "<surrogate>", "<spaces>"]
PATH_NAMES = st.one_of(
    st.sampled_from(PATH_KINDS),
    st.text(min_size=1, max_size=10).filter(lambda t: "/" not in t and t not in (".", "..")),
)


def _id(value: Any) -> str:
    """A short test id for a listed value."""
    text = repr(value)
    return ascii(text if len(text) <= 24 else text[:21] + "...")[1:-1]


# ------------------------------------------------------------------------------------------- API
TRACKER_ARGS = ["weights", "hparams", "device", "color", "threads", "backend", "revision", "cache_dir", "model"]
HPARAM_FIELDS = [f.name for f in dataclasses.fields(TrackerHParams)]


def _tracker_with(name: str, value: Any) -> None:
    kwargs = {"weights": value} if name == "weights" else {name: value}
    if name in ("revision", "cache_dir"):
        kwargs["weights"] = "org/name"  # a hub id: the only names these two apply to (offline here)
    _refused_cleanly(lambda: dcffnet.Tracker(**kwargs))


# (hparams: every listed value goes through resolve_hparams in test_every_listed_value_as_tracking_values,
# without loading the network 40 times; the generated layer passes them to Tracker too)
@pytest.mark.parametrize("name", [name for name in TRACKER_ARGS if name != "hparams"])
@pytest.mark.parametrize("value", SPECIAL_VALUES, ids=_id)
def test_every_listed_value_as_a_tracker_argument(name, value):
    _tracker_with(name, value)


@SETTINGS
@given(name=st.sampled_from(TRACKER_ARGS), value=AWKWARD)
def test_tracker_arguments(name, value):
    _tracker_with(name, value)


def _init_and_update(tracker: dcffnet.Tracker, scene: np.ndarray, frame: Any, box: Any, later: list[Any]) -> None:
    _refused_cleanly(lambda: tracker.init(frame, (10, 10, 20, 16)))
    _refused_cleanly(lambda: tracker.init(scene, box))
    for bad in later:
        _refused_cleanly(lambda: tracker.update(bad), also=(RuntimeError,))  # update before any init
    tracker.init(scene, (10, 10, 20, 16))
    box_after, score = tracker.update(scene)  # a refused call leaves a working tracker
    assert all(math.isfinite(v) for v in box_after) and 0.0 <= score <= 1.0


@pytest.mark.parametrize("box", SPECIAL_BOXES, ids=_id)
def test_every_listed_box(tracker, scene, box):
    _init_and_update(tracker, scene, scene, box, [])


@pytest.mark.parametrize("frame", SPECIAL_FRAMES, ids=_id)
def test_every_listed_frame(tracker, scene, frame):
    _init_and_update(tracker, scene, frame, (10, 10, 20, 16), [frame])


@SETTINGS
@given(frame=frames(), box=BOXES, later=st.lists(frames(), max_size=2))
def test_init_and_update_with_bad_frames_and_boxes(tracker, scene, frame, box, later):
    _init_and_update(tracker, scene, frame, box, later)


def _multi_step(multi: dcffnet.MultiTracker, scene: np.ndarray, op: str, frame: Any, box: Any, target_id: Any) -> None:
    if op == "add":
        _refused_cleanly(lambda: multi.add(scene, box, target_id=target_id))
        _refused_cleanly(lambda: multi.add(frame, (10, 10, 20, 16), target_id=target_id))
    elif op == "remove":  # KeyError for an unknown id is documented (docs/api.md)
        _refused_cleanly(lambda: multi.remove(target_id), also=(KeyError,))
    elif op == "tracker":
        _refused_cleanly(lambda: multi.tracker(target_id), also=(KeyError,))
    else:
        results = _refused_cleanly(lambda: multi.update(frame))
        assert results is None or set(results) == set(multi.targets)


@pytest.mark.parametrize("value", SPECIAL_VALUES, ids=_id)
def test_every_listed_value_as_a_target_id_box_or_frame(multi, scene, value):
    for target in list(multi):
        multi.remove(target)
    for op in ("add", "tracker", "remove", "add", "update"):
        _multi_step(multi, scene, op, value, value, value)
    assert set(multi.update(scene)) == set(multi.targets)


@SETTINGS
@given(ops=st.lists(st.tuples(st.sampled_from(["add", "add", "remove", "update", "tracker"]), frames(), BOXES,
                              st.one_of(AWKWARD, st.sampled_from([0, 1, "car", None]))), min_size=1, max_size=5))
def test_multitracker_add_remove_update(multi, scene, ops):
    for target in list(multi):
        multi.remove(target)
    for op, frame, box, target_id in ops:
        _multi_step(multi, scene, op, frame, box, target_id)
    assert set(multi.update(scene)) == set(multi.targets)  # still working, with exactly its targets


@pytest.mark.parametrize("value", SPECIAL_VALUES, ids=_id)
def test_every_listed_value_as_tracking_values(value):
    for field in HPARAM_FIELDS:
        _refused_cleanly(lambda: TrackerHParams(**{field: value}))
        _refused_cleanly(lambda: resolve_hparams({field: value}))
    _refused_cleanly(lambda: resolve_hparams(value))
    _refused_cleanly(lambda: resolve_hparams(None, value))
    if isinstance(value, collections.abc.Hashable):
        _refused_cleanly(lambda: resolve_hparams({value: 0.5}))


@SETTINGS
@given(field=st.sampled_from(HPARAM_FIELDS), value=AWKWARD, hparams=AWKWARD,
       key=st.one_of(st.sampled_from(HPARAM_FIELDS), st.text(max_size=6), st.integers(), st.none()))
def test_hparams_and_resolve_hparams(field, value, hparams, key):
    _refused_cleanly(lambda: TrackerHParams(**{field: value}))
    _refused_cleanly(lambda: resolve_hparams(hparams))
    _refused_cleanly(lambda: resolve_hparams({key: value}))
    _refused_cleanly(lambda: resolve_hparams(None, hparams))


def _read(fmt: Any, where: Any, strict: bool = False, benchmark: bool = False) -> None:
    _refused_cleanly(lambda: read_dataset_report(fmt, where, strict=strict, benchmark=benchmark))
    _refused_cleanly(lambda: read_frame(where))


def _elsewhere(files: Path, where: Any) -> bool:
    """Whether ``where`` is a folder of this machine outside the walk's (a drawn ``"."`` or ``"/"``):
    reading those is no test of hostile input."""
    return isinstance(where, str) and not where.startswith(str(files)) and os.path.isdir(where)


@pytest.mark.parametrize("kind", PATH_KINDS)
def test_every_listed_path_kind_in_every_reader(files, kind):
    for fmt in format_names():
        for strict, benchmark in ((False, False), (True, True)):
            _read(fmt, _path(files, kind), strict, benchmark)


@pytest.mark.parametrize("value", SPECIAL_VALUES, ids=_id)
def test_every_listed_value_as_a_reader_argument(files, value):
    if not _elsewhere(files, value):
        _read("folder", value)
    _read(value, str(files / "bench"))


@SETTINGS
@given(fmt=st.one_of(st.sampled_from(format_names()), AWKWARD), name=PATH_NAMES, root=AWKWARD,
       strict=st.booleans(), benchmark=st.booleans())
def test_dataset_and_frame_readers_with_bad_paths(files, fmt, name, root, strict, benchmark):
    for where in (_path(files, name), root):
        if not _elsewhere(files, where):
            _read(fmt, where, strict, benchmark)


def test_a_frame_whose_name_is_not_utf8_is_refused_not_a_crash(files):
    """OpenCV crashes the process (segmentation fault) on a name with lone surrogates."""
    name = files / os.fsdecode(b"\xff-latin1.png")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        read_frame(name)


def test_an_unknown_preset_is_a_value_error():
    """A ValueError naming it (and still a KeyError, as 0.4.0 raised)."""
    with pytest.raises(ValueError, match="unknown hyper-parameter preset 'nope'"):
        resolve_hparams("nope")
    with pytest.raises(KeyError):
        resolve_hparams("nope")


# ----------------------------------------------------------------------------------- command line
def _cli(argv: list[str], capsys) -> tuple[int, list[str]]:
    """Run ``dcffnet ARGV``: its exit status and its stderr lines; no exception may escape."""
    try:
        code = main(argv)
    except SystemExit as exc:  # only --help / --version exit; every refusal returns its status
        pytest.fail(f"main({argv!r}) raised SystemExit({exc.code!r}) instead of returning a status")
    except BaseException as exc:  # noqa: BLE001 - anything escaping main is the failure looked for
        pytest.fail(f"main({argv!r}) raised {type(exc).__name__}: {exc}")
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, [line for line in err.splitlines() if line.strip()]


def _run_refused_or_done(argv: list[str], capsys, *, report_lines: bool = False) -> int:
    """Run ``dcffnet ARGV``: done (status 0), or refused with a non-zero status and one stderr line
    ``dcffnet CMD: error: ...`` (``report_lines``: besides ``eval``'s read report of ``--dataset``)."""
    code, lines = _cli(argv, capsys)
    if code == 0:
        return code  # the value happened to be a valid one
    if report_lines:
        lines = [line for line in lines if not line.startswith("dataset ")]
    assert len(lines) == 1, f"dcffnet {argv!r}: stderr is not one line: {lines}"
    assert lines[0].startswith("dcffnet") and "error" in lines[0], lines
    return code


#: the walk's names that are not UTF-8: an existing video named so would crash OpenCV: refused first, tested by test_a_video_name_that_is_not_utf8_is_refused_not_a_crash
NOT_UTF8 = ("<latin1>", "<surrogate>")
CLI_SPECIAL_TEXT = ["", "-1", "0", "1e400", "nan", "\x00", "\udcff", "a\rb", "x" * 5000, "--", "-x", "1,2,3",
                    "a,b,c,d", "0,0,1e-300,1e-300", "default"]
CLI_TEXT = st.one_of(st.text(max_size=12), st.sampled_from(CLI_SPECIAL_TEXT))
#: (``--revision`` of the bundled default is not used: a valid value tracks the clip; test_names covers it)
TRACK_TEXT_OPTIONS = ["--box", "--max-frames", "--device", "--preset", "--weights"]
EVAL_TEXT_OPTIONS = ["--format", "--tracker", "--protocol", "--eao-low", "--sequences"]
EXPORT_TEXT_OPTIONS = ["checkpoint", "--opset", "--revision"]
PATH_OPTIONS = ["track source", "track --output", "track --boxes", "eval --dataset", "eval --out", "export --onnx"]


def _track(files: Path, option: str, value: str) -> list[str]:
    """``dcffnet track`` on the walk's frames with ``option`` set to ``value`` (``source``: the input;
    ``box-values``: four numbers joined)."""
    values = {"source": str(files / "frames"), "--box": "10,10,20,16"}
    values[option] = value
    source = values.pop("source")
    # "--opt=value" and "--" before the source: a value may start with "-"
    return ["track", *[f"{k}={v}" for k, v in values.items()], "--no-progress", "--", source]


def _eval(files: Path, out: Path, option: str, value: str) -> list[str]:
    values = {"--dataset": str(files / "bench"), "--format": "folder", "--tracker": "opencv:mil", "--out": str(out)}
    if option == "--tracker" and value == "--":
        value = "---"  # "--tracker=--" is argparse's empty list: tested by test_a_tracker_spec_of_a_bare_double_dash_is_a_one_line_error
    values[option] = value
    return ["eval", *[f"{k}={v}" for k, v in values.items()], "--no-progress"]


def _export(files: Path, option: str, value: str) -> list[str]:
    """``dcffnet export`` that never gets to export: ``--opset 5`` unless ``--opset`` is the value
    walked, whose valid values (11-20) are replaced by 21."""
    values = {"checkpoint": "default", "--onnx": str(files / "empty" / "export"), "--opset": "5"}
    if option == "checkpoint" and (value in bundled_checkpoints() or os.path.isdir(value)):
        value += "-not-bundled"
    if option == "--opset":
        with contextlib.suppress(ValueError):
            value = "21" if 11 <= int(value) <= 20 else value
    values[option] = value
    checkpoint = values.pop("checkpoint")
    return ["export", *[f"{k}={v}" for k, v in values.items()], "--", checkpoint]


def _path_option(files: Path, tmp: Path, option: str, kind: str) -> list[str] | None:
    """The command line of ``option`` (one of :data:`PATH_OPTIONS`) set to the path ``kind``, or
    ``None`` for a combination that is no test: the walk's frames as the source (the valid default),
    an existing folder as ``eval --out`` (it would be written into), a non-UTF-8 video name."""
    command, name = option.split(" ")
    path = _path(files, kind)
    if (option in ("track source", "track --output") and kind in NOT_UTF8) or (
            option == "track source" and kind == "<frames>") or (option == "eval --out" and os.path.isdir(path)):
        return None
    if command == "track":
        return _track(files, name, path)
    if command == "eval":
        return _eval(files, tmp, name, path)
    return _export(files, name, path)


@pytest.mark.parametrize("option", PATH_OPTIONS)
@pytest.mark.parametrize("kind", PATH_KINDS)
def test_every_listed_path_kind_on_the_command_line(files, capsys, tmp_path, option, kind):
    argv = _path_option(files, tmp_path, option, kind)
    if argv is None:
        pytest.skip("no test: the valid source, a folder eval would write into, or a video name OpenCV "
                    "would crash on (tested on its own)")
    _run_refused_or_done(argv, capsys, report_lines=option.startswith("eval"))


@pytest.mark.parametrize("option", [*[f"track {o}" for o in TRACK_TEXT_OPTIONS],
                                    *[f"eval {o}" for o in EVAL_TEXT_OPTIONS],
                                    *[f"export {o}" for o in EXPORT_TEXT_OPTIONS]])
@pytest.mark.parametrize("text", CLI_SPECIAL_TEXT, ids=_id)
def test_every_listed_text_on_the_command_line(files, capsys, tmp_path, option, text):
    command, name = option.split(" ")
    argv = (_track(files, name, text) if command == "track" else
            _eval(files, tmp_path, name, text) if command == "eval" else _export(files, name, text))
    _run_refused_or_done(argv, capsys, report_lines=command == "eval")


@CLI_SETTINGS
@given(data=st.data())
def test_track_with_bad_arguments(files, capsys, data):
    option = data.draw(st.sampled_from(["source", "box-values", "--output", "--boxes", *TRACK_TEXT_OPTIONS]))
    if option == "source":
        value = _path(files, data.draw(PATH_NAMES.filter(lambda n: n not in ("<frames>", *NOT_UTF8))))
    elif option == "box-values":  # numbers argparse accepts but the tracker must refuse
        option, value = "--box", ",".join(str(v) for v in data.draw(st.tuples(NUMBER, NUMBER, NUMBER, NUMBER)))
    elif option == "--output":
        value = _path(files, data.draw(PATH_NAMES.filter(lambda n: n not in NOT_UTF8)))
    elif option == "--boxes":
        value = _path(files, data.draw(PATH_NAMES))
    else:
        value = data.draw(CLI_TEXT)
    _run_refused_or_done(_track(files, option, value), capsys)


@pytest.mark.parametrize("where", ["source", "--output"])
def test_a_video_name_that_is_not_utf8_is_refused_not_a_crash(files, tmp_path, where):
    video = tmp_path / os.fsdecode(b"clip-\xff.avi")
    writer = cv2.VideoWriter(str(tmp_path / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 48))
    for name in sorted((files / "frames").iterdir()):
        writer.write(cv2.imread(str(name)))
    writer.release()
    (tmp_path / "clip.avi").rename(video)
    argv = ["--box=10,10,20,16", "--no-progress", "--", str(video if where == "source" else files / "frames")]
    if where == "--output":
        output = tmp_path / os.fsdecode(b"out-\xff.mp4")
        argv.insert(0, f"--output={output}")
    run = subprocess.run([sys.executable, "-m", "dcffnet.cli", "track", *argv], capture_output=True, text=True,
                         errors="replace", timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 2 and "UTF-8" in run.stderr, (run.returncode, run.stderr[-500:])


def test_a_tracker_spec_of_a_bare_double_dash_is_a_one_line_error(files, capsys, tmp_path):
    argv = ["eval", f"--dataset={files / 'bench'}", f"--out={tmp_path}", "--tracker=--", "--no-progress"]
    assert _run_refused_or_done(argv, capsys, report_lines=True) == 2


@CLI_SETTINGS
@given(option=st.sampled_from(["--dataset", "--out", *EVAL_TEXT_OPTIONS]), text=CLI_TEXT, name=PATH_NAMES)
def test_eval_with_bad_arguments(files, capsys, tmp_path_factory, option, text, name):
    out = tmp_path_factory.mktemp("eval-out")
    if option in ("--dataset", "--out"):
        argv = _path_option(files, out, f"eval {option}", name) or _path_option(files, out, "eval --out", "<missing>")
    else:
        argv = _eval(files, out, option, text)
    _run_refused_or_done(argv, capsys, report_lines=True)


@CLI_SETTINGS
@given(option=st.sampled_from(["--onnx", *EXPORT_TEXT_OPTIONS]), text=CLI_TEXT, name=PATH_NAMES)
def test_export_with_bad_arguments(files, capsys, option, text, name):
    argv = _export(files, option, _path(files, name) if option == "--onnx" else text)
    assert _run_refused_or_done(argv, capsys) != 0  # --opset out of range or a bad value: never a real export


@pytest.mark.parametrize("argv", [
    ["models", "extra"], ["models", "--bogus"], ["models", "\x00"], [], ["bogus"], ["track"], ["eval"], ["export"],
    ["export", "default", "--opset", "x"], ["track", "x", "--box"], ["eval", "--dataset"],
])
def test_argparse_refusals_are_one_line(capsys, argv):
    code, lines = _cli(argv, capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("dcffnet") and "--help" in lines[0], lines


def test_models_lists_what_there_is(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "architectures:" in out and "bundled checkpoints:" in out
