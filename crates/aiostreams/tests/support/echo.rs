//! Echo server callbacks over our streams: by lines, or by whatever `read` returns.
//! Depends on nothing else in `support`, so a test binary of its own includes it by path.

use aiostreams::{Error, StreamReader, StreamWriter};
use tokio_stream::StreamExt;

/// A server callback: echoes lines (`async for line in reader`, `write`, `drain`) until
/// EOF, then closes.
pub(crate) async fn echo_lines(
    mut reader: StreamReader,
    writer: StreamWriter,
) -> Result<(), Error> {
    let mut lines = reader.lines();
    while let Some(line) = lines.next().await {
        writer.write(&line?)?;
        writer.drain().await?;
    }
    writer.close();
    writer.wait_closed().await
}

/// A server callback's body: echoes what `read(65536)` returns, each piece written and
/// drained, until EOF, then closes. `echoed` hears the length of every piece sent back.
pub(crate) async fn echo_chunks(
    mut reader: StreamReader,
    writer: StreamWriter,
    mut echoed: impl FnMut(usize),
) -> Result<(), Error> {
    loop {
        let chunk = reader.read(65_536).await?;
        if chunk.is_empty() {
            break;
        }
        writer.write(&chunk)?;
        writer.drain().await?;
        echoed(chunk.len());
    }
    writer.close();
    writer.wait_closed().await
}
