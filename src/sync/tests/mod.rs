//! Sync between real stores in temporary directories: grants, refused pages, resuming,
//! forwarding, erasure and clocks. The property test of convergence is in
//! `tests/integration/sync_core.rs`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::domain::hlc::{MAX_REMOTE_DRIFT_MS, wall_clock_ms};
use crate::domain::{
    Artifact, ArtifactId, Change, ClassId, Comment, CommentId, CommentKind, Op, Role, SchoolId, UserId, Visibility,
};
use crate::store::{Queries, Store, StoreError, SyncReads};

/// One box (a node in these tests): a store in its own directory, with a clock the test can move.
struct Node {
    dir: tempfile::TempDir,
    store: Store,
    clock: Arc<AtomicU64>,
    offset: i64,
}

impl Node {
    fn new() -> Node {
        Node::with_offset(0)
    }

    /// A box whose clock runs `offset` ms from the real one (negative: behind).
    fn with_offset(offset: i64) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(AtomicU64::new(0));
        let store = open(dir.path(), &clock, offset);
        Node { dir, store, clock, offset }
    }

    /// Closes the store and opens it again (a restart).
    fn restart(self) -> Node {
        let Node { dir, store, clock, offset } = self;
        drop(store);
        let store = open(dir.path(), &clock, offset);
        Node { dir, store, clock, offset }
    }

    fn record(&self, school: SchoolId, scope: Scope, change: Change) -> Op {
        self.store.write(|tx| tx.record(school, scope, None, change.clone())).unwrap()
    }

    fn dump(&self) -> crate::store::dump::Dump {
        self.store.canonical_dump().unwrap()
    }
}

fn open(dir: &std::path::Path, clock: &Arc<AtomicU64>, offset: i64) -> Store {
    let fixed = Arc::clone(clock);
    Store::open_with_clock(
        dir,
        Arc::new(move || match fixed.load(Ordering::Relaxed) {
            0 => (wall_clock_ms() as i64 + offset).max(0) as u64,
            set => set,
        }),
    )
    .unwrap()
}

/// Pulls everything `grant` allows from `from` into `to`, page by page. `grant` is the one
/// `to` holds (its side of the pairing); `from` makes the pages with its own side of it.
fn pull(from: &Store, to: &Store, grant: &Grant, limits: Limits) -> Vec<ApplyReport> {
    let senders = match grant.offered_by {
        OfferedBy::Peer => grant.clone().offered_by(OfferedBy::Us),
        OfferedBy::Us => grant.clone().offered_by(OfferedBy::Peer),
    };
    let mut reports = Vec::new();
    for _ in 0..10_000 {
        let page = ops_missing(from, &positions(to, grant.school).unwrap(), &senders, limits).unwrap();
        if page.spans.is_empty() {
            // As `peers::sync::pull` does: a page with no operations may still say whom the
            // receiver may give new secrets.
            if page.wholly_inside.is_some() {
                apply_page(to, &page, grant).unwrap();
            }
            return reports;
        }
        reports.push(apply_page(to, &page, grant).unwrap());
    }
    panic!("sync did not finish");
}

/// Classes offered to this box by the box that holds the school (the receiver joined its
/// invitation): what it sends within them is the school's word.
fn offered(school: SchoolId, classes: impl IntoIterator<Item = ClassId>) -> Grant {
    from_the_school(Grant::classes(school, classes))
}

fn from_the_school(grant: Grant) -> Grant {
    grant.offered_by(OfferedBy::Peer)
}

fn small() -> Limits {
    Limits { max_ops: 3, max_bytes: 4 * 1024 * 1024 }
}

/// A school with two classes, X and Y, and people and work in both.
struct School {
    id: SchoolId,
    x: ClassId,
    y: ClassId,
    teacher_x: UserId,
    teacher_y: UserId,
    /// In X only.
    ana: UserId,
    /// In Y only.
    ben: UserId,
    /// In X and in Y.
    cleo: UserId,
    admin: UserId,
    family: UserId,
    ana_in_x: ArtifactId,
    ben_in_y: ArtifactId,
    cleo_in_x: ArtifactId,
    cleo_in_y: ArtifactId,
    cleo_alone: ArtifactId,
}

fn person(b: &Node, school: SchoolId, name: &str, role: Role) -> UserId {
    let user = UserId::new();
    b.record(
        school,
        Scope::Person(user),
        Change::UserCreated {
            user,
            username: name.to_lowercase(),
            display_name: name.to_string(),
            role,
            external_id: None,
        },
    );
    b.record(school, Scope::Person(user), Change::PasswordSet { user, hash: format!("hash-of-{name}") });
    user
}

fn class(b: &Node, school: SchoolId, name: &str) -> ClassId {
    let class = ClassId::new();
    b.record(
        school,
        Scope::Class(class),
        Change::ClassCreated { class, name: name.into(), join_code: format!("J{name}"), external_id: None },
    );
    class
}

fn join(b: &Node, school: SchoolId, class: ClassId, user: UserId, role: Role) {
    b.record(school, Scope::Class(class), Change::MemberAdded { class, user, role });
}

fn artifact(b: &Node, school: SchoolId, owner: UserId, class: Option<ClassId>, title: &str) -> ArtifactId {
    let id = ArtifactId::new();
    let artifact = Artifact {
        id,
        reflection: format!("reflection on {title}"),
        visibility: Visibility::Class,
        ..crate::samples::artifact(school, owner, class, title, Vec::new())
    };
    let scope = artifact.partition();
    b.record(school, scope, Change::ArtifactCreated { artifact: Box::new(artifact) });
    id
}

fn comment(b: &Node, school: SchoolId, artifact: ArtifactId, author: UserId, body: &str) {
    let scope = b.store.read(|r| r.artifact(artifact)).unwrap().unwrap().partition();
    let comment = Comment {
        id: CommentId::new(),
        artifact,
        version: None,
        author,
        kind: CommentKind::Feedback,
        body: body.into(),
        audio: None,
        approved: true,
        created_ms: 2,
    };
    b.record(school, scope, Change::CommentAdded { comment });
}

fn edit_title(b: &Node, school: SchoolId, artifact: ArtifactId, title: &str) -> Op {
    let scope = b.store.read(|r| r.artifact(artifact)).unwrap().unwrap().partition();
    b.record(school, scope, crate::samples::artifact_edit(artifact, Some(title), None))
}

/// Box A with the school, and box B that has pulled `grant` of it from A in small pages.
fn school_and_copy(grant: impl FnOnce(&School) -> Grant) -> (Node, School, Node, Grant) {
    let a = Node::new();
    let s = school(&a);
    let b = Node::new();
    let grant = grant(&s);
    pull(&a.store, &b.store, &grant, small());
    (a, s, b, grant)
}

fn school(b: &Node) -> School {
    let id = SchoolId::new();
    b.record(id, Scope::School, Change::SchoolCreated { name: "Hillside".into() });
    let admin = person(b, id, "Admin", Role::Admin);
    let x = class(b, id, "X");
    let y = class(b, id, "Y");
    let teacher_x = person(b, id, "Teacher-X", Role::Teacher);
    let teacher_y = person(b, id, "Teacher-Y", Role::Teacher);
    let ana = person(b, id, "Ana", Role::Student);
    let ben = person(b, id, "Ben", Role::Student);
    let cleo = person(b, id, "Cleo", Role::Student);
    let family = person(b, id, "Family-of-Ana", Role::Family);
    b.record(id, Scope::Person(ana), Change::FamilyLinked { family, student: ana });
    join(b, id, x, teacher_x, Role::Teacher);
    join(b, id, y, teacher_y, Role::Teacher);
    join(b, id, x, ana, Role::Student);
    join(b, id, y, ben, Role::Student);
    join(b, id, x, cleo, Role::Student);
    join(b, id, y, cleo, Role::Student);
    let ana_in_x = artifact(b, id, ana, Some(x), "Ana's bridge in X");
    let ben_in_y = artifact(b, id, ben, Some(y), "Ben's poem in Y");
    let cleo_in_x = artifact(b, id, cleo, Some(x), "Cleo's map in X");
    let cleo_in_y = artifact(b, id, cleo, Some(y), "Cleo's diary in Y");
    let cleo_alone = artifact(b, id, cleo, None, "Cleo's own sketch");
    comment(b, id, ana_in_x, teacher_x, "Well built, Ana");
    comment(b, id, cleo_in_y, teacher_y, "Feedback only Y may read");
    School {
        id,
        x,
        y,
        teacher_x,
        teacher_y,
        ana,
        ben,
        cleo,
        admin,
        family,
        ana_in_x,
        ben_in_y,
        cleo_in_x,
        cleo_in_y,
        cleo_alone,
    }
}

fn dump_text(b: &Node) -> String {
    b.dump().values().flatten().cloned().collect::<Vec<_>>().join("\n")
}

fn scopes_in_log(b: &Node) -> BTreeSet<Scope> {
    b.store
        .read(|r| r.positions(b.store.read(|r| Ok::<_, crate::store::StoreError>(r.schools()?[0].id))?))
        .unwrap()
        .into_iter()
        .map(|(p, _, _)| p)
        .collect()
}

#[test]
fn a_box_granted_class_x_receives_x_and_its_people_and_nothing_of_y() {
    let a = Node::new();
    let s = school(&a);
    let b = Node::new();
    pull(&a.store, &b.store, &offered(s.id, [s.x]), small());

    b.store
        .read(|r| {
            assert!(r.school(s.id)?.is_some());
            assert!(r.class(s.x)?.is_some());
            assert!(r.class(s.y)?.is_none(), "class Y itself does not travel");
            for present in [s.teacher_x, s.ana, s.cleo] {
                let user = r.user(present)?.expect("X's people can sign in there");
                assert!(user.password_hash.is_some());
            }
            for absent in [s.teacher_y, s.ben, s.admin, s.family] {
                assert!(r.user(absent)?.is_none(), "{absent:?} was never in X");
            }
            for present in [s.ana_in_x, s.cleo_in_x, s.cleo_alone] {
                assert!(r.artifact(present)?.is_some());
            }
            for absent in [s.ben_in_y, s.cleo_in_y] {
                assert!(r.artifact(absent)?.is_none(), "work posted in Y stays off a box for X");
            }
            assert_eq!(r.comments(s.ana_in_x)?.len(), 1);
            Ok::<_, crate::store::StoreError>(())
        })
        .unwrap();
    let text = dump_text(&b);
    for secret in ["Ben", "Teacher-Y", "Cleo's diary", "only Y may read", "poem", "Family-of-Ana", "\"Y\""] {
        assert!(!text.contains(secret), "{secret} reached the box granted X only");
    }
    let scopes = scopes_in_log(&b);
    assert!(!scopes.contains(&Scope::Class(s.y)) && !scopes.contains(&Scope::Person(s.ben)));

    // The same data, sent in one page: the roster arrives before the people it admits.
    let c = Node::new();
    let reports = pull(&a.store, &c.store, &offered(s.id, [s.x]), Limits::default());
    assert_eq!(reports.len(), 1);
    assert_eq!(c.dump(), b.dump());
}

#[test]
fn a_page_that_lies_is_refused_and_changes_nothing() {
    let (a, s, b, grant_x) = school_and_copy(|s| offered(s.id, [s.x]));
    let before = (b.dump(), b.store.read(|r| r.positions(s.id)).unwrap());

    // Another box's whole school sent under a grant of X.
    a.record(s.id, Scope::Class(s.y), Change::MemberAdded { class: s.y, user: s.ana, role: Role::Student });
    let everything = Grant::whole_school(s.id);
    let page = ops_missing(&a.store, &positions(&b.store, s.id).unwrap(), &everything, Limits::default()).unwrap();
    let err = apply_page(&b.store, &page, &grant_x).unwrap_err();
    assert!(matches!(err, SyncError::OutsideGrant { partition: Scope::Class(c), .. } if c == s.y), "{err}");

    // Work of class Y dressed up as class X's: the operation in A's page is swapped for it.
    let new_x = ArtifactId::new();
    let op = a.record(s.id, Scope::Class(s.x), Change::MemberAdded { class: s.x, user: s.ana, role: Role::Student });
    let mut lie = ops_missing(&a.store, &positions(&b.store, s.id).unwrap(), &grant_x, Limits::default()).unwrap();
    let mut artifact = a.store.read(|r| r.artifact(s.ben_in_y)).unwrap().unwrap();
    artifact.id = new_x;
    // Even with its own `scope` field claiming X.
    artifact.scope = Some(Scope::Class(s.x));
    let last = lie.ops.last_mut().unwrap();
    assert_eq!(last.id, op.id);
    *last = Op { change: Change::ArtifactCreated { artifact: Box::new(artifact) }, ..op };
    let err = apply_page(&b.store, &lie, &grant_x).unwrap_err();
    assert!(matches!(err, SyncError::Misfiled { claimed: Scope::Class(c), .. } if c == s.x), "{err}");

    // An edit of class X's work filed in a person's partition (which the grant admits).
    let honest = ops_missing(&a.store, &positions(&b.store, s.id).unwrap(), &grant_x, Limits::default()).unwrap();
    let mut refiled = honest.clone();
    let edit = edit_title(&a, s.id, s.ana_in_x, "Renamed");
    refiled.ops.push(Op { scope: Scope::Person(s.ana), ..edit.clone() });
    refiled.spans.push(Span {
        partition: Scope::Person(s.ana),
        origin: edit.id.replica,
        after: 0,
        through: edit.id.seq,
    });
    let err = apply_page(&b.store, &refiled, &grant_x).unwrap_err();
    assert!(matches!(err, SyncError::Misfiled { claimed: Scope::Person(p), .. } if p == s.ana), "{err}");

    // Operations claiming to come from the receiver itself.
    let mut forged = honest.clone();
    for op in &mut forged.ops {
        op.id.replica = b.store.replica();
    }
    for span in &mut forged.spans {
        span.origin = b.store.replica();
    }
    assert!(matches!(apply_page(&b.store, &forged, &grant_x).unwrap_err(), SyncError::ForgedOrigin));
    let mut forged_op_only = honest.clone();
    forged_op_only.ops[0].id.replica = b.store.replica();
    assert!(matches!(apply_page(&b.store, &forged_op_only, &grant_x).unwrap_err(), SyncError::ForgedOrigin));

    // A different operation under an id the receiver already holds.
    let mut collision = honest.clone();
    let held = b.store.read(|r| r.logged(crate::domain::OpId { replica: a.store.replica(), seq: 1 })).unwrap().unwrap();
    collision.spans.push(Span { partition: held.scope, origin: held.id.replica, after: 0, through: 1 });
    collision.ops.insert(0, Op { change: Change::SchoolCreated { name: "Impostor".into() }, ..held });
    assert!(matches!(
        apply_page(&b.store, &collision, &grant_x).unwrap_err(),
        SyncError::Store(crate::store::StoreError::Collision(_))
    ));

    // A page for another school.
    let mut elsewhere = honest.clone();
    elsewhere.school = SchoolId::new();
    assert!(matches!(apply_page(&b.store, &elsewhere, &grant_x).unwrap_err(), SyncError::WrongSchool));

    assert_eq!((b.dump(), b.store.read(|r| r.positions(s.id)).unwrap()), before, "refused pages changed nothing");
    // And the honest page still applies.
    apply_page(&b.store, &honest, &grant_x).unwrap();
    assert!(b.store.read(|r| r.artifact(new_x)).unwrap().is_none());
}

#[test]
fn an_interrupted_sync_resumes_and_a_repeated_page_changes_nothing() {
    let a = Node::new();
    let s = school(&a);
    for i in 0..20 {
        edit_title(&a, s.id, s.ana_in_x, &format!("Draft {i}"));
    }
    let whole = Grant::whole_school(s.id);
    let mut b = Node::new();
    let mut pages = Vec::new();
    for _ in 0..4 {
        let page = ops_missing(&a.store, &positions(&b.store, s.id).unwrap(), &whole, small()).unwrap();
        apply_page(&b.store, &page, &whole).unwrap();
        pages.push(page);
    }
    // The box restarts mid-sync (as after a power cut between pages).
    b = b.restart();
    let seen_before = b.store.read(|r| r.op_count()).unwrap();
    assert_eq!(seen_before, 12, "four pages of three");
    // Old pages again: nothing changes.
    let dump = b.dump();
    for page in &pages {
        let report = apply_page(&b.store, page, &whole).unwrap();
        assert_eq!(report.ops_received, 0);
        assert_eq!(report.ops_already_here, page.ops.len());
    }
    assert_eq!(b.dump(), dump);
    // It goes on from where it stopped: no page brings an operation twice.
    let rest = pull(&a.store, &b.store, &whole, small());
    assert!(rest.iter().all(|r| r.ops_already_here == 0));
    let total: usize = rest.iter().map(|r| r.ops_received).sum::<usize>() + 12;
    assert_eq!(total as u64, a.store.read(|r| r.op_count()).unwrap());
    assert_eq!(b.dump(), a.dump());
    assert_eq!(b.store.read(|r| r.artifact(s.ana_in_x)).unwrap().unwrap().title, "Draft 19");

    // A page made for a box that is further along leaves a hole here: refused.
    let c = Node::new();
    let ahead = ops_missing(&a.store, &positions(&b.store, s.id).unwrap(), &whole, small());
    assert!(ahead.unwrap().spans.is_empty(), "b has everything");
    edit_title(&a, s.id, s.ana_in_x, "Final");
    let for_b = ops_missing(&a.store, &positions(&b.store, s.id).unwrap(), &whole, small()).unwrap();
    let err = apply_page(&c.store, &for_b, &whole).unwrap_err();
    assert!(matches!(err, SyncError::Gap { have: 0, .. }), "{err}");
    assert!(c.dump().values().all(Vec::is_empty), "nothing was kept");
}

#[test]
fn operations_are_forwarded_with_their_origin_also_through_a_narrower_grant() {
    let a = Node::new();
    let s = school(&a);
    let b = Node::new();
    let c = Node::new();
    // B holds class X only; C pairs with B for the whole school and gets X through B.
    pull(&a.store, &b.store, &offered(s.id, [s.x]), small());
    pull(&b.store, &c.store, &Grant::whole_school(s.id), small());
    let cleo_in_x = c.store.read(|r| r.artifact(s.cleo_in_x)).unwrap();
    assert!(cleo_in_x.is_some());
    let from_a: Vec<_> = c.store.read(|r| r.positions(s.id)).unwrap().into_iter().map(|(_, o, _)| o).collect();
    assert!(from_a.iter().all(|o| *o == a.store.replica()), "origins stay A's");
    // Later C meets A itself: it receives the rest, nothing twice.
    let reports = pull(&a.store, &c.store, &Grant::whole_school(s.id), small());
    assert!(reports.iter().all(|r| r.ops_already_here == 0), "{reports:?}");
    assert_eq!(c.dump(), a.dump());
}

#[test]
fn an_erasure_reaches_a_box_granted_one_class_and_empties_it_there() {
    let (a, s, b, grant_x) = school_and_copy(|s| offered(s.id, [s.x]));
    let c = Node::new();
    pull(&a.store, &c.store, &Grant::whole_school(s.id), small());
    assert!(dump_text(&b).contains("Cleo's map"));
    a.record(s.id, Scope::School, Change::UserErased { user: s.cleo });
    pull(&a.store, &b.store, &grant_x, small());
    // An edit of her work made on a third box that had not heard of the erasure yet, and a
    // comment of hers written there: both arrive after the erasure, and are refused.
    edit_title(&c, s.id, s.cleo_in_x, "Secret title written on C");
    comment(&c, s.id, s.ana_in_x, s.cleo, "Cleo's late comment");
    let late = pull(&c.store, &b.store, &grant_x, small());
    assert_eq!(late.iter().map(|r| r.ops_refused_erased).sum::<usize>(), 2, "{late:?}");
    // And when C hears of the erasure, it ends up where B is.
    pull(&a.store, &c.store, &Grant::whole_school(s.id), small());
    assert!(!dump_text(&c).contains("Secret title") && !dump_text(&c).contains("late comment"));
    let text = dump_text(&b);
    for gone in ["Cleo", "cleo", "hash-of-Cleo", "Secret title"] {
        assert!(!text.contains(gone), "{gone} outlived the erasure on the class box");
    }
    b.store
        .read(|r| {
            assert!(r.user(s.cleo)?.is_none());
            assert!(r.artifact(s.cleo_in_x)?.is_none());
            assert!(r.people_of_class(s.x)?.iter().all(|p| *p != s.cleo));
            Ok::<_, crate::store::StoreError>(())
        })
        .unwrap();
}

#[test]
fn a_clock_far_ahead_is_not_adopted_and_is_reported() {
    const HOUR: i64 = 60 * 60 * 1000;
    let ahead = Node::with_offset(HOUR);
    let s = school(&ahead);
    edit_title(&ahead, s.id, s.ana_in_x, "Edited on the box an hour ahead");
    let here = Node::new();
    let whole = Grant::whole_school(s.id);
    let reports = pull(&ahead.store, &here.store, &whole, Limits::default());
    let report = &reports[0];
    assert_eq!(report.clocks_ahead.len(), 1);
    assert_eq!(report.clocks_ahead[0].origin, ahead.store.replica());
    let by = report.clocks_ahead[0].ahead_ms as i64;
    assert!((HOUR - 60_000..HOUR + 60_000).contains(&by), "reported {by} ms ahead");
    // Our next edit keeps our own time: it is not dragged an hour ahead...
    let ours = edit_title(&here, s.id, s.ana_in_x, "Edited here, later in real time");
    assert!(ours.hlc.ms < wall_clock_ms() + 60_000);
    // ...so the box from the future wins that field until its clock is put right, but no
    // other box's clock was moved.
    assert_eq!(here.store.read(|r| r.artifact(s.ana_in_x)).unwrap().unwrap().title, "Edited on the box an hour ahead");

    // A clock a little ahead (two minutes) is adopted: our next edit comes after it.
    let slightly = Node::with_offset(2 * 60 * 1000);
    let s2 = school(&slightly);
    let reports = pull(&slightly.store, &here.store, &Grant::whole_school(s2.id), Limits::default());
    assert!(reports[0].clocks_ahead.is_empty());
    let theirs = slightly.store.read(|r| r.artifact(s2.ana_in_x)).unwrap().unwrap();
    let edit = edit_title(&here, s2.id, s2.ana_in_x, "After theirs");
    assert!(edit.hlc.ms >= theirs.created_ms.max(wall_clock_ms() + 60_000));
    assert_eq!(here.store.read(|r| r.artifact(s2.ana_in_x)).unwrap().unwrap().title, "After theirs");
    const { assert!(MAX_REMOTE_DRIFT_MS == 5 * 60 * 1000) };
}

#[test]
fn a_box_that_wakes_up_in_1970_does_not_reorder_what_it_has_seen() {
    let a = Node::new();
    let s = school(&a);
    let b = Node::new();
    let whole = Grant::whole_school(s.id);
    pull(&a.store, &b.store, &whole, Limits::default());
    // B loses its clock (no battery): it believes it is 1970.
    b.clock.store(1, Ordering::Relaxed);
    let edit = edit_title(&b, s.id, s.ana_in_x, "Edited on the box in 1970");
    assert!(edit.hlc > a.store.read(|r| r.logged(seen_op(&a, s.ana_in_x))).unwrap().unwrap().hlc);
    assert_eq!(b.store.read(|r| r.artifact(s.ana_in_x)).unwrap().unwrap().title, "Edited on the box in 1970");
    // Its edit reaches A and wins there too: it came after everything it had seen.
    pull(&b.store, &a.store, &whole, Limits::default());
    assert_eq!(a.store.read(|r| r.artifact(s.ana_in_x)).unwrap().unwrap().title, "Edited on the box in 1970");

    // A new box that never knew the time sees every peer "ahead" by decades.
    let lost = Node::new();
    lost.clock.store(1, Ordering::Relaxed);
    let reports = pull(&a.store, &lost.store, &whole, Limits::default());
    assert!(reports[0].clocks_ahead.iter().any(|c| c.ahead_ms > 50 * 365 * 24 * 3600 * 1000));
}

/// The id of the operation that created an artifact.
fn seen_op(b: &Node, artifact: ArtifactId) -> crate::domain::OpId {
    let school = b.store.read(|r| r.artifact(artifact)).unwrap().unwrap().school;
    let partition = b.store.read(|r| r.artifact(artifact)).unwrap().unwrap().partition();
    let ops = b.store.read(|r| r.logged_in(school, partition, b.store.replica(), 0, u64::MAX, usize::MAX)).unwrap();
    ops.into_iter()
        .map(|(op, _)| op)
        .find(|op| matches!(&op.change, Change::ArtifactCreated { artifact: a } if a.id == artifact))
        .unwrap()
        .id
}

#[test]
fn pages_keep_to_their_limits() {
    let a = Node::new();
    let s = school(&a);
    let reflection = "x".repeat(10_000);
    for _ in 0..5 {
        let scope = Scope::Class(s.x);
        a.record(s.id, scope, crate::samples::artifact_edit(s.ana_in_x, None, Some(&reflection)));
    }
    let whole = Grant::whole_school(s.id);
    let b = Node::new();
    let limits = Limits { max_ops: 500, max_bytes: 25_000 };
    let reports = pull(&a.store, &b.store, &whole, limits);
    assert!(reports.len() >= 3, "each page holds at most two 10 kB edits: {}", reports.len());
    let page = ops_missing(&a.store, &positions(&Node::new().store, s.id).unwrap(), &whole, Limits::default()).unwrap();
    assert!(!page.more && page.ops.len() < 500);
    let page = ops_missing(
        &a.store,
        &positions(&Node::new().store, s.id).unwrap(),
        &whole,
        Limits { max_ops: 7, ..Limits::default() },
    )
    .unwrap();
    assert_eq!(page.ops.len(), 7);
    assert!(page.more);
    assert_eq!(b.dump(), a.dump());
}

fn edit_reflection(b: &Node, school: SchoolId, artifact: ArtifactId, text: &str) -> Op {
    let scope = b.store.read(|r| r.artifact(artifact)).unwrap().unwrap().partition();
    b.record(school, scope, crate::samples::artifact_edit(artifact, None, Some(text)))
}

#[test]
fn a_reflection_that_loses_a_concurrent_edit_is_kept_for_its_author() {
    let (a, s, b, whole) = school_and_copy(|s| Grant::whole_school(s.id));
    // Written one after the other on one box: the first is simply replaced.
    edit_reflection(&a, s.id, s.ana_in_x, "First thoughts");
    edit_reflection(&a, s.id, s.ana_in_x, "Second thoughts");
    pull(&a.store, &b.store, &whole, small());
    // Then, on both boxes at once, without seeing each other's.
    edit_reflection(&a, s.id, s.ana_in_x, "Written at school");
    std::thread::sleep(std::time::Duration::from_millis(5));
    edit_reflection(&b, s.id, s.ana_in_x, "Written on the trip");
    pull(&a.store, &b.store, &whole, small());
    pull(&b.store, &a.store, &whole, small());
    for node in [&a, &b] {
        let artifact = node.store.read(|r| r.artifact(s.ana_in_x)).unwrap().unwrap();
        assert_eq!(artifact.reflection, "Written on the trip", "the later one wins");
        assert_eq!(artifact.reflection_conflicts, vec!["Written at school".to_string()]);
        let kept = node.store.read(|r| r.reflection_conflicts(s.ana_in_x)).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].1.text, "Written at school");
    }
    assert_eq!(a.dump(), b.dump());
    // Writing on top of both settles it.
    edit_reflection(&a, s.id, s.ana_in_x, "Both, merged by Ana");
    pull(&a.store, &b.store, &whole, small());
    let artifact = b.store.read(|r| r.artifact(s.ana_in_x)).unwrap().unwrap();
    assert!(artifact.reflection_conflicts.is_empty());
    assert!(b.store.read(|r| r.reflection_conflicts(s.ana_in_x)).unwrap().is_empty());
}

#[test]
fn a_username_taken_on_two_boxes_at_once_goes_to_the_same_account_everywhere() {
    let (a, s, b, whole) = school_and_copy(|s| Grant::whole_school(s.id));
    let on_a = person(&a, s.id, "Dana", Role::Student);
    let on_b = person(&b, s.id, "Dana", Role::Student);
    pull(&a.store, &b.store, &whole, small());
    pull(&b.store, &a.store, &whole, small());
    let holder = |n: &Node| n.store.read(|r| r.user_by_username(s.id, "dana")).unwrap().unwrap().id;
    assert_eq!(holder(&a), on_a.min(on_b));
    assert_eq!(holder(&b), on_a.min(on_b));
    // Erasing the holder hands the name to the other.
    a.record(s.id, Scope::School, Change::UserErased { user: on_a.min(on_b) });
    pull(&a.store, &b.store, &whole, small());
    assert_eq!(holder(&a), on_a.max(on_b));
    assert_eq!(holder(&b), on_a.max(on_b));
    assert_eq!(a.dump(), b.dump());
}

mod class_box;
mod report_rows;
