//! JPEG, streamed: every image in the file (a phone's multi-picture file has a second
//! complete JPEG after the first one's end), every segment of it, before and between scans.
//!
//! Kept: the segments a decoder needs (frame, tables, scans, restart intervals, `APP0`
//! JFIF, `APP2` ICC profiles, `APP14` Adobe colour transform), and of EXIF only the
//! Orientation, rewritten as a minimal EXIF segment. Dropped: every other application
//! segment (the rest of EXIF, XMP, MPF's index of the other pictures, whose offsets no
//! longer hold, IPTC, vendors' own) and comments. Bytes that are not a segment where a
//! marker should be (a stray `FF 00` in the header) are dropped, as decoders skip them,
//! instead of ending the filtering; bytes after an image's end that do not begin another
//! JPEG are dropped too. So no byte of the input reaches the disk unless it was recognised
//! as part of a picture: the class of leak "the parser gave up and passed the rest" cannot
//! come back.
//!
//! An application segment is at most 64 KiB and is held whole until it is judged; nothing
//! else is held but a marker and its length.

use super::exif;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between segments; `ff` while an `FF` is held. Other bytes are dropped.
    Marker { ff: bool },
    /// `FF code` seen; collecting the two length bytes.
    Length { code: u8, got: usize, len: [u8; 2] },
    /// Copying the rest of a kept segment; then the scan's data if it was `SOS`.
    Copy { left: u64, scan: bool },
    /// Dropping the rest of a metadata segment.
    Skip(u64),
    /// Holding an application segment's body until it can be judged.
    Hold { code: u8, left: usize },
    /// Entropy-coded data, copied; `ff` while an `FF` is held.
    Scan { ff: bool },
    /// Before an image (at the start, after an `EOI`): dropping bytes until `FF D8 FF`.
    Between { matched: u8 },
}

pub(crate) struct Jpeg {
    state: State,
    held: Vec<u8>,
    removed: bool,
}

impl Jpeg {
    pub(crate) fn new() -> Self {
        Jpeg { state: State::Between { matched: 0 }, held: Vec::new(), removed: false }
    }

    pub(crate) fn removed(&self) -> bool {
        self.removed
    }

    pub(crate) fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while let Some(&byte) = input.first() {
            match self.state {
                State::Copy { left, scan } => {
                    let k = left.min(input.len() as u64) as usize;
                    out.extend_from_slice(&input[..k]);
                    input = &input[k..];
                    self.state = match left - k as u64 {
                        0 if scan => State::Scan { ff: false },
                        0 => State::Marker { ff: false },
                        left => State::Copy { left, scan },
                    };
                }
                State::Skip(left) => {
                    let k = left.min(input.len() as u64) as usize;
                    input = &input[k..];
                    self.state =
                        if left == k as u64 { State::Marker { ff: false } } else { State::Skip(left - k as u64) };
                }
                State::Hold { code, left } => {
                    let k = left.min(input.len());
                    self.held.extend_from_slice(&input[..k]);
                    input = &input[k..];
                    if left == k {
                        self.judge(code, out);
                        self.state = State::Marker { ff: false };
                    } else {
                        self.state = State::Hold { code, left: left - k };
                    }
                }
                State::Scan { ff: false } => match input.iter().position(|&b| b == 0xFF) {
                    Some(at) => {
                        out.extend_from_slice(&input[..at]);
                        input = &input[at + 1..];
                        self.state = State::Scan { ff: true };
                    }
                    None => {
                        out.extend_from_slice(input);
                        input = &[];
                    }
                },
                State::Scan { ff: true } => {
                    input = &input[1..];
                    match byte {
                        // Stuffed zero, restart marker: part of the data.
                        0x00 | 0xD0..=0xD7 => {
                            out.extend_from_slice(&[0xFF, byte]);
                            self.state = State::Scan { ff: false };
                        }
                        // A fill byte before a marker.
                        0xFF => out.push(0xFF),
                        code => self.marker(code, out),
                    }
                }
                State::Marker { ff: false } => match input.iter().position(|&b| b == 0xFF) {
                    Some(at) => {
                        if at > 0 {
                            // Not a segment: decoders skip such bytes, and so do we.
                            self.removed = true;
                        }
                        input = &input[at + 1..];
                        self.state = State::Marker { ff: true };
                    }
                    None => {
                        self.removed = true;
                        input = &[];
                    }
                },
                State::Marker { ff: true } => {
                    input = &input[1..];
                    self.marker(byte, out);
                }
                State::Length { code, got, mut len } => {
                    len[got] = byte;
                    input = &input[1..];
                    if got == 0 {
                        self.state = State::Length { code, got: 1, len };
                        continue;
                    }
                    self.segment(code, len, out);
                }
                State::Between { matched } => {
                    input = &input[1..];
                    self.state = match (matched, byte) {
                        (2, 0xFF) => {
                            out.extend_from_slice(&[0xFF, 0xD8]);
                            State::Marker { ff: true }
                        }
                        (1, 0xD8) => State::Between { matched: 2 },
                        (_, 0xFF) => {
                            if matched > 0 {
                                self.removed = true;
                            }
                            State::Between { matched: 1 }
                        }
                        _ => {
                            self.removed = true;
                            State::Between { matched: 0 }
                        }
                    };
                }
            }
        }
    }

    /// `FF code` outside entropy-coded data.
    fn marker(&mut self, code: u8, out: &mut Vec<u8>) {
        self.state = match code {
            // A fill byte: keep it, the marker follows.
            0xFF => {
                out.push(0xFF);
                State::Marker { ff: true }
            }
            // Not a marker (a stray `FF 00`), or a second SOI inside an image: skipped.
            0x00 | 0xD8 => {
                self.removed = true;
                State::Marker { ff: false }
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, code]);
                State::Marker { ff: false }
            }
            // End of this image; another may follow.
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                State::Between { matched: 0 }
            }
            code => State::Length { code, got: 0, len: [0; 2] },
        };
    }

    /// A segment's marker and length are in: keep, hold or drop it.
    fn segment(&mut self, code: u8, len: [u8; 2], out: &mut Vec<u8>) {
        let length = u16::from_be_bytes(len) as u64;
        if length < 2 {
            // Not a segment: skipped like other stray bytes.
            self.removed = true;
            self.state = State::Marker { ff: false };
            return;
        }
        let body = length - 2;
        self.state = match code {
            0xE0 | 0xE1 | 0xE2 | 0xEE if body > 0 => {
                self.held.clear();
                State::Hold { code, left: body as usize }
            }
            0xE0..=0xEF | 0xFE => {
                self.removed = true;
                if body == 0 { State::Marker { ff: false } } else { State::Skip(body) }
            }
            code => {
                out.extend_from_slice(&[0xFF, code, len[0], len[1]]);
                match body {
                    0 if code == 0xDA => State::Scan { ff: false },
                    0 => State::Marker { ff: false },
                    left => State::Copy { left, scan: code == 0xDA },
                }
            }
        };
    }

    /// A held application segment is whole: keep it, keep its orientation, or drop it.
    fn judge(&mut self, code: u8, out: &mut Vec<u8>) {
        let held = std::mem::take(&mut self.held);
        let kept: Option<Vec<u8>> = match code {
            0xE0 if held.starts_with(b"JFIF\0") => Some(held),
            0xE2 if held.starts_with(b"ICC_PROFILE\0") => Some(held),
            0xEE if held.starts_with(b"Adobe") => Some(held),
            0xE1 if held.starts_with(b"Exif\0") => {
                match held.get(6..).and_then(exif::orientation).filter(|&o| o != 1) {
                    Some(o) => {
                        let mut body = b"Exif\0\0".to_vec();
                        body.extend(exif::minimal(Some(o)));
                        if body != held {
                            self.removed = true;
                        }
                        Some(body)
                    }
                    None => None,
                }
            }
            _ => None,
        };
        match kept {
            Some(body) => {
                out.extend_from_slice(&[0xFF, code]);
                out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
                out.extend_from_slice(&body);
            }
            None => self.removed = true,
        }
        self.held = Vec::new();
    }

    /// The end of the file: what is held is a truncated piece of structure.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        match self.state {
            State::Length { code, got, len } if !matches!(code, 0xE0..=0xEF | 0xFE) => {
                out.extend_from_slice(&[0xFF, code]);
                out.extend_from_slice(&len[..got]);
            }
            State::Scan { ff: true } => out.push(0xFF),
            State::Hold { .. } | State::Length { .. } | State::Marker { ff: true } => self.removed = true,
            State::Between { matched } if matched > 0 => self.removed = true,
            _ => {}
        }
        self.held = Vec::new();
        self.state = State::Marker { ff: false };
    }
}
