//! The admin's "Other boxes" page (`/admin/peers`): this box's id, the boxes it is paired
//! with and how syncing with each has gone, and the forms to invite a box, join one, sync
//! now and unpair. Plain forms with the session's token, like every admin page.

use crate::i18n::{Msg, filters};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, CsrfForm, DoneQuery, PageForm, PageId, PageResult, PageUser, render, see_other};
use crate::domain::policy;
use crate::error::Error;
use crate::http::AppState;
use crate::peers::{self, BoxId, Peer};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/peers", get(show))
        .route("/admin/peers/invite", post(invite))
        .route("/admin/peers/join", post(join))
        .route("/admin/peers/{id}/sync", post(sync_now))
        .route("/admin/peers/{id}/unpair", post(unpair))
}

struct PeerRow {
    id: String,
    short_id: String,
    address: Option<String>,
    scope: Msg,
    /// When it last synced, in UTC (`None`: never).
    last_sync: Option<String>,
    ops_sent: u64,
    ops_received: u64,
    bytes_sent: u64,
    bytes_received: u64,
    files_sent: u64,
    files_received: u64,
    files_pending: u64,
    last_error: Option<String>,
}

impl From<Peer> for PeerRow {
    fn from(p: Peer) -> Self {
        let st = p.status;
        PeerRow {
            id: p.id.to_string(),
            short_id: p.id.short(),
            address: p.addresses.first().cloned(),
            scope: scope_text(&p.scope),
            last_sync: st.last_sync_ms.map(plain_date),
            ops_sent: st.ops_sent,
            ops_received: st.ops_received,
            bytes_sent: st.bytes_sent,
            bytes_received: st.bytes_received,
            files_sent: st.files_sent,
            files_received: st.files_received,
            files_pending: st.files_pending,
            last_error: st.last_error,
        }
    }
}

/// "2026-03-01 14:05 UTC": the box has no idea of the reader's time zone.
/// What a paired box shares, in words of the page's language.
fn scope_text(scope: &crate::domain::peer::PeerScope) -> Msg {
    match scope {
        crate::domain::peer::PeerScope::WholeSchools => Msg::id("peers-scope-whole"),
        crate::domain::peer::PeerScope::Classes(classes) => {
            let schools: std::collections::BTreeSet<_> = classes.iter().map(|(s, _)| s).collect();
            Msg::with("peers-scope-classes", vec![("classes", classes.len().into()), ("schools", schools.len().into())])
        }
    }
}

fn plain_date(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => {
            format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
        }
        Err(_) => "?".into(),
    }
}

struct InvitationView {
    token: String,
    qr_svg: Option<String>,
    expires: String,
}

#[derive(Template)]
#[template(path = "peers.html")]
struct PeersPage {
    chrome: Chrome,
    box_id: String,
    short_id: String,
    peer_port: Option<u16>,
    addresses: String,
    peers: Vec<PeerRow>,
    invitation: Option<InvitationView>,
    nearby: super::peers_nearby::NearbySection,
    bundles: super::peers_nearby::BundlesSection,
}

fn admin_only(me: &PageUser) -> Result<(), Error> {
    if policy::can_manage_boxes(&me.0.user) { Ok(()) } else { Err(Error::NotFound) }
}

async fn peers_page(
    state: &AppState,
    me: &PageUser,
    error: Option<Error>,
    notice: Option<crate::i18n::Msg>,
    invitation: Option<InvitationView>,
) -> PageResult {
    let peers = state.db(|store| Ok(store.peers()?)).await?;
    let (nearby, bundles) = super::peers_nearby::sections(state, me).await?;
    let (chrome, status) = Chrome::for_user("title-peers", &me.0).in_section("peers").with_outcome(error.as_ref(), 0);
    let net = &state.net;
    let page = PeersPage {
        chrome: chrome.with_notice(notice),
        box_id: net.id().to_string(),
        short_id: net.id().short(),
        peer_port: net.listen.map(|a| a.port()),
        addresses: net.addresses().join(", "),
        peers: peers.into_iter().map(PeerRow::from).collect(),
        invitation,
        nearby,
        bundles,
    };
    Ok(render(status, page))
}

fn notice(done: Option<&str>) -> Option<Msg> {
    Some(Msg::id(match done? {
        "joined" => "notice-peer-joined",
        "synced" => "notice-peer-synced",
        "unpaired" => "notice-peer-unpaired",
        _ => return None,
    }))
}

async fn show(State(state): State<AppState>, me: PageUser, Query(q): Query<DoneQuery>) -> PageResult {
    admin_only(&me)?;
    peers_page(&state, &me, None, notice(q.done.as_deref()), None).await
}

async fn invite(State(state): State<AppState>, me: PageUser, PageForm(_): PageForm<CsrfForm>) -> PageResult {
    admin_only(&me)?;
    match peers::pairing::invite(&state, None).await {
        Ok(inv) => {
            // A token too long for a QR code (many addresses) is still good as text.
            let qr_svg = crate::http::qr_svg(&inv.token).ok();
            let view = InvitationView { token: inv.token, qr_svg, expires: plain_date(inv.expires_ms) };
            // Shown once, on this answer: the token is never in a URL or a log.
            peers_page(&state, &me, None, None, Some(view)).await
        }
        Err(e) => peers_page(&state, &me, Some(e), None, None).await,
    }
}

#[derive(Deserialize)]
struct JoinForm {
    token: String,
}

async fn join(State(state): State<AppState>, me: PageUser, PageForm(form): PageForm<JoinForm>) -> PageResult {
    admin_only(&me)?;
    match peers::pairing::join(&state, &form.token, None).await {
        Ok(peer) => {
            peers::schedule::nudge(&state.net, peer.id);
            Ok(see_other("/admin/peers?done=joined"))
        }
        Err(e) => peers_page(&state, &me, Some(e), None, None).await,
    }
}

async fn sync_now(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<BoxId>,
    PageForm(_): PageForm<CsrfForm>,
) -> PageResult {
    admin_only(&me)?;
    match peers::sync::with_peer(&state, id).await {
        Ok(_) => Ok(see_other("/admin/peers?done=synced")),
        Err(e) => peers_page(&state, &me, Some(Error::BadGateway(e.to_string())), None, None).await,
    }
}

#[derive(Deserialize)]
struct UnpairForm {
    #[serde(default)]
    confirm: Option<String>,
}

async fn unpair(
    State(state): State<AppState>,
    me: PageUser,
    PageId(id): PageId<BoxId>,
    PageForm(form): PageForm<UnpairForm>,
) -> PageResult {
    admin_only(&me)?;
    if form.confirm.as_deref() != Some("yes") {
        let e = Error::Refused(Msg::id("error-unpair-confirm"));
        return peers_page(&state, &me, Some(e), None, None).await;
    }
    peers::pairing::unpair(&state, id).await?;
    Ok(see_other("/admin/peers?done=unpaired"))
}
