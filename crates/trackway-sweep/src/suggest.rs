//! The next trial's parameters: grid enumeration, random sampling, Bayesian optimisation.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::config::{Distribution, Method, Param, SweepConfig};
use crate::rng::Rng;

/// A trial's state as the controller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialState {
    Running,
    Finished,
    Failed,
    /// Stopped early (hyperband) or cancelled.
    Stopped,
}

/// A trial already handed out: its (nested) run config and, once known, its metric.
#[derive(Clone, Debug)]
pub struct Trial {
    pub config: Value,
    pub metric: Option<f64>,
    pub state: TrialState,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Suggestion {
    /// The next trial's run config (nested as the parameters are).
    Params(Value),
    /// Nothing left: the grid is enumerated or `run_cap` trials exist.
    Exhausted,
}

/// The next trial. `seed` must differ per call (the caller uses the trial's sequence number and
/// the sweep's seed), so that concurrent sweeps and consecutive trials draw differently.
#[must_use]
pub fn suggest(cfg: &SweepConfig, trials: &[Trial], seed: u64) -> Suggestion {
    if cfg.run_cap.is_some_and(|cap| trials.len() as u64 >= cap) {
        return Suggestion::Exhausted;
    }
    let mut rng = Rng::new(seed);
    match cfg.method {
        Method::Grid => grid(cfg, trials),
        Method::Random => Suggestion::Params(random(cfg, &mut rng)),
        Method::Bayes => Suggestion::Params(crate::tpe::suggest(cfg, trials, &mut rng)),
    }
}

/// Builds the nested run config from leaf values in parameter order.
#[must_use]
pub fn nest(params: &[Param], values: Vec<Value>) -> Value {
    let mut root = Map::new();
    for (p, v) in params.iter().zip(values) {
        let mut node = &mut root;
        for k in &p.path[..p.path.len().saturating_sub(1)] {
            let entry = node.entry(k.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(next) = entry else { unreachable!("made an object above") };
            node = next;
        }
        if let Some(last) = p.path.last() {
            node.insert(last.clone(), v);
        }
    }
    Value::Object(root)
}

/// A JSON number; integral values become integers when `int` (q-quantised and int params).
pub(crate) fn number(x: f64, int: bool) -> Value {
    if int && x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

fn quantise(x: f64, q: Option<f64>) -> Value {
    match q {
        // integral q gives integers, as wandb's q_* distributions do
        Some(q) => number((x / q).round() * q, q.fract() == 0.0),
        None => number(x, false),
    }
}

/// One draw from a parameter's prior.
pub(crate) fn sample(dist: &Distribution, rng: &mut Rng) -> Value {
    match dist {
        Distribution::Constant(v) => v.clone(),
        Distribution::Categorical { values, probabilities } => {
            let i = match probabilities {
                Some(p) => rng.weighted(p),
                None => rng.below(values.len()),
            };
            values[i].clone()
        }
        Distribution::IntUniform { min, max } => Value::from(min + rng.below(max.abs_diff(*min) as usize + 1) as i64),
        Distribution::Uniform { min, max, q } => quantise(rng.uniform(*min, *max), *q),
        Distribution::LogUniform { ln_min, ln_max, q } => quantise(rng.uniform(*ln_min, *ln_max).exp(), *q),
        Distribution::Normal { mu, sigma, q } => quantise(rng.normal(*mu, *sigma), *q),
        Distribution::LogNormal { mu, sigma, q } => quantise(rng.normal(*mu, *sigma).exp(), *q),
    }
}

fn random(cfg: &SweepConfig, rng: &mut Rng) -> Value {
    nest(&cfg.params, cfg.params.iter().map(|p| sample(&p.dist, rng)).collect())
}

/// The first combination (in a fixed mixed-radix order) no trial has yet.
fn grid(cfg: &SweepConfig, trials: &[Trial]) -> Suggestion {
    let axes: Vec<Vec<Value>> = cfg.params.iter().filter_map(Param::grid_values).collect();
    if axes.len() != cfg.params.len() {
        return Suggestion::Exhausted; // parse_config rejects such grids; never hand out a partial one
    }
    let key = |vals: &[&Value]| serde_json::to_string(vals).unwrap_or_default();
    let taken: HashSet<String> = trials
        .iter()
        .map(|t| {
            let vals: Vec<&Value> = cfg.params.iter().map(|p| p.get(&t.config).unwrap_or(&Value::Null)).collect();
            key(&vals)
        })
        .collect();
    let total: u64 = axes.iter().map(|a| a.len() as u64).product();
    for mut i in 0..total {
        let vals: Vec<&Value> = axes
            .iter()
            .map(|a| {
                let v = &a[(i % a.len() as u64) as usize];
                i /= a.len() as u64;
                v
            })
            .collect();
        if !taken.contains(&key(&vals)) {
            return Suggestion::Params(nest(&cfg.params, vals.into_iter().cloned().collect()));
        }
    }
    Suggestion::Exhausted
}
