"""Small networks: the engine against TensorFlow Playground's, and the designer against
the engine, on the classroom's workload.

Workload (issue 18): the two-arm spiral, 500 points, a 2-8-8-1 tanh network, mean
squared error, plain SGD with lr 0.03, at batch sizes 10, 1 and 30. Systems:

- ``playground``: TensorFlow Playground's engine (``src/nn.ts``, trained the way its
  ``oneStep()`` trains; ``pg_bench.js`` of the peer folder) under node, when node and
  the peer's build are there (``--playground DIR``, default ``../shared/bench/playground``
  beside the repository, or ``$ANN_PLAYGROUND_DIR``; its README says how to build it);
- ``engine``: ``core.Trainer.fit`` headless on the Playground's 500 points (the peer
  folder's ``spiral.json``, else the same spiral made here), as the peer's np_bench.py;
- ``project``: ``Trainer.fit`` headless on the designer project below (the example
  "spiral" with 500 points, the network and settings above), with its validation split;
- ``designer``: the same project trained in the designer (offscreen, 1600 x 1000, every
  live view on screen) from its Train action, in the designer's training process; the
  rate is the one the training process reports (samples over its active time).

Every run is a fresh process: a warm-up (compiles or loads the compiled path, 20
epochs on a throwaway network), then ``--epochs`` timed epochs on a fresh one. Each
round runs the systems for every batch size in turn, in reverse order every other round,
and the ratios are taken within a round (``engine / playground`` and ``designer /
project``); their medians over the rounds are the figures. Prints one JSON object.

    .venv/bin/python benchmarks/small_networks.py [--rounds 5] [--epochs 1000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCHES = (10, 1, 30)
SPEC = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                  {"id": "h1", "type": "Dense", "units": 8, "activation": "tanh"},
                  {"id": "h2", "type": "Dense", "units": 8, "activation": "tanh"},
                  {"id": "out", "type": "Dense", "units": 1, "activation": "tanh"}],
        "edges": [["in", "h1"], ["h1", "h2"], ["h2", "out"]]}
SETTINGS = {"loss": "mse", "optimizer": {"type": "sgd", "lr": 0.03}, "seed": 0}
WARMUP_EPOCHS = 20


# ---- the systems, each run in a process of its own ------------------------------------
def playground_dir(given: str | None) -> Path | None:
    """The peer folder with a build of nn.ts, or None when node or the build is missing."""
    candidates = [given, os.environ.get("ANN_PLAYGROUND_DIR"),
                  ROOT.parent / "shared" / "bench" / "playground",
                  ROOT.parent.parent / "shared" / "bench" / "playground"]
    if shutil.which("node") is None:
        return None
    for c in candidates:
        if c and (Path(c) / "build" / "nn.js").exists() and (Path(c) / "pg_bench.js").exists():
            return Path(c)
    return None


def spiral_points(peer: Path | None):
    """The Playground's 500 shuffled spiral points (x, y, label +-1)."""
    import numpy as np

    if peer is not None and (peer / "spiral.json").exists():
        pts = json.loads((peer / "spiral.json").read_text())
        X = np.array([[p["x"], p["y"]] for p in pts], dtype=np.float32)
        Y = np.array([[p["label"]] for p in pts], dtype=np.float32)
        return X, Y
    n = 250  # classifySpiralData(500, noise 0), shuffled with a seed of our own
    i = np.arange(n)
    r, t = i / n * 5, 1.75 * i / n * 2 * np.pi
    X = np.concatenate([np.stack([r * np.sin(t + d), r * np.cos(t + d)], 1)
                        for d in (0.0, np.pi)]).astype(np.float32)
    Y = np.concatenate([np.ones(n), -np.ones(n)])[:, None].astype(np.float32)
    order = np.random.default_rng(0).permutation(2 * n)
    return X[order], Y[order]


def run_engine(batch: int, epochs: int, peer: Path | None) -> dict:
    """``Trainer.fit`` on the Playground's points (as the peer's np_bench.py)."""
    import numpy as np

    from core import Network, Trainer

    X, Y = spiral_points(peer)

    def make():
        net = Network.from_spec(SPEC, seed=0)
        return net, Trainer(net, batch_size=batch, **SETTINGS)

    net, trainer = make()
    trainer.fit(X, Y, epochs=WARMUP_EPOCHS)
    net, trainer = make()
    start = time.perf_counter()
    trainer.fit(X, Y, epochs=epochs)
    seconds = time.perf_counter() - start
    out = net.predict(X).reshape(-1, 1)
    return {"samples_per_s": epochs * len(X) / seconds, "seconds": seconds,
            "loss": float(np.mean(0.5 * (out - Y) ** 2)),
            "acc": float(np.mean(np.where(out >= 0, 1.0, -1.0) == Y)),
            "compiled_path": trainer._fast is not None}


def project_for(batch: int, epochs: int):
    """The designer project of the workload: the example spiral with 500 points and the
    Playground's network, loss, optimizer and batches (a tanh output and mean squared
    error against the classes 0 and 1, which the designer trains and scores by
    accuracy)."""
    from core.examples import load_example

    project = load_example("spiral")
    project.spec = json.loads(json.dumps(SPEC))
    project.data = {**project.data, "params": {**project.data["params"], "n_samples": 500}}
    project.training = {**project.training, **SETTINGS, "batch_size": batch,
                        "epochs": epochs}
    project.layout = {}
    return project


def run_project(batch: int, epochs: int) -> dict:
    """``Trainer.fit`` headless on the designer project's data and settings."""
    fit_project(batch, WARMUP_EPOCHS)
    return fit_project(batch, epochs)


def fit_project(batch: int, epochs: int) -> dict:
    """One timed ``Trainer.fit`` of the designer project on a fresh network."""
    from core.network import Network
    from core.workflow import make_trainer
    from designer.run.data import load_training_data

    project = project_for(batch, epochs)
    prepared = load_training_data(project).prepared
    trainer = make_trainer(project, Network.from_spec(
        project.spec, seed=int(project.training["seed"])))
    X, Y = prepared.arrays("train")
    start, cpu = time.perf_counter(), time.process_time()
    trainer.fit(X, Y, epochs=epochs, validation_data=prepared.arrays("val"))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"samples_per_s": epochs * len(X) / seconds, "seconds": seconds,
            "n_train": len(X), "compiled_path": trainer._fast is not None,
            "cpu_ms_per_epoch": 1000 * cpu / epochs}


def _cpu_seconds(pid: int, thread: int | None = None) -> float | None:
    """User + system CPU time of a process (or one of its threads) from /proc."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_training_cpu(found: dict) -> None:
    """Record the training process' CPU time (all threads, and its main thread) when its
    Finished report arrives, before it exits (Linux only; nothing elsewhere)."""
    from designer.run import process
    from designer.run.protocol import Finished

    reports = process.RunProcess.reports

    def counted(self):
        for report in reports(self):
            if isinstance(report, Finished) and self.pid is not None:
                found["process"] = _cpu_seconds(self.pid)
                found["main_thread"] = _cpu_seconds(self.pid, self.pid)
            yield report

    process.RunProcess.reports = counted


def run_designer(batch: int, epochs: int, pairs: int) -> dict:
    """The project trained from the designer's Train action with every live view on
    screen (laid out as benchmarks/gui_training.py lays them out), ``pairs`` times,
    each time next to a headless ``fit`` of it in this process while the window idles.

    Pairing within one session is what makes the ratio mean something on a shared
    machine: its speed swings by half from one second to the next (the same compiled
    loop, pinned to one core, runs at 430,000 or 650,000 samples/s), so two runs a
    minute apart in fresh processes compare the moments more than the systems.
    """
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gui_training  # a 1920 x 1200 offscreen screen unless a platform was chosen
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from designer.app import application, create_window

    app = application([])
    training_cpu: dict = {}
    count_training_cpu(training_cpu)
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    settings = QSettings(str(folder / f"small-networks-{os.getpid()}.ini"),
                         QSettings.Format.IniFormat)
    window = create_window(settings=settings, offer_recovery=False)
    window.session.new_project(project_for(batch, epochs))
    gui_training.lay_out(app, window)
    ui = window.training_ui
    counter = gui_training.RefreshCounter(ui.refresher)
    loop = QEventLoop()
    ui.run.finished.connect(lambda _reason: loop.quit())

    def train(n: int) -> dict:
        ui.run.reset_weights()
        app.processEvents()
        refreshes, cpu, start = counter.count, time.process_time(), time.perf_counter()
        error = ui.run.train(epochs=n)
        if error:
            raise SystemExit(error)
        QTimer.singleShot(600_000, loop.quit)
        loop.exec()
        seconds = time.perf_counter() - start
        snapshot = ui.run.buffer.latest()
        return {"samples_per_s": snapshot.samples_per_s,
                "refresh_hz": (counter.count - refreshes) / seconds,
                "window_cpu_share": (time.process_time() - cpu) / seconds,
                "cpu_ms_per_epoch": _per_epoch(training_cpu.get("process"), n),
                "main_thread_cpu_ms_per_epoch": _per_epoch(
                    training_cpu.get("main_thread"), n)}

    train(WARMUP_EPOCHS)
    fit_project(batch, WARMUP_EPOCHS)
    designer, headless = [], []
    for i in range(pairs):  # alternate which goes first
        if i % 2:
            designer.append(train(epochs))
        headless.append(fit_project(batch, epochs))
        if not i % 2:
            designer.append(train(epochs))
    ratios = [d["samples_per_s"] / h["samples_per_s"]
              for d, h in zip(designer, headless, strict=True)]
    result = {key: median([d[key] for d in designer if d[key] is not None])
              for key in designer[0]}
    result.update({"headless_samples_per_s": median([h["samples_per_s"] for h in headless]),
                   "pair_ratios": ratios,
                   "views_on_screen": [type(v).__name__ for v in ui.views if v.is_shown()],
                   "reason": ui.run.last_reason})
    window.editor.undo_stack.setClean()
    window.close()
    app.processEvents()
    return result


def _per_epoch(seconds: float | None, epochs: int) -> float | None:
    return None if seconds is None else 1000 * seconds / epochs


def run_playground(batch: int, epochs: int, peer: Path) -> dict:
    out = subprocess.run(["node", str(peer / "pg_bench.js"), "--batch", str(batch),
                          "--epochs", str(epochs), "--warmup", str(WARMUP_EPOCHS)],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return {"samples_per_s": r["samples_per_s"], "seconds": r["seconds"], "loss": r["loss"],
            "acc": r["acc"]}


def worker(system: str, batch: int, epochs: int, peer: str | None, pairs: int) -> dict:
    """One run of one system in this process."""
    found = Path(peer) if peer else None
    if system == "engine":
        return run_engine(batch, epochs, found)
    if system == "project":
        return run_project(batch, epochs)
    if system == "designer":
        return run_designer(batch, epochs, pairs)
    return run_playground(batch, epochs, found)


# ---- the driver -----------------------------------------------------------------------
def run(system: str, batch: int, epochs: int, peer: Path | None, pairs: int) -> dict:
    """One run in a fresh process; its JSON line, with the load average before it."""
    env = dict(os.environ)
    if system == "designer":
        env.setdefault("ANN_DESIGNER_NO_RECOVERY", "1")
    load = os.getloadavg()[0]
    cmd = [sys.executable, __file__, "--worker", system, "--batch", str(batch),
           "--epochs", str(epochs), "--pairs", str(pairs)] + (
               ["--playground", str(peer)] if peer else [])
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load1"] = round(load, 2)
    print(f"  {system:<10} batch {batch:<3} {result['samples_per_s']:>12,.0f} samples/s "
          f"(load {load:.2f})", file=sys.stderr, flush=True)
    return result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1000, help="timed epochs per run")
    ap.add_argument("--batches", type=int, nargs="+", default=list(BATCHES))
    ap.add_argument("--pairs", type=int, default=5,
                    help="designer runs per round, each paired with a headless one")
    ap.add_argument("--playground", help="the peer folder (with build/nn.js)")
    ap.add_argument("--no-designer", action="store_true", help="leave the designer out")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(worker(args.worker, args.batch, args.epochs, args.playground,
                                args.pairs)))
        return 0
    peer = playground_dir(args.playground)
    systems = ["engine", "project"] + ([] if args.no_designer else ["designer"])
    systems = (["playground"] if peer else []) + systems
    load_start, t0 = os.getloadavg(), time.time()
    runs: list[dict] = []
    for rnd in range(args.rounds):
        print(f"round {rnd + 1}", file=sys.stderr, flush=True)
        for batch in args.batches:
            order = systems if rnd % 2 == 0 else systems[::-1]
            for system in order:
                runs.append({"round": rnd, "batch": batch, "system": system,
                             **run(system, batch, args.epochs, peer, args.pairs)})
    print(json.dumps(summarise(runs, args, peer, load_start, t0), indent=1))
    return 0


def summarise(runs: list[dict], args, peer: Path | None, load_start, t0: float) -> dict:
    """Medians per system and batch, and the medians of the ratios within each round."""
    table = {}
    for batch in args.batches:
        sel = [r for r in runs if r["batch"] == batch]
        by = {s: [r for r in sel if r["system"] == s] for s in {r["system"] for r in sel}}
        row = {s: {"median_samples_per_s": round(median([r["samples_per_s"] for r in rs])),
                   "runs": [round(r["samples_per_s"]) for r in rs]} for s, rs in by.items()}
        for name, (a, b) in {"engine_over_playground": ("engine", "playground"),
                             "designer_over_project": ("designer", "project")}.items():
            if a in by and b in by:
                ratios = [x["samples_per_s"] / y["samples_per_s"]
                          for x, y in zip(by[a], by[b], strict=True)]
                row[name] = {"median": round(median(ratios), 3),
                             "rounds": [round(x, 3) for x in ratios]}
        paired = [x for r in by.get("designer", []) for x in r["pair_ratios"]]
        if paired:
            row["designer_over_headless_paired"] = {
                "median": round(median(paired), 3), "pairs": len(paired),
                "quartiles": [round(q, 3) for q in statistics.quantiles(paired, n=4)]
                if len(paired) > 1 else paired}
        for system, key in (("project", "cpu_ms_per_epoch"), ("designer", "cpu_ms_per_epoch"),
                            ("designer", "main_thread_cpu_ms_per_epoch")):
            values = [r[key] for r in by.get(system, []) if r.get(key) is not None]
            if values:
                row[system][f"median_{key}"] = round(median(values), 3)
        table[str(batch)] = row
    designer_runs = [r for r in runs if r["system"] == "designer"]
    meta = {"rounds": args.rounds, "epochs": args.epochs, "wall_s": round(time.time() - t0),
            "playground": str(peer) if peer else None,
            "load_average_start": [round(v, 2) for v in load_start],
            "load_average_end": [round(v, 2) for v in os.getloadavg()],
            "nproc": os.cpu_count(), "python": sys.version.split()[0],
            "compiled_path": all(r.get("compiled_path", True) for r in runs)}
    if designer_runs:
        meta["designer_views_on_screen"] = designer_runs[-1]["views_on_screen"]
        meta["designer_refresh_hz"] = round(median([r["refresh_hz"] for r in designer_runs]), 1)
        meta["designer_window_cpu_share"] = round(
            median([r["window_cpu_share"] for r in designer_runs]), 3)
    return {"meta": meta, "batches": table}


if __name__ == "__main__":
    sys.exit(main())
