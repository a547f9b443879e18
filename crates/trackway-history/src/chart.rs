//! Mergeable bucket aggregates and the bucket builders shared by every chart path.

use crate::Series;

/// Aggregate of the points of one bucket. Mergeable in any order: `last` is decided by the
/// greatest step (ties: the merged-in side wins, i.e. a later write).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Agg {
    pub count: u64,
    pub nonfinite: u64,
    /// Over finite points only; +Inf/-Inf/0 when there are none.
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub last: f64,
    pub last_step: u64,
    /// x of the last point (its step on the step axis).
    pub last_x: f64,
}

impl Agg {
    pub(crate) const EMPTY: Agg = Agg {
        count: 0,
        nonfinite: 0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        sum: 0.0,
        last: f64::NAN,
        last_step: 0,
        last_x: f64::NAN,
    };

    pub(crate) fn point(step: u64, x: f64, v: f64) -> Agg {
        let mut a = Agg::EMPTY;
        a.add(step, x, v);
        a
    }

    pub(crate) fn add(&mut self, step: u64, x: f64, v: f64) {
        if v.is_finite() {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            self.sum += v;
        } else {
            self.nonfinite += 1;
        }
        if self.count == 0 || step >= self.last_step {
            self.last = v;
            self.last_step = step;
            self.last_x = x;
        }
        self.count += 1;
    }

    pub(crate) fn merge(&mut self, o: &Agg) {
        if o.count == 0 {
            return;
        }
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.sum += o.sum;
        self.nonfinite += o.nonfinite;
        if self.count == 0 || o.last_step >= self.last_step {
            self.last = o.last;
            self.last_step = o.last_step;
            self.last_x = o.last_x;
        }
        self.count += o.count;
    }

    fn finite(&self) -> u64 {
        self.count - self.nonfinite
    }
}

/// Buckets keyed by index, kept sorted; appending in index order is O(1).
#[derive(Default)]
pub(crate) struct Buckets {
    pub items: Vec<(u64, Agg)>,
}

impl Buckets {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Buckets { items: Vec::with_capacity(n) }
    }

    pub(crate) fn merge(&mut self, idx: u64, a: &Agg) {
        match self.items.last_mut() {
            Some((last, agg)) if *last == idx => agg.merge(a),
            Some((last, _)) if *last > idx => match self.items.binary_search_by_key(&idx, |e| e.0) {
                Ok(i) => self.items[i].1.merge(a),
                Err(i) => self.items.insert(i, (idx, *a)),
            },
            _ => self.items.push((idx, *a)),
        }
    }

    pub(crate) fn add(&mut self, idx: u64, step: u64, x: f64, v: f64) {
        match self.items.last_mut() {
            Some((last, agg)) if *last == idx => agg.add(step, x, v),
            _ => self.merge(idx, &Agg::point(step, x, v)),
        }
    }

    /// Add points sorted by step, bucket index = step >> shift. One merge per bucket: the
    /// inner loop only folds min/max/sum (the hot loop of chart scans and compaction).
    pub(crate) fn add_sorted(&mut self, steps: &[u64], vals: &[f64], shift: u32) {
        let n = steps.len().min(vals.len());
        let mut i = 0;
        while i < n {
            let idx = steps[i] >> shift;
            let (mut mn, mut mx, mut sum, mut nonfinite) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0u64);
            let mut j = i;
            while j < n && steps[j] >> shift == idx {
                let v = vals[j];
                if v.is_finite() {
                    mn = mn.min(v);
                    mx = mx.max(v);
                    sum += v;
                } else {
                    nonfinite += 1;
                }
                j += 1;
            }
            let a = Agg {
                count: (j - i) as u64,
                nonfinite,
                min: mn,
                max: mx,
                sum,
                last: vals[j - 1],
                last_step: steps[j - 1],
                last_x: steps[j - 1] as f64,
            };
            self.merge(idx, &a);
            i = j;
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.items.iter().map(|(_, a)| a.count).sum()
    }

    pub(crate) fn into_series(self, run: i64) -> Series {
        let n = self.items.len();
        let mut s = Series {
            run,
            x: Vec::with_capacity(n),
            min: Vec::with_capacity(n),
            max: Vec::with_capacity(n),
            last: Vec::with_capacity(n),
            mean: Vec::with_capacity(n),
            count: Vec::with_capacity(n),
            nonfinite: Vec::with_capacity(n),
            exact: false,
        };
        for (_, a) in self.items {
            let has = a.finite() > 0;
            s.x.push(a.last_x);
            s.min.push(if has { a.min } else { f64::NAN });
            s.max.push(if has { a.max } else { f64::NAN });
            s.mean.push(if has { a.sum / a.finite() as f64 } else { f64::NAN });
            s.last.push(a.last);
            s.count.push(a.count);
            s.nonfinite.push(a.nonfinite);
        }
        s
    }
}

/// Raw points as an exact series: each point is its own bucket.
pub(crate) fn exact_series(run: i64, xs: &[f64], vals: &[f64]) -> Series {
    let mut b = Buckets { items: Vec::with_capacity(xs.len()) };
    for (i, (&x, &v)) in xs.iter().zip(vals).enumerate() {
        b.items.push((i as u64, Agg::point(i as u64, x, v)));
    }
    let mut s = b.into_series(run);
    s.exact = true;
    s
}

/// Smallest power-of-two shift k such that the steps lo..=hi touch at most `budget` buckets
/// aligned to multiples of 2^k.
pub(crate) fn step_shift(lo: u64, hi: u64, budget: usize) -> u32 {
    let budget = budget.max(1) as u64;
    let mut k = 0u32;
    while k < 63 && (hi >> k) - (lo >> k) + 1 > budget {
        k += 1;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_order_independent_and_last_follows_step() {
        let pts = [(1u64, 5.0), (2, f64::NAN), (3, -1.0), (4, f64::INFINITY), (5, 2.0)];
        let mut a = Agg::EMPTY;
        for &(s, v) in &pts {
            a.add(s, s as f64, v);
        }
        let mut b = Agg::EMPTY;
        for &(s, v) in pts.iter().rev() {
            b.merge(&Agg::point(s, s as f64, v));
        }
        assert_eq!((a.count, a.nonfinite, a.min, a.max, a.sum), (5, 2, -1.0, 5.0, 6.0));
        assert_eq!((a.last, a.last_step), (2.0, 5));
        assert_eq!((b.count, b.nonfinite, b.min, b.max, b.sum, b.last), (5, 2, -1.0, 5.0, 6.0, 2.0));
    }

    #[test]
    fn add_sorted_equals_point_by_point() {
        let steps: Vec<u64> = (0..1000).map(|i| i * 3 + (i % 3)).collect();
        let vals: Vec<f64> = (0..1000).map(|i| if i % 13 == 0 { f64::NAN } else { (i as f64).sin() }).collect();
        for shift in [0, 3, 6, 20] {
            let mut a = Buckets::default();
            let mut b = Buckets::default();
            a.add_sorted(&steps, &vals, shift);
            for (s, v) in steps.iter().zip(&vals) {
                b.add(s >> shift, *s, *s as f64, *v);
            }
            assert_eq!(a.items.len(), b.items.len());
            for ((i, x), (j, y)) in a.items.iter().zip(&b.items) {
                assert_eq!(i, j);
                assert_eq!(
                    (x.count, x.nonfinite, x.min, x.max, x.last_step),
                    (y.count, y.nonfinite, y.min, y.max, y.last_step)
                );
                assert!((x.sum - y.sum).abs() < 1e-9 && x.last.to_bits() == y.last.to_bits());
            }
        }
    }

    #[test]
    fn step_shift_respects_budget() {
        for (lo, hi, budget) in
            [(0u64, 99_999u64, 1000usize), (47_500, 52_499, 1000), (3, 3, 1), (0, 10, 1), (5, 9, 100)]
        {
            let k = step_shift(lo, hi, budget);
            assert!((hi >> k) - (lo >> k) < budget as u64);
            if k > 0 {
                assert!((hi >> (k - 1)) - (lo >> (k - 1)) + 1 > budget as u64);
            }
        }
    }
}
