//! The home page, different for each role.

use crate::i18n::filters;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;

use super::work::{WorkTile, student_tiles};
use super::work_form::WorkForm;
use super::{Chrome, DoneQuery, PageResult, PageUser, notice_text, page};
use crate::actions::{work, work_form};
use crate::domain::{ActivityId, Class, Role, UserId};
use crate::http::AppState;
use crate::store::Queries;

pub fn router() -> Router<AppState> {
    Router::new().route("/home", get(home))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    name: String,
    role: &'static str,
    school_name: String,
    classes: Vec<Class>,
    class_count: usize,
    people_count: usize,
    /// Teachers: work waiting for review.
    review_count: usize,
    /// Students: feedback they have not opened yet; their work and activities.
    new_feedback: usize,
    work: Vec<WorkTile>,
    empty: &'static str,
    activities: Vec<(ActivityId, String, Option<String>)>,
    /// Students: the new-work form's skills and classmates.
    form: WorkForm,
    /// Families: the students linked to them, each with what is new since the last visit.
    children: Vec<FamilyChild>,
}

/// One child on a family's home page: work (or feedback on it) not opened since it arrived,
/// and the rest of what is shared with the family.
struct FamilyChild {
    id: UserId,
    name: String,
    fresh: Vec<WorkTile>,
    earlier: Vec<WorkTile>,
}

/// The family's feed, per child: each piece of work once, in the newest item's place.
fn family_children(store: &crate::store::Store, user: &crate::domain::User) -> crate::error::Result<Vec<FamilyChild>> {
    use crate::actions::family::{FeedKind, feed};
    let children = store.read(|r| r.students_of_family(user.id))?;
    let items = feed(store, user)?;
    let mut out = Vec::new();
    for child in children {
        let mut placed = std::collections::BTreeSet::new();
        let (mut fresh, mut earlier) = (Vec::new(), Vec::new());
        for item in items.iter().filter(|i| i.student == child.id) {
            if !placed.insert(item.artifact.id) {
                continue;
            }
            let is_new = items.iter().any(|i| i.artifact.id == item.artifact.id && i.new);
            let new_feedback = items
                .iter()
                .filter(|i| i.artifact.id == item.artifact.id && i.new && i.kind == FeedKind::Feedback)
                .count();
            // Every tile on the "new" shelf says why: feedback to read, or new work.
            let tile = WorkTile::new(&item.artifact, new_feedback);
            if is_new { fresh.push(tile) } else { earlier.push(tile) }
        }
        out.push(FamilyChild { id: child.id, name: child.display_name, fresh, earlier });
    }
    Ok(out)
}

async fn home(State(state): State<AppState>, PageUser(me): PageUser, Query(q): Query<DoneQuery>) -> PageResult {
    let user = me.user.clone();
    let page_data = state.read_now(move |store| {
        let mut p = HomePage {
            chrome: Chrome::anonymous(String::new()),
            name: user.display_name.clone(),
            role: user.role.as_str(),
            school_name: String::new(),
            classes: Vec::new(),
            class_count: 0,
            people_count: 0,
            review_count: 0,
            new_feedback: 0,
            work: Vec::new(),
            empty: "work-empty-home",
            activities: Vec::new(),
            form: WorkForm::default(),
            children: Vec::new(),
        };
        store.read(|r| {
            p.school_name = r.school(user.school)?.map(|s| s.name).unwrap_or_default();
            p.classes = r.classes_of(user.id)?.into_iter().map(|(c, _)| c).collect();
            if matches!(user.role, Role::Admin | Role::Leader) {
                p.class_count = r.classes_in_school(user.school)?.len();
            }
            if user.role == Role::Admin {
                p.people_count = r.users_in_school(user.school)?.len();
            }
            if user.role == Role::Student {
                for class in &p.classes {
                    for a in r.activities_of_class(class.id)? {
                        p.activities.push((a.id, a.title, a.due));
                    }
                }
            }
            Ok::<_, crate::error::Error>(())
        })?;
        if user.role == Role::Teacher {
            p.review_count = store.read(|r| work::review_queue_summaries(r, &user))?.len();
        }
        if user.role == Role::Family {
            p.children = family_children(store, &user)?;
        }
        if user.role == Role::Student {
            p.form = WorkForm::student(store.read(|r| work_form::for_student(r, &user, None))?, None);
            p.work = student_tiles(store, &user)?;
            // Each tile counts its feedback since the student last opened the work.
            p.new_feedback = p.work.iter().map(|t| t.fresh).sum();
        }
        Ok(p)
    })?;
    let student = me.user.role == Role::Student;
    let res = page(HomePage {
        chrome: Chrome::for_user("title-home", &me).in_section("home").with_notice(notice_text(q.done.as_deref())),
        ..page_data
    });
    // A student's home is their portfolio and the new-work form: kept on their device.
    Ok(if student { crate::http::offline::keep(res, me.user.id) } else { res })
}
