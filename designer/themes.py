"""Light and dark themes, and a presentation mode for projectors.

A theme is a QPalette (so every standard widget follows it), a small stylesheet for the
few places where the palette is not enough (dock titles, the palette list, the status
bar), and a CanvasStyle for the scene, which paints its own items.  Presentation mode
makes the same theme louder for a classroom wall: larger fonts, thicker lines and full
contrast (pure black on white, or white on black).  The sizes of presentation mode
live in :mod:`designer.presentation`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from designer.presentation import FONT_POINTS, LESSON_LOSS_SCALE, emphasis_rules

THEMES = ("light", "dark")
#: The docks' font weight: regular to the eye, but not equal to the application font.
#: A QDockWidget whose font equals the application's draws its title with a copy of
#: the font taken when the dock was made, so after a switch of presentation mode the
#: titles of every dock made before it kept the old size; with a font of its own the
#: title follows the stylesheet's ``QDockWidget::title`` rule below.
DOCK_WEIGHT = 401
_BASE_FONT_PROPERTY = "annDesignerBaseFont"


@dataclass(frozen=True)
class Colors:
    """The handful of colours a theme is made of."""

    window: str
    base: str
    alternate: str
    text: str
    muted: str
    button: str
    border: str
    highlight: str
    highlight_text: str
    error: str
    warning: str
    ok: str
    disabled: str  # text of disabled controls: clearly apart from text, still readable


_COLORS = {
    ("light", False): Colors("#f3f4f6", "#ffffff", "#f7f8fa", "#1d2127", "#5f6670",
                             "#e9ebef", "#c9ced6", "#2f6fde", "#ffffff", "#c62828",
                             "#b26a00", "#2e7d32", "#9aa0a8"),
    ("dark", False): Colors("#25282e", "#1c1e23", "#23262c", "#e4e6ea", "#9aa1ab",
                            "#30343b", "#454a53", "#4c8dff", "#ffffff", "#ff6b6b",
                            "#ffb74d", "#66bb6a", "#6b7079"),
    ("light", True): Colors("#ffffff", "#ffffff", "#f2f2f2", "#000000", "#303030",
                            "#e6e6e6", "#000000", "#0043ce", "#ffffff", "#b00000",
                            "#8a4b00", "#006400", "#8c8c8c"),
    ("dark", True): Colors("#000000", "#000000", "#111111", "#ffffff", "#e0e0e0",
                           "#1e1e1e", "#ffffff", "#5aa0ff", "#000000", "#ff5252",
                           "#ffc107", "#69f0ae", "#7a7a7a"),
}


def colors(theme: str, presentation: bool = False) -> Colors:
    """The colours of `theme` ("light" or "dark"); ValueError names the choices."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; choose one of: {', '.join(THEMES)}")
    return _COLORS[(theme, bool(presentation))]


def build_palette(theme: str, presentation: bool = False) -> QPalette:
    """A complete QPalette for the theme, including the disabled group."""
    c = colors(theme, presentation)
    role = QPalette.ColorRole
    palette = QPalette()
    for r, value in ((role.Window, c.window), (role.WindowText, c.text), (role.Base, c.base),
                     (role.AlternateBase, c.alternate), (role.Text, c.text),
                     (role.Button, c.button), (role.ButtonText, c.text),
                     (role.ToolTipBase, c.base), (role.ToolTipText, c.text),
                     (role.PlaceholderText, c.muted), (role.Highlight, c.highlight),
                     (role.HighlightedText, c.highlight_text), (role.Link, c.highlight),
                     (role.BrightText, c.error), (role.Mid, c.border), (role.Dark, c.border),
                     (role.Light, c.base), (role.Midlight, c.alternate), (role.Shadow, c.border)):
        palette.setColor(r, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        # not c.muted: presentation mode keeps hints almost as bright as the text, and
        # a disabled Pause or Stop button must not look pressable on a projector
        palette.setColor(disabled, r, QColor(c.disabled))
    return palette


def build_stylesheet(theme: str, presentation: bool = False) -> str:
    """The few rules the palette cannot express; thicker borders in presentation mode."""
    c = colors(theme, presentation)
    border = 2 if presentation else 1
    pad = 6 if presentation else 4
    points = FONT_POINTS[bool(presentation)]
    return f"""
QDockWidget::title {{
    background: {c.button}; padding: {pad}px {pad + 2}px;
    border-bottom: {border}px solid {c.border}; font-weight: 600; font-size: {points:g}pt;
}}
QDockWidget {{ font-weight: {DOCK_WEIGHT}; }}
QTreeView, QListView, QTableView {{
    border: {border}px solid {c.border}; background: {c.base};
}}
QTreeView::item, QListView::item {{ padding: {pad // 2}px 2px; }}
QLineEdit {{
    border: {border}px solid {c.border}; border-radius: 3px; padding: 2px 4px;
    background: {c.base}; color: {c.text};
}}
QLineEdit:focus {{ border: {border + 1}px solid {c.highlight}; }}
QLineEdit[invalid="true"] {{ border: {border + 1}px solid {c.error}; }}
QStatusBar {{ border-top: {border}px solid {c.border}; }}
QStatusBar QLabel {{ padding: 0 {pad + 2}px; }}
QLabel#statusValid {{ color: {c.ok}; font-weight: 600; }}
QLabel#statusInvalid {{ color: {c.error}; font-weight: 600; }}
QLabel#statusLock {{ color: {c.warning}; font-weight: 600; }}
QLabel#inspectorTitle {{ font-weight: 600; font-size: {points + 2:g}pt; }}
QLabel#lessonLosses {{ font-weight: 700; font-size: {points * LESSON_LOSS_SCALE:g}pt; }}
QLabel#hint {{ color: {c.muted}; }}
QLabel#fieldError {{ color: {c.error}; }}
QMenu::separator {{ height: {border}px; background: {c.border}; margin: 4px 8px; }}
QToolTip {{ color: {c.text}; background: {c.base}; border: {border}px solid {c.border}; }}
{emphasis_rules(presentation)}
"""


def apply_theme(app: QApplication, theme: str, presentation: bool = False,
                scene=None) -> None:
    """Apply the theme to the whole application and, if given, to the canvas scene."""
    app.setStyle("Fusion")  # the same look on every platform, and it honours the palette
    app.setPalette(build_palette(theme, presentation))
    app.setFont(_font(app, presentation))
    # Hand the new font to every widget before the stylesheet changes: Qt posts the
    # font change, and a first stylesheet set while it is still queued leaves every
    # widget that already existed (palette, inspector, problems, menus, status bar) at
    # the old size for good; a window started in presentation mode showed them at 9 pt.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.ApplicationFontChange)
    app.setStyleSheet(build_stylesheet(theme, presentation))
    if scene is not None:
        apply_canvas_style(scene, theme, presentation)


def apply_canvas_style(scene, theme: str, presentation: bool = False) -> None:
    """Give the scene the CanvasStyle matching the theme (it paints its own items)."""
    style = canvas_style(theme, presentation)
    if style is not None and hasattr(scene, "set_style"):
        scene.set_style(style)


def canvas_style(theme: str, presentation: bool = False):
    """The canvas's CanvasStyle for this theme, or None when the canvas has no styles."""
    try:
        from designer.canvas.style import style_for
    except ImportError:  # the canvas is optional for the panels' own tests
        return None
    # Presentation cards are larger (text readable from the back of the room) and are
    # drawn further apart (CanvasStyle.position_scale), so saved places never overlap.
    return style_for(theme, presentation)


def _font(app: QApplication, presentation: bool) -> QFont:
    """The application font at the size of the mode, keeping the platform's family."""
    base = app.property(_BASE_FONT_PROPERTY)
    if not isinstance(base, QFont):
        base = QFont(app.font())
        app.setProperty(_BASE_FONT_PROPERTY, base)
    font = QFont(base)
    font.setPointSizeF(FONT_POINTS[1] if presentation else FONT_POINTS[0])
    return font
