"""matplotlib for the tools that write image files (tools/plot, tools/limits).

import_pyplot() loads matplotlib with the Agg backend (no display) and
cabench's figure defaults; save() writes a figure in several formats with
reproducible SVG output. Both raise ToolError (one line) instead of a
traceback. matplotlib is Debian's python3-matplotlib, imported only when a
tool draws an image.
"""
import os

from .common import Failure, ToolError

INSTALL_HINT = "apt-get install python3-matplotlib"


def import_pyplot():
    """matplotlib.pyplot with the Agg backend; raises ToolError when it is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        import sys
        raise Failure(f"{sys.executable} has no matplotlib; install it: {INSTALL_HINT}")
    plt.rcParams.update({"svg.hashsalt": "cabench", "font.size": 9})
    return plt


def save(fig, path_stem, formats, written, dpi=110):
    """Writes fig to PATH_STEM.FMT for each of `formats` ('png', 'svg'), appending the
    paths to `written`; SVG files carry no date, so equal figures give equal files."""
    for fmt in formats:
        path = f"{path_stem}.{fmt}"
        meta = {"Date": None} if fmt == "svg" else {}
        try:
            fig.savefig(path, format=fmt, dpi=dpi, metadata=meta)
        except OSError as e:
            raise ToolError(f"cannot write {path}: {e.strerror}")
        written.append(path)


def no_data(ax, message):
    """An empty axes that says why there is nothing to draw."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            fontsize=9, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def output_stem(out_dir, stem, suffix):
    return os.path.join(out_dir, f"{stem}.{suffix}")
