"""The subcommands of ``ann-designer``: work with project files in a shell.

``examples``, ``new``, ``summary``, ``train``, ``evaluate``, ``predict`` and ``export`` do
the same work as the designer's menus, for scripts and servers without a screen. The
console script's launcher (in the designer package) opens the window when it is given no
command and hands everything else to :func:`main`; ``python -m core.cli`` runs the
commands alone. Errors are for people: one line on stderr starting with
``ann-designer: error:``, exit status 2 for a wrong command line and 1 when the work
itself failed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np

from core import cli_output as out
from core import workflow
from core.backends import BACKENDS, DEVICES
from core.data import DataError, Dataset, Progress
from core.data_fit import Fit, change_text
from core.examples import DEFAULT_EXAMPLE, example_path, list_examples, load_example
from core.export import EXPORT_FORMATS, ExportError, export
from core.log_setup import LOG_DIR_VARIABLE, setup_logging
from core.project import Project, ProjectError, load_project, save_project
from core.spec import SpecError, output_shapes, param_counts, problem_text, validate
from core.starter import example_for_data, starter_notes, starter_project
from core.training import Trainer, TrainingDiverged

PROG = "ann-designer"
COMMANDS = ("examples", "new", "summary", "train", "evaluate", "predict", "export",
            "import-weights")
USER_ERRORS = (ProjectError, DataError, SpecError, ExportError, TrainingDiverged, OSError)
EXIT_USAGE = 2
EXIT_FAILURE = 1
LARGE_DATA_BYTES = 32 << 20  # 'new --data' says it is reading a file this large or larger
READ_BYTES_PER_SECOND = 40 << 20  # roughly, for the estimate: a 1 GB CSV took 26 s
EXIT_INTERRUPTED = 130  # the shell's convention for a program stopped with Ctrl-C
DEBUG_VARIABLE = "ANN_DESIGNER_DEBUG"  # set: unexpected errors show their traceback
RECOVERY_VARIABLE = "ANN_DESIGNER_NO_RECOVERY"  # read by the designer; listed in --help
log = logging.getLogger(__name__)

USAGE = (f"{PROG} [-h] [--version] [-v] [FILE.annproj]\n"
         f"       {PROG} [-v] COMMAND [options]")
DESCRIPTION = ("Design, train and export neural networks. Without a command, opens the "
               "designer (with FILE.annproj if given); with one, works in the shell.")
EPILOG = f"""examples:
  {PROG}                                  open the designer on the spiral example
  {PROG} my.annproj                       open a project in the designer
  {PROG} examples                         list the example projects
  {PROG} new --example spiral -o s.annproj
  {PROG} new --data iris.csv --target species -o iris.annproj
  {PROG} new --example wine --data my.csv --target kind -o my.annproj
  {PROG} train iris.annproj --epochs 50
  {PROG} train iris.annproj --backend torch
  {PROG} evaluate iris.annproj
  {PROG} predict iris.annproj new.csv -o predictions.csv
  {PROG} export iris.annproj --format onnx -o iris.onnx
  {PROG} --install-desktop                add the app to the desktop's menu (Linux)
  {PROG} COMMAND --help                   the options of one command

environment variables:
  {DEBUG_VARIABLE + "=1":<30}unexpected errors show their full traceback
  {LOG_DIR_VARIABLE + "=DIR":<30}write ann-designer.log into DIR, not the user's log folder
  {RECOVERY_VARIABLE + "=1":<30}the designer neither autosaves nor offers to recover
  {"QT_QPA_PLATFORM=offscreen":<30}run the designer without a screen (tests, CI)
"""


class UsageError(Exception):
    """A wrong command line (argparse's complaint), reported in one line with exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing the usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per command."""
    parser = _Parser(prog=PROG, usage=USAGE, description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}",
                        help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="print log messages too (-vv: debug messages)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser,
                                     prog=PROG)

    sub = commands.add_parser("examples", help="list the example projects")
    sub.set_defaults(func=cmd_examples)

    sub = commands.add_parser("new", help="create a project from an example, a CSV file, "
                              "or both (the example's network on your data)")
    sub.add_argument("--example", metavar="NAME", help="copy an example (see 'examples'); "
                     "with --data, its network and settings adapted to that data")
    sub.add_argument("--data", metavar="FILE.csv", help="build a starting network for "
                     "the data in a CSV/TSV file")
    sub.add_argument("--target", metavar="COLUMN", help="the column to predict (with --data); "
                     "several, COL,COL, make a regression with one output each")
    sub.add_argument("--features", metavar="COL,COL", help="input columns (default: all "
                     "others)")
    sub.add_argument("--categorical", metavar="COL,COL", help="feature columns that hold "
                     "categories (one-hot encoded)")
    sub.add_argument("--drop-bad-rows", action="store_true", help="skip rows with a "
                     "missing, non-numeric or ragged cell (training re-reads the file the "
                     "same way)")
    sub.add_argument("--task", choices=("classification", "regression"),
                     help="override the guess (whole numbers with at most 20 values are "
                     "classes)")
    sub.add_argument("-o", "--output", required=True, metavar="FILE.annproj",
                     help="the project file to create")
    sub.add_argument("--force", action="store_true", help="replace an existing file")
    sub.set_defaults(func=cmd_new)

    sub = commands.add_parser("summary", help="layers, output shapes and parameter counts")
    sub.add_argument("project", metavar="FILE.annproj", help="the project file")
    sub.set_defaults(func=cmd_summary)

    sub = commands.add_parser("train", help="train with the project's settings and save")
    sub.add_argument("project", metavar="FILE.annproj", help="the project to train (it "
                     "goes on from its saved weights, if any)")
    sub.add_argument("--epochs", type=_positive_int, metavar="N",
                     help="epochs to train (default: the project's setting)")
    sub.add_argument("-o", "--output", metavar="OUT.annproj",
                     help="save here instead of over FILE")
    sub.add_argument("--lr", type=_positive_float, metavar="RATE",
                     help="learning rate (default: the project's optimizer setting)")
    sub.add_argument("--batch-size", type=_positive_int, metavar="N",
                     help="samples per step (default: the project's setting)")
    sub.add_argument("--seed", type=_non_negative_int, metavar="N",
                     help="seed for shuffling and dropout (default: the project's)")
    sub.add_argument("--backend", choices=BACKENDS,
                     help="engine: numpy (the default) or torch (needs PyTorch)")
    sub.add_argument("--device", choices=DEVICES, help="cpu (the default) or cuda, "
                     "for the torch engine")
    sub.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sub.set_defaults(func=cmd_train)

    sub = commands.add_parser("evaluate", help="metrics and confusion matrix")
    sub.add_argument("project", metavar="FILE.annproj", help="the (trained) project")
    sub.add_argument("--data", metavar="FILE.csv", help="evaluate on this file instead of "
                     "the project's own splits")
    sub.add_argument("--target", metavar="COLUMN", help="target column of --data (default: "
                     "the project's)")
    sub.set_defaults(func=cmd_evaluate)

    sub = commands.add_parser("predict", help="predict every row of a CSV file")
    sub.add_argument("project", metavar="FILE.annproj", help="the trained project")
    sub.add_argument("input", metavar="INPUT.csv", help="rows with the project's feature "
                     "columns (found by their header names)")
    sub.add_argument("-o", "--output", metavar="OUT.csv", help="default: standard output")
    sub.set_defaults(func=cmd_predict)

    sub = commands.add_parser("export", help="export the trained model to another format")
    sub.add_argument("project", metavar="FILE.annproj", help="the trained project")
    sub.add_argument("--format", required=True, choices=EXPORT_FORMATS,
                     help="onnx: a .onnx model; npz: weights by layer; numpy: a Python "
                     "script with its weights; pytorch: a torch module and its weights")
    sub.add_argument("-o", "--output", required=True, metavar="PATH",
                     help="the file (onnx, npz) or script to write")
    sub.set_defaults(func=cmd_export)

    sub = commands.add_parser("import-weights", help="read trained weights (.npz by "
                              "node_id/name, as pytorch-train's train.py writes) into a project")
    sub.add_argument("project", metavar="FILE.annproj", help="the project to put them in")
    sub.add_argument("weights", metavar="WEIGHTS.npz", help="the trained weights")
    sub.add_argument("-o", "--output", metavar="OUT.annproj",
                     help="save here instead of over FILE")
    sub.set_defaults(func=cmd_import_weights)
    return parser


def _whole_number(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{text} must be at least {low}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _non_negative_int(text: str) -> int:
    return _whole_number(text, 0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


# ------------------------------------------------------------------------------- main


def version() -> str:
    """The installed package's version (from its metadata), or a note saying why not."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version(PROG)
    except PackageNotFoundError:
        return "(not installed: running from a source folder)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand (``ann-designer COMMAND ...``); returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        namespace = build_parser().parse_args(args)
    except UsageError as exc:
        return fail(str(exc), EXIT_USAGE)
    except SystemExit as exc:  # --help or --version printed their text
        return int(exc.code or 0)
    if namespace.command is None:
        return fail(f"choose a command: {', '.join(COMMANDS)} (see '{PROG} --help')",
                    EXIT_USAGE)
    setup_logging(namespace.verbose)
    log.info("%s %s", PROG, " ".join(args))
    try:
        return int(namespace.func(namespace) or 0)
    except UsageError as exc:
        return fail(str(exc), EXIT_USAGE)
    except BrokenPipeError:  # output piped into e.g. head, which has seen enough
        _silence_stdout()
        return EXIT_FAILURE
    except USER_ERRORS as exc:
        log.info("failed: %s", error_line(exc))
        return fail(error_line(exc), EXIT_FAILURE)
    except KeyboardInterrupt:  # outside training (which handles it): files stay intact
        return fail("interrupted", EXIT_INTERRUPTED)
    except Exception as exc:  # a bug, or a case nobody foresaw: still one line, no files lost
        log.exception("unexpected error in %s %s", PROG, " ".join(args))
        if os.environ.get(DEBUG_VARIABLE):
            raise
        return fail(f"unexpected {type(exc).__name__}: {error_line(exc)} (this is a bug in "
                    f"{PROG}; please report it; set {DEBUG_VARIABLE}=1 to see the "
                    "traceback)", EXIT_FAILURE)


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def fail(message: str, status: int) -> int:
    """Print one error line on stderr and return the exit status."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


def error_line(exc: BaseException) -> str:
    """A user error as one line: file errors name the file, the rest joins its lines."""
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = exc.strerror or str(exc)
        return f"{exc.filename}: {reason[0].lower() + reason[1:] if reason else 'failed'}"
    text = str(exc).strip() or type(exc).__name__
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


@contextlib.contextmanager
def about_file(path: str | os.PathLike | None) -> Iterator[None]:
    """Data errors raised inside name the file they are about ("iris.csv: line 8, ...").

    The readers name lines and columns; a command can read two files (a project and a
    CSV), so the line says which one unless the message names it already.
    """
    try:
        yield
    except DataError as exc:
        name = Path(path).name if path else ""
        message = str(exc)
        if not name or name in message:
            raise
        raise DataError(f"{name}: {message}") from None


def project_data_file(project: Project, base_dir: Path) -> Path | None:
    """The project's data file (None for built-in data), for naming it in errors."""
    source = project.data or {}
    return workflow.data_path(project, base_dir) if source.get("kind") == "file" else None


# --------------------------------------------------------------------------- commands


def cmd_examples(args: argparse.Namespace) -> int:
    """List the examples: name, kind of task and one line about each."""
    rows = [(info.name + (" *" if info.name == DEFAULT_EXAMPLE else ""), info.task,
             info.description) for info in list_examples()]
    print(out.table(rows, ["name", "task", "description"]))
    print(f"\n* opens when the designer starts. Copy one: {PROG} new --example NAME "
          "-o my.annproj\n  (add --data FILE.csv --target COLUMN for its network on your data)")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    """Create a project file from an example or from a CSV file."""
    output = Path(args.output)
    if output.exists() and not args.force:
        raise UsageError(f"{output} already exists; use --force to replace it")
    if args.example is None and args.data is None:
        raise UsageError("say what to start from: --example NAME, --data FILE.csv, or "
                         "both (the example's network on your data)")
    if args.data is None:
        for flag in ("target", "features", "categorical", "task", "drop_bad_rows"):
            if getattr(args, flag):
                raise UsageError(f"--{flag.replace('_', '-')} goes with --data FILE.csv "
                                 "(with --example too: the example's network on that data)")
        project = load_example(args.example)
        save_project(project, output)
        print(f"created {output} from example {args.example!r}: {project.description}")
        return 0
    if not args.target:
        raise UsageError("--data needs --target COLUMN, the column to predict")
    started = _announce_large_read(Path(args.data))
    progress = out.ReadProgress(Path(args.data).name, sys.stderr, enabled=started is not None)
    try:
        with about_file(args.data):
            project, ds, fit = project_from_csv(
                Path(args.data), _target(args.target), _columns(args.features),
                _columns(args.categorical), args.task, output.parent,
                drop_bad_rows=args.drop_bad_rows, progress=progress, example=args.example)
    finally:
        progress.close()
    if started is not None:
        print(f"read {Path(args.data).name} in {time.monotonic() - started:.1f} s",
              file=sys.stderr)
    save_project(project, output)
    print(describe_new_project(output, project, ds, args.example, fit))
    return 0


def _announce_large_read(path: Path) -> float | None:
    """Say on stderr that a large data file is being read (it can take a minute), and when.

    Returns the start time for the closing line, or None for a file read in a moment.
    """
    try:
        size = path.stat().st_size
    except OSError:
        return None  # reading it gives the real error
    if size < LARGE_DATA_BYTES:
        return None
    seconds = max(1, round(size / READ_BYTES_PER_SECOND))
    print(f"reading {path.name} ({size / 2**20:,.0f} MiB, about {seconds} s)...",
          file=sys.stderr, flush=True)
    return time.monotonic()


def _target(text: str) -> str | list[str]:
    """One target column, or several ("--target a,b": a regression with several outputs)."""
    names = _columns(text)
    return names if len(names) > 1 else text


def _columns(text: str | None) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def project_from_csv(path: Path, target: str | list[str], features: list[str],
                     categorical: list[str], task: str | None, project_dir: Path,
                     drop_bad_rows: bool = False, progress: Progress | None = None,
                     example: str | None = None) -> tuple[Project, Dataset, Fit | None]:
    """A new project for a CSV file: starting network, standardized inputs, data source.

    The data source records what the reader found (columns, categories, task) and
    whether bad rows are skipped, so that training re-reads the file the same way and
    predicting on new files later encodes them exactly the same way. With ``example``
    the network and settings are that example's, adapted to the data; the returned Fit
    says what changed (None without an example).
    """
    if example is not None:
        example_path(example)  # an unknown name fails before a large file is read
    request = {"target": target, "features": features, "categorical": categorical,
               "task": task, "drop_bad_rows": drop_bad_rows}
    ds = workflow.read_source_file(request, path, progress=progress)
    source = {**ds.source, "path": _relative_path(path, project_dir), "embedded": False,
              "drop_bad_rows": drop_bad_rows}
    fit = None
    if example is None:
        project = starter_project(ds, source, path.stem)
    else:
        project, fit = example_for_data(load_example(example), example, ds, source,
                                        path.stem)
    workflow.prepare_data(project, dataset=ds)  # fits the scaler on the training split
    return project, ds, fit


def _relative_path(path: Path, project_dir: Path) -> str:
    """The data file's path as seen from the project's folder, so both can move together."""
    try:
        return Path(path).resolve().relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return str(Path(path).resolve())


def describe_new_project(output: Path, project: Project, ds: Dataset,
                         example: str | None = None, fit: Fit | None = None) -> str:
    """What ``new --data`` built, in two lines (three with an example: what changed)."""
    chain = " -> ".join(_node_label(node) for node in project.spec["nodes"])
    kind = (f"{len(ds.class_names)} classes ({', '.join(map(str, ds.class_names))})"
            if ds.task == "classification" else "regression")
    dropped, lines = ds.source.get("dropped_rows", 0), ds.source.get("dropped_lines", [])
    skipped = (f" ({dropped} bad row{'s' if dropped != 1 else ''} skipped, line "
               f"{', '.join(map(str, lines[:5]))}{' ...' if dropped > 5 else ''})"
               if dropped else "")
    origin = f" from example {example!r}" if example else ""
    lines = [f"created {output}{origin}: {len(ds.X)} samples{skipped}, {kind}"]
    if fit is not None:
        changes = change_text(fit)
        lines.append(f"adapted: {'; '.join(changes)}" if changes else
                     "adapted: nothing, the example's network fits the data as it is")
    lines += [f"network: {chain}; loss {project.training['loss']}", *starter_notes(ds)]
    return "\n".join(lines)


def _node_label(node: dict[str, Any]) -> str:
    if node["type"] == "Input":
        return f"Input({'x'.join(str(d) for d in node['shape'])})"
    if node["type"] == "Dense":
        return f"Dense({node['units']}, {node.get('activation', 'linear')})"
    return str(node["type"])


def cmd_summary(args: argparse.Namespace) -> int:
    """Print the layer table of a project, and its problems if the network is invalid."""
    project = load_project(args.project)
    print(f"{project.name}: {project.description}".rstrip(": "))
    problems = validate(project.spec, loss=project.training.get("loss"))
    shapes, counts = output_shapes(project.spec), param_counts(project.spec)
    rows = [(node["id"], node["type"], _shape_text(shapes.get(node["id"])),
             f"{counts[node['id']]:,}" if node["id"] in counts else "?")
            for node in project.spec.get("nodes", [])]
    print(out.table(rows, ["id", "type", "output shape", "params"], right=[3]))
    print(f"total parameters: {sum(counts.values()):,}")
    print(training_line(project))
    if problems:
        print("\nproblems:")
    for problem in problems:
        print(f"  {problem.severity}: {problem_text(problem)}")
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ProjectError(errors_line(len(errors), training_state(project)))
    return 0


def errors_line(count: int, state: str) -> str:
    """The closing error of ``summary``: a trained project whose network or loss was
    changed since (training refuses an invalid one) is still trained, and says so."""
    if state.startswith("trained "):
        return (f"the network has {count} error(s), listed above; its saved weights "
                f"({state}) are kept, but fix the errors in the designer to train it "
                "further")
    return (f"the network has {count} error(s), listed above; fix them in the designer "
            "before training")


def _shape_text(shape: tuple | None) -> str:
    return "?" if shape is None else str(tuple(int(s) for s in shape))


def training_line(project: Project) -> str:
    """Loss, optimizer and how far the project has been trained."""
    settings = project.training
    optimizer = settings.get("optimizer") or {}
    return (f"loss {settings.get('loss')}, optimizer {optimizer.get('type')} "
            f"(lr {optimizer.get('lr')}), batch size {settings.get('batch_size')}, "
            f"{settings.get('epochs')} epochs per run; {training_state(project)}")


def training_state(project: Project) -> str:
    """"untrained", "trained 12 epochs", "trained 7 steps (part of an epoch)", or weights
    with no training recorded (imported with import-weights, or edited in the designer).

    Weights alone do not make a project trained: the designer's Reset weights stores the
    fresh weights of the seed, with an empty history.
    """
    if not project.weights:
        return "untrained"
    epochs, steps = workflow.trained_so_far(project.history)
    if epochs:
        return f"trained {epochs} epoch{'s' if epochs != 1 else ''}"
    if steps:
        return f"trained {steps} step{'s' if steps != 1 else ''} (part of an epoch)"
    if workflow.has_fresh_weights(project):
        return "untrained"
    return "weights with no training recorded (imported or edited)"


def cmd_train(args: argparse.Namespace) -> int:
    """Train a project with its settings (or overrides) and save the results."""
    path = Path(args.project)
    project = load_project(path)
    target = Path(args.output) if args.output else path
    check_can_save(target)
    epochs = args.epochs or int(project.training.get("epochs", 10))
    done, _ = workflow.trained_so_far(project.history)
    progress = out.TrainingProgress(epochs, sys.stderr, enabled=not args.quiet, done=done)
    with stop_on_ctrl_c(progress) as ctrl_c:
        try:  # the trainer checks every step for inf/NaN itself: numpy's warnings are noise
            with (about_file(project_data_file(project, path.parent)),
                  np.errstate(over="ignore", invalid="ignore")):
                outcome = workflow.train_project(
                    project, epochs, on_event=ctrl_c.watch(progress), base_dir=path.parent,
                    trainer_hook=ctrl_c.hook, lr=args.lr, batch_size=args.batch_size,
                    seed=args.seed, backend=args.backend, device=args.device)
        except TrainingDiverged as exc:
            raise TrainingDiverged(f"{exc} Nothing was saved (set the rate with --lr).",
                                   exc.lr, exc.epoch, exc.step) from None
        finally:
            progress.close()
        ctrl_c.trained = True  # from here on Ctrl-C must not cost the run: it is saved
        save_project(project, target)
    summary = out.metrics_line(progress.last_epoch)
    stopped = outcome.interrupted or outcome.stop_reason == "stopped"
    verb = "stopped by Ctrl-C after" if stopped else f"{outcome.stop_reason}:"
    print(f"{verb} {outcome.epochs_run} epochs  {summary}".rstrip())
    print(f"saved weights, optimizer state and history to {target}")
    return EXIT_INTERRUPTED if stopped else 0


def check_can_save(target: Path) -> None:
    """Refuse before training, not after it, when the result could not be saved."""
    folder = target.parent
    if not folder.is_dir():
        raise ProjectError(f"Cannot save {target}: the folder {folder} does not exist; "
                           "create it or choose another file with -o OUT.annproj.")
    if not os.access(folder, os.W_OK):
        raise ProjectError(f"Cannot save {target}: the folder {folder} is not writable; "
                           "choose another file with -o OUT.annproj.")


class CtrlC:
    """What Ctrl-C does while ``train`` runs: stop after the batch, at once, or nothing.

    The first Ctrl-C asks the trainer to stop after the current batch; another one
    interrupts the batch (KeyboardInterrupt), and the workflow puts back the last
    complete batch's weights. Once the run has ended (its "end" event) Ctrl-C is only
    acknowledged: two presses a few ms apart used to land in the saving and lose it all.

    The handler only notes the request: the stop reaches the trainer after the event
    being handled (or the next one), before the next batch, in the program's own
    flow. ``request_stop`` takes a lock, and a handler runs in the middle of whatever
    the main thread was doing: a second Ctrl-C that arrived while the first handler
    held that lock waited for it for ever (two presses 0.5 ms apart hung ``train``).
    """

    def __init__(self, progress: out.TrainingProgress) -> None:
        self.progress = progress
        self.trainer: Trainer | None = None
        self.trained = False  # the run is over: what is left is storing and saving it
        self.stop_asked = False

    def hook(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def watch(self, on_event: Callable[[Any], None]) -> Callable[[Any], None]:
        """``on_event`` that also passes a Ctrl-C on to the trainer and notes the end
        of the run."""
        def watched(event: Any) -> None:
            if event.kind == "end":
                self.trained = True
            on_event(event)
            if self.stop_asked and self.trainer is not None:  # before the next batch
                self.trainer.request_stop()
        return watched

    def __call__(self, signum: int, frame: Any) -> None:
        if self.trained:
            self.progress.write("saving the trained network; a moment")
        elif self.trainer is None or self.stop_asked:
            raise KeyboardInterrupt  # nothing trained yet, or the second press: at once
        else:
            self.stop_asked = True  # first: a press during the message is the second
            self.progress.write("stopping after this batch (Ctrl-C again to stop at once)")


@contextlib.contextmanager
def stop_on_ctrl_c(progress: out.TrainingProgress) -> Iterator[CtrlC]:
    """Ctrl-C handled by a CtrlC while training and saving (main thread only)."""
    handler = CtrlC(progress)
    if threading.current_thread() is not threading.main_thread():
        yield handler
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Metrics per split (or on --data), and the confusion matrix of classifiers."""
    path = Path(args.project)
    project = load_project(path)
    net = workflow.build_network(project)  # first: an invalid design fails in one line
    if training_state(project) == "untrained":  # no weights, or a seed's fresh ones
        print("note: the project has no trained weights; showing the untrained network "
              f"(run '{PROG} train {path}')", file=sys.stderr)
    if args.data:
        with about_file(args.data):
            ds = workflow.external_dataset(project, Path(args.data), args.target,
                                           path.parent)
        parts = [(Path(args.data).name, ds)]
    else:
        with about_file(project_data_file(project, path.parent)):
            data = workflow.prepare_data(project, base_dir=path.parent)
        parts = [(name, getattr(data, name)) for name in ("train", "val", "test")
                 if getattr(data, name) is not None]
    results = [(name, workflow.evaluate_dataset(project, net, ds)) for name, ds in parts]
    names = out.ordered_metrics(results[0][1].metrics)
    rows = [[name, ev.n_samples] + [out.fmt_number(ev.metrics[m]) for m in names]
            for name, ev in results]
    print(out.table(rows, ["data", "samples"] + names, right=range(1, len(names) + 2)))
    name, last = results[-1]
    if last.confusion is not None:
        print(f"\nconfusion matrix ({name}; rows: true class, columns: predicted)")
        print(out.confusion_table(last.confusion, last.class_names or []))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Predict every row of a CSV file: class and probabilities, or values."""
    path = Path(args.project)
    project = _trained_project(path)
    net = workflow.build_network(project)
    with about_file(args.input):
        X = workflow.input_features(project, Path(args.input), path.parent)
    header, rows = workflow.prediction_table(project, net, X)
    if args.output:
        with open(args.output, "w", newline="", encoding="utf-8") as stream:
            _write_csv(stream, header, rows)
        print(f"wrote {len(rows)} predictions to {args.output}")
    else:
        _write_csv(sys.stdout, header, rows)
    return 0


def _trained_project(path: Path) -> Project:
    """The project at ``path``; predicting or exporting untrained weights would mislead."""
    project = load_project(path)
    if not project.weights:
        raise ProjectError(f"{path} has no trained weights; run '{PROG} train {path}' first")
    if training_state(project) == "untrained":  # the designer's Reset weights stores these
        raise ProjectError(f"{path} holds only the fresh, untrained weights of its seed "
                           f"(Reset weights); run '{PROG} train {path}' first")
    return project


def _write_csv(stream: TextIO, header: list[str], rows: list[list[Any]]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def cmd_export(args: argparse.Namespace) -> int:
    """Write the project's model in another format (ONNX, NumPy, PyTorch)."""
    path = Path(args.project)
    # pytorch-train may start from the seeded initial weights of an untrained project
    project = load_project(path) if args.format == "pytorch-train" else _trained_project(path)
    written = export(project, args.format, Path(args.output), base_dir=path.parent)
    print(f"exported {args.format} to {', '.join(str(p) for p in written)}")
    return 0


def cmd_import_weights(args: argparse.Namespace) -> int:
    """Put trained weights from an .npz into the project and save it."""
    from core.export.pytorch_train import import_weights

    path = Path(args.project)
    project = load_project(path)
    target = Path(args.output) if args.output else path
    check_can_save(target)
    import_weights(project, args.weights)
    save_project(project, target)
    print(f"imported the weights of {args.weights} into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
