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

#: Weights and maps: (positive, negative). The default is TensorFlow Playground's blue
#: and orange, which already stays apart for the three dichromacies (CIE76 difference
#: 87-120, see :func:`separation` and docs/lesson-tools.md) but differs little in
#: lightness (21.6 L*), so it fades on a washed-out projector or in greyscale print.
#: The colour-blind-safe choice keeps the hues and doubles the lightness difference
#: (a darker blue, a lighter orange: 78-121 and 42.6 L*).
DEFAULT_PAIR = ((8, 119, 189), (245, 147, 34))
SAFE_PAIR = ((8, 69, 148), (241, 163, 64))

# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
_CVD = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                   (0.004733, 0.691367, 0.303900)),
}


def _linear(rgb: tuple[int, int, int]) -> list[float]:
    out = []
    for c in rgb:
        c = c / 255.0
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return out


def _lab(lin: list[float]) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of linear sRGB."""
    r, g, b = (min(max(v, 0.0), 1.0) for v in lin)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def _simulate(lin: list[float], kind: str) -> list[float]:
    m = _CVD[kind]
    return [sum(m[i][j] * lin[j] for j in range(3)) for i in range(3)]


def separation(a: tuple[int, int, int], b: tuple[int, int, int]) -> dict[str, float]:
    """CIE76 colour difference of ``a`` and ``b`` for normal vision, the three
    dichromacies, and greyscale (lightness only)."""
    la, lb = _linear(a), _linear(b)
    out = {"normal": _delta(_lab(la), _lab(lb))}
    for kind in _CVD:
        out[kind] = _delta(_lab(_simulate(la, kind)), _lab(_simulate(lb, kind)))
    out["greyscale"] = abs(_lab(la)[0] - _lab(lb)[0])
    return out


def _delta(p: tuple[float, float, float], q: tuple[float, float, float]) -> float:
    return sum((x - y) ** 2 for x, y in zip(p, q, strict=True)) ** 0.5
