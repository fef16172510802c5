"""The gradient-norm plot's log axis: text on decades only, never crowded."""

from __future__ import annotations

import numpy as np
import pytest

from designer.plots.weights import DecadeAxis, WeightsView


@pytest.fixture
def axis(qtbot):
    return DecadeAxis("left")


def test_one_decade_labels_its_two_ends_and_keeps_minor_ticks_unlabelled(axis) -> None:
    levels = axis.logTickValues(-2.0, -1.0, 200, [])
    assert levels[0] == (1.0, [-2.0, -1.0])
    assert np.allclose(levels[1][1], [-2 + np.log10(k) for k in range(2, 10)])


def test_many_decades_in_a_short_axis_are_thinned(axis) -> None:
    spacing, major = axis.logTickValues(-12.0, 0.0, 100, [])[0]
    assert spacing == 4.0 and major == [-12.0, -8.0, -4.0, 0.0]


def test_the_weights_view_uses_it_with_text_on_the_first_level_only(qtbot) -> None:
    view = WeightsView()
    qtbot.addWidget(view)
    left = view.norm_plot.getAxis("left")
    assert isinstance(left, DecadeAxis)
    assert left.logMode and left.style["maxTextLevel"] == 0


def test_the_kernel_heatmap_numbers_its_cells_at_their_centres(qtbot) -> None:
    from designer.plots.weights import index_ticks

    assert index_ticks(2) == [(0.5, "0"), (1.5, "1")]
    assert [text for _, text in index_ticks(784)] == [str(i) for i in range(0, 784, 100)]
    assert len(index_ticks(8)) == 8 and len(index_ticks(9)) == 5  # 0, 2, 4, 6, 8
    view = WeightsView()
    qtbot.addWidget(view)
    view._draw_arrays("h", np.zeros((2, 8), np.float32), None)
    left = view.heatmap.getAxis("left")
    assert left._tickLevels == [[(0.5, "0"), (1.5, "1")]]
    assert len(view.heatmap.getAxis("bottom")._tickLevels[0]) == 8
