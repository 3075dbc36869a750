//! Reading a PROXY header off an accepted TCP connection, before TLS and before the
//! reader exists, without taking a byte beyond it.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::ProxyProtocol;
use super::header::{Parsed, ProxyHeader, V2_MAX, parse};
use crate::Error;

/// How long an undecided optional peek waits before looking again: the bytes so far are
/// a prefix of a signature (fewer than 12), which peeking again returns at once.
const UNDECIDED_RETRY: Duration = Duration::from_millis(5);

/// Reads the connection's PROXY header within the policy's timeout. `Ok(None)`: no
/// header, which only [`ProxyProtocol::Optional`] accepts (nothing was consumed); there,
/// bytes that only start like a signature when the timeout expires are not a header.
pub(crate) async fn read_header(
    stream: &mut TcpStream,
    policy: ProxyProtocol,
    timeout: Duration,
) -> Result<Option<ProxyHeader>, Error> {
    let mut consumed = Vec::new();
    match tokio::time::timeout(timeout, read(stream, policy, &mut consumed)).await {
        Ok(outcome) => outcome,
        Err(_) if policy == ProxyProtocol::Optional && consumed.is_empty() => Ok(None),
        Err(_) => Err(Error::TimedOut {
            operation: "reading the PROXY protocol header",
            after: timeout,
        }),
    }
}

/// Peeks, parses what was consumed plus what was peeked, and consumes exactly: all that
/// was peeked while the header is incomplete (it is all header), the rest of the header
/// once it is complete, nothing when there is no header.
async fn read(
    stream: &mut TcpStream,
    policy: ProxyProtocol,
    consumed: &mut Vec<u8>,
) -> Result<Option<ProxyHeader>, Error> {
    let mut peeked = vec![0; V2_MAX];
    loop {
        let room = V2_MAX - consumed.len();
        let n = stream.peek(&mut peeked[..room]).await?;
        if n == 0 {
            return match consumed.is_empty() && policy == ProxyProtocol::Optional {
                true => Ok(None), // closed at once: let the handler see the EOF
                false => Err(Error::ProxyProtocol(
                    "connection closed inside the PROXY header",
                )),
            };
        }
        let start = consumed.len();
        consumed.extend_from_slice(&peeked[..n]);
        match parse(consumed).map_err(Error::ProxyProtocol)? {
            Parsed::Header(header, len) => {
                stream.read_exact(&mut peeked[..len - start]).await?;
                return Ok(Some(header));
            }
            Parsed::NotProxy if policy == ProxyProtocol::Optional && start == 0 => return Ok(None),
            Parsed::NotProxy => {
                return Err(Error::ProxyProtocol("no PROXY protocol header"));
            }
            Parsed::NeedMore { decided: false } if policy == ProxyProtocol::Optional => {
                consumed.truncate(start);
                tokio::time::sleep(UNDECIDED_RETRY).await;
            }
            Parsed::NeedMore { .. } => {
                stream.read_exact(&mut peeked[..n]).await?;
            }
        }
    }
}
