"""The bench's CPython server: asyncio streams, written as the asyncio docs write them.

    python3 asyncio_server.py --mode echo|lines|discard [--host H] [--port P] [--uvloop]
                              [--aiostreams] [--tls-cert PEM --tls-key PEM]

Prints "Serving on HOST:PORT" (flushed) once listening; serves until killed.
echo: read(65536) + write + drain until EOF. lines: readline + write + drain until EOF.
With --aiostreams the aiostreams Python package (crates/aiostreams-py) replaces asyncio's
streams first (aiostreams.install()): the same script then measures py-aiostreams.
With --tls-cert and --tls-key it serves TLS: start_server(..., ssl=context), the context
an ssl.SSLContext(PROTOCOL_TLS_SERVER) with load_cert_chain(cert, key).
"""

import argparse
import asyncio
import ssl
import sys


async def echo(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()


async def lines(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()


async def discard(reader, writer):
    while await reader.read(65536):
        pass


MODES = {"echo": echo, "lines": lines, "discard": discard}


def handler(mode):
    serve = MODES[mode]

    async def client_connected(reader, writer):
        try:
            await serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return client_connected


async def main(args):
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    server = await asyncio.start_server(
        handler(args.mode), args.host, args.port, ssl=context
    )
    for sock in server.sockets:
        host, port = sock.getsockname()[:2]
        print(f"Serving on {host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=sorted(MODES), required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--aiostreams", action="store_true")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if args.aiostreams:
        import aiostreams

        aiostreams.install()
    try:
        asyncio.run(main(args))
    except KeyboardInterrupt:
        sys.exit(0)
