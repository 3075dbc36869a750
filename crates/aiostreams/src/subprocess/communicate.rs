//! [`Process::communicate`]: feed stdin while reading stdout and stderr, then wait.

use std::io;

use bytes::Bytes;

use super::Process;
use crate::{Error, StreamReader, StreamWriter};

impl Process {
    /// Writes `input` to stdin and closes it, reads stdout and stderr to EOF, all at
    /// once (no deadlock whatever the sizes), then waits for the child to exit.
    /// Returns `(stdout, stderr)`, each `None` when that stream is not piped.
    ///
    /// asyncio: `stdout, stderr = await proc.communicate(input)`. As asyncio: `input` is
    /// ignored when stdin is not piped, stdin is closed (an EOF for the child) even
    /// without input, and a child that exits or closes stdin without reading it all is
    /// not an error (`BrokenPipeError` and `ConnectionResetError` while feeding are
    /// ignored). The readers' limit does not apply: a read to EOF takes everything.
    ///
    /// # Errors
    ///
    /// A read error of stdout or stderr, another error while feeding stdin, or
    /// [`wait`](Self::wait)'s.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: output read so far is lost with the future, and stdin may be
    /// left half written. Take the streams and read them yourself when you need that.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, PIPE, create_subprocess_shell};
    ///
    /// let options = Options::new().stdin(PIPE).stdout(PIPE).stderr(PIPE);
    /// let mut proc = create_subprocess_shell("tr a-z A-Z; echo done >&2", options).await?;
    /// let (stdout, stderr) = proc.communicate(Some(b"shout")).await?;
    /// assert_eq!(stdout.as_deref(), Some(&b"SHOUT"[..]));
    /// assert_eq!(stderr.as_deref(), Some(&b"done\n"[..]));
    /// assert_eq!(proc.returncode(), Some(0));
    /// # Ok(()) }
    /// ```
    pub async fn communicate(
        &mut self,
        input: Option<&[u8]>,
    ) -> Result<(Option<Bytes>, Option<Bytes>), Error> {
        let (fed, stdout, stderr) = tokio::join!(
            feed(self.stdin.as_ref(), input),
            read_all(self.stdout.as_mut()),
            read_all(self.stderr.as_mut()),
        );
        fed?;
        let (stdout, stderr) = (stdout?, stderr?);
        self.wait().await?;
        Ok((stdout, stderr))
    }
}

/// asyncio's `_feed_stdin`: write, drain, close; a child gone early is not an error.
async fn feed(stdin: Option<&StreamWriter>, input: Option<&[u8]>) -> Result<(), Error> {
    let Some(stdin) = stdin else {
        return Ok(());
    };
    let fed = async {
        if let Some(input) = input {
            stdin.write(input)?;
        }
        stdin.drain().await
    };
    match fed.await {
        Err(e)
            if !matches!(
                e.io_kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ) =>
        {
            return Err(e);
        }
        _ => {}
    }
    stdin.close();
    Ok(())
}

async fn read_all(stream: Option<&mut StreamReader>) -> Result<Option<Bytes>, Error> {
    match stream {
        Some(stream) => stream.read_to_eof().await.map(Some),
        None => Ok(None),
    }
}
