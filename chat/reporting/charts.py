"""Bar charts drawn on the server as SVG: no script, nothing fetched from anywhere else."""

from __future__ import annotations

from html import escape

from chat.reporting.report import shown
from chat.reporting.suppression import Shown

ROW, LABEL_WIDTH, BAR_WIDTH, FIGURE_WIDTH = 22, 150, 300, 110


def bar_chart(title: str, cells: dict[str, Shown], words: dict[str, str]) -> str:
    """Horizontal bars, one per value; a hidden figure is an outlined bar and its words."""
    largest = max((n for n in cells.values() if isinstance(n, int)), default=0) or 1
    width = LABEL_WIDTH + BAR_WIDTH + FIGURE_WIDTH
    height = ROW * (len(cells) + 1) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="15" font-weight="bold" font-size="14">{escape(title)}</text>',
    ]
    for index, (value, figure) in enumerate(cells.items(), start=1):
        parts.append(
            _row(
                index * ROW + 4, words.get(f"reports.value.{value}", value), figure, largest, words
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def _row(y: int, label: str, figure: Shown, largest: int, words: dict[str, str]) -> str:
    text_y = y + 14
    label_text = f'<text x="0" y="{text_y}" font-size="13">{escape(label)}</text>'
    if isinstance(figure, int):
        length = max(1, round(BAR_WIDTH * figure / largest)) if figure else 0
        bar = (
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 6}" '
            'fill="#3b6e8f"/>'
        )
    else:
        bar = (
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{BAR_WIDTH // 20}" height="{ROW - 6}" '
            'fill="none" stroke="#555" stroke-dasharray="2 2"/>'
        )
    figure_text = (
        f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{text_y}" font-size="13">'
        f"{escape(shown(figure, words))}</text>"
    )
    return label_text + bar + figure_text
