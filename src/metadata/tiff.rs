//! TIFF (and the camera raw formats built on it): offsets everywhere, and IFDs anywhere in
//! the file, often after the pixels (libtiff writes the directory last). So nothing is
//! changed while the bytes stream in; at the end ([`fixup`]) the written file is read where
//! the IFDs are, as a reader would follow them, and changed in place:
//!
//! - the GPS IFD and the EXIF IFD (with its interoperability IFD and maker note) are
//!   overwritten with zeros, their out-of-line values first: what is left where they were
//!   is an empty IFD, so the pointers to them still lead somewhere valid;
//! - in every picture's IFD (IFD0, the IFDs chained after it, SubIFDs) the values of the
//!   tags that describe the camera, the person or the moment rather than the pixels
//!   ([`ERASED`]: make, model, software, dates, artist, XMP, IPTC, Photoshop, Windows
//!   comments) are zeroed. Orientation is a picture tag and stays.
//!
//! Reads are bounded (an IFD of at most [`MAX_ENTRIES`], at most [`MAX_IFDS`]), and every
//! offset is checked against the file's length. BigTIFF is not recognised as an image by
//! folio and is stored as it is.

use std::collections::HashSet;
use std::io;

use super::Disk;

const MAX_ENTRIES: usize = 4096;
const MAX_IFDS: usize = 256;

/// Tags whose values are zeroed in a picture's IFD.
const ERASED: [u16; 17] = [
    0x010D, // DocumentName
    0x010E, // ImageDescription
    0x010F, // Make
    0x0110, // Model
    0x0131, // Software
    0x0132, // DateTime
    0x013B, // Artist
    0x013C, // HostComputer
    0x02BC, // XMP
    0x83BB, // IPTC
    0x8649, // Photoshop
    0x9C9B, // XPTitle
    0x9C9C, // XPComment
    0x9C9D, // XPAuthor
    0x9C9E, // XPKeywords
    0x9C9F, // XPSubject
    0xC4A5, // PrintIM
];
const GPS_IFD: u16 = 0x8825;
const EXIF_IFD: u16 = 0x8769;
const INTEROP_IFD: u16 = 0xA005;
const SUB_IFDS: u16 = 0x014A;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A picture's IFD: keep it, zero the tags in [`ERASED`], follow its pointers.
    Picture,
    /// A metadata IFD: zero it whole.
    Wipe,
}

pub(crate) struct Tiff {
    removed: bool,
}

impl Tiff {
    pub(crate) fn new() -> Self {
        Tiff { removed: false }
    }

    pub(crate) fn removed(&self) -> bool {
        self.removed
    }

    pub(crate) fn fixup(&mut self, disk: &mut Disk) -> io::Result<()> {
        let head = disk.read(0, 8)?;
        if head.len() < 8 {
            return Ok(());
        }
        let big = match head.get(..4) {
            Some(b"MM\0\x2A") => true,
            Some(b"II\x2A\0") => false,
            _ => return Ok(()),
        };
        let num = |b: &[u8]| -> u64 {
            if big {
                b.iter().fold(0, |acc, &x| (acc << 8) | x as u64)
            } else {
                b.iter().rev().fold(0, |acc, &x| (acc << 8) | x as u64)
            }
        };
        let mut queue = vec![(num(&head[4..8]), Role::Picture)];
        let mut seen = HashSet::new();
        while let Some((at, role)) = queue.pop() {
            if at < 8 || at >= disk.len() || seen.len() >= MAX_IFDS || !seen.insert(at) {
                continue;
            }
            let count = num(&disk.read(at, 2)?) as usize;
            if count == 0 || count > MAX_ENTRIES {
                continue;
            }
            let ifd_len = 2 + 12 * count + 4;
            let ifd = disk.read(at, ifd_len)?;
            if ifd.len() < ifd_len {
                continue;
            }
            for i in 0..count {
                let e = &ifd[2 + 12 * i..2 + 12 * (i + 1)];
                let (tag, kind, n) = (num(&e[0..2]) as u16, num(&e[2..4]), num(&e[4..8]));
                let unit: u64 = match kind {
                    1 | 2 | 6 | 7 => 1,
                    3 | 8 => 2,
                    4 | 9 | 11 | 13 => 4,
                    5 | 10 | 12 => 8,
                    _ => 0,
                };
                let size = unit.saturating_mul(n);
                let value_at = if size <= 4 { at + 2 + 12 * i as u64 + 8 } else { num(&e[8..12]) };
                let pointer = matches!(tag, GPS_IFD | EXIF_IFD | INTEROP_IFD);
                if pointer && n == 1 {
                    queue.push((num(&e[8..12]), Role::Wipe));
                }
                match role {
                    Role::Picture if tag == SUB_IFDS && unit == 4 => {
                        let offsets = disk.read(value_at, size.min(4 * 64) as usize)?;
                        queue.extend(offsets.chunks_exact(4).map(|o| (num(o), Role::Picture)));
                    }
                    Role::Picture if ERASED.contains(&tag) => disk.zero(value_at, size)?,
                    Role::Wipe if size > 4 && !pointer => disk.zero(value_at, size)?,
                    _ => {}
                }
            }
            match role {
                Role::Picture => queue.push((num(&ifd[ifd_len - 4..]), Role::Picture)),
                Role::Wipe => disk.zero(at, ifd_len as u64)?,
            }
        }
        self.removed |= disk.changed();
        Ok(())
    }
}
