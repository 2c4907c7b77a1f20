"""Many videos at once, on one machine or a cluster: ``dcffnet track-many`` and the batch form of
``dcffnet eval`` (docs/batch.md).

* :mod:`~dcffnet.jobs.tasks`: a job's :class:`Task`, :class:`TaskOutcome`, :class:`JobReport`;
* :mod:`~dcffnet.jobs.run`: :func:`run_jobs`, the one front that runs tasks on an engine, retries
  failures and prints progress;
* engines: :mod:`~dcffnet.jobs.serial` (this process), :mod:`~dcffnet.jobs.pool` (local processes
  pinned to their share of the cores, :mod:`~dcffnet.jobs.cpus`), :mod:`~dcffnet.jobs.ray_engine`;
* :mod:`~dcffnet.jobs.shard`: ``--shard i/n`` for schedulers without Ray (Slurm arrays);
* :mod:`~dcffnet.jobs.manifest` and :mod:`~dcffnet.jobs.track_many`: ``dcffnet track-many``;
* :mod:`~dcffnet.jobs.eval_jobs`: ``dcffnet eval`` one task per sequence (imports torch, so it is
  loaded when first used).

Importing this package imports neither torch nor Ray.
"""

from ..lazy import lazy_exports
from .cpus import cpu_shares
from .manifest import ManifestEntry, ManifestError, read_manifest
from .run import ENGINES, run_jobs
from .shard import parse_shard, shard_items
from .tasks import JobReport, Task, TaskOutcome
from .track_many import track_many

__all__ = ["Task", "TaskOutcome", "JobReport", "run_jobs", "ENGINES", "cpu_shares", "parse_shard", "shard_items",
           "ManifestEntry", "ManifestError", "read_manifest", "track_many", "record_ope_jobs", "record_vot_jobs"]

__getattr__, __dir__ = lazy_exports(__name__, {"record_ope_jobs": ".eval_jobs", "record_vot_jobs": ".eval_jobs",
                                               "eval_jobs": ""})
