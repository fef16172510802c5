"""Animated GIFs from frames, with Pillow; Qt-free.

Why Pillow: it is small, pure of native dependencies beyond its own wheels, maintained
for decades, and writes GIFs (palette, frame durations, looping) in one call. MP4 would
need FFmpeg (through imageio-ffmpeg or PyAV, tens of MB of native code) for a format a
slide deck plays no better than a GIF, so the designer writes GIFs only.
Pillow is the optional extra ``slides`` (``pip install ann-designer[slides]``); without it
the export says how to get it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

INSTALL_HINT = "Animated GIFs need Pillow: pip install pillow (or the 'slides' extra)."
MAX_FPS = 50.0  # GIF delays are in hundredths of a second; browsers clamp below 0.02 s


class AnimationError(RuntimeError):
    """Why an animation cannot be written (one line for people)."""


def write_gif(frames: Sequence[np.ndarray], path: str | Path, fps: float) -> Path:
    """Write RGB frames ``(H, W, 3)`` uint8 as a looping GIF at ``fps`` frames a second."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise AnimationError(INSTALL_HINT) from exc
    if not frames:
        raise AnimationError("There are no frames to write.")
    fps = min(max(float(fps), 0.1), MAX_FPS)
    images = [Image.fromarray(np.ascontiguousarray(f[..., :3]), "RGB") for f in frames]
    # One palette for all frames keeps colours steady; it is made from a strip of every
    # frame (shrunk), so colours that appear only later are in it too.
    strip = np.concatenate([np.asarray(im.resize((64, 64))) for im in images], axis=0)
    palette = Image.fromarray(strip, "RGB").quantize(colors=255,
                                                     method=Image.Quantize.MEDIANCUT)
    indexed = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    path = Path(path)
    indexed[0].save(path, save_all=True, append_images=indexed[1:],
                    duration=int(round(1000 / fps)), loop=0, optimize=False)
    return path
