//! Cookie lifetimes: the expiry a browser reports, written in portaal's
//! duration notation, and a declared duration measured in seconds from the
//! moment of the scan (so that `6mo` is as long as the calendar says).

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

use crate::site::duration::{Duration, Unit};

/// `seconds` left, in portaal's notation: rounded to the minute (the scan
/// reads the expiry a moment after the cookie was set), in years of 365
/// days, days, hours and minutes; under a minute in seconds.
pub fn notation(seconds: u64) -> String {
    if seconds < 60 {
        return format!("{}s", seconds.max(1));
    }
    let mut minutes = (seconds + 30) / 60;
    let mut out = String::new();
    for (size, suffix) in [(365 * 24 * 60, "y"), (24 * 60, "d"), (60, "h"), (1, "m")] {
        if minutes >= size {
            out.push_str(&format!("{}{suffix}", minutes / size));
            minutes %= size;
        }
    }
    out
}

/// How many seconds `declared` lasts from `from`; `None` for a session.
pub fn seconds(declared: &Duration, from: Timestamp) -> Option<i64> {
    let Duration::Span(parts) = declared else {
        return None;
    };
    let mut span = Span::new();
    for &(n, unit) in parts {
        let n = i64::from(n);
        span = match unit {
            Unit::Year => span.try_years(n),
            Unit::Month => span.try_months(n),
            Unit::Week => span.try_weeks(n),
            Unit::Day => span.try_days(n),
            Unit::Hour => span.try_hours(n),
            Unit::Minute => span.try_minutes(n),
            Unit::Second => span.try_seconds(n),
        }
        .ok()?;
    }
    let end = from
        .to_zoned_datetime(TimeZone::UTC)
        .checked_add(span)
        .ok()?;
    Some(end.timestamp().as_second() - from.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notation_rounds_to_the_minute() {
        assert_eq!(notation(365 * 86400 - 2), "1y");
        assert_eq!(notation(400 * 86400), "1y35d");
        assert_eq!(notation(30 * 60 - 1), "30m");
        assert_eq!(notation(86400 + 3600), "1d1h");
        assert_eq!(notation(59), "59s");
        assert_eq!(notation(0), "1s");
    }

    #[test]
    fn months_follow_the_calendar() {
        let from: Timestamp = "2026-01-31T00:00:00Z".parse().unwrap();
        let d: Duration = "1mo".parse().unwrap();
        // jiff clamps 31 January + 1 month to 28 February.
        assert_eq!(seconds(&d, from), Some(28 * 86400));
        let y: Duration = "1y1d".parse().unwrap();
        assert_eq!(seconds(&y, from), Some(366 * 86400));
        assert_eq!(seconds(&Duration::Session, from), None);
    }
}
