//! Values that may differ per language.
//!
//! In `portal.toml` a translatable value is either a plain string, used in
//! every language (a brand name, an address), or a table keyed by language
//! code. Which languages a table must cover is checked later, against the
//! site's declared languages, so that all gaps are reported at once.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::lang::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// The same string in every language.
    Same(String),
    /// One string per language.
    PerLang(BTreeMap<Lang, String>),
}

impl Text {
    /// The text in `lang`, if there is one.
    pub fn get(&self, lang: Lang) -> Option<&str> {
        match self {
            Text::Same(s) => Some(s),
            Text::PerLang(map) => map.get(&lang).map(String::as_str),
        }
    }

    /// The text in `lang`; empty when missing. Validation has already reported
    /// every missing translation by the time pages are rendered.
    pub fn in_lang(&self, lang: Lang) -> String {
        self.get(lang).unwrap_or_default().to_string()
    }

    /// The languages among `wanted` that this text lacks.
    pub fn missing<'a>(&'a self, wanted: &'a [Lang]) -> impl Iterator<Item = Lang> + 'a {
        wanted.iter().copied().filter(|l| self.get(*l).is_none())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a string, or a table of strings keyed by language ({})",
                    Lang::valid_codes()
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::Same(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(lang) = map.next_key::<Lang>()? {
                    let value: String = map.next_value()?;
                    if out.insert(lang, value).is_some() {
                        return Err(de::Error::custom(format!("language `{lang}` given twice")));
                    }
                }
                Ok(Text::PerLang(out))
            }
        }

        d.deserialize_any(TextVisitor)
    }
}
