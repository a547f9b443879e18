//! HTTP API tests: the router driven with `oneshot` (and one real socket for `run`).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestServer, history, ingest_body, run_record};
use serde_json::{Value, json};

#[tokio::test]
async fn health_is_open_and_everything_else_needs_a_key() {
    let s = TestServer::new();
    let (status, body) = s.call_with("GET", "/api/v1/health", None, None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    for (key, what) in [(None, "missing API key"), (Some("tw_nope"), "invalid API key")] {
        for uri in ["/api/v1/viewer", "/api/v1/projects", "/api/v1/openapi.json", "/api/v1/runs/alice/p/r"] {
            let (status, body) = s.call_with("GET", uri, key, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
            assert_eq!(body["error"]["code"], "unauthorized");
            assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains(what)), "{body}");
        }
    }
    let req = Request::get("/api/v1/viewer").header("authorization", "Basic abc").body(Body::empty()).expect("req");
    assert_eq!(s.raw(req).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = s.call("GET", "/api/v1/viewer", None).await;
    assert_eq!(
        (status, body["username"].as_str(), body["admin"].as_bool()),
        (StatusCode::OK, Some("alice"), Some(true))
    );
}

#[tokio::test]
async fn non_members_are_forbidden() {
    let s = TestServer::new();
    s.state.store.create_user("bob", false).expect("bob");
    let bob = s.state.store.create_api_key("bob", None).expect("key").key;
    let (status, body) =
        s.call_with("POST", "/api/v1/runs", Some(&bob), Some(json!({"entity":"alice","run_id":"r"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, body) = s.call_with("POST", "/api/v1/runs", Some(&bob), Some(json!({"run_id":"r"}))).await;
    assert_eq!((status, body["run"]["entity"].as_str()), (StatusCode::OK, Some("bob")), "{body}");
}

#[tokio::test]
async fn create_and_resume_semantics() {
    let s = TestServer::new();
    let create = |resume: Value| json!({"project":"p","run_id":"r1","name":"fox","config":{"lr":0.1},"resume":resume});
    let (status, body) = s.call("POST", "/api/v1/runs", Some(create(json!("must")))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("run_not_found")));
    let (status, body) = s.call("POST", "/api/v1/runs", Some(create(json!("never")))).await;
    assert_eq!((status, body["resumed"].as_bool()), (StatusCode::OK, Some(false)), "{body}");
    assert_eq!(body["run"]["url"], "/alice/p/runs/r1");
    assert_eq!(body["run"]["config"], json!({"lr":0.1}));
    let (status, body) = s.call("POST", "/api/v1/runs", Some(create(json!("never")))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("run_exists")));
    for resume in [json!(null), json!("allow"), json!("auto"), json!("must")] {
        let (status, body) = s.call("POST", "/api/v1/runs", Some(create(resume.clone()))).await;
        assert_eq!((status, body["resumed"].as_bool()), (StatusCode::OK, Some(true)), "{resume}");
    }
    let (status, body) = s.call("POST", "/api/v1/runs", Some(create(json!("sometimes")))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));
    let (status, _) = s.call("POST", "/api/v1/runs", Some(json!({"run_id":"a/b"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) =
        s.call("POST", "/api/v1/runs", Some(json!({"entity":"newteam","project":"p","run_id":"t1"}))).await;
    assert_eq!(
        (status, body["run"]["entity"].as_str()),
        (StatusCode::OK, Some("newteam")),
        "admins create teams on first use"
    );
    let (status, body) = s.call("PATCH", "/api/v1/runs/alice/p/r1", Some(json!({"notes":"hi","tags":["x"]}))).await;
    assert_eq!((status, body["notes"].as_str(), body["name"].as_str()), (StatusCode::OK, Some("hi"), Some("fox")));
}

async fn history_rows(s: &TestServer, run: &str, query: &str) -> Vec<Value> {
    let (status, body) = s.call("GET", &format!("/api/v1/runs/alice/p/{run}/history?{query}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["rows"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn ingest_is_idempotent_and_exact() {
    let s = TestServer::new();
    let recs = vec![
        run_record("r1"),
        history(0, json!({"loss": 1.5, "acc": 1})),
        history(1, json!({"loss": {"$f":"NaN"}, "big": {"$int":"123456789012345678901234567890"}})),
        history(1, json!({"inf": {"$f":"-Infinity"}, "text": "hello"})),
        json!({"t":"summary","set":{"best":0.5}}),
    ];
    let (body, to) = ingest_body("r1", "log-a", 0, &recs);
    let (status, ack) = s.call("POST", "/api/v1/ingest", Some(body.clone())).await;
    assert_eq!((status, ack["acked"].as_u64()), (StatusCode::OK, Some(to)), "{ack}");
    let (_, run_before) = s.call("GET", "/api/v1/runs/alice/p/r1", None).await;
    let rows_before = history_rows(&s, "r1", "").await;
    assert_eq!(rows_before.len(), 2);
    assert_eq!(rows_before[1]["loss"], json!({"$f":"NaN"}));
    assert_eq!(rows_before[1]["big"], json!({"$int":"123456789012345678901234567890"}));
    assert_eq!(rows_before[1]["inf"], json!({"$f":"-Infinity"}));
    assert_eq!(rows_before[1]["text"], "hello");
    assert_eq!(rows_before[0]["acc"], json!(1));
    assert_eq!(rows_before[0]["loss"], json!(1.5));
    // The same batch again: acknowledged, nothing changes.
    let (status, ack) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!((status, ack["acked"].as_u64(), ack["applied"].as_u64()), (StatusCode::OK, Some(to), Some(0)));
    let (_, run_after) = s.call("GET", "/api/v1/runs/alice/p/r1", None).await;
    for field in ["config", "summary", "row_count", "last_step", "state", "tags"] {
        assert_eq!(run_before[field], run_after[field], "{field}");
    }
    assert_eq!(history_rows(&s, "r1", "").await, rows_before);
    assert_eq!(run_after["row_count"], 2);
    // A gap is refused with the expected position.
    let (gap, _) = ingest_body("r1", "log-a", to + 7, &[history(2, json!({"loss": 1.0}))]);
    let (status, err) = s.call("POST", "/api/v1/ingest", Some(gap)).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("offset_gap")));
    assert_eq!(err["expected"].as_u64(), Some(to));
}

#[tokio::test]
async fn malformed_batches_change_nothing() {
    let s = TestServer::new();
    let (first, to) = ingest_body("r1", "log-a", 0, &[run_record("r1"), history(0, json!({"loss": 1.0}))]);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(first)).await.0, StatusCode::OK);
    let bad_records = [
        json!({"t":"history","step":-1,"ts":1.0,"rt":0.0,"data":{}}),
        json!({"no_type": 1}),
        json!({"t":"config","data":"not a map"}),
        json!([1, 2]),
    ];
    for bad in bad_records {
        let (body, _) = ingest_body("r1", "log-a", to, &[history(1, json!({"loss": 2.0})), bad.clone()]);
        let (status, err) = s.call("POST", "/api/v1/ingest", Some(body)).await;
        assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_record")), "{bad}");
    }
    let (body, _) = ingest_body("r1", "log-a", to, &[history(1, json!({"loss": 2.0}))]);
    let mut body = body;
    body["records"][0][0] = json!(to + 1_000_000); // position outside [from, to)
    let (status, err) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("content_mismatch")));
    let (status, _) = s.call("POST", "/api/v1/ingest", Some(json!({"run_id": "r1"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(history_rows(&s, "r1", "").await.len(), 1, "no row of a rejected batch was stored");
    let (_, run) = s.call("GET", "/api/v1/runs/alice/p/r1", None).await;
    assert_eq!(run["row_count"], 1);
    // The mark did not move: the good continuation is still accepted at `to`.
    let (next, _) = ingest_body("r1", "log-a", to, &[history(1, json!({"loss": 2.0}))]);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(next)).await.0, StatusCode::OK);
    // Ingest without a run record into a run that does not exist.
    let (orphan, _) = ingest_body("ghost", "log-a", 0, &[history(0, json!({"x": 1}))]);
    let (status, err) = s.call("POST", "/api/v1/ingest", Some(orphan)).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("run_not_found")));
}

#[tokio::test]
async fn large_batches_apply_in_slices_and_name_the_bad_record() {
    // Batches of thousands of records are parsed and applied in slices (each parsed on several
    // threads): a bad record late in the batch is reported with its own position (slices before
    // it may be stored, as if sent as a smaller batch), and a resent good batch keeps its rows
    // in order, each once.
    let s = TestServer::new();
    let mut recs = vec![run_record("r1")];
    recs.extend((0..5000).map(|i| history(i, json!({"a": i, "b": i as f64 * 0.5}))));
    let (mut bad, _) = ingest_body("r1", "log-a", 0, &recs);
    let bad_pos = bad["records"][4000][0].as_u64().unwrap_or_default();
    bad["records"][4000][1] = json!({"t":"history","step":-1,"ts":1.0,"rt":0.0,"data":{}});
    let (status, err) = s.call("POST", "/api/v1/ingest", Some(bad)).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_record")));
    let message = err["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("position {bad_pos}")), "{message}");
    assert_eq!(err["error"]["position"].as_u64(), Some(bad_pos));
    let (body, to) = ingest_body("r1", "log-a", 0, &recs);
    let (status, ack) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!((status, ack["acked"].as_u64()), (StatusCode::OK, Some(to)), "{ack}");
    let rows = history_rows(&s, "r1", "limit=10000").await;
    assert_eq!(rows.len(), 5000);
    assert!(rows.iter().enumerate().all(|(i, r)| r["_step"] == json!(i) && r["a"] == json!(i)));
    let (_, run) = s.call("GET", "/api/v1/runs/alice/p/r1", None).await;
    assert_eq!((&run["summary"]["a"], &run["summary"]["b"]), (&json!(4999), &json!(2499.5)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ingest_loses_and_duplicates_nothing() {
    let s = std::sync::Arc::new(TestServer::new());
    let runs = 12;
    let batches = 8;
    let rows_per_batch = 25;
    let mut tasks = Vec::new();
    for r in 0..runs {
        // Two senders per run replay the same log: duplicates and races on the mark.
        for _sender in 0..2 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let run = format!("run{r}");
                let mut from = 0;
                let mut recs = vec![run_record(&run)];
                for b in 0..batches {
                    for i in 0..rows_per_batch {
                        let step = (b * rows_per_batch + i) as u64;
                        recs.push(history(step, json!({"loss": step as f64 * 0.5, "run": r})));
                    }
                    let (body, to) = ingest_body(&run, "log-a", from, &recs);
                    loop {
                        let (status, body) = s.call("POST", "/api/v1/ingest", Some(body.clone())).await;
                        match status {
                            StatusCode::OK => break,
                            // The other sender is behind us; it is fine to retry from the mark.
                            StatusCode::CONFLICT => tokio::task::yield_now().await,
                            other => panic!("unexpected {other}: {body}"),
                        }
                    }
                    from = to;
                    recs.clear();
                }
            }));
        }
    }
    for t in tasks {
        t.await.expect("task");
    }
    for r in 0..runs {
        let (_, run) = s.call("GET", &format!("/api/v1/runs/alice/p/run{r}"), None).await;
        assert_eq!(run["row_count"].as_u64(), Some((batches * rows_per_batch) as u64), "run{r}");
        let rows = history_rows(&s, &format!("run{r}"), "limit=10000").await;
        assert_eq!(rows.len(), batches * rows_per_batch);
        assert!(rows.iter().enumerate().all(|(i, row)| row["_step"] == json!(i)));
    }
}

#[tokio::test]
async fn history_pages_samples_export_and_charts() {
    let s = TestServer::new();
    let mut recs = vec![run_record("r1")];
    for step in 0..1000u64 {
        let mut data = json!({"loss": 1.0 / (step as f64 + 1.0)});
        if step % 10 == 0 {
            data["eval"] = json!(step as f64);
        }
        recs.push(history(step, data));
    }
    let (body, _) = ingest_body("r1", "log-a", 0, &recs);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.0, StatusCode::OK);
    // Pagination covers every row once.
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let (status, page) =
            s.call("GET", &format!("/api/v1/runs/alice/p/r1/history?limit=300&cursor={cursor}"), None).await;
        assert_eq!(status, StatusCode::OK);
        let rows = page["rows"].as_array().cloned().unwrap_or_default();
        assert_eq!(rows.first().map(|r| r["_step"].clone()), Some(json!(seen)));
        seen += rows.len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, 1000);
    let sampled = history_rows(&s, "r1", "samples=7").await;
    assert_eq!(sampled.len(), 7);
    assert_eq!((sampled[0]["_step"].clone(), sampled[6]["_step"].clone()), (json!(0), json!(999)));
    let eval = history_rows(&s, "r1", "keys=eval&limit=10000").await;
    assert_eq!(eval.len(), 100);
    let ranged = history_rows(&s, "r1", "min_step=10&max_step=19").await;
    assert_eq!(ranged.len(), 10);
    // Export streams every row.
    let req = |fmt: &str| {
        Request::get(format!("/api/v1/runs/alice/p/r1/history/export?format={fmt}"))
            .header("authorization", format!("Bearer {}", s.key))
            .body(Body::empty())
            .expect("req")
    };
    let (status, headers, csv) = s.raw(req("csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().is_ok_and(|c| c.starts_with("text/csv")));
    let csv = String::from_utf8(csv).expect("utf8");
    assert_eq!(csv.lines().count(), 1001);
    assert!(csv.lines().next().is_some_and(|h| h.starts_with("_step,_runtime,_timestamp")));
    let (_, _, jsonl) = s.raw(req("jsonl")).await;
    let lines: Vec<Value> =
        String::from_utf8(jsonl).expect("utf8").lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(lines.len(), 1000);
    assert_eq!(lines[10]["eval"], json!(10.0));
    assert_eq!(s.raw(req("xlsx")).await.0, StatusCode::BAD_REQUEST);
    // Charts: exact when the budget covers the points, bucketed otherwise.
    let chart = |buckets: u64| json!({"runs":[{"project":"p","run_id":"r1"}],"metric":"loss","buckets":buckets});
    let (status, out) = s.call("POST", "/api/v1/charts/query", Some(chart(2000))).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        (out["series"][0]["exact"].as_bool(), out["series"][0]["x"].as_array().map(Vec::len)),
        (Some(true), Some(1000))
    );
    let (_, out) = s.call("POST", "/api/v1/charts/query", Some(chart(50))).await;
    let series = &out["series"][0];
    assert_eq!(series["exact"], false);
    assert!(series["x"].as_array().is_some_and(|x| x.len() <= 50 && !x.is_empty()));
    let total: u64 = series["count"].as_array().expect("count").iter().filter_map(Value::as_u64).sum();
    assert_eq!(total, 1000);
    assert_eq!(series["run_id"], "r1");
    let missing = json!({"runs":[{"project":"p","run_id":"nope"}],"metric":"loss"});
    assert_eq!(s.call("POST", "/api/v1/charts/query", Some(missing)).await.0, StatusCode::NOT_FOUND);
    // A browser's Accept-Encoding gets zstd, and the same answer once decoded.
    let (_, plain) = s.call("POST", "/api/v1/charts/query", Some(chart(50))).await;
    let req = Request::post("/api/v1/charts/query")
        .header("authorization", format!("Bearer {}", s.key))
        .header("content-type", "application/json")
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .body(Body::from(chart(50).to_string()))
        .expect("req");
    let (status, headers, packed) = s.raw(req).await;
    assert_eq!((status, headers.get("content-encoding").map(|v| v.as_bytes())), (StatusCode::OK, Some(&b"zstd"[..])));
    let decoded: Value = serde_json::from_slice(&zstd::decode_all(&packed[..]).expect("zstd")).expect("json");
    assert_eq!(decoded, plain);
    let (_, keys) = s.call("GET", "/api/v1/projects/alice/p/keys", None).await;
    assert_eq!(keys["history"], json!(["eval", "loss"]));
    assert_eq!(keys["config"], json!(["lr"]));
}

/// The runs list and a single run name the sweep a run is a trial of (looked up for the page's
/// runs only); a run outside any sweep, and one of another project's sweep, say `null`.
/// A chart over runs of several projects answers one series per requested run, in request order,
/// each from its own run (the route looks runs up per project).
#[tokio::test]
async fn chart_runs_of_several_projects_keep_request_order() {
    let s = TestServer::new();
    for (project, run, value) in [("p", "a", 1.0), ("q", "a", 2.0), ("p", "b", 3.0)] {
        let (mut body, _) = ingest_body(run, "log-a", 0, &[run_record(run), history(0, json!({"loss": value}))]);
        body["project"] = json!(project);
        assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.0, StatusCode::OK);
    }
    let runs = json!([{"project":"p","run_id":"b"},{"project":"q","run_id":"a"},{"project":"p","run_id":"a"},
                      {"project":"q","run_id":"a"}]);
    let (status, out) = s.call("POST", "/api/v1/charts/query", Some(json!({"runs": runs, "metric": "loss"}))).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let got: Vec<(Value, Value, Value)> = out["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|s| (s["project"].clone(), s["run_id"].clone(), s["last"][0].clone()))
        .collect();
    let want = [("p", "b", 3.0), ("q", "a", 2.0), ("p", "a", 1.0), ("q", "a", 2.0)];
    assert_eq!(got, want.iter().map(|(p, r, v)| (json!(p), json!(r), json!(v))).collect::<Vec<_>>());
    let other = json!({"runs":[{"project":"p","run_id":"a"},{"project":"q","run_id":"b"}],"metric":"loss"});
    assert_eq!(s.call("POST", "/api/v1/charts/query", Some(other)).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn runs_name_their_sweep() {
    let s = TestServer::new();
    let config = json!({"method": "grid", "parameters": {"x": {"values": [1, 2, 3]}}});
    let mut trials = Vec::new();
    for project in ["p", "q"] {
        let (status, body) = s
            .call("POST", "/api/v1/sweeps", Some(json!({"entity": "alice", "project": project, "config": config})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let sweep = body["sweep"]["id"].as_str().expect("sweep id").to_owned();
        let claim = format!("/api/v1/sweeps/alice/{project}/{sweep}/claim");
        let (_, body) = s.call("POST", &claim, Some(json!({"agent": "a"}))).await;
        trials.push((body["trial"]["run_id"].as_str().expect("trial run").to_owned(), sweep));
    }
    // The first sweep's trial and the other project's trial id, both created in project p.
    for (i, id) in [trials[0].0.as_str(), trials[1].0.as_str(), "plain"].into_iter().enumerate() {
        let body = json!({"project": "p", "run_id": id, "created_at": 1000.0 + i as f64});
        assert_eq!(s.call("POST", "/api/v1/runs", Some(body)).await.0, StatusCode::OK);
    }
    let (status, page) = s.call("GET", "/api/v1/projects/alice/p/runs?order=created_at&limit=2", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let named: Vec<(&str, &Value)> = page["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| (r["run_id"].as_str().unwrap_or(""), &r["sweep"]))
        .collect();
    assert_eq!(named, [(trials[0].0.as_str(), &json!(trials[0].1)), (trials[1].0.as_str(), &Value::Null)]);
    let (_, run) = s.call("GET", &format!("/api/v1/runs/alice/p/{}", trials[0].0), None).await;
    assert_eq!(run["sweep"], json!(trials[0].1));
    let (_, run) = s.call("GET", "/api/v1/runs/alice/p/plain", None).await;
    assert_eq!(run["sweep"], Value::Null);
}

#[tokio::test]
async fn run_table_filters_sort_and_pages() {
    let s = TestServer::new();
    for i in 0..30 {
        let body = json!({"project":"p","run_id":format!("r{i:02}"),"name":format!("run-{i}"),
            "tags": if i % 3 == 0 { json!(["three"]) } else { json!([]) },
            "config":{"lr": i as f64 / 100.0, "model":{"depth": i % 4}}, "created_at": 1000.0 + i as f64});
        assert_eq!(s.call("POST", "/api/v1/runs", Some(body)).await.0, StatusCode::OK);
    }
    let enc = |v: Value| {
        v.to_string()
            .replace('%', "%25")
            .replace('"', "%22")
            .replace(' ', "%20")
            .replace('{', "%7B")
            .replace('}', "%7D")
            .replace('$', "%24")
    };
    let filter = enc(json!({"config.model.depth": {"$in": [1, 2]}, "tags": {"$ne": "three"}}));
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let c = cursor.as_deref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let (status, page) = s
            .call("GET", &format!("/api/v1/projects/alice/p/runs?filters={filter}&order=-config.lr&limit=4{c}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page["runs"].as_array().is_some_and(|r| r.len() <= 4));
        ids.extend(
            page["runs"].as_array().into_iter().flatten().filter_map(|r| r["run_id"].as_str().map(str::to_owned)),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                let want: Vec<String> = (0..30)
                    .rev()
                    .filter(|i| matches!(i % 4, 1 | 2) && i % 3 != 0)
                    .map(|i| format!("r{i:02}"))
                    .collect();
                assert_eq!(page["total"].as_u64(), Some(want.len() as u64));
                assert_eq!(ids, want);
                break;
            }
        }
    }
    let (status, err) = s
        .call(
            "GET",
            &format!("/api/v1/projects/alice/p/runs?filters={}", enc(json!({"config.lr": {"$near": 1}}))),
            None,
        )
        .await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_filter")));
    let (status, err) = s.call("GET", "/api/v1/projects/alice/p/runs?filters=nope", None).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_filter")));
    let (status, err) = s.call("GET", "/api/v1/projects/alice/zz/runs", None).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("project_not_found")));
    let (_, groups) = s.call("GET", "/api/v1/projects/alice/p/groups?by=config.model.depth", None).await;
    let counts: u64 = groups["groups"].as_array().expect("groups").iter().filter_map(|g| g["count"].as_u64()).sum();
    assert_eq!(counts, 30);
    let (_, projects) = s.call("GET", "/api/v1/projects", None).await;
    assert_eq!(projects, json!([{"entity":"alice","name":"p","run_count":30,"last_run_at":1029.0}]));
    let (_, entities) = s.call("GET", "/api/v1/entities", None).await;
    assert_eq!(entities, json!([{"name":"alice"}]));
}

#[tokio::test]
async fn zstd_bodies_gzip_responses_and_size_limit() {
    let s = TestServer::with_state(|mut st| {
        st.body_limit = 64 * 1024;
        st
    });
    let (body, to) = ingest_body("r1", "log-a", 0, &[run_record("r1"), history(0, json!({"loss": 1.0}))]);
    let compressed = zstd::encode_all(body.to_string().as_bytes(), 3).expect("zstd");
    let req = Request::post("/api/v1/ingest")
        .header("authorization", format!("Bearer {}", s.key))
        .header("content-type", "application/json")
        .header("content-encoding", "zstd")
        .body(Body::from(compressed))
        .expect("req");
    let (status, _, resp) = s.raw(req).await;
    let ack: Value = serde_json::from_slice(&resp).expect("json");
    assert_eq!((status, ack["acked"].as_u64()), (StatusCode::OK, Some(to)));
    let req = Request::get("/api/v1/runs/alice/p/r1")
        .header("authorization", format!("Bearer {}", s.key))
        .header("accept-encoding", "gzip")
        .body(Body::empty())
        .expect("req");
    let (status, headers, _) = s.raw(req).await;
    assert_eq!((status, headers.get("content-encoding").and_then(|v| v.to_str().ok())), (StatusCode::OK, Some("gzip")));
    // Over the limit after decompression: 413 in the API's error shape.
    let big = json!({"run_id":"r2","project":"p","notes":"x".repeat(200 * 1024)});
    let packed = zstd::encode_all(big.to_string().as_bytes(), 3).expect("zstd");
    assert!(packed.len() < 64 * 1024, "compressed body is under the limit");
    let req = Request::post("/api/v1/runs")
        .header("authorization", format!("Bearer {}", s.key))
        .header("content-type", "application/json")
        .header("content-encoding", "zstd")
        .body(Body::from(packed))
        .expect("req");
    let (status, _, resp) = s.raw(req).await;
    let err: Value = serde_json::from_slice(&resp).expect("json error");
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
}

#[tokio::test]
async fn openapi_is_served_and_needs_a_key() {
    // Coverage of the routes is checked against the router itself (src/openapi/tests.rs).
    let s = TestServer::new();
    let (status, doc) = s.call("GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/ingest"]["post"].is_object());
    let req = Request::get("/api/v1/openapi.json").body(Body::empty()).expect("req");
    let (status, _, _) = s.raw(req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn ui_fallback_and_unknown_api_routes() {
    let s = TestServer::new();
    let (status, headers, body) = s.raw(Request::get("/some/app/route").body(Body::empty()).expect("req")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().is_ok_and(|c| c.starts_with("text/html")));
    assert!(String::from_utf8_lossy(&body).to_lowercase().contains("<html"));
    let (status, body) = s.call("GET", "/api/v1/no/such/route", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

#[tokio::test]
async fn serves_a_socket_and_shuts_down_gracefully() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(trackway_server::run(listener, s.state.clone(), async {
        let _ = stopped.await;
    }));
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    conn.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut response = String::new();
    conn.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let _ = stop.send(());
    server.await.expect("join").expect("serve");
}

#[test]
fn first_start_creates_admin_and_stores_login() {
    let dir = tempfile::tempdir().expect("dir");
    let state = trackway_server::AppState::open(dir.path()).expect("open");
    let creds = dir.path().join("config/credentials.json");
    let urls = vec!["http://127.0.0.1:5555".to_string(), "http://localhost:5555".to_string()];
    let boot = trackway_server::bootstrap::ensure_admin(&state, dir.path(), &urls, &creds).expect("boot");
    assert!(boot.created);
    let stored: Value = serde_json::from_slice(&std::fs::read(&creds).expect("creds")).expect("json");
    let key = stored["hosts"]["http://localhost:5555"]["api_key"].as_str().expect("key").to_owned();
    assert_eq!(stored["hosts"]["http://127.0.0.1:5555"]["api_key"], key.as_str());
    assert!(state.store.authenticate(&key).expect("auth").is_some_and(|p| p.admin));
    // A restart on another port adds that URL with the same key and creates no new user.
    let again = trackway_server::bootstrap::ensure_admin(&state, dir.path(), &["http://127.0.0.1:6666".into()], &creds)
        .expect("boot");
    assert!(!again.created);
    assert_eq!(state.store.user_count().expect("count"), 1);
    let stored: Value = serde_json::from_slice(&std::fs::read(&creds).expect("creds")).expect("json");
    assert_eq!(stored["hosts"]["http://127.0.0.1:6666"]["api_key"], key.as_str());
}
