//! Small, valid things made in code for tests, unit and integration alike: files for what
//! reads uploads (the tests of `extract`, search and hostile files), and records for tests
//! that write straight into a store (sync, bundles, peer files, migrations). One builder
//! each, so a fix to how a sample is made reaches every test that uses it.
//!
//! Not part of folio's interface: hidden from the docs and free to change.

use crate::domain::{Artifact, ArtifactId, Change, ClassId, FileRef, SchoolId, UserId};

/// Private work by `owner` (in `class`, if given) with one version holding `files`, made at
/// 1 ms and not yet reviewed, as the store records it. A test changes what it needs with
/// struct update syntax: `Artifact { visibility: Visibility::Class, ..artifact(...) }`.
pub fn artifact(school: SchoolId, owner: UserId, class: Option<ClassId>, title: &str, files: Vec<FileRef>) -> Artifact {
    Artifact {
        class,
        title: title.into(),
        kind: "text".into(),
        ..Artifact::first_saved(ArtifactId::new(), school, vec![owner], files, owner, 1)
    }
}

/// An edit of `artifact` that sets its title or reflection (where given) and leaves the rest
/// as it is, as a person's edit records it.
pub fn artifact_edit(artifact: ArtifactId, title: Option<&str>, reflection: Option<&str>) -> Change {
    Change::ArtifactEdited {
        artifact,
        title: title.map(Into::into),
        reflection: reflection.map(Into::into),
        tags: None,
        skills: None,
        visibility: None,
        reflection_base: None,
        needs_review: false,
    }
}

/// A minimal PDF 1.4: one page, Helvetica (one of the 14 standard Type 1 fonts, so no font
/// file is embedded), and an uncompressed content stream that draws `lines`, each below the
/// previous.
pub fn pdf(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT\n/F1 18 Tf\n72 720 Td\n");
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            content.push_str("0 -24 Td\n");
        }
        content.push_str(&format!("({line}) Tj\n"));
    }
    content.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> \
         /Contents 5 0 R >>"
            .to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
    ];
    pdf_from_objects(&objects)
}

/// Numbers `objects` from 1, writes them with a correct cross-reference table (offsets
/// computed from the bytes written), and makes object 1 the catalog.
pub fn pdf_from_objects(objects: &[String]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        // Each entry is exactly 20 bytes, the trailing space included.
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    pdf
}
