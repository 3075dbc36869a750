"""Writes coalesced until the task waits (`_native.Outbox`), on both loops: the writes a
task makes between two waits leave in one send, in order, and nothing written waits
forever; everything asyncio programs observe besides the number of sends stays asyncio's.

Sends are counted on the peer: `tcpi_data_segs_in` (Linux TCP_INFO) counts the data
segments a socket received, and asyncio's transports set TCP_NODELAY, so each send is a
segment on loopback. Each count is also taken with asyncio's own streams, which must
show the sends the check is there to see."""

import asyncio
import os
import socket
import struct
import unittest

import aiostreams

from test_behaviour import LoopCase
from test_selector import asyncio_own_streams

# struct tcp_info: tcpi_data_segs_in (Linux >= 4.6).
DATA_SEGS_IN = 152


def data_segments_in(sock):
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return struct.unpack_from("I", info, DATA_SEGS_IN)[0]


async def peer(port):
    """A plain non-blocking client socket connected to `port`."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    return sock


async def receive(sock, n):
    """Exactly `n` bytes from `sock` (bounded by the test's timeout)."""
    loop = asyncio.get_running_loop()
    got = b""
    while len(got) < n:
        chunk = await loop.sock_recv(sock, n - len(got))
        if not chunk:
            break
        got += chunk
    return got


async def receive_all(sock):
    loop = asyncio.get_running_loop()
    got = b""
    while chunk := await loop.sock_recv(sock, 65536):
        got += chunk
    return got


class Coalesce:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.asyncio = asyncio_own_streams()

    def sends(self, streams, handler, request, answer_len):
        """Data segments the peer receives for `answer_len` bytes answered to `request`."""

        async def main():
            server = await streams.start_server(handler, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            sock = await peer(port)
            try:
                before = data_segments_in(sock)
                await asyncio.get_running_loop().sock_sendall(sock, request)
                got = await receive(sock, answer_len)
                self.assertEqual(len(got), answer_len)
                return data_segments_in(sock) - before, got
            finally:
                sock.close()
                server.close()

        return self.run_async(main())

    def test_five_writes_then_a_waiting_read_are_one_send(self):
        lines = b"".join(b"%099d\n" % i for i in range(5))

        def handler(streams):
            async def serve(reader, writer):
                for _ in range(5):
                    line = await reader.readline()
                    writer.write(line)
                    await writer.drain()
                await reader.read()
                writer.close()

            return serve

        ours, got = self.sends(aiostreams, handler(aiostreams), lines, len(lines))
        self.assertEqual(got, lines)
        theirs, _ = self.sends(self.asyncio, handler(self.asyncio), lines, len(lines))
        self.assertEqual((ours, theirs), (1, 5))

    def test_writelines_and_mixed_types_keep_their_order_in_one_send(self):
        async def serve(reader, writer):
            await reader.readline()
            data = bytearray(b"ba")
            writer.write(b"a")
            writer.write(data)
            data[:] = b"XX"  # copied when written, as asyncio's transports copy it
            writer.writelines([b"c", memoryview(b"de"), bytearray(b"f")])
            writer.write(b"")
            writer.write(b"g\n")
            await reader.read()
            writer.close()

        # "more" is still to be read while the writes are made: they are kept (with
        # nothing left to read, each write would go at once, as asyncio's).
        sends, got = self.sends(aiostreams, serve, b"go\nmore", 9)
        self.assertEqual((sends, got), (1, b"abacdefg\n"))

    def test_a_write_before_a_wait_that_is_not_a_read_still_arrives(self):
        async def main():
            written = asyncio.Event()

            async def serve(reader, writer):
                writer.write(b"hello")
                await asyncio.sleep(3600)  # not a read: the loop's fallback sends it

            server = await aiostreams.start_server(serve, "127.0.0.1", 0)
            sock = await peer(server.sockets[0].getsockname()[1])
            try:
                return await asyncio.wait_for(receive(sock, 5), 10)
            finally:
                sock.close()
                server.close()

        self.assertEqual(self.run_async(main()), b"hello")

    def test_the_fallback_flushes_every_writer_and_writes_later_still_go(self):
        async def main():
            async def serve(reader, writer):
                for i in range(3):
                    writer.write(b"%d" % i)
                    await asyncio.sleep(0)
                writer.write(b"!")
                await asyncio.sleep(0.01)
                writer.close()

            server = await aiostreams.start_server(serve, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            socks = [await peer(port) for _ in range(3)]
            try:
                return await asyncio.gather(*(receive_all(s) for s in socks))
            finally:
                for s in socks:
                    s.close()
                server.close()

        self.assertEqual(self.run_async(main()), [b"012!"] * 3)

    def test_the_transport_used_directly_gets_its_bytes_after_those_written(self):
        async def serve(reader, writer):
            await reader.readline()
            writer.write(b"1")
            writer.transport.write(b"2")
            writer.write(b"3")
            writer.transport.write(b"4")
            writer.write(b"5\n")
            await reader.read()
            writer.close()

        _, got = self.sends(aiostreams, serve, b"go\n", 6)
        self.assertEqual(got, b"12345\n")

    def test_get_extra_info_sends_what_was_written_first(self):
        async def serve(reader, writer):
            await reader.readline()
            writer.write(b"1")
            # The socket is among the extras: what was written is sent before it is
            # handed out (and later writes are still coalesced).
            sock = writer.get_extra_info("socket")
            self.assertIsNotNone(sock)
            writer.write(b"2\n")
            await reader.read()
            writer.close()

        sends, got = self.sends(aiostreams, serve, b"go\n", 3)
        self.assertEqual((sends, got), (2, b"12\n"))

    def test_close_and_write_eof_send_what_was_written_first(self):
        async def main(end):
            async def serve(reader, writer):
                writer.write(b"last words")
                if end == "eof":
                    writer.write_eof()
                    await reader.read()
                writer.close()
                await writer.wait_closed()

            server = await aiostreams.start_server(serve, "127.0.0.1", 0)
            sock = await peer(server.sockets[0].getsockname()[1])
            try:
                got = await receive_all(sock)
            finally:
                sock.close()
                server.close()
            return got

        for end in ("close", "eof"):
            self.assertEqual(self.run_async(main(end)), b"last words", end)

    def test_a_large_write_goes_at_once_behind_what_is_pending(self):
        big = bytes(range(256)) * 1024  # 256 KiB: above the 64 KiB kept

        async def serve(reader, writer):
            await reader.readline()
            writer.write(b"head")
            writer.write(big)
            writer.write(b"tail")
            await reader.read()
            writer.close()

        _, got = self.sends(aiostreams, serve, b"go\n", len(big) + 8)
        self.assertEqual(got, b"head" + big + b"tail")

    def test_the_connection_lost_drops_pending_writes_and_later_ones_as_asyncio(self):
        async def main(streams):
            done = asyncio.get_running_loop().create_future()

            async def serve(reader, writer):
                writer.write(b"x")
                # The peer resets the connection: the pending byte is lost with it.
                try:
                    await reader.read()
                except ConnectionError:
                    pass
                outcome = []
                for _ in range(3):
                    try:
                        # uvloop's closed transport raises RuntimeError here.
                        writer.write(b"y")
                    except RuntimeError as e:
                        outcome.append(type(e).__name__)
                    await asyncio.sleep(0)
                    outcome.append(writer.is_closing())
                done.set_result(outcome)

            server = await streams.start_server(serve, "127.0.0.1", 0)
            sock = await peer(server.sockets[0].getsockname()[1])
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            try:
                return await done
            finally:
                server.close()

        ours = self.run_async(main(aiostreams))
        self.assertEqual(ours, self.run_async(main(self.asyncio)))

    def test_abort_after_writes_behaves_as_asyncio(self):
        # writer.transport hands the transport out: what is pending goes to it first (as
        # asyncio's write had sent it already); abort() then drops the transport's queue,
        # and later writes are the closed transport's, with no deferred write reporting
        # an error.
        async def main(streams):
            loop = asyncio.get_running_loop()
            errors = []
            loop.set_exception_handler(lambda _loop, context: errors.append(context))
            done = loop.create_future()

            async def serve(reader, writer):
                await reader.readline()
                writer.write(b"x")
                writer.transport.abort()
                outcome = [writer.is_closing()]
                try:
                    writer.write(b"y")
                except RuntimeError as e:  # uvloop's closed transport
                    outcome.append(type(e).__name__)
                await asyncio.sleep(0.01)
                done.set_result(outcome)

            server = await streams.start_server(serve, "127.0.0.1", 0)
            sock = await peer(server.sockets[0].getsockname()[1])
            try:
                await loop.sock_sendall(sock, b"go\n")
                outcome = await done
            finally:
                sock.close()
                server.close()
            return outcome, [c.get("message") for c in errors]

        ours = self.run_async(main(aiostreams))
        self.assertEqual(ours, self.run_async(main(self.asyncio)))
        self.assertEqual(ours[1], [])


class StockLoop(Coalesce, LoopCase):
    loop_kind = "stock"

    def test_a_read_that_waits_takes_the_fallback_back_off_the_ready_queue(self):
        # The fallback is queued at the first write kept; the read about to wait sends
        # the bytes and removes it, so the loop's next iteration does not run it for
        # nothing (a wait that is not a read leaves it queued). A write made with nothing
        # left to read goes at once and queues nothing.
        async def main(wait, request):
            loop = asyncio.get_running_loop()
            seen = []

            def check():
                flusher = loop._aiostreams_flusher
                seen.append(any(h._callback is flusher for h in loop._ready))

            async def serve(reader, writer):
                await reader.readline()
                loop.call_soon(check)  # runs before the fallback, if that is queued
                writer.write(b"a\n")
                if wait == "read":
                    await reader.readline()
                else:
                    await asyncio.sleep(0.01)
                writer.close()

            server = await aiostreams.start_server(serve, "127.0.0.1", 0)
            sock = await peer(server.sockets[0].getsockname()[1])
            try:
                await loop.sock_sendall(sock, request)
                self.assertEqual(await receive(sock, 2), b"a\n")
            finally:
                sock.close()
                server.close()
            return seen

        self.assertEqual(self.run_async(main("read", b"go\nmore")), [False])
        self.assertEqual(self.run_async(main("sleep", b"go\nmore")), [True])
        self.assertEqual(self.run_async(main("sleep", b"go\n")), [False])


class Uvloop(Coalesce, LoopCase):
    loop_kind = "uvloop"


if __name__ == "__main__":
    unittest.main()
