//! The admin's sections about other boxes that are not pairing itself: "Nearby boxes" (what
//! mDNS found, and adding a paired box's address by hand) and "USB bundles" (download for a
//! paired box, import from one). Each is a template include (`peers_nearby.html`,
//! `peers_bundles.html`) with its data ([`NearbySection`], [`BundlesSection`]), so the peers
//! page can show them; `/admin/peers/nearby` shows both on their own.

use crate::i18n::filters;
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, DoneQuery, PageForm, PageResult, PageUser, render, see_other};
use crate::error::Error;
use crate::http::AppState;
use crate::http::api::nearby::{AddAddress, nearby, record_address};
use crate::store::peers as store_peers;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/peers/nearby", get(show))
        .route("/admin/peers/address", post(add_address))
        .route("/admin/peers/bundle", post(import_bundle).layer(axum::extract::DefaultBodyLimit::disable()))
}

pub struct NearbyRow {
    pub short: String,
    pub addresses: String,
    pub paired: bool,
    /// "12 s ago"
    pub seen: String,
}

pub struct PeerChoice {
    pub id: String,
    pub short: String,
}

/// What `peers_nearby.html` shows.
pub struct NearbySection {
    pub mdns_on: bool,
    pub boxes: Vec<NearbyRow>,
    pub peers: Vec<PeerChoice>,
    pub csrf: String,
}

/// What `peers_bundles.html` shows.
pub struct BundlesSection {
    pub peers: Vec<PeerChoice>,
    pub csrf: String,
}

/// Both sections' data, for `me`'s page.
pub async fn sections(state: &AppState, me: &PageUser) -> Result<(NearbySection, BundlesSection), Error> {
    let now = crate::domain::hlc::wall_clock_ms();
    let boxes = nearby(state)
        .await?
        .into_iter()
        .map(|b| NearbyRow {
            addresses: b.addresses.iter().map(|a| format!("{a} (port {})", b.port)).collect::<Vec<_>>().join(", "),
            paired: b.paired,
            seen: ago(now.saturating_sub(b.last_seen_ms)),
            short: b.box_id_short,
        })
        .collect();
    let peers: Vec<PeerChoice> = state
        .db(|store| Ok(store.read(store_peers::peers)?))
        .await?
        .into_iter()
        .map(|p| PeerChoice { id: p.id.to_string(), short: p.id.short() })
        .collect();
    let csrf = me.0.session.csrf_token.clone();
    Ok((
        NearbySection {
            mdns_on: state.config.mdns,
            boxes,
            peers: peers.iter().map(|p| PeerChoice { id: p.id.clone(), short: p.short.clone() }).collect(),
            csrf: csrf.clone(),
        },
        BundlesSection { peers, csrf },
    ))
}

fn ago(ms: u64) -> String {
    match ms / 1000 {
        0..=9 => "just now".into(),
        s @ 10..=119 => format!("{s} s ago"),
        s => format!("{} min ago", s / 60),
    }
}

#[derive(Template)]
#[template(path = "peers_nearby_page.html")]
struct NearbyPage {
    chrome: Chrome,
    nearby: NearbySection,
    bundles: BundlesSection,
}

fn admin_only(me: &PageUser) -> Result<(), Error> {
    crate::http::api::bundles::admin_only(&me.0)
}

async fn page(state: &AppState, me: &PageUser, notice: Option<crate::i18n::Msg>, error: Option<Error>) -> PageResult {
    let (nearby, bundles) = sections(state, me).await?;
    let (chrome, status) = Chrome::for_user("title-peers", &me.0).with_notice(notice).with_outcome(error.as_ref(), 0);
    Ok(render(status, NearbyPage { chrome, nearby, bundles }))
}

async fn show(State(state): State<AppState>, me: PageUser, Query(q): Query<DoneQuery>) -> PageResult {
    admin_only(&me)?;
    let notice = (q.done.as_deref() == Some("address"))
        .then(|| "Address added. This box tries it at the next sync.".to_string());
    page(&state, &me, notice.map(Into::into), None).await
}

#[derive(Deserialize)]
struct AddressForm {
    peer_id: String,
    address: String,
}

async fn add_address(State(state): State<AppState>, me: PageUser, PageForm(form): PageForm<AddressForm>) -> PageResult {
    admin_only(&me)?;
    match record_address(&state, AddAddress { peer_id: form.peer_id, address: form.address }).await {
        Ok(_) => Ok(see_other("/admin/peers/nearby?done=address")),
        Err(e) => page(&state, &me, None, Some(e)).await,
    }
}

/// The file part of the form streams into the importer, never whole in memory.
async fn import_bundle(State(state): State<AppState>, me: PageUser, mut form: Multipart) -> PageResult {
    admin_only(&me)?;
    me.check_multipart_csrf(&mut form).await?;
    let field = loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("bundle") => break field,
            Ok(Some(_)) => continue,
            Ok(None) => {
                return page(&state, &me, None, Some(Error::Invalid("Choose the bundle file to import.".into()))).await;
            }
            Err(e) => return Err(Error::Invalid(format!("The upload could not be read: {e}")).into()),
        }
    };
    let chunks = futures_util::StreamExt::map(field, |c| c.map_err(std::io::Error::other));
    match crate::peers::bundle::serve::import(&state, None, chunks).await {
        Ok(report) => {
            tracing::info!(by = %me.0.user.username, "imported a bundle on the admin page: {}", report.describe());
            let mut text = report.describe();
            if let Some(first) = text.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            page(&state, &me, Some(format!("Bundle imported: {text}.").into()), None).await
        }
        Err(e) => page(&state, &me, None, Some(e.into())).await,
    }
}
