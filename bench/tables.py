"""The Markdown table every bench script prints: one row per dict, columns in first-seen order."""

from __future__ import annotations


def markdown(table: list[dict]) -> str:
    columns = list(dict.fromkeys(k for row in table for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table:
        lines.append("| " + " | ".join("" if row.get(c) is None else str(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)
