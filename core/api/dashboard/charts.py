"""Inline SVG charts drawn on the server: no script and no library in the browser."""

from html import escape

WIDTH, HEIGHT = 240, 44
COMPLETED, FAILED = "#3a9d5d", "#d1453b"


def throughput(completed: list[int], failed: list[int], label: str) -> str:
    """Stacked bars, one per minute, oldest on the left (the lists are newest first): completed
    below, failed on top, scaled to the busiest minute."""
    minutes = len(completed)
    peak = max([c + f for c, f in zip(completed, failed, strict=True)] + [1])
    bar = WIDTH / minutes
    parts = [(f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
              f'height="{HEIGHT}" role="img" aria-label="{escape(label)}">'),
             (f'<line x1="0" y1="{HEIGHT - 0.5}" x2="{WIDTH}" y2="{HEIGHT - 0.5}" '
              'stroke="#bbb" stroke-width="1"/>')]
    for ago in range(minutes):
        done, bad = completed[ago], failed[ago]
        if not done and not bad:
            continue
        x = (minutes - 1 - ago) * bar
        done_h = HEIGHT * done / peak
        bad_h = HEIGHT * bad / peak
        parts.append(f'<g><title>{ago} min ago: {done} completed, {bad} failed</title>')
        if done:
            parts.append(_rect(x, HEIGHT - done_h, bar, done_h, COMPLETED))
        if bad:
            parts.append(_rect(x, HEIGHT - done_h - bad_h, bar, bad_h, FAILED))
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _rect(x: float, y: float, width: float, height: float, color: str) -> str:
    return (f'<rect x="{x:.2f}" y="{y:.2f}" width="{max(width - 0.6, 0.6):.2f}" '
            f'height="{height:.2f}" fill="{color}"/>')
