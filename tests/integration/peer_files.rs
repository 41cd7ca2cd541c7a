//! Files between paired boxes (`peers::files`): real stores, blob stores and files on disk,
//! the peer file endpoints served by axum on 127.0.0.1:0 behind a small layer that names the
//! caller (the mutual-TLS layer of the peer port is tested with the peer listener), and
//! `exchange` pulling and pushing through them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::Next;
use reqwest::StatusCode;
use serde_json::{Value, json};

use folio::blobs::BlobHash;
use folio::domain::{Artifact, ArtifactId, Change, ClassId, FileId, FileRef, Role, SchoolId, Scope, UserId};
use folio::http::AppState;
use folio::peers::files;
use folio::peers::{BoxId, Peer, PeerCaller, PeerScope};
use folio::store::{FileReads, Queries};
use folio::sync::{self, Grant, Limits};

use crate::support::{TestCore, artifact, eventually, noise};

/// A box: its core and HTTP state, its peer file endpoints (answering as if `caller` had
/// connected) and its HTTP router. It is not a `TestServer`, which runs the real peer port
/// behind mutual TLS: these tests play the connecting box themselves.
struct TestBox {
    _core: TestCore,
    state: AppState,
    peer_url: String,
    api_url: String,
    caller: Arc<Mutex<Peer>>,
}

fn peer(n: u8, scope: PeerScope) -> Peer {
    Peer {
        id: BoxId([n; 32]),
        cert_der: Vec::new(),
        scope,
        offered_by: Default::default(),
        addresses: Vec::new(),
        paired_ms: 0,
        status: Default::default(),
    }
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    url
}

impl TestBox {
    async fn start() -> TestBox {
        Self::start_with(|_| {}).await
    }

    /// A box whose configuration `tweak` changes (files on a bucket).
    async fn start_with(tweak: impl FnOnce(&mut folio::Config) + Send + 'static) -> TestBox {
        let core = tokio::task::spawn_blocking(move || TestCore::open_with(tweak)).await.unwrap();
        let state = AppState::new(core.folio().clone(), Default::default());
        let caller = Arc::new(Mutex::new(peer(0xbb, PeerScope::WholeSchools)));
        let who = caller.clone();
        let peer_app = files::peer_routes()
            .layer(axum::middleware::from_fn(move |mut req: Request, next: Next| {
                let peer = who.lock().unwrap().clone();
                async move {
                    req.extensions_mut().insert(PeerCaller { peer });
                    next.run(req).await
                }
            }))
            .with_state(state.folio.clone());
        let peer_url = serve(peer_app).await;
        let api_url = serve(folio::http::router(state.clone())).await;
        TestBox { _core: core, state, peer_url, api_url, caller }
    }

    fn data(&self) -> &std::path::Path {
        &self.state.config.data_dir
    }

    async fn store_blob(&self, bytes: &[u8]) -> BlobHash {
        let mut writer = self.state.blobs.writer(u64::MAX).unwrap();
        writer.write(bytes).await.unwrap();
        writer.finish().await.unwrap().hash
    }

    fn has_blob(&self, hash: &BlobHash) -> bool {
        self.state.blobs.contains(hash)
    }

    fn partial(&self, hash: &BlobHash) -> std::path::PathBuf {
        self.data().join("incoming").join(format!("{hash}.part"))
    }
}

/// A school with classes X and Y, a student in each (Ana in X with password "ana-secret"),
/// and one piece of work in each class holding the given file.
struct School {
    id: SchoolId,
    x: ClassId,
    ana_work: ArtifactId,
    ben_work: ArtifactId,
}

async fn school_with_work(b: &TestBox, in_x: FileRef, in_y: FileRef) -> School {
    let store = &b.state.store;
    let id = SchoolId::new();
    let (ana, ben, x, y) = (UserId::new(), UserId::new(), ClassId::new(), ClassId::new());
    let hash = b.state.guard.hasher.hash("ana-secret".into()).await.unwrap();
    let rec = |scope: Scope, change: Change| store.write(|tx| tx.record(id, scope, None, change.clone())).unwrap();
    rec(Scope::School, Change::SchoolCreated { name: "Hillside".into() });
    for (user, name) in [(ana, "ana"), (ben, "ben")] {
        rec(
            Scope::Person(user),
            Change::UserCreated {
                user,
                username: name.into(),
                display_name: name.into(),
                role: Role::Student,
                external_id: None,
            },
        );
    }
    rec(Scope::Person(ana), Change::PasswordSet { user: ana, hash });
    for (class, name, student) in [(x, "X", ana), (y, "Y", ben)] {
        rec(
            Scope::Class(class),
            Change::ClassCreated { class, name: name.into(), join_code: format!("J{name}"), external_id: None },
        );
        rec(Scope::Class(class), Change::MemberAdded { class, user: student, role: Role::Student });
    }
    let mut ids = Vec::new();
    for (class, owner, file) in [(x, ana, in_x), (y, ben, in_y)] {
        let work = Artifact { kind: "image".into(), ..artifact(id, owner, Some(class), "Bridge", vec![file]) };
        ids.push(work.id);
        rec(Scope::Class(class), Change::ArtifactCreated { artifact: Box::new(work) });
    }
    School { id, x, ana_work: ids[0], ben_work: ids[1] }
}

fn file_ref(name: &str, content_type: &str, hash: &BlobHash, size: usize) -> FileRef {
    FileRef {
        id: FileId::new(),
        name: name.into(),
        size: size as u64,
        content_type: content_type.into(),
        hash: hash.to_hex(),
    }
}

/// Every operation of `from` about the school, applied on `to` (whole school).
fn sync_ops(from: &TestBox, to: &TestBox, school: SchoolId) {
    let grant = Grant::whole_school(school);
    loop {
        let positions = sync::positions(&to.state.store, school).unwrap();
        let page = sync::ops_missing(&from.state.store, &positions, &grant, Limits::default()).unwrap();
        sync::apply_page(&to.state.store, &page, &grant).unwrap();
        if !page.more {
            break;
        }
    }
}

fn png(side: u32) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(side, side, |x, y| image::Rgb([(x * 7) as u8, (y * 13) as u8, ((x ^ y) * 3) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Two boxes: A made the work and holds its files; B received the operations only.
async fn a_and_b(photo: &[u8], other: &[u8]) -> (TestBox, TestBox, School, BlobHash, BlobHash) {
    a_and_b_on(TestBox::start().await, TestBox::start().await, photo, other).await
}

/// [`a_and_b`] on boxes already started.
async fn a_and_b_on(
    a: TestBox,
    b: TestBox,
    photo: &[u8],
    other: &[u8],
) -> (TestBox, TestBox, School, BlobHash, BlobHash) {
    let (photo_hash, other_hash) = (a.store_blob(photo).await, a.store_blob(other).await);
    let school = school_with_work(
        &a,
        file_ref("bridge.png", "image/png", &photo_hash, photo.len()),
        file_ref("notes.bin", "application/octet-stream", &other_hash, other.len()),
    )
    .await;
    sync_ops(&a, &b, school.id);
    (a, b, school, photo_hash, other_hash)
}

#[tokio::test]
async fn a_file_is_on_its_way_until_it_is_pulled_then_shown_with_a_thumbnail_queued() {
    let photo = png(300);
    let (a, b, school, photo_hash, other_hash) = a_and_b(&photo, &noise(10_000, 3)).await;
    assert!(!b.has_blob(&photo_hash));
    assert_eq!(b.state.store.read(|r| r.files_pending()).unwrap(), 2);

    // Ana signs in on B: her work is there, its file on its way.
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = client
        .post(format!("{}/api/v1/login", b.api_url))
        .json(&json!({"username": "ana", "password": "ana-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let work = format!("{}/api/v1/artifacts/{}", b.api_url, school.ana_work);
    let view: Value = client.get(&work).send().await.unwrap().json().await.unwrap();
    assert_eq!(view["files"][0]["available"], json!(false), "{view}");
    let download =
        client.get(format!("{}{}", b.api_url, view["files"][0]["url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::NOT_FOUND);
    assert_eq!(download.json::<Value>().await.unwrap()["error"], "on_its_way");
    let page =
        client.get(format!("{}/work/{}", b.api_url, school.ana_work)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("On its way from another box"), "{page}");
    assert!(!page.contains(&format!("<img src=\"{}", view["files"][0]["url"].as_str().unwrap())));

    // A answers B's requests as it would over the peer port.
    *a.caller.lock().unwrap() = peer(0xbb, PeerScope::WholeSchools);
    let counts = files::exchange(&reqwest::Client::new(), &a.peer_url, &b.state, &peer(0xaa, PeerScope::WholeSchools))
        .await
        .unwrap();
    assert_eq!(counts.files_received, 2, "{counts:?}");
    assert_eq!(counts.bytes_received, (photo.len() + 10_000) as u64);
    assert_eq!(counts.files_pending, 0);
    assert_eq!(counts.wrong_bytes, 0);
    assert!(b.has_blob(&photo_hash) && b.has_blob(&other_hash));
    assert_eq!(std::fs::read(b.state.blobs.path(&photo_hash)).unwrap(), photo);

    let view: Value = client.get(&work).send().await.unwrap().json().await.unwrap();
    assert_eq!(view["files"][0]["available"], json!(true), "{view}");
    let download =
        client.get(format!("{}{}", b.api_url, view["files"][0]["url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.unwrap().as_ref(), photo.as_slice());
    let thumbnails = b.state.store.read(|r| r.thumbnail_todo(10)).unwrap();
    assert!(thumbnails.iter().any(|(h, _)| *h == photo_hash.to_hex()), "{thumbnails:?}");
    let reindex: Vec<ArtifactId> =
        b.state.store.read(|r| r.search_todo(100)).unwrap().into_iter().map(|t| t.0).collect();
    assert!(reindex.contains(&school.ana_work) && reindex.contains(&school.ben_work));
    assert!(std::fs::read_dir(b.data().join("incoming")).unwrap().next().is_none(), "no partial file is left");

    // Nothing left to do: a second round moves nothing.
    let again = files::exchange(&reqwest::Client::new(), &a.peer_url, &b.state, &peer(0xaa, PeerScope::WholeSchools))
        .await
        .unwrap();
    assert_eq!((again.files_received, again.files_sent), (0, 0), "{again:?}");
}

/// A peer in front of A that cuts its first answer for a blob after `cut` bytes (the
/// connection drops), then passes every request on to A.
async fn cutting_proxy(a_url: String, cut: usize) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let ranges: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let seen = ranges.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let (a_url, seen) = (a_url.clone(), seen.clone());
        async move {
            let range = req.headers().get("range").map(|v| v.to_str().unwrap().to_string());
            let first = req.method() == axum::http::Method::GET && {
                let mut seen = seen.lock().unwrap();
                seen.push(range.clone());
                seen.len() == 1
            };
            let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
            let mut ask = reqwest::Client::new().request(method, format!("{a_url}{}", req.uri().path()));
            for (k, v) in req.headers() {
                if !matches!(k.as_str(), "host" | "content-length" | "transfer-encoding") {
                    ask = ask.header(k.as_str(), v.as_bytes());
                }
            }
            let body = axum::body::to_bytes(req.into_body(), usize::MAX).await.unwrap();
            let answer = ask.body(body).send().await.unwrap();
            let status = answer.status().as_u16();
            let headers = answer.headers().clone();
            let body = answer.bytes().await.unwrap();
            let mut res = axum::http::Response::builder().status(status);
            for (k, v) in &headers {
                res = res.header(k.as_str(), v.as_bytes());
            }
            if first {
                // Half the bytes, then the connection breaks.
                let half = body.slice(..cut);
                let stream =
                    futures_util::stream::iter(vec![Ok::<_, std::io::Error>(half), Err(std::io::Error::other("cut"))]);
                return res.body(axum::body::Body::from_stream(stream)).unwrap();
            }
            res.body(axum::body::Body::from(body)).unwrap()
        }
    });
    (serve(app).await, ranges)
}

#[tokio::test]
async fn a_pull_cut_halfway_continues_from_the_partial_file() {
    let big = noise(3 << 20, 7);
    let (a, b, _, photo_hash, big_hash) = a_and_b(&png(40), &big).await;
    // Only the big file is wanted, so the cut hits it.
    b.state.store.write(|tx| tx.forget_missing(&photo_hash.to_hex())).unwrap();
    let half = big.len() / 2;
    let (proxy, ranges) = cutting_proxy(a.peer_url.clone(), half).await;
    let me = peer(0xaa, PeerScope::WholeSchools);

    let err = files::exchange(&reqwest::Client::new(), &proxy, &b.state, &me).await.unwrap_err();
    assert!(matches!(err, files::FilesError::Unreachable(_)), "{err}");
    assert!(!b.has_blob(&big_hash));
    let kept = std::fs::metadata(b.partial(&big_hash)).unwrap().len();
    assert!(kept > 0 && kept <= half as u64, "kept {kept} of {half}");

    let counts = files::exchange(&reqwest::Client::new(), &proxy, &b.state, &me).await.unwrap();
    assert_eq!(counts.files_received, 1, "{counts:?}");
    assert_eq!(counts.bytes_received, big.len() as u64 - kept, "only the rest travelled");
    assert_eq!(ranges.lock().unwrap().last().unwrap().as_deref(), Some(format!("bytes={kept}-").as_str()));
    assert!(b.has_blob(&big_hash));
    assert_eq!(std::fs::read(b.state.blobs.path(&big_hash)).unwrap(), big);
    assert!(!b.partial(&big_hash).exists());
}

#[tokio::test]
async fn files_named_by_applied_pages_come_while_operations_still_arrive() {
    let (a, b, _, photo_hash, absent) = a_and_b(&png(60), &noise(200_000, 5)).await;
    // A file the work names that A no longer holds: asked for once, not at every pass.
    a.state.blobs.remove(&absent).unwrap();
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = asked.clone();
    let a_url = a.peer_url.clone();
    let counting = axum::Router::new().fallback(move |req: Request| {
        let (a_url, seen) = (a_url.clone(), seen.clone());
        async move {
            seen.lock().unwrap().push(req.uri().path().to_string());
            let res = reqwest::Client::new()
                .request(req.method().clone(), format!("{a_url}{}", req.uri()))
                .headers(req.headers().clone())
                .send()
                .await
                .unwrap();
            let mut out = axum::response::Response::builder().status(res.status().as_u16());
            for (k, v) in res.headers() {
                out = out.header(k, v);
            }
            out.body(axum::body::Body::from(res.bytes().await.unwrap())).unwrap()
        }
    });
    let proxy = serve(counting).await;

    // The operations have not finished (nobody has said so): the files come anyway.
    let (done, operations_done) = tokio::sync::watch::channel(false);
    let me = peer(0xaa, PeerScope::WholeSchools);
    let state = b.state.clone();
    let early = tokio::spawn(async move {
        files::pull_during_operations(&reqwest::Client::new(), &proxy, &state, &me, operations_done).await
    });
    eventually(std::time::Duration::from_secs(10), "the files did not come while operations arrived", || async {
        b.has_blob(&photo_hash)
    })
    .await;
    // Let several passes go by, then end the operations.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert!(!early.is_finished(), "it waits for the operations to end");
    done.send(true).unwrap();
    let counts = tokio::time::timeout(std::time::Duration::from_secs(5), early).await.unwrap().unwrap();
    assert_eq!(counts.files_received, 1, "{counts:?}");
    assert_eq!(counts.bytes_received, png(60).len() as u64);
    assert!(!b.has_blob(&absent));
    // The arrival was recorded: only the file A lacks is still on its way.
    assert_eq!(b.state.store.read(|r| r.files_pending()).unwrap(), 1);
    let asked = asked.lock().unwrap();
    let for_absent = asked.iter().filter(|p| p.contains(&absent.to_hex())).count();
    assert_eq!(for_absent, 1, "the file A lacks was asked for once: {asked:?}");
}

#[tokio::test]
async fn a_peer_sending_bytes_that_do_not_match_the_name_is_refused() {
    let (_a, b, _, photo_hash, other_hash) = a_and_b(&png(40), &noise(5000, 9)).await;
    b.state.store.write(|tx| tx.forget_missing(&photo_hash.to_hex())).unwrap();
    // A liar: answers every blob with other bytes of the right length.
    let liar = serve(
        axum::Router::new()
            .route("/peer/v1/blobs/missing", axum::routing::post(|| async { axum::Json(json!({"missing": []})) }))
            .fallback(|| async { noise(5000, 10) }),
    )
    .await;
    let counts =
        files::exchange(&reqwest::Client::new(), &liar, &b.state, &peer(0xaa, PeerScope::WholeSchools)).await.unwrap();
    assert_eq!(counts.wrong_bytes, 1, "{counts:?}");
    assert_eq!(counts.files_received, 0);
    assert!(counts.problem("aaaa").unwrap().contains("damaged"));
    assert!(!b.has_blob(&other_hash), "nothing entered the blob store");
    assert!(!b.partial(&other_hash).exists(), "the partial file was deleted");
    assert!(b.state.store.read(|r| r.is_missing(&other_hash.to_hex())).unwrap(), "still wanted");
}

#[tokio::test]
async fn a_push_cut_off_resumes_from_the_offset_the_receiver_holds() {
    let photo = png(200);
    let big = noise(2 << 20, 11);
    let (a, b, _, photo_hash, big_hash) = a_and_b(&photo, &big).await;
    let http = reqwest::Client::new();
    // B answers as if A had connected.
    *b.caller.lock().unwrap() = peer(0xaa, PeerScope::WholeSchools);
    let url = format!("{}/peer/v1/blobs/{big_hash}", b.peer_url);

    // A first PATCH breaks off after 600 000 bytes.
    let first = big[..600_000].to_vec();
    let stream = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(bytes::Bytes::from(first)),
        Err(std::io::Error::other("Wi-Fi gone")),
    ]);
    let _ = http
        .patch(&url)
        .header("upload-offset", 0)
        .header("upload-length", big.len())
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    let mut held = 0;
    for _ in 0..100 {
        let head = http.head(format!("{url}/partial")).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        held = head.headers()["upload-offset"].to_str().unwrap().parse::<u64>().unwrap();
        if held == 600_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(held, 600_000, "what arrived before the cut is kept");
    // The cut request's handler lets go of the file just after it answers.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // A PATCH from the wrong offset is told the right one.
    let wrong = http
        .patch(&url)
        .header("upload-offset", 0)
        .header("upload-length", big.len())
        .body(big[..10].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::CONFLICT);
    assert_eq!(wrong.headers()["upload-offset"], "600000");

    // A's sync round pushes the rest of it, and the photo whole.
    let counts = files::exchange(&http, &b.peer_url, &a.state, &peer(0xbb, PeerScope::WholeSchools)).await.unwrap();
    assert_eq!(counts.files_sent, 2, "{counts:?}");
    assert_eq!(counts.bytes_sent, (big.len() - 600_000 + photo.len()) as u64);
    assert!(b.has_blob(&big_hash) && b.has_blob(&photo_hash));
    assert_eq!(std::fs::read(b.state.blobs.path(&big_hash)).unwrap(), big);
    assert_eq!(b.state.store.read(|r| r.files_pending()).unwrap(), 0);
    assert!(b.state.store.read(|r| r.thumbnail_todo(10)).unwrap().iter().any(|(h, _)| *h == photo_hash.to_hex()));

    // The file positions moved: the next round offers nothing.
    let again = files::exchange(&http, &b.peer_url, &a.state, &peer(0xbb, PeerScope::WholeSchools)).await.unwrap();
    assert_eq!(again.files_sent, 0, "{again:?}");
}

#[tokio::test]
async fn a_push_of_a_file_no_work_names_is_refused_and_nothing_is_stored() {
    let (_a, b, _, _, _) = a_and_b(&png(40), &noise(100, 1)).await;
    let junk = noise(4096, 99);
    let hash = BlobHash(*blake3::hash(&junk).as_bytes());
    let http = reqwest::Client::new();
    let url = format!("{}/peer/v1/blobs/{hash}", b.peer_url);
    let res = http
        .patch(&url)
        .header("upload-offset", 0)
        .header("upload-length", junk.len())
        .body(junk.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!b.has_blob(&hash));
    assert!(!b.partial(&hash).exists());
    assert_eq!(http.head(format!("{url}/partial")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let asked: Value = http
        .post(format!("{}/peer/v1/blobs/missing", b.peer_url))
        .json(&json!({"hashes": [hash.to_hex()]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(asked, json!({"missing": []}));
}

#[tokio::test]
async fn a_wrong_push_is_deleted_and_answered_422() {
    let other = noise(3000, 5);
    let (_a, b, _, _, other_hash) = a_and_b(&png(40), &other).await;
    let http = reqwest::Client::new();
    let res = http
        .patch(format!("{}/peer/v1/blobs/{other_hash}", b.peer_url))
        .header("upload-offset", 0)
        .header("upload-length", other.len())
        .body(noise(3000, 6))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!b.has_blob(&other_hash) && !b.partial(&other_hash).exists());
    // Too many bytes are refused before anything is kept.
    let res = http
        .patch(format!("{}/peer/v1/blobs/{other_hash}", b.peer_url))
        .header("upload-offset", 0)
        .header("upload-length", other.len())
        .body(noise(4000, 6))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(std::fs::metadata(b.partial(&other_hash)).map_or(0, |m| m.len()), 0);
}

#[tokio::test]
async fn a_peer_granted_class_x_gets_x_files_and_404_for_class_y() {
    let photo = png(60);
    let (a, _b, school, photo_hash, y_hash) = a_and_b(&photo, &noise(2000, 4)).await;
    *a.caller.lock().unwrap() = peer(0xcc, PeerScope::Classes([(school.id, school.x)].into()));
    let http = reqwest::Client::new();
    let x = http.get(format!("{}/peer/v1/blobs/{photo_hash}", a.peer_url)).send().await.unwrap();
    assert_eq!(x.status(), StatusCode::OK);
    assert_eq!(x.bytes().await.unwrap().as_ref(), photo.as_slice());
    let part = http
        .get(format!("{}/peer/v1/blobs/{photo_hash}", a.peer_url))
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &photo[10..20]);
    let y = http.get(format!("{}/peer/v1/blobs/{y_hash}", a.peer_url)).send().await.unwrap();
    assert_eq!(y.status(), StatusCode::NOT_FOUND, "class Y's file is not the peer's to have");
    let head = http.head(format!("{}/peer/v1/blobs/{y_hash}/partial", a.peer_url)).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stale_partial_files_are_swept() {
    let b = TestBox::start().await;
    let dir = b.data().join("incoming");
    std::fs::create_dir_all(&dir).unwrap();
    let old = dir.join(format!("{}.part", "a".repeat(64)));
    std::fs::write(&old, b"half").unwrap();
    let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 3600);
    std::fs::File::options().write(true).open(&old).unwrap().set_modified(day_ago).unwrap();
    let fresh = dir.join(format!("{}.part", "b".repeat(64)));
    std::fs::write(&fresh, b"half").unwrap();
    assert_eq!(files::sweep_stale_partials(b.data(), files::PARTIAL_MAX_AGE).unwrap(), 1);
    assert!(!old.exists() && fresh.exists());
}

#[tokio::test]
async fn a_backup_leaves_out_files_on_their_way_and_the_restored_box_still_waits_for_them() {
    let (_a, b, _, photo_hash, other_hash) = a_and_b(&png(40), &noise(1000, 2)).await;
    let dest = tempfile::tempdir().unwrap();
    let in_flight = b.state.in_flight.clone();
    let written =
        folio::backup::backup_live(&b.state.store, &b.state.blobs, &in_flight, dest.path(), &mut |_| {}).unwrap();
    assert_eq!(written.manifest.files, 0, "nothing here to copy yet");
    let restored = tempfile::tempdir().unwrap();
    folio::backup::restore(&written.path, restored.path(), false, &mut |_| {}).unwrap();
    let store = folio::store::Store::open(restored.path()).unwrap();
    for hash in [photo_hash, other_hash] {
        assert!(store.read(|r| r.is_missing(&hash.to_hex())).unwrap());
    }
}

/// Both boxes keep their files on buckets of a Garage cluster (each its own): B pulls A's
/// files through the peer port, its stores read from and write to the buckets, and B's
/// files are on B's bucket, not on its disk.
#[tokio::test]
async fn files_travel_between_boxes_whose_files_are_on_buckets() {
    let cluster = crate::support::garage::GarageCluster::shared();
    let on_bucket = |bucket: String| {
        let settings = cluster.settings(0);
        move |c: &mut folio::Config| {
            c.blobs = Some(folio::blobs::BlobsAt::S3 { bucket });
            c.s3 = Some(settings);
        }
    };
    let a = TestBox::start_with(on_bucket(cluster.new_bucket())).await;
    let b = TestBox::start_with(on_bucket(cluster.new_bucket())).await;
    let photo = png(200);
    let big = noise(9 << 20, 11);
    let (a, b, _, photo_hash, big_hash) = a_and_b_on(a, b, &photo, &big).await;
    assert!(!b.has_blob(&photo_hash));
    let counts = files::exchange(&reqwest::Client::new(), &a.peer_url, &b.state, &peer(0xaa, PeerScope::WholeSchools))
        .await
        .unwrap();
    assert_eq!(counts.files_received, 2, "{counts:?}");
    assert_eq!(counts.wrong_bytes, 0);
    for (hash, bytes) in [(photo_hash, &photo), (big_hash, &big)] {
        let (size, mut reader) = tokio::task::spawn_blocking({
            let blobs = b.state.blobs.clone();
            move || blobs.reader(&hash).unwrap().unwrap()
        })
        .await
        .unwrap_or_else(|_| panic!("B has {hash}"));
        assert_eq!(size, bytes.len() as u64);
        let mut got = Vec::new();
        tokio::task::spawn_blocking(move || {
            std::io::Read::read_to_end(&mut reader, &mut got).unwrap();
            got
        })
        .await
        .map(|got| assert!(got == *bytes, "{hash} arrived whole"))
        .unwrap();
        assert!(!b.state.blobs.path(&hash).exists(), "not on B's disk");
    }
}
