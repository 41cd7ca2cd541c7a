//! How numbers read to people: file sizes on pages, in refusals and in logs.

/// A size in bytes as people read it: "512 bytes", "1.5 MB" (powers of 1,024, as the
/// browsers' and operating systems' download lists show them).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} bytes") } else { format!("{value:.1} {}", UNITS[unit]) }
}
