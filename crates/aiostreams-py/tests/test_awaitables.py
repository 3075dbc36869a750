"""The awaitable a read returns, through the C calls that step it: `PyIter_Send` (what
`await` calls on 3.10 and 3.11 and a Task's step calls on 3.10+) gets a completed read's
bytes from the type's `am_send` without any exception; `tp_iternext` (`await` on 3.9 and
3.12+, `next()`) and `send()` finish with `StopIteration(value)`; 3.9, whose limited API has
no `am_send`, keeps `tp_iternext` only."""

import asyncio
import collections.abc
import ctypes
import sys
import unittest

import aiostreams
from aiostreams import _native

PY_AM_SEND, TP_ITERNEXT = 81, 63  # CPython's typeslots.h
PYGEN_RETURN, PYGEN_ERROR, PYGEN_NEXT = 0, -1, 1


def iter_send(op):
    """CPython's PyIter_Send(op, None): (status, result)."""
    send = ctypes.pythonapi.PyIter_Send
    send.argtypes = [ctypes.py_object, ctypes.py_object, ctypes.POINTER(ctypes.py_object)]
    send.restype = ctypes.c_int
    result = ctypes.py_object()
    status = send(op, None, ctypes.byref(result))
    return status, result.value


def type_slot(tp, slot):
    get = ctypes.pythonapi.PyType_GetSlot
    get.argtypes = [ctypes.py_object, ctypes.c_int]
    get.restype = ctypes.c_void_p
    return get(tp, slot)


class ReadAwaitable(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)
        self.reader = aiostreams.StreamReader(loop=self.loop)

    def test_is_a_coroutine_of_the_native_read_type(self):
        op = self.reader.readline()
        self.assertIsInstance(op, _native.ReadOp)
        self.assertIsInstance(op, collections.abc.Coroutine)
        op.close()

    @unittest.skipIf(sys.version_info < (3, 10), "am_send is in the limited API from 3.10")
    def test_the_type_has_am_send_from_310(self):
        self.assertTrue(type_slot(type(self.reader.read(0)), PY_AM_SEND))

    @unittest.skipIf(sys.version_info >= (3, 10), "3.9 only")
    def test_39_has_no_am_send(self):
        # 3.9 knows no slot 81 (am_send arrived in 3.10): NULL, or an error.
        try:
            slot = type_slot(type(self.reader.read(0)), PY_AM_SEND)
        except SystemError:
            slot = None
        self.assertFalse(slot)

    def test_the_await_path_steps_with_its_own_tp_iternext(self):
        # The subtype's tp_iternext (what await calls on 3.9 and 3.12+) is not pyo3's.
        read_type = type(self.reader.read(0))
        self.assertIsNot(read_type, _native.ReadOp)
        self.assertTrue(issubclass(read_type, _native.ReadOp))
        self.assertNotEqual(type_slot(read_type, TP_ITERNEXT), type_slot(_native.ReadOp, TP_ITERNEXT))

    @unittest.skipIf(sys.version_info < (3, 10), "PyIter_Send is in the limited API from 3.10")
    def test_iter_send_returns_a_completed_read_and_waits_for_one_that_must(self):
        self.reader.feed_data(b"one\ntwo")
        self.assertEqual(iter_send(self.reader.readline()), (PYGEN_RETURN, b"one\n"))
        op = self.reader.readline()
        status, fut = iter_send(op)
        self.assertEqual(status, PYGEN_NEXT)
        self.assertIs(fut, self.reader._waiter)
        self.assertTrue(fut._asyncio_future_blocking)
        self.reader.feed_data(b"\n")
        self.assertTrue(fut.done())
        self.assertEqual(iter_send(op), (PYGEN_RETURN, b"two\n"))
        self.assertIsNone(self.reader._waiter)
        self.reader.feed_eof()
        self.assertEqual(iter_send(self.reader.read()), (PYGEN_RETURN, b""))
        # An error is raised (PYGEN_ERROR with the exception set).
        with self.assertRaises(asyncio.IncompleteReadError):
            iter_send(self.reader.readexactly(3))

    def test_next_and_send_finish_with_stop_iteration_holding_the_bytes(self):
        self.reader.feed_data(b"abcdef")
        steps = (next, lambda op: op.__next__(), lambda op: op.send(None))
        for step, expected in zip(steps, (b"ab", b"cd", b"ef")):
            with self.assertRaises(StopIteration) as cm:
                step(self.reader.read(2))
            self.assertEqual(cm.exception.value, expected)
        self.assertEqual(self.reader._buffer, b"")
        self.reader.feed_eof()
        with self.assertRaises(StopIteration) as cm:
            next(self.reader.read())
        self.assertEqual(cm.exception.value, b"")

    def test_await_and_tasks_get_the_result(self):
        async def main():
            self.reader.feed_data(b"x\n")
            first = await self.reader.readline()
            task = asyncio.ensure_future(self.reader.readexactly(3))
            await asyncio.sleep(0)
            self.reader.feed_data(b"yz")
            self.reader.feed_data(b"w")
            self.reader.feed_eof()
            return first, await task, await asyncio.wait_for(self.reader.read(5), 1)

        self.assertEqual(self.loop.run_until_complete(main()), (b"x\n", b"yzw", b""))


if __name__ == "__main__":
    unittest.main()
