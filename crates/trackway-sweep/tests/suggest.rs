//! Grid, random and Bayesian suggestions; hyperband stops.

use std::collections::HashSet;

use serde_json::{Value, json};
use trackway_sweep::hyperband::History;
use trackway_sweep::{Suggestion, SweepConfig, Trial, TrialState, parse_config, stops, suggest};

fn params(s: Suggestion) -> Value {
    match s {
        Suggestion::Params(v) => v,
        Suggestion::Exhausted => panic!("exhausted too early"),
    }
}

fn finished(config: Value, metric: f64) -> Trial {
    Trial { config, metric: Some(metric), state: TrialState::Finished }
}

#[test]
fn grid_enumerates_each_combination_once_then_stops() {
    let cfg = parse_config(&json!({"method": "grid", "parameters": {
        "a": {"values": [1, 2, 3]}, "b": {"min": 0, "max": 3},
        "n": {"parameters": {"c": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.5}}}}}))
    .expect("valid");
    assert_eq!(cfg.grid_size(), Some(36));
    let mut trials = Vec::new();
    let mut seen = HashSet::new();
    for i in 0..36 {
        let p = params(suggest(&cfg, &trials, i));
        assert!(seen.insert(p.to_string()), "duplicate grid point {p}");
        assert!(p["n"]["c"].is_number());
        trials.push(Trial { config: p, metric: None, state: TrialState::Running });
    }
    assert_eq!(suggest(&cfg, &trials, 99), Suggestion::Exhausted);
}

#[test]
fn random_draws_stay_in_their_distributions() {
    let cfg = parse_config(&json!({"method": "random", "run_cap": 500, "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "e": {"distribution": "log_uniform", "min": -2, "max": 0},
        "k": {"min": 2, "max": 5},
        "u": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 2},
        "w": {"values": ["a", "b"], "probabilities": [0.9, 0.1]},
        "c": {"value": "fixed"}}}))
    .expect("valid");
    let mut trials = Vec::new();
    let mut ks = HashSet::new();
    for i in 0..500u64 {
        let p = params(suggest(&cfg, &trials, i));
        let lr = p["lr"].as_f64().expect("lr");
        assert!((1e-4..=1e-1).contains(&lr), "{p}");
        let e = p["e"].as_f64().expect("e");
        assert!(((-2f64).exp()..=1.0).contains(&e), "{p}");
        let k = p["k"].as_i64().expect("k is an integer");
        assert!((2..=5).contains(&k));
        ks.insert(k);
        let u = p["u"].as_i64().expect("integral q gives integers");
        assert!(u % 2 == 0 && (0..=10).contains(&u), "{p}");
        assert_eq!(p["c"], "fixed");
        trials.push(Trial { config: p, metric: None, state: TrialState::Running });
    }
    assert_eq!(ks.len(), 4, "every integer of int_uniform is drawn");
    let a = trials.iter().filter(|t| t.config["w"] == "a").count();
    assert!(a > 380 && a < 490, "probabilities respected: {a}/500");
    assert_eq!(suggest(&cfg, &trials, 1), Suggestion::Exhausted, "run_cap");
}

/// Branin: three global minima of 0.397887 on x1 ∈ [-5, 10], x2 ∈ [0, 15].
fn branin(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let b = 5.1 / (4.0 * PI * PI);
    let c = 5.0 / PI;
    let t = 1.0 / (8.0 * PI);
    (y - b * x * x + c * x - 6.0).powi(2) + 10.0 * (1.0 - t) * x.cos() + 10.0
}

fn best_after(cfg: &SweepConfig, n: usize, seed: u64, f: impl Fn(f64, f64) -> f64) -> f64 {
    let mut trials = Vec::new();
    let mut best = f64::INFINITY;
    for i in 0..n as u64 {
        let p = params(suggest(cfg, &trials, seed * 1000 + i));
        let v = f(p["x"].as_f64().expect("x"), p["y"].as_f64().expect("y"));
        best = best.min(v);
        trials.push(finished(p, v));
    }
    best
}

fn space(method: &str) -> SweepConfig {
    parse_config(&json!({"method": method, "metric": {"name": "f", "goal": "minimize"},
        "parameters": {"x": {"min": -5.0, "max": 10.0}, "y": {"min": 0.0, "max": 15.0}}}))
    .expect("valid")
}

#[test]
fn bayes_beats_random_on_branin_and_reaches_its_optimum() {
    // 60 trials each, over 8 seeds, in the same run: the TPE's mean best must beat random's
    // and every TPE search must come within 0.3 of the optimum 0.397887
    let (bayes, random) = (space("bayes"), space("random"));
    let (mut sb, mut sr) = (0.0, 0.0);
    for seed in 1..=8 {
        let b = best_after(&bayes, 60, seed, branin);
        let r = best_after(&random, 60, seed, branin);
        assert!(b < 0.397887 + 0.3, "seed {seed}: bayes best {b}");
        sb += b;
        sr += r;
    }
    assert!(sb < sr, "bayes mean best {} vs random {}", sb / 8.0, sr / 8.0);
}

#[test]
fn bayes_maximises_a_quadratic() {
    let cfg = parse_config(&json!({"method": "bayes", "metric": {"name": "f", "goal": "maximize"},
        "parameters": {"x": {"min": -5.0, "max": 5.0}, "y": {"min": -5.0, "max": 5.0}}}))
    .expect("valid");
    let mut trials = Vec::new();
    for i in 0..60 {
        let p = params(suggest(&cfg, &trials, i));
        let (x, y) = (p["x"].as_f64().expect("x"), p["y"].as_f64().expect("y"));
        trials.push(finished(p, -((x - 1.0).powi(2) + (y + 2.0).powi(2))));
    }
    let best = trials.iter().filter_map(|t| t.metric).fold(f64::NEG_INFINITY, f64::max);
    assert!(best > -0.1, "maximum 0 at (1, -2) approached: {best}");
}

#[test]
fn hyperband_stops_the_worse_runs_at_each_band() {
    let cfg = parse_config(&json!({"method": "random", "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"value": 1}}, "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2}}))
    .expect("valid");
    let hb = cfg.early_terminate.clone().expect("hyperband");
    let metric = cfg.metric.clone().expect("metric");
    assert_eq!(hb.bands, vec![2, 4, 8]);
    let good = [1.0, 0.5, 0.4, 0.3];
    let bad = [2.0, 1.9, 1.8, 1.7];
    let early = [3.0];
    let mid = [1.5, 1.4];
    let runs = [
        History { key: "good", running: true, values: &good },
        History { key: "bad", running: true, values: &bad },
        History { key: "early", running: true, values: &early },
        History { key: "mid", running: true, values: &mid },
    ];
    // band 2: best-so-far 0.5, 1.9, 1.4 → keep floor(3/2)=1: bad and mid stop; early has not
    // reached a band; band 4: only good and bad → keep 1: bad
    let mut stopped = stops(&hb, &metric, &runs);
    stopped.sort_unstable();
    assert_eq!(stopped, vec!["bad", "mid"]);
    let finished_only = [History { key: "bad", running: false, values: &bad }];
    assert!(stops(&hb, &metric, &finished_only).is_empty(), "finished runs are never stopped");
}
