"""The messages between the designer and the training process: every command and report
crosses a real pipe and arrives equal, and a malformed step is refused at once."""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import typing

import numpy as np
import pytest

from core.network import Network
from designer.run.protocol import (
    SLOW_FIELDS,
    Checkpoint,
    Command,
    Epochs,
    Failed,
    Finished,
    GradNorms,
    GridSpec,
    Pause,
    Progress,
    Published,
    RecoveryPoint,
    Report,
    Resume,
    SetLearningRate,
    SetPace,
    Snapshot,
    Step,
    Steps,
    Stop,
    TrainingJob,
)

SPEC = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                  {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
        "edges": [["in", "out"]]}


def _snapshot() -> Snapshot:
    net = Network.from_spec(SPEC, seed=0)
    return Snapshot(seq=3, epoch=1, step=7, samples_seen=70, samples_per_s=1e3,
                    elapsed_s=0.07, lr=0.01, loss=0.5, params=net.params.copy(),
                    grads=net.grads.copy(), refs=tuple(net.param_refs),
                    grid=np.ones((2, 2, 1), np.float32), grid_seq=1,
                    neuron_maps={"h": np.zeros((3, 2, 2), np.float32)},
                    confusion=np.eye(2, dtype=np.int64))


COMMANDS: list[Command] = [Stop(), Pause(), Resume(), Step(), Step(3, "epoch"),
                           SetLearningRate(0.003), SetPace(2.5), SetPace(None)]
REPORTS: list[Report] = [
    Published(_snapshot()), Published(_snapshot(), new=("grid",)),
    Steps(np.arange(1.0, 4.0), np.array([0.9, 0.8, 0.7])),
    Epochs(({"epoch": 1.0, "step": 3.0, "loss": 0.8, "val_accuracy": 0.5},)),
    GradNorms(7.0, {"out": 0.25}),
    Checkpoint(5, np.arange(3.0, dtype=np.float32)),
    Progress("running", epoch=1, step=7, loss=0.5, epochs_total=10, lr=0.01,
             samples_per_s=1e3, time_left_s=9.0, samples_seen=70),
    Progress("idle"),
    Failed("Training diverged at epoch 2."),
    RecoveryPoint(3, 60, {"out": {"kernel": np.ones((2, 1), np.float32)}},
               {"iterations": 60, "m": np.zeros(2, np.float32)}),
    Finished("completed", {"out": {"kernel": np.ones((2, 1), np.float32)}},
             {"iterations": 7, "m": np.zeros(3)}),
    Finished("error"),
]


def _same(a, b) -> bool:
    """Equal field by field, arrays (also inside tuples and dicts) by their values."""
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(
            _same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def _through_a_pipe(message):
    receive, send = multiprocessing.Pipe(duplex=False)
    send.send(message)
    return receive.recv()


@pytest.mark.parametrize("message", COMMANDS + REPORTS, ids=lambda m: type(m).__name__)
def test_every_message_crosses_a_pipe_unchanged(message):
    got = _through_a_pipe(message)
    assert got is not message and _same(got, message)


@pytest.mark.parametrize("union, examples", [(Command, COMMANDS), (Report, REPORTS)],
                         ids=["commands", "reports"])
def test_every_message_type_has_a_round_trip_example(union, examples):
    assert set(typing.get_args(union)) == {type(m) for m in examples}


def test_messages_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Step(2).count = 3  # type: ignore[misc]


def test_the_job_crosses_a_pipe_with_its_first_commands():
    grid = GridSpec(np.zeros((4, 2), np.float32), (2, 2), (0.0, 1.0, 0.0, 1.0))
    job = TrainingJob(spec=SPEC, training={"loss": "mse"}, X=np.zeros((5, 2)),
                      Y=np.zeros(5), epochs=3, seed=2, grid=grid, pace=1.5,
                      commands=(Step(2, "epoch"),), hidden_ids=("h",))
    assert _same(_through_a_pipe(job), job)


def test_a_step_counts_at_least_one_batch_or_epoch():
    assert Step(0).count == 1 and Step(2.7).count == 2
    with pytest.raises(ValueError, match="'batch' or 'epoch'"):
        Step(1, "minute")  # type: ignore[arg-type]


def test_a_snapshot_fills_in_the_slow_fields_it_left_out():
    full = _snapshot()
    light = dataclasses.replace(full, **{name: None for name in SLOW_FIELDS}, seq=4)
    completed = Published(light, new=()).complete(full)
    assert completed.seq == 4 and completed.grid is full.grid
    assert completed.confusion is full.confusion
    assert Published(light, new=()).complete(None) is light
    assert _same(full.weights()["out"]["kernel"], full.params[:2].reshape(2, 1))
