//! Our reader, pulling from an `AsyncRead`: a source handing out the chunks (with or
//! without a `Pending` before each) or a `tokio::io::duplex` pipe, recording what it
//! handed over.

use super::*;

// Our reader, pulling from an `AsyncRead`.

/// Hands out the chunks one by one (as much of one as the caller's buffer takes), then EOF.
/// With `pending`, every chunk is preceded by one `Pending` (the task is woken at once).
pub(super) fn chunk_source(chunks: Vec<Vec<u8>>, pending: bool) -> impl AsyncRead + Send + Unpin {
    let mut chunks = std::collections::VecDeque::from(chunks);
    let mut ready = false;
    ReadFn(move |cx: &mut Context<'_>, buf: &mut ReadBuf<'_>| {
        // An empty chunk would read as EOF: skip it.
        while chunks.front().is_some_and(Vec::is_empty) {
            chunks.pop_front();
        }
        if pending && !ready {
            ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        ready = false;
        if let Some(chunk) = chunks.front_mut() {
            let n = chunk.len().min(buf.remaining());
            buf.put_slice(&chunk[..n]);
            chunk.drain(..n);
        }
        Poll::Ready(Ok(()))
    })
}

/// Records every piece its inner source hands over.
struct Recording<R> {
    inner: R,
    log: Arc<Mutex<Vec<Delivery>>>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Recording<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        let delivery = match (&result, &buf.filled()[before..]) {
            (Poll::Ready(Ok(())), []) => Delivery::Eof,
            (Poll::Ready(Ok(())), piece) => Delivery::Data(piece.to_vec()),
            (Poll::Pending, _) => Delivery::Pending,
            (Poll::Ready(Err(_)), _) => return result,
        };
        self.log.lock().unwrap().push(delivery);
        result
    }
}

/// Runs `ops` on a reader pulling from `source`; returns the outcomes and what it pulled.
pub(super) fn ours_from_source(
    source: impl AsyncRead + Send + Unpin + 'static,
    limit: usize,
    ops: &[Op],
    writer: Option<(tokio::io::DuplexStream, Vec<Vec<u8>>)>,
) -> (Vec<Outcome>, Vec<Delivery>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let recording = Recording {
        inner: source,
        log: log.clone(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let outcomes = rt.block_on(async {
        if let Some((mut pipe, chunks)) = writer {
            tokio::spawn(async move {
                for chunk in chunks {
                    if pipe.write_all(&chunk).await.is_err() {
                        return; // the reader is done and gone
                    }
                }
                // Dropping `pipe` is the reader's EOF.
            });
        }
        let mut reader = StreamReader::from_io_with_limit(recording, limit).expect("limit > 0");
        let mut outcomes = Vec::new();
        for op in ops {
            outcomes.push(run_op(&mut reader, op).await);
        }
        outcomes
    });
    let deliveries = log.lock().unwrap().clone();
    (outcomes, deliveries)
}

fn concat(deliveries: &[Delivery]) -> Vec<u8> {
    deliveries
        .iter()
        .flat_map(|d| match d {
            Delivery::Data(bytes) => bytes.as_slice(),
            Delivery::Eof | Delivery::Pending => &[],
        })
        .copied()
        .collect()
}

/// Property 2 for a source, and property 3 when `whole` had no limit error.
pub(super) fn check_source_run(
    data: &[u8],
    limit: usize,
    ops: &[Op],
    whole: &[Outcome],
    (ours, deliveries): (Vec<Outcome>, Vec<Delivery>),
) -> Result<(), TestCaseError> {
    prop_assert!(
        data.starts_with(&concat(&deliveries)),
        "pulled bytes not in order"
    );
    prop_assert_eq!(&ours, &model_on_demand(&deliveries, limit, ops, true));
    if !whole.iter().any(Outcome::is_limit_error) {
        prop_assert_eq!(&ours, whole);
    }
    Ok(())
}
