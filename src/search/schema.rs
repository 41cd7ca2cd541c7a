//! The index's fields and how their text is cut into words.
//!
//! Each artifact is one to three documents, one per audience (see `domain::audience`): the
//! same work, with the comments and feedback that audience may read, and the principals that
//! read it. Text goes into fields analysed two ways: `title`/`body` are lower-cased and
//! accent-folded (`canción` is indexed as `cancion`) for exact words, phrases, prefixes and
//! typos; `stem_en`/`stem_es` are also stemmed, in the school's language, so `bridges` finds
//! `bridge` and `canciones` finds `canción`.

use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer};

use crate::domain::Language;

/// Bump when fields or analysers change: an index of another version is rebuilt at start.
pub const INDEX_VERSION: u32 = 1;

pub const FOLDED: &str = "folio_folded";

pub fn stemmed_tokenizer(language: Language) -> &'static str {
    match language {
        Language::English => "folio_stem_en",
        Language::Spanish => "folio_stem_es",
    }
}

#[derive(Clone)]
pub struct Fields {
    pub schema: Schema,
    /// The artifact id: what a hit names, and the term an update deletes by.
    pub artifact: Field,
    pub audience: Field,
    pub readers: Field,
    pub outranked_by: Field,
    pub title: Field,
    pub body: Field,
    pub stem_en: Field,
    pub stem_es: Field,
    pub owner: Field,
    pub class: Field,
    pub tag: Field,
    pub skill: Field,
    pub kind: Field,
    pub activity: Field,
    pub facets: Field,
    pub created: Field,
    /// Stored only: the text snippets are cut from, and what a result shows.
    pub preview: Field,
    pub owners_shown: Field,
    pub thumbnail: Field,
}

impl Fields {
    pub fn new() -> Fields {
        let mut b = Schema::builder();
        let text = |tokenizer: &str, stored: bool| {
            let options = TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            );
            if stored { options.set_stored() } else { options }
        };
        let artifact = b.add_text_field("artifact", STRING | STORED);
        let audience = b.add_text_field("audience", STRING | STORED);
        let readers = b.add_text_field("readers", STRING);
        let outranked_by = b.add_text_field("outranked_by", STRING);
        let title = b.add_text_field("title", text(FOLDED, true));
        let body = b.add_text_field("body", text(FOLDED, false));
        let stem_en = b.add_text_field("stem_en", text(stemmed_tokenizer(Language::English), false));
        let stem_es = b.add_text_field("stem_es", text(stemmed_tokenizer(Language::Spanish), false));
        let owner = b.add_text_field("owner", STRING);
        let class = b.add_text_field("class", STRING | STORED);
        let tag = b.add_text_field("tag", STRING);
        let skill = b.add_text_field("skill", STRING);
        let kind = b.add_text_field("kind", STRING | STORED);
        let activity = b.add_text_field("activity", STRING);
        let facets = b.add_facet_field("facets", FacetOptions::default());
        let created = b.add_i64_field("created", INDEXED | FAST | STORED);
        let preview = b.add_text_field("preview", STORED);
        let owners_shown = b.add_text_field("owners_shown", STORED);
        let thumbnail = b.add_text_field("thumbnail", STORED);
        Fields {
            schema: b.build(),
            artifact,
            audience,
            readers,
            outranked_by,
            title,
            body,
            stem_en,
            stem_es,
            owner,
            class,
            tag,
            skill,
            kind,
            activity,
            facets,
            created,
            preview,
            owners_shown,
            thumbnail,
        }
    }

    pub fn stem(&self, language: Language) -> Field {
        match language {
            Language::English => self.stem_en,
            Language::Spanish => self.stem_es,
        }
    }
}

impl Default for Fields {
    fn default() -> Self {
        Self::new()
    }
}

/// Words as the index sees them: split on anything not a letter or digit, long tokens (base64
/// blobs, minified code) dropped, lower-cased, accents folded.
pub fn folded() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// [`folded`] words reduced to their stem. Folding comes before stemming so a word typed
/// without its accent stems like the accented one.
pub fn stemmed(language: Language) -> TextAnalyzer {
    let algorithm = match language {
        Language::English => tantivy::tokenizer::Language::English,
        Language::Spanish => tantivy::tokenizer::Language::Spanish,
    };
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(algorithm))
        .build()
}

pub fn register_tokenizers(index: &tantivy::Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(FOLDED, folded());
    for language in Language::ALL {
        tokenizers.register(stemmed_tokenizer(language), stemmed(language));
    }
}

/// The words of `text` as `analyzer` makes them.
pub fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}
