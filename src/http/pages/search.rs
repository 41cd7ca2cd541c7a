//! The search page: a box on every page leads here. Results show a thumbnail or the kind of
//! work, the title, who made it and a highlighted snippet; filters are chips that a click
//! removes, and facet counts are links that add a filter. Plain links and one form, so it
//! works without JavaScript and with a keyboard.

use crate::i18n::{Msg, filters};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;

use super::{Chrome, PageResult, PageUser, page};
use crate::actions;
use crate::domain::ClassId;
use crate::http::AppState;
use crate::http::api::search::{DEFAULT_LIMIT, SearchParams, given};
use crate::search::SearchResults;
use crate::store::Queries;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

struct HitView {
    url: String,
    title: String,
    /// Escaped by the search module; only `<mark>` is markup.
    snippet: String,
    thumbnail: Option<String>,
    kind: String,
    owners: String,
    /// When it was made (ms since the epoch).
    date: u64,
}

struct Link {
    label: Msg,
    count: u64,
    url: String,
}

struct FacetGroup {
    /// A message id.
    name: &'static str,
    links: Vec<Link>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    searched: bool,
    total: usize,
    hits: Vec<HitView>,
    chips: Vec<Link>,
    facets: Vec<FacetGroup>,
    by_date: bool,
    sort_url: String,
    previous_url: Option<String>,
    next_url: Option<String>,
    first: usize,
    last: usize,
}

async fn search(
    State(state): State<AppState>,
    PageUser(me): PageUser,
    Query(params): Query<SearchParams>,
) -> PageResult {
    let chrome = Chrome::for_user("title-search", &me).in_section("search");
    let request = match params.to_request() {
        Ok(r) => r,
        Err(e) => return Ok(page(empty_page(chrome.with_error(&e), &params))),
    };
    let searched = !request.q.trim().is_empty() || params_have_filters(&params);
    if !searched {
        return Ok(page(empty_page(chrome, &params)));
    }
    let index = state.search.clone();
    let viewer = me.user.clone();
    let (results, class_names) = state
        .search_work(move |store| {
            let results = actions::search::search(store, &index, &viewer, &request)?;
            let names = store.read(|r| {
                let mut names = std::collections::HashMap::new();
                for id in results.facets.class.keys().chain(request.class.iter()) {
                    if let Ok(class_id) = id.parse::<ClassId>()
                        && let Some(class) = r.class(class_id)?
                    {
                        names.insert(id.clone(), class.name);
                    }
                }
                Ok::<_, crate::store::StoreError>(names)
            })?;
            Ok((results, names))
        })
        .await?;
    Ok(page(results_page(chrome, &params, results, &class_names)))
}

fn params_have_filters(p: &SearchParams) -> bool {
    [&p.class_id, &p.student_id, &p.tag, &p.skill, &p.kind, &p.activity_id, &p.from, &p.to]
        .iter()
        .any(|v| given(v).is_some())
}

fn empty_page(chrome: Chrome, params: &SearchParams) -> SearchPage {
    SearchPage {
        chrome,
        q: params.q.clone(),
        searched: false,
        total: 0,
        hits: Vec::new(),
        chips: Vec::new(),
        facets: Vec::new(),
        by_date: false,
        sort_url: String::new(),
        previous_url: None,
        next_url: None,
        first: 0,
        last: 0,
    }
}

fn results_page(
    chrome: Chrome,
    params: &SearchParams,
    results: SearchResults,
    class_names: &std::collections::HashMap<String, String>,
) -> SearchPage {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, crate::search::query::MAX_LIMIT);
    let offset = params.offset.unwrap_or(0);
    let class_label = |id: &str| class_names.get(id).map_or_else(|| Msg::id("search-a-class"), Msg::from);
    let kind_label = |k: &str| {
        let kind = crate::media::Kind::ALL.iter().find(|x| x.as_str() == k).map_or("other", |x| x.as_str());
        Msg::with("kind", vec![("kind", kind.into())])
    };
    // Every filter in place is a chip; following it removes that filter (and starts at page 1).
    let mut base = params.clone();
    base.offset = None;
    let mut chips = Vec::new();
    let mut chip = |label: Msg, clear: fn(&mut SearchParams)| {
        let mut without = base.clone();
        clear(&mut without);
        chips.push(Link { label, count: 0, url: url_for(&without) });
    };
    if let Some(v) = given(&params.class_id) {
        chip(Msg::with("search-chip-class", vec![("class", class_label(v).into())]), |p| p.class_id = None);
    }
    if given(&params.student_id).is_some() {
        chip(Msg::id("search-chip-student"), |p| p.student_id = None);
    }
    if let Some(v) = given(&params.tag) {
        chip(Msg::with("search-chip-tag", vec![("tag", v.into())]), |p| p.tag = None);
    }
    if let Some(v) = given(&params.skill) {
        chip(Msg::with("search-chip-skill", vec![("skill", v.into())]), |p| p.skill = None);
    }
    if let Some(v) = given(&params.kind) {
        chip(Msg::with("search-chip-kind", vec![("kind", kind_label(v).into())]), |p| p.kind = None);
    }
    if given(&params.activity_id).is_some() {
        chip(Msg::id("search-chip-activity"), |p| p.activity_id = None);
    }
    if let Some(v) = given(&params.from) {
        chip(Msg::with("search-chip-from", vec![("day", v.into())]), |p| p.from = None);
    }
    if let Some(v) = given(&params.to) {
        chip(Msg::with("search-chip-to", vec![("day", v.into())]), |p| p.to = None);
    }

    let facet = |name: &'static str,
                 counts: &std::collections::BTreeMap<String, u64>,
                 set: fn(&mut SearchParams, String),
                 label: &dyn Fn(&str) -> Msg| {
        let mut links: Vec<Link> = counts
            .iter()
            .map(|(value, count)| {
                let mut with = base.clone();
                set(&mut with, value.clone());
                Link { label: label(value), count: *count, url: url_for(&with) }
            })
            .collect();
        // Equal counts in the order of their values (labels are said later, in the page's language).
        links.sort_by_key(|l| std::cmp::Reverse(l.count));
        links.truncate(12);
        FacetGroup { name, links }
    };
    let facets = vec![
        facet("search-facet-kind", &results.facets.kind, |p, v| p.kind = Some(v), &kind_label),
        facet("search-facet-class", &results.facets.class, |p, v| p.class_id = Some(v), &class_label),
        facet("search-facet-tag", &results.facets.tag, |p, v| p.tag = Some(v), &|v| Msg::from(v.to_string())),
        facet("search-facet-skill", &results.facets.skill, |p, v| p.skill = Some(v), &|v| Msg::from(v.to_string())),
    ]
    .into_iter()
    .filter(|g| !g.links.is_empty())
    .collect();

    let by_date = params.sort.as_deref() == Some("date");
    let mut sorted = base.clone();
    sorted.sort = if by_date { None } else { Some("date".into()) };
    let page_at = |at: usize| {
        let mut p = params.clone();
        p.offset = Some(at).filter(|o| *o > 0);
        url_for(&p)
    };
    let hits: Vec<HitView> = results
        .hits
        .into_iter()
        .map(|h| HitView {
            url: format!("/work/{}", h.artifact_id),
            kind: h.kind,
            title: h.title,
            snippet: h.snippet,
            thumbnail: h.thumbnail,
            owners: h.owners,
            date: h.created_ms.max(0) as u64,
        })
        .collect();
    SearchPage {
        chrome,
        q: params.q.clone(),
        searched: true,
        total: results.total,
        first: if hits.is_empty() { 0 } else { offset + 1 },
        last: offset + hits.len(),
        hits,
        chips,
        facets,
        by_date,
        sort_url: url_for(&sorted),
        previous_url: (offset > 0).then(|| page_at(offset.saturating_sub(limit))),
        next_url: (offset + limit < results.total).then(|| page_at(offset + limit)),
    }
}

/// `/search?…` with the parameters that are set, in a stable order.
fn url_for(p: &SearchParams) -> String {
    let limit = p.limit.map(|l| l.to_string());
    let offset = p.offset.map(|o| o.to_string());
    let pairs: [(&str, Option<&String>); 12] = [
        ("q", Some(&p.q).filter(|q| !q.is_empty())),
        ("class_id", p.class_id.as_ref()),
        ("student_id", p.student_id.as_ref()),
        ("tag", p.tag.as_ref()),
        ("skill", p.skill.as_ref()),
        ("kind", p.kind.as_ref()),
        ("activity_id", p.activity_id.as_ref()),
        ("from", p.from.as_ref()),
        ("to", p.to.as_ref()),
        ("sort", p.sort.as_ref()),
        ("limit", limit.as_ref()),
        ("offset", offset.as_ref()),
    ];
    let query: Vec<String> =
        pairs.iter().filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| format!("{k}={}", encode(v)))).collect();
    format!("/search?{}", query.join("&"))
}

/// Percent-encoding for a query-string value.
fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
