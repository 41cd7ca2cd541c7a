//! From what someone typed to hits they may open.
//!
//! Words are matched exactly (accents folded), by stem in the school's language, with typos
//! in longer words (one edit from 5 letters, two from 9), and the last word as a prefix while
//! it is being typed. `"quoted words"` are phrases. Every query is wrapped in the caller's
//! principals (see `domain::audience`), so tantivy never counts what the caller cannot open.

use std::collections::BTreeMap;
use std::ops::Bound;

use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use super::expand::Expansions;
use super::schema::{self, Fields};
use super::{SearchError, SearchIndex};
use crate::domain::Language;
use crate::domain::audience::Principal;
use crate::domain::markup::escape;

pub const MAX_LIMIT: usize = 100;
const SNIPPET_CHARS: usize = 180;
/// The facets counted, as the indexer writes them (`/kind/image`, `/tag/art`, ...).
const FACET_ROOTS: [&str; 4] = ["/kind", "/class", "/tag", "/skill"];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Relevance,
    Date,
}

/// A search, with every filter optional. Ids are as they appear in URLs.
#[derive(Clone, Debug, Default)]
pub struct SearchRequest {
    pub q: String,
    pub class: Option<String>,
    pub student: Option<String>,
    pub tag: Option<String>,
    pub skill: Option<String>,
    pub kind: Option<String>,
    pub activity: Option<String>,
    /// Made on or after / before (ms since the epoch).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub sort: Sort,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub artifact_id: String,
    pub title: String,
    /// HTML: the text around the best matches, escaped, with matches in `<mark>`.
    pub snippet: String,
    pub score: f32,
    pub kind: String,
    pub owners: String,
    pub created_ms: i64,
    /// Path of a thumbnail, when the work has an image.
    pub thumbnail: Option<String>,
}

/// Counts by facet value, over every hit the caller may open (not just this page).
#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Facets {
    pub kind: BTreeMap<String, u64>,
    pub class: BTreeMap<String, u64>,
    pub tag: BTreeMap<String, u64>,
    pub skill: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

/// One word of the query, prepared for matching and for highlighting.
#[derive(Clone, Debug)]
struct Word {
    folded: String,
    stem: String,
    typos: u8,
    prefix: bool,
}

/// The parts of a query: single words and phrases (several words in order).
#[derive(Debug, Default)]
struct Parsed {
    words: Vec<Word>,
    phrases: Vec<Vec<String>>,
}

fn typos_allowed(word: &str) -> u8 {
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

fn parse(q: &str, language: Language) -> Parsed {
    let mut folded = schema::folded();
    let mut stemmed = schema::stemmed(language);
    let mut parsed = Parsed::default();
    // Whether the person is still typing the last word: then it is also a prefix.
    let typing = !q.ends_with(char::is_whitespace) && !q.ends_with('"');
    let mut pieces: Vec<(String, bool)> = Vec::new();
    for (i, part) in q.split('"').enumerate() {
        let quoted = i % 2 == 1;
        if quoted {
            pieces.push((part.to_string(), true));
        } else {
            pieces.extend(part.split_whitespace().map(|w| (w.to_string(), false)));
        }
    }
    let last = pieces.len().saturating_sub(1);
    for (i, (piece, quoted)) in pieces.into_iter().enumerate() {
        let tokens = schema::words(&mut folded, &piece);
        match tokens.len() {
            0 => {}
            // One word, quoted or not, is a word: tantivy panics on a phrase of one term
            // (a quoted letter, `"a"`, once answered 500), so only 2 or more make a phrase.
            1 => {
                let token = tokens.into_iter().next().expect("one token");
                let stem = schema::words(&mut stemmed, &token).into_iter().next().unwrap_or_default();
                parsed.words.push(Word {
                    typos: if quoted { 0 } else { typos_allowed(&token) },
                    prefix: !quoted && i == last && typing && token.chars().count() >= 2,
                    folded: token,
                    stem,
                });
            }
            _ => parsed.phrases.push(tokens),
        }
    }
    parsed
}

fn term(field: tantivy::schema::Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

fn term_query(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(term(field, text), IndexRecordOption::WithFreqsAndPositions))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

/// Documents with any of `words` in `field`, read lazily (a union of term postings).
fn any_term<'a>(field: tantivy::schema::Field, words: impl IntoIterator<Item = &'a str>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        words
            .into_iter()
            .map(|w| {
                (Occur::Should, Box::new(TermQuery::new(term(field, w), IndexRecordOption::Basic)) as Box<dyn Query>)
            })
            .collect(),
    ))
}

/// What a typo or prefix word matches in `field`, scored `boost` whatever it matched (as
/// tantivy's fuzzy query scores): the cached terms it expands to, or, when it expands to too
/// many, tantivy's own automaton query.
fn expanded(
    searcher: &Searcher,
    expansions: &Expansions,
    field: tantivy::schema::Field,
    word: &Word,
    prefix: bool,
    boost: f32,
) -> Result<Option<Box<dyn Query>>, SearchError> {
    let typos = if prefix { 0 } else { word.typos };
    let query: Box<dyn Query> = match expansions.terms(searcher, field, &word.folded, typos, prefix)? {
        Some(terms) if terms.is_empty() => return Ok(None),
        Some(terms) => any_term(field, terms.iter().map(String::as_str)),
        None if prefix => Box::new(FuzzyTermQuery::new_prefix(term(field, &word.folded), 0, true)),
        None => Box::new(FuzzyTermQuery::new(term(field, &word.folded), typos, true)),
    };
    Ok(Some(Box::new(ConstScoreQuery::new(query, boost))))
}

fn word_query(
    searcher: &Searcher,
    expansions: &Expansions,
    f: &Fields,
    language: Language,
    word: &Word,
) -> Result<Box<dyn Query>, SearchError> {
    let mut any: Vec<(Occur, Box<dyn Query>)> = vec![
        (Occur::Should, boosted(term_query(f.title, &word.folded), 3.0)),
        (Occur::Should, term_query(f.body, &word.folded)),
    ];
    if !word.stem.is_empty() {
        any.push((Occur::Should, boosted(term_query(f.stem(language), &word.stem), 0.9)));
    }
    if word.typos > 0 {
        for (field, boost) in [(f.title, 1.0), (f.body, 0.4)] {
            any.extend(expanded(searcher, expansions, field, word, false, boost)?.map(|q| (Occur::Should, q)));
        }
    }
    if word.prefix {
        for (field, boost) in [(f.title, 1.5), (f.body, 0.6)] {
            any.extend(expanded(searcher, expansions, field, word, true, boost)?.map(|q| (Occur::Should, q)));
        }
    }
    Ok(Box::new(BooleanQuery::new(any)))
}

fn phrase_query(f: &Fields, words: &[String]) -> Box<dyn Query> {
    if let [word] = words {
        // `parse` never makes such a phrase; kept so one can never reach PhraseQuery::new.
        return Box::new(BooleanQuery::new(vec![
            (Occur::Should, boosted(term_query(f.title, word), 3.0)),
            (Occur::Should, term_query(f.body, word)),
        ]));
    }
    let terms = |field| words.iter().map(|w| term(field, w)).collect::<Vec<_>>();
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, boosted(Box::new(PhraseQuery::new(terms(f.title))), 3.0)),
        (Occur::Should, Box::new(PhraseQuery::new(terms(f.body)))),
    ]))
}

/// Only the documents of audiences the caller belongs to, and of those only the widest.
///
/// The principals are indexed terms, so this is a union of their postings inside the query:
/// tantivy reads them only as far as the other clauses lead it, and nothing is marked per
/// readable document (`TermSetQuery` built a lookup automaton and a bitset of every document
/// the caller could read, on every query). It adds the same constant 1 to every score.
fn access_query(f: &Fields, held: &[Principal]) -> Box<dyn Query> {
    let held = || held.iter().map(String::as_str);
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, Box::new(ConstScoreQuery::new(any_term(f.readers, held()), 1.0)) as Box<dyn Query>),
        (Occur::MustNot, any_term(f.outranked_by, held())),
    ]))
}

impl SearchIndex {
    /// Runs a search for someone holding `held` principals in a school searching in
    /// `language`. With no principals (a disabled account) nothing is found.
    pub fn search(
        &self,
        held: &[Principal],
        language: Language,
        request: &SearchRequest,
    ) -> Result<SearchResults, SearchError> {
        if held.is_empty() {
            return Ok(SearchResults::default());
        }
        let searcher = self.reader.searcher();
        let parsed = parse(&request.q, language);
        let query = self.query(&searcher, held, language, request, &parsed)?;
        self.run(&searcher, &*query, language, request, &parsed)
    }

    /// The tantivy query folio runs for this search (for the benchmark's bare baseline: the
    /// same query on the same index without HTTP, facets or snippets).
    #[doc(hidden)]
    pub fn bare_query(
        &self,
        held: &[Principal],
        language: Language,
        request: &SearchRequest,
    ) -> Result<(Searcher, Box<dyn Query>), SearchError> {
        let searcher = self.reader.searcher();
        let query = self.query(&searcher, held, language, request, &parse(&request.q, language))?;
        Ok((searcher, query))
    }

    fn query(
        &self,
        searcher: &Searcher,
        held: &[Principal],
        language: Language,
        request: &SearchRequest,
        parsed: &Parsed,
    ) -> Result<Box<dyn Query>, SearchError> {
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, access_query(f, held))];
        for word in &parsed.words {
            clauses.push((Occur::Must, word_query(searcher, &self.expansions, f, language, word)?));
        }
        for phrase in &parsed.phrases {
            clauses.push((Occur::Must, phrase_query(f, phrase)));
        }
        let filters = [
            (f.class, &request.class),
            (f.owner, &request.student),
            (f.tag, &request.tag),
            (f.skill, &request.skill),
            (f.kind, &request.kind),
            (f.activity, &request.activity),
        ];
        for (field, value) in filters {
            if let Some(value) = value {
                clauses.push((Occur::Must, Box::new(TermQuery::new(term(field, value), IndexRecordOption::Basic))));
            }
        }
        if request.from_ms.is_some() || request.to_ms.is_some() {
            let bound = |ms: Option<i64>, inclusive: bool| match ms {
                None => Bound::Unbounded,
                Some(ms) if inclusive => Bound::Included(Term::from_field_i64(f.created, ms)),
                Some(ms) => Bound::Excluded(Term::from_field_i64(f.created, ms)),
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(request.from_ms, true), bound(request.to_ms, false))),
            ));
        }
        if parsed.words.is_empty() && parsed.phrases.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    fn run(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        language: Language,
        request: &SearchRequest,
        parsed: &Parsed,
    ) -> Result<SearchResults, SearchError> {
        let f = &self.fields;
        let limit = request.limit.clamp(1, MAX_LIMIT);
        let mut facet_collector = FacetCollector::for_field("facets");
        for root in FACET_ROOTS {
            facet_collector.add_facet(root);
        }
        let top = TopDocs::with_limit(limit).and_offset(request.offset);
        let by_relevance = request.sort == Sort::Relevance && !(parsed.words.is_empty() && parsed.phrases.is_empty());
        let (total, facet_counts, page): (usize, _, Vec<(f32, DocAddress)>) = if by_relevance {
            searcher.search(query, &(Count, facet_collector, top))?
        } else {
            let (total, counts, newest) = searcher
                .search(query, &(Count, facet_collector, top.order_by_fast_field::<i64>("created", Order::Desc)))?;
            (total, counts, newest.into_iter().map(|(_, address)| (0.0, address)).collect())
        };

        let mut facets = Facets::default();
        let [kind, class, tag, skill] = FACET_ROOTS;
        for (root, into) in
            [(kind, &mut facets.kind), (class, &mut facets.class), (tag, &mut facets.tag), (skill, &mut facets.skill)]
        {
            for (facet, count) in facet_counts.get(root) {
                if let Some(value) = facet.to_path().last() {
                    into.insert(value.to_string(), count);
                }
            }
        }

        let mut stemmer = schema::stemmed(language);
        let mut hits = Vec::with_capacity(page.len());
        for (score, address) in page {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let thumbnail = Some(text(f.thumbnail)).filter(|t| !t.is_empty());
            hits.push(Hit {
                artifact_id: text(f.artifact),
                title: text(f.title),
                snippet: snippet(&text(f.preview), parsed, &mut stemmer),
                score,
                kind: text(f.kind),
                owners: text(f.owners_shown),
                created_ms: doc.get_first(f.created).and_then(|v| v.as_i64()).unwrap_or_default(),
                thumbnail,
            });
        }
        Ok(SearchResults { total, hits, facets })
    }
}

/// The part of `text` with the most matches, HTML-escaped, matches in `<mark>`. Matching is
/// done here rather than by tantivy's snippet generator so that stems, typos and prefixes are
/// highlighted as well as exact words.
fn snippet(text: &str, parsed: &Parsed, stemmer: &mut tantivy::tokenizer::TextAnalyzer) -> String {
    let mut folded = schema::folded();
    let mut matches: Vec<(usize, usize)> = Vec::new();
    let phrase_words: Vec<&String> = parsed.phrases.iter().flatten().collect();
    // Stemming is the dear part: each distinct word of the text is stemmed once, and only
    // when some word of the query has a stem and nothing cheaper matched.
    let any_stem = parsed.words.iter().any(|w| !w.stem.is_empty());
    let mut stem_matches: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    let mut stream = folded.token_stream(text);
    while let Some(token) = stream.next() {
        let t = token.text.as_str();
        let length = t.chars().count();
        let cheap = parsed.words.iter().any(|w| {
            t == w.folded
                || (w.prefix && t.starts_with(&w.folded))
                || (w.typos > 0
                    && length.abs_diff(w.folded.chars().count()) <= w.typos as usize
                    && edit_distance(t, &w.folded) <= w.typos as usize)
        }) || phrase_words.iter().any(|p| t == String::as_str(p));
        let hit = cheap
            || (any_stem
                && *stem_matches.entry(t.to_string()).or_insert_with(|| {
                    let stem = schema::words(stemmer, t);
                    parsed.words.iter().any(|w| !w.stem.is_empty() && stem.first() == Some(&w.stem))
                }));
        if hit {
            matches.push((token.offset_from, token.offset_to));
        }
    }
    // The window starting a little before the match that has the most matches after it.
    let mut best = (0usize, 0usize);
    for (i, (start, _)) in matches.iter().enumerate() {
        let count = matches[i..].iter().take_while(|(_, end)| *end <= start + SNIPPET_CHARS).count();
        if count > best.1 {
            best = (*start, count);
        }
    }
    // Every cut below goes through `boundary_before`/`boundary_after` or `char_indices`,
    // never through byte arithmetic alone: a space can be 2 or 3 bytes long (U+00A0 from word
    // processors, U+3000 in Japanese text), and "one past the space" once landed inside one
    // and panicked, so a search answered 500 (issue 20).
    let mut from = boundary_before(text, best.0.saturating_sub(30));
    if from > 0 {
        // Start at a word, not in the middle of one: just after the first space of any width.
        if let Some((i, space)) = text[from..best.0].char_indices().find(|(_, c)| c.is_whitespace()) {
            from += i + space.len_utf8();
        }
    }
    let to = boundary_after(text, from + SNIPPET_CHARS);
    let mut html = String::new();
    if from > 0 {
        html.push('…');
    }
    let mut at = from;
    // Matches come in text order and never overlap; `*s >= at` keeps that true even if an
    // analyser ever gave overlapping tokens, so no slice below can run backwards.
    for (start, end) in matches.iter().filter(|(s, e)| *s >= from && *e <= to) {
        if *start < at || !text.is_char_boundary(*start) || !text.is_char_boundary(*end) {
            continue;
        }
        html.push_str(&escape(&text[at..*start]));
        html.push_str("<mark>");
        html.push_str(&escape(&text[*start..*end]));
        html.push_str("</mark>");
        at = *end;
    }
    html.push_str(&escape(&text[at..to]));
    if to < text.len() {
        html.push('…');
    }
    html
}

/// The last character boundary of `text` at or before `at` (0 at the least).
fn boundary_before(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The first character boundary of `text` at or after `at` (the end at the most).
fn boundary_after(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`, as tantivy's
/// fuzzy matching counts them.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return usize::MAX;
    }
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_split_into_words_phrases_and_a_prefix() {
        let p = parse("Canción \"the old bridge\" brid", Language::English);
        assert_eq!(p.words.len(), 2);
        assert_eq!(p.words[0].folded, "cancion");
        assert!(!p.words[0].prefix);
        assert_eq!(p.words[1].folded, "brid");
        assert!(p.words[1].prefix, "the last word is still being typed");
        assert_eq!(p.phrases, vec![vec!["the".to_string(), "old".into(), "bridge".into()]]);
        assert!(!parse("bridge ", Language::English).words[0].prefix);
        assert_eq!(parse("bridges", Language::English).words[0].stem, "bridg");
        assert_eq!(
            parse("canciones", Language::Spanish).words[0].stem,
            parse("canción", Language::Spanish).words[0].stem
        );
    }

    #[test]
    fn snippets_mark_matches_and_escape_everything_else() {
        let p = parse("bridge ", Language::English);
        let text = "<b>Intro</b> then we built bridges & towers; the bridge held.";
        let html = snippet(text, &p, &mut schema::stemmed(Language::English));
        assert!(html.contains("<mark>bridges</mark>"), "{html}");
        assert!(html.contains("<mark>bridge</mark>"), "{html}");
        assert!(html.contains("&lt;b&gt;Intro"), "{html}");
        assert!(html.contains("&amp; towers"), "{html}");
        let typo = parse("bridgw ", Language::English);
        assert!(snippet("the bridge", &typo, &mut schema::stemmed(Language::English)).contains("<mark>bridge</mark>"));
    }

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("bridge", "bridge"), 0);
        assert_eq!(edit_distance("bridge", "brigde"), 1);
        assert_eq!(edit_distance("bridge", "bride"), 1);
        assert_eq!(edit_distance("kilograms", "kilgorams"), 1);
        assert_eq!(edit_distance("kilograms", "kelogram"), 2);
    }
}

/// Every text path of search under arbitrary Unicode: queries and texts are built from real
/// words, spaces of every width (U+00A0, U+3000, U+2003, U+0085...), accents, combining marks,
/// emoji, markup characters and any character at all. Nothing may panic; a snippet is a piece
/// of the text (escaped, with `<mark>` around whole matches, cut at character boundaries).
#[cfg(test)]
mod unicode_properties {
    use proptest::prelude::*;

    use super::*;

    const WORDS: &[&str] =
        &["volcano", "Volcán", "bridge", "bridges", "brid", "kilograms", "canción", "火山", "Straße"];
    const SPACES: &[&str] =
        &[" ", "\u{a0}", "\u{3000}", "\u{2003}", "\u{85}", "\u{200b}", "\u{feff}", "\n", "\t", "\r\n"];
    const ODD: &[&str] = &["e\u{301}", "👩‍🔬", "&amp;", "<mark>", "\"", "'", "…", "ﬁ", "İ", "ß", "\u{10ffff}"];

    /// A piece of text: a word, a space, something odd, or any character.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::sample::select(WORDS).prop_map(str::to_string),
            3 => prop::sample::select(SPACES).prop_map(str::to_string),
            1 => prop::sample::select(ODD).prop_map(str::to_string),
            2 => any::<char>().prop_map(String::from),
            1 => "[a-zà-ÿ]{1,12}",
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(piece(), 0..120).prop_map(|p| p.concat())
    }

    fn query() -> impl Strategy<Value = String> {
        prop::collection::vec(prop_oneof![4 => piece(), 1 => Just("\"".to_string())], 0..8).prop_map(|p| p.concat())
    }

    /// The text a snippet shows, as `escape` would show all of `text`: for comparing.
    fn unescape(html: &str) -> String {
        html.replace("<mark>", "")
            .replace("</mark>", "")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn queries_parse_into_nonempty_words(q in query()) {
            for language in [Language::English, Language::Spanish] {
                let parsed = parse(&q, language);
                prop_assert!(parsed.words.iter().all(|w| !w.folded.is_empty()), "{parsed:?}");
                prop_assert!(parsed.phrases.iter().all(|p| p.len() > 1 && p.iter().all(|w| !w.is_empty())));
            }
        }

        #[test]
        fn snippets_are_pieces_of_the_text_with_whole_matches_marked(t in text(), q in query()) {
            let parsed = parse(&q, Language::English);
            let html = snippet(&t, &parsed, &mut schema::stemmed(Language::English));
            let shown = unescape(&html);
            let shown = shown.strip_prefix('…').unwrap_or(&shown);
            let shown = shown.strip_suffix('…').unwrap_or(shown);
            prop_assert!(escape(&t).contains(&escape(shown)), "{html:?} is not a piece of {t:?}");
            prop_assert!(shown.len() <= SNIPPET_CHARS + 4, "{} bytes shown", shown.len());
            // Marks come in pairs, each around a whole word of the text.
            prop_assert_eq!(html.matches("<mark>").count(), html.matches("</mark>").count());
            for marked in html.split("<mark>").skip(1) {
                let word = unescape(marked.split("</mark>").next().unwrap_or_default());
                prop_assert!(!word.is_empty() && t.contains(&word), "{word:?} marked in {html:?}");
            }
        }

        #[test]
        fn a_match_after_any_space_is_marked(before in text(), space in prop::sample::select(SPACES), after in text()) {
            let t = format!("{before}{space}volcano{space}{after}");
            let html = snippet(&t, &parse("volcano", Language::English), &mut schema::stemmed(Language::English));
            prop_assert!(html.contains("<mark>"), "{html:?} from {t:?}");
        }
    }
}
