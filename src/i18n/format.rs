//! Numbers, file sizes and dates as each language writes them. The symbols and names are
//! messages of the language's folder (`number-decimal`, `number-group`, `number-digits`,
//! `month-1`…, `weekday-0`…, `date-long`), so a new language brings its own.

use super::{Arg, Locale};
use crate::domain::calendar::{civil_from_days, days_from_civil};

/// `n` with `decimals` digits after the point, grouped in thousands, in the language's
/// digits and symbols: 12345.6 → "12,345.6" (en), "12.345,6" (es), "١٢٬٣٤٥٫٦" (ar).
pub fn format_number(locale: Locale, n: f64, decimals: usize) -> String {
    let plain = format!("{n:.decimals$}");
    let (int, frac) = plain.split_once('.').map_or((plain.as_str(), None), |(i, f)| (i, Some(f)));
    let (sign, int) = int.strip_prefix('-').map_or(("", int), |rest| ("-", rest));
    let group = locale.tr("number-group");
    let digits: Vec<char> = locale.tr("number-digits").chars().collect();
    let digit = |c: char| c.to_digit(10).and_then(|d| digits.get(d as usize).copied()).unwrap_or(c);
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        // Groups of three from the right; four-digit numbers are grouped too (CLDR's
        // minimum grouping differs by language, a detail a school will not miss).
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push_str(&group);
        }
        out.push(digit(c));
    }
    if let Some(frac) = frac {
        out.push_str(&locale.tr("number-decimal"));
        out.extend(frac.chars().map(digit));
    }
    out
}

/// A size in bytes as people read it, in their language: "1.5 MB", "1,5 MB", "١٫٥ م.ب".
/// Powers of 1,024, as the browsers' and operating systems' download lists show them.
pub fn format_bytes(locale: Locale, n: u64) -> String {
    const UNITS: [&str; 5] = ["size-bytes", "size-kb", "size-mb", "size-gb", "size-tb"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let decimals = if unit == 0 { 0 } else { 1 };
    let shown = format_number(locale, value, decimals);
    locale.tr_with(UNITS[unit], &[("size", Arg::Text(shown)), ("count", Arg::Number(n as f64))])
}

/// A day as the language says it: "Friday, December 18, 2026", "viernes, 18 de diciembre de
/// 2026". `ms` is milliseconds since 1970 (UTC: the box keeps UTC).
pub fn format_date(locale: Locale, ms: u64) -> String {
    let days = (ms / 86_400_000) as i64;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday (weekday 4, Sunday = 0).
    let weekday = (days + 4).rem_euclid(7);
    locale.tr_with(
        "date-long",
        &[
            ("weekday", Arg::Text(locale.tr(&format!("weekday-{weekday}")))),
            ("day", Arg::Text(format_number(locale, day as f64, 0))),
            ("month", Arg::Text(locale.tr(&format!("month-{month}")))),
            ("year", Arg::Text(format_plain_digits(locale, year))),
        ],
    )
}

/// A day without its weekday and year ("November 30"), for a chart's labels.
pub fn format_short_date(locale: Locale, ms: u64) -> String {
    let (_, month, day) = civil_from_days((ms / 86_400_000) as i64);
    locale.tr_with(
        "date-short",
        &[
            ("day", Arg::Text(format_number(locale, day as f64, 0))),
            ("month", Arg::Text(locale.tr(&format!("month-{month}")))),
        ],
    )
}

/// A `YYYY-MM-DD` day (what a date field sends) as the ms of its start (UTC).
pub fn day_start_ms(iso: &str) -> Option<u64> {
    let mut parts = iso.trim().splitn(3, '-').map(|p| p.parse::<i64>().ok());
    match (parts.next().flatten(), parts.next().flatten(), parts.next().flatten()) {
        (Some(y), Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d) && (1970..=9999).contains(&y) => {
            Some(days_from_civil(y, m, d) as u64 * 86_400_000)
        }
        _ => None,
    }
}

/// The `YYYY-MM-DD` day (UTC) `ms` falls in, for a date field's value.
pub fn iso_day(ms: u64) -> String {
    let (y, m, d) = civil_from_days((ms / 86_400_000) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A calendar day written `YYYY-MM-DD` (a due date), spoken like [`format_date`]; text that
/// is not such a day is returned as it is.
pub fn format_day(locale: Locale, iso: &str) -> String {
    let mut parts = iso.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    match (parts.next().flatten(), parts.next().flatten(), parts.next().flatten()) {
        (Some(y), Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d) && y >= 1970 => {
            format_date(locale, (days_from_civil(y, m, d) as u64) * 86_400_000)
        }
        _ => iso.to_string(),
    }
}

/// A year is written without grouping ("2026", not "2,026").
fn format_plain_digits(locale: Locale, n: i64) -> String {
    let digits: Vec<char> = locale.tr("number-digits").chars().collect();
    n.to_string().chars().map(|c| c.to_digit(10).and_then(|d| digits.get(d as usize).copied()).unwrap_or(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(code: &str) -> Locale {
        Locale::from_code(code).unwrap()
    }

    #[test]
    fn numbers_in_each_language() {
        assert_eq!(format_number(l("en"), 12345.6, 1), "12,345.6");
        assert_eq!(format_number(l("es"), 12345.6, 1), "12.345,6");
        assert_eq!(format_number(l("ar"), 12345.6, 1), "١٢٬٣٤٥٫٦");
        assert_eq!(format_number(l("en"), -999.0, 0), "-999");
    }

    #[test]
    fn sizes_in_each_language() {
        assert_eq!(format_bytes(l("en"), 1), "1 byte");
        assert_eq!(format_bytes(l("en"), 512), "512 bytes");
        assert_eq!(format_bytes(l("en"), 1536 * 1024), "1.5 MB");
        assert_eq!(format_bytes(l("es"), 1536 * 1024), "1,5 MB");
        assert_eq!(format_bytes(l("ar"), 1536 * 1024), "١٫٥ م.ب");
    }

    #[test]
    fn dates_spoken_in_the_language() {
        // 2026-12-18, a Friday.
        let ms = 1_797_552_000_000 + 3_600_000;
        assert_eq!(format_date(l("en"), ms), "Friday, December 18, 2026");
        assert_eq!(format_date(l("es"), ms), "viernes, 18 de diciembre de 2026");
        assert_eq!(format_date(l("ar"), ms), "الجمعة، ١٨ ديسمبر ٢٠٢٦");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(format_day(l("es"), "2026-12-18"), "viernes, 18 de diciembre de 2026");
        assert_eq!(format_day(l("en"), "soon"), "soon");
    }
}
