//! The sweep config in wandb's format, parsed and validated in one pass. Every error names the
//! offending path (`parameters.lr.distribution`) and, for a value out of a set, the accepted
//! values.

use serde_json::{Map, Value};

use crate::SweepError;

type Result<T> = std::result::Result<T, SweepError>;

/// The most grid combinations a sweep may enumerate (bounds the controller's work per claim).
pub const MAX_GRID: u64 = 100_000;

pub const METHODS: &[&str] = &["grid", "random", "bayes"];
pub const GOALS: &[&str] = &["minimize", "maximize"];
pub const DISTRIBUTIONS: &[&str] = &[
    "constant",
    "categorical",
    "categorical_w",
    "int_uniform",
    "uniform",
    "q_uniform",
    "log_uniform",
    "log_uniform_values",
    "q_log_uniform_values",
    "inv_log_uniform_values",
    "normal",
    "q_normal",
    "log_normal",
    "q_log_normal",
];
const PARAM_KEYS: &[&str] = &[
    "distribution",
    "value",
    "values",
    "probabilities",
    "min",
    "max",
    "mu",
    "sigma",
    "q",
    "description",
    "parameters",
];
const TOP_KEYS: &[&str] = &[
    "method",
    "metric",
    "parameters",
    "early_terminate",
    "run_cap",
    "command",
    "program",
    "name",
    "description",
    "project",
    "entity",
    "controller",
    "job",
    "image_uri",
];
pub const DEFAULT_COMMAND: &[&str] = &["${env}", "${interpreter}", "${program}", "${args}"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Grid,
    Random,
    Bayes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    Minimize,
    Maximize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub name: String,
    pub goal: Goal,
}

impl Metric {
    /// The value to minimise: the metric, negated when the goal is to maximise.
    #[must_use]
    pub fn loss(&self, value: f64) -> f64 {
        if self.goal == Goal::Maximize { -value } else { value }
    }
}

/// `early_terminate: {type: hyperband, min_iter | max_iter, eta, s}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Hyperband {
    /// The iterations (metric history lengths) at which runs are compared, ascending.
    pub bands: Vec<u64>,
    pub eta: f64,
}

/// A parameter's distribution; log ones are sampled in log space.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    Constant(Value),
    Categorical {
        values: Vec<Value>,
        probabilities: Option<Vec<f64>>,
    },
    IntUniform {
        min: i64,
        max: i64,
    },
    Uniform {
        min: f64,
        max: f64,
        q: Option<f64>,
    },
    /// `log_uniform` (bounds are exponents) and `*log_uniform_values` (bounds are values), stored
    /// as natural-log bounds.
    LogUniform {
        ln_min: f64,
        ln_max: f64,
        q: Option<f64>,
    },
    Normal {
        mu: f64,
        sigma: f64,
        q: Option<f64>,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
        q: Option<f64>,
    },
}

/// One leaf parameter: its path in the run config (nested `parameters` give longer paths).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub path: Vec<String>,
    pub dist: Distribution,
}

impl Param {
    /// The dotted path, for messages.
    #[must_use]
    pub fn name(&self) -> String {
        self.path.join(".")
    }

    /// This parameter's value in a (nested) run config.
    #[must_use]
    pub fn get<'a>(&self, config: &'a Value) -> Option<&'a Value> {
        self.path.iter().try_fold(config, |v, k| v.get(k))
    }

    /// The finite list of values a grid enumerates, if the distribution has one.
    #[must_use]
    pub fn grid_values(&self) -> Option<Vec<Value>> {
        match &self.dist {
            Distribution::Constant(v) => Some(vec![v.clone()]),
            Distribution::Categorical { values, .. } => Some(values.clone()),
            Distribution::IntUniform { min, max } => Some((*min..=*max).map(Value::from).collect()),
            Distribution::Uniform { min, max, q: Some(q) } => {
                let n = ((max - min) / q).floor() as u64;
                Some((0..=n).map(|i| crate::suggest::number(min + i as f64 * q, true)).collect())
            }
            _ => None,
        }
    }

    fn grid_len(&self) -> Option<u64> {
        match &self.dist {
            Distribution::Constant(_) => Some(1),
            Distribution::Categorical { values, .. } => Some(values.len() as u64),
            Distribution::IntUniform { min, max } => Some(max.abs_diff(*min).saturating_add(1)),
            Distribution::Uniform { min, max, q: Some(q) } => Some(((max - min) / q).floor() as u64 + 1),
            _ => None,
        }
    }
}

/// A validated sweep config.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepConfig {
    pub method: Method,
    pub metric: Option<Metric>,
    pub params: Vec<Param>,
    pub early_terminate: Option<Hyperband>,
    pub run_cap: Option<u64>,
    pub command: Vec<String>,
    pub program: Option<String>,
}

impl SweepConfig {
    /// Grid combinations (1 for an empty product); `None` unless the method is grid.
    #[must_use]
    pub fn grid_size(&self) -> Option<u64> {
        if self.method != Method::Grid {
            return None;
        }
        self.params.iter().try_fold(1u64, |acc, p| p.grid_len().map(|n| acc.saturating_mul(n)))
    }
}

fn one_of(path: &str, what: &str, got: &str, accepted: &[&str]) -> SweepError {
    SweepError::at(path, format!("{what} {got:?} is not accepted; accepted values: {}", accepted.join(", ")))
}

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
    v.as_object().ok_or_else(|| SweepError::at(path, "must be a mapping"))
}

fn num(m: &Map<String, Value>, key: &str, path: &str) -> Result<Option<f64>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| SweepError::at(&format!("{path}.{key}"), "must be a finite number")),
    }
}

fn req(m: &Map<String, Value>, key: &str, path: &str, dist: &str) -> Result<f64> {
    num(m, key, path)?.ok_or_else(|| SweepError::at(&format!("{path}.{key}"), format!("is required by {dist}")))
}

/// Parses and validates a sweep config (the JSON form of the YAML file or dict).
///
/// # Errors
/// [`SweepError::Invalid`] with the offending path and the accepted values.
pub fn parse_config(v: &Value) -> Result<SweepConfig> {
    let top = obj(v, "config")?;
    // an optional key written as null is absent, as in wandb's YAML (`metric:` with nothing)
    let top: Map<String, Value> =
        top.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
    let top = &top;
    if let Some(k) = top.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
        return Err(one_of(k, "key", k, TOP_KEYS));
    }
    let method = match top.get("method").and_then(Value::as_str) {
        Some("grid") => Method::Grid,
        Some("random") => Method::Random,
        Some("bayes") => Method::Bayes,
        Some(other) => return Err(one_of("method", "method", other, METHODS)),
        None => return Err(SweepError::at("method", format!("is required; accepted values: {}", METHODS.join(", ")))),
    };
    let metric = top.get("metric").map(parse_metric).transpose()?;
    let params_v = top.get("parameters").ok_or_else(|| SweepError::at("parameters", "is required"))?;
    let mut params = Vec::new();
    parse_params(params_v, &mut Vec::new(), &mut params)?;
    if params.is_empty() {
        return Err(SweepError::at("parameters", "must name at least one parameter"));
    }
    let early_terminate = top.get("early_terminate").map(parse_hyperband).transpose()?;
    if metric.is_none() && (method == Method::Bayes || early_terminate.is_some()) {
        let why = if method == Method::Bayes { "method bayes" } else { "early_terminate" };
        return Err(SweepError::at("metric", format!("is required by {why} (metric: {{name, goal}})")));
    }
    let run_cap = match top.get("run_cap") {
        None | Some(Value::Null) => None,
        Some(v) => Some(positive_int(v).ok_or_else(|| SweepError::at("run_cap", "must be a positive integer"))?),
    };
    let cfg = SweepConfig {
        method,
        metric,
        params,
        early_terminate,
        run_cap,
        command: parse_command(top.get("command"))?,
        program: top.get("program").and_then(Value::as_str).map(str::to_owned),
    };
    check_grid(&cfg)?;
    Ok(cfg)
}

/// A positive integer, also written as an integral float (`5.0`, as YAML or JSON tools may).
fn positive_int(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 9.0e15).map(|f| f as u64))
        .filter(|n| *n > 0)
}

fn check_grid(cfg: &SweepConfig) -> Result<()> {
    if cfg.method != Method::Grid {
        return Ok(());
    }
    if let Some(p) = cfg.params.iter().find(|p| p.grid_len().is_none()) {
        return Err(SweepError::at(
            &format!("parameters.{}", p.name()),
            "grid search needs a finite set of values: use values, value, int_uniform or q_uniform (or method random/bayes)",
        ));
    }
    match cfg.grid_size() {
        Some(n) if n <= MAX_GRID => Ok(()),
        n => Err(SweepError::at(
            "parameters",
            format!("the grid has {} combinations; the most is {MAX_GRID}", n.unwrap_or(u64::MAX)),
        )),
    }
}

fn parse_metric(v: &Value) -> Result<Metric> {
    let m = obj(v, "metric")?;
    let name = m
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| SweepError::at("metric.name", "is required (a summary metric's name)"))?;
    let goal = match m.get("goal").and_then(Value::as_str) {
        None | Some("minimize") => Goal::Minimize,
        Some("maximize") => Goal::Maximize,
        Some(other) => return Err(one_of("metric.goal", "goal", other, GOALS)),
    };
    Ok(Metric { name: name.to_owned(), goal })
}

fn parse_hyperband(v: &Value) -> Result<Hyperband> {
    let m = obj(v, "early_terminate")?;
    match m.get("type").and_then(Value::as_str) {
        Some("hyperband") => {}
        got => return Err(one_of("early_terminate.type", "type", got.unwrap_or(""), &["hyperband"])),
    }
    let eta = num(m, "eta", "early_terminate")?.unwrap_or(3.0);
    if eta <= 1.0 {
        return Err(SweepError::at("early_terminate.eta", "must be greater than 1"));
    }
    let s = match m.get("s") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|s| (1..=20).contains(s))
                .ok_or_else(|| SweepError::at("early_terminate.s", "must be an integer from 1 to 20"))?,
        ),
    };
    let int = |k: &str| -> Result<Option<u64>> {
        m.get(k)
            .map(|v| {
                v.as_u64()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| SweepError::at(&format!("early_terminate.{k}"), "must be a positive integer"))
            })
            .transpose()
    };
    let bands: Vec<u64> = match (int("min_iter")?, int("max_iter")?) {
        (Some(min), _) => (0..s.unwrap_or(3)).map(|k| (min as f64 * eta.powi(k as i32)).round() as u64).collect(),
        (None, Some(max)) => {
            let s = s.ok_or_else(|| SweepError::at("early_terminate.s", "is required with max_iter"))?;
            let mut b: Vec<u64> = (1..=s).map(|k| (max as f64 / eta.powi(k as i32)).round().max(1.0) as u64).collect();
            b.reverse();
            b
        }
        (None, None) => return Err(SweepError::at("early_terminate", "needs min_iter or max_iter")),
    };
    Ok(Hyperband { bands, eta })
}

fn parse_command(v: Option<&Value>) -> Result<Vec<String>> {
    let Some(v) = v else { return Ok(DEFAULT_COMMAND.iter().map(|s| (*s).to_owned()).collect()) };
    let items = v.as_array().ok_or_else(|| SweepError::at("command", "must be a list of strings"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_str().map(str::to_owned).ok_or_else(|| SweepError::at(&format!("command[{i}]"), "must be a string"))
        })
        .collect()
}

fn parse_params(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Param>) -> Result<()> {
    let here = if prefix.is_empty() { "parameters".to_owned() } else { format!("parameters.{}", prefix.join(".")) };
    for (name, spec) in obj(v, &here)? {
        prefix.push(name.clone());
        let path = format!("parameters.{}", prefix.join("."));
        let m = obj(spec, &path)?;
        if let Some(k) = m.keys().find(|k| !PARAM_KEYS.contains(&k.as_str())) {
            return Err(one_of(&format!("{path}.{k}"), "key", k, PARAM_KEYS));
        }
        if let Some(nested) = m.get("parameters") {
            parse_params(nested, prefix, out)?;
        } else {
            out.push(Param { path: prefix.clone(), dist: parse_dist(m, &path)? });
        }
        prefix.pop();
    }
    Ok(())
}

/// The distribution wandb infers when none is named.
fn infer(m: &Map<String, Value>) -> &'static str {
    if m.contains_key("value") {
        "constant"
    } else if m.contains_key("values") {
        if m.contains_key("probabilities") { "categorical_w" } else { "categorical" }
    } else if m.get("min").is_some_and(Value::is_i64) && m.get("max").is_some_and(Value::is_i64) {
        "int_uniform"
    } else {
        "uniform"
    }
}

fn parse_dist(m: &Map<String, Value>, path: &str) -> Result<Distribution> {
    let name = match m.get("distribution") {
        None => infer(m),
        Some(Value::String(s)) => DISTRIBUTIONS
            .iter()
            .find(|d| **d == s.as_str())
            .copied()
            .ok_or_else(|| one_of(&format!("{path}.distribution"), "distribution", s, DISTRIBUTIONS))?,
        Some(_) => return Err(SweepError::at(&format!("{path}.distribution"), "must be a string")),
    };
    let q = num(m, "q", path)?;
    if q.is_some_and(|q| q <= 0.0) {
        return Err(SweepError::at(&format!("{path}.q"), "must be positive"));
    }
    match name {
        "constant" => m
            .get("value")
            .cloned()
            .map(Distribution::Constant)
            .ok_or_else(|| SweepError::at(&format!("{path}.value"), "is required by constant")),
        "categorical" | "categorical_w" => categorical(m, path, name == "categorical_w"),
        "int_uniform" => int_uniform(m, path),
        "uniform" | "q_uniform" => {
            let (min, max) = bounds(m, path, name)?;
            Ok(Distribution::Uniform { min, max, q: if name == "q_uniform" { Some(q.unwrap_or(1.0)) } else { None } })
        }
        "log_uniform" => {
            let (ln_min, ln_max) = bounds(m, path, name)?;
            Ok(Distribution::LogUniform { ln_min, ln_max, q: None })
        }
        _ if name.ends_with("log_uniform_values") => log_values(m, path, name, q),
        _ => {
            let mu = num(m, "mu", path)?.unwrap_or(0.0);
            let sigma = num(m, "sigma", path)?.unwrap_or(1.0);
            if sigma <= 0.0 {
                return Err(SweepError::at(&format!("{path}.sigma"), "must be positive"));
            }
            let q = if name.starts_with("q_") { Some(q.unwrap_or(1.0)) } else { None };
            Ok(if name.ends_with("log_normal") {
                Distribution::LogNormal { mu, sigma, q }
            } else {
                Distribution::Normal { mu, sigma, q }
            })
        }
    }
}

fn bounds(m: &Map<String, Value>, path: &str, dist: &str) -> Result<(f64, f64)> {
    let (min, max) = (req(m, "min", path, dist)?, req(m, "max", path, dist)?);
    if min >= max {
        return Err(SweepError::at(&format!("{path}.max"), format!("must be greater than min ({min})")));
    }
    Ok((min, max))
}

fn log_values(m: &Map<String, Value>, path: &str, dist: &str, q: Option<f64>) -> Result<Distribution> {
    let (min, max) = bounds(m, path, dist)?;
    if min <= 0.0 {
        return Err(SweepError::at(&format!("{path}.min"), format!("must be positive for {dist}")));
    }
    let q = if dist.starts_with("q_") { Some(q.unwrap_or(1.0)) } else { None };
    Ok(Distribution::LogUniform { ln_min: min.ln(), ln_max: max.ln(), q })
}

fn int_uniform(m: &Map<String, Value>, path: &str) -> Result<Distribution> {
    let int = |k: &str| {
        m.get(k)
            .and_then(Value::as_i64)
            .ok_or_else(|| SweepError::at(&format!("{path}.{k}"), "is required by int_uniform and must be an integer"))
    };
    let (min, max) = (int("min")?, int("max")?);
    if min >= max {
        return Err(SweepError::at(&format!("{path}.max"), format!("must be greater than min ({min})")));
    }
    Ok(Distribution::IntUniform { min, max })
}

fn categorical(m: &Map<String, Value>, path: &str, weighted: bool) -> Result<Distribution> {
    let values = m
        .get("values")
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| SweepError::at(&format!("{path}.values"), "must be a non-empty list"))?
        .clone();
    let probabilities = match m.get("probabilities") {
        None if !weighted => None,
        v => {
            let p: Option<Vec<f64>> =
                v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_f64).filter(|x| *x >= 0.0).collect());
            match p {
                Some(p) if p.len() == values.len() && (p.iter().sum::<f64>() - 1.0).abs() < 1e-6 => Some(p),
                _ => {
                    return Err(SweepError::at(
                        &format!("{path}.probabilities"),
                        "must be one non-negative number per value, summing to 1",
                    ));
                }
            }
        }
    };
    Ok(Distribution::Categorical { values, probabilities })
}
