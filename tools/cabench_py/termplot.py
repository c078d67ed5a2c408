"""Unicode terminal charts: braille line charts, horizontal bars and sparklines.

Pure text (plus optional ANSI colours), so they work over SSH with no display.
Every function returns a list of lines without trailing newlines.
"""
import math

from .common import fmt_auto, fmt_num

# Braille dot bits by (column, row) inside a 2x4 cell.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_COLORS = ("31", "33", "32", "36", "35", "34")  # red yellow green cyan magenta blue
# Without colour each series gets its own pen: (name, on, period) draws a dot when
# step % period < on.
_PENS = (("solid", 1, 1), ("dashed", 3, 5), ("dotted", 1, 3), ("sparse", 1, 6))
_EIGHTHS = " ▏▎▍▌▋▊▉"
_SPARKS = "▁▂▃▄▅▆▇█"


def _paint(text, color, use_color):
    return f"\x1b[{color}m{text}\x1b[0m" if use_color and color else text


class _Canvas:
    def __init__(self, cols, rows):
        self.cols, self.rows = cols, rows
        self.w, self.h = cols * 2, rows * 4
        self.bits = [[0] * cols for _ in range(rows)]
        self.color = [[None] * cols for _ in range(rows)]

    def dot(self, x, y, color):
        if 0 <= x < self.w and 0 <= y < self.h:
            r, c = y // 4, x // 2
            self.bits[r][c] |= _DOTS[x % 2][y % 4]
            self.color[r][c] = color

    def line(self, x0, y0, x1, y1, color, pen, step):
        """Bresenham from (x0, y0) to (x1, y1); returns the pen's step counter."""
        _, on, period = pen
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            if step % period < on:
                self.dot(x0, y0, color)
            step += 1
            if x0 == x1 and y0 == y1:
                return step
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text_rows(self, use_color):
        out = []
        for r in range(self.rows):
            cells = []
            for c in range(self.cols):
                b = self.bits[r][c]
                ch = chr(0x2800 + b) if b else " "
                cells.append(_paint(ch, self.color[r][c], use_color) if b else ch)
            out.append("".join(cells))
        return out


def line_chart(title, xs, series, width=60, height=12, use_color=False, log_y=False,
               x_label="Time (seconds)", x_ticks=None, y_fmt=fmt_auto):
    """A braille line chart. `xs`: x positions; `series`: list of (label, values) with
    values aligned to xs (None leaves a gap). log_y plots log10 of the values (> 0 only).
    x_ticks: optional list of (x, label) for the axis (default: up to 4 evenly spaced xs)."""
    def tr(v):
        if v is None:
            return None
        if log_y:
            return math.log10(v) if v > 0 else None
        return v

    ys = [tr(v) for _, vals in series for v in vals]
    ys = [v for v in ys if v is not None]
    lines = [title]
    if not ys or not xs:
        return lines + ["  (no data to plot)"]
    lo, hi = min(ys), max(ys)
    if hi == lo:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    xmin, xmax = min(xs), max(xs)
    single = xmax == xmin
    if single:
        xmin, xmax = xmin - 0.5, xmax + 0.5
    cv = _Canvas(width, height)

    def px(x):
        return int(round((x - xmin) / (xmax - xmin) * (cv.w - 1)))

    def py(y):
        return int(round((hi - y) / (hi - lo) * (cv.h - 1)))

    for i, (_, vals) in enumerate(series):
        color = _COLORS[i % len(_COLORS)]
        pen = _PENS[0] if use_color else _PENS[i % len(_PENS)]
        pts = [(px(x), py(tr(v))) if tr(v) is not None else None for x, v in zip(xs, vals)]
        step = 0
        if single and pts and pts[0] is not None:
            step = cv.line(0, pts[0][1], cv.w - 1, pts[0][1], color, pen, step)
            continue
        for j, p in enumerate(pts):
            if p is None:
                continue
            nxt = pts[j + 1] if j + 1 < len(pts) else None
            prev = pts[j - 1] if j > 0 else None
            if nxt is not None:
                step = cv.line(p[0], p[1], nxt[0], nxt[1], color, pen, step)
            elif prev is None:
                cv.dot(p[0], p[1], color)  # an isolated point

    def label_of(y):
        return y_fmt(10 ** y if log_y else y)

    # A y label on every third row, and on the first and last.
    label_rows = {0, height - 1} | set(range(0, height, 3))
    labels = {}
    for r in label_rows:
        y = hi - (r * 4 + 1.5) / (cv.h - 1) * (hi - lo)
        labels[r] = label_of(min(max(y, lo), hi))
    labels[0], labels[height - 1] = label_of(hi), label_of(lo)
    lw = max(len(s) for s in labels.values())
    rows = cv.text_rows(use_color)
    lines.append(" " * lw + " ┌" + "─" * width + "┐")
    for r, text in enumerate(rows):
        left = labels[r].rjust(lw) + " ┤" if r in labels else " " * lw + " │"
        lines.append(left + text + "│")
    # x axis with ticks
    if x_ticks is None:
        uniq = sorted(set(xs))
        k = min(4, len(uniq))
        picks = [uniq[int(round(i * (len(uniq) - 1) / max(k - 1, 1)))] for i in range(k)]
        x_ticks = [(x, fmt_num(x, 0) if float(x).is_integer() else f"{x:g}") for x in picks]
    axis = ["─"] * width
    under = [" "] * (width + 8)
    for x, lab in x_ticks:
        col = min(width - 1, px(x) // 2)
        axis[col] = "┬"
        start = max(0, min(col - len(lab) // 2, width + 8 - len(lab)))
        if all(c == " " for c in under[max(0, start - 1):start + len(lab) + 1]):
            under[start:start + len(lab)] = lab
    lines.append(" " * lw + " └" + "".join(axis) + "┘")
    lines.append(" " * (lw + 2) + "".join(under).rstrip())
    if x_label:
        lines.append(" " * (lw + 2) + x_label.center(width).rstrip())
    legend = []
    for i, (label, _) in enumerate(series):
        if use_color:
            legend.append(_paint("━━", _COLORS[i % len(_COLORS)], True) + " " + label)
        else:
            legend.append(f"[{_PENS[i % len(_PENS)][0]}] {label}")
    lines.append(" " * (lw + 2) + "   ".join(legend))
    return lines


def sparkline(values, width=60):
    """One character per value (values bucketed by mean to at most `width`); None -> ' '."""
    vals = [v for v in values if v is not None]
    if not vals:
        return ""
    if len(values) > width:
        k = math.ceil(len(values) / width)
        groups = [values[i:i + k] for i in range(0, len(values), k)]
        values = [(sum(v for v in g if v is not None) / len([v for v in g if v is not None]))
                  if any(v is not None for v in g) else None for g in groups]
    lo, hi = min(vals), max(vals)
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif hi == lo:
            out.append(_SPARKS[-1] if hi > 0 else _SPARKS[0])
        else:
            out.append(_SPARKS[int(round((v - lo) / (hi - lo) * (len(_SPARKS) - 1)))])
    return "".join(out)


def bar(value, scale_max, width):
    """A horizontal bar of `width` cells with eighth-block resolution."""
    if value is None or scale_max <= 0:
        return " " * width
    frac = max(0.0, min(1.0, value / scale_max))
    eighths = int(round(frac * width * 8))
    full, part = divmod(eighths, 8)
    s = "█" * full + (_EIGHTHS[part] if part else "")
    return s.ljust(width)


def bar_chart(title, labels, values, scale_max=None, width=42, value_fmt=fmt_auto,
              marks=None, trend_note=""):
    """The reference's per-window bars: a 'Trend:' sparkline, then one row per label:
    '  LABEL [█████   ] VALUE MARK'. None values show as '-'."""
    vals = [v for v in values if v is not None]
    top = scale_max if scale_max is not None else (max(vals) if vals else 0)
    lines = [title, "", f"Trend: {sparkline(values)}{trend_note}", ""]
    lw = max(len(lab) for lab in labels) if labels else 0
    shown = [value_fmt(v) if v is not None else "-" for v in values]
    vw = max(len(s) for s in shown) if shown else 0
    for i, (lab, v, s) in enumerate(zip(labels, values, shown)):
        mark = f" {marks[i]}" if marks and marks[i] else ""
        lines.append(f"  {lab.rjust(lw)} [{bar(v, top, width)}] {s.rjust(vw)}{mark}")
    return lines
