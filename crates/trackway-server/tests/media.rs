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
        // The summary's `img` was overwritten by the user: the key still holds images in history.
        json!({"t": "summary", "full": {"img": "done", "h": hist(3.0), "loss": 0.5,
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
            ("t".into(), "table-file".into(), 1),
            ("inc".into(), "table-file".into(), 2)
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

fn png_of(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| image::Rgb([if x < w / 2 { 255 } else { 0 }, 0, 0]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).expect("encode");
    out.into_inner()
}

async fn get(s: &TestServer, uri: &str, etag: Option<&str>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri).header("authorization", format!("Bearer {}", s.key));
    if let Some(e) = etag {
        req = req.header("if-none-match", e);
    }
    s.raw(req.body(Body::empty()).expect("req")).await
}

/// Media values point at thumbnails; a large image comes back scaled to fit (aspect kept, the
/// same picture), a small one as it is, a repeat with its ETag as 304, and bad input as 4xx.
#[tokio::test]
async fn thumbnails_scale_large_images_and_refuse_what_is_not_one() {
    let s = logged().await;
    put(&s, "media/images/big.png", &png_of(1200, 600)).await;
    let (_, page) = s.call("GET", &format!("{RUN}/media?key=img"), None).await;
    assert_eq!(page["items"][0]["value"]["thumbnail"], format!("{RUN}/thumbnails/media/images/a.png"));

    let (status, headers, body) = get(&s, &format!("{RUN}/thumbnails/media/images/big.png?size=200"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    let thumb = image::load_from_memory(&body).expect("a png").to_rgb8();
    assert_eq!(thumb.dimensions(), (256, 128), "snapped to 256, aspect kept");
    assert_eq!(thumb.get_pixel(10, 64).0, [255, 0, 0]);
    assert_eq!(thumb.get_pixel(245, 64).0, [0, 0, 0]);
    let etag = headers["etag"].to_str().expect("etag").to_owned();
    assert_eq!(
        get(&s, &format!("{RUN}/thumbnails/media/images/big.png?size=200"), Some(&etag)).await.0,
        StatusCode::NOT_MODIFIED
    );

    let small = png_of(20, 10);
    put(&s, "media/images/small.png", &small).await;
    let (status, _, body) = get(&s, &format!("{RUN}/thumbnails/media/images/small.png"), None).await;
    assert_eq!((status, body), (StatusCode::OK, small), "an image that fits is served as it is");

    // a.png holds the bytes "png bytes": not an image
    let (status, _, body) = get(&s, &format!("{RUN}/thumbnails/media/images/a.png"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("not an image"));
    let (status, _, body) = get(&s, &format!("{RUN}/thumbnails/media/images/big.png?size=5000"), None).await;
    assert_eq!(status, StatusCode::OK, "a size is a hint: larger asks get the largest offered");
    assert_eq!(image::load_from_memory(&body).expect("a png").width(), 1024);
    assert_eq!(get(&s, &format!("{RUN}/thumbnails/media/images/missing.png"), None).await.0, StatusCode::NOT_FOUND);
}
