"""The four stream examples of the asyncio documentation ("Streams" page), as written
there except that host and port are parameters (tests use ephemeral loopback ports).
They use asyncio's names only: after aiostreams.install() they run on aiostreams."""

import asyncio
import socket


async def tcp_echo_client(message, host="127.0.0.1", port=8888):
    reader, writer = await asyncio.open_connection(host, port)

    print(f"Send: {message!r}")
    writer.write(message.encode())
    await writer.drain()

    data = await reader.read(100)
    print(f"Received: {data.decode()!r}")

    print("Close the connection")
    writer.close()
    await writer.wait_closed()
    return data.decode()


async def handle_echo(reader, writer):
    data = await reader.read(100)
    message = data.decode()
    addr = writer.get_extra_info("peername")

    print(f"Received {message!r} from {addr!r}")

    print(f"Send: {message!r}")
    writer.write(data)
    await writer.drain()

    print("Close the connection")
    writer.close()
    await writer.wait_closed()


async def echo_server(host="127.0.0.1", port=8888):
    server = await asyncio.start_server(handle_echo, host, port)
    addrs = ", ".join(str(sock.getsockname()) for sock in server.sockets)
    print(f"Serving on {addrs}")
    return server  # the docs then run `async with server: await server.serve_forever()`


async def print_http_headers(host, port=80, path="/"):
    reader, writer = await asyncio.open_connection(host, port)
    query = f"HEAD {path or '/'} HTTP/1.0\r\nHost: {host}\r\n\r\n"
    writer.write(query.encode("latin-1"))
    headers = []
    while True:
        line = await reader.readline()
        if not line:
            break
        line = line.decode("latin1").rstrip()
        if line:
            print(f"HTTP header> {line}")
            headers.append(line)
        else:
            break

    # Ignore the body, close the socket
    writer.close()
    await writer.wait_closed()
    return headers


async def wait_for_data():
    # Get a reference to the current event loop because
    # we want to access low-level APIs.
    loop = asyncio.get_running_loop()

    # Create a pair of connected sockets.
    rsock, wsock = socket.socketpair()

    # Register the open socket to wait for data.
    reader, writer = await asyncio.open_connection(sock=rsock)

    # Simulate the reception of data from the network
    loop.call_soon(wsock.send, "abc".encode())

    # Wait for data
    data = await reader.read(100)

    # Got data, we are done: close the socket
    print("Received:", data.decode())
    writer.close()
    await writer.wait_closed()

    # Close the second socket
    wsock.close()
    return data
