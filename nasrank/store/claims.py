"""Work shared between processes that score into one store: claims on architectures.

Before a process computes an architecture's missing proxies it claims the architecture
in the store's ``claims`` table (one row per ``(space, data, seed, arch)``: owner and
expiry). A process that meets an architecture claimed by another leaves it for later; by
the time it comes back the scores are stored (the claim is dropped right after them) or
the claim may be taken over. So two processes on one pool split it instead of both
computing everything, and each architecture is computed once.

A background thread renews this process's claims every ``ttl / 4`` seconds, so a slow
architecture keeps its claim. The claims of a process that died (``kill -9``, a lost
machine) expire ``ttl`` seconds after its last renewal; on the same machine they are
taken over at once, as soon as the process is seen to be gone. (The store's WAL mode
keeps its writers on one machine; expiry covers processes that cannot be checked, e.g.
in other PID namespaces.)

Usage::

    with Lease(store, "nb201", data, seed) as lease:
        mine = lease.take(archs)      # the archs this process may compute now
        ...                            # compute, store the scores
        lease.drop(arch)               # after the scores of ``arch`` are stored
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasrank.store.store import ScoreStore

__all__ = ["DEFAULT_TTL", "Lease"]

logger = logging.getLogger(__name__)

#: Seconds a claim lives without renewal.
DEFAULT_TTL = 120.0
_HOST = socket.gethostname()


def _owner_id() -> str:
    return f"{_HOST}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def _process_gone(owner: str) -> bool:
    """Whether ``owner`` is a process of this machine that no longer runs."""
    host, _, rest = owner.partition("/")
    pid_text = rest.partition("/")[0]
    if host != _HOST or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _claim_is_free(holder: str, expires: float) -> bool:
    return expires < time.time() or _process_gone(holder)


class Lease:
    """This process's claims on one ``(space, data, seed)`` of a store.

    Args:
        store: The (writable) score store.
        space, data, seed: The key of the scores being computed.
        ttl: Seconds a claim lives without renewal.
    """

    def __init__(
        self, store: ScoreStore, space: str, data: str, seed: int, *, ttl: float = DEFAULT_TTL
    ) -> None:
        if not ttl > 0:
            raise ValueError(f"ttl must be > 0 seconds, got {ttl}")
        self.store, self.space, self.data, self.seed = store, space, data, int(seed)
        self.ttl = float(ttl)
        self.owner = _owner_id()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self, archs: Sequence[str]) -> list[str]:
        """Claim what of ``archs`` is free; returns the claimed ones."""
        return self.store.claim(
            self.space,
            self.data,
            self.seed,
            archs,
            owner=self.owner,
            ttl=self.ttl,
            free=_claim_is_free,
        )

    def drop(self, arch: str) -> None:
        """Release the claim on ``arch`` (its scores are stored)."""
        self.store.release(self.space, self.data, self.seed, arch, owner=self.owner)

    # ---- renewal ---------------------------------------------------------------------
    def _renew_forever(self) -> None:
        from nasrank.errors import StoreError
        from nasrank.store.store import ScoreStore

        own = ScoreStore(self.store.path, timeout=self.store.timeout)  # one per thread
        try:
            while not self._stop.wait(self.ttl / 4):
                try:
                    own.renew_claims(self.owner, self.ttl)
                except StoreError as exc:  # the next renewal may succeed; expiry is safe
                    logger.warning("could not renew claims: %s", exc)
        finally:
            own.close()

    def __enter__(self) -> Lease:
        self._thread = threading.Thread(
            target=self._renew_forever, name="nasrank-lease", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.store.release_claims(self.owner)
