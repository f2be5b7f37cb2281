//! Structured durations: cookie lifetimes and retention periods.
//!
//! Written compactly in `portal.toml` (`"session"`, `"30m"`, `"1y27d"`,
//! `"6mo"`) so that agencies copy them straight from a browser's cookie panel,
//! and rendered in full words in each language ("1 jaar 27 dagen").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use crate::vocab::lang::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

impl Unit {
    /// Suffixes as written in `portal.toml`. `mo` must be tried before `m`.
    const SUFFIXES: [(&'static str, Unit); 7] = [
        ("y", Unit::Year),
        ("mo", Unit::Month),
        ("w", Unit::Week),
        ("d", Unit::Day),
        ("h", Unit::Hour),
        ("m", Unit::Minute),
        ("s", Unit::Second),
    ];

    fn suffix(self) -> &'static str {
        Self::SUFFIXES.iter().find(|(_, u)| *u == self).unwrap().0
    }

    /// Singular and plural word for this unit in `lang`: the `[duration]`
    /// strings (`year`, `years`, …) of the site's theme (`strings`, its
    /// overrides merged in), else of the built-in theme.
    fn words(self, lang: Lang, strings: Option<&toml::Table>) -> (String, String) {
        let (one, many) = match self {
            Unit::Year => ("year", "years"),
            Unit::Month => ("month", "months"),
            Unit::Week => ("week", "weeks"),
            Unit::Day => ("day", "days"),
            Unit::Hour => ("hour", "hours"),
            Unit::Minute => ("minute", "minutes"),
            Unit::Second => ("second", "seconds"),
        };
        let in_table = |table: &toml::Table, key: &str| {
            table
                .get("duration")
                .and_then(|t| t.as_table())
                .and_then(|t| t.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let word = |key: &str| {
            strings
                .and_then(|t| in_table(t, key))
                .or_else(|| in_table(crate::theme::builtin_strings(lang), key))
                .unwrap_or_else(|| panic!("the built-in theme has no [duration] {key} in {lang}"))
        };
        (word(one), word(many))
    }
}

/// A length of time, or "until the browser session ends".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Duration {
    Session,
    /// Non-empty, units in descending order, each at most once, no zero amounts.
    Span(Vec<(u32, Unit)>),
}

impl Duration {
    /// The duration in words, e.g. "1 jaar 27 dagen". `session_word` is the
    /// theme's word for a browser session in that language; `strings` the
    /// site's theme strings of that language, if it has its own.
    pub fn render(&self, lang: Lang, session_word: &str, strings: Option<&toml::Table>) -> String {
        match self {
            Duration::Session => session_word.to_string(),
            Duration::Span(parts) => parts
                .iter()
                .map(|(n, unit)| {
                    let (one, many) = unit.words(lang, strings);
                    format!("{n} {}", if *n == 1 { one } else { many })
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

impl Duration {
    /// True when the duration never exceeds one calendar month, whatever
    /// the month: `1mo`, or at most 28 days in smaller units (a February).
    pub fn within_a_month(&self) -> bool {
        match self {
            Duration::Session => false,
            Duration::Span(parts) => {
                if parts == &[(1, Unit::Month)] {
                    return true;
                }
                let mut seconds: u64 = 0;
                for (n, unit) in parts {
                    let per = match unit {
                        Unit::Year | Unit::Month => return false,
                        Unit::Week => 7 * 86_400,
                        Unit::Day => 86_400,
                        Unit::Hour => 3_600,
                        Unit::Minute => 60,
                        Unit::Second => 1,
                    };
                    seconds += u64::from(*n) * per;
                }
                seconds <= 28 * 86_400
            }
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Duration::Session => f.write_str("session"),
            Duration::Span(parts) => {
                for (n, unit) in parts {
                    write!(f, "{n}{}", unit.suffix())?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration `{input}`: {reason}; write `session` or amounts with units from largest to smallest, e.g. `30m`, `6mo`, `1y27d` (units: y, mo, w, d, h, m, s)"
)]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| DurationError {
            input: input.to_string(),
            reason,
        };
        if input == "session" {
            return Ok(Duration::Session);
        }
        let mut rest = input;
        let mut parts: Vec<(u32, Unit)> = Vec::new();
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(err("expected a number"));
            }
            let amount: u32 = rest[..digits]
                .parse()
                .map_err(|_| err("number too large"))?;
            rest = &rest[digits..];
            let (suffix, unit) = Unit::SUFFIXES
                .iter()
                .find(|(s, _)| rest.starts_with(s))
                .ok_or_else(|| err("expected a unit after the number"))?;
            rest = &rest[suffix.len()..];
            if amount == 0 {
                return Err(err("amounts must be at least 1"));
            }
            if parts.last().is_some_and(|(_, last)| last >= unit) {
                return Err(err("units must go from largest to smallest, each once"));
            }
            parts.push((amount, *unit));
        }
        if parts.is_empty() {
            return Err(err("it is empty"));
        }
        Ok(Duration::Span(parts))
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_every_language() {
        let d: Duration = "1y27d".parse().unwrap();
        assert_eq!(d.render(Lang::Nl, "", None), "1 jaar 27 dagen");
        assert_eq!(d.render(Lang::Fr, "", None), "1 an 27 jours");
        assert_eq!(d.render(Lang::De, "", None), "1 Jahr 27 Tage");
        assert_eq!(d.render(Lang::En, "", None), "1 year 27 days");
        let m: Duration = "30m".parse().unwrap();
        assert_eq!(m.render(Lang::En, "", None), "30 minutes");
        let mo: Duration = "6mo".parse().unwrap();
        assert_eq!(mo.render(Lang::Nl, "", None), "6 maanden");
        assert_eq!(Duration::Session.render(Lang::Nl, "sessie", None), "sessie");
    }

    /// A site may reword a unit in its theme; the rest stay built in.
    #[test]
    fn a_sites_theme_overrides_the_duration_words() {
        let strings: toml::Table = "[duration]\ndays = \"kalenderdagen\"\n".parse().unwrap();
        let d: Duration = "1y27d".parse().unwrap();
        assert_eq!(
            d.render(Lang::Nl, "", Some(&strings)),
            "1 jaar 27 kalenderdagen"
        );
    }

    #[test]
    fn within_a_month_is_what_no_month_exceeds() {
        for s in ["1mo", "4w", "28d", "14d", "2w", "3d12h"] {
            assert!(s.parse::<Duration>().unwrap().within_a_month(), "{s}");
        }
        for s in ["session", "1mo1d", "2mo", "29d", "30d", "5w", "1y", "4w1h"] {
            assert!(!s.parse::<Duration>().unwrap().within_a_month(), "{s}");
        }
    }

    #[test]
    fn round_trips_through_display() {
        for s in ["session", "1y27d", "6mo", "2w3d", "1h30m", "45s"] {
            assert_eq!(s.parse::<Duration>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects_malformed_input() {
        for s in ["", "y", "3", "1d1y", "1d1d", "0d", "1x", "-1d", "1 d"] {
            assert!(s.parse::<Duration>().is_err(), "{s:?} should be rejected");
        }
    }
}
