//! Capped exponential backoff with jitter, so many agents that lost the same server do not
//! come back in lockstep.

use std::time::Duration;

#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    failures: u32,
    base: Duration,
    cap: Duration,
}

impl Backoff {
    pub(crate) fn new(base: Duration, cap: Duration) -> Self {
        Backoff { failures: 0, base, cap }
    }

    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure and returns how long to wait: base * 2^(n-1), capped, plus 0-25 %.
    pub(crate) fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let exp = self.failures.saturating_sub(1).min(20);
        let raw = self.base.saturating_mul(1u32 << exp).min(self.cap);
        raw + raw.mul_f64(jitter_fraction() * 0.25)
    }
}

/// A uniform number in [0, 1) from the OS; 0.5 if the OS source fails (jitter is not critical).
fn jitter_fraction() -> f64 {
    let mut b = [0u8; 4];
    match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_with_bounded_jitter() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let d1 = b.next_delay();
        assert!(d1 >= Duration::from_millis(100) && d1 <= Duration::from_millis(125), "{d1:?}");
        let d2 = b.next_delay();
        assert!(d2 >= Duration::from_millis(200) && d2 <= Duration::from_millis(250), "{d2:?}");
        for _ in 0..40 {
            let d = b.next_delay();
            assert!(d >= Duration::from_secs(2) || b.failures() < 6);
            assert!(d <= Duration::from_millis(2500), "{d:?}");
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(125));
    }
}
