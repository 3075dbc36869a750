//! What a connection holds while it is counted: its `max_connections` permit, its slot of
//! `max_connections_per_ip`, and the hook that gives them back when it ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedSemaphorePermit;

use super::core::Core;
use crate::transport::{Linger, OnLost};

/// `max_connections_per_ip`: connections per client address.
#[derive(Debug)]
pub(crate) struct PerIp {
    max: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

impl PerIp {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(PerIp {
            max,
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a client at `ip`, or `None` when it already has `max` connections.
    /// (An IPv4 client seen on an IPv6 socket, `::ffff:a.b.c.d`, counts as `a.b.c.d`.)
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let ip = ip.to_canonical();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(IpSlot {
            per_ip: self.clone(),
            ip,
        })
    }

    /// Addresses with a connection (the map forgets an address at its last close).
    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.counts.lock().unwrap().len()
    }
}

/// One connection's share of [`PerIp`], given back when dropped.
#[derive(Debug)]
pub(crate) struct IpSlot {
    per_ip: Arc<PerIp>,
    ip: IpAddr,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut counts = self.per_ip.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// What an accepted connection holds until it ends (dropping it gives both back):
/// boxed, and nothing when the server has neither limit (the common server's connection
/// then carries 8 bytes, not 48: idle memory per connection).
#[derive(Debug, Default)]
#[expect(dead_code, reason = "held only to be dropped: it gives its slots back")]
pub(crate) struct Admission(Option<Box<Held>>);

#[derive(Debug)]
#[expect(
    dead_code,
    reason = "held only to be dropped: each field gives its slot back"
)]
struct Held {
    permit: Option<OwnedSemaphorePermit>,
    ip_slot: Option<IpSlot>,
}

impl Admission {
    pub(crate) fn new(permit: Option<OwnedSemaphorePermit>, ip_slot: Option<IpSlot>) -> Self {
        let held = permit.is_some() || ip_slot.is_some();
        Admission(held.then(|| Box::new(Held { permit, ip_slot })))
    }
}

/// The loss hook of a server connection: at loss it stops counting the connection (and
/// wakes `wait_closed()` when it was the last one); once its socket is closed (at once,
/// or after a lingering close as the server's options say) it gives back its admission.
pub(crate) struct Tracked {
    pub(crate) core: Weak<Core>,
    pub(crate) id: u64,
    pub(crate) admission: Mutex<Admission>,
    pub(crate) linger: Option<Linger>,
}

impl Tracked {
    fn release(&self) {
        drop(std::mem::take(
            &mut *self.admission.lock().unwrap_or_else(|e| e.into_inner()),
        ));
    }
}

impl OnLost for Tracked {
    fn linger(&self) -> Option<Linger> {
        self.linger.clone()
    }

    fn lost(&self, lingering: bool) {
        if !lingering {
            self.release();
        }
        if let Some(core) = self.core.upgrade() {
            core.untrack(self.id, lingering);
        }
    }

    fn lingered(&self) {
        self.release();
        if let Some(core) = self.core.upgrade() {
            core.lingered();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PerIp;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    #[test]
    fn admits_up_to_max_per_address_and_forgets_closed_ones() {
        let per_ip = PerIp::new(2);
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let first = per_ip.admit(a).unwrap();
        let second = per_ip.admit(a).unwrap();
        assert!(per_ip.admit(a).is_none(), "a third from the same address");
        let other = per_ip.admit(b).expect("another address has its own count");
        drop(first);
        let again = per_ip.admit(a).expect("a slot came back");
        drop((second, again, other));
        assert_eq!(per_ip.addresses(), 0);
    }

    #[test]
    fn an_ipv4_mapped_client_counts_as_its_ipv4_address() {
        let per_ip = PerIp::new(1);
        let _v4 = per_ip.admit(IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
        let mapped = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());
        assert!(per_ip.admit(mapped).is_none());
        assert!(per_ip.admit(IpAddr::V6(Ipv6Addr::LOCALHOST)).is_some());
    }
}
