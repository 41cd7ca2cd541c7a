//! WebP, streamed chunk by chunk and changed in place: the RIFF header gives the file's
//! size before any chunk, so no chunk may change its size. Kept as they are: the picture
//! (`VP8 `, `VP8L`, `ALPH`), animation (`ANIM`, `ANMF`) and the colour profile (`ICCP`).
//! `EXIF` keeps its place and size but holds only the orientation, then zeros. Every other
//! chunk (`XMP `, and any a tool added) becomes a `JUNK` chunk (RIFF's padding, which
//! readers skip) full of zeros, and the XMP flag in `VP8X` is cleared.

use super::{Pass, exif, gather, pass};

const EXIF_HELD: u64 = 64 * 1024;
const XMP_FLAG: u8 = 0x04;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Copy(u64),
    /// Writing zeros for this many input bytes.
    Zero(u64),
    /// Collecting a chunk's type and size.
    Header,
    /// Holding the start of a chunk (`VP8X` flags, `EXIF`); `rest` more bytes follow.
    Hold {
        kind: [u8; 4],
        left: usize,
        rest: u64,
    },
}

pub(crate) struct Webp {
    state: State,
    header: [u8; 8],
    header_len: usize,
    held: Vec<u8>,
    removed: bool,
}

impl Webp {
    pub(crate) fn new() -> Self {
        // "RIFF", the size, "WEBP": the sniffer has checked them.
        Webp { state: State::Copy(12), header: [0; 8], header_len: 0, held: Vec::new(), removed: false }
    }

    pub(crate) fn removed(&self) -> bool {
        self.removed
    }

    pub(crate) fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.state {
                State::Copy(n) => {
                    let left = pass(&mut input, n, Pass::Keep, out, &mut self.removed);
                    self.state = if left == 0 { State::Header } else { State::Copy(left) };
                }
                State::Zero(n) => {
                    let left = pass(&mut input, n, Pass::Zero, out, &mut self.removed);
                    self.state = if left == 0 { State::Header } else { State::Zero(left) };
                }
                State::Hold { kind, left, rest } => {
                    let k = left.min(input.len());
                    self.held.extend_from_slice(&input[..k]);
                    input = &input[k..];
                    if k < left {
                        self.state = State::Hold { kind, left: left - k, rest };
                        continue;
                    }
                    let held = std::mem::take(&mut self.held);
                    let replaced = if &kind == b"VP8X" {
                        let mut flags = held.clone();
                        flags[0] &= !XMP_FLAG;
                        flags
                    } else {
                        // Some writers put EXIF's "Exif\0\0" prefix in the chunk too.
                        let tiff = held.strip_prefix(b"Exif\0\0").unwrap_or(&held);
                        exif::in_place(exif::orientation(tiff).filter(|&o| o != 1), held.len())
                    };
                    if replaced != held {
                        self.removed = true;
                    }
                    out.extend_from_slice(&replaced);
                    self.state = match rest {
                        0 => State::Header,
                        rest if &kind == b"VP8X" => State::Copy(rest),
                        rest => State::Zero(rest),
                    };
                }
                State::Header => {
                    if !gather(&mut self.header, &mut self.header_len, 8, &mut input) {
                        continue;
                    }
                    self.header_len = 0;
                    let kind: [u8; 4] = self.header[..4].try_into().expect("4 bytes");
                    let size = u32::from_le_bytes(self.header[4..].try_into().expect("4 bytes")) as u64;
                    // Chunks are padded to an even length.
                    let padded = size + (size & 1);
                    match &kind {
                        b"VP8 " | b"VP8L" | b"ALPH" | b"ANIM" | b"ANMF" | b"ICCP" => {
                            out.extend_from_slice(&self.header);
                            self.state = if padded == 0 { State::Header } else { State::Copy(padded) };
                        }
                        b"VP8X" | b"EXIF" if size > 0 => {
                            out.extend_from_slice(&self.header);
                            let held = if &kind == b"VP8X" { 1 } else { size.min(EXIF_HELD) };
                            self.held.clear();
                            self.state = State::Hold { kind, left: held as usize, rest: padded - held };
                        }
                        _ => {
                            if &kind != b"JUNK" {
                                self.removed = true;
                            }
                            out.extend_from_slice(b"JUNK");
                            out.extend_from_slice(&self.header[4..]);
                            self.state = if padded == 0 { State::Header } else { State::Zero(padded) };
                        }
                    }
                }
            }
        }
    }

    /// The end of the file: a cut-off chunk header is kept as it was (it names nothing), a
    /// cut-off held piece becomes zeros.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header[..self.header_len]);
        if let State::Hold { .. } = self.state {
            self.removed = true;
            out.resize(out.len() + self.held.len(), 0);
        }
        self.header_len = 0;
        self.held = Vec::new();
        self.state = State::Zero(u64::MAX);
    }
}
