//! Throttling of failed authentications, per client address.
//!
//! Each address has a token bucket: a failed attempt takes a token, tokens come back at a
//! fixed rate up to the burst size, and an address with no token left is answered 429 before
//! its password is even looked at. Successful requests never touch a bucket, and one
//! address's failures never affect another's. The table is bounded: when full, buckets that
//! have refilled completely (and so carry no information) are dropped first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most addresses tracked at once.
const MAX_TRACKED: usize = 100_000;

/// The throttle's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Failures allowed in a burst.
    pub burst: u32,
    /// Time for one failure to be forgiven.
    pub refill_every: Duration,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { burst: 10, refill_every: Duration::from_secs(60) }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Failed-authentication buckets for every client address.
#[derive(Debug)]
pub struct FailureThrottle {
    limit: RateLimit,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl FailureThrottle {
    /// A throttle with the given settings.
    pub fn new(limit: RateLimit) -> Self {
        Self { limit, buckets: Mutex::new(HashMap::new()) }
    }

    /// `Some(wait)` when `ip` has no attempt left, with the time until its next one.
    pub fn blocked_for(&self, ip: IpAddr) -> Option<Duration> {
        self.blocked_at(ip, Instant::now())
    }

    /// Records one failed attempt from `ip`.
    pub fn record_failure(&self, ip: IpAddr) {
        self.record_at(ip, Instant::now());
    }

    fn blocked_at(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.get(&ip)?;
        let tokens = self.refilled(bucket, now);
        if tokens >= 1.0 {
            return None;
        }
        let missing = 1.0 - tokens;
        Some(self.limit.refill_every.mul_f64(missing).max(Duration::from_secs(1)))
    }

    fn record_at(&self, ip: IpAddr, now: Instant) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&ip) {
            self.forget_idle(&mut buckets, now);
        }
        let full = Bucket { tokens: f64::from(self.limit.burst), updated: now };
        let bucket = buckets.entry(ip).or_insert(full);
        bucket.tokens = (self.refilled(bucket, now) - 1.0).max(0.0);
        bucket.updated = now;
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        let per_token = self.limit.refill_every.as_secs_f64().max(f64::EPSILON);
        (bucket.tokens + elapsed / per_token).min(f64::from(self.limit.burst))
    }

    fn forget_idle(&self, buckets: &mut HashMap<IpAddr, Bucket>, now: Instant) {
        let burst = f64::from(self.limit.burst);
        buckets.retain(|_, bucket| self.refilled(bucket, now) < burst);
        if buckets.len() >= MAX_TRACKED {
            // Every tracked address is throttled right now; dropping the table is the only
            // bounded choice, and it errs towards letting attempts through, not locking out.
            buckets.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn burst_then_one_per_period_and_other_addresses_unaffected() {
        let throttle =
            FailureThrottle::new(RateLimit { burst: 3, refill_every: Duration::from_secs(60) });
        let start = Instant::now();
        for _ in 0..3 {
            assert!(throttle.blocked_at(ip(1), start).is_none());
            throttle.record_at(ip(1), start);
        }
        let wait = throttle.blocked_at(ip(1), start).expect("blocked after the burst");
        assert!(wait <= Duration::from_secs(60) && wait >= Duration::from_secs(59));
        assert!(throttle.blocked_at(ip(2), start).is_none(), "another address is free");
        let later = start + Duration::from_secs(61);
        assert!(throttle.blocked_at(ip(1), later).is_none(), "one attempt back after a period");
        throttle.record_at(ip(1), later);
        assert!(throttle.blocked_at(ip(1), later).is_some());
    }

    #[test]
    fn the_table_stays_bounded() {
        let throttle = FailureThrottle::new(RateLimit::default());
        let now = Instant::now();
        for n in 0..(MAX_TRACKED as u32 + 10) {
            throttle.record_at(IpAddr::from(n.to_be_bytes()), now);
        }
        let size = throttle.buckets.lock().unwrap().len();
        assert!(size <= MAX_TRACKED, "{size}");
    }
}
