"""The score store: proxy scores of whole spaces, computed once, resumable, shareable.

* :class:`ScoreStore` -- one SQLite file (WAL, safe for concurrent writers) keyed by
  ``(space, arch, proxy, data fingerprint, seed, proxy version)``.
* :func:`score_space` -- stream a space or pool through an executor into a store, skipping
  stored work; :class:`InlineExecutor`, :class:`ProcessExecutor` and :class:`RayExecutor`
  run the scoring.
* :func:`score_archs` / :func:`iter_scores` -- the scoring service every path goes
  through: scores of many architectures (of a space, or of a custom ``build`` with a
  ``cache_key``), reading what a store has and computing only what it lacks, in this
  process or through an executor; :func:`stored_scores` reads without computing (see
  :mod:`nasrank.store.service` for the call signatures).
* :func:`score_arch` / :func:`score_arch_stored` -- one architecture, initialised from its
  own seed (:func:`arch_seed`), with or without a store.

Usage::

    from nasrank.store import ProcessExecutor, ScoreStore, score_space
    report = score_space(space, space.enumerate(), ["synflow", "nwot"], batch,
                         ScoreStore("scores.sqlite"), ProcessExecutor(workers=2))
"""

from nasrank.store.executors import (
    Executor,
    InlineExecutor,
    Job,
    ProcessExecutor,
    RayExecutor,
    auto_local_workers,
    available_cpus,
    make_executor,
)
from nasrank.store.runner import ArchOutcome, ScoreJob, ScoreSpaceReport, count_missing, score_space
from nasrank.store.scoring import (
    arch_seed,
    build_model,
    data_key,
    score_arch,
    to_records,
)
from nasrank.store.service import (
    ArchScores,
    BuildJob,
    PoolScores,
    iter_scores,
    score_arch_stored,
    score_archs,
    stored_scores,
)
from nasrank.store.store import (
    ScoreRecord,
    ScoreStore,
    StoreLike,
    check_store_file,
    default_store_path,
    open_store,
    opened_store,
)

__all__ = [
    "check_store_file",
    "ArchOutcome",
    "ArchScores",
    "BuildJob",
    "Executor",
    "InlineExecutor",
    "Job",
    "PoolScores",
    "ProcessExecutor",
    "RayExecutor",
    "ScoreJob",
    "ScoreRecord",
    "ScoreSpaceReport",
    "ScoreStore",
    "StoreLike",
    "arch_seed",
    "default_store_path",
    "open_store",
    "opened_store",
    "auto_local_workers",
    "available_cpus",
    "build_model",
    "count_missing",
    "data_key",
    "iter_scores",
    "make_executor",
    "score_arch",
    "score_arch_stored",
    "score_archs",
    "score_space",
    "stored_scores",
    "to_records",
]
