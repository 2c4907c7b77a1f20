"""Property-based checks of the public tracking API over random frames, boxes and call orders.

Contract (docs/reliability.md): every ``init`` / ``update`` / ``MultiTracker.add`` call either
succeeds or raises ``TypeError`` / ``ValueError`` (bad argument; the message names it) or
``RuntimeError`` (``update`` before ``init``). A successful ``update`` returns a finite box with
``w, h > 0``, its centre inside the frame and its size at most the frame's, and a score in [0, 1].

Examples per test: ``DCFFNET_PROPERTY_EXAMPLES`` (default 30; e.g. 1000 for the long profile).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import dcffnet  # noqa: E402

EXAMPLES = int(os.environ.get("DCFFNET_PROPERTY_EXAMPLES", "30"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SIZES = st.one_of(
    st.sampled_from([(1, 1), (1, 7), (5, 1), (2, 3), (17, 9), (240, 320), (480, 640), (3000, 4000)]),
    st.tuples(st.integers(1, 700), st.integers(1, 700)),
)
DTYPES = st.sampled_from(["uint8", "uint8", "uint8", "uint16", "float32", "float64", "int32", "bool"])
CHANNELS = st.sampled_from([None, 1, 3, 3, 4, 2, 5])
CONTENT = st.sampled_from(["noise", "black", "white", "constant", "gradient"])


@st.composite
def frames(draw):
    h, w = draw(SIZES)
    dtype, channels, content = draw(DTYPES), draw(CHANNELS), draw(CONTENT)
    shape = (h, w) if channels is None else (h, w, channels)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    if content == "noise":
        arr = rng.integers(0, 256, shape)
    elif content == "black":
        arr = np.zeros(shape)
    elif content == "white":
        arr = np.full(shape, 255)
    elif content == "constant":
        arr = np.full(shape, draw(st.integers(0, 255)))
    else:
        arr = np.broadcast_to(np.linspace(0, 255, w)[None, :, None] if channels else np.linspace(0, 255, w)[None],
                              shape)
    return np.ascontiguousarray(arr).astype(dtype)


NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.floats(-50, 800), st.floats(0.01, 3), st.sampled_from([0.0, -1.0, 1e9, -1e9, 0.5]))


@st.composite
def boxes(draw):
    kind = draw(st.sampled_from(["any", "inside", "inside", "tiny", "huge", "partial"]))
    if kind == "any":
        return tuple(draw(NUMBERS) for _ in range(4))
    if kind == "tiny":
        return (draw(st.floats(0, 300)), draw(st.floats(0, 300)), draw(st.floats(0.01, 1.5)), draw(st.floats(0.01, 1.5)))
    if kind == "huge":
        return (draw(st.floats(-1e5, 0)), draw(st.floats(-1e5, 0)), draw(st.floats(1e3, 1e6)), draw(st.floats(1e3, 1e6)))
    if kind == "partial":
        return (draw(st.floats(-100, -1)), draw(st.floats(-100, -1)), draw(st.floats(2, 300)), draw(st.floats(2, 300)))
    return (draw(st.floats(0, 200)), draw(st.floats(0, 200)), draw(st.floats(1, 200)), draw(st.floats(1, 200)))


@pytest.fixture(scope="module")
def tracker():
    return dcffnet.Tracker()


def _refusal_names(exc: BaseException, *names: str) -> None:
    message = str(exc)
    assert any(name in message for name in names), f"{type(exc).__name__} does not name {names}: {message}"


def _check_result(result, frame: np.ndarray) -> None:
    box, score = result
    x, y, w, h = box
    fh, fw = frame.shape[:2]
    assert all(math.isfinite(v) for v in box), box
    assert w > 0 and h > 0 and w <= fw + 1e-6 and h <= fh + 1e-6, (box, frame.shape)
    assert -1e-6 <= x + w / 2 <= fw + 1e-6 and -1e-6 <= y + h / 2 <= fh + 1e-6, (box, frame.shape)
    assert 0.0 <= score <= 1.0 and math.isfinite(score)
    assert result.state in ("tracking", "uncertain", "lost")


def _init(tracker, frame, box) -> bool:
    try:
        tracker.init(frame, box)
    except (TypeError, ValueError) as exc:
        _refusal_names(exc, "frame", "box")
        return False
    return True


def _update(tracker, frame):
    try:
        result = tracker.update(frame)
    except (TypeError, ValueError) as exc:
        _refusal_names(exc, "frame")
        return None
    _check_result(result, frame)
    return result


@SETTINGS
@given(first=frames(), box=boxes(), later=st.lists(frames(), min_size=1, max_size=3))
def test_init_then_updates_keep_the_contract(tracker, first, box, later):
    if _init(tracker, first, box):
        for frame in later:
            _update(tracker, frame)


@SETTINGS
@given(ops=st.lists(st.tuples(st.sampled_from(["init", "update", "update"]), frames(), boxes()), min_size=1, max_size=5))
def test_any_call_order_keeps_the_contract(ops):
    tracker = dcffnet.Tracker()
    initialised = False
    for op, frame, box in ops:
        if op == "init":
            ok = _init(tracker, frame, box)
            initialised = initialised or ok  # a refused init leaves the previous target in place
        elif not initialised:
            with pytest.raises((RuntimeError, TypeError, ValueError)) as info:
                tracker.update(frame)
            if info.type is RuntimeError:
                _refusal_names(info.value, "init")
        else:
            _update(tracker, frame)


@SETTINGS
@given(first=frames(), box_list=st.lists(boxes(), min_size=1, max_size=4), later=frames())
def test_multitracker_keeps_the_contract(first, box_list, later):
    multi = dcffnet.MultiTracker()
    added = []
    for box in box_list:
        try:
            added.append(multi.add(first, box))
        except (TypeError, ValueError) as exc:
            _refusal_names(exc, "frame", "box")
    assert list(multi.targets) == added
    try:
        results = multi.update(later)
    except (TypeError, ValueError) as exc:
        _refusal_names(exc, "frame")
        return
    assert list(results) == added
    for result in results.values():
        _check_result(result, later)
