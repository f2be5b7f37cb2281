//! Built-in facts about supervisory authorities: `[authority] preset = "BE"`.
//!
//! Every statement must name the authority a person can complain to (GDPR
//! Art. 13(2)(d)), and agencies should not each copy its address by hand.
//! The facts live in one data file, `data/authorities.toml`, with the date
//! each fact was checked, its public source and how sure it is, so that a
//! reviewer can see how fresh they are; the file is compiled into the binary.
//!
//! Germany has one preset per Land (`DE-BY`, …): the federal BfDI (`DE`) is
//! competent only for federal bodies and telecommunications and postal
//! firms (§ 40 BDSG), which `portaal check` points out.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use super::config::Authority;
use crate::diagnostics::{Code, Diagnostics, SourceFile};
use crate::vocab::lang::Lang;
use crate::vocab::text::Text;

const DATA: &str = include_str!("../../data/authorities.toml");

/// One authority's facts, as kept in `data/authorities.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// When the entry was last compared with `source`.
    pub checked: Datetime,
    /// The authority's own site, where the facts are published.
    pub source: String,
    pub name: Text,
    /// Left out where it is not known with certainty; `website` then
    /// tells people how to reach the authority.
    pub address: Option<Text>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Text,
    pub complaint_url: Option<Text>,
    /// Where and when each fact above was seen, by field name.
    pub facts: BTreeMap<String, Fact>,
}

/// The provenance of one fact of a preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub status: FactStatus,
    pub checked: Datetime,
    pub source: String,
}

/// How sure a fact is; see the head of `data/authorities.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactStatus {
    /// Seen on the authority's own pages.
    Confirmed,
    /// Only in consistent third-party copies.
    Secondary,
    /// Written from knowledge of the source, not compared with it.
    Unverified,
}

impl Preset {
    /// The country the authority belongs to: `DE` for `DE-BY`.
    pub fn country(code: &str) -> &str {
        code.split('-').next().unwrap_or(code)
    }
}

/// `text` with every language filled: a language the preset lacks gets the
/// English value, else the first one there is. A preset gives a per-language
/// page only where the authority has one.
fn every_language(text: &Text) -> Text {
    match text {
        Text::Same(_) => text.clone(),
        Text::PerLang(map) => {
            let fallback = map
                .get(&Lang::En)
                .or_else(|| map.values().next())
                .cloned()
                .unwrap_or_default();
            Text::PerLang(
                Lang::ALL
                    .into_iter()
                    .map(|l| (l, map.get(&l).cloned().unwrap_or_else(|| fallback.clone())))
                    .collect(),
            )
        }
    }
}

/// Every preset, keyed by its code (`BE`, `NL`, …).
pub fn presets() -> &'static BTreeMap<String, Preset> {
    static PRESETS: OnceLock<BTreeMap<String, Preset>> = OnceLock::new();
    PRESETS.get_or_init(|| {
        // The file is ours and tested (see the tests below), so a failure
        // here is a bug in the release, not the user's problem.
        toml::from_str(DATA).expect("data/authorities.toml is valid")
    })
}

/// The valid preset codes, for error messages.
pub fn valid_codes() -> String {
    presets().keys().cloned().collect::<Vec<_>>().join(", ")
}

/// Fills the fields of `authority` that the site left out from its preset.
/// The filled values carry the span of `preset`, so any later message about
/// them points at the line that asked for the preset.
pub fn apply_preset(file: SourceFile<'_>, authority: &mut Authority, diags: &mut Diagnostics) {
    let Some(code) = &authority.preset else {
        return;
    };
    let span = code.span();
    let Some(preset) = presets().get(&code.get_ref().to_ascii_uppercase()) else {
        diags.push(
            file.error_at(
                Some(span.start),
                format!(
                    "unknown authority preset `{}`, expected one of: {}",
                    code.get_ref(),
                    valid_codes()
                ),
            )
            .with_code(Code::P019)
            .with_fix("use one of the listed codes, or remove `preset` and give the authority's name, address and website yourself"),
        );
        return;
    };
    let text = |t: &Text| Spanned::new(span.clone(), every_language(t));
    if authority.name.is_none() {
        authority.name = Some(text(&preset.name));
    }
    if authority.address.is_none() {
        authority.address = preset.address.as_ref().map(text);
    }
    if authority.phone.is_none() {
        authority.phone = preset.phone.clone();
    }
    if authority.email.is_none() {
        authority.email = preset.email.clone().map(|v| Spanned::new(span.clone(), v));
    }
    if authority.website.is_none() {
        authority.website = Some(text(&preset.website));
    }
    if authority.complaint_url.is_none() {
        authority.complaint_url = preset.complaint_url.as_ref().map(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::identifiers::{is_valid_email, is_valid_web_url};
    use crate::vocab::lang::Lang;

    /// The sixteen Länder by ISO 3166-2 code.
    const LANDER: [&str; 16] = [
        "BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH",
        "TH",
    ];

    #[test]
    fn every_preset_is_complete_in_every_language() {
        let presets = presets();
        let mut codes: Vec<String> = ["BE", "NL", "LU", "FR", "DE"].map(String::from).to_vec();
        codes.extend(LANDER.map(|l| format!("DE-{l}")));
        assert_eq!(presets.len(), codes.len(), "{:?}", presets.keys());
        for code in &codes {
            let p = presets
                .get(code)
                .unwrap_or_else(|| panic!("no preset {code}"));
            for lang in Lang::ALL {
                assert!(p.name.get(lang).is_some(), "{code} name in {lang}");
                if let Some(a) = &p.address {
                    assert!(a.get(lang).is_some(), "{code} address in {lang}");
                }
                let web = every_language(&p.website);
                assert!(is_valid_web_url(web.get(lang).unwrap()), "{code} website");
                if let Some(u) = &p.complaint_url {
                    let u = every_language(u);
                    assert!(
                        is_valid_web_url(u.get(lang).unwrap()),
                        "{code} complaint_url"
                    );
                }
            }
            assert!(p.source.starts_with("https://"), "{code} source");
            assert!(p.checked.date.is_some(), "{code} checked");
            if let Some(e) = &p.email {
                assert!(is_valid_email(e), "{code} email");
            }
        }
    }

    /// Every fact a preset states has its source, date and status, and
    /// every provenance line belongs to a fact that is there.
    #[test]
    fn every_fact_has_its_source_and_check_date() {
        for (code, p) in presets() {
            let present = [
                ("name", true),
                ("address", p.address.is_some()),
                ("phone", p.phone.is_some()),
                ("email", p.email.is_some()),
                ("website", true),
                ("complaint_url", p.complaint_url.is_some()),
            ];
            for (field, there) in present {
                assert_eq!(
                    p.facts.contains_key(field),
                    there,
                    "{code}: `{field}` and its line in `facts` must come together"
                );
            }
            for (field, fact) in &p.facts {
                assert!(
                    fact.source.starts_with("http"),
                    "{code}.{field}: source should be a URL"
                );
                assert!(fact.checked.date.is_some(), "{code}.{field}: checked");
            }
        }
    }

    /// A Land preset is German, and facts nobody compared with the source
    /// say so.
    #[test]
    fn land_presets_belong_to_germany_and_are_marked_unverified() {
        for l in LANDER {
            let code = format!("DE-{l}");
            assert_eq!(Preset::country(&code), "DE");
            let p = &presets()[&code];
            assert!(
                p.facts.values().all(|f| f.status == FactStatus::Unverified),
                "{code}"
            );
        }
        assert_eq!(
            presets()["DE-BY"].name.get(Lang::De),
            Some("Bayerisches Landesamt für Datenschutzaufsicht (BayLDA)")
        );
    }

    #[test]
    fn a_language_without_its_own_page_gets_the_english_one() {
        let be = &presets()["BE"];
        let url = every_language(be.complaint_url.as_ref().unwrap());
        assert_eq!(url.get(Lang::Nl), url.get(Lang::En));
        assert_ne!(url.get(Lang::Fr), url.get(Lang::En));
        let web = every_language(&be.website);
        assert_eq!(
            web.get(Lang::Nl),
            Some("https://www.gegevensbeschermingsautoriteit.be")
        );
    }

    #[test]
    fn explicit_fields_win_over_the_preset() {
        let text = "x";
        let file = SourceFile {
            path: std::path::Path::new("portal.toml"),
            text,
        };
        let mut auth = Authority {
            preset: Some(Spanned::new(0..1, "be".into())),
            phone: Some("+32 0".into()),
            ..Authority::default()
        };
        let mut diags = Diagnostics::default();
        apply_preset(file, &mut auth, &mut diags);
        assert!(diags.is_empty());
        assert_eq!(auth.phone.as_deref(), Some("+32 0"));
        let name = auth.name.unwrap();
        assert_eq!(
            name.get_ref().get(Lang::Nl),
            Some("Gegevensbeschermingsautoriteit")
        );

        let mut bad = Authority {
            preset: Some(Spanned::new(0..1, "XX".into())),
            ..Authority::default()
        };
        apply_preset(file, &mut bad, &mut diags);
        assert_eq!(diags.0[0].code, Some(Code::P019));
        assert!(diags.0[0].message.contains("BE, DE, DE-BB"));
    }
}
