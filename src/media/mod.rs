//! What an uploaded file is, and how the box may show it.
//!
//! Students upload anything a camera roll, a recorder or a laptop holds, and browsers declare
//! whatever type they like (or `application/octet-stream`), so the declared type is never
//! trusted: [`sniff_content_type`] looks at the first bytes and only then at the name. The
//! result decides two things that must not disagree:
//!
//! - [`kind_of`]: how the work is labelled and filtered for people (photo, video, writing ...).
//! - [`presentation`]: how the bytes go out. Only inert media (pictures, video, sound) and text
//!   forced to `text/plain` are shown inline; anything a browser could run (HTML, SVG, XML,
//!   JavaScript, PDF) or that we do not know is sent as a download. This is the "user content is
//!   never served as active content" rule of the design brief, together with `nosniff` and the
//!   sandboxing CSP that the file handler adds.
//!
//! Also here: safe display names and `Content-Disposition` values for the original file name,
//! thumbnails for pictures, and parsing of a single-range `Range` header for video and audio
//! seeking. Nothing in this module touches the store; thumbnail files are derived data that
//! can be deleted and made again.

mod names;
mod range;
mod sniff;
#[cfg(test)]
mod tests;
mod thumbnails;

pub use crate::domain::work::thumbnailable;
pub use names::{content_disposition, display_name};
pub use range::{RangeError, parse_range};
use sniff::essence;
pub use sniff::sniff_content_type;
pub use thumbnails::{MediaError, THUMB_MAX, ensure_thumbnail, make_thumbnail, thumbnail_path, thumbnails_dir};

/// How many leading bytes [`sniff_content_type`] wants. SVG files from drawing programs carry
/// comments and a DOCTYPE before `<svg`, and video containers list their tracks after a header
/// of a few hundred bytes (more after a Matroska `Void`), so a few kilobytes see them all.
pub const SNIFF_LEN: usize = 8192;

const OCTET_STREAM: &str = "application/octet-stream";
const HTML: &str = "text/html";
const XHTML: &str = "application/xhtml+xml";
const SVG: &str = "image/svg+xml";
const XML: &str = "application/xml";
const SCRATCH_SB3: &str = "application/x.scratch.sb3";

// ---------------------------------------------------------------------------------------------
// Kinds and presentation
// ---------------------------------------------------------------------------------------------

/// What a piece of work is, for people: the label on a card and the filter in a portfolio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Image,
    Video,
    Audio,
    Document,
    Code,
    Text,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 7] =
        [Kind::Image, Kind::Video, Kind::Audio, Kind::Document, Kind::Code, Kind::Text, Kind::Other];

    /// Words a six-year-old and a grandparent both understand.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Image => "Photo or picture",
            Kind::Video => "Video",
            Kind::Audio => "Recording",
            Kind::Document => "Document",
            Kind::Code => "Code",
            Kind::Text => "Writing",
            Kind::Other => "File",
        }
    }

    /// The stable name used in URLs, JSON and the store (the same as the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Audio => "audio",
            Kind::Document => "document",
            Kind::Code => "code",
            Kind::Text => "text",
            Kind::Other => "other",
        }
    }
}

/// The kind of work a content type (as [`sniff_content_type`] reports it) is.
pub fn kind_of(content_type: &str) -> Kind {
    let e = essence(content_type);
    match e.as_str() {
        "text/plain" | "text/markdown" => Kind::Text,
        "text/csv"
        | "application/pdf"
        | "application/rtf"
        | "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/epub+zip" => Kind::Document,
        t if t.starts_with("application/vnd.openxmlformats-officedocument.")
            || t.starts_with("application/vnd.oasis.opendocument.")
            || t.starts_with("application/vnd.apple.") =>
        {
            Kind::Document
        }
        SCRATCH_SB3 | HTML | XHTML | XML | "text/xml" | "text/css" | "application/json" | "application/x-sh" => {
            Kind::Code
        }
        t if is_javascript(t) || t.starts_with("text/x-") => Kind::Code,
        t if t.starts_with("image/") => Kind::Image,
        t if t.starts_with("video/") => Kind::Video,
        t if t.starts_with("audio/") => Kind::Audio,
        t if t.starts_with("text/") => Kind::Text,
        _ => Kind::Other,
    }
}

/// How stored bytes may go out to a browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presentation {
    /// Pictures, video and sound: shown in the page with their own type. Browsers decode these
    /// as data, never as documents or scripts.
    InlineMedia,
    /// Writing, data and source code: shown in the browser, but always as
    /// `text/plain; charset=utf-8` so no browser can render it as HTML.
    InlineText,
    /// Everything else: a download. Includes every type a browser could run (HTML, SVG, XML,
    /// JavaScript, PDF) and every type we do not know.
    Attachment,
}

/// How a content type is presented. An allow-list: only what is known to be inert is inline.
pub fn presentation(content_type: &str) -> Presentation {
    let e = essence(content_type);
    let t = e.as_str();
    if is_active(t) {
        return Presentation::Attachment;
    }
    if t.starts_with("image/") || t.starts_with("video/") || t.starts_with("audio/") {
        return Presentation::InlineMedia;
    }
    match t {
        "text/plain" | "text/markdown" | "text/csv" | "text/css" | "application/json" | "application/x-sh" => {
            Presentation::InlineText
        }
        t if t.starts_with("text/x-") => Presentation::InlineText,
        _ => Presentation::Attachment,
    }
}

/// Types a browser may execute or render as a document with scripts.
fn is_active(t: &str) -> bool {
    matches!(t, HTML | XHTML | XML | "text/xml" | "application/pdf")
        || t.contains("svg")
        || t.contains("xml")
        || is_javascript(t)
}

fn is_javascript(t: &str) -> bool {
    t.contains("javascript") || t.contains("ecmascript")
}

/// The `Content-Type` to send for stored bytes of `content_type`.
///
/// Inline media keep their type (without parameters); inline text is always
/// `text/plain; charset=utf-8`. Downloads go out as `application/octet-stream`, not with their
/// real type: with `nosniff` that stops an uploaded `.js`/`.css`/`.svg` from being used as a
/// script, style sheet or image by any page (`Content-Disposition` does not apply to those
/// loads), and stops browsers that ignore `attachment` for some types (older iOS Safari did so
/// for HTML and PDF) from rendering them. The download keeps its name, and with it the type the
/// device opens it as.
pub fn served_content_type(content_type: &str) -> &str {
    match presentation(content_type) {
        Presentation::InlineMedia => content_type.split(';').next().unwrap_or("").trim(),
        Presentation::InlineText => "text/plain; charset=utf-8",
        Presentation::Attachment => OCTET_STREAM,
    }
}
