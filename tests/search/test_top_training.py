"""Training the top picks: order, determinism across executors, errors, Ray GPU placement."""

from __future__ import annotations

import os

import pytest
import torch

from nasrank.data import load_dataset
from nasrank.errors import NasrankError
from nasrank.search import TrainConfig, TrainJob, train, train_top
from nasrank.spaces import get_space
from nasrank.store import InlineExecutor, ProcessExecutor, RayExecutor, make_executor
from nasrank.training import TrainingDiverged

DATA = "synthetic:3x8x8:4"
CONFIG = TrainConfig(epochs=2, batch_size=16, lr=0.05, augment=False)
SPACE = get_space("nb201")
A = SPACE.canonical("(2, 2, 3, 0, 2, 3)")
B = SPACE.canonical("(0, 3, 4, 2, 0, 2)")


def _job(**kwargs) -> TrainJob:
    return TrainJob("nb201", DATA, CONFIG, train_size=32, test_size=16, **kwargs)


def _comparable(record: dict) -> dict:
    """A record without its timings (wall seconds differ run to run)."""
    out = {k: v for k, v in record.items() if k != "seconds"}
    out["history"] = [{k: v for k, v in h.items() if k != "seconds"} for h in record["history"]]
    return out


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def inline_records() -> list[dict]:
    return train_top([B, A, B], _job(), InlineExecutor(threads=1))


def test_records_are_in_the_given_order_once_each_and_equal_a_direct_training(inline_records):
    assert [r["arch"] for r in inline_records] == [B, A]
    # the same recipe by hand: seeded build, the same data draws, trainer.train
    train_data = load_dataset(DATA, split="train").take(32, seed=0, stratified=True)
    test_data = load_dataset(DATA, split="test").take(16, seed=0, stratified=True)
    torch.manual_seed(0)
    model = SPACE.build(A, num_classes=train_data.num_classes)
    direct = train(model, train_data, config=CONFIG, test_data=test_data, seed=0)
    assert _comparable(inline_records[1]) == _comparable({"arch": A, **direct.to_dict()})
    assert inline_records[0]["epochs"] == 2 and len(inline_records[0]["history"]) == 2


@pytest.mark.slow
def test_two_local_processes_give_the_records_of_one(inline_records):
    seen = []
    records = train_top([B, A], _job(), ProcessExecutor(2, 1), on_result=seen.append)
    assert [_comparable(r) for r in records] == [_comparable(r) for r in inline_records]
    assert sorted(r["arch"] for r in seen) == sorted([A, B])  # each reported as it ends


def test_each_record_is_reported_as_it_ends(inline_records):
    """The default run's stand-in for the two-process test above (marked slow); local
    processes are covered by tests/store/test_score_space.py."""
    seen = []
    records = train_top([B, A], _job(), InlineExecutor(threads=1), on_result=seen.append)
    assert [_comparable(r) for r in records] == [_comparable(r) for r in inline_records]
    assert sorted(r["arch"] for r in seen) == sorted([A, B])


def test_a_training_resumes_from_its_checkpoint(tmp_path, inline_records):
    first = train_top([A], _job(checkpoint_dir=str(tmp_path)), InlineExecutor(threads=1))
    assert len(list(tmp_path.iterdir())) == 1  # one sub-directory per architecture
    again = train_top([A], _job(checkpoint_dir=str(tmp_path)), InlineExecutor(threads=1))
    assert _comparable(again[0]) == _comparable(first[0]) == _comparable(inline_records[1])


def test_a_diverged_training_is_a_record_not_an_exception(monkeypatch):
    from nasrank.search.objectives import TrainingObjective

    def diverge(self, arch):
        if arch == A:
            raise TrainingDiverged(f"training loss became nan at epoch 1 ({arch})")
        return original(self, arch)

    original = TrainingObjective.__call__
    monkeypatch.setattr(TrainingObjective, "__call__", diverge)
    records = train_top([A, B], _job())
    assert records[0]["arch"] == A and "nan" in records[0]["error"]
    assert records[1]["arch"] == B and records[1]["epochs"] == 2  # the others still train


def test_the_job_pickles_without_its_loaded_data():
    import pickle

    job = _job()
    job.setup()
    clone = pickle.loads(pickle.dumps(job))
    assert not hasattr(clone, "_objective") and clone == _job()


def test_gpu_requests_need_ray_and_must_be_non_negative():
    with pytest.raises(ValueError, match="--executor ray"):
        make_executor("local", 2, 1, gpus=1)
    with pytest.raises(ValueError, match=">= 0"):
        make_executor("ray", 2, 1, gpus=-1)
    assert make_executor("ray", None, 1, gpus=0.5).gpus == 0.5


class _WhereAmI:
    """A job reporting the GPUs Ray gave the worker."""

    def setup(self) -> None:
        pass

    def __call__(self, item: int) -> tuple[str, str]:
        import ray

        return str(ray.get_runtime_context().get_actor_id()), os.environ.get(
            "CUDA_VISIBLE_DEVICES", ""
        )


@pytest.mark.slow
def test_ray_gives_each_worker_a_gpu_of_its_own_and_trains_like_inline(inline_records):
    ray = pytest.importorskip("ray")
    try:
        # GPUs are logical resources to Ray: two declared ones test the placement on a CPU host
        ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
        ex = RayExecutor(threads=1, gpus=1)
        seen = dict(ex.map_unordered(_WhereAmI(), range(8), max_in_flight=2))
        assert ex.workers == 2  # as many workers as GPUs
        by_actor = {actor: gpu for actor, gpu in seen.values()}
        assert len(by_actor) == 2 and sorted(by_actor.values()) == ["0", "1"]
        for too_many in (RayExecutor(threads=1, gpus=3), RayExecutor(workers=3, threads=1)):
            with pytest.raises(NasrankError, match="the cluster has 2 CPU"):
                next(too_many.map_unordered(_WhereAmI(), [1]))
        records = train_top([B, A], _job(), RayExecutor(threads=1, gpus=1))
    finally:
        ray.shutdown()
    assert [_comparable(r) for r in records] == [_comparable(r) for r in inline_records]
