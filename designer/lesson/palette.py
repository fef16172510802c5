"""Colours for lesson plots: Okabe and Ito's palette, distinguishable with the common
forms of colour blindness (and in greyscale by its order of lightness)."""

from __future__ import annotations

#: Okabe & Ito (2008), "Color Universal Design": blue, vermillion, bluish green, orange,
#: reddish purple, sky blue, yellow, black.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")


def series_colors(count: int) -> list[str]:
    """``count`` colours for overlaid curves (the palette repeats after eight)."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(count)]
