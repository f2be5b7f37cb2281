//! Token buckets per client address and per site, so one noisy client (or a
//! bot replaying a signed page) cannot flood a firm's inbox.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `burst` posts at once, refilled at `per_minute` a minute.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub burst: u32,
    pub per_minute: u32,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Above this many keys, full buckets are forgotten, so memory stays flat
/// however many addresses pass by.
const PRUNE_ABOVE: usize = 50_000;

/// Lock poisoning (as everywhere, see `serve::state::Shared`): taken all
/// the same; a bucket is updated whole, so a panic leaves no torn one.
pub struct Limiter<K> {
    rate: Rate,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(rate: Rate) -> Self {
        Limiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`: `Ok` or the time until one is available.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let per_sec = f64::from(self.rate.per_minute) / 60.0;
        let burst = f64::from(self.rate.burst.max(1));
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_sec < burst
            });
        }
        let b = map.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_sec).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else if per_sec <= 0.0 {
            Err(Duration::from_secs(3600))
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_sec))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_burst_and_refills() {
        let l = Limiter::new(Rate {
            burst: 2,
            per_minute: 60,
        });
        let t = Instant::now();
        assert!(l.take(&"a", t).is_ok());
        assert!(l.take(&"a", t).is_ok());
        let wait = l.take(&"a", t).unwrap_err();
        assert!(wait <= Duration::from_secs(1));
        assert!(l.take(&"b", t).is_ok());
        assert!(l.take(&"a", t + Duration::from_secs(1)).is_ok());
    }
}
