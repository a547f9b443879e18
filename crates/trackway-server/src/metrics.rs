//! Prometheus metrics (`GET /metrics`, text exposition format) and the readiness probe.
//!
//! The registry comes from `prometheus-client` (the Prometheus project's Rust client). Label
//! values are bounded by construction: the HTTP method (one of the standard ones, else
//! `other`), the route *template* axum matched (`/api/v1/runs/{entity}/{project}`, never the
//! concrete path) or `ui` for the web app's fallback, and the status code; so a client cannot
//! grow the series count.
//!
//! Each replica counts what it served; Prometheus sums over replicas.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// Latency buckets in seconds: 0.5 ms .. ~33 s (doubling).
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 17))
}

/// The server's metrics. One per [`AppState`] (cheap to clone through its `Arc`).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    ingest_batches: Counter,
    ingest_records: Counter,
    ingest_points: Counter,
    ingest_dropped: Counter,
    ingest_seconds: Histogram,
    ingest_in_flight: Gauge,
    ingest_waiting: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    #[must_use]
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("trackway");
        let m = Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            ingest_batches: Counter::default(),
            ingest_records: Counter::default(),
            ingest_points: Counter::default(),
            ingest_dropped: Counter::default(),
            ingest_seconds: latency_histogram(),
            ingest_in_flight: Gauge::default(),
            ingest_waiting: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("http_requests", "HTTP requests answered, by route template and status", m.requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer, by route template", m.latency.clone());
        registry.register("ingest_batches", "Ingest requests applied", m.ingest_batches.clone());
        registry.register(
            "ingest_records",
            "Run-log records applied (retried ones not counted)",
            m.ingest_records.clone(),
        );
        registry.register(
            "ingest_points",
            "History values received in applied ingest batches",
            m.ingest_points.clone(),
        );
        registry.register(
            "ingest_dropped_rows",
            "History rows refused (step already written)",
            m.ingest_dropped.clone(),
        );
        registry.register(
            "ingest_duration_seconds",
            "Time to parse and store one ingest request",
            m.ingest_seconds.clone(),
        );
        registry.register("ingest_in_flight", "Ingest requests holding a slot", m.ingest_in_flight.clone());
        registry.register("ingest_waiting", "Ingest requests queued for a slot", m.ingest_waiting.clone());
        Metrics { registry, ..m }
    }

    /// The text exposition of every metric.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts one applied ingest request.
    pub(crate) fn ingested(&self, records: usize, points: usize, dropped: usize, seconds: f64) {
        self.ingest_batches.inc();
        self.ingest_records.inc_by(records as u64);
        self.ingest_points.inc_by(points as u64);
        self.ingest_dropped.inc_by(dropped as u64);
        self.ingest_seconds.observe(seconds);
    }

    /// Holds the `ingest_waiting` gauge up while the returned guard lives.
    pub(crate) fn waiting(self: &Arc<Self>) -> GaugeGuard {
        GaugeGuard::up(self.ingest_waiting.clone())
    }

    /// Holds the `ingest_in_flight` gauge up while the returned guard lives.
    pub(crate) fn in_flight(self: &Arc<Self>) -> GaugeGuard {
        GaugeGuard::up(self.ingest_in_flight.clone())
    }
}

/// Increments a gauge now and decrements it on drop (also when a request is cancelled).
pub(crate) struct GaugeGuard(Gauge<i64, AtomicI64>);

impl GaugeGuard {
    fn up(g: Gauge<i64, AtomicI64>) -> GaugeGuard {
        g.inc();
        GaugeGuard(g)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn method_label(m: &axum::http::Method) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN.into_iter().find(|k| *k == m.as_str()).unwrap_or("other")
}

/// Middleware: counts every request and observes its latency under its route template.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "ui".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(req).await;
    let labels = RouteLabels { method, route };
    state.metrics.latency.get_or_create(&labels).observe(start.elapsed().as_secs_f64());
    let status = response.status().as_u16();
    state.metrics.requests.get_or_create(&RequestLabels { method, route: labels.route, status }).inc();
    response
}

/// The exposition, with Prometheus' text content type.
pub(crate) fn exposition(metrics: &Metrics) -> Response {
    let body = metrics.encode();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// What a readiness probe checks: the metadata database answers a query and the blob store
/// answers a lookup. Returns the first failure, naming the dependency.
pub(crate) fn readiness(state: &AppState) -> Result<(), String> {
    state.store.user_count().map_err(|e| format!("database: {e}"))?;
    // Any digest will do: a lookup (a HEAD on S3) proves the store answers.
    state.blobs.size(&trackway_blob::Digest::of(b"")).map_err(|e| format!("blob store: {e}"))?;
    Ok(())
}

/// The value of one series in an exposition (tests).
#[cfg(test)]
pub(crate) fn value_of(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_counts_and_gauges_appear_in_the_exposition() {
        let m = Arc::new(Metrics::new());
        m.ingested(3, 30, 1, 0.002);
        let guard = m.waiting();
        let text = m.encode();
        assert_eq!(value_of(&text, "trackway_ingest_records_total"), Some(3.0), "{text}");
        assert_eq!(value_of(&text, "trackway_ingest_points_total"), Some(30.0));
        assert_eq!(value_of(&text, "trackway_ingest_dropped_rows_total"), Some(1.0));
        assert_eq!(value_of(&text, "trackway_ingest_waiting"), Some(1.0));
        drop(guard);
        assert_eq!(value_of(&m.encode(), "trackway_ingest_waiting"), Some(0.0));
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
