//! Ratings of work against the school's skills: `GET` and `PUT /api/v1/artifacts/{id}/assessment`.

use std::collections::HashMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::assessment::{self, Assessment, NewRatings};
use crate::domain::skills::SkillLevel;
use crate::domain::{ArtifactId, SkillId, UserId, VersionId};
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{Forbidden, JsonBody, NotFound, Unauthenticated};
use crate::store::{Queries, ReadTables};

use super::input::{Json, Path};
use super::skills::{LevelView, level_views};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_assessment, put_assessment))
}

/// One rating: who rated which skill of which version, at what level, when.
#[derive(Serialize, ToSchema)]
struct RatingView {
    skill_id: SkillId,
    /// The skill's code as it is now.
    code: String,
    level: u8,
    level_name: String,
    version_id: VersionId,
    rater_id: UserId,
    rater_name: String,
    /// The student rated their own work.
    #[serde(rename = "self")]
    self_assessment: bool,
    /// When it was rated (ms since 1970).
    at_ms: u64,
}

#[derive(Serialize, ToSchema)]
struct AssessmentView {
    artifact_id: ArtifactId,
    /// The version a rating without `version_id` is for.
    latest_version_id: Option<VersionId>,
    /// The scale, lowest first.
    levels: Vec<LevelView>,
    /// Oldest first; each rater's latest per version and skill.
    ratings: Vec<RatingView>,
}

fn view(r: &impl ReadTables, a: Assessment) -> Result<AssessmentView> {
    let mut names: HashMap<UserId, String> = HashMap::new();
    let mut codes: HashMap<SkillId, String> = HashMap::new();
    let mut ratings = Vec::new();
    for rating in a.ratings {
        if let std::collections::hash_map::Entry::Vacant(e) = names.entry(rating.rater) {
            e.insert(r.user(rating.rater)?.map(|u| u.display_name).unwrap_or_default());
        }
        if let std::collections::hash_map::Entry::Vacant(e) = codes.entry(rating.skill) {
            e.insert(r.skill(a.artifact.school, rating.skill)?.map(|s| s.code).unwrap_or_default());
        }
        ratings.push(RatingView {
            skill_id: rating.skill,
            code: codes[&rating.skill].clone(),
            level: rating.level,
            level_name: a.levels.get(usize::from(rating.level).saturating_sub(1)).cloned().unwrap_or_default(),
            version_id: rating.version,
            rater_id: rating.rater,
            rater_name: names[&rating.rater].clone(),
            self_assessment: rating.self_assessment,
            at_ms: rating.clock.ms,
        });
    }
    Ok(AssessmentView {
        artifact_id: a.artifact.id,
        latest_version_id: a.artifact.latest().map(|v| v.id),
        levels: level_views(&a.levels),
        ratings,
    })
}

/// The ratings of a piece of work: its teachers and students see them; its families when
/// the class allows; anyone else gets 404.
#[utoipa::path(
    get,
    path = "/api/v1/artifacts/{id}/assessment",
    tag = "artifacts",
    params(("id" = ArtifactId, Path, description = "The artifact's id")),
    responses((status = 200, description = "The ratings", body = AssessmentView), Unauthenticated, NotFound)
)]
async fn get_assessment(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ArtifactId>,
) -> Result<Json<AssessmentView>> {
    let view = state.db(move |store| store.read(|r| view(r, assessment::assessment(r, &me.user, id)?))).await?;
    Ok(Json(view))
}

#[derive(Deserialize, ToSchema)]
struct RatingsRequest {
    ratings: Vec<SkillLevel>,
    /// The version rated; the latest when left out.
    #[serde(default)]
    version_id: Option<VersionId>,
    /// A student rating their own work.
    #[serde(default, rename = "self")]
    self_assessment: bool,
}

/// Rates skills of a version of the work: its teachers, or (with `"self": true`) its
/// students. A new rating of the same skill and version by the same person replaces theirs.
#[utoipa::path(
    put,
    path = "/api/v1/artifacts/{id}/assessment",
    tag = "artifacts",
    params(("id" = ArtifactId, Path, description = "The artifact's id")),
    request_body = RatingsRequest,
    responses((status = 200, description = "The ratings now", body = AssessmentView), JsonBody, Unauthenticated, Forbidden, NotFound)
)]
async fn put_assessment(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<ArtifactId>,
    Json(req): Json<RatingsRequest>,
) -> Result<Json<AssessmentView>> {
    let new = NewRatings { version: req.version_id, ratings: req.ratings, self_assessment: req.self_assessment };
    let view = state
        .db(move |store| {
            let done = assessment::rate(store, &me.user, id, new)?;
            store.read(|r| view(r, done))
        })
        .await?;
    Ok(Json(view))
}
