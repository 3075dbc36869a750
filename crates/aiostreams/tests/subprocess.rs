//! `aiostreams::subprocess` against real programs (`cat`, `sh -c`, `python3`): pipes,
//! DEVNULL, STDOUT merging, communicate() without deadlock past the pipe buffer, an
//! early exit while we write, wait/returncode/signals and the readers' limit.

use aiostreams::Error;
use aiostreams::subprocess::{
    DEVNULL, Options, PIPE, STDOUT, create_subprocess_exec, create_subprocess_shell,
};

use crate::support::both_runtimes;

const MIB: usize = 1 << 20;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((i % 251) as u8) ^ seed).collect()
}

fn all_piped() -> Options {
    Options::new().stdin(PIPE).stdout(PIPE).stderr(PIPE)
}

/// 1 MiB in, 1 MiB out on stdout and 1 MiB on stderr at the same time (each far past a
/// 64 KiB pipe buffer): communicate() must feed and read concurrently. The child echoes
/// its input on stdout while writing a different pattern to stderr in the same loop.
async fn communicate_megabytes_both_ways() {
    let script = "import sys\n\
        out, err = sys.stdout.buffer, sys.stderr.buffer\n\
        while True:\n\
        \x20   chunk = sys.stdin.buffer.read1(65536)\n\
        \x20   if not chunk: break\n\
        \x20   out.write(chunk); err.write(bytes(b ^ 0x5a for b in chunk))\n";
    let mut proc = create_subprocess_exec("python3", ["-c", script], all_piped())
        .await
        .unwrap();
    let input = pattern(MIB, 0);
    let (stdout, stderr) = proc.communicate(Some(&input)).await.unwrap();
    assert_eq!(stdout.unwrap(), input);
    assert_eq!(stderr.unwrap(), pattern(MIB, 0x5a));
    assert_eq!(proc.returncode(), Some(0));
}
both_runtimes!(
    communicate_megabytes_both_ways,
    std::time::Duration::from_secs(60)
);

/// A child that exits at once without reading: feeding 1 MiB meets EPIPE, which
/// communicate() ignores as asyncio does; the outputs and the status still come back.
async fn early_exit_while_feeding_is_not_an_error() {
    let mut proc = create_subprocess_shell("echo bye; echo err >&2; exit 7", all_piped())
        .await
        .unwrap();
    let input = pattern(MIB, 1);
    let (stdout, stderr) = proc.communicate(Some(&input)).await.unwrap();
    assert_eq!(stdout.as_deref(), Some(&b"bye\n"[..]));
    assert_eq!(stderr.as_deref(), Some(&b"err\n"[..]));
    assert_eq!(proc.returncode(), Some(7));
}
both_runtimes!(early_exit_while_feeding_is_not_an_error);

/// cat through the streams by hand: write, drain, close stdin (EOF for the child), read.
async fn cat_by_hand() {
    let mut proc = create_subprocess_exec("cat", [""; 0], Options::new().stdin(PIPE).stdout(PIPE))
        .await
        .unwrap();
    assert!(proc.pid() > 0);
    assert!(proc.stderr.is_none());
    let stdin = proc.stdin.take().unwrap();
    let mut stdout = proc.stdout.take().unwrap();
    stdin.write(b"line one\nline two\n").unwrap();
    stdin.drain().await.unwrap();
    assert_eq!(stdout.readline().await.unwrap(), "line one\n");
    assert_eq!(proc.returncode(), None, "cat waits for more");
    stdin.close();
    stdin.wait_closed().await.unwrap();
    assert_eq!(stdout.readline().await.unwrap(), "line two\n");
    assert!(stdout.read_to_eof().await.unwrap().is_empty());
    assert_eq!(proc.wait().await.unwrap(), 0);
    assert_eq!(
        proc.wait().await.unwrap(),
        0,
        "wait() again returns the same"
    );
}
both_runtimes!(cat_by_hand);

/// stderr=STDOUT merges both into one reader, in the order written; DEVNULL gives none.
async fn stdout_redirect_and_devnull() {
    let script = "echo 1; echo 2 >&2; echo 3";
    let options = Options::new().stdout(PIPE).stderr(STDOUT);
    let mut proc = create_subprocess_shell(script, options).await.unwrap();
    assert!(proc.stderr.is_none());
    let (both, none) = proc.communicate(None).await.unwrap();
    assert_eq!(both.as_deref(), Some(&b"1\n2\n3\n"[..]));
    assert_eq!(none, None);

    let options = Options::new().stdout(DEVNULL).stderr(PIPE);
    let mut proc = create_subprocess_shell("echo gone; echo kept >&2", options)
        .await
        .unwrap();
    assert!(proc.stdout.is_none());
    let (out, err) = proc.communicate(None).await.unwrap();
    assert_eq!((out, err.as_deref()), (None, Some(&b"kept\n"[..])));

    // stdin DEVNULL: the child reads EOF at once.
    let options = Options::new().stdin(DEVNULL).stdout(PIPE);
    let mut proc = create_subprocess_exec("wc", ["-c"], options).await.unwrap();
    let (out, _) = proc
        .communicate(Some(b"ignored: stdin is not a pipe"))
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(out.unwrap().to_vec()).unwrap().trim(),
        "0"
    );
}
both_runtimes!(stdout_redirect_and_devnull);

/// The readers get the limit: a line longer than it is asyncio's limit error.
async fn readers_have_the_limit() {
    let options = Options::new().stdout(PIPE).limit(16);
    let mut proc =
        create_subprocess_shell("echo short; echo a-line-far-longer-than-sixteen", options)
            .await
            .unwrap();
    let stdout = proc.stdout.as_mut().unwrap();
    assert_eq!(stdout.limit(), 16);
    assert_eq!(stdout.readline().await.unwrap(), "short\n");
    assert!(matches!(
        stdout.readline().await,
        Err(Error::LimitOverrun { .. })
    ));
    assert_eq!(proc.wait().await.unwrap(), 0);
}
both_runtimes!(readers_have_the_limit);

/// terminate(), kill() and send_signal(): the status is minus the signal; signalling a
/// child whose status is known is ProcessLookupError (ESRCH).
async fn signals_and_returncode() {
    let mut proc = create_subprocess_exec("sleep", ["30"], Options::new())
        .await
        .unwrap();
    proc.terminate().unwrap();
    assert_eq!(proc.wait().await.unwrap(), -15);
    let err = proc.kill().unwrap_err();
    assert_eq!(io_errno(&err), Some(3), "ESRCH: {err:?}");

    let mut proc = create_subprocess_exec("sleep", ["30"], Options::new())
        .await
        .unwrap();
    proc.kill().unwrap();
    assert_eq!(proc.wait().await.unwrap(), -9);

    let mut proc = create_subprocess_exec("sleep", ["30"], Options::new())
        .await
        .unwrap();
    assert!(matches!(
        proc.send_signal(0x7fff),
        Err(Error::InvalidArgument(_))
    ));
    // SIGUSR1, not SIGHUP: a test run under nohup ignores SIGHUP, and an ignored signal
    // stays ignored in the child across exec (as with Python's subprocess).
    proc.send_signal(10).unwrap();
    assert_eq!(proc.wait().await.unwrap(), -10);
}
both_runtimes!(signals_and_returncode);

fn io_errno(err: &Error) -> Option<i32> {
    match err {
        Error::Io(e) => e.raw_os_error(),
        _ => None,
    }
}

/// Bad arguments and missing programs are errors, never panics.
async fn spawn_errors() {
    let err = create_subprocess_exec("/nonexistent/program", [""; 0], Options::new())
        .await
        .unwrap_err();
    assert_eq!(err.io_kind(), std::io::ErrorKind::NotFound);
    let err = create_subprocess_exec("true", [""; 0], Options::new().stdout(STDOUT))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidArgument("STDOUT can only be used for stderr")
    ));
    let err = create_subprocess_exec("true", [""; 0], Options::new().limit(0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    // A missing command under the shell is the shell's status 127.
    let mut proc =
        create_subprocess_shell("exec /nonexistent/program", Options::new().stderr(DEVNULL))
            .await
            .unwrap();
    assert_eq!(proc.wait().await.unwrap(), 127);
}
both_runtimes!(spawn_errors);
