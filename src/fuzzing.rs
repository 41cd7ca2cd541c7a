//! The entry points of the fuzz targets in `fuzz/` (cargo-fuzz; `fuzz/run.sh` runs them all).
//!
//! Each function takes the raw bytes libFuzzer made up, hands them to one real parser the way
//! the bytes would arrive from a client or a peer, and checks what must hold of the answer
//! (bounded output, nothing left behind, a clear error rather than a panic). The targets in
//! `fuzz/fuzz_targets/` only call these, so when a parser moves or changes shape, this file is
//! the only one to adjust: keep each function a thin call into the code that runs in
//! production, never a copy of it.
//!
//! Targets that need a data directory (the blob store, a store with a paired box) share one
//! per process, made on first use in `/dev/shm` when there is one (no disk writes at
//! thousands of runs a second) and reset by each run to what the run started from.
//!
//! Not part of folio's interface: hidden from the docs and free to change.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::blobs::{BlobHash, BlobStore};

/// A directory of this process's own, for targets that need files.
fn scratch(name: &str) -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    let root = ROOT.get_or_init(|| {
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() { base.to_path_buf() } else { std::env::temp_dir() };
        let root = base.join(format!("folio-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&root).expect("a scratch directory for the fuzz target");
        root
    });
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("a scratch directory for the fuzz target");
    dir
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime"))
}

/// `extract_text` runs the format crates under `catch_unwind` by design (a panic there loses
/// one file's text, see `extract`), but libFuzzer's panic hook aborts on every panic, caught
/// or not. For the extraction targets the hook only reports, so what counts as a crash is
/// what would hurt folio: a panic that escapes, a stack overflow, memory running out.
/// Only under cargo-fuzz (`cfg(fuzzing)`): the test suite keeps the default hook.
fn panics_caught_by_extract_are_not_crashes() {
    #[cfg(fuzzing)]
    {
        static ONCE: OnceLock<()> = OnceLock::new();
        ONCE.get_or_init(|| {
            std::panic::set_hook(Box::new(|info| eprintln!("panic (caught unless the run aborts): {info}")))
        });
    }
}

/// Splits `data` into the pieces a network would deliver it in: the first byte picks the
/// piece sizes (1 to 256 bytes, cycling), the rest is the content.
fn pieces(data: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let Some((&seed, content)) = data.split_first() else { return (Vec::new(), data) };
    let sizes = [1 + seed as usize, 1 + (seed as usize * 7) % 61, 1 + (seed as usize * 13) % 5];
    let mut out = Vec::new();
    let mut rest = content;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at((*size).min(rest.len()));
        out.push(now);
        rest = later;
    }
    (out, content)
}

/// The metadata filters (`blobs`: JPEG, PNG) as an upload streams into the blob store through
/// a `BlobWriter`, in pieces of sizes the input picks. Checks: the stored file is never
/// longer than what came in, is stored under its own BLAKE3, is the same whatever the piece
/// sizes, and anything that is not a strippable image is stored byte for byte.
pub fn upload_filter(data: &[u8]) {
    static BLOBS: OnceLock<BlobStore> = OnceLock::new();
    let blobs = BLOBS.get_or_init(|| BlobStore::open(&scratch("blobs")).expect("a blob store"));
    let (pieces, content) = pieces(data);
    let store = |pieces: Vec<&[u8]>| -> Vec<u8> {
        let stored = runtime().block_on(async {
            let mut writer = blobs.writer(u64::MAX).expect("a writer");
            for piece in pieces {
                writer.write(piece).await.expect("an unlimited writer takes every piece");
            }
            writer.finish().await.expect("the file is stored")
        });
        let bytes = std::fs::read(blobs.path(&stored.hash)).expect("the stored file");
        assert_eq!(bytes.len() as u64, stored.size, "the size recorded is the size stored");
        assert_eq!(blake3::hash(&bytes).as_bytes(), &stored.hash.0, "stored under its own hash");
        blobs.remove(&stored.hash).expect("the stored file is removed");
        bytes
    };
    let in_pieces = store(pieces);
    let whole = store(vec![content]);
    assert_eq!(in_pieces, whole, "the piece sizes changed what was stored");
    assert!(whole.len() <= content.len(), "the filter added bytes");
    if !crate::blobs::may_strip(content) {
        assert_eq!(whole, content, "a file that is not a strippable image is stored unchanged");
    }
}

/// The box the multipart target uploads into, opened once per process. The fuzz target opens
/// it in libFuzzer's initialisation ([`multipart_init`]): opening a whole box (the database,
/// the search index) in a debug build takes seconds on a busy machine, and charged to the
/// first input it passed the 10 s hang limit.
fn multipart_state() -> &'static crate::http::AppState {
    static STATE: OnceLock<crate::http::AppState> = OnceLock::new();
    STATE.get_or_init(|| {
        runtime().block_on(async {
            let dir = scratch("multipart");
            let config = crate::config::Config { data_dir: dir, ..Default::default() };
            let folio = crate::app::Folio::open(config, None).expect("an open folio");
            crate::http::AppState::new(folio, crate::tls::Https::Off)
        })
    })
}

/// Opens [`multipart`]'s box before the first input.
pub fn multipart_init() {
    multipart_state();
}

/// A multipart upload body (boundary `folio-fuzz`) read by `http::uploads::read`, the reader
/// every upload form and the artifact API use, with axum's multipart parser in front of it and
/// a real `AppState` behind it (file parts `file`, 64 KiB per file, 256 KiB in all). Checks:
/// the answer is the form or a refusal the client can act on (never an internal error), no
/// file is over the limits, and nothing is left in the blob store's temp folder.
pub fn multipart(data: &[u8]) {
    use axum::extract::FromRequest;
    let state = multipart_state();
    const MAX_FILE: u64 = 64 * 1024;
    const BUDGET: u64 = 256 * 1024;
    runtime().block_on(async {
        let request = axum::http::Request::builder()
            .method("POST")
            .header("content-type", "multipart/form-data; boundary=folio-fuzz")
            .body(axum::body::Body::from(data.to_vec()))
            .expect("a request");
        let form = axum::extract::Multipart::from_request(request, &()).await.expect("the content type is multipart");
        match crate::http::uploads::read(form, state, &["file"], MAX_FILE, BUDGET).await {
            Ok(upload) => {
                let total: u64 = upload.files.iter().map(|f| f.size).sum();
                assert!(upload.files.iter().all(|f| f.size <= MAX_FILE), "a file over the limit was kept");
                assert!(total <= BUDGET, "files over the budget were kept");
                for file in &upload.files {
                    let hash = BlobHash::from_hex(&file.hash).expect("a stored file's hash");
                    state.blobs.remove(&hash).expect("the stored file is removed");
                }
            }
            Err(e) => {
                let status = e.status_code();
                assert!(status.is_client_error(), "an upload body was answered {status}: {e}");
            }
        }
    });
    assert_eq!(state.blobs.tmp_count(), 0, "a refused or finished upload left a temp file");
}

/// Text extraction (`extract::extract_text`) of a file named `name` holding `data`, as the
/// search indexer calls it. Checks: the text is at most the characters asked for.
fn extract(data: &[u8], name: &str) {
    panics_caught_by_extract_are_not_crashes();
    const MAX_CHARS: usize = 4096;
    let path = scratch("extract").join(name);
    std::fs::write(&path, data).expect("the file to extract from");
    if let Some(text) = crate::extract::extract_text(&path, name, MAX_CHARS) {
        assert!(text.chars().count() <= MAX_CHARS, "more text than asked for");
    }
}

/// PDF text extraction (lopdf and folio's content-stream walk), from a file named `.pdf`.
pub fn extract_pdf(data: &[u8]) {
    extract(data, "work.pdf");
}

/// DOCX and ODT text extraction (zip, quick-xml): the first byte picks the file name's
/// extension (even: `.docx`, odd: `.odt`); the rest is the file.
pub fn extract_office(data: &[u8]) {
    let Some((&pick, file)) = data.split_first() else { return };
    extract(file, if pick % 2 == 0 { "work.docx" } else { "work.odt" });
}

/// HTML to text (folio's own state machine) and plain-text reading, from a file named
/// `.html` (text that does not look like HTML is read as text).
pub fn extract_html(data: &[u8]) {
    extract(data, "page.html");
}

/// The simple roster CSV (`username,display_name`), as the roster import reads an uploaded
/// file (UTF-8, lossily). Checks: every problem names a line of the file, and an accepted
/// roster has no more people than the file has lines.
pub fn roster_simple(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count() as u64 + 1;
    match crate::domain::roster::parse_simple(&text) {
        Ok(people) => assert!(people.len() as u64 <= lines, "more people than lines"),
        Err(problems) => {
            assert!(!problems.is_empty(), "refused without a reason");
            assert!(problems.iter().all(|p| p.line <= lines), "a problem on a line the file does not have");
        }
    }
}

/// The three OneRoster CSV files (users, classes, enrollments), separated by NUL bytes in the
/// input. Checks: a refusal says why, an accepted roster's enrollments name only its own
/// users and classes, and its family links join a family account to a student.
pub fn roster_oneroster(data: &[u8]) {
    let mut files = data.splitn(3, |b| *b == 0).map(String::from_utf8_lossy);
    let (users, classes, enrollments) =
        (files.next().unwrap_or_default(), files.next().unwrap_or_default(), files.next().unwrap_or_default());
    match crate::domain::roster::parse_oneroster(&users, &classes, &enrollments) {
        Ok(roster) => {
            for e in &roster.enrollments {
                let user = Some(e.user_sourced_id.as_str());
                assert!(roster.users.iter().any(|u| u.external_id.as_deref() == user), "an enrollment of nobody");
                assert!(roster.classes.iter().any(|c| c.sourced_id == e.class_sourced_id), "an enrollment in no class");
            }
            // A family link's sides, where the files have them, are a family account and a student.
            let role_of = |id: &str| roster.users.iter().find(|u| u.external_id.as_deref() == Some(id)).map(|u| u.role);
            for l in &roster.family_links {
                assert!(matches!(role_of(&l.family_sourced_id), None | Some(crate::domain::Role::Family)), "{l:?}");
                assert!(matches!(role_of(&l.student_sourced_id), None | Some(crate::domain::Role::Student)), "{l:?}");
            }
        }
        Err(problems) => assert!(!problems.is_empty(), "refused without a reason"),
    }
}

/// The fixed "source" box the bundle target's store is paired with. Its certificate is only
/// bytes: the header check compares them, and the signature (never valid for made-up input)
/// is checked last, so everything before it is reachable.
pub const BUNDLE_SOURCE_CERT: &[u8] = b"folio fuzz: the source box's certificate";
/// The box the bundle target imports into.
pub const BUNDLE_TARGET_CERT: &[u8] = b"folio fuzz: the target box's certificate";

/// The USB bundle reader (`peers::bundle::Importer`) on a store paired (whole schools) with
/// the box of [`BUNDLE_SOURCE_CERT`]. Checks: a bundle that does not verify changes nothing
/// (no file stored, no staging folder left, no operation applied) and is refused with a
/// bundle error, never an I/O or store error.
pub fn bundle(data: &[u8]) {
    use crate::peers::bundle::{BundleError, Importer};
    use crate::peers::{BoxId, Peer, PeerScope};
    struct Fixture {
        dir: PathBuf,
        store: crate::store::Store,
        blobs: BlobStore,
    }
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    let f = FIXTURE.get_or_init(|| {
        let dir = scratch("bundle");
        let store = crate::store::Store::open(&dir).expect("a store");
        let blobs = BlobStore::open(&dir).expect("a blob store");
        let peer = Peer {
            id: BoxId::of_certificate(BUNDLE_SOURCE_CERT),
            cert_der: BUNDLE_SOURCE_CERT.to_vec(),
            scope: PeerScope::WholeSchools,
            addresses: Vec::new(),
            paired_ms: 0,
            status: Default::default(),
            offered_by: Default::default(),
        };
        store.write(|tx| crate::store::peers::put_peer(tx.txn(), &peer)).expect("the source box is paired");
        Fixture { dir, store, blobs }
    });
    let before = f.store.canonical_dump().expect("the store's contents");
    let importer = Importer {
        store: &f.store,
        blobs: &f.blobs,
        data_dir: &f.dir,
        me: BoxId::of_certificate(BUNDLE_TARGET_CERT),
        max_bytes: 1 << 20,
    };
    let mut input: &[u8] = data;
    match importer.import(&mut input as &mut dyn Read, Some(data.len() as u64)) {
        Ok(report) => panic!("an unsigned bundle was imported: {report:?}"),
        Err(e @ (BundleError::Io { .. } | BundleError::Store(_))) => panic!("the reader failed itself: {e}"),
        Err(_) => {}
    }
    assert!(f.blobs.all().expect("the blob store's files").is_empty(), "a refused bundle stored a file");
    let left: Vec<_> = std::fs::read_dir(&f.dir)
        .expect("the data directory")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".bundle-import-"))
        .collect();
    assert!(left.is_empty(), "a staging folder outlived the import");
    assert_eq!(f.store.canonical_dump().expect("the store's contents"), before, "a refused bundle changed the store");
}

/// A sync page (`sync::Page`) as peers send it (JSON, on the peer port and in bundles), and
/// the positions that come with it. Checks: what decodes encodes to something that decodes
/// to the same, and advancing positions by a page reaches every span's end.
pub fn sync_page(data: &[u8]) {
    use crate::sync::{Page, Positions};
    if let Ok(page) = serde_json::from_slice::<Page>(data) {
        let again: Page = serde_json::from_slice(&serde_json::to_vec(&page).expect("a page encodes"))
            .expect("an encoded page decodes");
        assert_eq!(again, page, "a page changed on its way through JSON");
        let mut positions =
            Positions { school: page.school, replica: crate::domain::ReplicaId(uuid::Uuid::nil()), have: vec![] };
        positions.advance(&page);
        for span in &page.spans {
            assert!(
                positions
                    .have
                    .iter()
                    .any(|p| p.partition == span.partition && p.origin == span.origin && p.seq >= span.through)
            );
        }
    }
    if let Ok(positions) = serde_json::from_slice::<Positions>(data) {
        let again: Positions = serde_json::from_slice(&serde_json::to_vec(&positions).expect("positions encode"))
            .expect("encoded positions decode");
        assert_eq!(again, positions);
    }
}

/// The tus headers (`domain::upload`): `Upload-Metadata`, `Upload-Length`/`Upload-Offset` and
/// an upload's reference, from one header value (UTF-8, lossily). Checks: a number is only
/// digits and fits in 63 bits, metadata over the length limit is refused, and an upload id
/// read from a reference is written in it.
pub fn tus_headers(data: &[u8]) {
    use crate::domain::upload;
    let value = String::from_utf8_lossy(data);
    if let Ok(n) = upload::parse_size("Upload-Length", &value) {
        assert!(value.bytes().all(|b| b.is_ascii_digit()) && n <= i64::MAX as u64, "{value:?} read as {n}");
    }
    let metadata = upload::parse_metadata(&value);
    assert!(metadata.is_err() || value.len() <= upload::MAX_METADATA_LEN, "over-long metadata accepted");
    if let Some(id) = upload::UploadId::from_reference(&value) {
        assert!(value.contains(&id.to_string()), "{value:?} read as upload {id}");
    }
}

/// The checked-in corpus of every target, run through the targets in the ordinary test suite:
/// inputs that once crashed a parser are kept there (named `regression-*`), so a crash found
/// by fuzzing stays a test without cargo-fuzz.
#[cfg(test)]
mod tests {
    use super::*;

    /// A fuzz target: what it is called in `fuzz/fuzz_targets/`, and its entry point.
    type Target = (&'static str, fn(&[u8]));

    const TARGETS: &[Target] = &[
        ("upload_filter", upload_filter),
        ("multipart", multipart),
        ("extract_pdf", extract_pdf),
        ("extract_office", extract_office),
        ("extract_html", extract_html),
        ("roster_simple", roster_simple),
        ("roster_oneroster", roster_oneroster),
        ("bundle", bundle),
        ("sync_page", sync_page),
        ("tus_headers", tus_headers),
    ];

    fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
            .collect();
        inputs.sort();
        inputs
    }

    #[test]
    fn every_target_takes_its_checked_in_corpus() {
        let targets = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets")).unwrap();
        let mut names: Vec<String> =
            targets.flatten().map(|e| e.path().file_stem().unwrap().to_string_lossy().into_owned()).collect();
        names.sort();
        let mut known: Vec<String> = TARGETS.iter().map(|(name, _)| name.to_string()).collect();
        known.sort();
        assert_eq!(names, known, "fuzz/fuzz_targets and this list name the same targets");
        for (name, target) in TARGETS {
            let inputs = corpus(name);
            assert!(!inputs.is_empty(), "{name} has no corpus");
            for (path, input) in inputs {
                eprintln!("{}", path.display());
                target(&input);
            }
        }
    }

    /// Writes the seeds that need folio's own encoders (pages, bundles). Run by hand:
    /// `cargo test --lib fuzzing::tests::write_seeds -- --ignored`.
    #[test]
    #[ignore]
    fn write_seeds() {
        use crate::domain::{Change, ClassId, Role, SchoolId, Scope, UserId};
        use crate::peers::BoxId;
        use crate::sync::{Page, Position, Positions, Span};
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        let school = SchoolId::new();
        let (class, user) = (ClassId::new(), UserId::new());
        let record = |scope, change: Change| store.write(|tx| tx.record(school, scope, None, change.clone())).unwrap();
        let ops = vec![
            record(Scope::School, Change::SchoolCreated { name: "Green Hill".into() }),
            record(
                Scope::Class(class),
                Change::ClassCreated { class, name: "Owls".into(), join_code: "OWL123".into(), external_id: None },
            ),
            record(
                Scope::Person(user),
                Change::UserCreated {
                    user,
                    username: "ana".into(),
                    display_name: "Ana\u{a0}López".into(),
                    role: Role::Student,
                    external_id: Some("u1".into()),
                },
            ),
            record(Scope::Class(class), Change::MemberAdded { class, user, role: Role::Student }),
        ];
        let replica = store.replica();
        let spans = ops
            .iter()
            .map(|op| Span { partition: op.scope, origin: replica, after: op.id.seq - 1, through: op.id.seq })
            .collect();
        let page = Page { school, spans, ops, more: false, wholly_inside: None };
        let positions =
            Positions { school, replica, have: vec![Position { partition: Scope::School, origin: replica, seq: 1 }] };
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let put = |target: &str, name: &str, bytes: &[u8]| {
            std::fs::create_dir_all(root.join(target)).unwrap();
            std::fs::write(root.join(target).join(name), bytes).unwrap();
        };
        let page_json = serde_json::to_vec(&page).unwrap();
        put("sync_page", "page", &page_json);
        put(
            "sync_page",
            "empty-page",
            &serde_json::to_vec(&Page { school, spans: vec![], ops: vec![], more: true, wholly_inside: None }).unwrap(),
        );
        put("sync_page", "positions", &serde_json::to_vec(&positions).unwrap());

        // A bundle from the fuzz target's paired source box, as `bundle::export` lays it out.
        let record = |out: &mut Vec<u8>, kind: u8, payload: &[u8]| {
            out.push(kind);
            out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
            out.extend_from_slice(payload);
        };
        let header = serde_json::json!({
            "source": BoxId::of_certificate(BUNDLE_SOURCE_CERT).to_string(),
            "source_cert": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, BUNDLE_SOURCE_CERT),
            "target": BoxId::of_certificate(BUNDLE_TARGET_CERT).to_string(),
            "created_ms": 1_780_000_000_000u64,
            "folio_version": "0.1.0",
            "positions": [positions],
        });
        let file = b"a file the page names".to_vec();
        let mut bundle = crate::peers::bundle::MAGIC.to_vec();
        bundle.extend_from_slice(&crate::peers::bundle::FORMAT.to_be_bytes());
        record(&mut bundle, b'H', &serde_json::to_vec(&header).unwrap());
        record(&mut bundle, b'P', &page_json);
        let name = blake3::hash(&file).to_hex().to_string();
        let mut file_record = vec![name.len() as u8];
        file_record.extend_from_slice(name.as_bytes());
        file_record.extend_from_slice(&file);
        record(&mut bundle, b'F', &file_record);
        let end = serde_json::json!({"pages": 1, "ops": page.ops.len(), "files": 1, "file_bytes": file.len()});
        record(&mut bundle, b'E', &serde_json::to_vec(&end).unwrap());
        record(&mut bundle, b'S', &[0x30; 70]);
        put("bundle", "signed-wrongly", &bundle);
        put("bundle", "header-only", &bundle[..12 + 9 + serde_json::to_vec(&header).unwrap().len()]);
        put("bundle", "not-a-bundle", b"FOLIOBDX\x00\x00\x00\x01");
    }
}
