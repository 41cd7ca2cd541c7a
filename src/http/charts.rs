//! Charts drawn on the server as inline SVG, so reports print, work offline and need no
//! script: bars (participation), stacked bars (how many students at each level), lines (a
//! student's level on a skill over time). Each is an `<svg role="img">` with a `<title>` and
//! a `<desc>` in the page's language; the page puts a table with the same numbers beside it,
//! which is what a screen reader reads and what the numbers are checked against.
//!
//! Our own module rather than a crate: the SVG back ends we looked at (plotters' needs a font
//! library to measure text; charming runs ECharts in a JavaScript engine) bring far more
//! than these three shapes need, and none writes `role`, `<title>` and `<desc>` or lays a
//! chart out right to left.
//!
//! Right to left (Arabic): the whole chart is mirrored — labels stand at the right, bars grow
//! to the left and time runs from right to left, the way the page around it reads. Text is
//! never mirrored as a picture: positions are computed mirrored and the `direction` of the
//! SVG makes `text-anchor="start"` mean the right end.
//!
//! Every text (names are typed by people) is escaped here; the result is marked safe in the
//! template.

use std::fmt::Write;

use crate::domain::markup::escape;
use crate::i18n::{Locale, Msg, format_short_date};

/// The drawing's own width: about a phone's, so text of 13–15 units is that many pixels on a
/// phone (pages show it at most 26rem wide). Row labels stand above their bars, so names have
/// the whole width.
const WIDTH: f64 = 360.0;
/// The level names' column of the line chart.
const LABEL_COLUMN: f64 = 110.0;
/// A label line and its bar.
const ROW: f64 = 42.0;
const LABEL_CHARS: usize = 40;
/// Light to dark, one per level (a scale has at most 10).
const LEVEL_COLOURS: [&str; 10] =
    ["#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b", "#54278f", "#3f007d", "#252525"];

/// A row's name: a text (a message or a person's name) or a day.
#[derive(Clone, Debug)]
pub enum Label {
    Text(Msg),
    /// The day `ms` falls in, said short ("November 30").
    Day(u64),
}

impl Label {
    fn say(&self, locale: Locale) -> String {
        match self {
            Label::Text(m) => m.in_locale(locale),
            Label::Day(ms) => format_short_date(locale, *ms),
        }
    }
}

impl From<Msg> for Label {
    fn from(m: Msg) -> Self {
        Label::Text(m)
    }
}

/// What a chart shows.
#[derive(Clone, Debug)]
pub enum Shape {
    /// One bar per row: a label and a count.
    Bars(Vec<(Label, u64)>),
    /// One bar per row, cut into parts, one per key (`keys`: the legend, lowest first).
    Stacked { keys: Vec<Msg>, rows: Vec<(Label, Vec<u64>)> },
    /// Levels over time: `levels` names the steps (lowest first); each series is a name and
    /// its points (ms, level from 1), oldest first.
    Lines { levels: Vec<Msg>, series: Vec<(Msg, Vec<(u64, u8)>)> },
}

/// A chart ready to draw in a language.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: Msg,
    pub desc: Msg,
    pub shape: Shape,
}

/// A label cut to fit its column (the table beside the chart has it whole).
fn short(text: &str) -> String {
    cut(text, LABEL_CHARS)
}

fn cut(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(most - 1).collect();
    cut.push('…');
    cut
}

/// Positions on the chart's own axis, mirrored when the language is written right to left.
struct Canvas {
    out: String,
    rtl: bool,
}

impl Canvas {
    fn x(&self, x: f64) -> f64 {
        if self.rtl { WIDTH - x } else { x }
    }
    /// A rectangle from `x0` to `x1` along the reading direction.
    fn rect(&mut self, x0: f64, x1: f64, y: f64, h: f64, fill: &str) {
        let (a, b) = (self.x(x0), self.x(x1));
        let _ = write!(
            self.out,
            r##"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="{fill}" stroke="#1a1a1a" stroke-width="0.5"/>"##,
            a.min(b),
            (b - a).abs()
        );
    }
    /// Text starting at `x` (its start is on the reading side). Each text is a bidi isolate
    /// (FSI … PDI), so a Latin name in an Arabic chart keeps its own order ("Ben <b>", not
    /// "<Ben <b").
    fn text(&mut self, x: f64, y: f64, anchor: &str, size: u32, text: &str) {
        let _ = write!(
            self.out,
            r##"<text x="{:.1}" y="{y:.1}" text-anchor="{anchor}" font-size="{size}" fill="#1a1a1a">{}</text>"##,
            self.x(x),
            escape(&format!("\u{2068}{text}\u{2069}"))
        );
    }
}

impl Chart {
    /// The chart as an `<svg>` element, said in `locale`.
    pub fn render(&self, locale: Locale) -> String {
        let rtl = locale.dir() == "rtl";
        let mut c = Canvas { out: String::new(), rtl };
        let height = match &self.shape {
            Shape::Bars(rows) if !rows.is_empty() => bars(&mut c, locale, rows),
            Shape::Stacked { keys, rows } if !rows.is_empty() => stacked(&mut c, locale, keys, rows),
            Shape::Lines { levels, series } if series.iter().any(|s| !s.1.is_empty()) => {
                lines(&mut c, locale, levels, series)
            }
            _ => {
                c.text(8.0, 28.0, "start", 14, &locale.tr("chart-empty"));
                40.0
            }
        };
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height:.0}" direction="{dir}" font-family="inherit"><title>{title}</title><desc>{desc}</desc>{body}</svg>"#,
            dir = locale.dir(),
            title = escape(&self.title.in_locale(locale)),
            desc = escape(&self.desc.in_locale(locale)),
            body = c.out
        )
    }
}

fn number(locale: Locale, n: u64) -> String {
    crate::i18n::format_number(locale, n as f64, 0)
}

/// Horizontal bars, a row each: the label, under it the bar with the count after it.
fn bars(c: &mut Canvas, locale: Locale, rows: &[(Label, u64)]) -> f64 {
    let most = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let room = WIDTH - 8.0 - 44.0;
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * ROW;
        c.text(8.0, y + 14.0, "start", 14, &short(&label.say(locale)));
        let length = room * *value as f64 / most;
        if *value > 0 {
            c.rect(8.0, 8.0 + length, y + 20.0, 16.0, LEVEL_COLOURS[3]);
        }
        c.text(8.0 + length + 6.0, y + 33.0, "start", 13, &number(locale, *value));
    }
    8.0 + rows.len() as f64 * ROW
}

/// Bars cut into parts (one colour per key), with the legend above and each part's count
/// written in it when there is room.
fn stacked(c: &mut Canvas, locale: Locale, keys: &[Msg], rows: &[(Label, Vec<u64>)]) -> f64 {
    // The legend, on as many lines as it takes.
    let (mut x, mut line) = (8.0, 8.0);
    for (k, key) in keys.iter().enumerate() {
        let name = short(&key.in_locale(locale));
        let width = 34.0 + 7.5 * name.chars().count() as f64;
        if x > 8.0 && x + width > WIDTH {
            (x, line) = (8.0, line + 22.0);
        }
        c.rect(x, x + 14.0, line, 14.0, LEVEL_COLOURS[k.min(LEVEL_COLOURS.len() - 1)]);
        c.text(x + 20.0, line + 12.0, "start", 13, &name);
        x += width;
    }
    let top = line + 26.0;
    let most = rows.iter().map(|r| r.1.iter().sum::<u64>()).max().unwrap_or(0).max(1) as f64;
    let room = WIDTH - 16.0;
    for (i, (label, parts)) in rows.iter().enumerate() {
        let y = top + i as f64 * ROW;
        c.text(8.0, y + 14.0, "start", 14, &short(&label.say(locale)));
        let mut at = 8.0;
        for (k, n) in parts.iter().enumerate().filter(|(_, n)| **n > 0) {
            let length = room * *n as f64 / most;
            c.rect(at, at + length, y + 19.0, 18.0, LEVEL_COLOURS[k.min(LEVEL_COLOURS.len() - 1)]);
            if length >= 18.0 {
                let ink = if k >= 3 { "#ffffff" } else { "#1a1a1a" };
                let _ = write!(
                    c.out,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="{ink}">{}</text>"#,
                    c.x(at + length / 2.0),
                    y + 32.0,
                    escape(&number(locale, *n))
                );
            }
            at += length;
        }
    }
    top + 8.0 + rows.len() as f64 * ROW
}

/// Levels over time: the level names up the side, the first and last day under the axis,
/// one line per series (the first solid, the others dashed) with a dot at each point.
fn lines(c: &mut Canvas, locale: Locale, levels: &[Msg], series: &[(Msg, Vec<(u64, u8)>)]) -> f64 {
    let steps = levels.len().max(1) as f64;
    let (top, step) = (30.0, 34.0);
    let bottom = top + step * (steps - 1.0);
    let (left, right) = (LABEL_COLUMN, WIDTH - 20.0);
    let times = series.iter().flat_map(|s| s.1.iter().map(|p| p.0));
    let (first, last) = (times.clone().min().unwrap_or(0), times.max().unwrap_or(0));
    let y_of = |level: u8| bottom - (f64::from(level.max(1)) - 1.0).min(steps - 1.0) * step;
    let x_of = |ms: u64| {
        if last == first {
            (left + right) / 2.0
        } else {
            left + (right - left) * (ms - first) as f64 / (last - first) as f64
        }
    };
    for (i, name) in levels.iter().enumerate() {
        let y = y_of(i as u8 + 1);
        // The level names' column holds about 14 characters.
        c.text(8.0, y + 5.0, "start", 13, &cut(&name.in_locale(locale), 14));
        let _ = write!(
            c.out,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#bbbbbb" stroke-width="1"/>"##,
            c.x(left),
            c.x(right)
        );
    }
    c.text(left, bottom + 24.0, "start", 12, &format_short_date(locale, first));
    if last != first {
        c.text(right, bottom + 24.0, "end", 12, &format_short_date(locale, last));
    }
    // The legend, under the dates.
    let mut x = 8.0;
    for (k, (name, _)) in series.iter().enumerate() {
        let dash = if k == 0 { "" } else { r#" stroke-dasharray="6 4""# };
        let _ = write!(
            c.out,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#08519c" stroke-width="3"{dash}/>"##,
            c.x(x),
            c.x(x + 24.0),
            y = bottom + 46.0
        );
        let name = short(&name.in_locale(locale));
        c.text(x + 30.0, bottom + 51.0, "start", 13, &name);
        x += 60.0 + 7.5 * name.chars().count() as f64;
    }
    for (k, (_, points)) in series.iter().enumerate() {
        let dash = if k == 0 { "" } else { r#" stroke-dasharray="6 4""# };
        let path: Vec<String> = points.iter().map(|p| format!("{:.1},{:.1}", c.x(x_of(p.0)), y_of(p.1))).collect();
        if points.len() > 1 {
            let _ = write!(
                c.out,
                r##"<polyline points="{}" fill="none" stroke="#08519c" stroke-width="3"{dash}/>"##,
                path.join(" ")
            );
        }
        let fill = if k == 0 { "#08519c" } else { "#ffffff" };
        for p in &path {
            let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
            let _ =
                write!(c.out, r##"<circle cx="{x}" cy="{y}" r="5" fill="{fill}" stroke="#08519c" stroke-width="2"/>"##);
        }
    }
    bottom + 62.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> Locale {
        Locale::from_code("en").unwrap()
    }

    fn bars_of(rows: &[(&str, u64)]) -> Chart {
        Chart {
            title: Msg::Plain("Pieces".into()),
            desc: Msg::Plain("Pieces per student".into()),
            shape: Shape::Bars(rows.iter().map(|(l, n)| (Msg::Plain(l.to_string()).into(), *n)).collect()),
        }
    }

    #[test]
    fn names_are_escaped_in_labels_title_and_description() {
        let mut chart = bars_of(&[("<i>Bo & \"Al\"</i>", 3)]);
        chart.title = Msg::Plain("a<b".into());
        chart.desc = Msg::Plain("'q'".into());
        let svg = chart.render(en());
        assert!(!svg.contains("<i>"), "{svg}");
        assert!(svg.contains(">\u{2068}&lt;i&gt;Bo &amp; &quot;Al&quot;&lt;/i&gt;\u{2069}</text>"), "{svg}");
        assert!(svg.contains("<title>a&lt;b</title>") && svg.contains("<desc>&#39;q&#39;</desc>"), "{svg}");
        assert!(svg.starts_with("<svg ") && svg.contains(r#"role="img""#));
    }

    #[test]
    fn an_empty_chart_says_so_and_keeps_its_title() {
        for chart in [
            bars_of(&[]),
            Chart {
                title: Msg::Plain("t".into()),
                desc: Msg::Plain("d".into()),
                shape: Shape::Lines { levels: vec![], series: vec![] },
            },
            Chart {
                title: Msg::Plain("t".into()),
                desc: Msg::Plain("d".into()),
                shape: Shape::Stacked { keys: vec![], rows: vec![] },
            },
        ] {
            let svg = chart.render(en());
            assert!(svg.contains("<title>") && svg.contains("<desc>"), "{svg}");
            assert!(svg.contains(&en().tr("chart-empty")), "{svg}");
            assert!(!svg.contains("<rect") && !svg.contains("NaN"), "{svg}");
        }
    }

    #[test]
    fn one_point_stands_in_the_middle_without_a_line() {
        let chart = Chart {
            title: Msg::Plain("FR.1".into()),
            desc: Msg::Plain("d".into()),
            shape: Shape::Lines {
                levels: ["1", "2", "3", "4"].iter().map(|l| Msg::Plain(l.to_string())).collect(),
                series: vec![(Msg::Plain("Teacher".into()), vec![(1_700_000_000_000, 3)])],
            },
        };
        let svg = chart.render(en());
        assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
        assert!(!svg.contains("<polyline") && !svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert!(svg.contains(r#"cx="225.0""#), "halfway between the axis's ends: {svg}");
    }

    #[test]
    fn bars_are_as_long_as_their_counts_and_mirror_right_to_left() {
        let chart = bars_of(&[("Ana", 4), ("Ben", 2), ("Cy", 0)]);
        let svg = chart.render(en());
        assert_eq!(svg.matches("<rect").count(), 2, "no bar for nothing: {svg}");
        let widths: Vec<f64> =
            svg.split(r#" width=""#).skip(1).map(|s| s.split('"').next().unwrap().parse().unwrap()).collect();
        assert!((widths[0] - 2.0 * widths[1]).abs() < 0.2, "{widths:?}");
        let arabic = chart.render(Locale::from_code("ar").unwrap());
        assert!(arabic.contains(r#"direction="rtl""#));
        assert!(arabic.contains(&format!(r#"<text x="{:.1}""#, WIDTH - 8.0)), "labels at the right: {arabic}");
        assert!(!arabic.contains("scale(-1"), "text is never mirrored as a picture");
    }

    #[test]
    fn stacked_bars_have_a_part_per_level_with_students() {
        let chart = Chart {
            title: Msg::Plain("Levels".into()),
            desc: Msg::Plain("d".into()),
            shape: Shape::Stacked {
                keys: ["Beginning", "Developing"].iter().map(|l| Msg::Plain(l.to_string())).collect(),
                rows: vec![
                    (Msg::Plain("FR.1".into()).into(), vec![2, 1]),
                    (Msg::Plain("FR.2".into()).into(), vec![0, 3]),
                ],
            },
        };
        let svg = chart.render(en());
        // Two legend squares and three parts (the empty one is not drawn).
        assert_eq!(svg.matches("<rect").count(), 5, "{svg}");
    }
}
