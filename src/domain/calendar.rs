//! Days as people write them (`YYYY-MM-DD`, UTC: a box may not know its time zone), to and
//! from milliseconds since 1970. Proleptic Gregorian calendar (Howard Hinnant's algorithms).

/// The day a moment falls on, as `YYYY-MM-DD`.
pub fn day_of(ms: u64) -> String {
    let (y, m, d) = civil_from_days((ms / 86_400_000) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 → (year, month 1–12, day 1–31).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) → days since 1970-01-01, the inverse of [`civil_from_days`].
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    Some(days_from_civil(y, m, d) * 86_400_000)
}

const DAY_MS: i64 = 86_400_000;

/// An ISO 8601 week (Monday to Sunday, UTC): what a family's weekly digest covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Week {
    /// The ISO week-numbering year (the year of the week's Thursday) and the week, 1 to 53.
    pub year: i64,
    pub number: u32,
    /// Days since 1970-01-01 of the week's Monday.
    monday: i64,
}

impl Week {
    /// The week a moment falls in.
    pub fn of_ms(ms: u64) -> Week {
        Week::of_day((ms / 86_400_000) as i64)
    }

    fn of_day(day: i64) -> Week {
        // 1970-01-01, day 0, was a Thursday: Monday is 0 in (day + 3) mod 7.
        let monday = day - (day + 3).rem_euclid(7);
        let thursday = monday + 3;
        let year: i64 = day_of((thursday * DAY_MS) as u64)[..4].parse().unwrap_or(1970);
        let jan1 = start_of_day(&format!("{year:04}-01-01")).unwrap_or(0) / DAY_MS;
        Week { year, number: ((thursday - jan1) / 7 + 1) as u32, monday }
    }

    /// `2026-W49` (the ISO form, `2026W49` and any case accepted), or any `YYYY-MM-DD` day of
    /// the week. None for anything else, and for a week 53 in a year that has 52.
    pub fn parse(text: &str) -> Option<Week> {
        let text = text.trim();
        if let Some(day) = start_of_day(text) {
            // start_of_day takes 31 days in any month: a day that is not in the calendar
            // reads back as another one and is refused.
            return (day >= 0 && day_of(day as u64) == text).then(|| Week::of_day(day / DAY_MS));
        }
        let upper = text.to_ascii_uppercase();
        let (year, number) = upper.split_once('W')?;
        let year = year.strip_suffix('-').unwrap_or(year);
        let digits =
            |s: &str, n: std::ops::RangeInclusive<usize>| n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 4..=4) || !digits(number, 1..=2) {
            return None;
        }
        let (year, number): (i64, u32) = (year.parse().ok()?, number.parse().ok()?);
        if !(1970..=9998).contains(&year) || number == 0 {
            return None;
        }
        // Week 1 is the week with the year's 4 January in it.
        let jan4 = start_of_day(&format!("{year:04}-01-04"))? / DAY_MS;
        let week = Week::of_day(jan4 + 7 * (i64::from(number) - 1));
        (week.year == year && week.number == number).then_some(week)
    }

    /// `2026-W49`.
    pub fn label(&self) -> String {
        format!("{:04}-W{:02}", self.year, self.number)
    }

    /// The first moment of the week (Monday 00:00 UTC) and the first of the next, in ms.
    pub fn span_ms(&self) -> (u64, u64) {
        ((self.monday * DAY_MS).max(0) as u64, ((self.monday + 7) * DAY_MS).max(0) as u64)
    }

    /// Its Monday and its Sunday, as `YYYY-MM-DD`.
    pub fn first_and_last_day(&self) -> (String, String) {
        let (start, end) = self.span_ms();
        (day_of(start), day_of(end - 1))
    }

    pub fn previous(&self) -> Week {
        Week::of_day(self.monday - 7)
    }

    pub fn next(&self) -> Week {
        Week::of_day(self.monday + 7)
    }
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

    #[test]
    fn iso_weeks_from_labels_and_days() {
        // 2026-12-18 is a Friday in week 51; 2026-12-14 is its Monday.
        let week = Week::parse("2026-12-18").unwrap();
        assert_eq!(week.label(), "2026-W51");
        assert_eq!(week.first_and_last_day(), ("2026-12-14".to_string(), "2026-12-20".to_string()));
        assert_eq!(Week::parse("2026-w51"), Some(week));
        assert_eq!(Week::parse("2026W51"), Some(week));
        assert_eq!(Week::of_ms(start_of_day("2026-12-20").unwrap() as u64 + DAY_MS as u64 - 1), week);
        assert_eq!(week.next().label(), "2026-W52");
        assert_eq!(week.next().next().label(), "2026-W53", "2026 has 53 weeks (it starts on a Thursday)");
        assert_eq!(week.next().next().next().label(), "2027-W01");
        assert_eq!(Week::parse("2027-W01").unwrap().first_and_last_day().0, "2027-01-04");
        // 2024-12-30 (a Monday) is in 2025's week 1; 2021-01-03 (a Sunday) in 2020's week 53.
        assert_eq!(Week::parse("2024-12-30").unwrap().label(), "2025-W01");
        assert_eq!(Week::parse("2021-01-03").unwrap().label(), "2020-W53");
        assert_eq!(Week::parse("2025-W53"), None, "2025 has 52 weeks");
        assert_eq!(week.previous().next(), week);
        let (start, end) = week.span_ms();
        assert_eq!((end - start) as i64, 7 * DAY_MS);
        for bad in ["2026-W00", "2026-W54", "2026-02-30", "W12", "2026-W1x", "last week", ""] {
            assert_eq!(Week::parse(bad), None, "{bad}");
        }
    }
}
