"""The mean-spectrum plot of the HTML report: an SVG drawn by matplotlib, embedded as a ``data:`` URI.

An SVG prints sharply at any size and, shown through ``<img>``, can run no script. The figure is drawn with the
object-oriented API (no pyplot, no global state, no display needed) and written reproducibly: no date, fixed ids,
text as text rather than glyph outlines (spec/html-report.md#mean-spectrum).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np

from hsi_conform.report._inspect import Spectrum

__all__ = ["spectrum_svg"]

_COLORS = {"cube": "#1f5fa8", "white reference": "#8c8c8c", "black reference": "#222222"}


def spectrum_svg(spectra: Sequence[Spectrum]) -> str | None:
    """Return the plot of ``spectra`` on one axis as an SVG ``data:`` URI (None when nothing is finite).

    The x axis is the wavelength in nanometres when every spectrum has wavelengths, else the band number.
    """
    shown = [s for s in spectra if np.isfinite(s.means).any()]
    if not shown:
        return None
    import matplotlib
    from matplotlib.figure import Figure

    nanometres = all(s.nm is not None for s in shown)
    # fixed ids and text as text: the same spectra give the same bytes, and a small file
    with matplotlib.rc_context({"svg.hashsalt": "hsi-conform", "svg.fonttype": "none", "font.size": 9}):
        figure = Figure(figsize=(6.4, 3.0), layout="constrained")
        axes = figure.add_subplot()
        for s in shown:
            x = s.nm if nanometres and s.nm is not None else s.bands
            axes.plot(x, s.means, label=f"{s.label} ({s.pixels} pixels)", color=_COLORS.get(s.label),
                      linewidth=1.2)
        axes.set_xlabel("wavelength (nm)" if nanometres else "band")
        axes.set_ylabel("mean value")
        axes.grid(alpha=0.3)
        axes.legend(loc="best", frameon=False)
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")
