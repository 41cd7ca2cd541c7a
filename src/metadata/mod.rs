//! Taking location and camera metadata out of photos and videos as they are stored.
//!
//! Children's photos and videos carry GPS coordinates, the camera's make and serial
//! numbers, the time, sometimes a name. Every file that enters the blob store passes
//! through a [`Filter`] chosen from its first bytes ([`Filter::feed`], then
//! [`Filter::finish`]), and then [`Filter::fixup`] on the written file before it is synced
//! and named. One module per container:
//!
//! | format | how | module |
//! |---|---|---|
//! | JPEG (every image in the file) | streamed, metadata segments removed | [`jpeg`] |
//! | PNG | streamed, metadata chunks removed | [`png`] |
//! | WebP | streamed, in place (chunks zeroed, same size) | [`webp`] |
//! | MP4, MOV, 3GP, M4A | streamed, in place (boxes renamed `free` and zeroed) | [`bmff`] |
//! | HEIC, HEIF, AVIF | as MP4, and the EXIF/XMP items zeroed in place at the end | [`bmff`] |
//! | TIFF (and TIFF-based raw) | in place at the end: GPS and EXIF IFDs zeroed | [`tiff`] |
//!
//! The orientation is the one piece of metadata kept ([`exif`]): a portrait phone photo
//! is stored with its EXIF Orientation alone (JPEG, PNG, WebP; TIFF keeps its own tag;
//! HEIF turns pictures with its `irot` property, which is not metadata), so browsers and the
//! thumbnailer show it upright.
//!
//! Why two ways: JPEG and PNG are read front to back by every decoder and hold no offsets
//! into themselves, so a segment can simply be left out. The other formats point at bytes
//! by absolute offset (TIFF's IFDs, an MP4's sample tables, a HEIF's item locations, a
//! RIFF size that comes first), so nothing may move: metadata is overwritten where it is.
//! When the place is only known after the bytes have gone by (a TIFF directory written
//! last, a HEIF whose `mdat` comes before its `meta`), it is overwritten in the written
//! file at the end, and the file is hashed again (see `blobs`); nothing is held in memory
//! but a segment, a chunk header or a HEIF index (bounded: [`MAX_HELD`], 16 MiB for a
//! HEIF `meta`).
//!
//! The rule that keeps this safe: a filter emits only what it recognised as part of a
//! picture or a movie. Where the structure stops making sense, what follows is dropped
//! (JPEG, PNG) or zeroed (the in-place formats) rather than passed on unread.
//!
//! Not covered, and said so in README: GIF (it has no EXIF; its comments and XMP
//! application extensions are kept), telemetry recorded as a track of its own inside a
//! video's `mdat` (GoPro's GPMF, dashcams' GPS tracks), and files folio does not sniff as
//! pictures or videos (BigTIFF, camera raw formats not built on TIFF, documents).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

mod bmff;
mod exif;
mod jpeg;
mod png;
mod tiff;
mod webp;

#[cfg(test)]
mod tests;

/// The most bytes a filter may emit beyond the input it was given in one call: a held JPEG
/// application segment or EXIF piece of up to 64 KiB and a header.
pub(crate) const MAX_HELD: usize = 64 * 1024 + 64;

/// How many first bytes decide the filter.
const SNIFF: usize = 12;

/// What a streaming filter does with the next `n` bytes of a piece it has judged.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Passed on as they are.
    Keep,
    /// Overwritten with zeros, keeping the file's size and offsets.
    Zero,
    /// Left out.
    Drop,
}

/// Moves up to `n` bytes from the front of `input` to `out` as `how` says, and returns how
/// many of the `n` are still to come (the piece may go on in the next call). Sets `removed`
/// when a zeroed or dropped byte was not already zero. Every filter's copy, zero and skip
/// states go through here, so a piece is never passed on past its end.
pub(crate) fn pass(input: &mut &[u8], n: u64, how: Pass, out: &mut Vec<u8>, removed: &mut bool) -> u64 {
    let k = n.min(input.len() as u64) as usize;
    let (piece, rest) = input.split_at(k);
    match how {
        Pass::Keep => out.extend_from_slice(piece),
        Pass::Zero | Pass::Drop => {
            if piece.iter().any(|&b| b != 0) {
                *removed = true;
            }
            if how == Pass::Zero {
                out.resize(out.len() + k, 0);
            }
        }
    }
    *input = rest;
    n - k as u64
}

/// Gathers a header of `need` bytes that may arrive split across calls into `header`, with
/// `len` bytes of it already there; true once it is whole.
pub(crate) fn gather(header: &mut [u8], len: &mut usize, need: usize, input: &mut &[u8]) -> bool {
    let k = (need - *len).min(input.len());
    header[*len..*len + k].copy_from_slice(&input[..k]);
    *len += k;
    *input = &input[k..];
    *len >= need
}

/// What happens to a file's bytes on their way to the disk.
pub(crate) enum Filter {
    /// Holding the first bytes until they tell what the file is.
    Sniff {
        head: [u8; SNIFF],
        len: usize,
    },
    Plain,
    Jpeg(jpeg::Jpeg),
    Png(png::Png),
    Webp(webp::Webp),
    Bmff(bmff::Bmff),
    /// Streamed unchanged; changed in place at the end.
    Tiff(tiff::Tiff),
}

impl Default for Filter {
    fn default() -> Self {
        Filter::Sniff { head: [0; SNIFF], len: 0 }
    }
}

impl Filter {
    pub(crate) fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        if let Filter::Sniff { head, len } = self {
            let mut decided = None;
            while decided.is_none() && !input.is_empty() {
                head[*len] = input[0];
                *len += 1;
                input = &input[1..];
                decided = Filter::decide(&head[..*len], false);
            }
            let Some(next) = decided else { return };
            let (head, len) = (*head, *len);
            *self = next;
            self.feed(&head[..len], out);
        }
        match self {
            Filter::Sniff { .. } => unreachable!("decided above"),
            Filter::Plain | Filter::Tiff(_) => out.extend_from_slice(input),
            Filter::Jpeg(f) => f.feed(input, out),
            Filter::Png(f) => f.feed(input, out),
            Filter::Webp(f) => f.feed(input, out),
            Filter::Bmff(f) => f.feed(input, out),
        }
    }

    /// The filter for a file that begins with `head`, or `None` while more bytes could
    /// change the answer (unless `whole`: `head` is all there is).
    fn decide(head: &[u8], whole: bool) -> Option<Filter> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(Filter::Jpeg(jpeg::Jpeg::new()));
        }
        if head.len() < SNIFF && !whole {
            return None;
        }
        Some(if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Filter::Png(png::Png::new())
        } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
            Filter::Webp(webp::Webp::new())
        } else if head.starts_with(b"II\x2A\0") || head.starts_with(b"MM\0\x2A") {
            Filter::Tiff(tiff::Tiff::new())
        } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
            Filter::Bmff(bmff::Bmff::new())
        } else {
            Filter::Plain
        })
    }

    /// Emits what is held at the end of the input (a file too short to sniff, a header cut
    /// off by the end of the file) as each filter judges it.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        match self {
            Filter::Sniff { head, len } => {
                let (head, len) = (*head, *len);
                *self = Filter::decide(&head[..len], true).unwrap_or(Filter::Plain);
                self.feed(&head[..len], out);
                self.finish(out);
            }
            Filter::Plain | Filter::Tiff(_) => {}
            Filter::Jpeg(f) => f.finish(out),
            Filter::Png(f) => f.finish(out),
            Filter::Webp(f) => f.finish(out),
            Filter::Bmff(f) => f.finish(out),
        }
    }

    /// After [`finish`](Self::finish), with every byte written to `file` (and nothing else
    /// in it): overwrites in place what could only be found once the whole file was there.
    /// True if the file changed (its hash must be computed again). Blocking.
    pub(crate) fn fixup(&mut self, file: &mut File) -> io::Result<bool> {
        let mut disk = Disk::new(file)?;
        match self {
            Filter::Tiff(f) => f.fixup(&mut disk)?,
            Filter::Bmff(f) => f.fixup(&mut disk)?,
            _ => {}
        }
        Ok(disk.changed())
    }

    /// True once metadata has been taken out of what was written so far.
    pub(crate) fn removed(&self) -> bool {
        match self {
            Filter::Jpeg(f) => f.removed(),
            Filter::Png(f) => f.removed(),
            Filter::Webp(f) => f.removed(),
            Filter::Bmff(f) => f.removed(),
            Filter::Tiff(f) => f.removed(),
            Filter::Sniff { .. } | Filter::Plain => false,
        }
    }
}

/// Whether a file that begins with `head` (its first 12 bytes or more, or all of it) is one
/// whose metadata the store removes on the way in. Such a file must be written through a
/// `BlobWriter`; anything else is stored byte for byte and may be adopted as it is.
pub fn may_strip(head: &[u8]) -> bool {
    let head = &head[..head.len().min(SNIFF)];
    !matches!(Filter::decide(head, true), None | Some(Filter::Plain))
}

/// The written file, for the changes made at the end: bounded reads, and writes that only
/// happen (and only count as a change) where the bytes differ.
pub(crate) struct Disk<'a> {
    file: &'a mut File,
    len: u64,
    changed: bool,
}

/// The piece in which [`Disk::zero`] compares and writes.
const PIECE: usize = 64 * 1024;

impl<'a> Disk<'a> {
    fn new(file: &'a mut File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Disk { file, len, changed: false })
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn changed(&self) -> bool {
        self.changed
    }

    /// Up to `n` bytes at `at` (fewer at the end of the file, none past it).
    pub(crate) fn read(&mut self, at: u64, n: usize) -> io::Result<Vec<u8>> {
        let n = (n as u64).min(self.len.saturating_sub(at)) as usize;
        let mut buf = vec![0; n];
        if n > 0 {
            self.file.seek(SeekFrom::Start(at))?;
            self.file.read_exact(&mut buf)?;
        }
        Ok(buf)
    }

    /// Writes `bytes` at `at` (cut at the end of the file) where they differ.
    pub(crate) fn write(&mut self, at: u64, bytes: &[u8]) -> io::Result<()> {
        let now = self.read(at, bytes.len())?;
        let bytes = &bytes[..now.len()];
        if now != bytes {
            self.file.seek(SeekFrom::Start(at))?;
            self.file.write_all(bytes)?;
            self.changed = true;
        }
        Ok(())
    }

    /// Zeros `n` bytes at `at` (cut at the end of the file), a piece at a time.
    pub(crate) fn zero(&mut self, at: u64, n: u64) -> io::Result<()> {
        let end = at.saturating_add(n).min(self.len);
        let zeros = [0u8; PIECE];
        let mut at = at;
        while at < end {
            let k = ((end - at) as usize).min(PIECE);
            self.write(at, &zeros[..k])?;
            at += k as u64;
        }
        Ok(())
    }
}
