"""The training UI's docks and their wiring; ``designer.training.install`` calls this.

``install(window)`` creates the run session (training process, snapshot buffer), the Data,
Training and Inference panels and the live views (curves, decision boundary, weights,
confusion matrix, images) as docks, wires them to ``window.document``, makes dropped data
files go through the Data panel's importer, and stops training when the window closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QScrollArea, QWidget

from designer.plots.boundary import BoundaryView
from designer.plots.common import LiveView, apply_plot_style, plot_style_for
from designer.plots.confusion import ConfusionView
from designer.plots.curves import CurvesView
from designer.plots.images import ImagesView
from designer.plots.lazy import BuildAfterFirstPaint, LazyView
from designer.plots.weights import WeightsView
from designer.run.process import warm_up
from designer.training.keys import install_keys
from designer.training.live import LiveRefresher
from designer.training.session import RunSession

__all__ = ["VIEW_KINDS", "TrainingUI", "install"]

#: The live views by name, in the order they are refreshed.
VIEW_KINDS: dict[str, type[LiveView]] = {
    "curves": CurvesView, "boundary": BoundaryView, "weights": WeightsView,
    "confusion": ConfusionView, "images": ImagesView}


@dataclass
class TrainingUI:
    """Everything ``install`` made, for the window, tests and benchmarks."""

    run: RunSession
    refresher: LiveRefresher
    data_panel: Any
    training_panel: Any
    inference_panel: Any
    #: The live views' places in their docks, by name, in the order they are refreshed;
    #: each view is built when its dock is first shown or the view is first asked for.
    lazy: dict[str, LazyView] = field(default_factory=lambda: {
        name: LazyView(kind) for name, kind in VIEW_KINDS.items()})
    docks: dict[str, QDockWidget] = field(default_factory=dict)
    lesson_bar: Any = None
    thumbnails: Any = None
    build_after_paint: Any = None  # builds the views still waiting after the first paint

    @property
    def curves(self) -> CurvesView:
        return self.lazy["curves"].view()

    @property
    def boundary(self) -> BoundaryView:
        return self.lazy["boundary"].view()

    @property
    def weights(self) -> WeightsView:
        return self.lazy["weights"].view()

    @property
    def confusion(self) -> ConfusionView:
        return self.lazy["confusion"].view()

    @property
    def images(self) -> ImagesView:
        return self.lazy["images"].view()

    @property
    def views(self) -> list[LiveView]:
        """The live views (all built by asking), in the order they are refreshed."""
        return [place.view() for place in self.lazy.values()]

    def when_built(self, name: str, action: Callable[[Any], object]) -> None:
        """``action(view)`` for view ``name`` ("boundary", ...) now or once it is built:
        for code that adjusts a view without wanting to build a hidden one."""
        self.lazy[name].when_built(action)


def _dock(window: Any, title: str, widget: QWidget, scroll: bool = False) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(title.replace(" ", "") + "Dock")
    if scroll:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setWidget(widget)
        widget = area
    dock.setWidget(widget)
    return dock


def install(window: Any) -> TrainingUI:
    """Add the training UI to ``window`` (a MainWindow with ``session`` and ``add_panel``)."""
    from designer.panels.data_panel import DataPanel
    from designer.panels.inference_panel import InferencePanel
    from designer.panels.lesson_bar import install_lesson_bar
    from designer.panels.training_panel import TrainingPanel
    warm_up()  # the training process' fork server starts while the window opens
    run = RunSession(window.session, window)
    view = getattr(window, "view", None)
    refresher = LiveRefresher(run.buffer, window.session, window,
                              canvas_cost=lambda: getattr(view, "paint_seconds", 0.0))
    ui = TrainingUI(run, refresher, DataPanel(run), TrainingPanel(run), InferencePanel(run))
    for place in ui.lazy.values():
        refresher.add_view(place)
    right = Qt.DockWidgetArea.RightDockWidgetArea
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    panels = [("Training", ui.training_panel, True), ("Data", ui.data_panel, True),
              ("Inference", ui.inference_panel, False)]
    lazy = ui.lazy
    views = [("Output", lazy["boundary"]), ("Loss curves", lazy["curves"]),
             ("Weights", lazy["weights"]), ("Confusion", lazy["confusion"]),
             ("Images", lazy["images"])]
    for title, widget, scroll in panels:
        ui.docks[title] = window.add_panel(_dock(window, title, widget, scroll), right)
    for title, place in views:
        ui.docks[title] = window.add_panel(_dock(window, title, place), bottom)
        place.follow(ui.docks[title])  # before _wire's refresh on the same signal
    _arrange(window, ui)
    _wire(window, ui)
    if isinstance(window, QWidget):
        ui.build_after_paint = BuildAfterFirstPaint(window, list(ui.lazy.values()))
    window.training_ui = ui
    install_keys(window, ui)
    if hasattr(window, "addToolBar"):
        ui.lesson_bar = install_lesson_bar(window, ui)
        ui.thumbnails = ui.lesson_bar.thumbnails
    if getattr(window.document.project, "data", None):
        run.project_replaced()
    return ui


def _saved_layout_has(window: Any, name: str) -> bool:
    """True when the window's saved layout (last session) already places dock ``name``."""
    settings = getattr(window, "settings", None)
    state = settings.value("window/state") if settings is not None else None
    try:
        raw = bytes(state) if state is not None else b""
    except TypeError:
        return False
    return name.encode("utf-16-be") in raw


def _arrange(window: Any, ui: TrainingUI) -> None:
    """First-run layout, unless the window arranges its docks itself (the designer's
    MainWindow does, see designer.dock_layout) or restores the last session's layout."""
    d = ui.docks
    if hasattr(window, "apply_default_layout") or _saved_layout_has(
            window, d["Training"].objectName()):
        return
    window.tabifyDockWidget(d["Training"], d["Data"])
    window.tabifyDockWidget(d["Data"], d["Inference"])
    window.splitDockWidget(d["Output"], d["Loss curves"], Qt.Orientation.Horizontal)
    window.splitDockWidget(d["Loss curves"], d["Weights"], Qt.Orientation.Horizontal)
    window.tabifyDockWidget(d["Weights"], d["Confusion"])
    window.tabifyDockWidget(d["Confusion"], d["Images"])
    d["Training"].raise_()
    d["Weights"].raise_()
    # Sizes only stick once the window is laid out: after the event loop starts.
    QTimer.singleShot(0, lambda: _size_views(window, ui))


def _size_views(window: Any, ui: TrainingUI) -> None:
    """Give the live views a useful share of the window: about 40 % of its height."""
    d = ui.docks
    height = max(280, int(window.height() * 0.4))
    window.resizeDocks([d["Output"]], [height], Qt.Orientation.Vertical)
    window.resizeDocks([d["Output"], d["Loss curves"], d["Weights"]],
                       [height, int(height * 1.3), int(height * 1.3)],
                       Qt.Orientation.Horizontal)


def _wire(window: Any, ui: TrainingUI) -> None:
    run, refresher = ui.run, ui.refresher
    run.contextChanged.connect(refresher.set_context)
    run.contextChanged.connect(lambda _ctx: _show_idle(ui))

    def state_changed(state: str) -> None:
        if state == "idle":
            refresher.stop()
        else:
            refresher.start()

    run.stateChanged.connect(state_changed)
    run.historyRestored.connect(lambda: _show_idle(ui))
    run.weightsReset.connect(refresher.clear)
    run.weightsReset.connect(lambda: _show_idle(ui))
    # A typed weight (or its undo) changes what the network computes: redraw the views.
    window.document.weightsChanged.connect(lambda: run.storing or _show_idle(ui))

    def show_message(text: str) -> None:
        if text:
            window.statusBar().showMessage(text, 8000)

    def dock_shown(visible: bool) -> None:
        if visible:
            refresher.tick(final=True)

    run.message.connect(show_message)
    for dock in ui.docks.values():
        dock.visibilityChanged.connect(dock_shown)
    window.data_file_importer = ui.data_panel.import_file
    if hasattr(window, "themeChanged"):
        def restyle(theme: str, presentation: bool) -> None:
            apply_plot_style(plot_style_for(theme, presentation), [window])

        window.themeChanged.connect(restyle)
        restyle(*window.theme())
    if hasattr(window, "closing"):
        window.closing.connect(run.shutdown)
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(run.shutdown)


def _show_idle(ui: TrainingUI) -> None:
    """Views of the network as it is (opened, reset or changed while not training)."""
    if ui.run.is_running:
        return
    ui.run.static_snapshot()
    ui.refresher.tick(final=True)
