#!/usr/bin/env python3
"""Draws bench/results/all.json as an SVG bar chart (Python standard library only).

    chart.py ALL.json OUT.svg

One panel per benchmark; one horizontal bar per measure that has a target, as value / target:
the dashed line is the target (1.0). Green when the target is met, red when missed. For "≤"
targets a bar short of the line is good; for "≥" targets a bar past it. Bars longer than the
axis are cut and marked with ». A "= 0" target has no ratio: its bar is drawn full length.
Measures without a target are counted under the panel, not drawn.
"""

import html
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import fmt_value, parse_target  # noqa: E402

WIDTH = 1100
LABEL_W = 560
BAR_X = LABEL_W + 10
AXIS_MAX = 3.0
BAR_W = WIDTH - BAR_X - 170
ROW_H = 20
GREEN, RED, GREY = "#2e8b57", "#c0392b", "#999999"


def esc(text):
    return html.escape(str(text), quote=True)


def ratio(row):
    parsed = parse_target(row.get("target"))
    value = row.get("value")
    if parsed is None or value is None:
        return None
    bound = parsed[1]
    if bound == 0:
        return 1.0
    return value / bound


def draw(doc):
    parts = []
    y = 60
    for name, rows in doc.get("benchmarks", {}).items():
        drawn = [r for r in rows if r.get("met") is not None or (parse_target(r.get("target")) and r.get("value") is None)]
        untargeted = len(rows) - len(drawn)
        met = sum(1 for r in drawn if r.get("met") is True)
        parts.append(f'<text x="10" y="{y}" class="h">{esc(name)}: {met} of {len(drawn)} targets met'
                     f'{f", {untargeted} measures without a target" if untargeted else ""}</text>')
        y += 10
        top = y
        for r in drawn:
            label = r["measure"] if len(r["measure"]) <= 92 else r["measure"][:89] + "…"
            parts.append(f'<text x="{LABEL_W}" y="{y + 14}" class="l" text-anchor="end">{esc(label)}</text>')
            q = ratio(r)
            color = GREEN if r.get("met") is True else RED if r.get("met") is False else GREY
            if q is None:
                parts.append(f'<text x="{BAR_X + 4}" y="{y + 14}" class="v">no value</text>')
            else:
                length = max(1.0, min(q, AXIS_MAX) / AXIS_MAX * BAR_W)
                parts.append(f'<rect x="{BAR_X}" y="{y + 3}" width="{length:.1f}" height="{ROW_H - 6}" fill="{color}">'
                             f'<title>{esc(r["measure"])}: {esc(fmt_value(r["value"]))} {esc(r["unit"])} '
                             f'(target {esc(r["target"])}; {q:.3g} × target)</title></rect>')
                if q > AXIS_MAX:
                    parts.append(f'<text x="{BAR_X + BAR_W - 14}" y="{y + 14}" class="c">»</text>')
                parts.append(f'<text x="{BAR_X + BAR_W + 8}" y="{y + 14}" class="v">'
                             f'{esc(fmt_value(r["value"]))} {esc(r["unit"])} ({esc(r["target"])})</text>')
            y += ROW_H
        if drawn:
            x1 = BAR_X + BAR_W / AXIS_MAX
            parts.append(f'<line x1="{x1:.1f}" y1="{top}" x2="{x1:.1f}" y2="{y}" class="t"/>')
            for tick in range(int(AXIS_MAX) + 1):
                x = BAR_X + tick * BAR_W / AXIS_MAX
                parts.append(f'<text x="{x:.1f}" y="{y + 12}" class="a" text-anchor="middle">{tick}×</text>')
            y += 20
        y += 24
    meta = doc.get("machine", {})
    title = (f'GovOffice benchmarks — {esc(doc.get("time", ""))}, commit {esc((doc.get("git_commit") or "?")[:10])}'
             f'{" (dirty)" if doc.get("git_dirty") else ""}, {esc(meta.get("cpus", "?"))} CPUs {esc(meta.get("cpu", ""))}')
    failed = doc.get("failed") or []
    head = [f'<text x="10" y="22" class="title">{title}</text>',
            '<text x="10" y="40" class="l">bar = value / target (dashed line = target); green: met, red: missed'
            + (f'; failed to run: {esc(", ".join(failed))}' if failed else "") + '</text>']
    height = y + 10
    style = """<style>
text { font-family: DejaVu Sans, Arial, sans-serif; fill: #222; }
.title { font-size: 15px; font-weight: bold; } .h { font-size: 13px; font-weight: bold; }
.l { font-size: 10.5px; } .v { font-size: 10.5px; } .a { font-size: 9px; fill: #666; }
.c { font-size: 12px; fill: #fff; font-weight: bold; }
.t { stroke: #333; stroke-dasharray: 4 3; stroke-width: 1; }
</style>"""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">\n'
            f'<rect width="100%" height="100%" fill="#fff"/>\n{style}\n' + "\n".join(head + parts) + "\n</svg>\n")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: chart.py ALL.json OUT.svg")
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(draw(doc))
    print(f"(chart written to {os.path.relpath(sys.argv[2])})")


if __name__ == "__main__":
    main()
