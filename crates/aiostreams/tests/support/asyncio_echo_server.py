"""A CPython asyncio streams server: the peer of tests/interop_asyncio.rs.

Usage:  python3 asyncio_echo_server.py MODE [ARGS]

It binds 127.0.0.1 port 0 with asyncio.start_server, prints the port on the first line of
stdout, then serves every connection in MODE until it is killed or its stdin closes (so it
never outlives the test that started it):

* echo            read chunks and write them back (drain after each); on EOF, write_eof()
                  and close: the client sees every byte back, then EOF.
* sink-report     read to EOF, then answer one line "<count> <sha256 hex> eof=<True|False>"
                  and close: the half-close check (the client wrote EOF and still reads).
* source N SEED   send generate(N, SEED) and close.

generate(n, seed) is xorshift64 (13, 7, 17) started at `seed` (0 becomes 1), each state
written as 8 little-endian bytes, cut to n bytes. tests/interop_asyncio.rs has the same
generator.
"""

import asyncio
import hashlib
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from payload import generate  # noqa: E402  (shared with the other peer scripts)

CHUNK = 64 * 1024


async def finish(writer):
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def echo(reader, writer):
    while chunk := await reader.read(CHUNK):
        writer.write(chunk)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()
    await finish(writer)


async def sink_report(reader, writer):
    digest = hashlib.sha256()
    count = 0
    while chunk := await reader.read(CHUNK):
        digest.update(chunk)
        count += len(chunk)
    writer.write(f"{count} {digest.hexdigest()} eof={reader.at_eof()}\n".encode())
    await finish(writer)


def source(data):
    async def handler(reader, writer):
        writer.write(data)
        await finish(writer)

    return handler


def handler_for(argv):
    mode, args = argv[0], argv[1:]
    if mode == "echo" and not args:
        return echo
    if mode == "sink-report" and not args:
        return sink_report
    if mode == "source" and len(args) == 2:
        return source(generate(int(args[0]), int(args[1])))
    sys.exit(f"usage: {sys.argv[0]} echo | sink-report | source N SEED")


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


async def main(argv):
    handler = handler_for(argv)
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(f"usage: {sys.argv[0]} echo | sink-report | source N SEED")
    asyncio.run(main(sys.argv[1:]))
