//! (e): the TLS echo examples run as programs, against each other and CPython.

use super::*;

/// A port nobody listens on right now (the OS's pick for 127.0.0.1:0, released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// Starts the `tls_echo_server` example on a free port and waits until it serves.
async fn start_tls_echo_server(exe: &Path, certs: &Certs) -> (Peer, u16) {
    const ATTEMPTS: usize = 5;
    for _ in 0..ATTEMPTS {
        let port = free_port();
        let mut server = Peer::spawn(
            "tls_echo_server",
            Command::new(exe)
                .args([&certs.chain_arg(), &certs.key_arg(), "127.0.0.1"])
                .arg(port.to_string()),
        );
        match server.try_stdout_line().await {
            Some(line) => {
                assert_eq!(line, format!("Serving on 127.0.0.1:{port}"));
                return (server, port);
            }
            // Somebody took the port between our probe and the server's bind.
            None if server
                .rest_of_stderr()
                .await
                .contains("address already in use") =>
            {
                continue;
            }
            None => panic!("tls_echo_server exited: {}", server.rest_of_stderr().await),
        }
    }
    panic!("no free port after {ATTEMPTS} attempts");
}

/// The three lines `tls_echo_server` prints for one `Hello World!` client, whose port is
/// `client_port` when we know it.
async fn expect_echo_lines(server: &mut Peer, client_port: Option<&str>) {
    let line = server.stdout_line().await;
    let port = line.rsplit_once(':').map_or("", |(_, p)| p);
    assert!(
        client_port.is_none_or(|p| p == port),
        "{line:?}, not from {client_port:?}"
    );
    assert!(port.parse::<u16>().is_ok(), "{line:?}");
    assert_eq!(
        line,
        format!("Received 'Hello World!' from 127.0.0.1:{port}")
    );
    assert_eq!(server.stdout_line().await, "Send: 'Hello World!'");
    assert_eq!(server.stdout_line().await, "Close the connection");
}

// (e) The tls_echo_server example against the tls_echo_client example (with and without
// SERVER_NAME: the certificate names `localhost` and `127.0.0.1`) and against CPython's
// asyncio TLS client; a client trusting another CA fails; Ctrl-C ends the server cleanly.
#[tokio::test]
async fn tls_echo_examples_talk_to_each_other_and_to_cpython() {
    let server_exe = example("tls_echo_server").await;
    let client_exe = example("tls_echo_client").await;
    let certs = Certs::new();
    bounded(async {
        let (mut server, port) = start_tls_echo_server(&server_exe, &certs).await;
        let port = port.to_string();
        for name in [Some("localhost"), None] {
            let mut client = Command::new(&client_exe);
            client
                .args([&certs.ca_arg(), "127.0.0.1", &port])
                .args(name);
            let out = run(&mut client).await;
            assert_eq!(
                success_stdout("tls_echo_client", &out),
                "Send: 'Hello World!'\nReceived: 'Hello World!'\nClose the connection\n"
            );
            expect_echo_lines(&mut server, None).await;
        }

        let out = run(python().arg(tls_peers()).args([
            "hello-client",
            &certs.ca_arg(),
            &port,
            "localhost",
        ]))
        .await;
        let stdout = success_stdout("the CPython TLS client", &out);
        let (echoed, client_port) = stdout.split_once('\n').expect("two lines");
        assert_eq!(echoed, "Hello World!");
        expect_echo_lines(&mut server, Some(client_port.trim())).await;

        let out =
            run(Command::new(&client_exe).args([&certs.other_ca_arg(), "127.0.0.1", &port])).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
        assert!(
            stderr.contains("certificate verify failed"),
            "stderr: {stderr}"
        );

        server.interrupt();
        let status = server.wait().await;
        assert!(
            status.success(),
            "after SIGINT: {status}; stderr:\n{}",
            server.rest_of_stderr().await
        );
        assert_eq!(
            server.try_stdout_line().await,
            None,
            "nothing more after SIGINT"
        );
    })
    .await;
}
