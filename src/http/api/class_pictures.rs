//! Picture sign-in for a whole class in one step: `POST /api/v1/classes/{id}/pictures`.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::credentials::{self, ClassPictures};
use crate::domain::{ClassId, UserId};
use crate::error::Result;
use crate::http::AppState;
use crate::http::extract::SignedIn;
use crate::http::openapi::{BadRequest, Forbidden, NotFound, Throttled, Unauthenticated};

use super::input::{Json, Path, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(class_pictures))
}

#[derive(Deserialize, IntoParams)]
struct PicturesQuery {
    /// `true`: every student gets new pictures, those who had some too (their old pictures
    /// and QR card stop working). Otherwise only students with no pictures get some.
    #[serde(default)]
    everyone: bool,
}

#[derive(Serialize, ToSchema)]
struct GivenPictures {
    user_id: UserId,
    display_name: String,
    /// The three pictures, in order (shown once: only their hash is kept).
    pictures: Vec<&'static str>,
}

#[derive(Serialize, ToSchema)]
struct KeptPictures {
    user_id: UserId,
    display_name: String,
    /// Whether the student signs in with pictures.
    has_pictures: bool,
}

#[derive(Serialize, ToSchema)]
struct ClassPicturesView {
    class_id: ClassId,
    /// The students who got new pictures.
    given: Vec<GivenPictures>,
    /// The students whose pictures did not change.
    kept: Vec<KeptPictures>,
}

impl From<ClassPictures> for ClassPicturesView {
    fn from(done: ClassPictures) -> Self {
        ClassPicturesView {
            class_id: done.class.id,
            given: done
                .given
                .into_iter()
                .map(|(u, sequence)| GivenPictures {
                    user_id: u.id,
                    display_name: u.display_name,
                    pictures: sequence.stems(),
                })
                .collect(),
            kept: done
                .kept
                .into_iter()
                .map(|u| KeptPictures {
                    user_id: u.id,
                    has_pictures: u.pictures_hash.is_some(),
                    display_name: u.display_name,
                })
                .collect(),
        }
    }
}

/// Gives every student of the class who has no sign-in pictures yet three random ones (its
/// teachers and administrators). Students who have pictures keep them unless `everyone`.
#[utoipa::path(
    post,
    path = "/api/v1/classes/{id}/pictures",
    tag = "classes",
    params(("id" = ClassId, Path, description = "The class's id"), PicturesQuery),
    responses(
        (status = 200, description = "Who got pictures (with them) and who kept theirs", body = ClassPicturesView),
        BadRequest,
        Unauthenticated,
        Forbidden,
        NotFound,
        Throttled,
    )
)]
async fn class_pictures(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<PicturesQuery>,
) -> Result<Json<ClassPicturesView>> {
    let id: ClassId = super::parse_id(&id)?;
    let done = credentials::class_pictures(&state, &state.guard, &me, id, q.everyone).await?;
    Ok(Json(done.into()))
}
