"""The stock loop's native receive and send (`_native.use_native_io`): asyncio's own
selector socket transport, with its per-request methods native, behaves as it does with
asyncio's own streams: the same transport class, the same checks and messages on
write(), queueing and flow control above the send buffer, half-close, errors."""

import asyncio
import asyncio.selector_events
import asyncio.streams
import contextvars
import gc
import hashlib
import importlib.util
import logging
import re
import socket
import sys
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

    def test_the_selector_calls_the_native_receive_itself_and_a_new_protocol_is_served(self):
        # The selector's reader callback is ReadReady itself (not the transport's
        # one-line _read_ready), also after resume_reading; after set_protocol() it hands
        # each receive to the transport's own callback for the new protocol.
        async def main():
            loop = asyncio.get_running_loop()
            got = loop.create_future()

            async def handler(reader, writer):
                writer.write(await reader.readexactly(3))
                await reader.readexactly(1)
                writer.write(b"later")
                await reader.read()
                writer.close()

            server, reader, writer = await self.pair(aiostreams, handler)
            t = writer.transport
            fd = t.get_extra_info("socket").fileno()

            def registered():
                return type(loop._selector.get_key(fd).data[0]._callback).__name__

            writer.write(b"abc")
            first = await reader.readexactly(3), registered()
            t.pause_reading()
            t.resume_reading()
            resumed = registered()

            class Plain(asyncio.Protocol):
                def data_received(self, data):
                    got.set_result(data)

            t.set_protocol(Plain())
            t.write(b"!")
            later = await got
            t.close()
            server.close()
            return first, resumed, later

        self.assertEqual(self.run_async(main()), ((b"abc", "ReadReady"), "ReadReady", b"later"))

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
        names = ["_sock_fd", "_loop", "_read_ready", "_read_ready_cb", "_read_ready__on_eof",
                 "_fatal_error", "_conn_lost", "_eof", "_empty_waiter", "_buffer", "_closing"]

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

    def test_a_connection_whose_read_waits_outlives_a_garbage_collection(self):
        # The selector's registration is what holds a served connection (the loop's
        # `_transports` is weak): a collection while every handler waits on a read
        # must not destroy the connections with their tasks.
        async def scenario(streams):
            async def handler(reader, writer):
                while data := await reader.read(100):
                    writer.write(data)
                writer.close()

            server = await streams.start_server(handler, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            clients = [await streams.open_connection("127.0.0.1", port) for _ in range(5)]
            for _, writer in clients:
                writer.write(b"ping")
            got = [await reader.readexactly(4) for reader, _ in clients]
            gc.collect()
            for _, writer in clients:
                writer.write(b"pong")
            got += [await asyncio.wait_for(reader.readexactly(4), 10) for reader, _ in clients]
            for _, writer in clients:
                writer.close()
            server.close()
            return got

        self.assertEqual(self.assert_same(scenario), [b"ping"] * 5 + [b"pong"] * 5)

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


CALL_SOON_FRAMES = {"call_soon", "_call_soon"}


def python_call_soon_frames(f):
    """f()'s result, and how many frames of the loop's Python call_soon it ran."""
    seen = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_name in CALL_SOON_FRAMES:
            seen.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        result = f()
    finally:
        sys.setprofile(None)
    return result, len(seen)


def handle_fields(handle):
    """What a queued Handle holds, with object addresses taken out of its repr."""
    return (
        type(handle).__name__,
        isinstance(handle, asyncio.events.Handle),
        getattr(handle._callback, "__qualname__", type(handle._callback).__name__),
        [type(a).__name__ for a in handle._args],
        handle._cancelled,
        handle._repr,
        handle._source_traceback is None,
        re.sub(r" at 0x[0-9a-f]+", "", repr(handle)),
    )


class WakeUp(LoopCase):
    """A waiting read's task is woken without the loop's Python call_soon (wakeup.rs),
    with the same Handle at the same place in loop._ready as asyncio's."""

    loop_kind = "stock"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.asyncio = asyncio_own_streams()

    def wake_once(self, streams, loop=None):
        """A task waits in read(1); feed_data() wakes it. Gives the Python call_soon frames
        the wake-up ran, what it queued, its context and the order the task ran in."""

        async def scenario():
            loop = asyncio.get_running_loop()
            reader = streams.StreamReader(loop=loop)
            order = []

            async def wait():
                order.append(("read", await reader.read(1)))

            task = loop.create_task(wait())
            await asyncio.sleep(0)
            before = len(loop._ready)
            loop.call_soon(order.append, "queued before")
            _, frames = python_call_soon_frames(lambda: reader.feed_data(b"x"))
            loop.call_soon(order.append, "queued after")
            queued = list(loop._ready)[before:]
            fields = [handle_fields(h) for h in queued]
            same_context = queued[1]._context is task.get_context() if sys.version_info >= (3, 12) else None
            await task
            return frames, fields, same_context, order, [type(h) for h in queued]

        if loop is None:
            return self.run_async(scenario())
        return loop.run_until_complete(scenario())

    def test_a_wake_up_queues_asyncios_handle_without_the_python_call_soon(self):
        ours = self.wake_once(aiostreams)
        theirs = self.wake_once(self.asyncio)
        self.assertEqual(ours[0], 0)
        self.assertEqual(theirs[0], 2)
        self.assertEqual(ours[1:4], theirs[1:4])
        # The wake-up's Handle is the one with the native _run (NativeRun below).
        self.assertEqual(ours[4], [asyncio.events.Handle, _native.Handle, asyncio.events.Handle])
        self.assertEqual(ours[3], ["queued before", ("read", b"x"), "queued after"])

    def test_a_second_wake_up_while_the_first_is_queued_is_asyncios(self):
        # Two wake-ups of one reader in one loop iteration: the reused Handle is still
        # queued, so the second goes through call_soon; the order is asyncio's. (Each
        # woken read finds bytes: where a woken read(n) finds none, asyncio returns b""
        # and aiostreams waits again, a difference of the read itself.)
        def scenario(streams):
            async def main():
                loop = asyncio.get_running_loop()
                reader = streams.StreamReader(loop=loop)
                order = []

                async def read(name, times):
                    for _ in range(times):
                        order.append((name, await reader.read(1)))

                a = loop.create_task(read("a", 1))
                await asyncio.sleep(0)
                loop.call_soon(reader.feed_data, b"1")
                b = loop.create_task(read("b", 3))
                loop.call_soon(reader.feed_data, b"2")
                loop.call_soon(reader.feed_data, b"3")
                for _ in range(3):
                    await asyncio.sleep(0)
                a.cancel()
                b.cancel()
                await asyncio.gather(a, b, return_exceptions=True)
                return order

            return main()

        self.assertEqual(self.run_async(scenario(aiostreams)), self.run_async(scenario(self.asyncio)))

    def test_debug_mode_and_overrides_keep_the_loops_call_soon(self):
        # Where call_soon would do more than append a Handle (debug mode: thread check and
        # traceback; a loop class or instance overriding it; a Handle class with other
        # slots), the wake-up calls it.
        class Subclass(asyncio.SelectorEventLoop):
            def call_soon(self, *args, **kwargs):
                return super().call_soon(*args, **kwargs)

        def debug():
            loop = asyncio.new_event_loop()
            loop.set_debug(True)
            return loop

        def instance():
            loop = asyncio.new_event_loop()
            loop.call_soon = loop.call_soon
            return loop

        for make, frames in ((debug, 2), (Subclass, 3), (instance, 2)):
            loop = make()
            try:
                ours = self.wake_once(aiostreams, loop)
            finally:
                loop.close()
            self.assertEqual(ours[0], frames, make)
            self.assertEqual(ours[3], ["queued before", ("read", b"x"), "queued after"])

        handle = asyncio.events.Handle
        slots = handle.__slots__
        handle.__slots__ = slots + ("_added",)
        try:
            self.assertEqual(self.wake_once(aiostreams)[0], 2)
        finally:
            handle.__slots__ = slots

    def test_a_wake_up_on_a_closed_loop_raises_as_asyncios(self):
        def scenario(streams):
            loop = asyncio.new_event_loop()
            reader = streams.StreamReader(loop=loop)
            waiter = loop.create_task(reader.read(1))
            loop.run_until_complete(asyncio.sleep(0))
            loop._closed = True  # what close() sets; close() itself would drop the task
            try:
                return attempt(reader.feed_data, b"x"), waiter.done()
            finally:
                loop._closed = False
                waiter.cancel()
                loop.run_until_complete(asyncio.sleep(0))
                loop.close()

        self.assertEqual(scenario(aiostreams), scenario(self.asyncio))


class NativeRun(LoopCase):
    """_native.Handle (fast_handle.rs): events.Handle with a native _run, for the
    selector's read callback and the wake-ups, runs and reports as events.Handle._run."""

    loop_kind = "stock"

    def test_the_read_callbacks_and_wake_ups_handles_are_events_handles_with_a_native_run(self):
        native = _native.Handle
        self.assertTrue(issubclass(native, asyncio.events.Handle))
        self.assertEqual((native.__name__, native.__slots__), ("Handle", ()))
        self.assertEqual(type(native.__dict__["_run"]).__name__, "method_descriptor")

        async def scenario():
            loop = asyncio.get_running_loop()

            done = asyncio.Event()

            async def echo(reader, writer):
                while line := await reader.readline():
                    writer.write(line)
                writer.close()
                await writer.wait_closed()
                done.set()

            server = await asyncio.start_server(echo, "127.0.0.1", 0)
            reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
            for _ in range(3):
                writer.write(b"ping\n")
                self.assertEqual(await reader.readline(), b"ping\n")
            keys = [k for k in loop._selector.get_map().values() if k.fileobj != server.sockets[0].fileno()]
            readers = [type(k.data[0]) for k in keys if k.data[0] is not None and k.fileobj != loop._ssock.fileno()]
            writer.close()
            await writer.wait_closed()
            await done.wait()
            server.close()
            await server.wait_closed()
            return readers

        # The client's and the server's socket, each read callback adopted at its first call.
        self.assertEqual(self.run_async(scenario()), [_native.Handle, _native.Handle])

    def run_both(self, callback, args, handler=None):
        """callback(*args) run by events.Handle._run and by the native one, in a context
        of its own; what each returned or raised and what the exception handler saw."""
        var = contextvars.ContextVar("var", default="outside")
        results = []
        for kind in (asyncio.events.Handle, _native.Handle):
            loop = asyncio.new_event_loop()
            seen = []

            def record(loop, context):
                exc = context["exception"]
                seen.append((
                    list(context),
                    re.sub(r" at 0x[0-9a-f]+", "", context["message"]),
                    type(exc).__name__,
                    str(exc),
                    context["handle"] is handle,
                    sys.exc_info()[1] is exc,
                ))
                if handler:
                    handler()

            loop.set_exception_handler(record)
            context = contextvars.copy_context()
            context.run(var.set, "inside")
            handle = kind(callback, args, loop, context)
            try:
                outcome = attempt(handle._run)
            except BaseException as exc:  # SystemExit, KeyboardInterrupt
                outcome = ("raised", type(exc).__name__, type(exc.__context__).__name__)
            finally:
                loop.close()
            results.append((outcome, seen, var.get()))
        self.assertEqual(results[0], results[1])
        return results[1]

    def test_the_callback_runs_in_the_handles_context_with_its_arguments(self):
        var_values = []

        def callback(*args):
            var_values.append((args, [v.get() for v in contextvars.copy_context().keys()]))

        for args in ((), ("a",), ("a", "b", "c")):
            var_values.clear()
            outcome, seen, outside = self.run_both(callback, args)
            self.assertEqual((outcome, seen, outside), (("ok", None), [], "outside"))
            self.assertEqual(var_values, [(args, ["inside"])] * 2)

    def test_an_exception_is_reported_as_events_handle_reports_it(self):
        def fails(x):
            raise ValueError(f"bad {x}")

        outcome, seen, _ = self.run_both(fails, (1,))
        self.assertEqual(outcome, ("ok", None))
        self.assertEqual(len(seen), 1)
        keys, message, kind, text, same_handle, handled = seen[0]
        self.assertEqual((keys, kind, text, same_handle, handled), (["message", "exception", "handle"], "ValueError", "bad 1", True, True))
        self.assertTrue(message.startswith("Exception in callback "), message)

    def test_system_exit_keyboard_interrupt_and_a_failing_handler_propagate(self):
        for exc in (SystemExit, KeyboardInterrupt):
            def raises(exc=exc):
                raise exc()

            outcome, seen, _ = self.run_both(raises, ())
            self.assertEqual((outcome, seen), (("raised", exc.__name__, "NoneType"), []))

        def handler_fails():
            raise KeyboardInterrupt

        outcome, seen, _ = self.run_both(lambda: 1 / 0, (), handler_fails)
        self.assertEqual(outcome, ("raised", "KeyboardInterrupt", "ZeroDivisionError"))
        self.assertEqual(len(seen), 1)


if __name__ == "__main__":
    unittest.main()
