//! Built-in facts about supervisory authorities: `[authority] preset = "BE"`.
//!
//! Every statement must name the authority a person can complain to (GDPR
//! Art. 13(2)(d)), and agencies should not each copy its address by hand.
//! The facts live in one data file, `data/authorities.toml`, with the date
//! each entry was checked and its public source, so that a reviewer can see
//! how fresh they are; the file is compiled into the binary.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use super::config::Authority;
use super::text::Text;
use crate::diagnostics::{Diagnostics, SourceFile};

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
    pub address: Text,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: String,
    pub complaint_url: Option<String>,
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
            .with_code("P019")
            .with_fix("use one of the listed codes, or remove `preset` and give the authority's name, address and website yourself"),
        );
        return;
    };
    let spanned = |v: String| Spanned::new(span.clone(), v);
    if authority.name.is_none() {
        authority.name = Some(Spanned::new(span.clone(), preset.name.clone()));
    }
    if authority.address.is_none() {
        authority.address = Some(Spanned::new(span.clone(), preset.address.clone()));
    }
    if authority.phone.is_none() {
        authority.phone = preset.phone.clone();
    }
    if authority.email.is_none() {
        authority.email = preset.email.clone().map(spanned);
    }
    if authority.website.is_none() {
        authority.website = Some(spanned(preset.website.clone()));
    }
    if authority.complaint_url.is_none() {
        authority.complaint_url = preset.complaint_url.clone().map(spanned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::identifiers::{is_valid_email, is_valid_web_url};
    use crate::site::lang::Lang;

    #[test]
    fn every_preset_is_complete_in_every_language() {
        let presets = presets();
        for code in ["BE", "NL", "LU", "FR", "DE"] {
            let p = presets
                .get(code)
                .unwrap_or_else(|| panic!("no preset {code}"));
            for lang in Lang::ALL {
                assert!(p.name.get(lang).is_some(), "{code} name in {lang}");
                assert!(p.address.get(lang).is_some(), "{code} address in {lang}");
            }
            assert!(is_valid_web_url(&p.website), "{code} website");
            assert!(p.source.starts_with("https://"), "{code} source");
            assert!(p.checked.date.is_some(), "{code} checked");
            if let Some(u) = &p.complaint_url {
                assert!(is_valid_web_url(u), "{code} complaint_url");
            }
            if let Some(e) = &p.email {
                assert!(is_valid_email(e), "{code} email");
            }
        }
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
        assert_eq!(diags.0[0].code, "P019");
        assert!(diags.0[0].message.contains("BE, DE, FR, LU, NL"));
    }
}
