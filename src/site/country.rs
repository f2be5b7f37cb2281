//! Where data are: an ISO 3166-1 country, or a region when the firm names
//! no country (a recipient "in the EEA", "outside the EEA", or not known).
//!
//! The codes and names come from `data/countries.tsv` (Debian's iso-codes),
//! so that every real code is accepted and shown by name in each language,
//! and a made-up code is refused.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::vocab::lang::Lang;

/// Code → names in en, nl, fr, de (the columns of `data/countries.tsv`).
static COUNTRIES: LazyLock<BTreeMap<&'static str, [&'static str; 4]>> = LazyLock::new(|| {
    include_str!("../../data/countries.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let code = cols.next()?;
            let names = [cols.next()?, cols.next()?, cols.next()?, cols.next()?];
            Some((code, names))
        })
        .collect()
});

/// The European Economic Area: the EU, Iceland, Liechtenstein and Norway.
/// Data may flow freely within it; leaving it needs a safeguard (Art. 44).
pub const EEA: [&str; 30] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Regions a recipient may name instead of a country, as written in
/// portal.toml. `EU` and `EEA` lie inside the EEA.
pub const REGIONS: [&str; 4] = ["EU", "EEA", "outside_eea", "unknown"];

/// Whether `code` is an ISO 3166-1 alpha-2 code.
pub fn is_country(code: &str) -> bool {
    COUNTRIES.contains_key(code)
}

/// Whether `place` (a country code or a region) lies inside the EEA.
pub fn in_eea(place: &str) -> bool {
    EEA.contains(&place) || place == "EU" || place == "EEA"
}

/// Whether `place` lies outside the EEA for sure: a country outside it, or
/// the region `outside_eea`. An unknown place is neither in nor out.
pub fn outside_eea(place: &str) -> bool {
    place == "outside_eea" || (is_country(place) && !EEA.contains(&place))
}

/// The built-in name of country `code` in `lang`.
pub fn name(code: &str, lang: Lang) -> Option<&'static str> {
    let names = COUNTRIES.get(code)?;
    Some(match lang.code() {
        "nl" => names[1],
        "fr" => names[2],
        "de" => names[3],
        _ => names[0],
    })
}

/// What is wrong with `place` as a recipient's location, if anything.
pub fn place_problem(place: &str, regions: bool) -> Option<String> {
    if is_country(place) || (regions && REGIONS.contains(&place)) {
        return None;
    }
    let upper = place.to_ascii_uppercase();
    let hint = if is_country(&upper) {
        format!("; did you mean `{upper}`?")
    } else if upper == "UK" {
        "; the United Kingdom is `GB`".to_string()
    } else {
        String::new()
    };
    let regions = if regions {
        ", or a region: `EU`, `EEA`, `outside_eea`, `unknown`"
    } else {
        ""
    };
    Some(format!(
        "`{place}` is not an ISO 3166-1 alpha-2 country code (e.g. `BE`){regions}{hint}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_iso_code_and_no_other() {
        assert_eq!(COUNTRIES.len(), 249);
        for code in ["BE", "US", "TH", "AX", "BQ", "GB"] {
            assert!(is_country(code), "{code}");
        }
        for code in ["UK", "EU", "XX", "be", "BEL"] {
            assert!(!is_country(code), "{code}");
        }
        assert!(EEA.iter().all(|c| is_country(c)));
    }

    #[test]
    fn regions_are_places_but_not_countries() {
        assert!(place_problem("EEA", true).is_none());
        assert!(place_problem("EEA", false).is_some());
        assert!(in_eea("EU") && in_eea("NO") && !in_eea("unknown"));
        assert!(outside_eea("outside_eea") && outside_eea("US"));
        assert!(!outside_eea("unknown") && !outside_eea("BE"));
        assert!(place_problem("UK", true).unwrap().contains("`GB`"));
        assert!(place_problem("be", false).unwrap().contains("`BE`"));
    }

    #[test]
    fn names_in_each_language() {
        assert_eq!(name("BE", Lang::Nl), Some("België"));
        assert_eq!(name("DE", Lang::Fr), Some("Allemagne"));
        assert_eq!(name("US", Lang::De), Some("Vereinigte Staaten"));
        assert_eq!(name("TH", Lang::En), Some("Thailand"));
    }
}
