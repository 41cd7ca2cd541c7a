//! The one EXIF field folio keeps: Orientation (tag 0x0112 in IFD0), so a phone photo taken
//! in portrait is shown upright by browsers and by the thumbnailer. Everything else in EXIF
//! (the GPS IFD, the camera's make, model and serial numbers, dates, maker notes) goes.

/// The orientation (1 to 8) that a TIFF structure (EXIF's payload after `Exif\0\0`) gives
/// in its IFD0, if it has a valid one. Reads only inside `tiff`: a held, bounded piece.
pub(crate) fn orientation(tiff: &[u8]) -> Option<u16> {
    let big = match tiff.get(..4)? {
        b"MM\0\x2A" => true,
        b"II\x2A\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    };
    let ifd0 = u32_at(4)? as usize;
    let count = u16_at(ifd0)? as usize;
    (0..count).find_map(|i| {
        let entry = ifd0.checked_add(2 + 12 * i)?;
        let (tag, kind, n) = (u16_at(entry)?, u16_at(entry + 2)?, u32_at(entry + 4)?);
        (tag == 0x0112 && kind == 3 && n == 1).then(|| u16_at(entry + 8)).flatten().filter(|o| (1..=8).contains(o))
    })
}

/// A complete big-endian TIFF structure whose IFD0 holds Orientation alone (26 bytes), or
/// no entry at all (14 bytes) for `None`.
pub(crate) fn minimal(orientation: Option<u16>) -> Vec<u8> {
    let mut t = b"MM\0\x2A\0\0\0\x08".to_vec();
    match orientation {
        Some(o) => {
            t.extend_from_slice(&[0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1]);
            t.extend_from_slice(&o.to_be_bytes());
            t.extend_from_slice(&[0, 0]);
        }
        None => t.extend_from_slice(&[0, 0]),
    }
    t.extend_from_slice(&[0, 0, 0, 0]);
    t
}

/// The bytes that take the place of `len` bytes of EXIF (a TIFF structure) in a container
/// whose offsets must not move: [`minimal`] with the orientation (or without, if it does
/// not fit), then zeros.
pub(crate) fn in_place(orientation: Option<u16>, len: usize) -> Vec<u8> {
    let mut t = minimal(orientation);
    if t.len() > len {
        t = minimal(None);
    }
    if t.len() > len {
        t.clear();
    }
    t.resize(len, 0);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_reads_back() {
        for o in 1..=8 {
            assert_eq!(orientation(&minimal(Some(o))), Some(o));
        }
        assert_eq!(orientation(&minimal(None)), None);
        assert_eq!(orientation(&in_place(Some(6), 100)), Some(6));
        assert_eq!(in_place(Some(6), 20).len(), 20);
        assert_eq!(orientation(&in_place(Some(6), 20)), None);
        assert_eq!(in_place(Some(6), 3), vec![0; 3]);
    }

    #[test]
    fn little_endian_and_garbage() {
        let le = b"II\x2A\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x03\0\0\0\0\0\0\0";
        assert_eq!(orientation(le), Some(3));
        assert_eq!(orientation(&le[..19]), None);
        assert_eq!(orientation(b"MM\0\x2A\xFF\xFF\xFF\xFF"), None);
        assert_eq!(orientation(b""), None);
        // Out of range.
        let mut bad = minimal(Some(6));
        bad[19] = 9;
        assert_eq!(orientation(&bad), None);
    }
}
