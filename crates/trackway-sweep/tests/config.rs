//! Sweep config validation: what wandb accepts parses, what it rejects names the path and the
//! accepted values.

use serde_json::json;
use trackway_sweep::{Distribution, Method, SweepError, parse_config};

fn err(v: serde_json::Value) -> (String, String) {
    match parse_config(&v) {
        Err(SweepError::Invalid { path, message }) => (path, message),
        Ok(c) => panic!("accepted an invalid config: {c:?}"),
    }
}

#[test]
fn full_wandb_config_parses() {
    let cfg = parse_config(&json!({
        "program": "train.py",
        "method": "bayes",
        "metric": {"name": "val/loss", "goal": "minimize"},
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
            "batch": {"values": [16, 32, 64]},
            "layers": {"min": 1, "max": 4},
            "dropout": {"min": 0.0, "max": 0.5},
            "wd": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25},
            "noise": {"distribution": "normal", "mu": 0, "sigma": 2},
            "seed": {"value": 7},
            "optimizer": {"parameters": {"name": {"values": ["adam", "sgd"]}, "momentum": {"min": 0.8, "max": 0.99}}}
        },
        "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
        "run_cap": 50,
        "command": ["${env}", "${interpreter}", "${program}", "--x", "${args}"]
    }))
    .expect("valid");
    assert_eq!(cfg.method, Method::Bayes);
    assert_eq!(cfg.params.len(), 9);
    let layers = cfg.params.iter().find(|p| p.name() == "layers").expect("layers");
    assert_eq!(layers.dist, Distribution::IntUniform { min: 1, max: 4 }, "int min/max infer int_uniform");
    assert!(cfg.params.iter().any(|p| p.path == ["optimizer", "momentum"]), "nested parameters flatten to paths");
    assert_eq!(cfg.early_terminate.expect("hb").bands, vec![3, 9, 27]);
    assert_eq!(cfg.run_cap, Some(50));
}

#[test]
fn unknown_method_lists_accepted_values() {
    let (path, msg) = err(json!({"method": "genetic", "parameters": {"x": {"values": [1]}}}));
    assert_eq!(path, "method");
    assert!(msg.contains("grid, random, bayes"), "{msg}");
}

#[test]
fn unknown_distribution_names_nested_path() {
    let (path, msg) = err(json!({"method": "random", "parameters": {
        "opt": {"parameters": {"lr": {"distribution": "log_uniformly", "min": 0, "max": 1}}}}}));
    assert_eq!(path, "parameters.opt.lr.distribution");
    assert!(msg.contains("log_uniform_values") && msg.contains("int_uniform"), "{msg}");
}

#[test]
fn rejections() {
    let p = |params: serde_json::Value| json!({"method": "random", "parameters": params});
    assert_eq!(err(p(json!({"x": {"min": 2, "max": 1}}))).0, "parameters.x.max");
    assert_eq!(err(p(json!({"x": {"distribution": "log_uniform_values", "min": 0, "max": 1}}))).0, "parameters.x.min");
    assert_eq!(err(p(json!({"x": {"values": []}}))).0, "parameters.x.values");
    assert_eq!(err(p(json!({"x": {"valuez": [1]}}))).0, "parameters.x.valuez");
    assert_eq!(err(p(json!({"x": {"distribution": "uniform", "min": 0}}))).0, "parameters.x.max");
    assert_eq!(err(p(json!({"x": {"values": [1, 2], "probabilities": [0.5, 0.6]}}))).0, "parameters.x.probabilities");
    assert_eq!(err(p(json!({}))).0, "parameters");
    assert_eq!(err(json!({"method": "bayes", "parameters": {"x": {"min": 0.0, "max": 1.0}}})).0, "metric");
    assert_eq!(err(json!({"method": "grid", "parameters": {"x": {"min": 0.0, "max": 1.0}}})).0, "parameters.x");
    let goal =
        err(json!({"method": "random", "metric": {"name": "m", "goal": "up"}, "parameters": {"x": {"value": 1}}}));
    assert_eq!(goal.0, "metric.goal");
    assert!(goal.1.contains("minimize, maximize"));
    let hb = err(json!({"method": "random", "metric": {"name": "m"}, "parameters": {"x": {"value": 1}},
        "early_terminate": {"type": "median"}}));
    assert_eq!(hb.0, "early_terminate.type");
    assert_eq!(err(json!({"method": "random", "parameters": {"x": {"value": 1}}, "run_cap": 0})).0, "run_cap");
    assert_eq!(
        err(json!({"method": "random", "parameters": {"x": {"value": 1}}, "command": ["a", 1]})).0,
        "command[1]"
    );
}

#[test]
fn grid_size_is_bounded() {
    let big = json!({"method": "grid", "parameters": {
        "a": {"min": 0, "max": 999}, "b": {"min": 0, "max": 999}}});
    let (path, msg) = err(big);
    assert_eq!(path, "parameters");
    assert!(msg.contains("1000000"), "{msg}");
}
