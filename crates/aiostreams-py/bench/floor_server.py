"""Floors for the Python package's CPU targets: echo servers with no stream layer at all.

    python3 floor_server.py --mode echo|lines [--port P] [--uvloop] --floor task|protocol

Prints "Serving on HOST:PORT" (flushed) once listening, as bench/asyncio_server.py does.

--floor task: per connection a Task awaiting a bare loop.create_future() that
data_received completes, then transport.write: the least any implementation of asyncio's
streams API does per request (a Task runs the handler; a read that waits waits on a
Future woken with set_result).
--floor protocol: an asyncio.Protocol whose data_received writes back (no Task).
In lines mode each line is written on its own, as the bench script's readline loop does.

How the README's floor figures were measured: the server pinned to CPU 0 (taskset -c 0),
the load the bench's own tokio client on CPU 1 (`aiostreams bench-client --cell
client-echo-1k-c10 --impl tokio --port P --pid PID --count N`), the server's exact on-CPU
time from the first field of /proc/PID/schedstat before and after, divided by the
requests; asyncio_server.py (with and without --uvloop and --aiostreams) the same way,
interleaved, three runs each. Instructions: the server under valgrind --tool=callgrind,
counters zeroed (callgrind_control -z) after a warm-up and dumped (-d) after a fixed load.
"""

import argparse
import asyncio


def write_back(transport, data):
    if PER_LINE:
        for line in data.splitlines(keepends=True):
            transport.write(line)
    else:
        transport.write(data)


class ProtocolFloor(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        write_back(self.transport, data)


class TaskFloor(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.loop = asyncio.get_running_loop()
        self.data = b""
        self.waiter = None
        self.eof = False
        self.task = self.loop.create_task(self.run())

    def wake(self):
        waiter, self.waiter = self.waiter, None
        if waiter is not None:
            waiter.set_result(None)

    def data_received(self, data):
        self.data += data
        self.wake()

    def connection_lost(self, exc):
        self.eof = True
        self.wake()

    async def run(self):
        while True:
            if not self.data:
                if self.eof:
                    break
                self.waiter = self.loop.create_future()
                await self.waiter
                continue
            data, self.data = self.data, b""
            write_back(self.transport, data)


async def main(args):
    protocol = ProtocolFloor if args.floor == "protocol" else TaskFloor
    server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", args.port)
    print(f"Serving on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("echo", "lines"), required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--floor", choices=("task", "protocol"), required=True)
    args = parser.parse_args()
    PER_LINE = args.mode == "lines"  # one write per line, as the bench script's readline loop
    if args.uvloop:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        asyncio.run(main(args))
    except KeyboardInterrupt:
        pass
