from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nasrank.data import from_tensors
from nasrank.errors import NasrankError
from nasrank.training import (
    CHECKPOINT_NAME,
    CheckpointError,
    CheckpointMismatchError,
    TrainConfig,
    TrainingError,
    evaluate,
    learning_rate,
    train,
)
from nasrank.training._augment import augment as _augment

FAST = TrainConfig(epochs=3, batch_size=32, lr=0.05, augment=False)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _teacher_data(n: int = 256, seed: int = 0):
    """A learnable task, 4 classes: noisy 3x6x6 images around one fixed pattern per class."""
    g = torch.Generator().manual_seed(seed)
    patterns = torch.randn(4, 3, 6, 6, generator=torch.Generator().manual_seed(99))
    y = torch.randint(0, 4, (n,), generator=g)
    x = 0.5 * patterns[y] + torch.randn(n, 3, 6, 6, generator=g)
    return from_tensors(x, y, num_classes=4)


def _model(seed: int = 1) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 36, 4),
    )
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model


def _weights(model: nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for t in model.state_dict().values()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def _no_seconds(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


class _Stop(Exception):
    pass


def test_loss_decreases_and_accuracy_beats_chance_on_a_learnable_task():
    data, test = _teacher_data(512), _teacher_data(256, seed=1)
    config = TrainConfig(epochs=4, batch_size=32, lr=0.05, augment=False)
    result = train(_model(), data, config=config, val_data=test, test_data=test, seed=0)
    losses = [h["train_loss"] for h in result.history]
    assert losses[-1] < 0.6 * losses[0]
    assert result.test_accuracy > 60  # chance is 25 %
    assert result.val_accuracy == result.test_accuracy  # same data, same final model
    assert result.epochs == 4 and result.device == "cpu" and result.seconds > 0
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    assert set(result.history[0]) == {
        "epoch",
        "lr",
        "train_loss",
        "train_accuracy",
        "val_accuracy",
        "seconds",
    }
    assert result.train_accuracy == result.history[-1]["train_accuracy"]


def test_same_seed_same_weights_and_caller_rng_untouched():
    data = _teacher_data(128)
    a, b, c = _model(), _model(), _model()
    before = torch.get_rng_state()
    config = TrainConfig(epochs=2, batch_size=32, lr=0.05)  # augmentation on: seeded too
    train(a, data, config=config, seed=3)
    train(b, data, config=config, seed=3)
    train(c, data, config=config, seed=4)
    assert _same(_weights(a), _weights(b))
    assert not _same(_weights(a), _weights(c))
    assert torch.equal(torch.get_rng_state(), before)


def test_resume_after_interruption_gives_bitwise_identical_weights(tmp_path):
    data, test = _teacher_data(160), _teacher_data(64, seed=1)
    config = TrainConfig(epochs=3, batch_size=32, lr=0.05, warmup_epochs=0.5)  # augment on
    full_model = _model()
    full = train(full_model, data, config=config, test_data=test, seed=5)

    seen: list[int] = []

    def stop_after_first(entry: dict) -> None:
        seen.append(entry["epoch"])
        assert entry["epochs"] == 3
        if entry["epoch"] == 1:
            raise _Stop

    with pytest.raises(_Stop):
        train(
            _model(),
            data,
            config=config,
            checkpoint_dir=tmp_path,
            seed=5,
            progress=stop_after_first,
        )
    saved = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    assert saved["epoch"] == 1 and len(saved["history"]) == 1

    resumed_model = _model(seed=42)  # other initial weights: the checkpoint overrides them
    resumed = train(
        resumed_model,
        data,
        config=config,
        test_data=test,
        checkpoint_dir=tmp_path,
        seed=5,
        progress=stop_after_first,
    )
    assert seen == [1, 2, 3]  # continued from epoch 2
    assert _same(_weights(resumed_model), _weights(full_model))
    assert _no_seconds(resumed.history) == _no_seconds(full.history)
    assert resumed.test_accuracy == full.test_accuracy

    again = train(_model(), data, config=config, test_data=test, checkpoint_dir=tmp_path, seed=5)
    assert again.epochs == 3 and again.test_accuracy == full.test_accuracy  # nothing to redo


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"config": TrainConfig(epochs=2, batch_size=32, lr=0.1, augment=False)}, "lr 0.05 -> 0.1"),
        ({"seed": 1}, "seed 0 -> 1"),
        ({"model": nn.Sequential(nn.Flatten(), nn.Linear(108, 4))}, "model structure"),
    ],
)
def test_checkpoint_of_a_different_run_is_refused(tmp_path, change, fragment):
    data = _teacher_data(64)
    base = {"config": TrainConfig(epochs=2, batch_size=32, lr=0.05, augment=False), "seed": 0}
    train(_model(), data, checkpoint_dir=tmp_path, **base)
    kwargs = {**base, **change}
    model = kwargs.pop("model", _model())
    with pytest.raises(CheckpointMismatchError, match=fragment) as info:
        train(model, data, checkpoint_dir=tmp_path, **kwargs)
    assert isinstance(info.value, NasrankError) and "\n" not in str(info.value)


def test_unreadable_checkpoint_and_stale_temporaries(tmp_path):
    (tmp_path / ".tmp-checkpoint.pt.abc").write_bytes(b"half written")
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        train(_model(), _teacher_data(32), config=FAST, checkpoint_dir=tmp_path)
    assert not list(tmp_path.glob(".tmp-*"))


def test_schedule_is_nb201_cosine_with_optional_warmup():
    config = TrainConfig(epochs=2, lr=0.1)
    steps = 10  # per epoch
    for s in range(20):  # NB-201: lr = 0.1 * (1 + cos(pi * t / T)) / 2, t = fractional epoch
        assert learning_rate(config, s, steps) == pytest.approx(
            0.05 * (1 + math.cos(math.pi * s / 20))
        )
    warm = TrainConfig(epochs=1, lr=0.1, warmup_epochs=0.2)
    lrs = [learning_rate(warm, s, 100) for s in range(100)]
    assert lrs[0] == pytest.approx(0.005) and lrs[19] == pytest.approx(0.1)
    assert all(a < b for a, b in zip(lrs[:19], lrs[1:20]))  # linear ramp up
    assert all(a >= b for a, b in zip(lrs[19:], lrs[20:])) and lrs[-1] < 1e-3  # cosine to ~0


def test_history_records_the_schedule_and_num_workers_does_not_change_the_result():
    data = _teacher_data(96)
    a, b = _model(), _model()
    ra = train(a, data, config=FAST)
    rb = train(b, data, config=TrainConfig(**{**FAST.to_dict(), "num_workers": 2}))
    assert _same(_weights(a), _weights(b))
    assert [h["lr"] for h in ra.history] == pytest.approx(
        [learning_rate(FAST, 3 * (e + 1) - 1, 3) for e in range(3)]
    )
    assert rb.history[-1]["train_loss"] == ra.history[-1]["train_loss"]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"lr": 0.0}, "lr must be positive"),
        ({"lr": float("nan")}, "lr must be finite"),
        ({"momentum": 1.0}, "momentum must be below 1"),
        ({"momentum": 0.0}, "nesterov=True needs momentum > 0"),
        ({"epochs": 1, "warmup_epochs": 1}, "must be below epochs"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"num_workers": -1}, "num_workers"),
    ],
)
def test_bad_config_values_are_refused(kwargs, fragment):
    with pytest.raises(TrainingError, match=fragment) as info:
        TrainConfig(**kwargs)
    assert isinstance(info.value, ValueError)


def test_bad_inputs_are_refused():
    data = _teacher_data(32)
    unlabelled = from_tensors(torch.randn(8, 3, 6, 6))
    with pytest.raises(TrainingError, match="no labels"):
        train(_model(), unlabelled, config=FAST)
    with pytest.raises(TrainingError, match="iter_batches"):
        train(_model(), torch.randn(8, 3), config=FAST)
    with pytest.raises(TrainingError, match="seed"):
        train(_model(), data, config=FAST, seed=-1)
    if not torch.cuda.is_available():
        with pytest.raises(TrainingError, match="CUDA is not available"):
            train(_model(), data, config=FAST, device="cuda")


def test_models_returning_feature_logit_tuples_and_plain_iterables():
    class Pair(nn.Module):  # NB-201's reference networks return (features, logits)
        def __init__(self) -> None:
            super().__init__()
            self.body = _model()

        def forward(self, x):
            return x.flatten(1), self.body(x)

    class Pairs:  # anything with iter_batches yielding (inputs, targets)
        def __init__(self, ds):
            self.ds = ds

        def iter_batches(self, batch_size, seed=0, *, shuffle=True, drop_last=False):
            for b in self.ds.iter_batches(batch_size, seed, shuffle=shuffle, drop_last=drop_last):
                yield b.inputs, b.targets

    data = _teacher_data(64)
    result = train(Pair(), Pairs(data), config=FAST, test_data=Pairs(data))
    assert 0 <= result.test_accuracy <= 100 and len(result.history) == 3
    assert evaluate(_model(), data) == pytest.approx(evaluate(_model(), Pairs(data)))


def test_augmentation_crops_and_flips_each_sample():
    x = torch.arange(2 * 1 * 5 * 5, dtype=torch.float32).view(2, 1, 5, 5) + 1
    gen = torch.Generator().manual_seed(0)
    outs = [_augment(x, gen, pad=2) for _ in range(40)]
    padded = nn.functional.pad(x, (2, 2, 2, 2))
    for out in outs:
        assert out.shape == x.shape
        for i in range(2):  # every output sample is a (possibly flipped) window of the padded one
            windows = [padded[i, :, r : r + 5, c : c + 5] for r in range(5) for c in range(5)]
            assert any(torch.equal(out[i], w) or torch.equal(out[i], w.flip(-1)) for w in windows)
    assert len({tuple(o[0].flatten().tolist()) for o in outs}) > 5  # it does vary


def test_numpy_config_values_are_stored_as_plain_numbers(tmp_path):
    import numpy as np

    config = TrainConfig(
        epochs=np.int64(2), batch_size=np.int32(32), lr=np.float32(0.05), augment=False
    )
    assert type(config.epochs) is int and type(config.lr) is float
    first = train(_model(), _teacher_data(64), config=config, checkpoint_dir=tmp_path)
    again = train(_model(), _teacher_data(64), config=config, checkpoint_dir=tmp_path)  # loads it
    assert _no_seconds(again.history) == _no_seconds(first.history)
