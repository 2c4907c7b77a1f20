"""The inference loop: ``Tracker.init(frame, box)`` then ``Tracker.update(frame) -> TrackResult``.

Data path per frame, top to bottom: frame -> context crop (mean-colour padding) -> search branch
(with the template features cached at ``init``) -> head -> decode (penalties, cosine window,
peak, regression) -> box in frame pixels -> clip.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Iterator, NamedTuple

import cv2
import numpy as np
import torch
from torch import nn

from .frames import COLOR_ORDERS, to_bgr
from .geometry import clip_box, context_size, crop_and_resize, hanning_window, validate_box, xywh_to_cxcywh
from .hparams import TrackerHParams, resolve_hparams
from .models.fuse import fuse_batchnorm

__all__ = ["TrackResult", "Tracker", "resolve_device", "decode_response"]


class TrackResult(NamedTuple):
    """One frame's result: ``box = (x, y, w, h)`` in frame pixels (0-based) and ``score`` in [0, 1]."""

    box: tuple[float, float, float, float]
    score: float


def resolve_device(device: "str | torch.device | None") -> torch.device:
    """``None`` -> CPU; otherwise ``torch.device(device)``, checking that CUDA exists when asked for."""
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or a torch.device, got {device!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available on this machine")
    return dev


def _change(r: np.ndarray) -> np.ndarray:
    return np.maximum(r, 1.0 / r)


def _size_with_context(w: np.ndarray, h: np.ndarray) -> np.ndarray:
    p = (w + h) * 0.5
    return np.sqrt((w + p) * (h + p))


def decode_response(output: dict[str, torch.Tensor], cell_offsets: np.ndarray, window: np.ndarray,
                    prev_size: tuple[float, float], hparams: TrackerHParams,
                    size_bias: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, float, float]:
    """Pick the target in one head output and return its box in search-crop pixels.

    Args:
        output: head output for one sample (batch dimension 1): CAR (``cls``, ``reg``) or SiamFC (``response``).
        cell_offsets: per-cell displacement from the crop centre along one axis (crop pixels).
        window: cosine window of the response size.
        prev_size: previous target ``(w, h)`` in crop pixels.
        hparams: penalty, window influence and size learning rate.
        size_bias: ``(fw, fh)`` factors that multiply the regressed width and height (CAR head) before
            the penalty: :meth:`Tracker.init`'s size calibration times ``hparams.size_scale``, combined
            once at ``init`` (this function does not read ``size_scale`` itself);
            ``(1, 1)`` leaves them as predicted.

    Returns:
        ``(box, score, size_lr)``: box ``(dx, dy, w, h)`` with the centre displacement from the crop
        centre and the predicted size (crop pixels), the classification score at the chosen cell,
        and the size learning rate ``lr * penalty * score`` to apply.
    """
    prev_w, prev_h = prev_size
    ox = cell_offsets[None, :]
    oy = cell_offsets[:, None]
    if "cls" in output:
        score = torch.softmax(output["cls"][0].float(), dim=0)[1].cpu().numpy()
        l, t, r, b = output["reg"][0].float().cpu().numpy()
        pred_w, pred_h = (l + r) * size_bias[0], (t + b) * size_bias[1]
        pred_dx, pred_dy = ox + (r - l) / 2.0, oy + (b - t) / 2.0
        s_c = _change(_size_with_context(pred_w, pred_h) / _size_with_context(np.float64(prev_w), np.float64(prev_h)))
        r_c = _change((prev_w / prev_h) / (pred_w / pred_h))
        penalty = np.exp(-(r_c * s_c - 1.0) * hparams.penalty_k)
    else:  # SiamFC head: position only, the size is kept
        score = torch.sigmoid(output["response"][0, 0].float()).cpu().numpy()
        pred_w = np.full_like(score, prev_w)
        pred_h = np.full_like(score, prev_h)
        pred_dx = np.broadcast_to(ox, score.shape)
        pred_dy = np.broadcast_to(oy, score.shape)
        penalty = np.ones_like(score)
    pscore = penalty * score * (1.0 - hparams.window_influence) + window * hparams.window_influence
    i, j = np.unravel_index(int(np.argmax(pscore)), pscore.shape)
    best_score = float(score[i, j])
    lr = float(penalty[i, j] * best_score * hparams.lr)
    box = np.array([pred_dx[i, j], pred_dy[i, j], pred_w[i, j], pred_h[i, j]], dtype=np.float64)
    return box, best_score, lr


class Tracker:
    """Single-object tracker around a DCFFNet (or any model with ``geometry``, ``template``, ``track``).

    Args:
        weights: checkpoint to load when ``model`` is not given: a local folder, a bundled name
            (``"default"``) or a hub repo id (``"org/name"``, optionally ``"org/name@revision"``).
        model: an already-built network to wrap instead of loading ``weights``.
        hparams: a :class:`TrackerHParams`, a preset name (``"otb"``, ``"lasot"``, ...), a dict of
            overrides, or ``None`` for the checkpoint's own values (else the ``default`` preset).
        device: ``"cpu"`` (default), ``"cuda"``, ``"cuda:1"`` or a ``torch.device``.
        color: channel order of numpy frames, ``"bgr"`` (OpenCV, default) or ``"rgb"``.
        revision: hub revision (branch, tag or commit) when ``weights`` is a repo id.
        cache_dir: hub cache folder (default: huggingface_hub's).
        fuse: fold BatchNorm into the convolutions of a private inference copy in channels-last
            memory format (same results up to float rounding, ~1.3x faster on CPU).

    Boxes are ``(x, y, w, h)`` floats in 0-based continuous frame pixels.
    """

    def __init__(self, weights: "str | os.PathLike[str] | None" = "default", *, model: nn.Module | None = None,
                 hparams: "TrackerHParams | str | dict[str, Any] | None" = None,
                 device: "str | torch.device | None" = None, color: str = "bgr",
                 revision: str | None = None, cache_dir: "str | os.PathLike[str] | None" = None,
                 fuse: bool = True) -> None:
        if color not in COLOR_ORDERS:
            raise ValueError(f"color must be one of {COLOR_ORDERS}, got {color!r}")
        self.device = resolve_device(device)
        self.color = color
        checkpoint_hparams: dict[str, Any] | None = None
        self.checkpoint_info: dict[str, Any] = {}
        if model is None:
            if weights is None:
                raise ValueError("pass weights (a folder, bundled name or hub repo id) or model=")
            from .hub import load_pretrained

            model, info = load_pretrained(weights, revision=revision, cache_dir=cache_dir)
            checkpoint_hparams = info.get("tracker")
            self.checkpoint_info = info
        elif not all(hasattr(model, attr) for attr in ("geometry", "template", "track")):
            raise TypeError("model must provide .geometry, .template(z) and .track(x, template) (e.g. a DCFFNet)")
        self.model = model.to(self.device).eval()
        self._net = self.model
        self._memory_format = torch.contiguous_format
        if fuse:
            # channels-last: PyTorch still runs the batch-1 17x17 head convolutions on its native
            # (im2col) kernel, whose channels-last variant is about twice as fast there (measured
            # 265 -> 140 us per 64->64 3x3 conv; whole network 6.45 -> 5.62 ms per frame, dcffnet_nano)
            self._memory_format = torch.channels_last
            self._net = fuse_batchnorm(self.model).to(memory_format=self._memory_format)
        self.hparams = resolve_hparams(hparams, checkpoint_hparams)
        geometry = self.model.geometry
        self._geometry = geometry
        self._cell_offsets = geometry.cell_offsets()
        self._window = hanning_window(geometry.size).astype(np.float64)
        self._template: Any = None
        self._state: np.ndarray | None = None  # (cx, cy, w, h) in frame pixels
        self._pad_value: tuple[float, ...] | None = None
        self._size_factor = (1.0, 1.0)  # calibration x size_scale, fixed at init

    @classmethod
    def from_pretrained(cls, name_or_path: "str | os.PathLike[str]", revision: str | None = None,
                        device: "str | torch.device | None" = None, **kwargs: Any) -> "Tracker":
        """Load a checkpoint (folder, bundled name or hub repo id) and wrap it in a tracker.

        Keyword arguments (``hparams``, ``color``, ``cache_dir``) are passed to :class:`Tracker`.
        """
        return cls(name_or_path, revision=revision, device=device, **kwargs)

    # ------------------------------------------------------------------------------------------
    @property
    def is_initialized(self) -> bool:
        """Whether :meth:`init` has been called."""
        return self._state is not None

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The current target box ``(x, y, w, h)`` in frame pixels."""
        if self._state is None:
            raise RuntimeError("the tracker has no target yet: call init(frame, box) first")
        cx, cy, w, h = self._state
        return (float(cx - w / 2), float(cy - h / 2), float(w), float(h))

    def _to_tensor(self, crop: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(crop).to(self.device, non_blocking=True)
        return tensor.permute(2, 0, 1).unsqueeze(0).float().contiguous(memory_format=self._memory_format)

    @torch.inference_mode()
    def init(self, frame: Any, box: "tuple[float, float, float, float] | np.ndarray | list[float]") -> None:
        """Start (or restart) tracking the target in ``box = (x, y, w, h)`` (frame pixels, 0-based) of ``frame``.

        Raises:
            TypeError / ValueError: a frame of an unsupported type/shape, or a bad box (non-finite,
                ``w <= 0``, ``h <= 0``, or entirely outside the frame).
        """
        image = to_bgr(frame, self.color)
        arr = validate_box(box, "box", image.shape)
        state = xywh_to_cxcywh(arr)
        self._pad_value = tuple(cv2.mean(image)[:3])
        s_z = context_size(state[2], state[3], self.hparams.context)
        crop = crop_and_resize(image, state[:2], s_z, self._geometry.template_size, self._pad_value)
        self._template = self._net.template(self._to_tensor(crop))
        self._state = state
        bias = self._measure_size_bias(image, state) if self.hparams.size_calibration > 0 else (1.0, 1.0)
        scale = self.hparams.size_scale
        self._size_factor = (bias[0] * scale, bias[1] * scale)

    def _measure_size_bias(self, image: np.ndarray, state: np.ndarray) -> tuple[float, float]:
        """Per-axis ``(true / predicted) ** size_calibration`` of the regressed size on the init frame.

        The search crop is centred on the known box, so what the head predicts there is its bias for
        this target; factors are clipped to [1/4, 4] so a failed prediction cannot explode the box.
        """
        w, h = state[2], state[3]
        output, scale = self._search(image, state)
        if "reg" not in output:
            return (1.0, 1.0)
        (_, _, pw, ph), _, _ = decode_response(output, self._cell_offsets, self._window,
                                               (w * scale, h * scale), self.hparams)
        k = self.hparams.size_calibration
        fw = float(np.clip(w * scale / max(pw, 1e-6), 0.25, 4.0)) ** k
        fh = float(np.clip(h * scale / max(ph, 1e-6), 0.25, 4.0)) ** k
        return (fw, fh)

    def _search(self, image: np.ndarray, state: np.ndarray) -> tuple[dict[str, torch.Tensor], float]:
        """Head output on the search crop around ``state = (cx, cy, w, h)`` (frame pixels), and the
        crop's scale in crop pixels per frame pixel."""
        geometry = self._geometry
        s_z = context_size(state[2], state[3], self.hparams.context)
        s_x = s_z * geometry.search_size / geometry.template_size
        crop = crop_and_resize(image, (state[0], state[1]), s_x, geometry.search_size, self._pad_value)
        return self._net.track(self._to_tensor(crop), self._template), geometry.template_size / s_z

    @torch.inference_mode()
    def update(self, frame: Any) -> TrackResult:
        """Locate the target in ``frame`` and return ``TrackResult(box=(x, y, w, h), score)``.

        Raises:
            RuntimeError: :meth:`init` was not called.
            TypeError / ValueError: a frame of an unsupported type or shape.
        """
        if self._state is None:
            raise RuntimeError("update() called before init(): call tracker.init(frame, box) first")
        image = to_bgr(frame, self.color)
        cx, cy, w, h = self._state
        output, scale = self._search(image, self._state)
        (dx, dy, pw, ph), score, lr = decode_response(output, self._cell_offsets, self._window,
                                                      (w * scale, h * scale), self.hparams, self._size_factor)
        cx += dx / scale
        cy += dy / scale
        w = w * (1.0 - lr) + (pw / scale) * lr
        h = h * (1.0 - lr) + (ph / scale) * lr
        cx, cy, w, h = clip_box(cx, cy, w, h, image.shape[1], image.shape[0], self.hparams.min_size)
        self._state = np.array([cx, cy, w, h], dtype=np.float64)
        return TrackResult(self.box, score)

    def track(self, frames: Iterable[Any], box: "tuple[float, float, float, float]") -> Iterator[TrackResult]:
        """Track through ``frames``: ``init`` on the first with ``box`` (yielded back with score 1.0), then ``update``."""
        iterator = iter(frames)
        try:
            first = next(iterator)
        except StopIteration:
            return
        self.init(first, box)
        yield TrackResult(self.box, 1.0)
        for frame in iterator:
            yield self.update(frame)

    # ------------------------------------------------------------------------------------------
    def save_pretrained(self, folder: "str | os.PathLike[str]", **metadata: Any) -> None:
        """Write the network and this tracker's hyper-parameters as a checkpoint folder (see :mod:`dcffnet.hub`)."""
        from .hub import save_pretrained

        save_pretrained(self.model, folder, tracker=self.hparams, **metadata)

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> str:
        """Upload this tracker's checkpoint to the hub (see :func:`dcffnet.hub.push_to_hub`); returns the commit id."""
        from .hub import push_to_hub

        return push_to_hub(self.model, repo_id, tracker=self.hparams, **kwargs)
