#!/usr/bin/env python3
"""Every public function of aiostreams' public API has a running example.

Reads rustdoc's JSON output of the library (what docs.rs would show, all features on)
and lists each public function or method, reachable from the crate root, whose docs
have no `# Examples` section holding a Rust block that runs as a doctest (a block
marked `ignore`, `no_run`, `compile_fail` or another language does not count).

Counted: free functions, methods of the crate's own types (inherent impls), and the
methods declared by the crate's own public traits. Not counted: implementations of
other crates' traits (AsyncRead, Stream, Debug...) and items re-exported from other
crates (`Bytes`, `tls::rustls`): their docs live there.

Usage: python3 .ci/doc_examples.py target/doc/aiostreams.json [--list-all]
Exit status 1 when any function lacks a running example (CI runs it; see .ci/run).
"""

import json
import re
import sys

# Words rustdoc accepts in a Rust block's info string. Any other word names another
# language (text, python, console...), and the block is not a doctest.
RUST_WORDS = {"rust", "should_panic", "standalone_crate", "test_harness"}
NOT_RUN = {"ignore", "no_run", "compile_fail"}
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```+|~~~+)\s*(.*)$")


def running_block(info):
    words = [w for w in re.split(r"[\s,]+", info.strip()) if w]
    for w in words:
        if w in NOT_RUN or w.startswith("ignore-"):
            return False
        if w in RUST_WORDS or re.fullmatch(r"edition\d{4}|E\d{4}", w):
            continue
        return False  # another language
    return True


def example_state(docs):
    """'ok', 'not-run' (an Examples section without a running block) or 'missing'."""
    in_examples = None  # level of the Examples heading while inside its section
    seen_section = False
    fence = None
    for line in (docs or "").splitlines():
        m = FENCE.match(line)
        if fence is not None:
            if m and m.group(1).startswith(fence) and not m.group(2).strip():
                fence = None
            continue
        if m:
            fence = m.group(1)
            if in_examples is not None and running_block(m.group(2)):
                return "ok"
            continue
        h = HEADING.match(line)
        if h:
            level = len(h.group(1))
            if in_examples is not None and level <= in_examples:
                in_examples = None
            if h.group(2).lower() in ("example", "examples"):
                in_examples = level
                seen_section = True
    return "not-run" if seen_section else "missing"


def public_functions(doc):
    index = doc["index"]
    get = lambda i: index.get(str(i))  # noqa: E731
    found = {}  # id -> display path
    seen = set()

    def ours(item):
        return item is not None and item["crate_id"] == 0

    def add_fn(fid, path):
        item = get(fid)
        if ours(item) and "function" in item["inner"]:
            found.setdefault(fid, path)

    def visit(iid, path):
        item = get(iid)
        if not ours(item) or iid in seen:
            return
        seen.add(iid)
        inner = item["inner"]
        kind = next(iter(inner))
        if kind == "use":
            use = inner["use"]
            target = use.get("id")
            if target is None:
                return
            if use.get("is_glob"):
                visit(target, path)
            else:
                visit_named(target, path, use["name"])
            return
        visit_named(iid, path, item["name"])

    def visit_named(iid, path, name):
        item = get(iid)
        if not ours(item):
            return
        seen.add(iid)
        inner = item["inner"]
        kind = next(iter(inner))
        here = f"{path}::{name}" if path else name
        if kind == "module":
            for child in inner["module"]["items"]:
                visit(child, here)
        elif kind == "function":
            add_fn(iid, here)
        elif kind in ("struct", "enum", "union"):
            for impl_id in inner[kind]["impls"]:
                impl = get(impl_id)
                if not ours(impl):
                    continue
                imp = impl["inner"]["impl"]
                if imp.get("trait") is not None or imp.get("is_synthetic") or imp.get("blanket_impl"):
                    continue
                for m in imp["items"]:
                    mi = get(m)
                    if mi is not None and mi.get("visibility") == "public":
                        add_fn(m, f"{here}::{mi['name']}")
        elif kind == "trait":
            for m in inner["trait"]["items"]:
                mi = get(m)
                if mi is not None:
                    add_fn(m, f"{here}::{mi['name']}")

    root = get(doc["root"])
    for child in root["inner"]["module"]["items"]:
        visit(child, "aiostreams")
    return {fid: (path, get(fid)) for fid, path in found.items()}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    with open(args[0]) as f:
        doc = json.load(f)
    try:
        fns = public_functions(doc)
    except (KeyError, TypeError, AttributeError, StopIteration) as e:
        sys.exit(
            f"doc_examples: rustdoc JSON format {doc.get('format_version')} not understood "
            f"({e!r}): update .ci/doc_examples.py"
        )
    rows = []
    for path, item in sorted(fns.values(), key=lambda p: p[0]):
        state = example_state(item.get("docs"))
        span = item.get("span") or {}
        where = f"{span.get('filename', '?')}:{(span.get('begin') or ['?'])[0]}"
        rows.append((state, path, where))
    bad = [r for r in rows if r[0] != "ok"]
    if "--list-all" in sys.argv:
        for state, path, where in rows:
            print(f"{state:8} {path}  ({where})")
    for state, path, where in bad:
        what = "no # Examples" if state == "missing" else "no running doctest in # Examples"
        print(f"{path}: {what}  ({where})")
    print(f"doc_examples: {len(rows)} public functions, {len(bad)} without a running example")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
