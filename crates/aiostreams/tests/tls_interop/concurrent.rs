//! (f): 200 TLS connections at once, our client and our server.

use super::*;

/// One client of the concurrency test: its own data through and back, every byte checked.
async fn one_echo_client(config: Arc<ClientConfig>, port: u16, seed: u64, n: usize) {
    let data = generate(n, seed);
    let (mut reader, writer) = connect(config, port).await;
    echo_round_trip(&mut reader, &writer, &data).await;
    writer.close();
    writer.wait_closed().await.expect("wait_closed");
}

// (f) 200 TLS connections at once, our client and our server, 4 KiB each way per
// connection, every byte checked on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_tls_echo_connections() {
    const CLIENTS: u64 = 200;
    const N: usize = 4096;
    let certs = Certs::new();
    bounded(async {
        let (server, port, mut reports) = our_echo_server(&certs).await;
        let config = certs.client_config();
        let clients: Vec<_> = (1..=CLIENTS)
            .map(|seed| tokio::spawn(one_echo_client(config.clone(), port, seed, N)))
            .collect();
        for client in clients {
            client.await.expect("a client task");
        }
        let mut expected: HashSet<Vec<u8>> = (1..=CLIENTS).map(|seed| generate(N, seed)).collect();
        for _ in 1..=CLIENTS {
            let Report { received, .. } = reports.recv().await.expect("a server report");
            assert!(
                expected.remove(&received),
                "the server received bytes no client sent"
            );
        }
        server.close();
    })
    .await;
}
