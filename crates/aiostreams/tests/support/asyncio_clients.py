"""CPython asyncio stream clients: the peers of tests/server_interop.rs.

Usage:  python3 asyncio_clients.py HOST PORT COUNT SEED

Opens COUNT connections at once with asyncio.open_connection. Each one sends its own
random payload, half-closes with write_eof(), reads everything back until EOF while it
is still sending (so a full socket buffer on either side cannot deadlock), and checks
what came back byte for byte against what it sent.

Payload sizes are random up to 1 MiB, from random.Random(SEED), so a run is repeatable;
the first connections get the edge sizes in EDGE_SIZES. Prints one JSON object on stdout:

  {"connections": COUNT, "ok": <verified connections>, "bytes_sent": <total>,
   "bytes_verified": <total echoed back intact>, "errors": ["conn 3: ...", ...]}

and exits 0 when every connection was verified, 1 otherwise. The whole run is bounded by
TIMEOUT seconds (the Rust test bounds it too, and kills the process when it is dropped).
"""

import asyncio
import json
import random
import sys

MAX_SIZE = 1 << 20
EDGE_SIZES = [0, 1, 65535, 65536, 65537, MAX_SIZE]
CHUNK = 64 * 1024
TIMEOUT = 60


def payloads(count, seed):
    rng = random.Random(seed)
    sizes = [EDGE_SIZES[i] if i < len(EDGE_SIZES) else rng.randint(0, MAX_SIZE)
             for i in range(count)]
    return [rng.randbytes(size) for size in sizes]


def first_difference(got, want):
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return i
    return min(len(got), len(want))


async def send(writer, payload):
    writer.write(payload)
    await writer.drain()
    writer.write_eof()


async def receive(reader):
    chunks = []
    while True:
        chunk = await reader.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


async def echo_one(host, port, payload):
    """Returns the number of bytes verified; raises on any mismatch or error."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        _, got = await asyncio.gather(send(writer, payload), receive(reader))
    finally:
        writer.close()
        await writer.wait_closed()
    if got != payload:
        raise AssertionError(
            f"echo differs: sent {len(payload)} bytes, got {len(got)}, "
            f"first difference at offset {first_difference(got, payload)}")
    return len(got)


async def run(host, port, count, seed):
    sent = payloads(count, seed)
    results = await asyncio.wait_for(
        asyncio.gather(*(echo_one(host, port, p) for p in sent), return_exceptions=True),
        TIMEOUT)
    errors = [f"conn {i}: {type(r).__name__}: {r}"
              for i, r in enumerate(results) if isinstance(r, BaseException)]
    verified = [r for r in results if not isinstance(r, BaseException)]
    return {
        "connections": count,
        "ok": len(verified),
        "bytes_sent": sum(len(p) for p in sent),
        "bytes_verified": sum(verified),
        "errors": errors,
    }


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: asyncio_clients.py HOST PORT COUNT SEED")
    host, port, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    summary = asyncio.run(run(host, port, count, seed))
    print(json.dumps(summary), flush=True)
    sys.exit(0 if summary["ok"] == count else 1)


if __name__ == "__main__":
    main()
