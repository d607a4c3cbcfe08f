"""Section 5, interpretation: the evidence items with their figures, and every figure no other section shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fmnist_report.report import content


def build(
    evidence: Sequence[Mapping[str, Any]],
    by_section: Mapping[str, list[dict[str, str]]],
    by_name: Mapping[str, dict[str, str]],
) -> dict[str, Any]:
    """Section 5's values: the evidence items with their figures, then every figure no section placed."""
    used: set[str] = set()
    items = []
    for item in evidence:
        missing = [n for n in item.get("figures", []) if n not in by_name]
        if missing:
            raise ValueError(
                f"interpretation item {item.get('id')!r} shows figure {missing[0]!r}, which no figure function made"
            )
        used.update(item.get("figures", []))
        items.append(
            {
                "id": item["id"],
                "claim": item["claim"],
                "title": item.get("title", ""),
                "paragraphs": list(item.get("paragraphs", [])),
                "figures": [by_name[n] for n in item.get("figures", [])],
                "tables": [
                    {
                        "caption": t["caption"],
                        "columns": list(t["columns"]),
                        "rows": [list(r) for r in t["rows"]],
                    }
                    for t in item.get("tables", [])
                ],
            }
        )
    # No figure is dropped: any the study's sections do not place and no item shows comes here.
    extra = [
        fig
        for section, figs in by_section.items()
        if section not in content.PLACED_SECTIONS
        for fig in figs
        if fig["name"] not in used
    ]
    return {"evidence": items, "extra_figures": extra}
