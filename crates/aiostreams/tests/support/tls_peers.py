"""CPython TLS peers (asyncio streams and http.server): the other side of tests/tls_interop/.

Usage:  python3 tls_peers.py MODE ARGS...

* echo-server CERT KEY SEED
      asyncio.start_server(ssl=context) on 127.0.0.1 port 0; prints the port, then for each
      connection echoes every chunk back (drain after each) until EOF and prints one line
      "received N match=True|False version=V cipher=C": whether the N bytes received are
      generate(N, SEED). Runs until killed or until its stdin closes.
* greet-server CERT KEY
      as echo-server, but each connection first gets "Hello from CPython <n>\n" (n counts
      connections from 1), sent as soon as the handshake is done, before anything is read.
* echo-client CA PORT N SEED
      asyncio.open_connection('127.0.0.1', PORT, ssl=context trusting CA only,
      server_hostname='localhost'); sends generate(N, SEED) while reading N bytes back,
      checks every byte, prints "version=V cipher=C bits=B" and "ok N", closes.
* hello-client CA PORT [SERVER_NAME]
      the asyncio docs' echo client over TLS: sends 'Hello World!', prints the reply
      (read(100)) and then its local port, closes.
* https-server CERT KEY DIR
      http.server serving DIR over TLS on 127.0.0.1 port 0; prints the port, runs until
      killed or until its stdin closes.

Client contexts verify the certificate chain and the host name (ssl.create_default_context
with VERIFY_X509_STRICT where available, as Python 3.13 does by default). generate(n, seed)
is xorshift64 (13, 7, 17) from `seed` (0 becomes 1), each state as 8 little-endian bytes,
cut to n bytes; tests/support/payload.rs has the same generator (used by tests/tls_interop/).
"""

import asyncio
import functools
import http.server
import os
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from payload import generate  # noqa: E402  (shared with the other peer scripts)

CHUNK = 64 * 1024
TIMEOUT = 60


def client_context(ca):
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    context.verify_flags |= getattr(ssl, "VERIFY_X509_STRICT", 0)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    return context


def server_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def exit_when_stdin_closes():
    def wait():
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=wait, daemon=True).start()


def tls_summary(writer):
    name, version, bits = writer.get_extra_info("cipher")
    return f"version={version} cipher={name} bits={bits}"


async def echo_server(cert, key, seed, greet=False):
    connections = 0

    async def echo(reader, writer):
        nonlocal connections
        connections += 1
        if greet:
            writer.write(f"Hello from CPython {connections}\n".encode())
        received = bytearray()
        while chunk := await reader.read(CHUNK):
            received += chunk
            writer.write(chunk)
            await writer.drain()
        match = bytes(received) == generate(len(received), seed)
        name, version, _ = writer.get_extra_info("cipher")
        print(f"received {len(received)} match={match} version={version} cipher={name}",
              flush=True)
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server_context(cert, key))
    print(server.sockets[0].getsockname()[1], flush=True)
    exit_when_stdin_closes()
    async with server:
        await server.serve_forever()


async def echo_client(ca, port, n, seed):
    data = generate(n, seed)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=client_context(ca), server_hostname="localhost")

    async def send():
        for at in range(0, n, CHUNK):
            writer.write(data[at:at + CHUNK])
            await writer.drain()

    sender = asyncio.ensure_future(send())
    got = await reader.readexactly(n)
    await sender
    if got != data:
        at = next(i for i in range(n) if got[i] != data[i])
        sys.exit(f"byte {at} differs: got {got[at]}, sent {data[at]}")
    print(tls_summary(writer))
    print(f"ok {n}", flush=True)
    writer.close()
    await writer.wait_closed()


async def hello_client(ca, port, server_name=None):
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=client_context(ca), server_hostname=server_name)
    writer.write(b"Hello World!")
    await writer.drain()
    data = await reader.read(100)
    print(data.decode())
    print(writer.get_extra_info("sockname")[1], flush=True)
    writer.close()
    await writer.wait_closed()


def https_server(cert, key, directory):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.socket = server_context(cert, key).wrap_socket(httpd.socket, server_side=True)
    print(httpd.server_address[1], flush=True)
    exit_when_stdin_closes()
    httpd.serve_forever()


def main(argv):
    mode, args = (argv[0], argv[1:]) if argv else ("", [])
    if mode == "echo-server" and len(args) == 3:
        asyncio.run(echo_server(args[0], args[1], int(args[2])))
    elif mode == "greet-server" and len(args) == 2:
        asyncio.run(echo_server(args[0], args[1], 0, greet=True))
    elif mode == "echo-client" and len(args) == 4:
        run = echo_client(args[0], int(args[1]), int(args[2]), int(args[3]))
        asyncio.run(asyncio.wait_for(run, TIMEOUT))
    elif mode == "hello-client" and len(args) in (2, 3):
        run = hello_client(args[0], int(args[1]), *args[2:])
        asyncio.run(asyncio.wait_for(run, TIMEOUT))
    elif mode == "https-server" and len(args) == 3:
        https_server(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
