//! (a) and (b): CPython's asyncio TLS server and client against ours, 1 MiB each way, and
//! a CPython server that speaks first.

use super::*;

// (a) Our client against CPython's asyncio TLS server, TLS 1.3 then TLS 1.2: 1 MiB each
// way, every byte checked by us (the echo) and by Python (the report).
#[bounded_test]
async fn our_client_echoes_1_mib_through_a_cpython_asyncio_tls_server() {
    let certs = Certs::new();
    let seed = 17;
    let (chain, key) = (certs.chain_arg(), certs.key_arg());
    let mut server = Peer::spawn(
        "the CPython TLS echo server",
        python()
            .arg(tls_peers())
            .args(["echo-server", &chain, &key, &seed.to_string()]),
    );
    let port: u16 = server.stdout_line().await.parse().expect("a port");
    let data = generate(BIG, seed);
    for (version, python_version) in [
        (&rustls::version::TLS13, "TLSv1.3"),
        (&rustls::version::TLS12, "TLSv1.2"),
    ] {
        let (mut reader, writer) = connect(certs.client_config_for(version), port).await;
        echo_round_trip(&mut reader, &writer, &data).await;
        let info = writer.transport().tls_info().expect("TLS info");
        writer.close();
        writer.wait_closed().await.expect("wait_closed");
        let report = server.stdout_line().await;
        println!(
            "CPython server: {report}; ours: {:?} {:?}",
            info.protocol, info.cipher
        );
        let expected = format!("received {BIG} match=True version={python_version} cipher=");
        assert!(
            report.starts_with(&expected),
            "CPython server reported {report:?}"
        );
        assert_eq!(
            info.protocol.as_deref(),
            Some(python_version.replace('.', "_").as_str())
        );
        assert_eq!(
            info.peer_certificates,
            std::slice::from_ref(&certs.leaf_der),
            "'peercert'"
        );
    }
}

// (a) A server that speaks first (as SMTPS or IMAPS do): CPython greets each client as
// soon as its handshake is done, and our client reads before it writes anything. The
// greeting comes with or after the session tickets; TLS 1.3 and 1.2, ten rounds each.
#[bounded_test]
async fn our_client_reads_the_greeting_of_a_cpython_server_that_speaks_first() {
    let certs = Certs::new();
    let (chain, key) = (certs.chain_arg(), certs.key_arg());
    let mut server = Peer::spawn(
        "the CPython TLS greeting server",
        python()
            .arg(tls_peers())
            .args(["greet-server", &chain, &key]),
    );
    let port: u16 = server.stdout_line().await.parse().expect("a port");
    for round in 1..=20 {
        let version = match round % 2 {
            0 => &rustls::version::TLS13,
            _ => &rustls::version::TLS12,
        };
        let (mut reader, writer) = connect(certs.client_config_for(version), port).await;
        let greeting = reader.readline().await.expect("the greeting");
        assert_eq!(greeting, format!("Hello from CPython {round}\n").as_bytes());
        writer.write(b"ping\n").expect("write");
        assert_eq!(reader.readline().await.expect("the echo"), "ping\n");
        writer.close();
        writer.wait_closed().await.expect("wait_closed");
        let report = server.stdout_line().await;
        assert!(
            report.starts_with("received 5 "),
            "CPython server reported {report:?}"
        );
    }
}

// (b) CPython's asyncio TLS client (CA trusted, hostname checked) against our TLS server:
// 1 MiB each way, checked by Python (the echo) and by us (the report).
#[bounded_test]
async fn cpython_asyncio_tls_client_echoes_1_mib_through_our_tls_server() {
    let certs = Certs::new();
    let seed = 99;
    let (server, port, mut reports) = our_echo_server(&certs).await;
    let out = run(python().arg(tls_peers()).args([
        "echo-client",
        &certs.ca_arg(),
        &port.to_string(),
        &BIG.to_string(),
        &seed.to_string(),
    ]))
    .await;
    let stdout = success_stdout("the CPython TLS echo client", &out);
    println!("CPython client's view: {stdout}");
    let (python_view, ok) = stdout.trim_end().split_once('\n').expect("two lines");
    assert_eq!(ok, format!("ok {BIG}"));
    let Report { received, info } = reports.recv().await.expect("our handler's report");
    assert_eq!(received.len(), BIG);
    assert!(
        received == generate(BIG, seed),
        "our server received other bytes"
    );
    assert_eq!(
        info.server_name.as_deref(),
        Some("localhost"),
        "the SNI Python sent"
    );
    // The same session seen from both ends: TLSv1_3 / TLS13_AES_256_GCM_SHA384 here,
    // version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 there.
    let ours = format!(
        "version={} cipher={}",
        info.protocol.unwrap_or_default().replace('_', "."),
        info.cipher
            .unwrap_or_default()
            .replacen("TLS13_", "TLS_", 1)
    );
    assert!(
        python_view.starts_with(&ours),
        "{python_view:?} vs ours {ours:?}"
    );
    server.close();
}
