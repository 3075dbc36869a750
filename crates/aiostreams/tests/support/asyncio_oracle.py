"""Runs StreamReader test cases through CPython's asyncio: the oracle of tests/reader_parity.rs.

Protocol (one process for a whole batch):

* First it writes one header line:
  {"python": "3.11.7", "tuple_separators": false}
  `tuple_separators` tells whether this asyncio has readuntil((sep1, sep2, ...)) (3.13+).
* Then it reads test cases from stdin, one JSON object per line:
  {"limit": 10, "mode": "aiostreams", "ops": [{"op": "feed", "data": "6162"}, ...]}
  `mode` (optional): "asyncio" (the default) runs asyncio.StreamReader as it is;
  "aiostreams" adds aiostreams' one documented difference in reads (README, "Where we
  differ"; `aiostreams::sansio::Mode::Aiostreams`), modelled by `DiscardOverlongLine`.
  ops: feed(data hex), feed_eof, set_exception(msg), read(n >= 0), read_all (read(-1)),
  readline, readuntil(sep hex), readuntil_any(seps: [hex]), readexactly(n).
* For each case it writes one JSON line:
  {"results": [...one per op...], "buffer": hex, "at_eof": bool, "exception": bool}
  Each result is {"ok": hex or null, ...}, {"err": kind, ...fields, "msg": str(exc)} or
  {"blocked": true, ...}, followed by the reader's buffer ("buf", hex) and at_eof() ("eof")
  after the op.

A read that cannot complete from the buffer runs as a task; the loop gets a few iterations
and if the task is still waiting it is cancelled and recorded as blocked. A read that can
complete never suspends in asyncio, so one iteration is already enough. Cancelling leaves
the buffer unchanged for every read except read(-1), which loses what it gathered; the
generator therefore emits read_all only after feed_eof, when it cannot block.

Replay a case by hand:  echo '<case json>' | python3 asyncio_oracle.py
"""

import asyncio
import json
import platform
import sys

SPIN = 3  # loop iterations a read gets before it counts as blocked


class Boom(Exception):
    """The exception given to set_exception (the Rust side uses Error::custom)."""


def error(exc):
    if isinstance(exc, asyncio.IncompleteReadError):
        return {"err": "incomplete_read", "partial": exc.partial.hex(),
                "expected": exc.expected, "msg": str(exc)}
    if isinstance(exc, asyncio.LimitOverrunError):
        return {"err": "limit_overrun", "consumed": exc.consumed, "msg": str(exc)}
    if isinstance(exc, ValueError):
        return {"err": "value_error", "msg": str(exc)}
    if isinstance(exc, AssertionError):
        return {"err": "feed_after_eof", "msg": str(exc)}
    if isinstance(exc, Boom):
        return {"err": "custom", "msg": str(exc)}
    # Anything else is unexpected: report it so the comparison fails loudly.
    return {"err": "python_" + type(exc).__name__, "msg": str(exc)}


def start_read(reader, op):
    kind = op["op"]
    if kind == "read":
        return reader.read(op["n"])
    if kind == "read_all":
        return reader.read(-1)
    if kind == "readline":
        return reader.readline()
    if kind == "readuntil":
        return reader.readuntil(bytes.fromhex(op["sep"]))
    if kind == "readuntil_any":
        return reader.readuntil(tuple(bytes.fromhex(s) for s in op["seps"]))
    if kind == "readexactly":
        return reader.readexactly(op["n"])
    raise KeyError(kind)


async def run_read(reader, op):
    task = asyncio.ensure_future(start_read(reader, op))
    for _ in range(SPIN):
        if task.done():
            break
        await asyncio.sleep(0)
    if not task.done():
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return {"blocked": True}
    exc = task.exception()
    if exc is not None:
        return error(exc)
    return {"ok": task.result().hex()}


def run_sync(reader, rules, op):
    kind = op["op"]
    try:
        if kind == "feed":
            rules.feed_data(bytes.fromhex(op["data"]))
        elif kind == "feed_eof":
            reader.feed_eof()
        elif kind == "set_exception":
            reader.set_exception(Boom(op["msg"]))
        else:
            return None
    except Exception as exc:  # noqa: BLE001 - every outcome is data here
        return error(exc)
    return {"ok": None}


NOT_FOUND = "Separator is not found, and chunk exceed the limit"


class DiscardOverlongLine:
    """aiostreams' rule for an over-long line, around a real asyncio.StreamReader.

    After readline() raised "not found" (the line's newline had not arrived), asyncio
    returns the later pieces of that line as if they were a line; aiostreams drops them
    through the newline. Everything else is asyncio's own code.
    """

    def __init__(self, reader):
        self.reader = reader
        self.discarding = False

    def feed_data(self, data):
        if self.discarding and not self.reader._eof:  # after EOF asyncio's assertion stands
            newline = data.find(b"\n")
            if newline < 0:
                data = b""
            else:
                data = data[newline + 1:]
                self.discarding = False
        self.reader.feed_data(data)

    def after_read(self, op, result):
        if (op["op"] == "readline" and result.get("err") == "value_error"
                and result["msg"] == NOT_FOUND and not self.reader._eof):
            self.discarding = True


class Asyncio:
    """asyncio.StreamReader exactly as it is."""

    def __init__(self, reader):
        self.reader = reader

    def feed_data(self, data):
        self.reader.feed_data(data)

    def after_read(self, op, result):
        pass


MODES = {"asyncio": Asyncio, "aiostreams": DiscardOverlongLine}


async def run_case(case):
    reader = asyncio.StreamReader(limit=case["limit"])
    rules = MODES[case.get("mode", "asyncio")](reader)
    results = []
    for op in case["ops"]:
        result = run_sync(reader, rules, op)
        if result is None:
            result = await run_read(reader, op)
            rules.after_read(op, result)
        result["buf"] = bytes(reader._buffer).hex()
        result["eof"] = reader.at_eof()
        results.append(result)
    return {
        "results": results,
        "buffer": bytes(reader._buffer).hex(),
        "at_eof": reader.at_eof(),
        "exception": reader.exception() is not None,
    }


async def has_tuple_separators():
    # readuntil(tuple) arrived in 3.13; older versions call bytearray.find(tuple): TypeError.
    reader = asyncio.StreamReader()
    reader.feed_data(b"a")
    reader.feed_eof()
    try:
        return await reader.readuntil((b"a",)) == b"a"
    except TypeError:
        return False


async def serve(run_case, header):
    """The oracle loop both oracles share: print the header line, then answer each case
    (one JSON line on stdin) with its results (one JSON line on stdout)."""
    print(json.dumps(header), flush=True)
    out = sys.stdout
    for line in sys.stdin:
        if line.strip():
            out.write(json.dumps(await run_case(json.loads(line)), separators=(",", ":")))
            out.write("\n")
    out.flush()


async def main():
    await serve(run_case, {"python": platform.python_version(),
                           "tuple_separators": await has_tuple_separators()})


if __name__ == "__main__":
    asyncio.run(main())
