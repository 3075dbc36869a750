//! A server under faults: failing handlers, clients that reset mid-request, and running
//! out of file descriptors (EMFILE) in `accept()`.

use std::io;
use std::time::Duration;
#[cfg(unix)]
use std::time::Instant;

use aiostreams::{Error, StreamReader, StreamWriter, open_connection, start_server};
use tokio::sync::mpsc;

use crate::support::bounded_test;
use crate::support::{error_type, log_capture::Logs, net::port_of, test_name};

error_type!(Refused, "refused on purpose");

/// Reads a command line: `panic`, `error`, or anything else to have it echoed.
async fn moody(
    mut reader: StreamReader,
    writer: StreamWriter,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let line = reader.readline().await?;
    match &line[..] {
        b"panic\n" => panic!("handler panicked on purpose"),
        b"error\n" => Err(Refused.into()),
        _ => {
            writer.write(&line)?;
            writer.drain().await?;
            Ok(())
        }
    }
}

// A handler that panics or fails closes only its own connection; the next client is
// served.
#[bounded_test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_handlers_do_not_stop_the_server() {
    let server = start_server(moody, "127.0.0.1", 0).await.unwrap();
    let port = port_of(&server);
    for command in ["panic\n", "error\n", "panic\n", "error\n"] {
        let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
        writer.write(command.as_bytes()).unwrap();
        assert_eq!(reader.read_to_eof().await.unwrap(), "", "{command}");
    }
    assert!(server.is_serving());
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    writer.write(b"still there?\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "still there?\n");
    drop((reader, writer));
    server.close();
    server.wait_closed().await;
}

// A client that resets (SO_LINGER 0, close) while its handler waits for input: the
// handler's read and drain fail, and the server goes on.
#[bounded_test]
async fn client_reset_mid_handler() {
    let (started_tx, mut started) = mpsc::unbounded_channel::<()>();
    let (outcome_tx, mut outcome) = mpsc::unbounded_channel();
    let handler = move |mut reader: StreamReader, writer: StreamWriter| {
        let (started, outcome) = (started_tx.clone(), outcome_tx.clone());
        async move {
            let _ = started.send(());
            let read = reader.readline().await;
            let _ = writer.write(b"too late\n");
            let drain = writer.drain().await;
            let _ = outcome.send((read, drain));
        }
    };
    let server = start_server(handler, "127.0.0.1", 0).await.unwrap();
    let port = port_of(&server);

    let client = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    started.recv().await.unwrap();
    socket2::SockRef::from(&client)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(client);

    let (read, drain): (Result<_, Error>, Result<(), Error>) = outcome.recv().await.unwrap();
    let read_err = read.unwrap_err();
    assert_eq!(
        read_err.io_kind(),
        io::ErrorKind::ConnectionReset,
        "{read_err:?}"
    );
    let drain_err = drain.unwrap_err();
    assert_eq!(
        drain_err.io_kind(),
        io::ErrorKind::ConnectionReset,
        "{drain_err:?}"
    );

    // The server is fine: the next client is served.
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    assert!(server.is_serving());
    writer.write(b"hi\n").unwrap();
    drop(writer);
    let read = outcome.recv().await.unwrap().0;
    assert_eq!(read.unwrap(), "hi\n");
    assert_eq!(reader.read_to_eof().await.unwrap(), "");
}

#[cfg(unix)]
const EMFILE_CHILD: &str = "emfile_child_helper";
#[cfg(unix)]
const EMFILE_ENV: &str = "AIOSTREAMS_EMFILE_CHILD";
#[cfg(unix)]
const EMFILE: i32 = 24;

// Running out of descriptors in accept() pauses accepting (logged, no busy loop) and
// the server recovers once descriptors are free again. Runs in a child process whose
// RLIMIT_NOFILE is lowered with `ulimit -n`, so that this process is not affected.
#[cfg(unix)]
#[tokio::test]
async fn accept_emfile_pauses_and_recovers() {
    let exe = std::env::current_exe().unwrap();
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 64 && exec "$0" "$@""#)
        .arg(exe)
        .args(["--exact", &test_name(module_path!(), EMFILE_CHILD)])
        .args(["--ignored", "--nocapture"])
        .env(EMFILE_ENV, "1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(20), child)
        .await
        .expect("the EMFILE child did not finish in time")
        .unwrap();
    assert!(
        output.status.success(),
        "child failed: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1 passed"),
        "the helper did not run:\n{stdout}"
    );
}

#[cfg(unix)]
async fn echo_lines(mut reader: StreamReader, writer: StreamWriter) {
    while let Ok(line) = reader.readline().await {
        if line.is_empty() || writer.write(&line).is_err() {
            return;
        }
    }
}

#[cfg(unix)]
fn is_emfile(e: &io::Error) -> bool {
    e.raw_os_error() == Some(EMFILE)
}

/// The EMFILE child's body: only meaningful under a low descriptor limit, so it does
/// nothing unless the parent test started it.
#[cfg(unix)]
#[tokio::test]
#[ignore = "run by accept_emfile_pauses_and_recovers in a child process"]
async fn emfile_child_helper() {
    if std::env::var_os(EMFILE_ENV).is_none() {
        return;
    }
    let logs = Logs::capture_global();
    let server = start_server(echo_lines, "127.0.0.1", 0).await.unwrap();
    let addr = ("127.0.0.1", port_of(&server));
    // A few descriptors kept in reserve, to hand one to the last client below.
    let mut reserve: Vec<std::fs::File> = (0..4)
        .map(|_| std::fs::File::open("/dev/null").unwrap())
        .collect();
    let mut clients = Vec::new();
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(client) => clients.push(client),
            Err(e) if is_emfile(&e) => break,
            Err(e) => panic!("unexpected connect error: {e}"),
        }
    }
    // Every descriptor is in use. One more client, on a reserved descriptor, leaves a
    // connection waiting that accept() cannot take.
    drop(reserve.pop());
    clients.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    println!("{} clients connected before EMFILE", clients.len());

    let needle = "out of system resource";
    tokio::time::timeout(Duration::from_secs(5), logs.wait_for(needle))
        .await
        .expect("accept() never reported EMFILE");
    let first_report = Instant::now();

    // Free the descriptors; after its pause the server accepts again.
    drop(clients);
    drop(reserve);
    let served = async {
        let (mut reader, writer) = open_connection(addr.0, addr.1).await.unwrap();
        writer.write(b"back in business\n").unwrap();
        reader.readline().await.unwrap()
    };
    let line = tokio::time::timeout(Duration::from_secs(10), served)
        .await
        .expect("the server did not recover");
    assert_eq!(line, "back in business\n");

    // No busy loop: about one report per second of pause, not thousands.
    let reports = logs.count(needle);
    let allowed = first_report.elapsed().as_secs() as usize + 2;
    println!("{reports} EMFILE reports");
    assert!(reports <= allowed, "{reports} EMFILE reports: a busy loop?");
    server.close();
}
