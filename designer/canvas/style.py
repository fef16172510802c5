"""Colours, fonts and sizes of the canvas, gathered in one object so themes can swap them.

The shell builds a :class:`CanvasStyle` for its light, dark or presentation theme and hands
it to ``scene.set_style(style)``; canvas items never hard-code a colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from PySide6.QtGui import QColor, QFont

from designer.presentation import MIN_TEXT_PX

#: Header colour of a node card for each layer group of ``core.spec.LAYER_SCHEMAS``.
LIGHT_GROUPS = {
    "Input": "#2e7d32",
    "Core": "#1565c0",
    "Convolution": "#6a1b9a",
    "Pooling": "#00838f",
    "Merge": "#ef6c00",
    "Shape": "#5d4037",
    "Regularization": "#ad1457",
    "Normalization": "#ad1457",
    "Other": "#546e7a",
}

DARK_GROUPS = {
    "Input": "#43a047",
    "Core": "#1e88e5",
    "Convolution": "#8e24aa",
    "Pooling": "#00acc1",
    "Merge": "#fb8c00",
    "Shape": "#8d6e63",
    "Regularization": "#d81b60",
    "Normalization": "#d81b60",
    "Other": "#78909c",
}


#: Text on a projected canvas is never drawn smaller than this (pixels at 96 dpi).
PRESENTATION_TEXT_PX = MIN_TEXT_PX
#: The canvas font in presentation mode (points): 21 px, so that the view may zoom out a
#: little (to 0.84) to show a small network whole and its text still reads at 18 px.
PRESENTATION_FONT_PT = 16.0

#: The neuron columns' unit in presentation mode (see ``CanvasStyle.neuron_size``).
PRESENTATION_NEURON_SIZE = 9.0

#: How much larger presentation cards are.
PRESENTATION_SCALE = 1.4
#: How much further apart the cards are drawn in presentation mode: enough that 1.4 times
#: wider cards never overlap at the 200-unit spacing of old projects and keep room for
#: edge labels at 240 (spread on open) or 270 (auto layout).
PRESENTATION_SPREAD = 1.15


@dataclass(frozen=True)
class CanvasStyle:
    """Every colour, font and size the canvas paints with (one theme)."""

    name: str = "light"
    background: str = "#f7f8fa"
    grid_minor: str = "#eceef2"
    grid_major: str = "#dde1e7"
    node_body: str = "#ffffff"
    node_border: str = "#c5cad3"
    node_selected: str = "#ff9800"
    node_shadow: str = "#22000000"
    text: str = "#1f2329"
    text_muted: str = "#5f6670"
    header_text: str = "#ffffff"
    edge: str = "#7b8494"
    edge_selected: str = "#ff9800"
    edge_label: str = "#3c4350"
    edge_label_background: str = "#f7f8fa"
    port: str = "#8a93a3"
    port_hover: str = "#ff9800"
    badge: str = "#d32f2f"
    badge_text: str = "#ffffff"
    warning_badge: str = "#f9a825"
    weight_positive: str = "#1f77b4"
    weight_negative: str = "#f28e2b"
    neuron_fill: str = "#ffffff"
    neuron_border: str = "#7b8494"
    button: str = "#eceff3"
    button_text: str = "#1f2329"
    group_colors: dict[str, str] = field(default_factory=lambda: dict(LIGHT_GROUPS))
    font_family: str = "Sans Serif"
    font_size: float = 9.0
    #: The neuron view's unit of size (its pitch and circles): the font size, except in
    #: presentation mode, where text grows and the neuron columns do not, so that a
    #: Playground-sized network still fits the canvas at a zoom its text reads at.
    neuron_size: float = 9.0
    line_width: float = 1.6
    border_width: float = 1.0
    grid_size: int = 20
    node_width: float = 152.0
    corner_radius: float = 8.0
    max_weight_width: float = 4.0
    #: Scene units per layout unit: bigger presentation cards keep the gaps between them
    #: (saved positions stay as they are; only the drawing is spread out).
    position_scale: float = 1.0

    # -- factories ----------------------------------------------------------------------
    @classmethod
    def light(cls) -> CanvasStyle:
        """The default, bright theme."""
        return cls()

    @classmethod
    def dark(cls) -> CanvasStyle:
        """A dark theme for dim rooms; same geometry as the light one."""
        return cls(
            name="dark", background="#1e2127", grid_minor="#252932", grid_major="#2e333d",
            node_body="#2b303a", node_border="#454c59", node_selected="#ffb74d",
            node_shadow="#55000000", text="#e6e9ef", text_muted="#a3aab6",
            edge="#8c95a6", edge_selected="#ffb74d", edge_label="#c9ced8",
            edge_label_background="#1e2127", port="#9aa3b3", port_hover="#ffb74d",
            badge="#ef5350", warning_badge="#fbc02d", weight_positive="#4fa3e0",
            weight_negative="#f5a05a", neuron_fill="#2b303a", neuron_border="#8c95a6",
            button="#3a404c", button_text="#e6e9ef", group_colors=dict(DARK_GROUPS),
        )

    def presentation(self) -> CanvasStyle:
        """This theme for a projector: larger fonts, thicker lines, higher contrast."""
        darker = self.name == "dark"
        return replace(
            self, name=f"{self.name}-presentation", font_size=PRESENTATION_FONT_PT,
            neuron_size=PRESENTATION_NEURON_SIZE,
            line_width=self.line_width * 1.9, border_width=self.border_width * 2.0,
            node_width=self.node_width * PRESENTATION_SCALE,
            position_scale=self.position_scale * PRESENTATION_SPREAD,
            max_weight_width=self.max_weight_width * 1.6,
            text="#ffffff" if darker else "#000000",
            text_muted="#d8dce3" if darker else "#2a2f36",
            edge="#c0c7d2" if darker else "#444b57",
            node_border="#8c95a6" if darker else "#59606c",
            grid_minor=self.background,
        )

    # -- derived helpers ------------------------------------------------------------
    def color(self, name: str) -> QColor:
        """The QColor of one named field (``style.color("edge")``)."""
        return QColor(getattr(self, name))

    def group_color(self, group: str) -> QColor:
        """Header colour of a layer group, a neutral one for unknown groups."""
        return QColor(self.group_colors.get(group, self.group_colors.get("Other", "#607d8b")))

    def font(self, scale: float = 1.0, bold: bool = False) -> QFont:
        """The canvas font at ``scale`` times the base size (never below the base size
        in presentation mode: every label must read from the back of the room)."""
        if self.is_presentation:
            scale = max(scale, 1.0)
        font = QFont(self.font_family)
        font.setPointSizeF(self.font_size * scale)
        font.setBold(bold)
        return font

    @property
    def min_zoom(self) -> float:
        """The smallest zoom at which the canvas text is still readable on a projector
        (0: no limit outside presentation mode)."""
        if not self.is_presentation:
            return 0.0
        return PRESENTATION_TEXT_PX / math.floor(self.font_size * 96.0 / 72.0)

    @property
    def is_presentation(self) -> bool:
        """True for the projector variants."""
        return self.name.endswith("presentation")


def style_for(theme: str, presentation: bool = False) -> CanvasStyle:
    """The style for a theme name ("light" or "dark"), optionally in presentation mode."""
    base = CanvasStyle.dark() if theme == "dark" else CanvasStyle.light()
    return base.presentation() if presentation else base
