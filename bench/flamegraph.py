#!/usr/bin/env python3
"""Folds `perf script` output into stacks and draws a flame graph as SVG (no FlameGraph scripts needed).

    perf record -F 499 -g -p PID -o perf.data -- sleep 60
    perf script -i perf.data | bench/flamegraph.py --title "..." OUT   # writes OUT.folded and OUT.svg

The folded file is the usual `frame;frame;frame count` format, readable by other flame graph tools.
"""
import argparse
import html
import re
import sys
import zlib
from collections import Counter


def fold(lines):
    stacks = Counter()
    frames = []
    in_sample = False
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                stacks[";".join(reversed(frames))] += 1
            frames, in_sample = [], False
            continue
        if not line.startswith((" ", "\t")):
            in_sample = True  # the sample header: comm pid time: period event:
            frames = []
            continue
        if in_sample:
            parts = line.strip().split(" ", 1)
            name = parts[1] if len(parts) > 1 else parts[0]
            name = re.sub(r" \(.*\)$", "", name)
            name = re.sub(r"\+0x[0-9a-f]+$", "", name)
            frames.append(name.replace(";", ":") or "[unknown]")
    if frames:
        stacks[";".join(reversed(frames))] += 1
    return stacks


def color(name):
    h = zlib.crc32(name.encode())
    if "swift" in name.lower() or name.startswith("$s"):
        return f"rgb({205 + h % 50},{100 + h % 80},{40 + h % 40})"
    if "[k]" in name or "kernel" in name:
        return f"rgb({200 + h % 55},{150 + h % 60},{60})"
    return f"rgb({220 + h % 35},{80 + h % 100},{50 + h % 30})"


def svg(stacks, title, width=1600, row=16):
    total = sum(stacks.values()) or 1
    tree = {}
    for stack, count in stacks.items():
        node = tree
        for frame in stack.split(";"):
            entry = node.setdefault(frame, [0, {}])
            entry[0] += count
            node = entry[1]
    depth = [0]

    def measure(node, d):
        depth[0] = max(depth[0], d)
        for _, (_, children) in node.items():
            measure(children, d + 1)

    measure(tree, 1)
    height = (depth[0] + 3) * row
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">',
           f'<text x="10" y="14">{html.escape(title)} ({total} samples)</text>']

    def draw(node, x, d):
        for name, (count, children) in sorted(node.items()):
            w = count / total * (width - 20)
            y = height - (d + 1) * row
            if w >= 0.3:
                label = html.escape(name)
                pct = count / total * 100
                out.append(f'<g><title>{label} ({count} samples, {pct:.2f}%)</title>'
                           f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{row - 1}" fill="{color(name)}"/>')
                chars = int(w / 7)
                if chars > 3:
                    text = name if len(name) <= chars else name[: chars - 2] + ".."
                    out.append(f'<text x="{x + 2:.2f}" y="{y + row - 4}">{html.escape(text)}</text>')
                out.append("</g>")
                draw(children, x, d + 1)
            x += w

    draw(tree, 10, 1)
    out.append("</svg>")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out", help="output prefix: OUT.folded and OUT.svg")
    parser.add_argument("--title", default="flame graph")
    parser.add_argument("--folded", action="store_true", help="read folded stacks instead of perf script output")
    args = parser.parse_args()
    if args.folded:
        stacks = Counter()
        for line in sys.stdin:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            stacks[";".join(re.sub(r"\+0x[0-9a-f]+$", "", f) for f in stack.split(";"))] += int(count)
    else:
        stacks = fold(sys.stdin)
    with open(args.out + ".folded", "w") as f:
        for stack, count in sorted(stacks.items()):
            f.write(f"{stack} {count}\n")
    with open(args.out + ".svg", "w") as f:
        f.write(svg(stacks, args.title))
    print(f"{sum(stacks.values())} samples, {len(stacks)} stacks -> {args.out}.folded, {args.out}.svg")


if __name__ == "__main__":
    main()
