//! Pod IPs: unique per pod, from a counter over 10.128.0.0/9.

use std::sync::atomic::{AtomicU32, Ordering};

/// Hands out addresses; [`Self::observe`] moves past addresses pods already
/// have (after a simulator restart), so they are not handed out twice.
#[derive(Debug, Default)]
pub struct IpAllocator {
    next: AtomicU32,
}

const SPACE: u32 = 1 << 23;

impl IpAllocator {
    pub fn allocate(&self) -> String {
        // Offsets 0 and 1 are skipped: 10.128.0.0 is the network, 10.128.0.1 a gateway.
        let n = self.next.fetch_add(1, Ordering::Relaxed) % (SPACE - 2) + 2;
        format!("10.{}.{}.{}", 128 + (n >> 16), (n >> 8) & 0xff, n & 0xff)
    }

    /// Records an address in use, so later allocations come after it.
    pub fn observe(&self, ip: &str) {
        let octets: Vec<u32> = ip.split('.').filter_map(|o| o.parse().ok()).collect();
        if let [10, a @ 128..=255, b @ 0..=255, c @ 0..=255] = octets[..] {
            let offset = ((a - 128) << 16) | (b << 8) | c;
            self.next.fetch_max(offset.saturating_sub(1), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_unique_and_skip_observed_ones() {
        let ips = IpAllocator::default();
        let first: Vec<String> = (0..300).map(|_| ips.allocate()).collect();
        assert_eq!(first[0], "10.128.0.2");
        assert_eq!(first[254], "10.128.1.0");
        assert_eq!(first.iter().collect::<std::collections::HashSet<_>>().len(), 300);
        ips.observe("10.130.0.7");
        assert_eq!(ips.allocate(), "10.130.0.8");
        ips.observe("10.128.0.3"); // behind the counter: no effect
        ips.observe("192.168.0.1");
        assert_eq!(ips.allocate(), "10.130.0.9");
    }
}
