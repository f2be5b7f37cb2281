//! The languages a portal can be published in.
//!
//! The set is closed on purpose: every language needs the theme's interface
//! strings, the standard legal texts and the form labels, and we only ship
//! those for the languages our agencies work in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    Nl,
    Fr,
    De,
    En,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::Nl, Lang::Fr, Lang::De, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// The language's own name, as shown in a language switcher.
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::Nl => "Nederlands",
            Lang::Fr => "Français",
            Lang::De => "Deutsch",
            Lang::En => "English",
        }
    }

    pub fn valid_codes() -> String {
        Lang::ALL.map(Lang::code).join(", ")
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLang(pub String);

impl fmt::Display for UnknownLang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown language `{}`, expected one of: {}",
            self.0,
            Lang::valid_codes()
        )
    }
}

impl std::error::Error for UnknownLang {}

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| UnknownLang(s.to_string()))
    }
}

impl Serialize for Lang {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Lang {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Lang {
    /// A date in words, as this language writes it: "1 oktober 2026",
    /// "1er octobre 2026", "1. Oktober 2026", "1 October 2026".
    pub fn format_date(self, year: u16, month: u8, day: u8) -> String {
        const NL: [&str; 12] = [
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ];
        const FR: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        const DE: [&str; 12] = [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ];
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let m = usize::from(month.clamp(1, 12) - 1);
        match self {
            Lang::Nl => format!("{day} {} {year}", NL[m]),
            Lang::Fr if day == 1 => format!("1er {} {year}", FR[m]),
            Lang::Fr => format!("{day} {} {year}", FR[m]),
            Lang::De => format!("{day}. {} {year}", DE[m]),
            Lang::En => format!("{day} {} {year}", EN[m]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_words() {
        assert_eq!(Lang::Nl.format_date(2026, 10, 1), "1 oktober 2026");
        assert_eq!(Lang::Fr.format_date(2026, 10, 1), "1er octobre 2026");
        assert_eq!(Lang::Fr.format_date(2026, 3, 15), "15 mars 2026");
        assert_eq!(Lang::De.format_date(2026, 3, 15), "15. März 2026");
        assert_eq!(Lang::En.format_date(2026, 12, 31), "31 December 2026");
    }
}
