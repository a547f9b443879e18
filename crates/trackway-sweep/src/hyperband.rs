//! Hyperband early stopping (wandb's `early_terminate: {type: hyperband}`): at each band (an
//! iteration count: the number of values of the metric a run has logged), a running run whose
//! best value so far is not among the best `1/eta` share of every run that reached the band is
//! stopped.

use crate::config::{Hyperband, Metric};

/// A trial's metric history, for [`stops`].
pub struct History<'a, K> {
    pub key: K,
    pub running: bool,
    /// The metric's values in logging order.
    pub values: &'a [f64],
}

/// The running trials to stop now.
#[must_use]
pub fn stops<K: Clone>(hb: &Hyperband, metric: &Metric, runs: &[History<'_, K>]) -> Vec<K> {
    let best_at = |values: &[f64], band: u64| -> Option<f64> {
        let upto = values.get(..usize::try_from(band).ok()?)?;
        upto.iter().copied().filter(|v| v.is_finite()).map(|v| metric.loss(v)).min_by(f64::total_cmp)
    };
    let mut out = Vec::new();
    for run in runs.iter().filter(|r| r.running) {
        // the highest band this run has reached decides
        let Some(&band) = hb.bands.iter().rev().find(|b| run.values.len() as u64 >= **b) else { continue };
        let Some(mine) = best_at(run.values, band) else { continue };
        let mut all: Vec<f64> = runs.iter().filter_map(|r| best_at(r.values, band)).collect();
        all.sort_by(f64::total_cmp);
        let keep = ((all.len() as f64 / hb.eta).floor() as usize).max(1);
        if mine > all[keep - 1] {
            out.push(run.key.clone());
        }
    }
    out
}
