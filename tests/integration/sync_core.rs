//! The replication core between real stores: a property test that random work on 3 to 6
//! boxes, synced in random order with dropped, repeated and stale pages and restarts,
//! always converges to identical data, loses no acknowledged operation and never brings
//! back deleted or erased data; and a cloned data directory that takes a new replica id.
//!
//! `PROPTEST_CASES=500 cargo test --test integration sync_core` runs more cases.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;

use folio::domain::hlc::wall_clock_ms;
use folio::domain::skills;
use folio::domain::{
    Artifact, ArtifactId, Change, ClassId, Comment, CommentId, CommentKind, FileId, FileRef, Op, OpId, Role, SchoolId,
    Scope, UserId, Version, VersionId, Visibility,
};
use folio::store::{Queries, Store, StoreError, SyncReads};
use folio::sync::{self, Grant, Limits, Page};

/// A box in the test: its store, its directory, and how far its clock is off.
struct Replica {
    dir: tempfile::TempDir,
    store: Option<Store>,
    offset_ms: i64,
}

impl Replica {
    fn new(offset_ms: i64) -> Replica {
        let dir = tempfile::tempdir().unwrap();
        let store = Some(open(dir.path(), offset_ms));
        Replica { dir, store, offset_ms }
    }

    fn store(&self) -> &Store {
        self.store.as_ref().unwrap()
    }

    fn restart(&mut self) {
        self.store = None;
        self.store = Some(open(self.dir.path(), self.offset_ms));
    }
}

fn open(dir: &Path, offset_ms: i64) -> Store {
    Store::open_with_clock(dir, Arc::new(move || (wall_clock_ms() as i64 + offset_ms).max(1) as u64)).unwrap()
}

/// What a step of work does; indices pick among what the box itself knows, modulo.
#[derive(Clone, Debug)]
enum Action {
    NewStudent,
    NewTeacher,
    NewClass,
    Join { class: usize, user: usize },
    Leave { class: usize, user: usize },
    NewArtifact { owner: usize, class: Option<usize>, co_owner: Option<usize> },
    EditTitle { artifact: usize },
    EditReflection { artifact: usize },
    EditTags { artifact: usize, tags: u8 },
    SetVisibility { artifact: usize, visibility: u8 },
    AddVersion { artifact: usize },
    Review { artifact: usize, approved: Option<bool> },
    Rate { artifact: usize, rater: usize, skill: u8, level: u8, own: bool },
    SaveSkill { skill: u8, retired: bool },
    Comment { artifact: usize, author: usize },
    ApproveComment { artifact: usize },
    Delete { artifact: usize },
    Rename { user: usize },
    SetPassword { user: usize },
    ClassSettings { class: usize, approval: bool },
    Link { family: usize, student: usize, linked: bool },
    Erase { user: usize },
}

#[derive(Clone, Debug)]
enum Step {
    Act {
        replica: usize,
        action: Action,
    },
    /// Pull from `from` into `to`, `max_ops` a page; the `drop`-th page is lost on the way,
    /// every page is applied twice if `twice`, the first page is applied again at the end
    /// (late), and the sync stops after `pages` pages (to be resumed by a later one).
    Sync {
        from: usize,
        to: usize,
        max_ops: usize,
        drop: Option<usize>,
        twice: bool,
        pages: usize,
    },
    Restart {
        replica: usize,
    },
}

fn action() -> impl Strategy<Value = Action> {
    let i = || 0usize..4;
    prop_oneof![
        3 => Just(Action::NewStudent),
        1 => Just(Action::NewTeacher),
        1 => Just(Action::NewClass),
        3 => (i(), i()).prop_map(|(class, user)| Action::Join { class, user }),
        1 => (i(), i()).prop_map(|(class, user)| Action::Leave { class, user }),
        4 => (i(), proptest::option::of(i()), proptest::option::weighted(0.2, i()))
            .prop_map(|(owner, class, co_owner)| Action::NewArtifact { owner, class, co_owner }),
        3 => i().prop_map(|artifact| Action::EditTitle { artifact }),
        3 => i().prop_map(|artifact| Action::EditReflection { artifact }),
        1 => (i(), any::<u8>()).prop_map(|(artifact, tags)| Action::EditTags { artifact, tags }),
        1 => (i(), 0u8..3).prop_map(|(artifact, visibility)| Action::SetVisibility { artifact, visibility }),
        2 => i().prop_map(|artifact| Action::AddVersion { artifact }),
        2 => (i(), proptest::option::of(any::<bool>())).prop_map(|(artifact, approved)| Action::Review { artifact, approved }),
        3 => (i(), i()).prop_map(|(artifact, author)| Action::Comment { artifact, author }),
        2 => (i(), i(), 0u8..3, 1u8..5, any::<bool>())
            .prop_map(|(artifact, rater, skill, level, own)| Action::Rate { artifact, rater, skill, level, own }),
        1 => (0u8..3, any::<bool>()).prop_map(|(skill, retired)| Action::SaveSkill { skill, retired }),
        1 => i().prop_map(|artifact| Action::ApproveComment { artifact }),
        1 => i().prop_map(|artifact| Action::Delete { artifact }),
        1 => i().prop_map(|user| Action::Rename { user }),
        1 => i().prop_map(|user| Action::SetPassword { user }),
        1 => (i(), any::<bool>()).prop_map(|(class, approval)| Action::ClassSettings { class, approval }),
        1 => (i(), i(), any::<bool>()).prop_map(|(family, student, linked)| Action::Link { family, student, linked }),
        1 => i().prop_map(|user| Action::Erase { user }),
    ]
}

fn step(replicas: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..replicas, action()).prop_map(|(replica, action)| Step::Act { replica, action }),
        4 => (0..replicas, 0..replicas, 1usize..6, proptest::option::weighted(0.3, 0usize..3), any::<bool>(), 1usize..8)
            .prop_map(|(from, to, max_ops, drop, twice, pages)| Step::Sync { from, to, max_ops, drop, twice, pages }),
        1 => (0..replicas).prop_map(|replica| Step::Restart { replica }),
    ]
}

/// Clock offsets: most boxes right, some a little off, one sometimes an hour ahead or a day
/// behind (its operations still merge by their clocks; only adoption differs).
fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![4 => Just(0i64), 2 => -120_000i64..120_000, 1 => Just(3_600_000i64), 1 => Just(-86_400_000i64)]
}

fn scenario() -> impl Strategy<Value = (Vec<i64>, Vec<Step>)> {
    (3usize..=6).prop_flat_map(|n| (proptest::collection::vec(offset(), n), proptest::collection::vec(step(n), 20..80)))
}

/// What the test remembers about the work, to check at the end.
#[derive(Default)]
struct Ledger {
    acknowledged: Vec<OpId>,
    deleted: BTreeSet<ArtifactId>,
    erased: BTreeSet<UserId>,
    /// Unique words written about or by each person (names, comments), which must vanish
    /// with them.
    words_of: BTreeMap<UserId, Vec<String>>,
    /// Titles of work each person owns alone (gone with them unless someone else owns it).
    counter: u64,
}

impl Ledger {
    fn word(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}x{}", self.counter, rand_tag())
    }
}

fn rand_tag() -> String {
    UserId::new().to_string()[..8].to_string()
}

fn record(store: &Store, ledger: &mut Ledger, school: SchoolId, scope: Scope, change: Change) -> Option<Op> {
    match store.write(|tx| tx.record(school, scope, None, change.clone())) {
        Ok(op) => {
            ledger.acknowledged.push(op.id);
            Some(op)
        }
        Err(StoreError::Erased) => None,
        Err(e) => panic!("recording failed: {e}"),
    }
}

fn pick<T: Clone>(items: &[T], i: usize) -> Option<T> {
    if items.is_empty() { None } else { Some(items[i % items.len()].clone()) }
}

/// People of a school this box knows, sorted by id (erased people have no row).
fn people(store: &Store, school: SchoolId, role: Option<Role>) -> Vec<UserId> {
    let mut found = store
        .read(|r| r.users_in_school(school))
        .unwrap()
        .into_iter()
        .filter(|u| role.is_none_or(|role| u.role == role))
        .map(|u| u.id)
        .collect::<Vec<_>>();
    found.sort();
    found
}

fn live_artifacts(store: &Store, school: SchoolId) -> Vec<Artifact> {
    let mut found = store.read(|r| r.artifacts_of_school(school)).unwrap();
    found.sort_by_key(|a| a.id);
    found
}

fn act(store: &Store, ledger: &mut Ledger, school: SchoolId, action: &Action) {
    let students = people(store, school, Some(Role::Student));
    let everyone = people(store, school, None);
    let classes: Vec<ClassId> = {
        let mut c: Vec<ClassId> =
            store.read(|r| r.classes_in_school(school)).unwrap().into_iter().map(|c| c.id).collect();
        c.sort();
        c
    };
    let artifacts = live_artifacts(store, school);
    let edit = |artifact: &Artifact| folio::samples::artifact_edit(artifact.id, None, None);
    match action {
        Action::NewStudent | Action::NewTeacher => {
            let role = if matches!(action, Action::NewStudent) { Role::Student } else { Role::Teacher };
            let user = UserId::new();
            let name = ledger.word("name");
            ledger.words_of.entry(user).or_default().push(name.clone());
            record(
                store,
                ledger,
                school,
                Scope::Person(user),
                Change::UserCreated {
                    user,
                    username: format!("u{}", user.0.simple()),
                    display_name: name,
                    role,
                    external_id: None,
                },
            );
        }
        Action::NewClass => {
            let class = ClassId::new();
            let code = format!("C{}", &class.0.simple().to_string()[..8]);
            let name = ledger.word("class");
            record(
                store,
                ledger,
                school,
                Scope::Class(class),
                Change::ClassCreated { class, name, join_code: code, external_id: None },
            );
        }
        Action::Join { class, user } | Action::Leave { class, user } => {
            let (Some(class), Some(user)) = (pick(&classes, *class), pick(&everyone, *user)) else { return };
            let change = if matches!(action, Action::Join { .. }) {
                let role = store.read(|r| r.user(user)).unwrap().map_or(Role::Student, |u| u.role);
                Change::MemberAdded {
                    class,
                    user,
                    role: if role == Role::Teacher { Role::Teacher } else { Role::Student },
                }
            } else {
                Change::MemberRemoved { class, user }
            };
            record(store, ledger, school, Scope::Class(class), change);
        }
        Action::NewArtifact { owner, class, co_owner } => {
            let Some(owner) = pick(&students, *owner) else { return };
            let mut owners = vec![owner];
            if let Some(co) = co_owner.and_then(|c| pick(&students, c)).filter(|c| *c != owner) {
                owners.push(co);
            }
            let class = class.and_then(|c| pick(&classes, c));
            let title = ledger.word("title");
            for o in &owners {
                ledger.words_of.entry(*o).or_default();
            }
            let artifact = Artifact {
                id: ArtifactId::new(),
                school,
                owners,
                class,
                activity: None,
                title,
                reflection: ledger.word("first-reflection"),
                tags: BTreeSet::new(),
                skills: BTreeSet::new(),
                visibility: Visibility::Private,
                kind: "text".into(),
                approved: false,
                reviewed: false,
                versions: vec![version(ledger, owner)],
                created_ms: wall_clock_ms(),
                updated_ms: wall_clock_ms(),
                from_home: false,
                deleted: false,
                reflection_conflicts: Vec::new(),
                field_clock: Default::default(),
                scope: None,
            };
            let scope = artifact.partition();
            record(store, ledger, school, scope, Change::ArtifactCreated { artifact: Box::new(artifact) });
        }
        Action::EditTitle { artifact }
        | Action::EditReflection { artifact }
        | Action::EditTags { artifact, .. }
        | Action::SetVisibility { artifact, .. } => {
            let Some(a) = pick(&artifacts, *artifact) else { return };
            let mut change = edit(&a);
            if let Change::ArtifactEdited { title, reflection, tags, visibility, .. } = &mut change {
                match action {
                    Action::EditTitle { .. } => *title = Some(ledger.word("title")),
                    Action::EditReflection { .. } => *reflection = Some(ledger.word("reflection")),
                    Action::EditTags { tags: bits, .. } => {
                        *tags = Some((0..4).filter(|b| bits & (1 << b) != 0).map(|b| format!("tag{b}")).collect())
                    }
                    Action::SetVisibility { visibility: v, .. } => *visibility = Some(Visibility::ALL[*v as usize % 3]),
                    _ => unreachable!(),
                }
            }
            record(store, ledger, school, a.partition(), change);
        }
        Action::AddVersion { artifact } => {
            let Some(a) = pick(&artifacts, *artifact) else { return };
            let version = version(ledger, a.owners[0]);
            record(store, ledger, school, a.partition(), Change::VersionAdded { artifact: a.id, version });
        }
        Action::Review { artifact, approved } => {
            let Some(a) = pick(&artifacts, *artifact) else { return };
            record(
                store,
                ledger,
                school,
                a.partition(),
                Change::ArtifactReviewed { artifact: a.id, approved: *approved },
            );
        }
        Action::Rate { artifact, rater, skill, level, own } => {
            let (Some(a), Some(rater)) = (pick(&artifacts, *artifact), pick(&everyone, *rater)) else { return };
            let Some(version) = a.latest().map(|v| v.id) else { return };
            let skill_id = skills::derived_id(school, &skills::code_key(&format!("S{skill}")));
            let change = Change::ArtifactRated {
                artifact: a.id,
                version,
                ratings: vec![skills::SkillLevel { skill_id, level: *level }],
                self_assessment: *own,
            };
            match store.write(|tx| tx.record(school, a.partition(), Some(rater), change.clone())) {
                Ok(op) => ledger.acknowledged.push(op.id),
                Err(StoreError::Erased) => {}
                Err(e) => panic!("recording failed: {e}"),
            }
        }
        Action::SaveSkill { skill, retired } => {
            let code = format!("S{skill}");
            let skill = skills::Skill {
                id: skills::derived_id(school, &skills::code_key(&code)),
                name: ledger.word("skill"),
                code,
                group: None,
                case_id: None,
                retired: *retired,
                clock: folio::domain::Hlc::ZERO,
            };
            record(store, ledger, school, Scope::School, Change::SkillSaved { skill });
        }
        Action::Comment { artifact, author } => {
            let (Some(a), Some(author)) = (pick(&artifacts, *artifact), pick(&everyone, *author)) else { return };
            let body = ledger.word("comment");
            ledger.words_of.entry(author).or_default().push(body.clone());
            let comment = Comment {
                id: CommentId::new(),
                artifact: a.id,
                version: a.latest().map(|v| v.id),
                author,
                // Some feedback too, for the school report's counts (checked against a scan).
                kind: if ledger.acknowledged.len() % 2 == 0 { CommentKind::Feedback } else { CommentKind::Comment },
                body,
                audio: None,
                approved: false,
                created_ms: wall_clock_ms(),
            };
            record(store, ledger, school, a.partition(), Change::CommentAdded { comment });
        }
        Action::ApproveComment { artifact } => {
            let Some(a) = pick(&artifacts, *artifact) else { return };
            let Some(c) = store.read(|r| r.comments(a.id)).unwrap().into_iter().next() else { return };
            record(store, ledger, school, a.partition(), Change::CommentApproved { artifact: a.id, comment: c.id });
        }
        Action::Delete { artifact } => {
            let Some(a) = pick(&artifacts, *artifact) else { return };
            if record(store, ledger, school, a.partition(), Change::ArtifactDeleted { artifact: a.id }).is_some() {
                ledger.deleted.insert(a.id);
            }
        }
        Action::Rename { user } => {
            let Some(user) = pick(&everyone, *user) else { return };
            let name = ledger.word("name");
            ledger.words_of.entry(user).or_default().push(name.clone());
            record(store, ledger, school, Scope::Person(user), Change::UserRenamed { user, display_name: name });
        }
        Action::SetPassword { user } => {
            let Some(user) = pick(&everyone, *user) else { return };
            let hash = ledger.word("secret");
            ledger.words_of.entry(user).or_default().push(hash.clone());
            record(store, ledger, school, Scope::Person(user), Change::PasswordSet { user, hash });
        }
        Action::ClassSettings { class, approval } => {
            let Some(class) = pick(&classes, *class) else { return };
            record(
                store,
                ledger,
                school,
                Scope::Class(class),
                Change::ClassSettingsChanged {
                    class,
                    require_approval: Some(*approval),
                    comments_allowed: None,
                    family_sharing: None,
                    hold_family_comments: None,
                    family_sees_ratings: None,
                },
            );
        }
        Action::Link { family, student, linked } => {
            let (Some(family), Some(student)) = (pick(&everyone, *family), pick(&students, *student)) else { return };
            let change = if *linked {
                Change::FamilyLinked { family, student }
            } else {
                Change::FamilyUnlinked { family, student }
            };
            record(store, ledger, school, Scope::Person(student), change);
        }
        Action::Erase { user } => {
            // Erasing keeps to schools with students left to work with.
            if students.len() < 3 {
                return;
            }
            let Some(user) = pick(&students, *user) else { return };
            if record(store, ledger, school, Scope::School, Change::UserErased { user }).is_some() {
                ledger.erased.insert(user);
            }
        }
    }
}

fn version(ledger: &mut Ledger, author: UserId) -> Version {
    let hash = blake3::hash(ledger.word("file").as_bytes()).to_hex().to_string();
    Version {
        id: VersionId::new(),
        note: ledger.word("note"),
        files: vec![FileRef {
            id: FileId::new(),
            name: "a.txt".into(),
            size: 1,
            content_type: "text/plain".into(),
            hash,
        }],
        author,
        created_ms: wall_clock_ms(),
    }
}

/// One sync from `from` into `to`, with the losses and repeats the step asks for.
fn sync_step(replicas: &[Replica], school: SchoolId, step: &Step) {
    let Step::Sync { from, to, max_ops, drop, twice, pages } = step else { unreachable!() };
    if from == to {
        return;
    }
    let (from, to) = (replicas[*from].store(), replicas[*to].store());
    let grant = Grant::whole_school(school);
    let limits = Limits { max_ops: *max_ops, ..Limits::default() };
    let mut first: Option<Page> = None;
    for n in 0..*pages {
        let page = sync::ops_missing(from, &sync::positions(to, school).unwrap(), &grant, limits).unwrap();
        if page.spans.is_empty() {
            break;
        }
        first.get_or_insert_with(|| page.clone());
        if Some(n) == *drop {
            continue;
        }
        sync::apply_page(to, &page, &grant).unwrap();
        if *twice {
            let again = sync::apply_page(to, &page, &grant).unwrap();
            assert_eq!(again.ops_received, 0, "a repeated page brought something new");
        }
    }
    // A page that arrives late, after the ones that followed it: harmless.
    if let Some(page) = first {
        sync::apply_page(to, &page, &grant).unwrap();
    }
}

fn full_exchange(replicas: &[Replica], school: SchoolId) {
    let grant = Grant::whole_school(school);
    // Twice round every pair: whatever one box has reaches every other.
    for _ in 0..2 {
        for from in 0..replicas.len() {
            for to in 0..replicas.len() {
                if from == to {
                    continue;
                }
                for _ in 0..10_000 {
                    let (f, t) = (replicas[from].store(), replicas[to].store());
                    let page =
                        sync::ops_missing(f, &sync::positions(t, school).unwrap(), &grant, Limits::default()).unwrap();
                    if page.spans.is_empty() {
                        break;
                    }
                    sync::apply_page(t, &page, &grant).unwrap();
                }
            }
        }
    }
}

/// A few people, classes and pieces of work every box starts from, so most steps have
/// something to work on.
fn seed(store: &Store, ledger: &mut Ledger, school: SchoolId) {
    for action in [Action::NewClass, Action::NewClass, Action::NewTeacher] {
        act(store, ledger, school, &action);
    }
    for _ in 0..4 {
        act(store, ledger, school, &Action::NewStudent);
    }
    for user in 0..5 {
        act(store, ledger, school, &Action::Join { class: user, user });
    }
    for owner in 0..3 {
        act(store, ledger, school, &Action::NewArtifact { owner, class: Some(owner), co_owner: None });
    }
}

fn run(offsets: Vec<i64>, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let mut replicas: Vec<Replica> = offsets.iter().map(|o| Replica::new(*o)).collect();
    let mut ledger = Ledger::default();
    let school = SchoolId::new();
    record(replicas[0].store(), &mut ledger, school, Scope::School, Change::SchoolCreated { name: "Hillside".into() });
    seed(replicas[0].store(), &mut ledger, school);
    full_exchange(&replicas, school);
    for step in &steps {
        match step {
            Step::Act { replica, action } => act(replicas[*replica].store(), &mut ledger, school, action),
            Step::Sync { .. } => sync_step(&replicas, school, step),
            Step::Restart { replica } => replicas[*replica].restart(),
        }
    }
    full_exchange(&replicas, school);

    let dumps: Vec<_> = replicas.iter().map(|r| r.store().canonical_dump().unwrap()).collect();
    for (i, dump) in dumps.iter().enumerate().skip(1) {
        for (table, rows) in dump {
            let first = &dumps[0][table];
            if rows != first {
                let only_0: Vec<_> = first.iter().filter(|r| !rows.contains(r)).take(3).collect();
                let only_i: Vec<_> = rows.iter().filter(|r| !first.contains(r)).take(3).collect();
                prop_assert!(
                    false,
                    "replica {i} differs from replica 0 in {table}:\n only 0: {only_0:#?}\n only {i}: {only_i:#?}"
                );
            }
        }
    }
    for replica in &replicas {
        let store = replica.store();
        for id in &ledger.acknowledged {
            prop_assert!(store.read(|r| r.logged(*id)).unwrap().is_some(), "acknowledged operation {id:?} was lost");
        }
        prop_assert!(store.read(|r| r.waiting_count()).unwrap() <= ledger.acknowledged.len() as u64);
        // The school report's counts, kept by `apply` as operations arrived in whatever order,
        // are what reading every piece of work gives.
        let kept = store.read(|r| folio::store::weekly::kept(r, school, 0, u64::MAX)).unwrap();
        let scanned = store.read(|r| folio::store::weekly::scanned(r, school)).unwrap();
        prop_assert_eq!(kept, scanned, "the kept counts differ from a scan");
        // And every other row the reports read (the class report's, each work's contribution).
        let kept = store.read(folio::store::class_rows::kept).unwrap();
        let scanned = store.read(folio::store::class_rows::scanned).unwrap();
        prop_assert_eq!(kept, scanned, "the kept report rows differ from a scan");
        for id in &ledger.deleted {
            let a = store.read(|r| r.artifact(*id)).unwrap();
            prop_assert!(a.is_none_or(|a| a.deleted && a.title.is_empty()), "deleted work came back");
        }
        for user in &ledger.erased {
            prop_assert!(store.read(|r| r.user(*user)).unwrap().is_none(), "an erased person came back");
            prop_assert!(store.read(|r| r.classes_of(*user)).unwrap().is_empty());
            prop_assert!(store.read(|r| r.artifacts_of_owner(*user)).unwrap().is_empty());
        }
    }
    let text = dumps[0].values().flatten().cloned().collect::<Vec<_>>().join("\n");
    for user in &ledger.erased {
        for word in &ledger.words_of[user] {
            prop_assert!(!text.contains(word.as_str()), "{word}, of an erased person, is still stored");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(32),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn replicas_converge_whatever_the_order_losses_repeats_and_restarts((offsets, steps) in scenario()) {
        run(offsets, steps)?;
    }
}

#[test]
fn a_copied_data_directory_takes_a_new_replica_id_and_syncs_without_collisions() {
    let original_dir = tempfile::tempdir().unwrap();
    let original = Store::open(original_dir.path()).unwrap();
    let mut ledger = Ledger::default();
    let school = SchoolId::new();
    record(&original, &mut ledger, school, Scope::School, Change::SchoolCreated { name: "Hillside".into() });
    act(&original, &mut ledger, school, &Action::NewStudent);
    act(&original, &mut ledger, school, &Action::NewArtifact { owner: 0, class: None, co_owner: None });
    drop(original);

    // The data directory is copied to another box (or restored from a copy).
    let copy_dir = tempfile::tempdir().unwrap();
    std::fs::copy(Store::db_path(original_dir.path()), Store::db_path(copy_dir.path())).unwrap();
    let original = Store::open(original_dir.path()).unwrap();
    let copy = Store::open(copy_dir.path()).unwrap();
    assert_ne!(original.replica(), copy.replica(), "the copy writes as a new replica");
    let reopened = {
        drop(copy);
        Store::open(copy_dir.path()).unwrap()
    };
    let copy = reopened;
    assert_ne!(original.replica(), copy.replica());

    // Both go on working, each writing its next sequence numbers...
    for _ in 0..3 {
        act(&original, &mut ledger, school, &Action::EditTitle { artifact: 0 });
        act(&copy, &mut ledger, school, &Action::EditTitle { artifact: 0 });
    }
    act(&copy, &mut ledger, school, &Action::NewStudent);
    let ids: BTreeSet<OpId> = ledger.acknowledged.iter().copied().collect();
    assert_eq!(ids.len(), ledger.acknowledged.len(), "no (replica, seq) was written twice");

    // ...and a third box that syncs with both holds everything from both, and all agree.
    let third_dir = tempfile::tempdir().unwrap();
    let third = Store::open(third_dir.path()).unwrap();
    let replicas = [&original, &copy, &third];
    let grant = Grant::whole_school(school);
    for _ in 0..2 {
        for from in replicas {
            for to in replicas {
                if from.replica() == to.replica() {
                    continue;
                }
                loop {
                    let page =
                        sync::ops_missing(from, &sync::positions(to, school).unwrap(), &grant, Limits::default())
                            .unwrap();
                    if page.spans.is_empty() {
                        break;
                    }
                    sync::apply_page(to, &page, &grant).unwrap();
                }
            }
        }
    }
    for id in &ledger.acknowledged {
        assert!(third.read(|r| r.logged(*id)).unwrap().is_some());
    }
    assert_eq!(third.canonical_dump().unwrap(), original.canonical_dump().unwrap());
    assert_eq!(third.canonical_dump().unwrap(), copy.canonical_dump().unwrap());
}
