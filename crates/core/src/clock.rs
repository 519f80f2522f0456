//! Time for the whole product: a `Clock` is either the system clock or a `FakeClock` that tests
//! advance by hand. Owns: the only calls to `SystemTime::now` (clippy bans them elsewhere).
//! Timestamps are whole Unix seconds (`i64`), the resolution every protocol here needs.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Whole seconds since the Unix epoch, UTC.
pub type Timestamp = i64;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> Timestamp {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(_) => 0,
        }
    }
}

/// A clock that only moves when told to. Cloning shares the same time.
#[derive(Debug, Clone)]
pub struct FakeClock(Arc<AtomicI64>);

impl FakeClock {
    pub fn new(start: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(start)))
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    pub fn set(&self, t: Timestamp) {
        self.0.store(t, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        self.0.load(Ordering::SeqCst)
    }
}

/// WordPress's date format (`2026-11-23T09:06:23`, no zone: it is the site's local time, UTC here).
pub fn wp_date(t: Timestamp) -> String {
    match chrono::DateTime::from_timestamp(t, 0) {
        Some(d) => d.format("%Y-%m-%dT%H:%M:%S").to_string(),
        None => "1970-01-01T00:00:00".to_string(),
    }
}

/// RFC 3339 with an explicit offset, as the WordPress.com and hosting APIs write dates.
pub fn rfc3339(t: Timestamp) -> String {
    match chrono::DateTime::from_timestamp(t, 0) {
        Some(d) => d.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
        None => "1970-01-01T00:00:00+00:00".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_when_told() {
        let c = FakeClock::new(1_000);
        let c2 = c.clone();
        c.advance(5);
        assert_eq!(c2.now(), 1_005);
        c2.set(7);
        assert_eq!(c.now(), 7);
    }

    #[test]
    fn dates_are_formatted_like_wordpress() {
        assert_eq!(wp_date(1_795_424_783), "2026-11-23T09:06:23");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00+00:00");
    }
}
