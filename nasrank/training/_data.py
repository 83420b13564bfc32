"""How the trainer reads data: length, up-front decoding, batch unpacking, prefetching."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch

from nasrank.training.errors import TrainingError

__all__ = ["data_length", "maybe_materialize", "prefetch", "unpack_batch"]

logger = logging.getLogger(__name__)

#: Lazily decoded datasets up to this many decoded bytes are decoded once, up front.
MATERIALIZE_LIMIT_BYTES = 2 * 1024**3


def data_length(data: Any) -> int | None:
    """``len(data)``, or ``None`` for data without a known length."""
    try:
        return len(data)
    except TypeError:
        return None


def maybe_materialize(data: Any, name: str) -> Any:
    """Decode a lazily decoded dataset once, up front, when it fits the size limit."""
    if not getattr(data, "is_lazy", False) or not hasattr(data, "materialize"):
        return data
    shape = getattr(data, "sample_shape", None)
    n = data_length(data)
    if shape is None or n is None or n * int(np.prod(shape)) > MATERIALIZE_LIMIT_BYTES:
        return data
    start = time.perf_counter()
    out = data.materialize()
    logger.info("decoded %d %s images in %.1f s", n, name, time.perf_counter() - start)
    return out


def unpack_batch(batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(inputs, targets or None)`` of a ``Batch`` or an ``(inputs, targets)`` pair."""
    if hasattr(batch, "inputs"):
        return batch.inputs, getattr(batch, "targets", None)
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise TrainingError(
        f"iter_batches must yield Batch objects or (inputs, targets) pairs, got "
        f"{type(batch).__name__}"
    )


def prefetch(batches: Iterable[Any], depth: int) -> Iterator[Any]:
    """Produce ``batches`` in a background thread, ``depth`` ahead of the consumer."""
    if depth <= 0:
        yield from batches
        return
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    thread = threading.Thread(
        target=_produce, args=(batches, q, stop), name="nasrank-prefetch", daemon=True
    )
    thread.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()


def _produce(
    batches: Iterable[Any], q: queue.Queue[tuple[str, Any]], stop: threading.Event
) -> None:
    """The prefetch thread: put every batch (then "end", or the error) on ``q``."""
    try:
        for item in batches:
            while not stop.is_set():
                try:
                    q.put(("item", item), timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        q.put(("end", None))
    except BaseException as exc:  # handed to the consumer
        q.put(("error", exc))
