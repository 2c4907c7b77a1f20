"""Exceptions raised by dcffnet's weights handling and dataset reading."""

from __future__ import annotations

__all__ = ["WeightsNotFoundError", "CheckpointError", "DatasetError", "UnknownPresetError"]


class WeightsNotFoundError(FileNotFoundError):
    """The requested weights could not be found: unknown name, missing hub repo or revision,
    offline with an empty cache, or no bundled default checkpoint."""


class CheckpointError(ValueError):
    """A checkpoint was found but cannot be used: corrupt file, checksum mismatch, missing or
    unexpected keys, shape mismatch, or an invalid ``config.json``."""


class DatasetError(ValueError):
    """A dataset cannot be used as asked: a sequence that cannot be read when reading strictly, or
    no usable sequence at all. ``sequence`` names the sequence (``None`` for the whole dataset) and
    ``reason`` says what is wrong with it."""

    def __init__(self, message: str, sequence: str | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.sequence = sequence
        self.reason = reason


class UnknownPresetError(ValueError, KeyError):
    """A hyper-parameter preset name that does not exist. A ``ValueError`` like every refused
    argument, and a ``KeyError`` as 0.4.0 raised (``except KeyError`` keeps working)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
