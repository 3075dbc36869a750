#!/usr/bin/env python3
"""On each type's docs page, the constructors come first.

Reads the HTML that `cargo doc` wrote for aiostreams and, for every struct and enum of
the crate (items re-exported from other crates, such as `Bytes`, are theirs), checks
that no method is listed above a constructor. A constructor is an associated function
without a `self` receiver that returns `Self` or the type (`Result<Self, _>` included).

rustdoc lists a type's methods in the order it meets their impl blocks: the modules
holding them in declaration order, a module's own impls after its submodules'. So a
constructor that must come first lives in a module declared first (`reader/new.rs`).

Usage: python3 .ci/doc_order.py target/doc/aiostreams [--list]
Exit status 1 when a constructor is listed after a method (CI runs it; see .ci/run).
"""

import glob
import html
import os
import re
import sys

SECTION = re.compile(r'<section id="method\.([A-Za-z_0-9]+)" class="method">(.*?)</h4>', re.S)
RECEIVER = re.compile(r"\s*(mut\s+)?(&('\w+\s+)?(mut\s+)?)?self\b")


def methods(page):
    """(name, is_constructor) of the inherent methods, in the page's order."""
    with open(page) as f:
        text = f.read()
    if "src/aiostreams/" not in text:
        return None  # another crate's item, re-exported
    inherent = text.split('id="trait-implementations"')[0]
    type_name = os.path.basename(page).split(".")[1]
    out = []
    for name, header in SECTION.findall(inherent):
        sig = html.unescape(re.sub(r"<[^>]+>", "", header))
        args = sig.split("(", 1)[1] if "(" in sig else ""
        ret = sig.rsplit("->", 1)[1] if "->" in sig else ""
        ctor = not RECEIVER.match(args) and re.search(rf"\b(Self|{type_name})\b", ret) is not None
        out.append((name, ctor))
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    root = args[0]
    pages = sorted(glob.glob(os.path.join(root, "**", "struct.*.html"), recursive=True))
    pages += sorted(glob.glob(os.path.join(root, "**", "enum.*.html"), recursive=True))
    if not pages:
        sys.exit(f"doc_order: no docs under {root} (run cargo doc first)")
    bad = 0
    for page in pages:
        ms = methods(page)
        if not ms:
            continue
        first_method = next((i for i, (_, ctor) in enumerate(ms) if not ctor), len(ms))
        late = [n for i, (n, ctor) in enumerate(ms) if ctor and i > first_method]
        where = os.path.relpath(page, root)
        if late:
            bad += 1
            print(f"{where}: constructor(s) {', '.join(late)} listed after {ms[first_method][0]}")
        if "--list" in sys.argv:
            print(f"  {where}: " + " ".join(n + ("*" if c else "") for n, c in ms))
    print(f"doc_order: {len(pages)} pages, {bad} with a constructor below a method")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
