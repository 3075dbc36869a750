//! Bulk reads: `read(n)` with a large `n` takes up to `n` per pull once pulls keep
//! filling their windows (one system call per MiB on a socket), and never more than
//! `n`; every other read stays within 64 KiB per pull.

use aiostreams::StreamReader;

const MIB: usize = 1024 * 1024;

/// 8 MiB of a pattern that does not repeat at any power of two.
fn input() -> Vec<u8> {
    (0..8 * MIB).map(|i| (i * 31 % 251) as u8).collect()
}

/// The sizes that `read(n)` returns until EOF, and every byte, over an in-memory
/// source that hands out as much as each pull asks for.
async fn read_sizes(n: usize) -> (Vec<usize>, Vec<u8>) {
    let data = input();
    let mut reader = StreamReader::from_io(std::io::Cursor::new(data));
    let (mut sizes, mut got) = (Vec::new(), Vec::new());
    loop {
        let chunk = reader.read(n).await.unwrap();
        if chunk.is_empty() {
            return (sizes, got);
        }
        sizes.push(chunk.len());
        got.extend_from_slice(&chunk);
    }
}

#[tokio::test]
async fn a_large_read_grows_to_its_size_and_keeps_every_byte() {
    let (sizes, got) = read_sizes(MIB).await;
    assert_eq!(got, input());
    assert!(sizes.iter().all(|&s| s <= MIB), "{sizes:?}");
    // Starts small (an idle connection holds little), doubles on every full pull.
    assert_eq!(sizes[0], 4096, "{sizes:?}");
    assert_eq!(sizes.iter().filter(|&&s| s == MIB).count(), 7, "{sizes:?}");
}

#[tokio::test]
async fn a_read_of_64_kib_pulls_64_kib_at_most() {
    let (sizes, got) = read_sizes(64 * 1024).await;
    assert_eq!(got, input());
    assert_eq!(sizes.iter().max(), Some(&(64 * 1024)));
    // After the first pulls (from 4 KiB, doubling), every read is a full 64 KiB.
    let full = sizes.iter().filter(|&&s| s == 64 * 1024).count();
    assert!(full >= sizes.len() - 6, "{sizes:?}");
}

#[tokio::test]
async fn a_large_read_on_a_socket_returns_more_than_64_kib() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sender = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.write_all(&input()).await.unwrap();
    });
    let (mut reader, _writer) =
        crate::support::bounded(aiostreams::open_connection("127.0.0.1", port))
            .await
            .unwrap();
    let (mut largest, mut total) = (0, 0);
    while total < 8 * MIB {
        let chunk = crate::support::bounded(reader.read(MIB)).await.unwrap();
        assert!(!chunk.is_empty() && chunk.len() <= MIB);
        largest = largest.max(chunk.len());
        total += chunk.len();
    }
    sender.await.unwrap();
    assert_eq!(total, 8 * MIB);
    assert!(largest > 64 * 1024, "largest read {largest}");
}
