//! Bayesian optimisation with a tree-structured Parzen estimator (Bergstra et al. 2011), one
//! dimension at a time as hyperopt does: the finished trials are split into the best `γ` share
//! ("good") and the rest; each side gets a Parzen density per parameter (`l(x)`, `g(x)`), and
//! the candidate drawn from `l` with the highest `l(x)/g(x)` is suggested. Numeric parameters are
//! modelled in their sampling space (log for log distributions), categorical ones by smoothed
//! counts.

use serde_json::Value;

use crate::config::{Distribution, Param, SweepConfig};
use crate::rng::Rng;
use crate::suggest::{Trial, TrialState, nest, number, sample};

/// Trials drawn at random before the model is used.
pub const STARTUP_TRIALS: usize = 10;
/// Candidates drawn from `l(x)` per parameter.
const CANDIDATES: usize = 24;

/// The search space of one parameter.
enum Space<'a> {
    Fixed(&'a Value),
    Cat(&'a [Value]),
    /// `lo..hi` in sampling space; `log`: values are `exp(x)`; `int`: rounded; `q`: quantised.
    Num {
        lo: f64,
        hi: f64,
        log: bool,
        int: bool,
        q: Option<f64>,
    },
}

fn space(p: &Param) -> Space<'_> {
    let num = |lo: f64, hi: f64, log: bool, int: bool, q: Option<f64>| Space::Num { lo, hi, log, int, q };
    match &p.dist {
        Distribution::Constant(v) => Space::Fixed(v),
        Distribution::Categorical { values, .. } => Space::Cat(values),
        Distribution::IntUniform { min, max } => num(*min as f64 - 0.5, *max as f64 + 0.5, false, true, None),
        Distribution::Uniform { min, max, q } => num(*min, *max, false, false, *q),
        Distribution::LogUniform { ln_min, ln_max, q } => num(*ln_min, *ln_max, true, false, *q),
        Distribution::Normal { mu, sigma, q } => num(mu - 4.0 * sigma, mu + 4.0 * sigma, false, false, *q),
        Distribution::LogNormal { mu, sigma, q } => num(mu - 4.0 * sigma, mu + 4.0 * sigma, true, false, *q),
    }
}

/// The next trial's config; random until [`STARTUP_TRIALS`] trials have a finite metric.
pub(crate) fn suggest(cfg: &SweepConfig, trials: &[Trial], rng: &mut Rng) -> Value {
    let Some(metric) = &cfg.metric else {
        return nest(&cfg.params, cfg.params.iter().map(|p| sample(&p.dist, rng)).collect());
    };
    let mut done: Vec<(f64, &Trial)> = trials
        .iter()
        .filter(|t| matches!(t.state, TrialState::Finished | TrialState::Stopped))
        .filter_map(|t| t.metric.filter(|m| m.is_finite()).map(|m| (metric.loss(m), t)))
        .collect();
    if done.len() < STARTUP_TRIALS {
        return nest(&cfg.params, cfg.params.iter().map(|p| sample(&p.dist, rng)).collect());
    }
    done.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n_good = ((done.len() as f64 * 0.15).ceil() as usize).clamp(1, 25);
    let (good, bad) = done.split_at(n_good);
    let values = cfg
        .params
        .iter()
        .map(|p| {
            let xs = |side: &[(f64, &Trial)]| -> Vec<Value> {
                side.iter().filter_map(|(_, t)| p.get(&t.config).cloned()).collect()
            };
            choose(p, &xs(good), &xs(bad), rng)
        })
        .collect();
    nest(&cfg.params, values)
}

fn choose(p: &Param, good: &[Value], bad: &[Value], rng: &mut Rng) -> Value {
    match space(p) {
        Space::Fixed(v) => v.clone(),
        Space::Cat(values) => choose_cat(values, good, bad, rng),
        Space::Num { lo, hi, log, int, q } => {
            let to_x = |v: &Value| v.as_f64().map(|x| if log { x.max(f64::MIN_POSITIVE).ln() } else { x });
            let l = Parzen::new(good.iter().filter_map(to_x).collect(), lo, hi);
            let g = Parzen::new(bad.iter().filter_map(to_x).collect(), lo, hi);
            let best = (0..CANDIDATES)
                .map(|_| l.sample(rng))
                .map(|x| (l.log_density(x) - g.log_density(x), x))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map_or(lo, |(_, x)| x);
            let v = if log { best.exp() } else { best };
            match q {
                Some(q) => number((v / q).round() * q, q.fract() == 0.0),
                None => number(if int { v.round() } else { v }, int),
            }
        }
    }
}

fn choose_cat(values: &[Value], good: &[Value], bad: &[Value], rng: &mut Rng) -> Value {
    // counts plus one per value: the prior keeps every value possible
    let weights = |side: &[Value]| -> Vec<f64> {
        values.iter().map(|v| 1.0 + side.iter().filter(|s| *s == v).count() as f64).collect()
    };
    let (l, g) = (weights(good), weights(bad));
    let (lt, gt): (f64, f64) = (l.iter().sum(), g.iter().sum());
    let best = (0..CANDIDATES)
        .map(|_| rng.weighted(&l))
        .max_by(|a, b| ((l[*a] / lt) / (g[*a] / gt)).total_cmp(&((l[*b] / lt) / (g[*b] / gt))))
        .unwrap_or(0);
    values[best].clone()
}

/// A mixture of Gaussians at the observations plus a wide prior component (hyperopt's adaptive
/// Parzen estimator): each bandwidth is the larger gap to a neighbour, clipped.
struct Parzen {
    mus: Vec<f64>,
    sigmas: Vec<f64>,
    lo: f64,
    hi: f64,
}

impl Parzen {
    fn new(mut xs: Vec<f64>, lo: f64, hi: f64) -> Self {
        xs.retain(|x| x.is_finite());
        xs.iter_mut().for_each(|x| *x = x.clamp(lo, hi));
        xs.sort_by(f64::total_cmp);
        let width = hi - lo;
        let min_sigma = width / (xs.len() as f64 + 1.0).min(100.0);
        let mut sigmas: Vec<f64> = (0..xs.len())
            .map(|i| {
                let left = if i == 0 { xs[i] - lo } else { xs[i] - xs[i - 1] };
                let right = if i + 1 == xs.len() { hi - xs[i] } else { xs[i + 1] - xs[i] };
                left.max(right).clamp(min_sigma, width)
            })
            .collect();
        // the prior: one component over the whole range
        xs.push((lo + hi) / 2.0);
        sigmas.push(width);
        Parzen { mus: xs, sigmas, lo, hi }
    }

    fn sample(&self, rng: &mut Rng) -> f64 {
        let i = rng.below(self.mus.len());
        for _ in 0..16 {
            let x = rng.normal(self.mus[i], self.sigmas[i]);
            if (self.lo..=self.hi).contains(&x) {
                return x;
            }
        }
        rng.uniform(self.lo, self.hi)
    }

    fn log_density(&self, x: f64) -> f64 {
        let n = self.mus.len() as f64;
        let p: f64 = self
            .mus
            .iter()
            .zip(&self.sigmas)
            .map(|(m, s)| (-0.5 * ((x - m) / s).powi(2)).exp() / (s * (std::f64::consts::TAU).sqrt()))
            .sum::<f64>()
            / n;
        p.max(f64::MIN_POSITIVE).ln()
    }
}
