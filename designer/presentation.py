"""Presentation mode in one place: the setting, and the text sizes a class can read.

Presentation mode (View > Presentation mode, F5) is for a teacher projecting the app:
every text the class sees is at least :data:`MIN_TEXT_PX` pixels high, and the figures
that matter (epoch, loss) are larger still.  The sizes live here; who applies them:

- ``designer.themes.apply_theme``: the application font (:data:`FONT_POINTS`), which every
  panel, menu and the status bar inherit, and the stylesheet rules that make headings and
  values larger (:func:`emphasize`, :data:`EMPHASIS`);
- ``designer.canvas.style``: the canvas font and the zoom below which it stops shrinking;
- ``designer.plots.common``: the plots' text (:data:`PLOT_TEXT_PX`);
- ``designer.dock_layout``: wider side docks and a taller bottom row for the larger text
  (``designer.window_layout`` re-fits the docks after a switch);
- ``designer.main_window``: the setting (:data:`SETTINGS_KEY`) and the menu action.

Switching is live both ways: the theme is applied again with the other sizes.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

#: Where the mode is remembered (QSettings).
SETTINGS_KEY = "view/presentation"
#: Body text a class reads from the back of the room: never smaller (pixels at 96 dpi).
MIN_TEXT_PX = 18.0
#: The same in points (what fonts are sized in): 13.5 pt is 18 px at 96 dpi.
MIN_TEXT_PT = MIN_TEXT_PX * 72.0 / 96.0
#: Application font size in points (normal, presentation): 15 pt is 20 px at 96 dpi.
FONT_POINTS = (10.0, 15.0)
#: Text that matters more on a projector, as a factor of the application font: a panel's
#: title ("heading") and the live figures a class watches, epoch and loss ("value").
#: Normal mode draws them at the application font, as before.
EMPHASIS = {"heading": 1.2, "value": 1.4}
#: The lesson bar's train and validation losses above the output plot, in both modes.
LESSON_LOSS_SCALE = 1.5
#: Pixel sizes of plot text (ticks and axis names, titles) in normal and presentation mode.
PLOT_TEXT_PX = {False: (12, 13), True: (20, 22)}

_EMPHASIS_PROPERTY = "emphasis"


def setting_on(value: object) -> bool:
    """The stored setting as a bool (an INI file gives back the text "true")."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def emphasize(widget: QWidget, kind: str) -> QWidget:
    """Mark `widget` as a heading or a value: in presentation mode the theme's
    stylesheet draws it at ``EMPHASIS[kind]`` times the application font, bold.  A rule
    of the stylesheet (not ``setFont``) so that it follows every later switch of the mode."""
    if kind not in EMPHASIS:
        raise ValueError(f"unknown emphasis {kind!r}; choose one of: {', '.join(EMPHASIS)}")
    widget.setProperty(_EMPHASIS_PROPERTY, kind)
    return widget


def emphasis_rules(presentation: bool) -> str:
    """The stylesheet rules behind :func:`emphasize` for one mode (none in normal mode)."""
    if not presentation:
        return ""
    points = FONT_POINTS[1]
    return "\n".join(
        f'*[{_EMPHASIS_PROPERTY}="{kind}"] {{ font-size: {points * scale:.1f}pt; '
        f"font-weight: 600; }}"
        for kind, scale in EMPHASIS.items())


def secondary_font(font: QFont, factor: float = 0.88) -> QFont:
    """A smaller font for secondary text (a description under a name), which stays
    readable on a projector: never below :data:`MIN_TEXT_PT` once `font` is at the
    presentation size."""
    small = QFont(font)
    points = font.pointSizeF()
    if points <= 0:  # a font sized in pixels
        pixels = font.pixelSize() * factor
        if font.pixelSize() >= MIN_TEXT_PX:
            pixels = max(pixels, MIN_TEXT_PX)
        small.setPixelSize(max(8, round(pixels)))
        return small
    size = max(6.0, points * factor)
    if points >= FONT_POINTS[1]:
        size = max(size, MIN_TEXT_PT)
    small.setPointSizeF(size)
    return small
