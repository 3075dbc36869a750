//! One client callback per `--mode`, written as an asyncio user would write them.
//!
//! Every handler stops at its next idle point (waiting for the client's next message)
//! once the server starts shutting down, so `Server::shutdown` ends them gracefully.
//! A line (`lines`) or request head (`http-hello`) over `--limit` gets an answer, not a
//! silent close, and a warning line in the log. A connection closed by one of the
//! `--*-timeout` flags gets one `info` line.

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use aiostreams::{DEFAULT_HIGH_WATER, Error, Overlong, RecordLimit, StreamReader, StreamWriter};
use clap::ValueEnum;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::stats::{Event, Stats};
use crate::mode::Mode;

/// What `read()` asks for at most by default (asyncio's `reader.read(65536)`).
pub(super) const DEFAULT_READ_SIZE: usize = 64 * 1024;
/// `http-hello`: the body is skipped this much at a time.
const CHUNK: usize = 64 * 1024;

/// The `http-hello` answer to a keep-alive request.
const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
/// The answer when the connection closes after it.
const HELLO_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!";
/// The answer to a request we cannot parse.
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/// The answer to a request head over the limit (RFC 6585).
const HEAD_TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// `--on-overlong`: what `lines` does after a line over the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum OnOverlong {
    /// Answer an error line, then close the connection.
    Error,
    /// Drop the line (the library's `Overlong::DiscardToSeparator`), answer an error
    /// line in its place once it ends, then go on with the next line.
    Skip,
}

/// What every connection's handler shares.
#[derive(Debug)]
pub(super) struct Config {
    pub(super) mode: Mode,
    /// The reader limit the server was given (for the messages).
    pub(super) limit: usize,
    /// `echo`/`discard`: each `read(n)`'s `n` (`--read-size`).
    pub(super) read_size: usize,
    pub(super) on_overlong: OnOverlong,
    /// The server's shutdown signal.
    pub(super) shutdown: Shutdown,
    pub(super) stats: Arc<Stats>,
}

/// The server's shutdown signal as the handlers watch it: the token, and a flag set
/// before it is cancelled.
#[derive(Debug)]
pub(super) struct Shutdown {
    /// Cancelled when the server starts shutting down.
    token: CancellationToken,
    /// Set just before `token` is cancelled: a handler that registered with the token
    /// once looks at this flag, not at the token (whose state is behind its locks).
    stopping: AtomicBool,
}

impl Shutdown {
    pub(super) fn new(token: CancellationToken) -> Self {
        Shutdown {
            token,
            stopping: AtomicBool::new(false),
        }
    }

    /// Call before the server cancels the token (`Server::shutdown`): a handler
    /// waiting at its idle point sees the token only after this.
    pub(super) fn begin(&self) {
        self.stopping.store(true, Ordering::Release);
    }
}

/// Serves one client in its mode, then closes the connection.
///
/// A function returning an `async` block, not an `async fn`: an `async fn` keeps a copy
/// of each argument beside its own (the reader is 112 bytes), for the connection's life.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn would keep its arguments twice (idle memory per connection)"
)]
pub(super) fn handle(
    config: Arc<Config>,
    mut reader: StreamReader,
    writer: StreamWriter,
) -> impl Future<Output = Result<(), Error>> {
    async move {
        config.stats.count(Event::Served);
        let failed = |_: &Error| config.stats.count(Event::ClosedByError);
        // Each mode's future is boxed: an idle connection then holds only its own mode's
        // state, not the largest of the four (idle memory per connection).
        let served = {
            let (reader, writer, shutdown) = (&mut reader, &writer, &config.shutdown);
            let served = match config.mode {
                Mode::Echo => Box::pin(echo(reader, writer, shutdown, config.read_size)).await,
                Mode::Lines => Box::pin(lines(&config, reader, writer)).await,
                Mode::Discard => Box::pin(discard(reader, shutdown, config.read_size)).await,
                Mode::HttpHello => Box::pin(http_hello(&config, reader, writer)).await,
            };
            writer.close();
            served
        };
        if let Err(e @ Error::TimedOut { .. }) = &served {
            // Closed by a --*-timeout: one line, and no error (the client was too slow).
            config.stats.count(Event::ClosedByTimeout);
            let peer = peer(&writer);
            tracing::info!(peer, "{e}: closed");
            return Ok(());
        }
        if let Err(e) = &served
            && is_truncation(e)
        {
            // A TLS client gone without close_notify (load generators close so): the end
            // of its stream, as asyncio's reader sees it, not a handler error.
            let peer = peer(&writer);
            tracing::debug!(peer, "{e}: closed");
            return Ok(());
        }
        served.inspect_err(failed)?;
        // (`served` is scoped above so it is not kept across this await.)
        writer.wait_closed().await.inspect_err(failed)
    }
}

/// The client's address for a log line (empty when the socket has none).
fn peer(writer: &StreamWriter) -> String {
    writer.peername().map(|p| p.to_string()).unwrap_or_default()
}

/// The client closed its TLS connection without close_notify (a truncation): the read's
/// error, which asyncio does not raise (its reader sees EOF) and logs nothing for.
fn is_truncation(e: &Error) -> bool {
    matches!(e, Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof)
}

/// Logs and counts a line or head over the limit; `closing` when the connection ends.
fn overlong(config: &Config, writer: &StreamWriter, what: &str, closing: bool) {
    let peer = peer(writer);
    let limit = config.limit;
    if closing {
        config.stats.count(Event::ClosedByLimit);
        tracing::warn!(
            peer,
            "{what} over the limit of {limit} bytes: answered, closed"
        );
    } else {
        config.stats.count(Event::SkippedLine);
        tracing::warn!(
            peer,
            "{what} over the limit of {limit} bytes: answered, skipped"
        );
    }
}

pin_project_lite::pin_project! {
    /// The shutdown signal as one connection's loop watches it at its idle points.
    ///
    /// The loop awaits each read that waits for the client's next message through
    /// [`Watch::idle`]: once the server starts shutting down, that read is dropped (reads
    /// are cancel safe) and the loop ends as at EOF. Its other waits (a `drain()`, the rest of
    /// a request) are not watched, so a request already read is still answered.
    ///
    /// The task registers with the token once: polling tokio-util's `cancelled()` future
    /// takes the token's locks on every poll, and making one per read registered and
    /// unregistered it on every request (about 430 instructions per request of a 1 KiB echo,
    /// callgrind). Later waits from the same task load [`Shutdown`]'s flag, set before the
    /// token wakes the task. One small wrapper per read, not a race around the whole loop
    /// (a future of its own with a `busy` flag the loop set around its other waits): that
    /// layer cost about 50 instructions per request. Not `select!` per read either: it moved
    /// the read's future into the race on every request (about 200 instructions).
    struct Watch<'a> {
        #[pin]
        cancelled: WaitForCancellationFuture<'a>,
        stopping: &'a AtomicBool,
        // The task's waker when the token's future was last polled.
        task: Option<Waker>,
    }
}

impl<'a> Watch<'a> {
    fn new(shutdown: &'a Shutdown) -> Self {
        Watch {
            cancelled: shutdown.token.cancelled(),
            stopping: &shutdown.stopping,
            task: None,
        }
    }

    /// `read`, or `None` when the server starts shutting down while it waits.
    fn idle<'w, F: Future>(self: Pin<&'w mut Self>, read: F) -> Idle<'w, 'a, F> {
        Idle { read, watch: self }
    }

    /// Whether the server is shutting down; registers the task with the token on its
    /// first wait (or a wait from another task).
    fn stopping(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        let this = self.project();
        let registered = this.task.as_ref().is_some_and(|t| t.will_wake(cx.waker()));
        if registered && !this.stopping.load(Ordering::Acquire) {
            return false;
        }
        if !registered {
            *this.task = Some(cx.waker().clone());
        }
        // The token keeps this waker until it is cancelled.
        this.cancelled.poll(cx).is_ready()
    }
}

pin_project_lite::pin_project! {
    /// See [`Watch::idle`].
    struct Idle<'w, 'a, F> {
        #[pin]
        read: F,
        watch: Pin<&'w mut Watch<'a>>,
    }
}

impl<F: Future> Future for Idle<'_, '_, F> {
    type Output = Option<F::Output>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.read.poll(cx) {
            return Poll::Ready(Some(out));
        }
        if this.watch.as_mut().stopping(cx) {
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

/// `read(65536)` (`--read-size`), `write`, `drain`, until EOF.
async fn echo(
    reader: &mut StreamReader,
    writer: &StreamWriter,
    shutdown: &Shutdown,
    read_size: usize,
) -> Result<(), Error> {
    let mut watch = pin!(Watch::new(shutdown));
    loop {
        let Some(data) = watch.as_mut().idle(reader.read(read_size)).await else {
            return Ok(());
        };
        let data = data?;
        if data.is_empty() {
            return Ok(());
        }
        writer.write_bytes(data)?;
        writer.drain().await?;
    }
}

/// `readline`, `write`, until EOF. Lines answered between two reads leave together:
/// `drain()` is awaited only when the write queue is above the high-water mark.
///
/// A line over the limit is answered with an `error: ...` line. `--on-overlong error`:
/// `readline()` fails as soon as the buffer passes the limit; the answer goes out and
/// the connection closes. `--on-overlong skip`: the library's policy,
/// `readline_with(RecordLimit .. DiscardToSeparator)`, drops the line as it arrives
/// (memory stays bounded however long it is) and reports it once its `\n` is in; the
/// answer then takes the line's place among the answers, and the next line is served.
async fn lines(
    config: &Config,
    reader: &mut StreamReader,
    writer: &StreamWriter,
) -> Result<(), Error> {
    let skip = match config.on_overlong {
        OnOverlong::Error => None,
        OnOverlong::Skip => {
            Some(RecordLimit::new(config.limit)?.on_overlong(Overlong::DiscardToSeparator))
        }
    };
    let mut watch = pin!(Watch::new(&config.shutdown));
    loop {
        // `readline()` when over-long lines close: the reader's own fast path.
        let next = match skip {
            Some(limit) => watch.as_mut().idle(reader.readline_with(limit)).await,
            None => watch.as_mut().idle(reader.readline()).await,
        };
        let line = match next {
            None => return Ok(()),
            Some(Ok(line)) if line.is_empty() => return Ok(()),
            Some(Ok(line)) => line,
            Some(Err(e @ (Error::LimitOverrun { .. } | Error::OverlongDiscarded { .. }))) => {
                let closing = matches!(e, Error::LimitOverrun { .. });
                overlong(config, writer, "line", closing);
                let action = if closing { "closing" } else { "skipped" };
                let answer = format!(
                    "error: line over the limit of {} bytes; {action}\n",
                    config.limit
                );
                writer.write(answer.as_bytes())?;
                if closing {
                    return Ok(());
                }
                continue;
            }
            Some(Err(e)) => return Err(e),
        };
        writer.write_bytes(line)?;
        if writer.transport().get_write_buffer_size() > DEFAULT_HIGH_WATER {
            writer.drain().await?;
        }
    }
}

/// `read(65536)` (`--read-size`) and drop, until EOF.
async fn discard(
    reader: &mut StreamReader,
    shutdown: &Shutdown,
    read_size: usize,
) -> Result<(), Error> {
    let mut watch = pin!(Watch::new(shutdown));
    while let Some(data) = watch.as_mut().idle(reader.read(read_size)).await {
        if data?.is_empty() {
            break;
        }
    }
    Ok(())
}

/// HTTP/1.1 keep-alive: `readuntil(b"\r\n\r\n")`, skip the body, answer `Hello, World!`.
///
/// A head over the limit is answered `431 Request Header Fields Too Large` with
/// `Connection: close` (HTTP cannot skip to the next request: the rest of the head may
/// hold a body's length).
async fn http_hello(
    config: &Config,
    reader: &mut StreamReader,
    writer: &StreamWriter,
) -> Result<(), Error> {
    let mut watch = pin!(Watch::new(&config.shutdown));
    loop {
        let head = match watch.as_mut().idle(reader.readuntil(b"\r\n\r\n")).await {
            None => return Ok(()),
            Some(Ok(head)) => head,
            // The client closed between requests.
            Some(Err(Error::IncompleteRead { partial, .. })) if partial.is_empty() => {
                return Ok(());
            }
            Some(Err(Error::LimitOverrun { .. })) => {
                overlong(config, writer, "request head", true);
                return writer.write(HEAD_TOO_LARGE);
            }
            Some(Err(e)) => return Err(e),
        };
        let Ok(request) = RequestHead::parse(&head) else {
            return writer.write(BAD_REQUEST);
        };
        skip_body(reader, request.content_length).await?;
        if request.keep_alive {
            writer.write(HELLO)?;
        } else {
            return writer.write(HELLO_CLOSE);
        }
        if writer.transport().get_write_buffer_size() > DEFAULT_HIGH_WATER {
            writer.drain().await?;
        }
    }
}

/// Reads and drops `len` body bytes, a chunk at a time.
async fn skip_body(reader: &mut StreamReader, mut len: u64) -> Result<(), Error> {
    while len > 0 {
        let chunk = len.min(CHUNK as u64) as usize;
        reader.readexactly(chunk).await?;
        len -= chunk as u64;
    }
    Ok(())
}

/// What `http-hello` needs from a request head.
#[derive(Debug, PartialEq, Eq)]
struct RequestHead {
    content_length: u64,
    keep_alive: bool,
}

impl RequestHead {
    /// Parses `head` (request line and headers, ending in the blank line).
    ///
    /// Keep-alive follows HTTP/1.1's rules: on unless `Connection: close`; HTTP/1.0 only
    /// with `Connection: keep-alive`. Chunked bodies are not supported (an error).
    fn parse(head: &[u8]) -> Result<RequestHead, &'static str> {
        let text = std::str::from_utf8(head).map_err(|_| "request head is not UTF-8")?;
        let mut lines = text.split("\r\n");
        let request_line = lines.next().ok_or("empty request")?;
        let version = request_line.rsplit(' ').next().unwrap_or("");
        let mut keep_alive = match version {
            "HTTP/1.1" => true,
            "HTTP/1.0" => false,
            _ => return Err("not an HTTP/1.x request"),
        };
        let mut content_length = 0;
        for line in lines.filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').ok_or("malformed header")?;
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().map_err(|_| "bad Content-Length")?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err("Transfer-Encoding is not supported");
            } else if name.eq_ignore_ascii_case("connection") {
                keep_alive = connection_keeps_alive(value, keep_alive);
            }
        }
        Ok(RequestHead {
            content_length,
            keep_alive,
        })
    }
}

/// Applies a `Connection:` header's tokens to the default.
fn connection_keeps_alive(value: &str, default: bool) -> bool {
    let mut keep = default;
    for token in value.split(',').map(str::trim) {
        if token.eq_ignore_ascii_case("close") {
            return false;
        }
        if token.eq_ignore_ascii_case("keep-alive") {
            keep = true;
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use tokio_util::sync::CancellationToken;

    use super::{RequestHead, Shutdown, Watch};

    /// Counts its wake-ups.
    struct Counted(AtomicUsize);

    impl Wake for Counted {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_waiting_read_ends_at_shutdown_and_a_ready_one_is_taken() {
        let token = CancellationToken::new();
        let shutdown = Shutdown::new(token.clone());
        let mut watch = pin!(Watch::new(&shutdown));
        let woken = Arc::new(Counted(AtomicUsize::new(0)));
        let waker = Waker::from(woken.clone());
        let mut cx = Context::from_waker(&waker);
        {
            let mut waiting = pin!(watch.as_mut().idle(std::future::pending::<()>()));
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
        }
        // A read that waits again in the same task: still registered, still waiting.
        let mut next = pin!(watch.as_mut().idle(std::future::pending::<()>()));
        assert!(next.as_mut().poll(&mut cx).is_pending());
        assert_eq!(woken.0.load(Ordering::SeqCst), 0);
        shutdown.begin();
        token.cancel();
        // The token wakes the task it registered, and the waiting read ends.
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        assert_eq!(next.as_mut().poll(&mut cx), Poll::Ready(None));
        // A read that does not wait is still taken while the server stops.
        let mut ready = pin!(watch.as_mut().idle(std::future::ready(7)));
        assert_eq!(ready.as_mut().poll(&mut cx), Poll::Ready(Some(7)));
    }

    fn parse(head: &str) -> Result<RequestHead, &'static str> {
        RequestHead::parse(head.as_bytes())
    }

    #[test]
    fn http11_keeps_alive_by_default() {
        let head = parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            head,
            RequestHead {
                content_length: 0,
                keep_alive: true
            }
        );
    }

    #[test]
    fn connection_close_ends_keep_alive() {
        let head = parse("GET / HTTP/1.1\r\nconnection: Close\r\n\r\n").unwrap();
        assert!(!head.keep_alive);
    }

    #[test]
    fn http10_closes_unless_keep_alive() {
        assert!(!parse("GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
        let head = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
        assert!(head.keep_alive);
    }

    #[test]
    fn content_length_is_read() {
        let head = parse("POST / HTTP/1.1\r\nContent-Length:  42 \r\n\r\n").unwrap();
        assert_eq!(head.content_length, 42);
    }

    #[test]
    fn malformed_requests_are_errors() {
        assert!(parse("GET /\r\n\r\n").is_err());
        assert!(parse("GET / HTTP/1.1\r\nno colon\r\n\r\n").is_err());
        assert!(parse("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n").is_err());
        assert!(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
    }
}
