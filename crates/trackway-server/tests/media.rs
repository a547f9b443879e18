//! Media routes (docs/media-api.md) through the router with `oneshot`: typed references in
//! history, media keys and values with file URLs, tables (incremental ones too) paged, sorted and
//! filtered, histograms over steps, and the multi-run query.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestServer, history, ingest_body, run_record};
use serde_json::{Value, json};

const RUN: &str = "/api/v1/runs/alice/p/r1";

async fn put(s: &TestServer, path: &str, bytes: &[u8]) {
    let req = Request::put(format!("{RUN}/files/{path}")).header("authorization", format!("Bearer {}", s.key));
    let (status, _, _) = s.raw(req.body(Body::from(bytes.to_vec())).expect("req")).await;
    assert_eq!(status, StatusCode::OK);
}

fn table_file(rows: &[Value]) -> Vec<u8> {
    json!({"_type": "table", "columns": ["n", "s", "img"], "ncols": 3, "nrows": rows.len(),
           "column_types": {"n": "number", "s": "string", "img": "image-file"}, "data": rows})
    .to_string()
    .into_bytes()
}

fn table_ref(path: &str, nrows: usize, incremental: bool) -> Value {
    let mode = if incremental { "INCREMENTAL" } else { "IMMUTABLE" };
    json!({"_type": "table-file", "path": path, "ncols": 3, "nrows": nrows, "columns": ["n", "s", "img"], "log_mode": mode})
}

/// A run whose history holds images, histograms, a table and an incremental table.
async fn logged() -> TestServer {
    let s = TestServer::new();
    let img = |p: &str| json!({"_type": "image-file", "path": p, "format": "png", "width": 2, "height": 1});
    let hist = |k: f64| json!({"_type": "histogram", "bins": [0.0, k, 2.0 * k], "values": [1, 3]});
    let rows = [
        json!([3, "cat", img("media/images/a.png")]),
        json!([1, "dog", null]),
        json!([2.5, "Cathy", null]),
        json!([null, "emu", null]),
    ];
    let recs = [
        run_record("r1"),
        history(0, json!({"img": img("media/images/a.png"), "h": hist(1.0), "loss": 1.0})),
        history(
            1,
            json!({"img": img("media/images/b.png"), "h": hist(2.0), "loss": 0.5,
                          "t": table_ref("media/table/t.table.json", 4, false),
                          "inc": table_ref("media/table/i0.table.json", 1, true)}),
        ),
        history(
            2,
            json!({"img": img("media/images/a.png"), "h": hist(3.0), "inc": table_ref("media/table/i1.table.json", 2, true)}),
        ),
        json!({"t": "summary", "full": {"img": img("media/images/a.png"), "h": hist(3.0), "loss": 0.5,
                                        "t": table_ref("media/table/t.table.json", 4, false)}}),
    ];
    let (body, _) = ingest_body("r1", "log-a", 0, &recs);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.0, StatusCode::OK);
    put(&s, "media/images/a.png", b"png bytes").await;
    put(&s, "media/table/t.table.json", &table_file(&rows)).await;
    put(&s, "media/table/i0.table.json", &table_file(&[json!([10, "x", null])])).await;
    put(&s, "media/table/i1.table.json", &table_file(&[json!([11, "y", null]), json!([12, "z", null])])).await;
    s
}

#[tokio::test]
async fn media_values_carry_urls_and_upload_state() {
    let s = logged().await;
    let (status, page) = s.call("GET", &format!("{RUN}/media?key=img&min_step=1"), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.iter().map(|i| i["step"].as_u64()).collect::<Vec<_>>(), [Some(1), Some(2)]);
    assert_eq!(items[0]["value"]["uploaded"], false); // b.png never arrived
    assert_eq!(items[1]["value"]["uploaded"], true);
    assert_eq!(items[1]["value"]["url"], "/api/v1/runs/alice/p/r1/files/media/images/a.png");
    assert_eq!(items[1]["value"]["size"], 9);
    let (_, keys) = s.call("GET", &format!("{RUN}/media/keys"), None).await;
    let keys: Vec<(String, String, u64)> = keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| {
            (
                k["key"].as_str().unwrap_or("").to_owned(),
                k["type"].as_str().unwrap_or("").to_owned(),
                k["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("img".into(), "image-file".into(), 3),
            ("h".into(), "histogram".into(), 3),
            ("t".into(), "table-file".into(), 1)
        ]
    );
}

#[tokio::test]
async fn tables_are_filtered_sorted_and_paged_by_the_server() {
    let s = logged().await;
    let (status, t) = s.call("GET", &format!("{RUN}/tables?key=t&sort=n&order=desc"), None).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let order: Vec<Value> = t["rows"].as_array().expect("rows").iter().map(|r| r["index"].clone()).collect();
    assert_eq!(order, [json!(0), json!(2), json!(1), json!(3)]); // 3, 2.5, 1, then null last
    assert_eq!(t["rows"][0]["cells"][2]["uploaded"], true);
    let filter = urlencode(r#"{"s":{"$contains":"ca"},"n":{"$gt":2}}"#);
    let (_, t) = s.call("GET", &format!("{RUN}/tables?key=t&filter={filter}&sort=s"), None).await;
    assert_eq!((t["nrows"].as_u64(), t["total"].as_u64()), (Some(4), Some(2)));
    assert_eq!(t["rows"][0]["cells"][1], "Cathy");
    let (_, t) = s.call("GET", &format!("{RUN}/tables?key=t&offset=1&limit=2&q=EMU"), None).await;
    assert_eq!((t["total"].as_u64(), t["rows"].as_array().map(Vec::len)), (Some(1), Some(0)));
    let (status, err) = s.call("GET", &format!("{RUN}/tables?key=t&sort=nope"), None).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_filter")));
    let (status, err) = s.call("GET", &format!("{RUN}/tables?key=loss"), None).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));
    let (status, _) = s.call("GET", &format!("{RUN}/tables?key=t&step=0"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An incremental table is its increments up to the step.
    let (_, t) = s.call("GET", &format!("{RUN}/tables?key=inc"), None).await;
    let ns: Vec<Value> = t["rows"].as_array().expect("rows").iter().map(|r| r["cells"][0].clone()).collect();
    assert_eq!(ns, [json!(10), json!(11), json!(12)]);
    let (_, t) = s.call("GET", &format!("{RUN}/tables?key=inc&step=1"), None).await;
    assert_eq!(t["nrows"], 1);
}

#[tokio::test]
async fn histograms_over_steps_and_multi_run_query() {
    let s = logged().await;
    let (status, h) = s.call("GET", &format!("{RUN}/histograms?key=h&samples=2"), None).await;
    assert_eq!(status, StatusCode::OK, "{h}");
    assert_eq!(h["steps"], json!([0, 2]));
    assert_eq!((h["min"].as_f64(), h["max"].as_f64(), h["max_count"].as_f64()), (Some(0.0), Some(6.0), Some(3.0)));
    let q = json!({"runs": [{"entity": "alice", "project": "p", "run_id": "r1"}, {"entity": "alice", "project": "p", "run_id": "nope"}],
                   "key": "img", "steps": 2});
    let (status, out) = s.call("POST", "/api/v1/media/query", Some(q)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["runs"][0]["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(out["runs"][1]["error"]["code"], "run_not_found");
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}
