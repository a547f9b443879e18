//! Averaging samples over a window: gauges by mean, counters by their last value.
use std::collections::BTreeMap;

use crate::Sample;

#[derive(Default)]
pub(crate) struct Window {
    sums: BTreeMap<String, (f64, u32)>,
    last: BTreeMap<String, f64>,
    samples: u32,
}

impl Window {
    pub(crate) fn add(&mut self, s: Sample) {
        self.samples += 1;
        for (k, v) in s.gauges {
            let e = self.sums.entry(k).or_insert((0.0, 0));
            e.0 += v;
            e.1 += 1;
        }
        self.last.extend(s.counters);
    }

    /// The window's values, and resets it; `None` when it holds no sample.
    pub(crate) fn take(&mut self) -> Option<(u32, BTreeMap<String, f64>)> {
        if self.samples == 0 {
            return None;
        }
        let mut out: BTreeMap<String, f64> =
            std::mem::take(&mut self.sums).into_iter().map(|(k, (sum, n))| (k, sum / f64::from(n))).collect();
        out.extend(std::mem::take(&mut self.last));
        let n = std::mem::take(&mut self.samples);
        Some((n, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_average_and_counters_keep_last() {
        let mut w = Window::default();
        for (g, c) in [(10.0, 1.0), (20.0, 5.0), (60.0, 9.0)] {
            let mut s = Sample::default();
            s.gauges.insert("g".into(), g);
            s.counters.insert("c".into(), c);
            w.add(s);
        }
        let (n, data) = w.take().expect("window has samples");
        assert_eq!(n, 3);
        assert_eq!(data["g"], 30.0);
        assert_eq!(data["c"], 9.0);
        assert!(w.take().is_none(), "take resets the window");
    }

    #[test]
    fn key_missing_in_some_samples_averages_over_its_own_count() {
        let mut w = Window::default();
        let mut a = Sample::default();
        a.gauges.insert("gpu".into(), 50.0);
        w.add(a);
        w.add(Sample::default());
        let (_, data) = w.take().expect("samples");
        assert_eq!(data["gpu"], 50.0);
    }
}
