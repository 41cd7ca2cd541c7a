//! Days as people write them (`YYYY-MM-DD`, UTC: a box may not know its time zone), to and
//! from milliseconds since 1970. Proleptic Gregorian calendar (Howard Hinnant's algorithms).

/// The day a moment falls on, as `YYYY-MM-DD`.
pub fn day_of(ms: u64) -> String {
    let days = (ms / 86_400_000) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Midnight at the start of a `YYYY-MM-DD` day, in ms since 1970; None if it is not a date.
pub fn start_of_day(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip() {
        assert_eq!(start_of_day("1970-01-01"), Some(0));
        assert_eq!(start_of_day("2026-11-23"), Some(1_795_392_000_000));
        assert_eq!(start_of_day("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(day_of(1_709_164_800_000 + 3_600_000), "2024-02-29");
        for day in ["1999-12-31", "2000-03-01", "2026-11-23"] {
            assert_eq!(day_of(start_of_day(day).unwrap() as u64), day);
        }
        assert_eq!(start_of_day("2026-13-01"), None);
        assert_eq!(start_of_day("2026-1-01"), None);
        assert_eq!(start_of_day("yesterday"), None);
    }
}
