//! A box offered some classes of a school: the attacks it made on the box holding the school,
//! the rule it keeps itself, whom it may give new secrets, and which side of a pairing offers.

use super::*;

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
fn a_class_box_never_makes_or_changes_a_school_leader() {
    // Leaders are school-wide accounts like administrators: no class holds them. An
    // enrolment is refused whole; the account's own operations never even leave the class
    // box (the leader's partition is outside its grant).
    let attempts = |lena: UserId, x: ClassId| {
        vec![
            (Scope::Class(x), Change::MemberAdded { class: x, user: lena, role: Role::Teacher }, true),
            (Scope::Class(x), Change::MemberAdded { class: x, user: lena, role: Role::Student }, true),
            (Scope::Person(lena), Change::PasswordSet { user: lena, hash: "class-box".into() }, false),
            (Scope::Person(lena), Change::UserRenamed { user: lena, display_name: "Mallory".into() }, false),
        ]
    };
    for index in 0..4 {
        let (m, s, b) = school_and_class_box();
        let lena = person(&m, s.id, "Lena", Role::Leader);
        pull(&m.store, &b.store, &offered(s.id, [s.x]), small());
        let grant_x = Grant::classes(s.id, [s.x]);
        edit_title(&b, s.id, s.ana_in_x, "Ana's bridge, finished");
        let (scope, change, sent) = attempts(lena, s.x).swap_remove(index);
        b.record(s.id, scope, change.clone());
        let page = push_page(&b, &m, &grant_x);
        assert_eq!(page.ops.iter().any(|op| op.change == change), sent, "{change:?}");
        if sent {
            refused_whole(&m, &page, &grant_x, "member_added");
        } else {
            apply_page(&m.store, &page, &grant_x).unwrap();
        }
        let leader = m.store.read(|r| r.user(lena)).unwrap().unwrap();
        assert_eq!((leader.display_name.as_str(), leader.password_hash.as_deref()), ("Lena", Some("hash-of-Lena")));
        assert!(m.store.read(|r| r.classes_of(lena)).unwrap().is_empty(), "{change:?}");
    }
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
        Change::ClassSettingsChanged {
            class: s.x,
            require_approval: Some(true),
            comments_allowed: None,
            family_sharing: None,
            hold_family_comments: None,
            family_sees_ratings: None,
        },
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
    b.store.write(|tx| tx.record(school, scope, Some(author), change.clone()))
}

#[test]
fn a_class_box_refuses_to_record_what_the_school_box_would_refuse_and_sync_goes_on() {
    let (m, s, b) = school_and_class_box();
    remember_joined(&b, crate::peers::PeerScope::Classes([(s.id, s.x)].into()));
    let grant_x = Grant::classes(s.id, [s.x]);
    let before = (b.dump(), b.store.read(|r| r.positions(s.id)).unwrap());

    // X's teacher adds a new student on the class box: refused, in plain words.
    let (dana, new_student) = new_student_dana();
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
    let (dana, new_student) = new_student_dana();
    let err = try_record(&b, s.id, Scope::Person(dana), s.teacher_x, new_student).expect_err("refused");
    assert!(matches!(err, StoreError::WholeSchoolOnly { .. }), "{err:?}");
}

/// A rating as `rater` records it on box `b`: one skill of the latest version of `artifact`.
fn rating(b: &Node, s: &School, artifact: ArtifactId, rater: UserId, level: u8) -> Result<Op, StoreError> {
    let a = b.store.read(|r| r.artifact(artifact)).unwrap().unwrap();
    let skill_id = crate::domain::skills::derived_id(s.id, &crate::domain::skills::code_key("FR.1"));
    let change = Change::ArtifactRated {
        artifact,
        version: a.latest().unwrap().id,
        ratings: vec![crate::domain::skills::SkillLevel { skill_id, level }],
        self_assessment: false,
    };
    try_record(b, s.id, a.partition(), rater, change)
}

fn levels_of(b: &Node, artifact: ArtifactId) -> Vec<u8> {
    b.store.read(|r| r.ratings(artifact)).unwrap().iter().map(|r| r.level).collect()
}

#[test]
fn a_class_box_s_ratings_of_its_class_s_work_reach_the_school_and_the_later_rating_wins_everywhere() {
    let (m, s, b) = school_and_class_box();
    let grant_x = Grant::classes(s.id, [s.x]);
    // The same teacher rates the same work on both boxes, offline: the later rating wins on
    // both, whichever arrives first.
    rating(&m, &s, s.ana_in_x, s.teacher_x, 2).unwrap();
    // A later millisecond, so the clocks (not the replica ids) decide.
    std::thread::sleep(std::time::Duration::from_millis(3));
    rating(&b, &s, s.ana_in_x, s.teacher_x, 3).unwrap();
    let page = push_page(&b, &m, &grant_x);
    apply_page(&m.store, &page, &grant_x).unwrap();
    pull(&m.store, &b.store, &offered(s.id, [s.x]), small());
    assert_eq!(levels_of(&m, s.ana_in_x), [3]);
    assert_eq!(levels_of(&b, s.ana_in_x), [3]);

    // A rating named as made by a teacher of another class is refused whole at the school.
    rating(&b, &s, s.ana_in_x, s.teacher_y, 1).unwrap();
    let page = push_page(&b, &m, &grant_x);
    let text = refused_whole(&m, &page, &grant_x, "artifact_rated");
    assert!(text.contains("not in the granted classes"), "{text}");
    assert_eq!(levels_of(&m, s.ana_in_x), [3]);
}

/// A new student, Dana: her id, and the operation that creates her.
fn new_student_dana() -> (UserId, Change) {
    let dana = UserId::new();
    let change = Change::UserCreated {
        user: dana,
        username: "dana".into(),
        display_name: "Dana".into(),
        role: Role::Student,
        external_id: None,
    };
    (dana, change)
}
