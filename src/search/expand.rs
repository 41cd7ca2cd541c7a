//! Typo and prefix words turned into the index's own terms, once per word and per segment.
//!
//! tantivy's `FuzzyTermQuery` builds a Levenshtein automaton for every query and, on every
//! segment, marks every document of every matching term in a bitset as large as the
//! segment: the cost of a typo-tolerant word grew with the corpus, not with what it found.
//! Here the automaton is built once per word and kept, its walk over a segment's term
//! dictionary is kept per segment (segments never change; new ones are walked when they
//! appear), and the query is a plain union of the matching terms, which tantivy reads
//! lazily, only as far as the other clauses need.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::Searcher;
use tantivy::index::SegmentId;
use tantivy::schema::Field;

/// More matching terms than this and the union would cost more than the bitset it replaces;
/// such a word (a two-letter prefix in a big school) is left to tantivy's own fuzzy query.
pub const MAX_TERMS: usize = 64;
/// Words' terms kept (per segment and field) before the cache is emptied and refilled from
/// what is asked now: at most 64 short strings each.
const MAX_TERM_ENTRIES: usize = 4096;
/// Automata kept. One for a long word with two typos is a table of a few hundred KB, so few
/// are kept; a word's automaton is only needed again when a new segment appears.
const MAX_AUTOMATA: usize = 32;

/// What a word matches: terms within `typos` edits of it, or (with `prefix`) terms that
/// start with something within `typos` edits of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Shape {
    word: String,
    typos: u8,
    prefix: bool,
}

struct Automaton(Arc<DFA>);

impl tantivy_fst::Automaton for Automaton {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// A word's matching terms in one segment's field; `None` when there are more than
/// [`MAX_TERMS`].
type SegmentTerms = HashMap<(SegmentId, Field, Shape), Option<Arc<[String]>>>;

/// The caches; one per index, shared by every request.
#[derive(Default)]
pub struct Expansions {
    automata: Mutex<HashMap<Shape, Arc<DFA>>>,
    terms: Mutex<SegmentTerms>,
}

fn builder(typos: u8) -> &'static LevenshteinAutomatonBuilder {
    static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    // Building the builder for two edits takes milliseconds: once per process.
    BUILDERS[usize::from(typos.min(2))].get_or_init(|| LevenshteinAutomatonBuilder::new(typos.min(2), true))
}

fn bounded_insert<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, bound: usize, key: K, value: V) {
    if map.len() >= bound {
        map.clear();
    }
    map.insert(key, value);
}

impl Expansions {
    fn automaton(&self, shape: &Shape) -> Arc<DFA> {
        if let Some(dfa) = self.automata.lock().expect("not poisoned").get(shape) {
            return dfa.clone();
        }
        let b = builder(shape.typos);
        let dfa = Arc::new(if shape.prefix { b.build_prefix_dfa(&shape.word) } else { b.build_dfa(&shape.word) });
        bounded_insert(&mut self.automata.lock().expect("not poisoned"), MAX_AUTOMATA, shape.clone(), dfa.clone());
        dfa
    }

    /// The terms of `field` that `word` matches in any segment `searcher` reads, in order;
    /// `None` when there are more than [`MAX_TERMS`].
    pub fn terms(
        &self,
        searcher: &Searcher,
        field: Field,
        word: &str,
        typos: u8,
        prefix: bool,
    ) -> tantivy::Result<Option<Vec<String>>> {
        let shape = Shape { word: word.to_string(), typos, prefix };
        let mut all = BTreeSet::new();
        for segment in searcher.segment_readers() {
            let key = (segment.segment_id(), field, shape.clone());
            let known = self.terms.lock().expect("not poisoned").get(&key).cloned();
            let found = match known {
                Some(found) => found,
                None => {
                    let found = self.walk(segment, field, &shape)?;
                    bounded_insert(&mut self.terms.lock().expect("not poisoned"), MAX_TERM_ENTRIES, key, found.clone());
                    found
                }
            };
            let Some(found) = found else { return Ok(None) };
            all.extend(found.iter().cloned());
            if all.len() > MAX_TERMS {
                return Ok(None);
            }
        }
        Ok(Some(all.into_iter().collect()))
    }

    fn walk(
        &self,
        segment: &tantivy::SegmentReader,
        field: Field,
        shape: &Shape,
    ) -> tantivy::Result<Option<Arc<[String]>>> {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().search(Automaton(self.automaton(shape))).into_stream()?;
        let mut found = Vec::new();
        while stream.advance() {
            if found.len() == MAX_TERMS {
                return Ok(None);
            }
            // Text terms are UTF-8; anything else cannot be a word typed in the search box.
            if let Ok(term) = std::str::from_utf8(stream.key()) {
                found.push(term.to_string());
            }
        }
        Ok(Some(found.into()))
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::DocSetCollector;
    use tantivy::query::{BooleanQuery, FuzzyTermQuery, Occur, Query, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema};
    use tantivy::{Index, IndexWriter, Term, doc};

    use super::*;

    const WORDS: &[&str] =
        &["bridge", "bridges", "brigde", "bride", "bridle", "ridge", "fridge", "kilograms", "kilogram", "brick", "b"];

    /// An index in memory with one segment per batch of words.
    fn index(batches: &[&[&str]]) -> (Index, Field) {
        let mut schema = Schema::builder();
        let field = schema.add_text_field("w", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for batch in batches {
            for word in *batch {
                writer.add_document(doc!(field => *word)).unwrap();
            }
            writer.commit().unwrap();
        }
        (index, field)
    }

    fn docs(searcher: &Searcher, query: &dyn Query) -> std::collections::HashSet<tantivy::DocAddress> {
        searcher.search(query, &DocSetCollector).unwrap()
    }

    #[test]
    fn expanded_words_find_what_tantivys_fuzzy_query_finds() {
        let (index, field) = index(&[&WORDS[..4], &WORDS[4..]]);
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let expansions = Expansions::default();
        for word in ["bridge", "brigde", "kilogrmas", "bri", "kilo", "zzz"] {
            for (typos, prefix) in [(1, false), (2, false), (0, true)] {
                let terms = expansions.terms(&searcher, field, word, typos, prefix).unwrap().expect("few terms");
                let union = BooleanQuery::new(
                    terms
                        .iter()
                        .map(|t| {
                            let q = TermQuery::new(Term::from_field_text(field, t), IndexRecordOption::Basic);
                            (Occur::Should, Box::new(q) as Box<dyn Query>)
                        })
                        .collect(),
                );
                let term = Term::from_field_text(field, word);
                let fuzzy = if prefix {
                    FuzzyTermQuery::new_prefix(term, typos, true)
                } else {
                    FuzzyTermQuery::new(term, typos, true)
                };
                assert_eq!(docs(&searcher, &union), docs(&searcher, &fuzzy), "{word} {typos} {prefix}: {terms:?}");
            }
        }
        let bridge = expansions.terms(&searcher, field, "bridge", 1, false).unwrap().unwrap();
        assert_eq!(bridge, ["bride", "bridge", "bridges", "bridle", "brigde", "fridge", "ridge"]);
    }

    #[test]
    fn terms_are_kept_per_segment_and_new_segments_are_walked() {
        let (index, field) = index(&[&["bridge"]]);
        let reader = index.reader_builder().reload_policy(tantivy::ReloadPolicy::Manual).try_into().unwrap();
        let expansions = Expansions::default();
        let found = |reader: &tantivy::IndexReader| expansions.terms(&reader.searcher(), field, "bridge", 1, false);
        assert_eq!(found(&reader).unwrap().unwrap(), ["bridge"]);
        assert_eq!(expansions.terms.lock().unwrap().len(), 1);
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        writer.add_document(doc!(field => "bridges")).unwrap();
        writer.commit().unwrap();
        reader.reload().unwrap();
        assert_eq!(found(&reader).unwrap().unwrap(), ["bridge", "bridges"]);
        assert_eq!(expansions.terms.lock().unwrap().len(), 2, "the old segment's walk is kept, the new one walked");
        assert_eq!(expansions.automata.lock().unwrap().len(), 1, "one automaton for the word");
    }

    #[test]
    fn a_word_matching_too_many_terms_is_left_to_tantivy() {
        let many: Vec<String> = (0..MAX_TERMS + 1).map(|i| format!("br{i:03}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let (index, field) = index(&[&many]);
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(Expansions::default().terms(&searcher, field, "br", 0, true).unwrap(), None);
    }
}
