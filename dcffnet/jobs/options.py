"""The batch options shared by ``dcffnet track-many`` and ``dcffnet eval``: ``--workers``,
``--engine``, ``--ray-address``, ``--cpus-per-task``, ``--retries``, ``--shard`` (argparse only:
importing this imports neither torch nor Ray)."""

from __future__ import annotations

import argparse
from typing import Any

from .run import ENGINES, check_job_options
from .shard import parse_shard

__all__ = ["add_job_arguments", "job_options", "is_batch"]


def _int_at_least(name: str, low: int, what: str) -> Any:
    """An argparse ``type`` for ``name``: an integer >= ``low`` (``what`` names that in messages)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"{name} must be a {what} integer, got {text!r}")
        return value
    return parse


def _shard(text: str) -> tuple[int, int]:
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_job_arguments(parser: argparse.ArgumentParser, unit: str) -> None:
    """Add the batch options to ``parser``; ``unit`` names a task (``"video"``, ``"sequence"``)."""
    group = parser.add_argument_group("batch (docs/batch.md)")
    group.add_argument("--workers", type=_int_at_least("--workers", 1, "positive"), default=None, metavar="N",
                       help=f"local engine: N worker processes, each pinned to its share of this machine's cores "
                            f"(default 1: this process); ray: at most N {unit}s at once")
    group.add_argument("--engine", default="local", choices=ENGINES,
                       help=f"where the {unit}s run: local (default) or ray (pip install \"dcffnet[ray]\"; one Ray "
                            f"task per {unit})")
    group.add_argument("--ray-address", default=None, metavar="ADDRESS",
                       help="--engine ray: the cluster (ray://head:10001, head:6379 or auto; default: the "
                            "RAY_ADDRESS variable, else a local Ray started for the job)")
    group.add_argument("--cpus-per-task", type=_int_at_least("--cpus-per-task", 1, "positive"), default=1, metavar="K",
                       help=f"--engine ray: CPUs each {unit} asks Ray for, and its tracker threads (default 1)")
    group.add_argument("--retries", type=_int_at_least("--retries", 0, "non-negative"), default=2, metavar="K",
                       help=f"attempts after the first for a {unit} that fails (default 2)")
    group.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                       help=f"run only shard I of N (0 <= I < N; {unit} k belongs to shard k mod N), e.g. "
                            "--shard ${SLURM_ARRAY_TASK_ID}/8 in a Slurm array --array=0-7")


def job_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :func:`~dcffnet.jobs.run.run_jobs` keywords of parsed batch options (``progress`` from
    ``--no-progress``), checked together.

    Raises:
        ValueError: options that do not fit together (:func:`~dcffnet.jobs.run.check_job_options`).
    """
    options = {"engine": args.engine, "workers": args.workers, "retries": args.retries,
               "cpus_per_task": args.cpus_per_task, "ray_address": args.ray_address,
               "progress": not args.no_progress}
    check_job_options(options["engine"], options["workers"], options["retries"], options["cpus_per_task"],
                      options["ray_address"])
    return options


def is_batch(args: argparse.Namespace) -> bool:
    """Whether the parsed options ask for a batch run (other workers, Ray or a shard) rather than
    the plain loop in this process."""
    return args.engine != "local" or (args.workers or 1) > 1 or args.shard is not None
