"""The stock loop's select() and _process_events() made native (loop_events.rs): put on
asyncio's own loop and selector objects once a connection uses the native transport
path, and doing what the Python methods do: the same event list, the same handles in
_ready in the same order, the same calls for cancelled handles, the same errors."""

import asyncio
import asyncio.selector_events
import math
import selectors
import socket
import unittest

import aiostreams
from aiostreams import _native

from test_behaviour import LoopCase

EPOLL = hasattr(selectors, "EpollSelector") and hasattr(_native, "EpollSelect")
PYTHON_SELECT = selectors.EpollSelector.select if EPOLL else None
PYTHON_PROCESS = asyncio.selector_events.BaseSelectorEventLoop._process_events


def attempt(f, *args):
    try:
        return ("ok", f(*args))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@unittest.skipUnless(EPOLL, "epoll and the native loop events")
class LoopEvents(LoopCase):
    loop_kind = "stock"

    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)
        self.socks = []
        self.addCleanup(lambda: [s.close() for s in self.socks])

    def socketpair(self):
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        self.socks += [a, b]
        return a, b

    def test_installed_by_a_connection_and_only_once(self):
        async def scenario():
            async def handler(reader, writer):
                writer.write(await reader.readline())
                await writer.drain()
                writer.close()

            loop = asyncio.get_running_loop()
            async with self.server(handler) as port:
                for _ in range(2):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.write(b"hi\n")
                    line = await reader.readline()
                    writer.close()
            return (
                line,
                type(loop.__dict__["_process_events"]),
                type(loop._selector.__dict__["select"]),
                type(loop.__dict__["_run_once"]),
                type(loop),
                type(loop._selector),
            )

        line, process, select, run_once, loop_class, selector_class = self.run_async(scenario())
        self.assertIs(run_once, _native.RunOnce)
        self.assertEqual(line, b"hi\n")
        self.assertIs(process, _native.ProcessEvents)
        self.assertIs(select, _native.EpollSelect)
        self.assertIs(loop_class, asyncio.SelectorEventLoop)
        self.assertIs(selector_class, selectors.EpollSelector)

    def test_not_for_a_loop_subclass_or_another_selector(self):
        class Loop(asyncio.SelectorEventLoop):
            def _process_events(self, event_list):
                return super()._process_events(event_list)

        for loop in (Loop(), asyncio.SelectorEventLoop(selectors.PollSelector())):
            self.addCleanup(loop.close)
            _native.use_native_loop_events(loop)
            self.assertNotIn("_process_events", loop.__dict__)
            self.assertNotIn("select", loop._selector.__dict__)
            self.assertNotIn("_run_once", loop.__dict__)

    def test_select_returns_what_the_python_select_returns(self):
        sel = self.loop._selector
        _native.use_native_loop_events(self.loop)
        native = sel.__dict__["select"]
        pairs = [self.socketpair() for _ in range(4)]
        sel.register(pairs[0][0], selectors.EVENT_READ, "r")
        sel.register(pairs[1][0], selectors.EVENT_WRITE, "w")
        sel.register(pairs[2][0], selectors.EVENT_READ | selectors.EVENT_WRITE, "rw")
        sel.register(pairs[3][0], selectors.EVENT_READ, "idle")
        for _, b in pairs[:3]:
            b.send(b"x")
        pairs[3][1].shutdown(socket.SHUT_WR)  # EPOLLIN | EPOLLRDHUP
        for timeout in (None, 0, 0.0, -1, -0.5, 1e-9, 0.0004, 2, True, math.inf, math.nan, "1"):
            ours, theirs = attempt(native, timeout), attempt(PYTHON_SELECT, sel, timeout)
            if ours[0] == "ok":
                ours = ("ok", sorted(ours[1], key=lambda e: e[0].fd))
                theirs = ("ok", sorted(theirs[1], key=lambda e: e[0].fd))
            self.assertEqual(ours, theirs, timeout)
        self.assertEqual(len(native()), 4)
        self.assertEqual(native.__call__(timeout=0), PYTHON_SELECT(sel, 0))

    def test_process_events_queues_what_the_python_method_queues(self):
        _native.use_native_loop_events(self.loop)
        native = self.loop.__dict__["_process_events"]
        (a, _), (c, _) = self.socketpair(), self.socketpair()
        removed = []

        def scenario(process):
            loop = self.loop
            loop._ready.clear()
            removed.clear()
            for s in (a, c):
                loop._remove_reader(s.fileno())
                loop._remove_writer(s.fileno())
            loop._add_reader(a.fileno(), removed.append, "a-read")
            loop._add_writer(a.fileno(), removed.append, "a-write")
            loop._add_reader(c.fileno(), removed.append, "c-read")
            sel = loop._selector
            key_a, key_c = sel.get_key(a.fileno()), sel.get_key(c.fileno())
            key_c.data[0].cancel()
            fast = _native.Handle(print, ("fast",), loop, None)
            sel.modify(a.fileno(), selectors.EVENT_READ | selectors.EVENT_WRITE, (fast, key_a.data[1]))
            key_a = sel.get_key(a.fileno())
            events = [(key_a, 3), (key_c, 1), (key_a, 2), (key_a, 0)]
            process(events)
            queued = [(type(h).__name__, h._args) for h in loop._ready]
            still = sorted(k.fd for k in sel.get_map().values())
            return queued, still

        self.assertEqual(scenario(native), scenario(lambda e: PYTHON_PROCESS(self.loop, e)))
        queued, still = scenario(native)
        self.assertEqual(queued, [("Handle", ("fast",)), ("Handle", ("a-write",)), ("Handle", ("a-write",))])
        self.assertIn(a.fileno(), still)  # c's reader was cancelled: removed
        self.assertNotIn(c.fileno(), still)

    def test_process_events_other_lists_go_to_the_python_method(self):
        _native.use_native_loop_events(self.loop)
        native = self.loop.__dict__["_process_events"]
        for bad in ([(1, 2, 3)], [("key", 1)], [object()], None, [], ()):
            self.assertEqual(attempt(native, bad), attempt(PYTHON_PROCESS, self.loop, bad), bad)

    def test_a_timer_handle_goes_to_add_callback(self):
        # 3.9's _add_callback asserts it is not a TimerHandle: the method decides.
        _native.use_native_loop_events(self.loop)
        native = self.loop.__dict__["_process_events"]
        a, _ = self.socketpair()
        timer = asyncio.TimerHandle(0, print, (), self.loop)
        key = selectors.SelectorKey(a, a.fileno(), selectors.EVENT_READ, (timer, None))
        ours = attempt(native, [(key, 1)])
        ours_ready = list(self.loop._ready)
        self.loop._ready.clear()
        theirs = attempt(PYTHON_PROCESS, self.loop, [(key, 1)])
        self.assertEqual((ours, ours_ready), (theirs, list(self.loop._ready)))

    def test_run_once_runs_callbacks_and_timers_as_the_python_method(self):
        def scenario(native):
            loop = asyncio.new_event_loop()
            try:
                if native:
                    _native.use_native_loop_events(loop)
                    self.assertIs(type(loop.__dict__["_run_once"]), _native.RunOnce)
                trace = []

                def cb(name):
                    trace.append((name, len(loop._ready), len(loop._scheduled)))

                def spawn():
                    trace.append("spawn")
                    loop.call_soon(cb, "next iteration")
                    loop.call_later(0, cb, "timer from a callback")

                loop.call_soon(cb, "a")
                loop.call_later(0, cb, "due")
                loop.call_later(0, cb, "cancelled").cancel()
                loop.call_soon(spawn)
                loop.call_soon(cb, "b").cancel()
                loop.call_later(0.01, cb, "later")
                loop.call_later(0.02, loop.stop)
                loop.run_forever()
                loop.call_soon(cb, "after stop")
                loop.call_soon(loop.stop)
                loop.run_forever()
                return trace
            finally:
                loop.close()

        self.assertEqual(scenario(True), scenario(False))
        self.assertIn(("timer from a callback", 0, 2), scenario(True))

    def test_run_once_debug_mode_reports_a_slow_callback(self):
        def scenario(native):
            loop = asyncio.new_event_loop()
            try:
                if native:
                    _native.use_native_loop_events(loop)
                loop.set_debug(True)
                loop.slow_callback_duration = 0
                current = []
                loop.call_soon(lambda: current.append(loop._current_handle is not None))
                loop.call_soon(loop.stop)
                with self.assertLogs("asyncio", "WARNING") as logs:
                    loop.run_forever()
                return current, loop._current_handle, [
                    m.split(" at ")[0].split("(")[0] for m in logs.output
                ]
            finally:
                loop.close()

        ours = scenario(True)
        self.assertEqual(ours, scenario(False))
        self.assertEqual(ours[0], [True])
        self.assertTrue(ours[2] and ours[2][0].startswith("WARNING:asyncio:Executing <Handle"), ours)

    def test_run_once_an_exception_that_propagates_leaves_the_rest_queued(self):
        def scenario(native):
            loop = asyncio.new_event_loop()
            try:
                if native:
                    _native.use_native_loop_events(loop)
                trace = []

                def interrupt():
                    raise KeyboardInterrupt

                loop.call_soon(trace.append, 1)
                loop.call_soon(interrupt)
                loop.call_soon(trace.append, 2)
                try:
                    loop.run_forever()
                except KeyboardInterrupt:
                    trace.append("interrupted")
                return trace, len(loop._ready)
            finally:
                loop.close()

        self.assertEqual(scenario(True), scenario(False))
        self.assertEqual(scenario(True), ([1, "interrupted"], 1))


if __name__ == "__main__":
    unittest.main()
