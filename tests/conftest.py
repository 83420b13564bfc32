from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; tests using it are marked ``data`` and skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs {SHARED_DATA} (development data, absent on this machine)")
    return SHARED_DATA


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models train with one torch thread: no OpenMP spin-waits on a busy machine, and
    results do not depend on the thread count. Use as ``pytestmark = usefixtures(...)``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def toy_table_csv(tmp_path_factory) -> Path:
    """The toy NB-201 benchmark (``nasrank.testing.toy``) as a ``table:PATH`` CSV file."""
    import pandas as pd

    from nasrank.testing.toy import toy_benchmark

    bench = toy_benchmark()
    frame = pd.DataFrame({"arch": bench.archs(), **{m: bench.column(m) for m in bench.metrics}})
    path = tmp_path_factory.mktemp("toy") / "toy.csv"
    frame.to_csv(path, index=False)
    return path
