//! USB bundles (`folio::peers::bundle`): a round trip between two boxes with a student's work
//! and its file, importing twice, and every refusal (a changed byte anywhere, too large, a
//! path for a file name, an unpaired source, another target), each of which must leave the
//! receiving box exactly as it was. Pairings are written straight into the stores
//! ([`pair`]), so these tests do not depend on the pairing protocol.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use folio::blobs::BlobHash;
use folio::domain::{Artifact, Change, FileId, FileRef, Role, SchoolId, Scope, UserId};
use folio::peers::bundle::{self, BundleError, ImportReport, Importer};
use folio::peers::{BoxId, Identity, Peer, PeerScope};
use folio::store::{Store, peers as store_peers};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// A box for the library-level tests (a [`TestCore`]: its store, files and identity), with
/// the bundle operations these tests make on it.
struct Box_ {
    core: TestCore,
}

impl std::ops::Deref for Box_ {
    type Target = TestCore;

    fn deref(&self) -> &TestCore {
        &self.core
    }
}

impl Box_ {
    fn new() -> Box_ {
        Box_ { core: TestCore::open() }
    }

    fn id(&self) -> BoxId {
        self.identity().id()
    }

    fn identity(&self) -> &Identity {
        &self.net.identity
    }

    fn export_for(&self, peer: BoxId) -> Vec<u8> {
        let peer = self.store.read(|r| store_peers::peer(r, peer)).unwrap().expect("paired");
        let mut out = Vec::new();
        bundle::export(&self.store, &self.blobs, self.identity(), &peer, &mut out).unwrap();
        out
    }

    fn import(&self, bytes: &[u8]) -> Result<ImportReport, BundleError> {
        self.import_limited(bytes, u64::MAX, Some(bytes.len() as u64))
    }

    fn import_limited(
        &self,
        mut bytes: &[u8],
        max_bytes: u64,
        declared: Option<u64>,
    ) -> Result<ImportReport, BundleError> {
        let importer =
            Importer { store: &self.store, blobs: &self.blobs, data_dir: self.data_dir(), me: self.id(), max_bytes };
        importer.import(&mut bytes, declared)
    }

    /// Everything that must not change when a bundle is refused.
    fn state(&self) -> (folio::store::dump::Dump, Vec<BlobHash>, Vec<String>) {
        let leftovers = std::fs::read_dir(self.data_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".bundle"))
            .collect();
        (self.store.canonical_dump().unwrap(), self.blobs.all().unwrap(), leftovers)
    }
}

/// Pins each box in the other's store, as pairing would (only `from`'s side when `one_way`).
fn pair_stores(a: (&Store, &Identity), b: (&Store, &Identity), scope: PeerScope) {
    for ((store, _), (_, other)) in [(a, b), (b, a)] {
        let peer = Peer {
            id: other.id(),
            cert_der: other.cert_der().to_vec(),
            scope: scope.clone(),
            offered_by: Default::default(),
            addresses: Vec::new(),
            paired_ms: 1,
            status: Default::default(),
        };
        store.write(|tx| store_peers::put_peer(tx.txn(), &peer)).unwrap();
    }
}

fn pair(a: &Box_, b: &Box_) {
    pair_stores((&a.store, a.identity()), (&b.store, b.identity()), PeerScope::WholeSchools);
}

/// Pairs two data directories of servers not yet started.
pub fn pair_dirs(a: &Path, b: &Path) -> (BoxId, BoxId) {
    let (sa, sb) = (Store::open(a).unwrap(), Store::open(b).unwrap());
    let (ia, ib) = (Identity::load_or_create(a).unwrap(), Identity::load_or_create(b).unwrap());
    pair_stores((&sa, &ia), (&sb, &ib), PeerScope::WholeSchools);
    (ia.id(), ib.id())
}

/// A school with a student whose work holds one file; returns the file's bytes and hash.
fn school_with_work(b: &Box_) -> (Vec<u8>, String) {
    let content = format!("My essay about the river, with a drawing. {}", UserId::new()).repeat(1000).into_bytes();
    let hash = blake3::hash(&content).to_hex().to_string();
    let path = b.blobs.path(&BlobHash::from_hex(&hash).unwrap());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &content).unwrap();
    let (school, ana) = (SchoolId::new(), UserId::new());
    b.store
        .write(|tx| {
            tx.record(school, Scope::School, None, Change::SchoolCreated { name: "Escuela Río".into() })?;
            tx.record(
                school,
                Scope::Person(ana),
                None,
                Change::UserCreated {
                    user: ana,
                    username: "ana".into(),
                    display_name: "Ana".into(),
                    role: Role::Student,
                    external_id: None,
                },
            )?;
            let file = FileRef {
                id: FileId::new(),
                name: "essay.txt".into(),
                size: content.len() as u64,
                content_type: "text/plain".into(),
                hash: hash.clone(),
            };
            let artifact = Artifact {
                reflection: "I liked drawing the bridge.".into(),
                ..artifact(school, ana, None, "The river", vec![file])
            };
            tx.record(school, Scope::Person(ana), Some(ana), Change::ArtifactCreated { artifact: Box::new(artifact) })
        })
        .unwrap();
    (content, hash)
}

/// The records of a bundle: (kind, payload), the signature last.
fn records(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&bytes[..8], bundle::MAGIC);
    let mut at = 12;
    let mut found = Vec::new();
    while at < bytes.len() {
        let kind = bytes[at];
        let len = u64::from_be_bytes(bytes[at + 1..at + 9].try_into().unwrap()) as usize;
        found.push((kind, bytes[at + 9..at + 9 + len].to_vec()));
        at += 9 + len;
    }
    found
}

/// A bundle of these records, signed by `by` as folio signs them.
fn assemble(records: &[(u8, Vec<u8>)], by: &Identity) -> Vec<u8> {
    let mut out = bundle::MAGIC.to_vec();
    out.extend_from_slice(&bundle::FORMAT.to_be_bytes());
    for (kind, payload) in records.iter().filter(|(k, _)| *k != b'S') {
        out.push(*kind);
        out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        out.extend_from_slice(payload);
    }
    let mut message = b"folio bundle v1\0".to_vec();
    message.extend_from_slice(blake3::hash(&out).as_bytes());
    let signature = by.sign(&message);
    out.push(b'S');
    out.extend_from_slice(&(signature.len() as u64).to_be_bytes());
    out.extend_from_slice(&signature);
    out
}

#[test]
fn work_and_its_file_arrive_by_bundle_and_a_second_import_changes_nothing() {
    let (a, b) = (Box_::new(), Box_::new());
    pair(&a, &b);
    let (content, hash) = school_with_work(&a);
    let made = a.export_for(b.id());
    // Re-assembling what was read gives the same bytes: the test's reading of the format is
    // the format.
    let signed = made.len() - 9 - records(&made).last().unwrap().1.len();
    assert_eq!(assemble(&records(&made), a.identity())[..signed], made[..signed]);

    let report = b.import(&made).unwrap();
    assert_eq!((report.ops_received, report.files_received, report.ops_already_here), (3, 1, 0), "{report:?}");
    assert!(report.describe().starts_with("applied 3 operations and 1 file from box"), "{}", report.describe());
    let stored = std::fs::read(b.blobs.path(&BlobHash::from_hex(&hash).unwrap())).unwrap();
    assert_eq!(blake3::hash(&stored).to_hex().as_str(), hash);
    assert_eq!(stored, content);
    assert_eq!(a.store.canonical_dump().unwrap()["oplog"], b.store.canonical_dump().unwrap()["oplog"]);

    let before = b.state();
    let again = b.import(&made).unwrap();
    assert_eq!((again.ops_received, again.files_received), (0, 0));
    assert_eq!((again.ops_already_here, again.files_already_here), (3, 1));
    assert!(again.describe().starts_with("nothing was new"), "{}", again.describe());
    assert_eq!(b.state(), before, "importing twice changes nothing");

    // B learned what A holds from the bundle's header: a bundle back to A carries nothing,
    // not even A's own operations.
    let back = b.export_for(a.id());
    let back_report = a.import(&back).unwrap();
    assert_eq!((back_report.ops_received, back_report.ops_already_here, back_report.files_received), (0, 0, 0));
    // And new work on B goes back to A.
    let (_, second) = school_with_work(&b);
    let report = a.import(&b.export_for(a.id())).unwrap();
    assert_eq!((report.ops_received, report.files_received), (3, 1), "{report:?}");
    assert!(a.blobs.contains(&BlobHash::from_hex(&second).unwrap()));
}

#[test]
fn a_changed_byte_anywhere_is_refused_and_nothing_is_applied() {
    let (a, b) = (Box_::new(), Box_::new());
    pair(&a, &b);
    school_with_work(&a);
    let made = a.export_for(b.id());
    let before = b.state();
    // Every 97th byte (magic, version, header, pages, the file, the end, the signature) and
    // the last.
    let mut offsets: Vec<usize> = (0..made.len()).step_by(97).collect();
    offsets.push(made.len() - 1);
    for at in offsets {
        let mut changed = made.clone();
        changed[at] ^= 0x20;
        let err = b.import(&changed).expect_err(&format!("a change at byte {at} of {} was accepted", made.len()));
        assert!(err.is_bad_input(), "byte {at}: {err}");
        assert_eq!(b.state(), before, "a refused bundle (byte {at}: {err}) changed the box");
    }
    for cut in [0, 7, 100, made.len() / 2, made.len() - 1] {
        let err = b.import(&made[..cut]).unwrap_err();
        assert!(matches!(err, BundleError::Truncated | BundleError::NotABundle), "{cut}: {err}");
        assert_eq!(b.state(), before);
    }
    let mut longer = made.clone();
    longer.push(0);
    assert!(matches!(b.import(&longer).unwrap_err(), BundleError::Damaged(_)));
    let mut changed = made.clone();
    let tail = made.len() - 10;
    changed[tail] ^= 1;
    assert!(matches!(b.import(&changed).unwrap_err(), BundleError::BadSignature(_)));
    assert_eq!(b.state(), before);
    // Untouched, it still applies.
    b.import(&made).unwrap();
}

/// Counts what was read, to show a refused bundle was not read to the end.
struct Counting<'a>(&'a [u8], usize);

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        self.1 += n;
        Ok(n)
    }
}

#[test]
fn an_oversized_bundle_is_refused_before_it_is_read() {
    let (a, b) = (Box_::new(), Box_::new());
    pair(&a, &b);
    school_with_work(&a);
    let made = a.export_for(b.id());
    let before = b.state();
    let limit = made.len() as u64 - 1;
    let importer = Importer { store: &b.store, blobs: &b.blobs, data_dir: b.data_dir(), me: b.id(), max_bytes: limit };
    let mut input = Counting(&made, 0);
    let err = importer.import(&mut input, Some(made.len() as u64)).unwrap_err();
    assert!(matches!(err, BundleError::TooLarge { .. }), "{err}");
    assert_eq!(input.1, 0, "an announced size over the limit is refused before reading");
    // Without an announced size, reading stops at the limit.
    let err = b.import_limited(&made, 4096, None).unwrap_err();
    assert!(matches!(err, BundleError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("larger than this box accepts"), "{err}");
    assert_eq!(b.state(), before);
    b.import_limited(&made, made.len() as u64, None).unwrap();
}

#[test]
fn a_file_named_by_a_path_is_refused_even_in_a_signed_bundle() {
    let (a, b) = (Box_::new(), Box_::new());
    pair(&a, &b);
    school_with_work(&a);
    let made = records(&a.export_for(b.id()));
    let before = b.state();
    for name in ["../../../../tmp/x", "/etc/passwd", "AB".repeat(32).as_str(), "ab/cd", ""] {
        let forged: Vec<(u8, Vec<u8>)> = made
            .iter()
            .map(|(kind, payload)| match kind {
                b'F' => {
                    let content = &payload[1 + payload[0] as usize..];
                    let mut p = vec![name.len() as u8];
                    p.extend_from_slice(name.as_bytes());
                    p.extend_from_slice(content);
                    (*kind, p)
                }
                _ => (*kind, payload.clone()),
            })
            .collect();
        let err = b.import(&assemble(&forged, a.identity())).unwrap_err();
        assert!(matches!(err, BundleError::BadFileName(_)), "{name}: {err}");
        assert_eq!(b.state(), before, "{name}");
    }
}

#[test]
fn a_bundle_from_an_unpaired_box_or_for_another_box_is_refused() {
    let (a, b, c) = (Box_::new(), Box_::new(), Box_::new());
    pair(&a, &b);
    pair(&a, &c);
    school_with_work(&a);
    let for_b = a.export_for(b.id());

    let before = c.state();
    let err = c.import(&for_b).unwrap_err();
    assert!(matches!(err, BundleError::WrongBox { .. }), "{err}");
    assert!(err.to_string().contains(&b.id().short()), "{err}");
    assert_eq!(c.state(), before);

    // D is not paired with A: refused, whoever it was made for.
    let d = Box_::new();
    let mut header: Value = serde_json::from_slice(&records(&for_b)[0].1).unwrap();
    header["target"] = json!(d.id().to_string());
    let mut forged = records(&for_b);
    forged[0].1 = serde_json::to_vec(&header).unwrap();
    let before = d.state();
    let err = d.import(&assemble(&forged, a.identity())).unwrap_err();
    assert!(matches!(err, BundleError::NotPaired(_)), "{err}");
    assert_eq!(d.state(), before);

    // A box that pinned A refuses a bundle signed by another key claiming to be A.
    let before = b.state();
    let err = b.import(&assemble(&records(&for_b), c.identity())).unwrap_err();
    assert!(matches!(err, BundleError::BadSignature(_)), "{err}");
    assert_eq!(b.state(), before);

    // A box refuses its own bundle.
    let err = a.import(&for_b).unwrap_err();
    assert!(matches!(err, BundleError::FromSelf | BundleError::WrongBox { .. }), "{err}");
}

#[test]
fn a_bundle_can_carry_nothing_the_pairing_does_not_grant() {
    let (a, b) = (Box_::new(), Box_::new());
    // A thinks it shares the whole school; B paired for one class only (of another school):
    // whatever A sends beyond that is refused by B.
    pair(&a, &b);
    let scope = PeerScope::Classes([(SchoolId::new(), folio::domain::ClassId::new())].into_iter().collect());
    let a_as_b_sees_it = Peer {
        id: a.id(),
        cert_der: a.identity().cert_der().to_vec(),
        scope,
        offered_by: Default::default(),
        addresses: Vec::new(),
        paired_ms: 1,
        status: Default::default(),
    };
    b.store.write(|tx| store_peers::put_peer(tx.txn(), &a_as_b_sees_it)).unwrap();
    school_with_work(&a);
    let before = b.state();
    let err = b.import(&a.export_for(b.id())).unwrap_err();
    assert!(matches!(err, BundleError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("Nothing of it was applied"), "{err}");
    assert_eq!(b.state(), before, "nothing outside the grant was applied, no file stored");
}

#[test]
fn a_bundle_from_a_class_box_goes_through_the_same_check_as_a_sync() {
    use folio::domain::ClassId;
    use folio::store::Queries;
    use folio::sync::OfferedBy;
    let (m, b) = (Box_::new(), Box_::new());
    // M holds the school and offered class X to B (B joined M's invitation).
    let (school, x, y) = (SchoolId::new(), ClassId::new(), ClassId::new());
    let scope = PeerScope::Classes([(school, x)].into_iter().collect());
    for (store, other, offered_by) in
        [(&m.store, b.identity(), OfferedBy::Us), (&b.store, m.identity(), OfferedBy::Peer)]
    {
        let peer = Peer {
            id: other.id(),
            cert_der: other.cert_der().to_vec(),
            scope: scope.clone(),
            offered_by,
            addresses: Vec::new(),
            paired_ms: 1,
            status: Default::default(),
        };
        store.write(|tx| store_peers::put_peer(tx.txn(), &peer)).unwrap();
    }
    let (ana, ben) = (UserId::new(), UserId::new());
    m.store
        .write(|tx| {
            tx.record(school, Scope::School, None, Change::SchoolCreated { name: "Escuela Río".into() })?;
            for (class, name) in [(x, "X"), (y, "Y")] {
                let change =
                    Change::ClassCreated { class, name: name.into(), join_code: format!("J{name}"), external_id: None };
                tx.record(school, Scope::Class(class), None, change)?;
            }
            for (user, name, class) in [(ana, "ana", x), (ben, "ben", y)] {
                let change = Change::UserCreated {
                    user,
                    username: name.into(),
                    display_name: name.into(),
                    role: Role::Student,
                    external_id: None,
                };
                tx.record(school, Scope::Person(user), None, change)?;
                let change = Change::MemberAdded { class, user, role: Role::Student };
                tx.record(school, Scope::Class(class), None, change)?;
            }
            Ok::<_, folio::store::StoreError>(())
        })
        .unwrap();
    b.import(&m.export_for(b.id())).expect("the box that offered X brings X and Ana");
    assert!(b.store.read(|r| r.user(ana)).unwrap().is_some());

    // B's own class work comes back by bundle...
    b.store
        .write(|tx| {
            let change = Change::ClassSettingsChanged {
                class: x,
                require_approval: Some(true),
                comments_allowed: None,
                family_sharing: None,
                hold_family_comments: None,
                family_sees_ratings: None,
            };
            tx.record(school, Scope::Class(x), None, change)
        })
        .unwrap();
    let report = m.import(&b.export_for(m.id())).expect("class work is B's to send");
    assert_eq!(report.ops_received, 1, "{report:?}");
    // ...but an erasure of a student of another class, on the same stick, is refused whole.
    // B's own folio refuses to record it (`joined_class_limit`), so B plays a box running
    // altered software: its record of M forgets that M offered the classes, just for this.
    b.store.update_peer(m.id(), |p| p.offered_by = OfferedBy::Us).unwrap();
    b.store
        .write(|tx| {
            tx.record(
                school,
                Scope::Class(x),
                None,
                Change::ClassSettingsChanged {
                    class: x,
                    require_approval: Some(false),
                    comments_allowed: None,
                    family_sharing: None,
                    hold_family_comments: None,
                    family_sees_ratings: None,
                },
            )?;
            tx.record(school, Scope::School, None, Change::UserErased { user: ben })
        })
        .unwrap();
    b.store.update_peer(m.id(), |p| p.offered_by = OfferedBy::Peer).unwrap();
    let before = m.state();
    let err = m.import(&b.export_for(m.id())).unwrap_err();
    assert!(matches!(err, BundleError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("user_erased"), "the refusal names the operation: {err}");
    assert_eq!(m.state(), before, "nothing of the bundle was kept");
    assert!(m.store.read(|r| r.user(ben)).unwrap().is_some(), "Ben is still there");
}

fn folio(args: &[&str], data: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_folio")).args(args).arg("--data").arg(data).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_running_boxes_exchange_a_bundle_through_the_command_line_and_the_admin_api() {
    let (dir_a, dir_b, sticks) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (id_a, id_b) = pair_dirs(dir_a.path(), dir_b.path());
    let a = TestServer::start_with(dir_a.path().to_path_buf(), |_| {}).await.unwrap();
    let b = TestServer::start_with(dir_b.path().to_path_buf(), |_| {}).await.unwrap();
    let admin_a = a.setup_admin().await;
    let admin_b = b.setup_admin().await;
    let (_, ana) = a.person(&admin_a, "anar", "student").await;
    let content = b"a drawing of the bridge".repeat(5000);
    let made = crate::work::upload_ok(&a, &ana, "The bridge", vec![("bridge.txt", content.clone())]).await;
    let artifact = made["id"].as_str().unwrap().to_string();

    // Export on A through its running server (the control socket), by the short id.
    let file = sticks.path().join("for-b.folio");
    let (ok, out, err) =
        folio(&["bundle", "export", "--peer", &id_b.short(), "--to", file.to_str().unwrap()], dir_a.path());
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("and 1 file") && out.contains(&id_b.short()), "{out}");

    // Import on B through the admin API.
    let bytes = std::fs::read(&file).unwrap();
    let res = admin_b.post(b.url("/api/v1/bundles")).body(bytes.clone()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["files_received"], 1, "{report}");
    assert!(report["ops_received"].as_u64().unwrap() >= 4, "{report}");
    assert!(report["message"].as_str().unwrap().starts_with("Applied"), "{report}");

    // Ana's account came with her school: she signs in on B and finds her work and file.
    let ana_b = b.client();
    b.login(&ana_b, "anar", "anar-password").await;
    let got = json_of(b.get(&ana_b, &format!("/api/v1/artifacts/{artifact}")).await).await;
    assert_eq!(got["title"], "The bridge", "{got}");
    let file_id = got["versions"][0]["files"][0]["id"].as_str().unwrap().to_string();
    let served = crate::work::bytes_of(&b, &ana_b, &format!("/api/v1/artifacts/{artifact}/files/{file_id}")).await;
    assert_eq!(blake3::hash(&served), blake3::hash(&content));

    // Again, from the command line while B serves: nothing new.
    let (ok, out, err) = folio(&["bundle", "import", file.to_str().unwrap()], dir_b.path());
    assert!(ok, "{out}\n{err}");
    assert!(out.starts_with("Nothing was new"), "{out}");

    // A tampered bundle through the API: refused in words, 422.
    let mut tampered = bytes.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    let res = admin_b.post(b.url("/api/v1/bundles")).body(tampered).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refusal: Value = res.json().await.unwrap();
    assert!(refusal["message"].as_str().unwrap().contains("Nothing was changed"), "{refusal}");

    // The admin page's upload form takes the same file (streamed from the multipart part).
    let page = admin_b.get(b.url("/admin/peers/nearby")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .part("bundle", reqwest::multipart::Part::bytes(bytes.clone()).file_name("for-b.folio"));
    let res = admin_b.post(b.url("/admin/peers/bundle")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("Bundle imported: Nothing was new"), "{page}");

    // Download from B's admin API for A: B's own school goes, but nothing of A's (B learned
    // from A's bundle what A holds).
    let res = admin_b.get(b.url(&format!("/api/v1/peers/{id_a}/bundle"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains(".folio"));
    let back = res.bytes().await.unwrap();
    let res = admin_a.post(a.url("/api/v1/bundles")).body(back).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["files_received"], 0, "{report}");
    assert_eq!(report["ops_already_here"], 0, "nothing of A's own school came back: {report}");
    assert!(report["ops_received"].as_u64().unwrap() >= 3, "B's school: {report}");

    // Only admins: a student gets 404, as for anything they may not see.
    let res = ana_b.get(b.url(&format!("/api/v1/peers/{id_a}/bundle"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = admin_b.get(b.url("/api/v1/peers/0123456789ab/bundle")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    a.stop().await;
    b.stop().await;
}

/// Reads from a slice and remembers the largest buffer it was asked to fill: what the reader
/// allocated for one read.
struct WidestRead<'a> {
    bytes: &'a [u8],
    widest: usize,
}

impl std::io::Read for WidestRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.widest = self.widest.max(buf.len());
        self.bytes.read(buf)
    }
}

#[test]
fn a_page_that_declares_a_large_length_costs_only_what_arrives() {
    let (a, b) = (Box_::new(), Box_::new());
    pair(&a, &b);
    school_with_work(&a);
    let made = a.export_for(b.id());
    // Magic, format, the header's head and body; then a page that says 60 MiB and stops.
    let header_len = u64::from_be_bytes(made[13..21].try_into().unwrap()) as usize;
    let page_at = 8 + 4 + 9 + header_len;
    assert_eq!(made[page_at], b'P', "a page follows the header");
    let mut cut = made[..page_at].to_vec();
    cut.push(b'P');
    cut.extend_from_slice(&(60u64 << 20).to_be_bytes());
    cut.extend_from_slice(b"{\"school\":");
    let importer =
        Importer { store: &b.store, blobs: &b.blobs, data_dir: b.data_dir(), me: b.id(), max_bytes: u64::MAX };
    let mut input = WidestRead { bytes: &cut, widest: 0 };
    let err = importer.import(&mut input, None).unwrap_err();
    assert!(matches!(err, BundleError::Truncated), "{err}");
    assert!(input.widest <= 1 << 20, "one read asked for {} bytes before they arrived", input.widest);
}
