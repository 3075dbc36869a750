"""asyncio's streams with a native core, on any asyncio event loop.

``open_connection``, ``start_server``, ``open_unix_connection``, ``start_unix_server``,
``StreamReader``, ``StreamWriter`` and ``StreamReaderProtocol`` behave as asyncio's
(same arguments, results, exceptions and scheduling) and cost less CPU: the reader's
buffer and read rules are native, the protocol is an ``asyncio.BufferedProtocol`` whose
transport reads straight into the reader's buffer, and reads the buffer can answer
complete without creating a Future.

``import aiostreams`` changes nothing in asyncio. ``aiostreams.install()`` puts these
in place of asyncio's, so an unmodified asyncio program uses them::

    import asyncio, aiostreams
    aiostreams.install()
    asyncio.run(main())   # main() calls asyncio.open_connection(...) as before
"""

from . import _streams
from ._streams import (
    StreamReader,
    StreamReaderProtocol,
    StreamWriter,
    open_connection,
    open_unix_connection,
    start_server,
    start_unix_server,
)

__all__ = _streams.__all__ + ("install",)

# The names install() puts in asyncio: all of _streams' own.
_NAMES = _streams.__all__


def install():
    """Put aiostreams' streams in place of asyncio's.

    asyncio: like ``uvloop.install()`` for the event loop. Replaces the seven names in
    ``asyncio`` and ``asyncio.streams`` (``asyncio.open_connection`` and the rest), so
    code that looks them up there uses aiostreams. Idempotent. Objects created before
    the call are not affected.
    """
    import asyncio
    import asyncio.streams

    from . import _streams

    for name in _NAMES:
        value = getattr(_streams, name)
        if hasattr(asyncio.streams, name):
            setattr(asyncio.streams, name, value)
        if hasattr(asyncio, name):
            setattr(asyncio, name, value)
