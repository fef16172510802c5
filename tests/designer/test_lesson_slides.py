"""Slides: views to PNG/SVG at a size, a run as a GIF, the colour-blind-safe palette."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage

from designer.lesson.animation import write_gif
from designer.lesson.palette import DEFAULT_PAIR, SAFE_PAIR, separation
from tests.designer.training_windows import ui_of, wait_idle


@pytest.mark.parametrize("name", ["Canvas", "Output", "Loss curves", "Explain"])
def test_a_view_exports_to_png_and_svg_at_the_chosen_size(window, tmp_path, name):
    slides = window.lesson_ui.slides
    png = slides.export_view(name, str(tmp_path / "view.png"), QSize(640, 400))
    image = QImage(str(png))
    assert (image.width(), image.height()) == (640, 400)
    colours = {image.pixel(x, y) for x in range(0, 640, 16) for y in range(0, 400, 16)}
    assert len(colours) > 1  # something was drawn
    svg = slides.export_view(name, str(tmp_path / "view.svg"), QSize(640, 400))
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and 'width="' in text


def test_a_views_dock_offers_the_export_in_its_context_menu(window):
    dock = ui_of(window).docks["Output"]
    texts = [a.text() for a in dock.actions()]
    assert "Export Output view…" in texts
    names = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "Export &view…" in names and "Export run as &GIF…" in names


def test_a_run_becomes_a_gif_with_a_frame_per_snapshot(window, qtbot, tmp_path):
    from PIL import Image
    ui = ui_of(window)
    ui.run.train(epochs=3)
    wait_idle(qtbot, ui)
    panel = window.lesson_ui.runs
    panel.runs.setCurrentRow(0)
    snaps = window.document.runs[0]["snapshots"]
    path = window.lesson_ui.slides.export_gif("Output", str(tmp_path / "run.gif"),
                                              QSize(320, 240), fps=5)
    with Image.open(path) as gif:
        assert gif.n_frames == len(snaps) and gif.size == (320, 240)
        assert gif.info["duration"] == 200
    assert not window.session.previewing  # back to the current weights


def test_write_gif_keeps_frames_apart():
    from PIL import Image
    frames = [np.full((8, 10, 3), v, np.uint8) for v in (0, 128, 255)]
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = write_gif(frames, f"{folder}/a.gif", 10)
        with Image.open(path) as gif:
            seen = []
            for i in range(gif.n_frames):
                gif.seek(i)
                seen.append(np.asarray(gif.convert("RGB"))[0, 0, 0])
    assert seen == [0, 128, 255]


def test_the_safe_palette_stays_apart_for_colour_blind_eyes_and_in_greyscale():
    safe, default = separation(*SAFE_PAIR), separation(*DEFAULT_PAIR)
    assert min(v for k, v in safe.items() if k != "greyscale") > 70
    assert safe["greyscale"] > 1.8 * default["greyscale"]


def test_palette_switch_recolours_weights_and_maps_and_back(window):
    slides = window.lesson_ui.slides
    before = window.scene.style.weight_positive
    lut_before = np.array(ui_of(window).boundary._lut)
    slides.palette_action.setChecked(True)
    assert window.scene.style.weight_positive == QColor(*SAFE_PAIR[0]).name()
    assert not np.array_equal(ui_of(window).boundary._lut, lut_before)
    window.set_theme("dark")  # a theme change keeps the choice
    assert window.scene.style.weight_positive == QColor(*SAFE_PAIR[0]).name()
    window.set_theme("light")
    slides.palette_action.setChecked(False)
    assert window.scene.style.weight_positive == before
    np.testing.assert_array_equal(ui_of(window).boundary._lut, lut_before)
