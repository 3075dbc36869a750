"""aiostreams on the stock loop and on uvloop: install(), the buffered protocol, the
asyncio docs' examples (also against the Rust `aiostreams serve`), cancellation,
wait_closed(), close() with pending reads, transports lost mid-read, flow control, and
1,000 concurrent connections with every byte checked."""

import asyncio
import asyncio.streams
import contextlib
import gc
import hashlib
import io
import os
import pathlib
import resource
import socket
import subprocess
import sys
import tempfile
import unittest
import warnings
import weakref

import aiostreams

# asyncio's own helper, taken before any test calls aiostreams.install().
ASYNCIO_OPEN_CONNECTION = asyncio.streams.open_connection
assert ASYNCIO_OPEN_CONNECTION is not aiostreams.open_connection

sys.path.insert(0, os.path.dirname(__file__))
import examples  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]
TIMEOUT = 30


def rust_cli():
    """The Rust CLI binary (built by `cargo test`/`cargo build`), or None."""
    for profile in ("release", "debug"):
        path = ROOT / "target" / profile / "aiostreams"
        if path.exists():
            return path
    return None


class LoopCase(unittest.TestCase):
    """Runs each test's coroutine on a fresh loop of the subclass' kind."""

    loop_kind = "stock"

    @classmethod
    def setUpClass(cls):
        aiostreams.install()

    def new_loop(self):
        if self.loop_kind == "uvloop":
            import uvloop

            return uvloop.new_event_loop()
        return asyncio.new_event_loop()

    def run_async(self, coro):
        loop = self.new_loop()
        try:
            return loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT))
        finally:
            loop.close()

    @contextlib.asynccontextmanager
    async def server(self, handler, **kwargs):
        server = await asyncio.start_server(handler, "127.0.0.1", 0, **kwargs)
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            server.close()


class Behaviour:
    def test_install_replaces_asyncio_names_and_import_alone_does_not(self):
        code = (
            "import asyncio, asyncio.streams\n"
            "before = asyncio.open_connection, asyncio.StreamReader\n"
            "import aiostreams\n"
            "assert (asyncio.open_connection, asyncio.StreamReader) == before\n"
            "aiostreams.install()\n"
            "for name in aiostreams._NAMES:\n"
            "    assert getattr(asyncio, name) is getattr(aiostreams, name), name\n"
            "    assert getattr(asyncio.streams, name) is getattr(aiostreams, name), name\n"
            "print('ok')\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        self.assertEqual(out.stdout.strip(), "ok", out.stderr)

    def test_the_stock_loop_reads_into_the_reader_and_uvloop_feeds_data_received(self):
        # Both an asyncio.Protocol and a BufferedProtocol: the selector transports take the
        # buffered path for any BufferedProtocol; uvloop only for one that is not a
        # Protocol (its buffered path costs more per receive than data_received).
        calls = {"get_buffer": 0, "data_received": 0}

        class Counting(aiostreams.StreamReaderProtocol):
            def get_buffer(self, sizehint):
                calls["get_buffer"] += 1
                return super().get_buffer(sizehint)

            def data_received(self, data):
                calls["data_received"] += 1
                return super().data_received(data)

        async def main():
            async def handler(reader, writer):
                writer.write(b"hello\n" * 1000)
                await writer.drain()
                writer.close()

            async with self.server(handler) as port:
                loop = asyncio.get_running_loop()
                reader = aiostreams.StreamReader(loop=loop)
                protocol = Counting(reader, loop=loop)
                transport, _ = await loop.create_connection(lambda: protocol, "127.0.0.1", port)
                data = await reader.read()
                transport.close()
                return data

        self.assertEqual(self.run_async(main()), b"hello\n" * 1000)
        used, unused = ("data_received", "get_buffer")
        if self.loop_kind == "stock":
            used, unused = unused, used
        self.assertGreater(calls[used], 0)
        self.assertEqual(calls[unused], 0)
        loop = self.new_loop()
        self.addCleanup(loop.close)
        protocol = aiostreams.StreamReaderProtocol(aiostreams.StreamReader(loop=loop), loop=loop)
        self.assertIsInstance(protocol, asyncio.BufferedProtocol)
        self.assertIsInstance(protocol, asyncio.Protocol)

    def test_a_waiting_read_wakes_after_the_callbacks_already_queued(self):
        # asyncio's order: bytes arriving in a transport's read handler complete the read's
        # Future, whose task is scheduled behind what is already in the ready queue; the
        # task never runs inside buffer_updated itself.
        loop = self.new_loop()
        self.addCleanup(loop.close)
        reader = aiostreams.StreamReader(loop=loop)
        protocol = aiostreams.StreamReaderProtocol(reader, loop=loop)
        order = []

        async def read():
            line = await reader.readline()
            order.append(("task", line))

        def transport_read_handler():
            loop.call_soon(order.append, ("queued", None))
            buf = protocol.get_buffer(-1)
            buf[:6] = b"hello\n"
            protocol.buffer_updated(6)
            order.append(("handler returned", None))

        async def main():
            task = asyncio.ensure_future(read())
            await asyncio.sleep(0)  # the task now waits in readline()
            loop.call_soon(transport_read_handler)
            await asyncio.wait_for(task, TIMEOUT)

        loop.run_until_complete(main())
        self.assertEqual(
            order, [("handler returned", None), ("queued", None), ("task", b"hello\n")]
        )

    def test_get_buffer_region_is_a_view_written_in_pieces(self):
        # asyncio's SSL protocol reads into buf[offset:] of the region get_buffer() lent:
        # a slice must write through (a memoryview, not a bytearray, whose slice copies).
        # The region is reused without being cleared: only the reported bytes count.
        loop = self.new_loop()
        self.addCleanup(loop.close)
        reader = aiostreams.StreamReader(loop=loop)
        protocol = aiostreams.StreamReaderProtocol(reader, loop=loop)
        for first, rest in ((b"abc", b"de\n"), (b"x", b"\n")):
            buf = protocol.get_buffer(-1)
            self.assertGreaterEqual(len(buf), 4096)
            buf[: len(first)] = first
            tail = buf[len(first) :]
            tail[: len(rest)] = rest
            protocol.buffer_updated(len(first) + len(rest))
            self.assertEqual(loop.run_until_complete(reader.readline()), first + rest)
        buf = protocol.get_buffer(-1)
        with self.assertRaisesRegex(ValueError, "more bytes than get_buffer"):
            protocol.buffer_updated(len(buf) + 1)
        self.assertEqual(reader._buffer, b"")

    def test_docs_echo_client_and_server(self):
        async def main():
            with contextlib.redirect_stdout(io.StringIO()):
                server = await examples.echo_server("127.0.0.1", 0)
                port = server.sockets[0].getsockname()[1]
                got = await examples.tcp_echo_client("Hello World!", "127.0.0.1", port)
            server.close()
            await server.wait_closed()
            return got

        self.assertEqual(self.run_async(main()), "Hello World!")

    def test_loop_argument_as_this_pythons_asyncio_takes_it(self):
        # 3.9: loop= accepted with a DeprecationWarning; 3.10+: rejected (TypeError).
        # asyncio's own open_connection (kept before install) is the oracle.
        async def outcome(open_connection, port):
            loop = asyncio.get_running_loop()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    _, writer = await open_connection("127.0.0.1", port, loop=loop)
                except TypeError:
                    return "TypeError", []
            writer.close()
            return "connected", [(w.category, str(w.message)) for w in caught]

        async def main():
            async with self.server(lambda r, w: w.close()) as port:
                return (
                    await outcome(ASYNCIO_OPEN_CONNECTION, port),
                    await outcome(aiostreams.open_connection, port),
                )

        theirs, ours = self.run_async(main())
        self.assertEqual(ours, theirs)
        self.assertEqual(theirs[0], "connected" if sys.version_info < (3, 10) else "TypeError")

    def test_an_unreferenced_writer_in_a_cycle_is_collected_and_closes(self):
        # StreamWriter keeps its references natively: the garbage collector must still see
        # them, so a cycle through a writer is collected and its __del__ closes the
        # transport with asyncio's ResourceWarning.
        closed = []

        class Transport(asyncio.Transport):
            def is_closing(self):
                return bool(closed)

            def close(self):
                closed.append(True)

        async def main():
            loop = asyncio.get_running_loop()
            reader = aiostreams.StreamReader(loop=loop)
            protocol = aiostreams.StreamReaderProtocol(reader, loop=loop)
            writer = aiostreams.StreamWriter(Transport(), protocol, reader, loop)
            protocol.cycle = writer
            del writer, protocol, reader
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                gc.collect()
            return [w.category for w in caught]

        self.assertIn(ResourceWarning, self.run_async(main()))
        self.assertEqual(closed, [True])

    def test_cycles_through_native_references_are_collected(self):
        # The reader, the protocol and the read and drain awaitables keep references
        # natively too: each cycle below runs through one of them only (a Python object's
        # would be in its __dict__), and the garbage collector must collect it.
        def collected(make):
            async def main():
                gone = weakref.ref(make(asyncio.get_running_loop()))
                gc.collect()
                return gone() is None

            return self.run_async(main())

        def held_by_a_reader(kind, attach):
            # A `kind` object that holds a reader, which holds it natively (`attach`).
            def make(loop):
                reader = aiostreams.StreamReader(loop=loop)
                held = kind()
                held.reader = reader
                attach(reader, held)
                return held

            return make

        class Held(Exception):
            pass

        class Transport(asyncio.Transport):
            pass

        reader_exception = held_by_a_reader(Held, aiostreams.StreamReader.set_exception)
        reader_transport = held_by_a_reader(Transport, aiostreams.StreamReader.set_transport)

        def protocol_drain_waiter(loop):
            protocol = aiostreams.StreamReaderProtocol(aiostreams.StreamReader(loop=loop), loop=loop)
            protocol.pause_writing()
            waiter = protocol._drain_helper().send(None)
            waiter.add_done_callback(lambda _: protocol)
            return waiter

        def drain_waiter(loop):
            protocol = aiostreams.StreamReaderProtocol(aiostreams.StreamReader(loop=loop), loop=loop)
            protocol.pause_writing()
            drain = protocol._drain_helper()
            waiter = drain.send(None)
            waiter.add_done_callback(lambda _: drain)
            return waiter

        def read_waiter(loop):
            read = aiostreams.StreamReader(loop=loop).read()
            waiter = read.send(None)
            waiter.add_done_callback(lambda _: read)
            return waiter

        def readuntil_separator(loop):
            class Separator:
                pass

            separator = Separator()
            separator.read = aiostreams.StreamReader(loop=loop).readuntil(separator)
            return separator

        cycles = {
            "reader_exception": reader_exception,
            "reader_transport": reader_transport,
            "protocol_drain_waiter": protocol_drain_waiter,
            "drain_waiter": drain_waiter,
            "read_waiter": read_waiter,
            "readuntil_separator": readuntil_separator,
        }
        for name, make in cycles.items():
            with self.subTest(name):
                self.assertTrue(collected(make))

    def test_docs_wait_for_data_on_a_socket_pair(self):
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(self.run_async(examples.wait_for_data()), b"abc")

    def rust_server(self, mode):
        cli = rust_cli()
        if cli is None:
            self.skipTest("the Rust CLI is not built (cargo build -p aiostreams-cli)")
        proc = subprocess.Popen(
            [str(cli), "serve", "--port", "0", "--mode", mode],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.addCleanup(proc.stderr.close)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(proc.wait, TIMEOUT)
        self.addCleanup(proc.kill)
        line = proc.stdout.readline()
        if not line.startswith("Serving on"):
            proc.kill()
            self.fail(line + proc.stderr.read())
        return int(line.rsplit(":", 1)[1])

    def test_docs_echo_client_against_rust_serve(self):
        port = self.rust_server("echo")
        with contextlib.redirect_stdout(io.StringIO()):
            got = self.run_async(examples.tcp_echo_client("Hello World!", "127.0.0.1", port))
        self.assertEqual(got, "Hello World!")

    def test_docs_http_headers_against_rust_serve(self):
        port = self.rust_server("http-hello")

        async def main():
            # http-hello keeps the connection alive: the example reads the headers only.
            with contextlib.redirect_stdout(io.StringIO()):
                return await examples.print_http_headers("127.0.0.1", port)

        headers = self.run_async(main())
        self.assertTrue(headers[0].startswith("HTTP/1.1 200"), headers)

    def test_lines_against_rust_serve_every_byte_checked(self):
        port = self.rust_server("lines")

        async def main():
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            lines = [b"%d %s\n" % (i, b"x" * (i % 300)) for i in range(2000)]
            writer.writelines(lines)
            await writer.drain()
            got = [await reader.readline() for _ in lines]
            writer.write_eof()
            self.assertEqual(await reader.read(), b"")
            writer.close()
            await writer.wait_closed()
            return got == lines

        self.assertTrue(self.run_async(main()))

    def test_cancelled_read_leaves_the_buffer_and_a_later_read_works(self):
        async def main():
            reader = asyncio.StreamReader()
            reader.feed_data(b"partial")
            task = asyncio.ensure_future(reader.readline())
            await asyncio.sleep(0)
            self.assertIsNotNone(reader._waiter)
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            self.assertIsNone(reader._waiter)
            self.assertEqual(reader._buffer, b"partial")
            reader.feed_data(b" line\n")
            return await reader.readline()

        self.assertEqual(self.run_async(main()), b"partial line\n")

    def test_a_woken_read_whose_bytes_another_task_took_waits_again(self):
        # Deliberately unlike asyncio, whose read(n) returns b"" here (a false EOF):
        # docs/DESIGN.md, "A woken read(n) whose bytes another task took waits again".
        async def main():
            reader = asyncio.StreamReader()
            waiting = asyncio.ensure_future(reader.read(5))
            await asyncio.sleep(0)
            self.assertIsNotNone(reader._waiter)
            reader.feed_data(b"abc")
            self.assertEqual(await reader.read(5), b"abc")
            for _ in range(3):
                await asyncio.sleep(0)
            self.assertFalse(waiting.done())
            self.assertFalse(reader.at_eof())
            reader.feed_data(b"xyz")
            return await waiting

        self.assertEqual(self.run_async(main()), b"xyz")

    def test_wait_for_timeout_on_a_read_then_read_again(self):
        async def main():
            reader = asyncio.StreamReader()
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(reader.readexactly(3), 0.01)
            reader.feed_data(b"abc")
            return await reader.readexactly(3)

        self.assertEqual(self.run_async(main()), b"abc")

    def test_close_with_a_pending_read_ends_it_with_eof(self):
        async def main():
            async def handler(reader, writer):
                await reader.read(1)  # the client's byte, then nothing more
                writer.close()
                await writer.wait_closed()

            async with self.server(handler) as port:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                pending = asyncio.ensure_future(reader.readline())
                await asyncio.sleep(0)
                writer.write(b"x")
                line = await pending  # server closed: EOF, the partial line (none)
                writer.close()
                await writer.wait_closed()
                return line

        self.assertEqual(self.run_async(main()), b"")

    def test_local_close_with_a_pending_read(self):
        async def main():
            async def handler(reader, writer):
                await reader.read()
                writer.close()

            async with self.server(handler) as port:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                pending = asyncio.ensure_future(reader.read(10))
                await asyncio.sleep(0)
                writer.close()
                await writer.wait_closed()
                return await pending

        self.assertEqual(self.run_async(main()), b"")

    def test_peer_lost_mid_read_gives_incomplete_read_with_the_partial(self):
        async def main():
            async def handler(reader, writer):
                writer.write(b"12345")
                await writer.drain()
                writer.close()

            async with self.server(handler) as port:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                try:
                    await reader.readexactly(10)
                except asyncio.IncompleteReadError as e:
                    return e.partial, e.expected
                finally:
                    writer.close()

        self.assertEqual(self.run_async(main()), (b"12345", 10))

    def test_peer_reset_mid_read_raises_and_wait_closed_raises(self):
        async def main():
            async def handler(reader, writer):
                writer.write(b"123")
                await writer.drain()
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                writer.transport.abort()

            async with self.server(handler) as port:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                self.assertEqual(await reader.readexactly(3), b"123")
                with self.assertRaises(ConnectionResetError):
                    await reader.readexactly(10)
                with self.assertRaises(ConnectionResetError):
                    await writer.wait_closed()
                with self.assertRaises(ConnectionResetError):
                    await writer.drain()
                writer.close()

        self.run_async(main())

    def test_transport_lost_with_an_error_is_raised_by_a_pending_read(self):
        async def main():
            async def handler(reader, writer):
                await reader.read()

            async with self.server(handler) as port:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                pending = asyncio.ensure_future(reader.readline())
                await asyncio.sleep(0)
                writer._protocol.connection_lost(ZeroDivisionError())
                with self.assertRaises(ZeroDivisionError):
                    await pending
                with self.assertRaises(ZeroDivisionError):
                    await writer.wait_closed()
                writer.close()

        self.run_async(main())

    def test_big_transfer_with_a_small_limit_pauses_and_resumes(self):
        payload = os.urandom(3 * 1024 * 1024)

        async def main():
            async def handler(reader, writer):
                writer.write(payload)
                await writer.drain()
                writer.close()

            async with self.server(handler, limit=1024) as port:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1024)
                got = bytearray()
                while True:
                    chunk = await reader.read(700)
                    if not chunk:
                        break
                    got += chunk
                    self.assertLessEqual(len(reader._buffer), 2 * 1024 + 256 * 1024)
                writer.close()
                return bytes(got)

        self.assertEqual(self.run_async(main()), payload)

    def test_drain_waits_above_the_high_mark_and_completes_below(self):
        async def main():
            release = asyncio.Event()
            got = []

            async def handler(reader, writer):
                await release.wait()
                got.append(await reader.read())
                writer.close()

            async with self.server(handler) as port:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.transport.set_write_buffer_limits(high=1024)
                chunk = b"z" * 65536
                sent = 0
                # Until the kernel's buffers are full and the transport pauses us.
                while not writer._protocol._paused and sent < 1 << 30:
                    writer.write(chunk)
                    sent += len(chunk)
                    await asyncio.sleep(0)
                self.assertTrue(writer._protocol._paused)
                drain = asyncio.ensure_future(writer.drain())
                await asyncio.sleep(0)
                self.assertFalse(drain.done())
                release.set()
                await drain
                self.assertIsNone(await writer.drain())
                writer.write_eof()
                await reader.read()
                writer.close()
            return len(got[0]) == sent and set(got[0]) == {ord("z")}

        self.assertTrue(self.run_async(main()))

    def test_unix_socket_echo(self):
        async def main():
            async def handler(reader, writer):
                writer.write(await reader.readuntil(b"!"))
                await writer.drain()
                writer.close()

            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "s")
                server = await asyncio.start_unix_server(handler, path)
                reader, writer = await asyncio.open_unix_connection(path)
                writer.write(b"hello!")
                got = await reader.read()
                writer.close()
                server.close()
                await server.wait_closed()
                return got

        self.assertEqual(self.run_async(main()), b"hello!")

    def test_thousand_concurrent_connections_every_byte_checked(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = 2 * 1000 + 100
        if soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
        count = min(1000, (resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 100) // 2)
        self.assertEqual(count, 1000, "RLIMIT_NOFILE too small for 1,000 connections")

        async def main():
            async def handler(reader, writer):
                while line := await reader.readline():
                    writer.write(line)
                    await writer.drain()
                writer.close()

            async def client(port, i):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                sent = hashlib.sha256()
                for j in range(5):
                    line = b"%d:%d:%s\n" % (i, j, os.urandom(50 + i % 200).hex().encode())
                    sent.update(line)
                    writer.write(line)
                await writer.drain()
                received = hashlib.sha256()
                for _ in range(5):
                    received.update(await reader.readline())
                writer.close()
                await writer.wait_closed()
                return sent.digest() == received.digest()

            async with self.server(handler, backlog=1000) as port:
                results = await asyncio.gather(*(client(port, i) for i in range(count)))
            return results.count(True)

        self.assertEqual(self.run_async(main()), count)


class StockLoop(LoopCase, Behaviour):
    loop_kind = "stock"


class Uvloop(LoopCase, Behaviour):
    loop_kind = "uvloop"


if __name__ == "__main__":
    unittest.main()
