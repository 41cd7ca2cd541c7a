//! Sync between real stores in temporary directories: grants, refused pages, resuming,
//! forwarding, erasure and clocks. The property test of convergence is in
//! `tests/integration/sync_core.rs`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::domain::hlc::{MAX_REMOTE_DRIFT_MS, wall_clock_ms};
use crate::domain::{
    Artifact, ArtifactId, Change, ClassId, Comment, CommentId, CommentKind, Op, Role, SchoolId, UserId, Version,
    VersionId, Visibility,
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
        self.store.write(|tx| tx.record(school, scope, None, change)).unwrap()
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
        school,
        owners: vec![owner],
        class,
        activity: None,
        title: title.into(),
        reflection: format!("reflection on {title}"),
        tags: BTreeSet::new(),
        skills: BTreeSet::new(),
        visibility: Visibility::Class,
        kind: "text".into(),
        approved: false,
        reviewed: false,
        versions: vec![Version {
            id: VersionId::new(),
            note: String::new(),
            files: Vec::new(),
            author: owner,
            created_ms: 1,
        }],
        created_ms: 1,
        updated_ms: 1,
        deleted: false,
        reflection_conflicts: Vec::new(),
        field_clock: Default::default(),
        scope: None,
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
    b.record(
        school,
        scope,
        Change::ArtifactEdited {
            artifact,
            title: Some(title.into()),
            reflection: None,
            tags: None,
            skills: None,
            visibility: None,
            reflection_base: None,
            needs_review: false,
        },
    )
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
    let a = Node::new();
    let s = school(&a);
    let b = Node::new();
    let grant_x = offered(s.id, [s.x]);
    pull(&a.store, &b.store, &grant_x, small());
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
    let a = Node::new();
    let s = school(&a);
    let b = Node::new();
    let grant_x = offered(s.id, [s.x]);
    let c = Node::new();
    pull(&a.store, &b.store, &grant_x, small());
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
        a.record(
            s.id,
            scope,
            Change::ArtifactEdited {
                artifact: s.ana_in_x,
                title: None,
                reflection: Some(reflection.clone()),
                tags: None,
                skills: None,
                visibility: None,
                reflection_base: None,
                needs_review: false,
            },
        );
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
    b.record(
        school,
        scope,
        Change::ArtifactEdited {
            artifact,
            title: None,
            reflection: Some(text.into()),
            tags: None,
            skills: None,
            visibility: None,
            reflection_base: None,
            needs_review: false,
        },
    )
}

#[test]
fn a_reflection_that_loses_a_concurrent_edit_is_kept_for_its_author() {
    let a = Node::new();
    let s = school(&a);
    let b = Node::new();
    let whole = Grant::whole_school(s.id);
    pull(&a.store, &b.store, &whole, small());
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
    let a = Node::new();
    let s = school(&a);
    let b = Node::new();
    let whole = Grant::whole_school(s.id);
    pull(&a.store, &b.store, &whole, small());
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

// A box offered one class acts only inside it. The three attacks a class box made on the box
// holding the school, each refused whole; then what a class box legitimately sends.

/// Box M holds the whole school; box B was offered class X by it and holds X.
fn school_and_class_box() -> (Node, School, Node) {
    let m = Node::new();
    let s = school(&m);
    let b = Node::new();
    pull(&m.store, &b.store, &offered(s.id, [s.x]), small());
    (m, s, b)
}

/// What B pushes to M: every operation of B's that M lacks, under the grant M gave B.
fn push_page(b: &Node, m: &Node, grant: &Grant) -> Page {
    ops_missing(&b.store, &positions(&m.store, grant.school).unwrap(), grant, Limits::default()).unwrap()
}

fn refused_whole(m: &Node, page: &Page, grant: &Grant, kind: &str) -> String {
    let before = (m.dump(), m.store.read(|r| r.positions(grant.school)).unwrap());
    let err = apply_page(&m.store, page, grant).expect_err("the page was refused");
    let text = err.to_string();
    assert!(text.contains(kind), "the refusal names the operation's kind {kind}: {text}");
    assert_eq!((m.dump(), m.store.read(|r| r.positions(grant.school)).unwrap()), before, "nothing was kept");
    text
}

#[test]
fn a_class_box_cannot_erase_a_student_of_another_class() {
    let (m, s, b) = school_and_class_box();
    let grant_x = Grant::classes(s.id, [s.x]);
    // Work of its own class first, so the forbidden operation is not the page's first.
    edit_title(&b, s.id, s.ana_in_x, "Ana's bridge, finished");
    b.record(s.id, Scope::School, Change::UserErased { user: s.ben });
    let page = push_page(&b, &m, &grant_x);
    let text = refused_whole(&m, &page, &grant_x, "user_erased");
    assert!(text.contains("erases a person"), "{text}");
    assert!(m.store.read(|r| r.user(s.ben)).unwrap().is_some(), "Ben is still there");
    assert_eq!(m.store.read(|r| r.artifact(s.ana_in_x)).unwrap().unwrap().title, "Ana's bridge in X");
}

#[test]
fn a_class_box_cannot_enrol_an_admin_and_set_their_password() {
    let (m, s, b) = school_and_class_box();
    let grant_x = Grant::classes(s.id, [s.x]);
    b.record(s.id, Scope::Class(s.x), Change::MemberAdded { class: s.x, user: s.admin, role: Role::Teacher });
    b.record(
        s.id,
        Scope::Person(s.admin),
        Change::PasswordSet { user: s.admin, hash: "chosen-by-the-class-box".into() },
    );
    let page = push_page(&b, &m, &grant_x);
    assert!(page.ops.iter().any(|op| matches!(op.change, Change::PasswordSet { user, .. } if user == s.admin)));
    refused_whole(&m, &page, &grant_x, "member_added");
    // Without the enrolment, the password alone: the admin is outside the grant.
    let only_password = Page {
        spans: page.spans.iter().filter(|sp| sp.partition == Scope::Person(s.admin)).copied().collect(),
        ops: page.ops.iter().filter(|op| op.scope == Scope::Person(s.admin)).cloned().collect(),
        ..page.clone()
    };
    refused_whole(&m, &only_password, &grant_x, "");
    let admin = m.store.read(|r| r.user(s.admin)).unwrap().unwrap();
    assert_eq!(admin.password_hash.as_deref(), Some("hash-of-Admin"), "the admin's password is the school's");
    assert!(m.store.read(|r| r.classes_of(s.admin)).unwrap().is_empty());
}

#[test]
fn a_class_box_cannot_pull_another_class_student_into_its_class() {
    let (m, s, b) = school_and_class_box();
    let grant_x = Grant::classes(s.id, [s.x]);
    b.record(s.id, Scope::Class(s.x), Change::MemberAdded { class: s.x, user: s.ben, role: Role::Student });
    // ...and, in the same page, acts on him as if he had always been in X.
    b.record(s.id, Scope::Person(s.ben), Change::PicturesSet { user: s.ben, hash: "pictures-chosen-there".into() });
    let page = push_page(&b, &m, &grant_x);
    refused_whole(&m, &page, &grant_x, "member_added");
    m.store
        .read(|r| {
            assert!(r.people_of_class(s.x)?.iter().all(|p| *p != s.ben), "Ben is not in X");
            assert_eq!(r.user(s.ben)?.unwrap().pictures_hash, None);
            Ok::<_, crate::store::StoreError>(())
        })
        .unwrap();
}

#[test]
fn a_class_box_sends_its_class_work_and_its_own_students_secrets() {
    let (m, s, b) = school_and_class_box();
    let grant_x = Grant::classes(s.id, [s.x]);
    edit_title(&b, s.id, s.ana_in_x, "Ana's bridge, finished");
    comment(&b, s.id, s.ana_in_x, s.teacher_x, "Lovely arches");
    edit_title(&b, s.id, s.cleo_alone, "Cleo's sketch, edited on the class box");
    artifact(&b, s.id, s.ana, Some(s.x), "Ana's new work on the class box");
    b.record(
        s.id,
        Scope::Class(s.x),
        Change::ClassSettingsChanged { class: s.x, require_approval: Some(true), comments_allowed: None },
    );
    // A teacher resets Ana's pictures on the box the class tablets use: Ana is in X alone.
    b.record(s.id, Scope::Person(s.ana), Change::PicturesSet { user: s.ana, hash: "new-pictures".into() });
    let page = push_page(&b, &m, &grant_x);
    apply_page(&m.store, &page, &grant_x).unwrap();
    m.store
        .read(|r| {
            assert_eq!(r.artifact(s.ana_in_x)?.unwrap().title, "Ana's bridge, finished");
            assert_eq!(r.artifact(s.cleo_alone)?.unwrap().title, "Cleo's sketch, edited on the class box");
            assert_eq!(r.comments(s.ana_in_x)?.len(), 2);
            assert_eq!(r.user(s.ana)?.unwrap().pictures_hash.as_deref(), Some("new-pictures"));
            Ok::<_, crate::store::StoreError>(())
        })
        .unwrap();

    // Cleo is in Y too: her account reaches Y, so her secrets are not the class box's to set.
    b.record(s.id, Scope::Person(s.cleo), Change::PasswordSet { user: s.cleo, hash: "set-on-the-class-box".into() });
    let page = push_page(&b, &m, &grant_x);
    let text = refused_whole(&m, &page, &grant_x, "password_set");
    assert!(text.contains("not a student of the granted classes alone"), "{text}");
    // Nor is a teacher's, nor an account's name.
    for change in [
        Change::PasswordSet { user: s.teacher_x, hash: "x".into() },
        Change::UserRenamed { user: s.ana, display_name: "Someone else".into() },
        Change::UserDisabled { user: s.ana, disabled: true },
    ] {
        let c = Node::new();
        pull(&m.store, &c.store, &offered(s.id, [s.x]), small());
        let user = match &change {
            Change::PasswordSet { user, .. } | Change::UserRenamed { user, .. } | Change::UserDisabled { user, .. } => {
                *user
            }
            _ => unreachable!(),
        };
        let kind = change.kind();
        c.record(s.id, Scope::Person(user), change);
        refused_whole(&m, &push_page(&c, &m, &grant_x), &grant_x, kind);
    }
}

#[test]
fn the_box_holding_the_school_brings_a_new_student_to_the_class_box_in_one_page() {
    let (m, s, b) = school_and_class_box();
    let dana = person(&m, s.id, "Dana", Role::Student);
    join(&m, s.id, s.x, dana, Role::Student);
    let reports = pull(&m.store, &b.store, &offered(s.id, [s.x]), Limits::default());
    assert_eq!(reports.len(), 1);
    assert!(b.store.read(|r| r.user(dana)).unwrap().unwrap().password_hash.is_some());
    assert!(b.store.read(|r| r.people_of_class(s.x)).unwrap().contains(&dana));
}

// The class box keeps the rule itself: what the box holding the school would refuse is never
// recorded on the class box, so it cannot wedge the pushes that follow.

/// `b`'s half of a pairing in which it joined an invitation offering `scope` (the peer holds
/// the school).
fn remember_joined(b: &Node, scope: crate::peers::PeerScope) {
    let peer = crate::peers::Peer {
        id: crate::peers::BoxId([7; 32]),
        cert_der: Vec::new(),
        scope,
        offered_by: OfferedBy::Peer,
        addresses: Vec::new(),
        paired_ms: 1,
        status: Default::default(),
    };
    b.store.write(|tx| crate::store::peers::put_peer(tx.txn(), &peer)).unwrap();
}

fn try_record(b: &Node, school: SchoolId, scope: Scope, author: UserId, change: Change) -> Result<Op, StoreError> {
    b.store.write(|tx| tx.record(school, scope, Some(author), change))
}

#[test]
fn a_class_box_refuses_to_record_what_the_school_box_would_refuse_and_sync_goes_on() {
    let (m, s, b) = school_and_class_box();
    remember_joined(&b, crate::peers::PeerScope::Classes([(s.id, s.x)].into()));
    let grant_x = Grant::classes(s.id, [s.x]);
    let before = (b.dump(), b.store.read(|r| r.positions(s.id)).unwrap());

    // X's teacher adds a new student on the class box: refused, in plain words.
    let dana = UserId::new();
    let new_student = Change::UserCreated {
        user: dana,
        username: "dana".into(),
        display_name: "Dana".into(),
        role: Role::Student,
        external_id: None,
    };
    let err = try_record(&b, s.id, Scope::Person(dana), s.teacher_x, new_student).expect_err("refused");
    assert!(matches!(err, StoreError::WholeSchoolOnly { kind: "user_created", .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("This box holds only some classes of the school; add new people"), "{text}");
    assert!(text.contains("main box"), "{text}");
    let shown = crate::error::Error::from(err);
    assert_eq!((shown.code(), shown.status_code().as_u16()), ("whole_school_only", 409));

    // So is everything else the school box would refuse from it.
    let new_class = ClassId::new();
    for (scope, change) in [
        (Scope::Class(s.x), Change::MemberAdded { class: s.x, user: s.ben, role: Role::Student }),
        (Scope::Class(s.x), Change::MemberAdded { class: s.x, user: s.admin, role: Role::Teacher }),
        (Scope::Person(s.admin), Change::PasswordSet { user: s.admin, hash: "x".into() }),
        (Scope::Person(s.teacher_x), Change::PasswordSet { user: s.teacher_x, hash: "x".into() }),
        (Scope::Person(s.ana), Change::UserRenamed { user: s.ana, display_name: "Someone else".into() }),
        (Scope::Person(s.ana), Change::UserDisabled { user: s.ana, disabled: true }),
        (Scope::Person(s.ana), Change::FamilyLinked { family: s.family, student: s.ana }),
        (Scope::School, Change::UserErased { user: s.ben }),
        (Scope::School, Change::SchoolCreated { name: "Renamed".into() }),
        (
            Scope::Class(new_class),
            Change::ClassCreated { class: new_class, name: "Z".into(), join_code: "JZ".into(), external_id: None },
        ),
    ] {
        let kind = change.kind();
        let err = try_record(&b, s.id, scope, s.teacher_x, change).expect_err(kind);
        assert!(matches!(err, StoreError::WholeSchoolOnly { kind: k, .. } if k == kind), "{kind}: {err:?}");
    }
    assert_eq!((b.dump(), b.store.read(|r| r.positions(s.id)).unwrap()), before, "nothing was recorded");

    // Class work still records on the class box, and its page applies on the school's box.
    edit_title(&b, s.id, s.ana_in_x, "Ana's bridge, finished");
    comment(&b, s.id, s.ana_in_x, s.teacher_x, "Lovely arches");
    artifact(&b, s.id, s.ana, Some(s.x), "Ana's new work on the class box");
    b.record(s.id, Scope::Person(s.ana), Change::PicturesSet { user: s.ana, hash: "new-pictures".into() });
    apply_page(&m.store, &push_page(&b, &m, &grant_x), &grant_x).unwrap();
    assert_eq!(m.store.read(|r| r.artifact(s.ana_in_x)).unwrap().unwrap().title, "Ana's bridge, finished");

    // The new student is added where the school is held; the class box receives her (what
    // it receives is not judged by its own limit) and may then give her new pictures.
    let dana = person(&m, s.id, "Dana", Role::Student);
    join(&m, s.id, s.x, dana, Role::Student);
    pull(&m.store, &b.store, &offered(s.id, [s.x]), small());
    assert!(b.store.read(|r| r.people_of_class(s.x)).unwrap().contains(&dana));
    b.record(s.id, Scope::Person(dana), Change::PicturesSet { user: dana, hash: "dana-pictures".into() });
    apply_page(&m.store, &push_page(&b, &m, &grant_x), &grant_x).unwrap();
    assert_eq!(m.store.read(|r| r.user(dana)).unwrap().unwrap().pictures_hash.as_deref(), Some("dana-pictures"));
}

#[test]
fn a_box_holding_the_whole_school_or_offering_classes_is_not_limited() {
    for (scope, offered_by) in [
        (crate::peers::PeerScope::WholeSchools, OfferedBy::Peer),
        (crate::peers::PeerScope::WholeSchools, OfferedBy::Us),
        (crate::peers::PeerScope::Classes(BTreeSet::new()), OfferedBy::Us),
    ] {
        let m = Node::new();
        let s = school(&m);
        let scope = match scope {
            crate::peers::PeerScope::Classes(_) => crate::peers::PeerScope::Classes([(s.id, s.x)].into()),
            whole => whole,
        };
        let peer = crate::peers::Peer {
            id: crate::peers::BoxId([9; 32]),
            cert_der: Vec::new(),
            scope,
            offered_by,
            addresses: Vec::new(),
            paired_ms: 1,
            status: Default::default(),
        };
        m.store.write(|tx| crate::store::peers::put_peer(tx.txn(), &peer)).unwrap();
        let dana = person(&m, s.id, "Dana", Role::Student);
        join(&m, s.id, s.x, dana, Role::Student);
        m.record(s.id, Scope::School, Change::UserErased { user: s.ben });
    }
}

#[test]
fn a_class_box_cannot_declare_that_we_hold_another_box_s_later_operations() {
    let (m, s, b) = school_and_class_box();
    let grant_x = Grant::classes(s.id, [s.x]);
    let third = ReplicaId::random();
    // No operations, only a run claiming a third box's school operations up to a far number:
    // accepted, we would never ask anyone for that box's erasures or settings again.
    let page = Page {
        school: s.id,
        spans: vec![Span { partition: Scope::School, origin: third, after: 0, through: 1_000_000 }],
        ops: Vec::new(),
        more: false,
        wholly_inside: None,
    };
    refused_whole(&m, &page, &grant_x, "");
    // Honest pages of the class box still apply.
    edit_title(&b, s.id, s.ana_in_x, "Ana's bridge, finished");
    apply_page(&m.store, &push_page(&b, &m, &grant_x), &grant_x).expect("class work applies");
    assert_eq!(m.store.read(|r| r.position(s.id, Scope::School, third)).unwrap(), 0);
}

#[test]
fn a_class_box_cannot_make_work_for_the_whole_school() {
    let (m, s, b) = school_and_class_box();
    let grant_x = Grant::classes(s.id, [s.x]);
    let id = artifact(&b, s.id, s.ana, None, "Notice for everyone");
    let made = b.store.read(|r| r.artifact(id)).unwrap().unwrap();
    let everyone = Artifact { owners: Vec::new(), id: ArtifactId::new(), scope: None, ..made };
    assert_eq!(everyone.partition(), Scope::School);
    b.record(s.id, Scope::School, Change::ArtifactCreated { artifact: Box::new(everyone) });
    let page = push_page(&b, &m, &grant_x);
    let text = refused_whole(&m, &page, &grant_x, "artifact_created");
    assert!(text.contains("whole school"), "{text}");
}

#[test]
fn a_card_hash_copied_onto_a_student_signs_nobody_in_as_that_student() {
    let (m, s, b) = school_and_class_box();
    let grant_x = Grant::classes(s.id, [s.x]);
    // The teacher of X has a card, made on the school's box; the class box receives it.
    let card = blake3::hash(b"the teacher's card").to_hex().to_string();
    m.record(s.id, Scope::Person(s.teacher_x), Change::QrCardIssued { user: s.teacher_x, token_hash: card.clone() });
    pull(&m.store, &b.store, &offered(s.id, [s.x]), small());
    // The class box names that hash as Ana's card (Ana is a student of X alone: allowed).
    b.record(s.id, Scope::Person(s.ana), Change::QrCardIssued { user: s.ana, token_hash: card.clone() });
    apply_page(&m.store, &push_page(&b, &m, &grant_x), &grant_x).expect("a card for Ana is X's to give");
    let key = *blake3::Hash::from_hex(&card).unwrap().as_bytes();
    let signed_in = m.store.read(|r| r.user_by_qr_hash(key)).unwrap().map(|u| u.id);
    assert_eq!(signed_in, Some(s.teacher_x), "the teacher's card still signs in the teacher, never Ana");
}

#[test]
fn a_student_is_wholly_inside_only_by_every_place_they_had_and_where_their_work_lies() {
    let (m, s, b) = school_and_class_box();
    let grant_x = Grant::classes(s.id, [s.x]);
    // Dan was in Y, left it, and is in X now: his account still reaches his old work in Y.
    let dan = person(&m, s.id, "Dan", Role::Student);
    join(&m, s.id, s.y, dan, Role::Student);
    artifact(&m, s.id, dan, Some(s.y), "Dan's old poem in Y");
    m.record(s.id, Scope::Class(s.y), Change::MemberRemoved { class: s.y, user: dan });
    join(&m, s.id, s.x, dan, Role::Student);
    // Eve is in X only, but a teacher of Y filed work of hers in Y.
    let eve = person(&m, s.id, "Eve", Role::Student);
    join(&m, s.id, s.x, eve, Role::Student);
    artifact(&m, s.id, eve, Some(s.y), "Eve's work filed in Y");
    // Ana left X and has no place anywhere now: not X's to look after.
    m.record(s.id, Scope::Class(s.x), Change::MemberRemoved { class: s.x, user: s.ana });
    pull(&m.store, &b.store, &offered(s.id, [s.x]), small());

    for (who, name) in [(dan, "Dan"), (eve, "Eve"), (s.ana, "Ana")] {
        let c = Node::new();
        pull(&m.store, &c.store, &offered(s.id, [s.x]), small());
        c.record(s.id, Scope::Person(who), Change::PicturesSet { user: who, hash: "set-on-the-class-box".into() });
        let text = refused_whole(&m, &push_page(&c, &m, &grant_x), &grant_x, "pictures_set");
        assert!(text.contains("not a student of the granted classes alone"), "{name}: {text}");
    }
    m.store
        .read(|r| {
            let admitted = grant_x.admitted(r, &[])?;
            for (who, inside) in [(dan, false), (eve, false), (s.ana, false), (s.cleo, false), (s.teacher_x, false)] {
                assert_eq!(crate::store::grant::student_wholly_inside(r, &grant_x, &admitted, who)?, inside);
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    // A student of X alone, with work only in X and of her own, still is.
    let fay = person(&m, s.id, "Fay", Role::Student);
    join(&m, s.id, s.x, fay, Role::Student);
    artifact(&m, s.id, fay, Some(s.x), "Fay's work in X");
    artifact(&m, s.id, fay, None, "Fay's own sketch");
    let inside = m
        .store
        .read(|r| crate::store::grant::student_wholly_inside(r, &grant_x, &grant_x.admitted(r, &[])?, fay))
        .unwrap();
    assert!(inside);
}

#[test]
fn a_class_box_gives_secrets_only_to_students_the_school_box_says_are_its_alone() {
    let (m, s, b) = school_and_class_box();
    remember_joined(&b, crate::peers::PeerScope::Classes([(s.id, s.x)].into()));
    let grant_x = Grant::classes(s.id, [s.x]);
    let from_m = offered(s.id, [s.x]);
    pull(&m.store, &b.store, &from_m, small());
    let told = b.store.read(|r| crate::store::peers::wholly_inside(r, s.id)).unwrap();
    assert_eq!(told, [s.ana].into(), "Ana is X's alone; Cleo is in Y too; teachers are not students");

    // Cleo's place in Y is not among the class box's rows, so she looks like X's alone there;
    // a new password for her would be refused by the school's box and wedge every push.
    let cleo_password = Change::PasswordSet { user: s.cleo, hash: "set-on-the-class-box".into() };
    let err = try_record(&b, s.id, Scope::Person(s.cleo), s.teacher_x, cleo_password).expect_err("refused here");
    assert!(matches!(err, StoreError::WholeSchoolOnly { kind: "password_set", .. }), "{err:?}");
    assert!(err.to_string().contains("in its classes alone"), "{err}");
    b.record(s.id, Scope::Person(s.ana), Change::PicturesSet { user: s.ana, hash: "new-pictures".into() });
    apply_page(&m.store, &push_page(&b, &m, &grant_x), &grant_x).expect("the push is not wedged");
    assert_eq!(m.store.read(|r| r.user(s.ana)).unwrap().unwrap().pictures_hash.as_deref(), Some("new-pictures"));

    // The school gives Ana a place in Y: nothing of Y reaches the class box, but the word does.
    join(&m, s.id, s.y, s.ana, Role::Student);
    pull(&m.store, &b.store, &from_m, small());
    assert!(b.store.read(|r| crate::store::peers::wholly_inside(r, s.id)).unwrap().is_empty());
    assert!(b.store.read(|r| r.classes_of(s.ana)).unwrap().iter().all(|(c, _)| c.id == s.x), "Y stays unseen");
    let ana_card = Change::QrCardIssued { user: s.ana, token_hash: "card".into() };
    let err = try_record(&b, s.id, Scope::Person(s.ana), s.teacher_x, ana_card).expect_err("refused here");
    assert!(matches!(err, StoreError::WholeSchoolOnly { kind: "qr_card_issued", .. }), "{err:?}");
    edit_title(&b, s.id, s.ana_in_x, "Ana's bridge, finished");
    apply_page(&m.store, &push_page(&b, &m, &grant_x), &grant_x).expect("the push is not wedged");

    // A page from a box we offered classes has no say in whom we may give secrets.
    let c = Node::new();
    pull(&m.store, &c.store, &from_m, small());
    let mut page = push_page(&c, &m, &grant_x);
    page.wholly_inside = Some([s.cleo].into());
    apply_page(&m.store, &page, &grant_x).unwrap();
    assert!(m.store.read(|r| crate::store::peers::wholly_inside(r, s.id)).unwrap().is_empty());
}

#[test]
fn only_the_box_holding_the_school_offers_classes_and_only_another_box_joins_them() {
    let (m, s, b) = school_and_class_box();
    let fresh = Node::new();
    let schools: BTreeSet<SchoolId> = [s.id].into();
    let refusal = |n: &Node, side| n.store.read(|r| class_pairing_refusal(r, &schools, side)).unwrap();
    // The school's box offers; it never joins a class box's invitation.
    assert_eq!(refusal(&m, PairingSide::Inviter), None);
    let text = refusal(&m, PairingSide::Joiner).expect("the school's box may not join");
    assert!(text.contains("Make the invitation on the box that holds the school and join it from the class box"));
    // A box that does not hold the school joins; it never offers.
    assert_eq!(refusal(&fresh, PairingSide::Joiner), None);
    assert!(refusal(&fresh, PairingSide::Inviter).is_some());
    // Nor does a box that holds the school's rows only because it joined a class grant.
    remember_joined(&b, crate::peers::PeerScope::Classes([(s.id, s.x)].into()));
    assert!(!b.store.read(|r| holds_whole_school(r, s.id)).unwrap());
    assert!(refusal(&b, PairingSide::Inviter).is_some());
    assert_eq!(refusal(&b, PairingSide::Joiner), None);
    // A box paired with another for whole schools still holds the school whole.
    remember_joined(&m, crate::peers::PeerScope::WholeSchools);
    assert!(m.store.read(|r| holds_whole_school(r, s.id)).unwrap());
}

/// Writes `peer` as a folio that did not keep `offered_by` wrote it.
fn put_old_peer_record(b: &Node, peer: &crate::peers::Peer) {
    let mut raw = serde_json::to_value(peer).unwrap();
    raw.as_object_mut().unwrap().remove("offered_by");
    b.store
        .write(|tx| {
            let mut table = tx.txn().open_table(crate::store::tables::PEER_ID_TO_PEER)?;
            table.insert(peer.id.0, crate::store::codec::encode(&raw).as_slice())?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

#[test]
fn an_old_class_pairing_learns_at_open_which_box_offered_it() {
    let (m, s, b) = school_and_class_box();
    // A third box holds the school whole (paired with M for whole schools) under another
    // replica: it did not create the school, but it holds more than class X.
    let w = Node::new();
    pull(&m.store, &w.store, &from_the_school(Grant::whole_school(s.id)), small());
    let scope = crate::peers::PeerScope::Classes([(s.id, s.x)].into());
    let old = |id: u8| crate::peers::Peer {
        id: crate::peers::BoxId([id; 32]),
        cert_der: Vec::new(),
        scope: scope.clone(),
        offered_by: OfferedBy::Us,
        addresses: Vec::new(),
        paired_ms: 1,
        status: Default::default(),
    };
    for node in [&m, &b, &w] {
        put_old_peer_record(node, &old(1));
    }
    let (m, b, w) = (m.restart(), b.restart(), w.restart());
    let direction = |n: &Node| n.store.peer(crate::peers::BoxId([1; 32])).unwrap().unwrap().offered_by;
    assert_eq!(direction(&m), OfferedBy::Us, "the box that created the school offered the class");
    assert_eq!(direction(&w), OfferedBy::Us, "a box holding the whole school offered it");
    assert_eq!(direction(&b), OfferedBy::Peer, "the class box joined");

    // Settled once: a record that says keeps what it says.
    b.store.update_peer(crate::peers::BoxId([1; 32]), |p| p.offered_by = OfferedBy::Us).unwrap();
    let b = b.restart();
    assert_eq!(direction(&b), OfferedBy::Us);
    // And the class box now holds itself to the grant it joined (before, no change was limited).
    put_old_peer_record(&b, &old(1));
    let b = b.restart();
    let dana = UserId::new();
    let new_student = Change::UserCreated {
        user: dana,
        username: "dana".into(),
        display_name: "Dana".into(),
        role: Role::Student,
        external_id: None,
    };
    let err = try_record(&b, s.id, Scope::Person(dana), s.teacher_x, new_student).expect_err("refused");
    assert!(matches!(err, StoreError::WholeSchoolOnly { .. }), "{err:?}");
}
