"""The Python side of aiostreams' streams: constructors, StreamWriter, the helpers.

Everything that runs per read, per received chunk, per write or per ``drain()`` is in
the native module; what is here runs once per connection.
"""

import socket
import sys
import warnings
import asyncio.selector_events as _selector_events
import asyncio.streams as _asyncio_streams
from asyncio import coroutines, events, protocols, tasks

from . import _native

__all__ = (
    "StreamReader",
    "StreamReaderProtocol",
    "StreamWriter",
    "open_connection",
    "open_unix_connection",
    "start_server",
    "start_unix_server",
)

_DEFAULT_LIMIT = _native.DEFAULT_LIMIT

# asyncio 3.10 and 3.11 look the loop up with a private helper that warns for the caller.
_PRIVATE_LOOKUP = (3, 10) <= sys.version_info < (3, 12)


def _get_event_loop():
    """The loop lookup asyncio's own StreamReader/StreamReaderProtocol make on this
    version, through ``asyncio.streams.events`` as theirs (so a test that patches that
    module sees ours use it too)."""
    if _PRIVATE_LOOKUP:
        return _asyncio_streams.events._get_event_loop(stacklevel=4)
    return _asyncio_streams.events.get_event_loop()


if sys.version_info < (3, 10):

    def _loop_argument(kwds):
        """Python 3.9's connection helpers take ``loop=``, deprecated (asyncio 3.9: the
        same DeprecationWarning, pointing at the caller's line)."""
        loop = kwds.pop("loop", None)
        if loop is None:
            return events.get_event_loop()
        warnings.warn(
            "The loop argument is deprecated since Python 3.8, "
            "and scheduled for removal in Python 3.10.",
            DeprecationWarning,
            stacklevel=3,
        )
        return loop

else:

    def _loop_argument(kwds):
        """From Python 3.10 on, ``loop=`` is not accepted: it stays in ``kwds`` and the
        loop's ``create_connection()`` rejects it, as with asyncio's helpers."""
        return events.get_running_loop()


# The stock loop's socket transport: with our protocol its receive and its plain write
# run natively (the transport stays asyncio's own object: see _native.use_native_io).
_SELECTOR_SOCKET = getattr(_selector_events, "_SelectorSocketTransport", None)
if not hasattr(_native, "use_native_io"):
    _SELECTOR_SOCKET = None


# Transports whose writes the writer coalesces until the task waits (one transport.write
# of everything written between two waits: _native.Outbox). Any other transport (TLS,
# pipes, another loop's) gets each write at once, as with asyncio's StreamWriter.
def _coalesced_transport(transport):
    cls = type(transport)
    if cls is _selector_events._SelectorSocketTransport:
        return True
    return cls.__module__ == "uvloop.loop" and cls.__name__ in ("TCPTransport", "UnixTransport")


def _flusher(loop):
    """The loop's one fallback that flushes coalesced writes in its next iteration (kept
    on the loop), or None for a loop that takes no attribute (then writes go through)."""
    try:
        return loop.__dict__["_aiostreams_flusher"]
    except (AttributeError, KeyError):
        pass
    flusher = _native.Flusher(loop)
    try:
        loop._aiostreams_flusher = flusher
    except (AttributeError, TypeError):
        return None
    return flusher


# asyncio >= 3.13 stopped keeping the server-side writer alive from its protocol
# (gh-114914), so that an unreferenced writer is closed by its __del__.
_PROTOCOL_KEEPS_WRITER = sys.version_info < (3, 13)


class StreamReader(_native.StreamReader):
    """asyncio ``StreamReader`` with a native buffer and native reads.

    Same constructor (``limit=65536, loop=None``), methods, exceptions and scheduling:
    a read the buffer can answer completes without suspending, as asyncio's does.
    ``_buffer``, ``_limit``, ``_transport``, ``_waiter``, ``_loop`` mirror asyncio's
    private attributes (``_buffer`` is a copy, as bytes).
    """

    _source_traceback = None

    def __init__(self, limit=_DEFAULT_LIMIT, loop=None):
        if limit <= 0:
            raise ValueError("Limit cannot be <= 0")
        if loop is None:
            loop = _get_event_loop()
        self._setup(limit, loop)


class StreamReaderProtocol(_native.ProtocolCore, protocols.Protocol, protocols.BufferedProtocol):
    """asyncio ``StreamReaderProtocol``: an ``asyncio.Protocol`` (as asyncio's is) that is
    also an ``asyncio.BufferedProtocol``.

    The stock loop's transports take the buffered path for it: ``get_buffer()`` lends
    the transport the reader's own spare capacity, so bytes go from the socket into the
    reader's buffer without a 256 KiB allocation per receive. uvloop takes its buffered
    path only for protocols that are not ``asyncio.Protocol``, and that path costs more
    per receive there (a Python-level ``get_buffer`` call in the context each time):
    on uvloop ``data_received`` feeds the reader. Write flow control
    (``pause_writing``/``resume_writing``, ``drain()``) is asyncio's.
    """

    _source_traceback = None

    def __init__(self, stream_reader, client_connected_cb=None, loop=None):
        if loop is None:
            loop = _get_event_loop()
        self._loop = loop
        self._setup(loop, stream_reader)
        # Server mode holds the reader until connection_made, as asyncio does.
        self._strong_reader = stream_reader if client_connected_cb is not None else None
        self._reject_connection = False
        self._stream_writer = None
        self._task = None
        self._transport = None
        self._client_connected_cb = client_connected_cb
        self._over_ssl = False
        self._closed = loop.create_future()

    def _receives_natively(self):
        # The native receive stands for get_buffer() + buffer_updated(): not for a
        # subclass that overrides either (or data_received, which the transport would
        # not call anyway while the protocol is buffered).
        cls = type(self)
        return (
            self._transport._protocol is self
            and cls.get_buffer is _native.ProtocolCore.get_buffer
            and cls.buffer_updated is _native.ProtocolCore.buffer_updated
        )

    def _replace_transport(self, transport):
        self._transport = transport
        self._over_ssl = transport.get_extra_info("sslcontext") is not None

    def connection_made(self, transport):
        reader = self._stream_reader
        if reader is not None:
            reader.set_transport(transport)
        self._over_ssl = transport.get_extra_info("sslcontext") is not None
        self._transport = transport
        if type(transport) is _SELECTOR_SOCKET and self._receives_natively():
            _native.use_native_io(transport, self)
        if self._client_connected_cb is None:
            return
        writer = StreamWriter(transport, self, reader, self._loop)
        if _PROTOCOL_KEEPS_WRITER:
            self._stream_writer = writer
        res = self._client_connected_cb(reader, writer)
        if coroutines.iscoroutine(res):
            loop = self._loop

            def callback(task):
                if task.cancelled():
                    transport.close()
                    return
                exc = task.exception()
                if exc is not None:
                    loop.call_exception_handler(
                        {
                            "message": "Unhandled exception in client_connected_cb",
                            "exception": exc,
                            "transport": transport,
                        }
                    )
                    transport.close()

            self._task = loop.create_task(res)
            self._task.add_done_callback(callback)
        self._strong_reader = None

    def connection_lost(self, exc):
        reader = self._stream_reader
        if reader is not None:
            if exc is None:
                reader.feed_eof()
            else:
                reader.set_exception(exc)
        if not self._closed.done():
            if exc is None:
                self._closed.set_result(None)
            else:
                self._closed.set_exception(exc)
        _native.ProtocolCore.connection_lost(self, exc)
        self._setup(None, None)
        self._stream_writer = None
        self._task = None
        self._transport = None

    def eof_received(self):
        reader = self._stream_reader
        if reader is not None:
            reader.feed_eof()
        if self._over_ssl:
            # TLS cannot half-close: returning False closes the transport.
            return False
        return True

    def _get_close_waiter(self, stream):
        return self._closed

    def __del__(self):
        # Mark a failed close future's exception as retrieved (no "never retrieved" log).
        try:
            closed = self._closed
        except AttributeError:
            return
        if closed.done() and not closed.cancelled():
            closed.exception()


class StreamWriter(_native.WriterCore):
    """asyncio ``StreamWriter``; ``drain()`` (native) below the high-water mark completes
    at once, and on the loops' own socket transports the bytes written between two waits
    leave in one ``transport.write()``: when a read on the connection is about to wait,
    when ``drain()`` waits, before ``close()``/``write_eof()``/``start_tls()``/
    ``get_extra_info()``/``transport``, and at the latest in the loop's next iteration.

    Normally created by ``open_connection``/``start_server``, as in asyncio.
    """

    def __init__(self, transport, protocol, reader, loop):
        self._transport = transport
        self._protocol = protocol
        self._reader = reader
        self._loop = loop
        self._complete_fut = self._loop.create_future()
        self._complete_fut.set_result(None)
        if _coalesced_transport(transport):
            flusher = _flusher(loop)
            if flusher is not None:
                self._coalesce(flusher)

    def __repr__(self):
        info = [self.__class__.__name__, f"transport={self._transport!r}"]
        if self._reader is not None:
            info.append(f"reader={self._reader!r}")
        return "<{}>".format(" ".join(info))

    @property
    def transport(self):
        # Whoever holds the transport may write, close or abort it: from now on this
        # writer's writes go to it at once, after what is pending.
        self._write_through()
        return self._transport

    def write_eof(self):
        self._write_through()
        return self._transport.write_eof()

    def can_write_eof(self):
        return self._transport.can_write_eof()

    def close(self):
        self._write_through()
        return self._transport.close()

    def is_closing(self):
        return self._transport.is_closing()

    async def wait_closed(self):
        await self._protocol._get_close_waiter(self)

    def get_extra_info(self, name, default=None):
        # The socket itself is among the extras: what was written goes before its use.
        self._flush()
        return self._transport.get_extra_info(name, default)

    async def _drain_generic(self):
        # drain() with a protocol that is not aiostreams' (the native drain() calls this).
        if self._reader is not None:
            exc = self._reader.exception()
            if exc is not None:
                raise exc
        if self._transport.is_closing():
            await tasks.sleep(0)
        await self._protocol._drain_helper()

    async def start_tls(
        self,
        sslcontext,
        *,
        server_hostname=None,
        ssl_handshake_timeout=None,
        ssl_shutdown_timeout=None,
    ):
        """Upgrade the connection to TLS (asyncio ``StreamWriter.start_tls()``)."""
        server_side = self._protocol._client_connected_cb is not None
        protocol = self._protocol
        self._write_through()
        await self.drain()
        new_transport = await self._loop.start_tls(
            self._transport,
            protocol,
            sslcontext,
            server_side=server_side,
            server_hostname=server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )
        self._transport = new_transport
        protocol._replace_transport(new_transport)

    def __del__(self, warnings=warnings):
        try:
            transport = self._transport
        except AttributeError:
            return
        if not transport.is_closing():
            if self._loop.is_closed():
                warnings.warn("loop is closed", ResourceWarning)
            else:
                self.close()
                warnings.warn(f"unclosed {self!r}", ResourceWarning)


async def open_connection(host=None, port=None, *, limit=_DEFAULT_LIMIT, **kwds):
    """A wrapper for ``create_connection()`` returning a ``(reader, writer)`` pair.

    asyncio: ``asyncio.open_connection``, same arguments.
    """
    loop = _loop_argument(kwds)
    reader = StreamReader(limit=limit, loop=loop)
    protocol = StreamReaderProtocol(reader, loop=loop)
    transport, _ = await loop.create_connection(lambda: protocol, host, port, **kwds)
    writer = StreamWriter(transport, protocol, reader, loop)
    return reader, writer


async def start_server(client_connected_cb, host=None, port=None, *, limit=_DEFAULT_LIMIT, **kwds):
    """Start a socket server, calling back for each client connected.

    asyncio: ``asyncio.start_server``, same arguments; returns the loop's ``Server``.
    """
    loop = _loop_argument(kwds)

    def factory():
        reader = StreamReader(limit=limit, loop=loop)
        return StreamReaderProtocol(reader, client_connected_cb, loop=loop)

    return await loop.create_server(factory, host, port, **kwds)


if hasattr(socket, "AF_UNIX"):

    async def open_unix_connection(path=None, *, limit=_DEFAULT_LIMIT, **kwds):
        """Like ``open_connection`` but works with UNIX Domain Sockets.

        asyncio: ``asyncio.open_unix_connection``.
        """
        loop = _loop_argument(kwds)
        reader = StreamReader(limit=limit, loop=loop)
        protocol = StreamReaderProtocol(reader, loop=loop)
        transport, _ = await loop.create_unix_connection(lambda: protocol, path, **kwds)
        writer = StreamWriter(transport, protocol, reader, loop)
        return reader, writer

    async def start_unix_server(client_connected_cb, path=None, *, limit=_DEFAULT_LIMIT, **kwds):
        """Like ``start_server`` but works with UNIX Domain Sockets.

        asyncio: ``asyncio.start_unix_server``.
        """
        loop = _loop_argument(kwds)

        def factory():
            reader = StreamReader(limit=limit, loop=loop)
            return StreamReaderProtocol(reader, client_connected_cb, loop=loop)

        return await loop.create_unix_server(factory, path, **kwds)
