//! Bad arguments: asyncio's TLS keyword checks (D1), `ssl` without a host.

use super::*;

// D1 and asyncio's keyword checks: TLS keywords without ssl, zero timeouts.
#[tokio::test]
async fn tls_keywords_are_validated() {
    let pki = Pki::new();
    let second = Duration::from_secs(1);
    let without_ssl = [
        (
            ConnectOptions::new().server_hostname("localhost"),
            "server_hostname is only meaningful with ssl",
        ),
        (
            ConnectOptions::new().ssl_handshake_timeout(second),
            "ssl_handshake_timeout is only meaningful with ssl",
        ),
        (
            ConnectOptions::new().ssl_shutdown_timeout(second),
            "ssl_shutdown_timeout is only meaningful with ssl",
        ),
    ];
    // Port 1: the checks come before any connection attempt.
    for (options, message) in without_ssl {
        let err = options.connect("127.0.0.1", 1).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(m) if m == message),
            "{err:?}"
        );
    }
    let tls = || ConnectOptions::new().ssl_config(pki.client_config());
    for options in [
        tls().ssl_handshake_timeout(Duration::ZERO),
        tls().ssl_shutdown_timeout(Duration::ZERO),
    ] {
        let err = options.connect("127.0.0.1", 1).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(m) if m.contains("a positive number")),
            "{err:?}"
        );
    }
    let err = tls()
        .server_hostname("not a host name")
        .connect("127.0.0.1", 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");

    let handler = |_r: StreamReader, _w: StreamWriter| async {};
    let server_without_ssl = [
        (
            ServerOptions::new().ssl_handshake_timeout(second),
            "ssl_handshake_timeout is only meaningful with ssl",
        ),
        (
            ServerOptions::new().ssl_shutdown_timeout(second),
            "ssl_shutdown_timeout is only meaningful with ssl",
        ),
    ];
    for (options, message) in server_without_ssl {
        let err = options
            .start_server(handler, "127.0.0.1", 0)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(m) if m == message),
            "{err:?}"
        );
    }
    for options in [
        ServerOptions::new().ssl_handshake_timeout(Duration::ZERO),
        ServerOptions::new().ssl_shutdown_timeout(Duration::ZERO),
    ] {
        let err = options
            .ssl(pki.server_config(Kind::Good))
            .start_server(handler, "127.0.0.1", 0)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(m) if m.contains("a positive number")),
            "{err:?}"
        );
    }
}

// asyncio: "You must set server_hostname when using ssl without a host".
#[bounded_test]
async fn ssl_without_a_host_needs_server_hostname() {
    let pki = Pki::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sock = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let err = ConnectOptions::new()
        .ssl_config(pki.client_config())
        .connect_sock(sock)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument("You must set server_hostname when using ssl without a host")
        ),
        "{err:?}"
    );
    #[cfg(unix)]
    {
        let err = ConnectOptions::new()
            .ssl_config(pki.client_config())
            .connect_unix(pki.dir.path().join("no.sock"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    }
}
