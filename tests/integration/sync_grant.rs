//! A box offered one class acts only inside it (`folio::sync::grant`): a property test that
//! generates pages from such a box with random operations of every kind, aimed at people and
//! classes inside and outside the grant, memberships changed within the same page, work made
//! and then acted on, and operations filed in the wrong partition, and shows that the box
//! holding the school never changes outside the grant (and changes nothing at all when it
//! refuses a page); and that pages of what a class box legitimately sends still apply.
//!
//! `PROPTEST_CASES=500 cargo test --test integration sync_grant` runs more cases.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use folio::domain::hlc::wall_clock_ms;
use folio::domain::school::Language;
use folio::domain::{
    Activity, ActivityId, Artifact, ArtifactId, Change, ClassId, Comment, CommentId, CommentKind, Hlc, Op, OpId,
    ReplicaId, Role, SchoolId, Scope, UserId, Version, VersionId, Visibility,
};
use folio::store::{Queries, Store, SyncReads};
use folio::sync::{self, Grant, Page, Span};

use crate::support::artifact;

/// The school on the box that holds it: classes X (granted) and Y, and people and work.
struct School {
    id: SchoolId,
    x: ClassId,
    y: ClassId,
    /// admin, teacher of X, teacher of Y, Ana (X), Ben (Y), Cleo (X and Y), Ana's family.
    people: Vec<UserId>,
    /// Ana's work in X, Ben's in Y, Cleo's in Y, Cleo's own, Ben's own.
    work: Vec<(ArtifactId, Scope)>,
}

const TEACHER_X: usize = 1;
const TEACHER_Y: usize = 2;
const ANA: usize = 3;
const BEN: usize = 4;
const CLEO: usize = 5;
const FAMILY: usize = 6;

fn rec(store: &Store, school: SchoolId, scope: Scope, change: Change) {
    store.write(|tx| tx.record(school, scope, None, change.clone())).unwrap();
}

fn work(id: ArtifactId, school: SchoolId, owner: UserId, class: Option<ClassId>, title: &str) -> Artifact {
    Artifact {
        id,
        reflection: format!("reflection on {title}"),
        visibility: Visibility::Class,
        ..artifact(school, owner, class, title, Vec::new())
    }
}

fn school(store: &Store) -> School {
    let id = SchoolId::new();
    let (x, y) = (ClassId::new(), ClassId::new());
    rec(store, id, Scope::School, Change::SchoolCreated { name: "Hillside".into() });
    for (class, name) in [(x, "X"), (y, "Y")] {
        let change =
            Change::ClassCreated { class, name: name.into(), join_code: format!("J{name}"), external_id: None };
        rec(store, id, Scope::Class(class), change);
    }
    let roles = [Role::Admin, Role::Teacher, Role::Teacher, Role::Student, Role::Student, Role::Student, Role::Family];
    let people: Vec<UserId> = roles.iter().map(|_| UserId::new()).collect();
    for (i, (user, role)) in people.iter().zip(roles).enumerate() {
        let user = *user;
        let change = Change::UserCreated {
            user,
            username: format!("person{i}"),
            display_name: format!("Person {i}"),
            role,
            external_id: None,
        };
        rec(store, id, Scope::Person(user), change);
        rec(store, id, Scope::Person(user), Change::PasswordSet { user, hash: format!("hash-{i}") });
    }
    for (class, who, role) in [
        (x, TEACHER_X, Role::Teacher),
        (y, TEACHER_Y, Role::Teacher),
        (x, ANA, Role::Student),
        (y, BEN, Role::Student),
        (x, CLEO, Role::Student),
        (y, CLEO, Role::Student),
    ] {
        rec(store, id, Scope::Class(class), Change::MemberAdded { class, user: people[who], role });
    }
    rec(store, id, Scope::Person(people[ANA]), Change::FamilyLinked { family: people[FAMILY], student: people[ANA] });
    let mut made = Vec::new();
    for (owner, class, title) in [
        (ANA, Some(x), "ana-x"),
        (BEN, Some(y), "ben-y"),
        (CLEO, Some(y), "cleo-y"),
        (CLEO, None, "cleo-own"),
        (BEN, None, "ben-own"),
    ] {
        let artifact = work(ArtifactId::new(), id, people[owner], class, title);
        let scope = artifact.partition();
        made.push((artifact.id, scope));
        rec(store, id, scope, Change::ArtifactCreated { artifact: Box::new(artifact) });
    }
    School { id, x, y, people, work: made }
}

/// One generated operation: a kind (every kind of change), indices into the school's people,
/// classes and work (past the end: someone or something new), and whether to file it in a
/// partition picked at random instead of the one it belongs in.
#[derive(Clone, Debug)]
struct Gen {
    kind: u8,
    person: usize,
    other: usize,
    class: usize,
    work: usize,
    role: u8,
    misfile: Option<usize>,
}

const KINDS: u8 = 26;

/// Any operation at all, aimed anywhere.
fn any_op() -> impl Strategy<Value = Gen> {
    (0..KINDS, 0..8usize, 0..8usize, 0..3usize, 0..8usize, 0..4u8, prop::option::weighted(0.15, 0..12usize)).prop_map(
        |(kind, person, other, class, work, role, misfile)| Gen { kind, person, other, class, work, role, misfile },
    )
}

/// Mostly what a class box does, aimed at people, class and work inside X, but with every
/// kind of change now and then (a teacher's or Cleo's secrets, places, erasures...).
fn op_near_x() -> impl Strategy<Value = Gen> {
    let inside = prop::sample::select(vec![TEACHER_X, ANA, CLEO]);
    let kinds = prop::sample::select(vec![4u8, 5, 6, 8, 9, 10, 15, 16, 17, 18, 19, 20, 21, 22, 24, 25, 2, 23]);
    // Work inside X: Ana's in X, Cleo's own; and whatever the page makes (indices past them).
    let work = prop::sample::select(vec![0usize, 3, 5, 6, 7]);
    (kinds, inside.clone(), inside, work, 0..2u8).prop_map(|(kind, person, other, work, role)| Gen {
        kind,
        person,
        other,
        class: 0,
        work,
        role,
        misfile: None,
    })
}

fn gen_op() -> impl Strategy<Value = Gen> {
    prop_oneof![4 => op_near_x(), 1 => any_op()]
}

/// Builds the page: operations of a fresh origin (the class box), each filed where it
/// belongs unless `misfile` says otherwise, with honest spans.
fn page_of(s: &School, gens: &[Gen]) -> Page {
    let origin = ReplicaId::random();
    let extra_person = UserId::new();
    let extra_class = ClassId::new();
    let person = |i: usize| s.people.get(i).copied().unwrap_or(extra_person);
    let class = |i: usize| [s.x, s.y, extra_class][i % 3];
    let role = |i: u8| [Role::Student, Role::Teacher, Role::Admin, Role::Family][i as usize % 4];
    let mut work: Vec<(ArtifactId, Scope)> = s.work.clone();
    let mut ops = Vec::new();
    let now = wall_clock_ms();
    for (i, g) in gens.iter().enumerate() {
        let target = work.get(g.work % (work.len() + 1)).copied();
        let (artifact, artifact_scope) = target.unwrap_or((ArtifactId::new(), Scope::Class(class(g.class))));
        let (p, q, c) = (person(g.person), person(g.other), class(g.class));
        let edit = |title: &str| folio::samples::artifact_edit(artifact, Some(title), None);
        let (scope, change) = match g.kind {
            0 => (Scope::School, Change::SchoolCreated { name: "Renamed".into() }),
            1 => (
                Scope::Person(p),
                Change::UserCreated {
                    user: p,
                    username: format!("person{}", g.other),
                    display_name: "New".into(),
                    role: role(g.role),
                    external_id: None,
                },
            ),
            2 => (Scope::Person(p), Change::UserRenamed { user: p, display_name: "Renamed".into() }),
            3 => (Scope::Person(p), Change::UserDisabled { user: p, disabled: true }),
            4 => (Scope::Person(p), Change::PasswordSet { user: p, hash: "attacker".into() }),
            5 => (Scope::Person(p), Change::PicturesSet { user: p, hash: "attacker".into() }),
            6 => (Scope::Person(p), Change::QrCardIssued { user: p, token_hash: format!("card-{i}") }),
            7 => (
                Scope::Class(c),
                Change::ClassCreated {
                    class: c,
                    name: "Renamed".into(),
                    join_code: format!("K{i}"),
                    external_id: None,
                },
            ),
            8 => (Scope::Class(c), Change::MemberAdded { class: c, user: p, role: role(g.role) }),
            9 => (Scope::Class(c), Change::MemberRemoved { class: c, user: p }),
            10 => (
                Scope::Class(c),
                Change::ClassSettingsChanged {
                    class: c,
                    require_approval: Some(g.role % 2 == 0),
                    comments_allowed: Some(false),
                    family_sharing: None,
                    hold_family_comments: None,
                    family_sees_ratings: None,
                },
            ),
            11 => (Scope::School, Change::SearchLanguageSet { language: Language::Spanish }),
            12 => (Scope::School, Change::SkillsSet { skills: vec!["taken over".into()] }),
            13 => (Scope::Person(q), Change::FamilyLinked { family: p, student: q }),
            14 => (Scope::Person(q), Change::FamilyUnlinked { family: p, student: q }),
            15 => {
                let class = (g.class < 2).then_some(c);
                let mut made = work_for(s.id, p, class, &format!("made-{i}"));
                made.versions[0].author = q;
                let scope = made.partition();
                work.push((made.id, scope));
                (scope, Change::ArtifactCreated { artifact: Box::new(made) })
            }
            16 => (artifact_scope, edit("edited")),
            17 => (
                artifact_scope,
                Change::VersionAdded {
                    artifact,
                    version: Version {
                        id: VersionId::new(),
                        note: "v2".into(),
                        files: Vec::new(),
                        author: p,
                        created_ms: 2,
                    },
                },
            ),
            18 => (artifact_scope, Change::ArtifactReviewed { artifact, approved: Some(true) }),
            19 => (artifact_scope, Change::ArtifactDeleted { artifact }),
            20 => (
                artifact_scope,
                Change::CommentAdded {
                    comment: Comment {
                        id: CommentId::new(),
                        artifact,
                        version: None,
                        author: p,
                        kind: CommentKind::Feedback,
                        body: format!("comment {i}"),
                        audio: None,
                        approved: true,
                        created_ms: 2,
                    },
                },
            ),
            21 => (artifact_scope, Change::CommentApproved { artifact, comment: CommentId::new() }),
            22 => (
                Scope::Class(c),
                Change::ActivityCreated {
                    activity: Activity {
                        id: ActivityId::new(),
                        school: s.id,
                        class: c,
                        title: format!("activity {i}"),
                        prompt: String::new(),
                        due: None,
                        files: Vec::new(),
                        author: p,
                        created_ms: 2,
                        skills: Vec::new(),
                        field_clock: Default::default(),
                    },
                },
            ),
            23 => (Scope::School, Change::UserErased { user: p }),
            25 => (
                Scope::Class(c),
                Change::ActivityEdited {
                    activity: ActivityId::new(),
                    class: c,
                    title: Some(format!("changed {i}")),
                    prompt: None,
                    due: None,
                    skills: Some(Vec::new()),
                },
            ),
            _ => (artifact_scope, Change::Redacted { erased_artifact: target.map(|(id, _)| id) }),
        };
        let scope = match g.misfile {
            Some(m) if m < 8 => Scope::Person(person(m)),
            Some(m) if m < 11 => Scope::Class(class(m)),
            Some(_) => Scope::School,
            None => scope,
        };
        let seq = i as u64 + 1;
        ops.push(Op {
            id: OpId { replica: origin, seq },
            hlc: Hlc { ms: now, counter: seq as u32, replica: origin },
            school: s.id,
            scope,
            author: None,
            change,
        });
    }
    let mut through: BTreeMap<Scope, u64> = BTreeMap::new();
    for op in &ops {
        through.insert(op.scope, op.id.seq);
    }
    let spans = through.into_iter().map(|(partition, through)| Span { partition, origin, after: 0, through }).collect();
    Page { school: s.id, spans, ops, more: false, wholly_inside: None }
}

fn work_for(school: SchoolId, owner: UserId, class: Option<ClassId>, title: &str) -> Artifact {
    work(ArtifactId::new(), school, owner, class, title)
}

/// The receiver's rows outside the grant: every shared table's rows that name nothing inside
/// it (class X, the work filed in X or in a person of X, and the account of a student whose
/// every place is in X, whose sign-in secrets the class box may set), and the names, roles
/// and states of those students' accounts. The op log and its index are left out: what is
/// logged is judged by what it changed.
fn outside(store: &Store, s: &School, inside_work: &BTreeSet<ArtifactId>) -> Vec<String> {
    let ana = s.people[ANA];
    let mut tokens = vec![s.x.to_string(), format!("{:?}", s.x.bytes())];
    for id in inside_work {
        tokens.push(id.to_string());
        tokens.push(format!("{:?}", id.bytes()));
    }
    // Ana's account and card: her secrets are the class box's to set (she is in X alone).
    let ana_tokens = [ana.to_string(), format!("{:?}", ana.bytes())];
    let mut view = Vec::new();
    for (table, rows) in store.canonical_dump().unwrap() {
        if table == "oplog" || table.contains("partition_origin") {
            continue;
        }
        let accounts = table == "user_id_to_user" || table == "qr_token_hash_to_user_id";
        for row in rows {
            let named = |t: &String| row.contains(t.as_str());
            let inside = tokens.iter().any(named) || (accounts && ana_tokens.iter().any(named));
            if !inside {
                view.push(format!("{table}: {row}"));
            }
        }
    }
    let user = store.read(|r| r.user(ana)).unwrap().unwrap();
    view.push(format!("ana: {} {} {:?} {}", user.username, user.display_name, user.role, user.disabled));
    view
}

/// The work a class box may touch: filed in X, or the own work of someone in X.
fn inside_work(s: &School, page: &Page) -> BTreeSet<ArtifactId> {
    let inside_people = [s.people[TEACHER_X], s.people[ANA], s.people[CLEO]];
    let inside = |scope: Scope| match scope {
        Scope::Class(c) => c == s.x,
        Scope::Person(p) => inside_people.contains(&p),
        Scope::School => false,
    };
    let mut ids: BTreeSet<ArtifactId> = s.work.iter().filter(|(_, scope)| inside(*scope)).map(|(id, _)| *id).collect();
    for op in &page.ops {
        if let Change::ArtifactCreated { artifact } = &op.change
            && inside(op.scope)
        {
            ids.insert(artifact.id);
        }
    }
    ids
}

fn grant_x(s: &School) -> Grant {
    // The box holding the school offered X: the sender acts only inside it.
    Grant::classes(s.id, [s.x])
}

fn whole(store: &Store, school: SchoolId) -> (folio::store::dump::Dump, Vec<(Scope, ReplicaId, u64)>) {
    (store.canonical_dump().unwrap(), store.read(|r| r.positions(school)).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_class_box_never_changes_anything_outside_its_class(gens in prop::collection::vec(gen_op(), 1..8)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let s = school(&store);
        let page = page_of(&s, &gens);
        let work = inside_work(&s, &page);
        let before = (whole(&store, s.id), outside(&store, &s, &work));
        match sync::apply_page(&store, &page, &grant_x(&s)) {
            Err(e) => {
                prop_assert!(e.to_string().contains("nothing of the page was kept"), "{e}");
                prop_assert_eq!(whole(&store, s.id), before.0, "a refused page changed something");
            }
            Ok(_) => {
                let after = outside(&store, &s, &work);
                let gone: Vec<&String> = before.1.iter().filter(|row| !after.contains(row)).collect();
                let came: Vec<&String> = after.iter().filter(|row| !before.1.contains(row)).collect();
                prop_assert!(gone.is_empty() && came.is_empty(),
                    "an accepted page changed rows outside class X: were {:#?}, are {:#?}", gone, came);
                // Nothing the class box sent was filed outside the grant.
                let origin = page.ops[0].id.replica;
                let people_x: BTreeSet<UserId> =
                    [TEACHER_X, ANA, CLEO].iter().map(|i| s.people[*i]).collect();
                for (partition, from, _) in store.read(|r| r.positions(s.id)).unwrap() {
                    if from == origin {
                        let inside = match partition {
                            Scope::Class(c) => c == s.x,
                            Scope::Person(p) => people_x.contains(&p),
                            Scope::School => false,
                        };
                        prop_assert!(inside, "the class box's operations were kept in {:?}", partition);
                    }
                }
            }
        }
    }

    #[test]
    fn what_a_class_box_legitimately_sends_still_applies(gens in prop::collection::vec((0..7u8, 0..3usize, 0..4usize), 1..12)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let s = school(&store);
        let inside_work: Vec<(ArtifactId, Scope)> =
            s.work.iter().filter(|(_, scope)| *scope == Scope::Class(s.x) || *scope == Scope::Person(s.people[CLEO])).copied().collect();
        let generated: Vec<Gen> = gens
            .iter()
            .map(|(kind, who, what)| {
                let person = [TEACHER_X, ANA, CLEO][*who];
                let (kind, person) = match kind {
                    0 => (16, person),        // an edit of work inside
                    1 => (20, person),        // a comment by someone inside
                    2 => (15, ANA),           // Ana's new work in X
                    3 => (5, ANA),            // new pictures for Ana (in X alone)
                    4 => (10, person),        // X's settings
                    5 => (8, ANA),            // Ana's place in X, again
                    _ => (22, TEACHER_X),     // an activity in X
                };
                let work = s.work.iter().position(|w| *w == inside_work[what % inside_work.len()]).unwrap();
                Gen { kind, person, other: person, class: 0, work, role: 0, misfile: None }
            })
            .collect();
        let page = page_of(&s, &generated);
        let report = sync::apply_page(&store, &page, &grant_x(&s));
        prop_assert!(report.is_ok(), "{:?}: {:?}", report, page.ops.iter().map(|o| o.change.kind()).collect::<Vec<_>>());
        prop_assert_eq!(report.unwrap().ops_received, page.ops.len());
    }
}
