"""The report's two charts as inline SVG: decisions over time per session, and denials by reason.

Pure functions of the gathered series; every piece of text from the log is
XML-escaped. The SVG scales with the page (viewBox) and needs no script.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from .gather import KINDS, SessionSeries

#: Colours per kind (approve, deny, escalate, outcome, other), shared with report.css.
KIND_COLOURS = ("#1f9d55", "#d64545", "#e8a317", "#7a8aa6", "#a0a7b4")
#: Which kind a bin shows when it holds several: the one a reviewer most needs to see.
_SEVERITY = (1, 2, 0, 3, 4)  # deny, escalate, approve, outcome, other

#: viewBox widths, close to the size each chart is drawn at beside the other, so text stays at its size.
WIDTH = 620
BARS_WIDTH = 400
_LABEL = 104
_RIGHT = 8


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _when(t: float, *, fine: bool = False) -> str:
    """A UTC time; `fine` adds milliseconds (for logs that span a few seconds)."""
    moment = datetime.fromtimestamp(t, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (f".{moment.microsecond // 1000:03d}" if fine else "")


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def choose_sessions(sessions: Iterable[SessionSeries], limit: int) -> tuple[list[SessionSeries], int]:
    """At most `limit` sessions with readable times, those with the most denials and escalations first
    (then the busiest), drawn in order of their first receipt; and how many were left out."""
    timed = [s for s in sessions if s.times]
    severity = {s.session_id: (sum(1 for k in s.kinds if k in (1, 2)), len(s.times)) for s in timed}
    chosen = sorted(timed, key=lambda s: severity[s.session_id], reverse=True)[:limit]
    chosen.sort(key=lambda s: (min(s.times), s.session_id))
    return chosen, len(timed) - len(chosen)


def timeline_svg(sessions: Iterable[SessionSeries], *, max_lanes: int = 12, bins: int = 96) -> str:
    """One lane per session; each time bin is a bar coloured by its most serious kind, as tall as its count."""
    chosen, left_out = choose_sessions(sessions, max_lanes)
    if not chosen:
        return (f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} 60" xmlns="http://www.w3.org/2000/svg">'
                '<title>No receipt with a readable timestamp</title><text x="0" y="34" class="muted">'
                'No receipt with a readable timestamp to draw.</text></svg>')
    t0 = min(min(s.times) for s in chosen)
    t1 = max(max(s.times) for s in chosen)
    span = max(t1 - t0, 1e-6)
    lane_h, top = 34, 28
    plot_w = WIDTH - _LABEL - _RIGHT
    bin_w = plot_w / bins
    height = top + lane_h * len(chosen) + 34
    counts_per_lane = []
    peak = 1
    for s in chosen:
        cells = [[0] * len(KINDS) for _ in range(bins)]
        for t, k in zip(s.times, s.kinds):
            b = min(bins - 1, int((t - t0) / span * bins))
            cells[b][k] += 1
        counts_per_lane.append(cells)
        peak = max(peak, max(sum(c) for c in cells))
    out = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>Decisions over time, {len(chosen)} session{'s' if len(chosen) != 1 else ''}</title>"]
    for i, (s, cells) in enumerate(zip(chosen, counts_per_lane)):
        y = top + i * lane_h
        base = y + lane_h - 8
        out.append(f'<g class="lane"><title>session {_esc(s.session_id)}: {s.receipts} receipts</title>'
                   f'<text x="0" y="{base - 6}" class="lane-label">{_esc(_short(s.session_id, 13))}</text>'
                   f'<line x1="{_LABEL}" y1="{base}" x2="{WIDTH - _RIGHT}" y2="{base}" class="baseline"/></g>')
        for b, c in enumerate(cells):
            total = sum(c)
            if not total:
                continue
            kind = next(k for k in _SEVERITY if c[k])
            h = 4 + (lane_h - 14) * math.sqrt(total / peak)
            x = _LABEL + b * bin_w
            start, end = t0 + span * b / bins, t0 + span * (b + 1) / bins
            parts = ", ".join(f"{c[k]} {KINDS[k]}" for k in range(len(KINDS)) if c[k])
            out.append(f'<rect x="{x + 0.5:.1f}" y="{base - h:.1f}" width="{max(bin_w - 1, 1.5):.1f}" '
                       f'height="{h:.1f}" rx="1.5" fill="{KIND_COLOURS[kind]}"><title>{_esc(s.session_id)}, '
                       f"{_when(start)} to {_when(end)} UTC: {parts}</title></rect>")
    axis_y = top + lane_h * len(chosen) + 16
    fine = span < 60
    for frac, anchor in ((0.0, "start"), (1.0, "end")):
        x = _LABEL + plot_w * frac
        out.append(f'<text x="{x:.1f}" y="{axis_y}" text-anchor="{anchor}" class="axis">'
                   f"{_when(t0 + span * frac, fine=fine)} UTC</text>")
    legend_x = _LABEL
    for k, name in enumerate(KINDS):
        out.append(f'<rect x="{legend_x}" y="6" width="10" height="10" rx="2" fill="{KIND_COLOURS[k]}"/>'
                   f'<text x="{legend_x + 14}" y="15" class="legend">{name}</text>')
        legend_x += 74
    if left_out:
        out.append(f'<text x="{WIDTH - _RIGHT}" y="15" text-anchor="end" class="muted">'
                   f"{left_out} more session{'s' if left_out != 1 else ''} not drawn</text>")
    out.append("</svg>")
    return "".join(out)


def denials_svg(reasons: Sequence[tuple[str, int]] | Iterable[tuple[str, int]], *, max_bars: int = 10) -> str:
    """Horizontal bars, most frequent reason first; the rest summed as `other reasons`."""
    ranked = sorted(reasons, key=lambda rc: (-rc[1], rc[0]))
    if not ranked:
        return (f'<svg class="chart" role="img" viewBox="0 0 {BARS_WIDTH} 40" xmlns="http://www.w3.org/2000/svg">'
                '<title>No denials</title><text x="0" y="24" class="muted">No call was denied.</text></svg>')
    shown = ranked[:max_bars]
    rest = sum(c for _, c in ranked[max_bars:])
    if rest:
        shown.append((f"{len(ranked) - max_bars} other reasons", rest))
    row_h = 36
    peak = max(c for _, c in shown)
    total = sum(c for _, c in ranked)
    height = len(shown) * row_h + 4
    out = [f'<svg class="chart" role="img" viewBox="0 0 {BARS_WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>Denials by reason ({total})</title>"]
    for i, (reason, count) in enumerate(shown):
        y = 2 + i * row_h
        w = max(3.0, (BARS_WIDTH - 2) * count / peak)
        out.append(f'<g><title>{_esc(reason)}: {count:,}</title>'
                   f'<text x="0" y="{y + 13}" class="bar-label">{_esc(_short(reason, 52))}</text>'
                   f'<text x="{BARS_WIDTH}" y="{y + 13}" text-anchor="end" class="bar-value">{count:,}</text>'
                   f'<rect x="0" y="{y + 18}" width="{w:.1f}" height="10" rx="3" fill="{KIND_COLOURS[1]}"/></g>')
    out.append("</svg>")
    return "".join(out)
