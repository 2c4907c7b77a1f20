"""Building a :class:`~dcffnet.tracking.pipeline.TrackingPipeline` from a checkpoint name or a
network: the one place that loads weights, picks the backend and thread policy and resolves the
tracking values and score calibration (used by :class:`~dcffnet.Tracker` and
:class:`~dcffnet.MultiTracker`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fields import is_positive_int
from ..frames import COLOR_ORDERS
from ..hparams import TrackerHParams, resolve_hparams
from .calibration import ScoreCalibration
from .pipeline import TrackingPipeline
from .runner import BACKENDS, NetworkRunner

if TYPE_CHECKING:
    from ..checkpoint import CheckpointInfo

__all__ = ["build_pipeline", "export_runner", "check_color"]


def check_color(color: str) -> str:
    """``color`` if it is a supported channel order of numpy frames (``"bgr"``, ``"rgb"``)."""
    if color not in COLOR_ORDERS:
        raise ValueError(f"color must be one of {COLOR_ORDERS}, got {color!r}")
    return color


def build_pipeline(weights: "str | os.PathLike[str] | None" = "default", *, model: Any = None,
                   hparams: "TrackerHParams | str | dict[str, Any] | None" = None, device: Any = None,
                   revision: str | None = None, cache_dir: "str | os.PathLike[str] | None" = None,
                   fuse: bool = True, threads: "int | str | None" = "auto", backend: str = "auto",
                   batch_size: int = 1) -> TrackingPipeline:
    """A pipeline for ``model``, or for the checkpoint ``weights`` (a local folder, a bundled name
    or a hub repo id); every argument as :class:`~dcffnet.Tracker`'s, ``batch_size`` as
    :class:`~dcffnet.MultiTracker`'s.

    Raises:
        ValueError / TypeError: a bad argument (named in the message).
        CheckpointError / WeightsNotFoundError: the weights cannot be loaded.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if threads != "auto" and threads is not None and not is_positive_int(threads):
        raise ValueError(f"threads must be 'auto', None or a positive integer, got {threads!r}")
    if not is_positive_int(batch_size):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if model is None:
        if weights is None:
            raise ValueError("pass weights (a folder, bundled name or hub repo id) or model=")
        from ..checkpoint import resolve_checkpoint

        folder = resolve_checkpoint(weights, revision=revision, cache_dir=cache_dir)
        export = export_runner(folder, device=device, backend=backend, threads=threads)
        if export is not None:
            runner, info = export
            return _pipeline(runner, info, hparams, batch_size)
    from ..devices import resolve_device
    from ..models.dcffnet import DCFFNet

    resolved = resolve_device(device)
    if model is None:
        model = DCFFNet.from_folder(folder)
    elif not all(hasattr(model, attr) for attr in ("geometry", "template", "track")):
        raise TypeError("model must provide .geometry, .template(z) and .track(x, template) (e.g. a DCFFNet)")
    runner = NetworkRunner.for_model(model.to(resolved).eval(), backend=backend, device=resolved, threads=threads,
                                     fuse=fuse)
    return _pipeline(runner, getattr(model, "checkpoint_info", None), hparams, batch_size)


def _pipeline(runner: NetworkRunner, info: Any, hparams: Any, batch_size: int) -> TrackingPipeline:
    calibration = getattr(info, "calibration", None)
    if isinstance(calibration, dict):
        calibration = ScoreCalibration.from_dict(calibration)
    return TrackingPipeline(runner, resolve_hparams(hparams, None if info is None else info.tracker), calibration,
                            batch_size=batch_size, checkpoint_info=info)


def export_runner(folder: "str | os.PathLike[str]", *, device: Any = None, backend: str = "auto",
                  threads: "int | str | None" = "auto") -> "tuple[NetworkRunner, CheckpointInfo] | None":
    """A runner of the ONNX export of the checkpoint ``folder``, built without torch, and the
    checkpoint's info; ``None`` when the PyTorch path must build the tracker instead.

    Taken when ``backend`` is ``"auto"`` or ``"onnx"``, the device is the CPU (``None`` or
    ``"cpu"``), ONNX Runtime imports and an export of exactly these weights (the digest of
    ``config.json`` + ``model.safetensors``, :func:`~dcffnet.deploy.onnx_format.file_state_digest`,
    equal to ``onnx.json``'s ``state_sha256``) is in the checkpoint folder or, for ``"onnx"``, in
    the export cache. The boxes are those of the PyTorch-built ONNX tracker: the same graphs, run
    the same way. ``Tracker.model`` then loads the network (strictly, with torch) when first used.

    Raises:
        CheckpointError: the checkpoint cannot be read.
    """
    if backend not in ("auto", "onnx") or not (device is None or (isinstance(device, str) and device == "cpu")):
        return None
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None
    from ..checkpoint import WEIGHTS_NAME, read_checkpoint_info
    from ..deploy.onnx_cache import export_matches, onnx_cache_dir
    from ..deploy.onnx_format import file_state_digest
    from ..models.registry import config_from_checkpoint
    from ..models.shapes import response_geometry

    folder = Path(folder)
    info = read_checkpoint_info(folder)
    config = config_from_checkpoint(info)
    digest = file_state_digest(config, folder / WEIGHTS_NAME)
    if digest is None:
        return None
    candidates = [folder] + ([onnx_cache_dir() / digest[:32]] if backend == "onnx" else [])
    export = next((c for c in candidates if export_matches(c, digest)), None)
    if export is None:
        return None
    try:
        geometry = response_geometry(config)
    except ValueError as exc:
        from ..errors import CheckpointError

        raise CheckpointError(f"invalid model_args in {folder / 'config.json'}: {exc}") from exc

    return NetworkRunner.for_export(export, geometry, threads=threads, load_model=FolderModel(folder)), info


class FolderModel:
    """Loads the PyTorch network of a checkpoint folder when called (picklable, unlike a closure)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self) -> Any:
        from ..models.dcffnet import DCFFNet

        return DCFFNet.from_folder(self.folder)
