//! ISO base media files: MP4, MOV, 3GP, M4A videos and sounds, and HEIF stills (HEIC,
//! AVIF). Everything here is changed in place, never resized: a movie's sample tables and a
//! still's item locations are absolute offsets, and `moov` often comes after `mdat`.
//!
//! Streamed: the box tree is followed as it arrives (into `moov` and its `trak`s; nothing
//! is held but a box header). Location and camera metadata live in `udta` (`©xyz`, 3GPP
//! `loci`, `©mak`, `©mod`, GoPro's and others' own boxes), in `moov`/`trak` `meta`
//! (Apple's `com.apple.quicktime.location.ISO6709`, make, model, software) and in `uuid`
//! boxes (XMP, Sony's): each such box is renamed `free` (which every reader skips) and its
//! content is written as zeros. `free` and `skip` boxes are zeroed too: editors leave old
//! data in them. A box whose size does not fit in its parent ends the structure a reader
//! could follow: the rest of the parent is zeroed.
//!
//! At the end ([`Bmff::fixup`], from the written file): a top-level `meta` box is a HEIF
//! still's index of items. Its `Exif` items and `mime` items (XMP) are found through
//! `iinf` and `iloc` and their bytes overwritten where they are (an empty EXIF structure,
//! then zeros), wherever in the file they lie. A top-level `meta` that is not a picture's
//! (its handler is not `pict`) is renamed `free` and zeroed like any other.

use std::io;

use super::exif;
use super::{Disk, Pass, pass};

/// The largest top-level `meta` box read into memory at the end. HEIF indexes are
/// kilobytes; a larger one is not a picture's index and is zeroed whole.
const MAX_META: u64 = 16 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctx {
    Top,
    Moov,
    Trak,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Header,
    Copy(u64),
    Zero(u64),
}

pub(crate) struct Bmff {
    state: State,
    /// Offset of the next input byte (the same in the output: nothing moves).
    pos: u64,
    header: [u8; 16],
    header_len: usize,
    /// Open containers: where each ends, and what it is.
    open: Vec<(u64, Ctx)>,
    /// Top-level `meta` boxes: (offset, size), for [`fixup`](Self::fixup).
    metas: Vec<(u64, u64)>,
    removed: bool,
}

impl Bmff {
    pub(crate) fn new() -> Self {
        Bmff {
            state: State::Header,
            pos: 0,
            header: [0; 16],
            header_len: 0,
            open: Vec::new(),
            metas: Vec::new(),
            removed: false,
        }
    }

    pub(crate) fn removed(&self) -> bool {
        self.removed
    }

    /// Bytes left in the innermost open container (unbounded at the top level).
    fn room(&mut self) -> (u64, Ctx) {
        while let Some(&(end, _)) = self.open.last() {
            if end > self.pos {
                break;
            }
            self.open.pop();
        }
        match self.open.last() {
            Some(&(end, ctx)) => (end - self.pos, ctx),
            None => (u64::MAX, Ctx::Top),
        }
    }

    pub(crate) fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.state {
                State::Copy(n) => {
                    let left = pass(&mut input, n, Pass::Keep, out, &mut self.removed);
                    self.pos += n - left;
                    self.state = if left == 0 { State::Header } else { State::Copy(left) };
                }
                State::Zero(n) => {
                    let left = pass(&mut input, n, Pass::Zero, out, &mut self.removed);
                    self.pos += n - left;
                    self.state = if left == 0 { State::Header } else { State::Zero(left) };
                }
                State::Header => {
                    let (room, ctx) = self.room();
                    if room < 8 && self.header_len == 0 {
                        // A container's tail too short for a box: nothing a reader follows.
                        self.state = State::Zero(room);
                        continue;
                    }
                    let need = if self.header_len >= 4 && self.header[..4] == [0, 0, 0, 1] { 16 } else { 8 };
                    let k = (need - self.header_len).min(input.len());
                    self.header[self.header_len..self.header_len + k].copy_from_slice(&input[..k]);
                    self.header_len += k;
                    input = &input[k..];
                    if self.header_len < need || (need == 8 && self.header[..4] == [0, 0, 0, 1]) {
                        continue;
                    }
                    let header_len = std::mem::take(&mut self.header_len);
                    self.pos += header_len as u64;
                    let room = room.saturating_sub(header_len as u64);
                    let size = match u32::from_be_bytes(self.header[..4].try_into().expect("4 bytes")) {
                        // To the end of the parent (of the file at the top level).
                        0 => Some(room),
                        1 => u64::from_be_bytes(self.header[8..16].try_into().expect("8 bytes"))
                            .checked_sub(header_len as u64),
                        n => (n as u64).checked_sub(header_len as u64),
                    };
                    let kind: [u8; 4] = self.header[4..8].try_into().expect("4 bytes");
                    let Some(size) = size.filter(|&s| s <= room) else {
                        // Not a box: the rest of the parent is zeroed.
                        self.removed = true;
                        out.resize(out.len() + header_len, 0);
                        self.state = State::Zero(room);
                        continue;
                    };
                    let header = self.header;
                    let emit_header = |out: &mut Vec<u8>, kind: &[u8; 4]| {
                        out.extend_from_slice(&header[..4]);
                        out.extend_from_slice(kind);
                        out.extend_from_slice(&header[8..header_len]);
                    };
                    self.state = match (ctx, &kind) {
                        (Ctx::Top, b"moov") | (Ctx::Moov, b"trak") => {
                            emit_header(out, &kind);
                            let inner = if &kind == b"moov" { Ctx::Moov } else { Ctx::Trak };
                            self.open.push((self.pos + size, inner));
                            State::Header
                        }
                        (_, b"udta" | b"uuid") | (Ctx::Moov | Ctx::Trak, b"meta") => {
                            self.removed = true;
                            emit_header(out, b"free");
                            State::Zero(size)
                        }
                        (_, b"free" | b"skip") => {
                            emit_header(out, &kind);
                            State::Zero(size)
                        }
                        (Ctx::Top, b"meta") => {
                            emit_header(out, &kind);
                            self.metas.push((self.pos - header_len as u64, size + header_len as u64));
                            State::Copy(size)
                        }
                        _ => {
                            emit_header(out, &kind);
                            State::Copy(size)
                        }
                    };
                    if self.state == State::Copy(0) || self.state == State::Zero(0) {
                        self.state = State::Header;
                    }
                }
            }
        }
    }

    /// The end of the file: a cut-off box header is kept as it was.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header[..self.header_len]);
        self.header_len = 0;
        self.state = State::Copy(u64::MAX);
    }

    /// Neutralises the metadata items of each top-level `meta` box in the written file.
    pub(crate) fn fixup(&mut self, disk: &mut Disk) -> io::Result<()> {
        for (at, len) in std::mem::take(&mut self.metas) {
            let len = len.min(disk.len().saturating_sub(at));
            let header = if disk.read(at, 4)? == [0, 0, 0, 1] { 16 } else { 8 };
            let meta = if len <= MAX_META { disk.read(at, len as usize)? } else { Vec::new() };
            match items_to_clear(&meta, at, header) {
                Some(ranges) => {
                    for (start, end, exif_item) in ranges {
                        let size = end.min(disk.len()).saturating_sub(start);
                        if exif_item && size >= 4 {
                            // An empty EXIF structure right after the 4-byte header offset.
                            let mut first = vec![0u8; 4];
                            first.extend(exif::in_place(None, (size as usize).min(64) - 4));
                            disk.write(start, &first)?;
                            disk.zero(start + first.len() as u64, size - first.len() as u64)?;
                        } else {
                            disk.zero(start, size)?;
                        }
                    }
                }
                None => {
                    disk.write(at + 4, b"free")?;
                    disk.zero(at + header as u64, len.saturating_sub(header as u64))?;
                }
            }
        }
        self.removed |= disk.changed();
        Ok(())
    }
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |acc, &x| (acc << 8) | x as u64)
}

/// The children of a box's payload: (type, payload offset, payload length), as far as
/// they parse.
fn children(payload: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut found = Vec::new();
    let mut at = 0usize;
    while at + 8 <= payload.len() {
        let size = be(&payload[at..at + 4]);
        let kind: [u8; 4] = payload[at + 4..at + 8].try_into().expect("4 bytes");
        let (header, size) = match size {
            0 => (8, (payload.len() - at) as u64),
            1 if at + 16 <= payload.len() => (16, be(&payload[at + 8..at + 16])),
            1 => break,
            n => (8, n),
        };
        if size < header as u64 || size > (payload.len() - at) as u64 {
            break;
        }
        found.push((kind, at + header, size as usize - header));
        at += size as usize;
    }
    found
}

/// For a top-level `meta` box (`meta`: the whole box as read, at file offset `at`, with a
/// header of `header` bytes): the file ranges of its EXIF and XMP items, `(start, end,
/// is_exif)`, or `None` if it is not a picture's index (so it is zeroed whole).
fn items_to_clear(meta: &[u8], at: u64, header: usize) -> Option<Vec<(u64, u64, bool)>> {
    // A FullBox: version and flags, then the children.
    let body_at = header + 4;
    let body = meta.get(body_at..)?;
    let boxes = children(body);
    let find = |kind: &[u8; 4]| boxes.iter().find(|(k, ..)| k == kind).map(|&(_, o, l)| (o, &body[o..o + l]));
    let (_, hdlr) = find(b"hdlr")?;
    if hdlr.get(8..12)? != b"pict" {
        return None;
    }
    // Items whose bytes are metadata: EXIF, and MIME items (XMP).
    let mut targets: Vec<(u32, bool)> = Vec::new();
    if let Some((_, iinf)) = find(b"iinf") {
        let entries_at = if iinf.first() == Some(&0) { 6 } else { 8 };
        for (kind, o, l) in children(iinf.get(entries_at..).unwrap_or(&[])) {
            let infe = &iinf[entries_at + o..entries_at + o + l];
            if &kind != b"infe" || infe.len() < 4 || infe[0] < 2 {
                continue;
            }
            let (id, rest) = if infe[0] == 2 {
                (be(infe.get(4..6)?) as u32, infe.get(8..)?)
            } else {
                (be(infe.get(4..8)?) as u32, infe.get(10..)?)
            };
            match rest.get(..4) {
                Some(b"Exif") => targets.push((id, true)),
                Some(b"mime") => targets.push((id, false)),
                _ => {}
            }
        }
    }
    let idat_at = find(b"idat").map(|(o, _)| at + (body_at + o) as u64);
    let mut ranges = Vec::new();
    if targets.is_empty() {
        return Some(ranges);
    }
    let (_, iloc) = find(b"iloc")?;
    let version = *iloc.first()?;
    let sizes = iloc.get(4..6)?;
    let (offset_size, length_size) = ((sizes[0] >> 4) as usize, (sizes[0] & 15) as usize);
    let (base_size, index_size) = ((sizes[1] >> 4) as usize, if version >= 1 { (sizes[1] & 15) as usize } else { 0 });
    let mut p = 6usize;
    let mut take = |n: usize| -> Option<u64> {
        let v = be(iloc.get(p..p + n)?);
        p += n;
        Some(v)
    };
    let count = take(if version < 2 { 2 } else { 4 })?;
    for _ in 0..count {
        let id = take(if version < 2 { 2 } else { 4 })? as u32;
        let method = if version >= 1 { take(2)? & 15 } else { 0 };
        take(2)?; // data_reference_index
        let base = take(base_size)?;
        let extents = take(2)?;
        let target = targets.iter().find(|(t, _)| *t == id).map(|&(_, exif)| exif);
        let mut first = true;
        for _ in 0..extents {
            take(index_size)?;
            let offset = take(offset_size)?;
            let length = take(length_size)?;
            let Some(exif_item) = target else { continue };
            let start = match method {
                0 => base.checked_add(offset)?,
                1 => idat_at?.checked_add(base)?.checked_add(offset)?,
                // Items made of other items: their bytes are those items'.
                _ => continue,
            };
            let end = if length == 0 { u64::MAX } else { start.checked_add(length)? };
            ranges.push((start, end, exif_item && first));
            first = false;
        }
    }
    // The EXIF header goes into each EXIF item's first extent; order puts those first per item.
    Some(ranges)
}
