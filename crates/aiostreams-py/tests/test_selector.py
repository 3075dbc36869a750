"""The stock loop's native receive and send (`_native.use_native_io`): asyncio's own
selector socket transport, with its per-request methods native, behaves as it does with
asyncio's own streams: the same transport class, the same checks and messages on
write(), queueing and flow control above the send buffer, half-close, errors."""

import asyncio
import asyncio.selector_events
import asyncio.streams
import hashlib
import importlib.util
import logging
import socket
import unittest

import aiostreams
from aiostreams import _native

from test_behaviour import LoopCase

SELECTOR_SOCKET = asyncio.selector_events._SelectorSocketTransport


def attempt(f, *args):
    """f(*args)'s result, or its exception's class name and text."""
    try:
        return ("ok", f(*args))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


def asyncio_own_streams():
    """A private copy of asyncio's streams module, which install() does not touch (its
    helpers and classes are asyncio's own code, looking each other up in the copy)."""
    spec = importlib.util.spec_from_file_location("asyncio._own_streams", asyncio.streams.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SelectorTransport(LoopCase):
    loop_kind = "stock"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.asyncio = asyncio_own_streams()

    def assert_same(self, scenario):
        """scenario(streams) gives the same on aiostreams and on asyncio's own streams."""
        ours = self.run_async(scenario(aiostreams))
        self.assertEqual(ours, self.run_async(scenario(self.asyncio)))
        return ours

    async def pair(self, streams, handler):
        server = await streams.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await streams.open_connection("127.0.0.1", port)
        return server, reader, writer

    def test_the_transport_is_asyncios_and_its_io_is_native_on_both_sides(self):
        seen = []

        async def main():
            def native_io(transport):
                # Looked at while open (3.13's close() clears _read_ready_cb).
                d = transport.__dict__
                return type(transport), type(d.get("_read_ready_cb")), type(d.get("write"))

            async def handler(reader, writer):
                seen.append(native_io(writer.transport))
                while data := await reader.read(65536):
                    writer.write(data)
                writer.close()

            server, reader, writer = await self.pair(aiostreams, handler)
            payload = bytes(range(256)) * 8192  # 2 MiB: partial sends, queued writes
            writer.write(payload)
            writer.write_eof()
            seen.append(native_io(writer.transport))
            got = await reader.read()
            writer.close()
            server.close()
            return hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()

        self.assertTrue(self.run_async(main()))
        self.assertEqual(len(seen), 2)
        self.assertEqual(seen, [(SELECTOR_SOCKET, _native.ReadReady, _native.SendNow)] * 2)

    def test_a_subclass_overriding_get_buffer_keeps_the_transports_own_path(self):
        class Counting(aiostreams.StreamReaderProtocol):
            def get_buffer(self, sizehint):
                return super().get_buffer(sizehint)

        async def main():
            loop = asyncio.get_running_loop()
            a, b = socket.socketpair()
            reader = aiostreams.StreamReader(loop=loop)
            transport, _ = await loop.create_connection(
                lambda: Counting(reader, loop=loop), sock=a
            )
            cb = transport.__dict__.get("_read_ready_cb")
            transport.close()
            b.close()
            return cb

        self.assertNotIsInstance(self.run_async(main()), _native.ReadReady)

    def test_a_transport_missing_a_private_name_keeps_its_own_methods(self):
        # The native path reads these private names of asyncio's transport; a CPython
        # whose transport lacks one must keep the transport's own Python code.
        names = ["_sock_fd", "_read_ready_cb", "_read_ready__on_eof", "_fatal_error",
                 "_conn_lost", "_eof", "_empty_waiter", "_buffer", "_closing"]

        class Transport:
            pass

        def installed(missing):
            t = Transport()
            for name in names:
                if name != missing:
                    setattr(t, name, -1 if name == "_sock_fd" else None)
            _native.use_native_io(t, protocol)
            return type(t.__dict__.get("write")).__name__

        async def main():
            return aiostreams.StreamReaderProtocol(aiostreams.StreamReader())

        protocol = self.run_async(main())
        self.assertEqual(installed(None), "SendNow")
        for name in names:
            self.assertEqual(installed(name), "NoneType", name)

    def test_a_waiting_read_asks_a_loop_that_overrides_create_future(self):
        # The reader makes asyncio.Future(loop=...) itself only where create_future is
        # BaseEventLoop's: a loop class or instance overriding it is asked, as asyncio's.
        made = []

        class Counting(asyncio.SelectorEventLoop):
            def create_future(self):
                made.append("class")
                return super().create_future()

        async def read_once():
            loop = asyncio.get_running_loop()
            reader = aiostreams.StreamReader(loop=loop)
            loop.call_soon(reader.feed_data, b"x")
            return await reader.read(1)

        for loop, expected in ((Counting(), ["class"]), (asyncio.new_event_loop(), ["instance"])):
            if not isinstance(loop, Counting):
                plain = loop.create_future

                def own():
                    made.append("instance")
                    return plain()

                loop.create_future = own
            try:
                self.assertEqual(loop.run_until_complete(read_once()), b"x")
            finally:
                loop.close()
            self.assertEqual(made, expected)
            made.clear()

    def test_write_checks_and_messages_are_asyncios(self):
        async def scenario(streams):
            async def handler(reader, writer):
                await reader.read()
                writer.close()

            server, reader, writer = await self.pair(streams, handler)
            data = ("text", 42, None, b"", bytearray(b"ba"), memoryview(b"mv"), b"b")
            outcomes = [attempt(writer.write, d) for d in data]
            writer.write_eof()
            outcomes.append(attempt(writer.write, b"after eof"))
            writer.close()
            await writer.wait_closed()
            server.close()
            return outcomes

        self.assert_same(scenario)

    def test_writes_after_the_connection_is_lost_are_dropped_and_logged_as_asyncio(self):
        async def scenario(streams):
            lost = asyncio.get_running_loop().create_future()

            async def handler(reader, writer):
                writer.transport.abort()
                lost.set_result(None)

            server, reader, writer = await self.pair(streams, handler)
            await lost
            self.assertEqual(await reader.read(), b"")
            records = []
            handler_ = logging.Handler()
            handler_.emit = records.append
            logger = logging.getLogger("asyncio")
            logger.addHandler(handler_)
            try:
                for _ in range(8):
                    writer.write(b"x" * 100)
                    await asyncio.sleep(0)
            finally:
                logger.removeHandler(handler_)
            writer.close()
            server.close()
            return [r.getMessage() for r in records], writer.transport.get_write_buffer_size()

        self.assert_same(scenario)

    def test_a_write_the_socket_cannot_take_queues_and_pauses_until_read(self):
        async def scenario(streams):
            release = asyncio.get_running_loop().create_future()

            async def handler(reader, writer):
                await release
                total = 0
                while data := await reader.read(1 << 20):
                    total += len(data)
                writer.write(str(total).encode())
                writer.close()

            server, reader, writer = await self.pair(streams, handler)
            chunk = b"z" * 65536
            writes = 0
            drain = None
            while writes < 1024:
                writer.write(chunk)
                writes += 1
                drain = asyncio.ensure_future(writer.drain())
                await asyncio.sleep(0)
                if not drain.done():
                    break
            queued = writer.transport.get_write_buffer_size()
            release.set_result(None)
            await drain
            writer.write_eof()
            answer = await reader.read()
            writer.close()
            server.close()
            return queued > 0, int(answer) == writes * len(chunk)

        self.assertEqual(self.assert_same(scenario), (True, True))

    def test_a_peer_reset_ends_reads_and_drain_as_with_asyncio(self):
        async def scenario(streams):
            async def handler(reader, writer):
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                writer.transport.abort()

            server, reader, writer = await self.pair(streams, handler)
            outcomes = []
            try:
                outcomes.append(await reader.read(10))
            except Exception as exc:
                outcomes.append(type(exc).__name__)
            for _ in range(3):
                outcomes.append(attempt(writer.write, b"after reset"))
                (drained,) = await asyncio.gather(writer.drain(), return_exceptions=True)
                outcomes.append(type(drained).__name__)
            writer.close()
            server.close()
            return outcomes

        self.assert_same(scenario)

    def test_extra_info_half_close_and_reading_switches_are_the_transports(self):
        async def scenario(streams):
            async def handler(reader, writer):
                data = await reader.read()
                writer.write(data[::-1])
                writer.close()

            server, reader, writer = await self.pair(streams, handler)
            t = writer.transport
            info = (
                type(writer.get_extra_info("socket")).__name__,
                writer.get_extra_info("peername") == server.sockets[0].getsockname(),
                writer.get_extra_info("sockname")[0],
                t.is_reading(),
                writer.can_write_eof(),
            )
            t.pause_reading()
            paused = t.is_reading()
            t.resume_reading()
            writer.write(b"abc")
            writer.write_eof()
            back = await reader.read()
            writer.close()
            await writer.wait_closed()
            server.close()
            return info, paused, back, t.is_closing()

        self.assertEqual(self.assert_same(scenario)[2], b"cba")


if __name__ == "__main__":
    unittest.main()
