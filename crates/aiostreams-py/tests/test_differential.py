"""Differential test: aiostreams.StreamReader against asyncio.StreamReader, same process.

The cases are random operation sequences in the vocabulary and wire format of the Rust
parity test (crates/aiostreams/tests/reader_parity.rs): feeds, feed_eof, set_exception,
read(n), read(-1), readline, readuntil(sep), readuntil((seps)), readexactly(n), drawn
with the same weights. Each case runs through the parity test's CPython oracle
(crates/aiostreams/tests/support/asyncio_oracle.py) twice: with asyncio's reader and with
ours; every result, the buffer and at_eof() after every operation must be equal.

Environment: AIOSTREAMS_PARITY_SEED (base seed), AIOSTREAMS_PARITY_CASES (count).
"""

import asyncio
import importlib.util
import json
import os
import pathlib
import random
import sys
import unittest

import aiostreams

ROOT = pathlib.Path(__file__).resolve().parents[3]
ORACLE = ROOT / "crates/aiostreams/tests/support/asyncio_oracle.py"
DEFAULT_SEED = 0xA51057EA
DEFAULT_CASES = 2000
COMMON_SEPARATORS = [b"\n", b"\r\n", b"a", b"ab", b"aba", b"\n\n"]


def load_oracle():
    spec = importlib.util.spec_from_file_location("asyncio_oracle", ORACLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Gen:
    """The Rust parity test's case generator, with Python's random."""

    def __init__(self, seed, tuple_separators):
        self.rng = random.Random(seed)
        self.eof = False
        self.tuple_separators = tuple_separators

    def case(self, seed):
        r = self.rng.randrange(10)
        if r <= 6:
            limit = self.rng.randint(1, 16)
        elif r <= 8:
            limit = self.rng.randint(17, 64)
        else:
            limit = 64 * 1024
        ops = [op for i in range(self.rng.randint(1, 24)) if (op := self.op(i)) is not None]
        return {"seed": seed, "limit": limit, "ops": ops}

    def byte(self):
        r = self.rng.randrange(10)
        return b"a" if r <= 3 else b"b" if r <= 6 else b"\n" if r <= 8 else b"\r"

    def bytes(self):
        return b"".join(self.byte() for _ in range(self.rng.randint(0, 12)))

    def separator(self):
        r = self.rng.randrange(50)
        if r == 0:
            return b""
        if r <= 29:
            return self.rng.choice(COMMON_SEPARATORS)
        return b"".join(self.byte() for _ in range(self.rng.randint(1, 3)))

    def op(self, index):
        r = self.rng.randrange(100)
        if r <= 29:
            data = self.bytes()
            if self.eof and self.rng.randrange(10) != 0:
                return None
            return {"op": "feed", "data": data.hex()}
        if r <= 34:
            self.eof = True
            return {"op": "feed_eof"}
        if r <= 36:
            return {"op": "set_exception", "msg": f"boom {index}"}
        if r <= 48:
            return {"op": "readline"}
        if r <= 62:
            return {"op": "readuntil", "sep": self.separator().hex()}
        if r <= 70:
            count = 0 if self.rng.randrange(30) == 0 else self.rng.randint(1, 3)
            seps = [self.separator().hex() for _ in range(count)]
            if not self.tuple_separators:
                return None
            return {"op": "readuntil_any", "seps": seps}
        if r <= 80:
            return {"op": "readexactly", "n": self.rng.randint(0, 20)}
        if r <= 92:
            return {"op": "read", "n": self.rng.randint(0, 20)}
        if self.eof:
            return {"op": "read_all"}
        return None


async def run_both(oracle, cases):
    original = asyncio.StreamReader
    mismatches = []
    for case in cases:
        asyncio.StreamReader = original
        want = await oracle.run_case(case)
        asyncio.StreamReader = aiostreams.StreamReader
        try:
            got = await oracle.run_case(case)
        finally:
            asyncio.StreamReader = original
        if got != want:
            mismatches.append((case, want, got))
    return mismatches


class DifferentialTest(unittest.TestCase):
    def test_reader_matches_asyncio(self):
        oracle = load_oracle()
        base = int(os.environ.get("AIOSTREAMS_PARITY_SEED", DEFAULT_SEED))
        count = int(os.environ.get("AIOSTREAMS_PARITY_CASES", DEFAULT_CASES))
        tuples = asyncio.run(oracle.has_tuple_separators())
        cases = [Gen(base + i, tuples).case(base + i) for i in range(count)]
        kinds = {op["op"] for case in cases for op in case["ops"]}
        expected = {"feed", "feed_eof", "set_exception", "readline", "readuntil",
                    "readexactly", "read", "read_all"} | ({"readuntil_any"} if tuples else set())
        self.assertEqual(kinds, expected, "every operation is drawn")
        mismatches = asyncio.run(run_both(oracle, cases))
        for case, want, got in mismatches[:3]:
            print("case:", json.dumps(case), file=sys.stderr)
            for i, (w, g) in enumerate(zip(want["results"], got["results"])):
                if w != g:
                    print(f"  op {i} {case['ops'][i]}: asyncio {w} aiostreams {g}", file=sys.stderr)
                    break
        print(f"differential: {len(cases)} cases, {len(mismatches)} mismatches", file=sys.stderr)
        self.assertEqual(len(mismatches), 0)


if __name__ == "__main__":
    unittest.main()
