"""``--shard i/n``: one of ``n`` disjoint parts of a job, for schedulers without Ray (Slurm job arrays).

Shards are numbered from 0: ``i/n`` with ``0 <= i < n``, so Slurm's ``--array=0-(n-1)`` gives
``--shard ${SLURM_ARRAY_TASK_ID}/n``. Shard ``i`` holds the items at positions ``i, i + n, i + 2n,
...`` of the job's list (manifest entries in file order, benchmark sequences in reading order):
round-robin rather than contiguous blocks, so that a list sorted by length or by source spreads
evenly. The split depends on the list alone, so the same command gives the same shard on every
machine and every restart, and the ``n`` shards together hold every item exactly once.
"""

from __future__ import annotations

import re
from typing import Sequence, TypeVar

__all__ = ["parse_shard", "shard_items"]

T = TypeVar("T")

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)``, 0-based: ``0 <= i < n``.

    Raises:
        ValueError: not two whole numbers ``i/n``, ``n < 1`` or ``i`` outside ``0 .. n-1``.
    """
    if not isinstance(text, str):
        raise ValueError(f"--shard must be i/n (e.g. 0/4), got {text!r}")
    match = _SHARD.fullmatch(text)
    if match is None:
        raise ValueError(f"--shard must be i/n with whole numbers, 0 <= i < n (e.g. 0/4), got {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise ValueError(f"--shard i/n needs n >= 1, got {text!r}")
    if index >= count:
        raise ValueError(f"--shard i/n numbers shards from 0: i must be 0 .. {count - 1}, got {text!r} "
                         f"(Slurm: --array=0-{count - 1})")
    return index, count


def shard_items(items: Sequence[T], index: int, count: int) -> list[T]:
    """The items of shard ``index`` of ``count``: positions ``index, index + count, ...``.

    Raises:
        ValueError: ``count < 1`` or ``index`` outside ``0 .. count-1``.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise ValueError(f"index must be an integer in 0 .. {count - 1}, got {index!r}")
    return list(items[index::count])
