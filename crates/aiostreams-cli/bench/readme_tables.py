#!/usr/bin/env python3
"""The main README's performance tables and targets list, from one `bench` run.

    python3 crates/aiostreams-cli/bench/readme_tables.py \
        --timing docs/bench.json --instructions docs/bench-instructions.json \
        --readme README.md

Rewrites what README.md holds between `<!-- bench-tables:begin -->` and
`<!-- bench-tables:end -->` (without --readme: prints it). Every ratio is the bench's
own: the median of the ratios of runs paired by repetition (`runs` in the JSON, schema
version 2), with their lowest and highest where a target is judged.
"""

import argparse
import json
import statistics
import sys

BEGIN, END = "<!-- bench-tables:begin -->", "<!-- bench-tables:end -->"

MAIN_CELLS = ["echo-1k-c10", "echo-10k-c10", "echo-100k-c10", "echo-1k-c100",
              "lines-x1-c10", "lines-x5-c10", "tls-echo-1k-c10", "tls-handshake-c10"]
OTHERS = ["aiostreams", "asyncio", "uvloop", "py-aiostreams", "py-aiostreams-uvloop"]
BULK = ["bulk-1g", "bulk-echo-1g", "tls-bulk-256m"]
BULK_IMPLS = ["aiostreams", "floor", "asyncio", "uvloop", "py-aiostreams",
              "py-aiostreams-uvloop"]
INSTR_IMPLS = ["aiostreams", "tokio", "tokio-buffered", "redis-server", "asyncio",
               "uvloop", "py-aiostreams", "py-aiostreams-uvloop"]


class Run:
    """One bench JSON file: rows by (cell, impl)."""

    def __init__(self, path):
        with open(path) as f:
            self.report = json.load(f)
        if self.report.get("version") != 2:
            sys.exit(f"{path}: not schema version 2")
        self.rows = {(r["cell"], r["impl"]): r for r in self.report["results"]}

    def row(self, cell, imp):
        return self.rows.get((cell, imp))

    def ratio(self, cell, imp, base, figure):
        """(median, min, max, pairs) of `imp`'s figure over `base`'s, paired by run."""
        a, b = self.row(cell, imp), self.row(cell, base)
        if not a or not b:
            return None
        ratios = [x[figure] / y[figure]
                  for x, y in zip(a.get("runs", [a]), b.get("runs", [b]))
                  if x["errors"] == 0 and y["errors"] == 0
                  and x.get(figure) is not None and y.get(figure)]
        if not ratios:
            return None
        return statistics.median(ratios), min(ratios), max(ratios), len(ratios)


def x(r):
    return "-" if r is None else f"{r[0]:.2f}x"


def xr(r):
    """The median with its range over the paired runs."""
    if r is None:
        return "-"
    if r[3] < 2:
        return x(r)
    return f"{r[0]:.2f}x ({r[1]:.2f}-{r[2]:.2f}, {r[3]} runs)"


def versus(t, cell, imp, base, figures, fmt=x):
    """`fmt` of `imp`'s ratio to `base` in `cell`, one per figure."""
    return [fmt(t.ratio(cell, imp, base, figure)) for figure in figures]


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def target(lines, what, r, limit, at_most=True):
    if r is None:
        lines.append(f"- {what}: not measured")
        return
    shown = round(r[0], 2)  # judged as printed
    met = shown <= limit if at_most else shown >= limit
    sign = "<=" if at_most else ">="
    verdict = "**met**" if met else "**not met**"
    lines.append(f"- {what} (target {sign} {limit}x): {xr(r)}, {verdict}")


def timing_tables(t):
    parts = []
    present = [i for i in OTHERS if any(t.row(c, i) for c in MAIN_CELLS)]
    header = ["cell"] + [f"{i} {f}" for i in present for f in ("req/s", "cpu/req")]
    rows = []
    for c in MAIN_CELLS:
        if not t.row(c, "tokio"):
            continue
        cells = [c]
        for i in present:
            cells += versus(t, c, i, "tokio", ["req_per_s", "server_cpu_us_per_req"])
        rows.append(cells)
    parts.append(table(header, rows))

    rows = []
    for c in ["lines-x1-c10", "lines-x5-c10"]:
        if t.row(c, "tokio-buffered"):
            rows.append([c] + [f(t.ratio(c, i, "tokio-buffered", fig))
                               for i in ("aiostreams", "tokio")
                               for f, fig in ((x, "req_per_s"),
                                              (xr, "server_cpu_us_per_req"))])
    parts.append(table(["lines vs the expert tokio-buffered", "aiostreams req/s",
                        "aiostreams cpu/req", "naive tokio req/s", "naive tokio cpu/req"],
                       rows))

    rows = []
    for c in ["client-echo-1k-c10", "client-pipeline-x16-c10"]:
        base = t.row(c, "tokio")
        if base:
            rows.append([c, x(t.ratio(c, "aiostreams", "tokio", "req_per_s")),
                         xr(t.ratio(c, "aiostreams", "tokio", "client_cpu_us_per_req")),
                         f"{base['client_cpu_us_per_req']:.2f} us"])
    parts.append(table(["client cell (aiostreams client vs expert tokio client)", "req/s",
                        "client cpu/req", "tokio client cpu/req"], rows))

    impls = [i for i in BULK_IMPLS if any(t.row(c, i) for c in BULK)]
    header = ["bulk cell", "tokio GB/s, CPU s/GB"]
    header += [f"{i} {f}" for i in impls for f in ("GB/s", "CPU/GB")]
    rows = []
    for c in BULK:
        base = t.row(c, "tokio")
        if not base:
            continue
        cells = [c, f"{base['gb_per_s']:.2f}, {base['cpu_s_per_gb']:.3f}"]
        for i in impls:
            cells += versus(t, c, i, "tokio", ["gb_per_s", "cpu_s_per_gb"],
                            xr if i == "aiostreams" else x)
        rows.append(cells)
    parts.append(table(header, rows))

    rows = []
    for c in ["resp-p16-c50", "resp-p1-c50"]:
        base = t.row(c, "tokio")
        if not base:
            continue
        rows.append([c, x(t.ratio(c, "aiostreams", "tokio", "req_per_s")),
                     xr(t.ratio(c, "aiostreams", "tokio", "server_cpu_us_per_req")),
                     x(t.ratio(c, "redis-server", "tokio", "req_per_s")),
                     x(t.ratio(c, "redis-server", "tokio", "server_cpu_us_per_req")),
                     f"{base['server_cpu_us_per_req']:.2f} us",
                     xr(t.ratio(c, "aiostreams", "redis-server", "server_cpu_us_per_req"))])
    parts.append(table(["RESP cell (redis-benchmark -t set,get -c 50)", "aiostreams ops/s",
                        "aiostreams cpu/op", "redis-server ops/s", "redis-server cpu/op",
                        "tokio cpu/op", "aiostreams cpu/op vs redis"], rows))

    idle = [(i, t.row("idle-1000", i)) for i in ["aiostreams", "tokio"] + OTHERS[1:]]
    idle = [(i, r) for i, r in idle if r and r.get("rss_bytes_per_conn") is not None]
    if idle:
        parts.append(table(["idle-1000: server RSS per idle connection"] + [i for i, _ in idle],
                           [[""] + [f"{r['rss_bytes_per_conn'] / 1024:.1f} KiB"
                                    for _, r in idle]]))
    return parts


def instruction_table(n):
    cells = []
    for r in n.report["results"]:
        if r["cell"] not in cells:
            cells.append(r["cell"])
    rows = []
    for c in cells:
        counts = []
        for i in INSTR_IMPLS:
            r = n.row(c, i)
            ok = r and r["errors"] == 0 and r.get("instructions_per_req")
            counts.append(f"{r['instructions_per_req']:,.0f}" if ok else "-")
        rows.append([c] + counts + [x(n.ratio(c, "aiostreams", "tokio",
                                                "instructions_per_req"))])
    return table(["cell"] + INSTR_IMPLS + ["aiostreams vs tokio"], rows)


def targets(t, n):
    lines = []
    for c in ["client-echo-1k-c10", "client-pipeline-x16-c10"]:
        target(lines, f"{c}: aiostreams client CPU/req vs expert tokio client",
               t.ratio(c, "aiostreams", "tokio", "client_cpu_us_per_req"), 1.05)
        if n:
            target(lines, f"{c}: client instructions/req vs expert tokio client",
                   n.ratio(c, "aiostreams", "tokio", "instructions_per_req"), 1.05)
    for c in BULK:
        target(lines, f"{c}: GB/s vs tokio", t.ratio(c, "aiostreams", "tokio", "gb_per_s"),
               0.95, at_most=False)
        target(lines, f"{c}: CPU/GB vs tokio",
               t.ratio(c, "aiostreams", "tokio", "cpu_s_per_gb"), 1.05)
    target(lines, "lines-x5-c10 req/s vs tokio-buffered",
           t.ratio("lines-x5-c10", "aiostreams", "tokio-buffered", "req_per_s"), 1.0,
           at_most=False)
    target(lines, "lines-x5-c10 CPU/req vs tokio-buffered",
           t.ratio("lines-x5-c10", "aiostreams", "tokio-buffered", "server_cpu_us_per_req"),
           1.0)
    if n:
        for c in ["echo-1k-c10", "lines-x1-c10"]:
            target(lines, f"{c}: instructions/req vs tokio",
                   n.ratio(c, "aiostreams", "tokio", "instructions_per_req"), 1.5)
    target(lines, "resp-p16-c50: server CPU/op vs redis-server",
           t.ratio("resp-p16-c50", "aiostreams", "redis-server", "server_cpu_us_per_req"), 1.0)
    target(lines, "resp-p16-c50: server CPU/op vs expert tokio",
           t.ratio("resp-p16-c50", "aiostreams", "tokio", "server_cpu_us_per_req"), 1.1)
    target(lines, "resp-p1-c50: server CPU/op vs expert tokio",
           t.ratio("resp-p1-c50", "aiostreams", "tokio", "server_cpu_us_per_req"), 1.05)
    if n:
        for c in ["resp-p16-c50", "resp-p1-c50"]:
            vs_tokio = n.ratio(c, "aiostreams", "tokio", "instructions_per_req")
            vs_redis = n.ratio(c, "aiostreams", "redis-server", "instructions_per_req")
            lines.append(f"- {c}: instructions/op vs tokio {x(vs_tokio)}, "
                         f"vs redis-server {x(vs_redis)}")
    return "\n".join(lines)


PY_CELLS = ["echo-1k-c10", "lines-x1-c10", "lines-x5-c10"]
# Issue 12's targets: (package impl, reference impl, limit), server CPU per request.
PY_TARGETS = [("py-aiostreams", "asyncio", 0.5, "stock loop vs stock asyncio"),
              ("py-aiostreams", "uvloop", 1.0, "stock loop vs uvloop with asyncio's streams"),
              ("py-aiostreams-uvloop", "uvloop", 0.75,
               "on uvloop vs uvloop with asyncio's streams")]


PY_IMPLS = ["asyncio", "uvloop", "py-aiostreams", "py-aiostreams-uvloop"]


def python_table(t, n):
    """Server CPU (and instructions) per request of the four Python servers."""
    rows = []
    for c in PY_CELLS:
        row = [c]
        for imp in PY_IMPLS:
            r = t.row(c, imp)
            cpu = "-" if not r or r.get("server_cpu_us_per_req") is None \
                else f"{r['server_cpu_us_per_req']:.1f} us"
            m = n.row(c, imp) if n else None
            if m and m.get("instructions_per_req"):
                cpu += f", {m['instructions_per_req']:,.0f} instr"
            row.append(cpu)
        rows.append(row)
    return table(["server cpu/req (instructions/req)"] + PY_IMPLS, rows)


def python_targets(t, n):
    """Issue 12's targets for the Python package, cell by cell."""
    lines = [python_table(t, n), ""]
    for c in PY_CELLS:
        for imp, base, limit, what in PY_TARGETS:
            target(lines, f"{c}: {what}, server CPU/req",
                   t.ratio(c, imp, base, "server_cpu_us_per_req"), limit)
            r = n.ratio(c, imp, base, "instructions_per_req") if n else None
            if r:
                lines[-1] += f" (instructions/req {x(r)})"
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timing", required=True, help="`bench --json` of the timing run")
    ap.add_argument("--instructions", help="`bench --instructions --json`")
    ap.add_argument("--readme", help="rewrite the marked block of this file")
    args = ap.parse_args()
    t = Run(args.timing)
    n = Run(args.instructions) if args.instructions else None
    blocks = timing_tables(t)
    if n:
        run = n.report["run"]
        when = run["date"].replace("T", " ").rstrip("Z")
        notes = "".join(f" {note[0].upper()}{note[1:]}." for note in run["notes"]
                        if not note.startswith("load average"))
        blocks.append(f"Instructions per request (`bench --instructions`, callgrind, "
                      f"{when} UTC, load average {run['load_average']:.1f}; RESP with the "
                      f"built-in client; the client cells count the client).{notes}\n\n"
                      + instruction_table(n))
    blocks.append("Targets of issues 16 and 17, from these runs (ratios: the median of "
                  "the runs paired with the reference's, with the lowest and highest):\n\n"
                  + targets(t, n))
    if any(t.row(c, i) for c in PY_CELLS for i in ("py-aiostreams", "py-aiostreams-uvloop")):
        blocks.append("Targets of issue 12 (the Python package; its servers ran 3 paired "
                      "runs per cell), from the same runs:\n\n" + python_targets(t, n))
    text = "\n\n".join(blocks)
    if not args.readme:
        print(text)
        return
    with open(args.readme) as f:
        readme = f.read()
    if readme.count(BEGIN) != 1 or readme.count(END) != 1:
        sys.exit(f"{args.readme}: expected one {BEGIN} and one {END}")
    head, rest = readme.split(BEGIN)
    _, tail = rest.split(END)
    with open(args.readme, "w") as f:
        f.write(f"{head}{BEGIN}\n{text}\n{END}{tail}")


if __name__ == "__main__":
    main()
