"""Runs socket-level cases through CPython's asyncio: the oracle of tests/socket_parity.rs.

The reader side is asyncio's StreamReader/StreamWriter over a real connection (a TCP
loopback pair or a Unix socketpair); the peer is a plain blocking socket driven by the
case. The wire format and the read helpers are asyncio_oracle.py's (one header line, then
one case per stdin line and one result line per case; read results as there).

A case: {"transport": "tcp" | "unix", "limit": n, "ops": [...]}, ops being
* the peer's: send(data hex), fin (shutdown(SHUT_WR)), rst (SO_LINGER 0 + close);
* reads, as asyncio_oracle.py: read(n), read_all, readline, readuntil(sep), readexactly(n);
* our writer's: write(data hex), drain, write_eof, close, abort.
After the ops our side closes (unless it did) and waits until closed; then the peer reads
what we sent until EOF or reset. Result line:
  {"results": [...one per op...], "closed": result of wait_closed, "peer": {"data": hex,
   "end": "eof" | "reset" | "gone"}}

aiostreams' documented differences are modelled here, each by name, on top of asyncio's
own code (README, "Where we differ from CPython on purpose"; tests/socket_parity.rs names
the two it models on its side, read_returns_what_was_pulled and
readuntil_overrun_depends_on_arrival):
* no_read_pausing: our reader has no pause_reading() at 2 x limit (the kernel's buffer is
  its flow control), so this reader never pauses either: its buffer holds everything that
  arrived, which is what our reads look at (readline() looks ahead through what already
  arrived before it reports an over-long line);
* discard_overlong_line: after readline()'s "not found" limit error, the rest of that line
  is dropped through its newline as it arrives (asyncio_oracle.DiscardOverlongLine);
* pull_sees_reset_late: a pull-based reader meets a peer's reset when it next needs the
  socket (a read the buffer cannot satisfy, write(), drain()): bytes that arrived before
  the reset are still read until then (asyncio's eager reader met the reset at once and
  raises it before its buffered bytes), and a reset no operation met leaves close() and
  wait_closed() clean. A reset after the peer's EOF is met too (asyncio stops reading at
  EOF and would never see it; drain() does): the oracle takes the socket's error then.
  readline()'s look-ahead after a "not found" limit error, and write_eof() over TCP (its
  shutdown() fails), meet a reset too; a write_eof() on a connection the reset already
  closed for asyncio still half-closes for us. The first error is the connection's, kept
  by the reader and raised by wait_closed();
* close_discards_unread_input: close() and abort() first drop input that arrived unread,
  so the peer sees a FIN rather than a reset.
"""

import asyncio
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import asyncio_oracle  # noqa: E402  (the shared wire format and read helpers)
from asyncio_oracle import NOT_FOUND, DiscardOverlongLine, error, run_read  # noqa: E402

# Loop iterations a read gets before it counts as blocked: the peer's bytes are already in
# our kernel, and one iteration reads them, a second runs the woken read.
asyncio_oracle.SPIN = 10
SETTLE = 3  # loop iterations after each op, so that the eager reader has seen its effect


class PullModelReader(asyncio.StreamReader):
    """asyncio's reader with no_read_pausing and pull_sees_reset_late."""

    pending = None

    def set_transport(self, transport):
        pass  # no_read_pausing: without a transport, feed_data never pauses reading

    def set_exception(self, exc):
        if self._exception is not None or self.pending is not None:
            return  # the connection's first error stays
        if isinstance(exc, ConnectionResetError) and self._waiter is None:
            self.pending = exc  # met by the next read that needs the socket
        else:
            super().set_exception(exc)

    def reset_after_eof(self, sock):
        """A reset that arrived after EOF, which asyncio no longer reads for."""
        if self._eof and self._exception is None and self.pending is None:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.pending = OSError(err, os.strerror(err))

    def meet_reset(self):
        """The reset is met now (a read that needs the socket, write, drain, write_eof)."""
        if self.pending is None:
            return False
        exc, self.pending = self.pending, None
        super().set_exception(exc)
        return True

    async def _wait_for_data(self, func_name):
        self.meet_reset()
        if self._exception is not None:
            raise self._exception
        return await super()._wait_for_data(func_name)


class Protocol(asyncio.StreamReaderProtocol):
    """Feeds through discard_overlong_line."""

    def __init__(self, reader, rules):
        super().__init__(reader)
        self.rules = rules

    def data_received(self, data):
        self.rules.feed_data(data)


def os_error(exc):
    """asyncio_oracle.error, plus what a connection adds: OS errors by errno and text,
    drain()'s ConnectionResetError('Connection lost'), RuntimeError (bad state)."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return {"err": "os_error", "errno": exc.errno, "msg": exc.strerror}
    if isinstance(exc, ConnectionResetError):
        return {"err": "connection_lost", "msg": str(exc)}
    if isinstance(exc, RuntimeError):
        return {"err": "invalid_state", "msg": str(exc)}
    return error(exc)


asyncio_oracle.error = os_error  # run_read reports through it


def pair(transport):
    if transport == "unix":
        return socket.socketpair()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        ours = socket.create_connection(listener.getsockname())
        peer, _ = listener.accept()
    peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ours, peer


def discard_unread(sock):
    """close_discards_unread_input (nothing to do once asyncio closed the socket)."""
    try:
        sock.setblocking(False)
        while sock.recv(65536):
            pass
    except OSError:
        pass


def peer_reads(peer):
    data = bytearray()
    peer.settimeout(10)
    try:
        while chunk := peer.recv(65536):
            data += chunk
        end = "eof"
    except ConnectionResetError:
        end = "reset"
    return {"data": bytes(data).hex(), "end": end}


async def settle():
    for _ in range(SETTLE):
        await asyncio.sleep(0)


async def run_case(case):
    loop = asyncio.get_running_loop()
    ours, peer = pair(case["transport"])
    reader = PullModelReader(limit=case["limit"])
    rules = DiscardOverlongLine(reader)
    protocol = Protocol(reader, rules)
    transport, _ = await loop.connect_accepted_socket(lambda: protocol, sock=ours)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    peer_open, closed = True, False
    tcp = case["transport"] == "tcp"
    results = []
    for op in case["ops"]:
        kind = op["op"]
        result = {"ok": None}
        try:
            if kind == "send":
                peer.sendall(bytes.fromhex(op["data"]))
            elif kind == "fin":
                peer.shutdown(socket.SHUT_WR)
            elif kind == "rst":
                peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                peer.close()
                peer_open = False
                await settle()
                reader.reset_after_eof(ours)
            elif kind == "write":
                data = bytes.fromhex(op["data"])
                if data and not transport._eof:  # a write that reaches the socket
                    reader.meet_reset()
                writer.write(data)
            elif kind == "drain":
                reader.meet_reset()
                await writer.drain()
            elif kind == "write_eof":
                if reader._exception is not None:
                    pass  # the connection is lost for the puller: write_eof() does nothing
                elif tcp and not transport._eof and reader.meet_reset():
                    transport._eof = True  # shutdown() met it (TCP; a Unix one succeeds)
                elif reader.pending is not None:
                    transport._eof = True  # a half-close asyncio, closed by the reset, skipped
                else:
                    writer.write_eof()
            elif kind in ("close", "abort"):
                discard_unread(ours)
                transport.abort() if kind == "abort" else writer.close()
                closed = True
            else:
                result = await run_read(reader, op)
                rules.after_read(op, result)
                if kind == "readline" and result.get("msg") == NOT_FOUND and not reader._eof:
                    reader.meet_reset()  # the look-ahead through what arrived reaches it
        except Exception as exc:  # noqa: BLE001 - every outcome is data here
            result = os_error(exc)
        results.append(result)
        await settle()
    if not closed:
        discard_unread(ours)
        writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 10)
        closed_result = {"ok": None}
    except Exception as exc:  # noqa: BLE001
        closed_result = os_error(exc)
    if reader._exception is not None:
        closed_result = os_error(reader._exception)  # the connection's first error
    if reader.pending is not None:
        # pull_sees_reset_late: a reset no operation met ends nothing for the puller;
        # its close is a clean one (wait_closed() alone does not see a reset).
        closed_result = {"ok": None}
    seen = peer_reads(peer) if peer_open else {"data": "", "end": "gone"}
    if peer_open:
        peer.close()
    return {"results": results, "closed": closed_result, "peer": seen}


async def main():
    await asyncio_oracle.serve(run_case, {"python": sys.version.split()[0]})


if __name__ == "__main__":
    asyncio.run(main())
