//! PNG, streamed chunk by chunk. Kept: the critical chunks (an upper-case first letter:
//! `IHDR`, `PLTE`, `IDAT`, `IEND` and any a decoder must understand) and the ancillary
//! chunks that change how the pixels look ([`KEPT`]: colour, transparency, physical size,
//! animation). `eXIf` is replaced by a minimal one holding only the orientation (if it
//! says to turn the picture). Every other ancillary chunk goes: text (`tEXt`, `zTXt`,
//! `iTXt`, where XMP lives), `tIME`, and chunks of vendors and tools that nobody listed.
//! A chunk header that does not parse, and anything after `IEND`, is dropped: a decoder
//! stops there too, and what it would not read may still hold a location.

use super::{Pass, exif, gather, pass};

/// Ancillary chunks that are about the pixels, not about the photo's circumstances.
const KEPT: [&[u8; 4]; 16] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"cICP", b"mDCV", b"cLLI", b"bKGD", b"hIST", b"pHYs",
    b"sPLT", b"acTL", b"fcTL", b"fdAT",
];

/// The most of an `eXIf` chunk held to find the orientation in.
const EXIF_HELD: u64 = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Collecting a chunk's length and type.
    Header,
    Copy(u64),
    Skip(u64),
    /// Holding the start of an `eXIf` chunk's data; `rest` more (data and CRC) follow.
    Hold {
        left: usize,
        rest: u64,
    },
    /// After `IEND`, or after a header that is not a chunk.
    Drop,
}

pub(crate) struct Png {
    state: State,
    header: [u8; 8],
    header_len: usize,
    held: Vec<u8>,
    ended: bool,
    removed: bool,
}

impl Png {
    pub(crate) fn new() -> Self {
        // The signature first; the sniffer has checked it.
        Png { state: State::Copy(8), header: [0; 8], header_len: 0, held: Vec::new(), ended: false, removed: false }
    }

    pub(crate) fn removed(&self) -> bool {
        self.removed
    }

    fn next_chunk(&self) -> State {
        if self.ended { State::Drop } else { State::Header }
    }

    pub(crate) fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.state {
                State::Drop => {
                    self.removed = true;
                    return;
                }
                State::Copy(n) => {
                    let left = pass(&mut input, n, Pass::Keep, out, &mut self.removed);
                    self.state = if left == 0 { self.next_chunk() } else { State::Copy(left) };
                }
                State::Skip(n) => {
                    // A skipped chunk was judged (and `removed` set) when its header came.
                    let mut judged_already = false;
                    let left = pass(&mut input, n, Pass::Drop, out, &mut judged_already);
                    self.state = if left == 0 { self.next_chunk() } else { State::Skip(left) };
                }
                State::Hold { left, rest } => {
                    let k = left.min(input.len());
                    self.held.extend_from_slice(&input[..k]);
                    input = &input[k..];
                    if k < left {
                        self.state = State::Hold { left: left - k, rest };
                        continue;
                    }
                    self.judge_exif(rest, out);
                    self.state = State::Skip(rest);
                }
                State::Header => {
                    if !gather(&mut self.header, &mut self.header_len, 8, &mut input) {
                        continue;
                    }
                    self.header_len = 0;
                    let length = u32::from_be_bytes(self.header[..4].try_into().expect("4 bytes"));
                    let kind: [u8; 4] = self.header[4..].try_into().expect("4 bytes");
                    if length > 0x7FFF_FFFF || !kind.iter().all(u8::is_ascii_alphabetic) {
                        self.removed = true;
                        self.state = State::Drop;
                        continue;
                    }
                    // Data and the 4-byte CRC.
                    let rest = length as u64 + 4;
                    if kind[0].is_ascii_uppercase() || KEPT.contains(&&kind) {
                        out.extend_from_slice(&self.header);
                        self.ended = &kind == b"IEND";
                        self.state = State::Copy(rest);
                    } else if &kind == b"eXIf" && length > 0 {
                        let held = (length as u64).min(EXIF_HELD);
                        self.held.clear();
                        self.state = State::Hold { left: held as usize, rest: rest - held };
                    } else {
                        self.removed = true;
                        self.state = State::Skip(rest);
                    }
                }
            }
        }
    }

    /// The start of an `eXIf` chunk is in (`rest` bytes of it, with the CRC, are still to
    /// come and are skipped): write a minimal one in its place if it turns the picture.
    fn judge_exif(&mut self, rest: u64, out: &mut Vec<u8>) {
        let held = std::mem::take(&mut self.held);
        let orientation = exif::orientation(&held).filter(|&o| o != 1);
        let Some(o) = orientation else {
            self.removed = true;
            return;
        };
        let data = exif::minimal(Some(o));
        if data != held || rest != 4 {
            self.removed = true;
        }
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(b"eXIf");
        crc.update(&data);
        out.extend_from_slice(b"eXIf");
        out.extend_from_slice(&data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }

    /// The end of the file: a cut-off chunk header or `eXIf` is dropped.
    pub(crate) fn finish(&mut self, _out: &mut Vec<u8>) {
        if self.header_len > 0 || matches!(self.state, State::Hold { .. }) {
            self.removed = true;
        }
        self.header_len = 0;
        self.held = Vec::new();
        self.state = State::Drop;
    }
}
