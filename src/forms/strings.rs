//! The fixed wording around forms in each language: the submit button, the
//! required marker, the endpoint's error and acknowledgement texts. Fixed so
//! that nothing a visitor typed ever becomes part of a message's wording.

use serde::{Deserialize, Serialize};

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::theme::Theme;
use crate::vocab::lang::Lang;

/// The theme's `[form]` table: the button, the required marker, the empty
/// first option of a list, the honeypot's label.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FormStrings {
    pub submit: String,
    pub required: String,
    /// The empty first option of a list: nothing chosen yet.
    pub choose: String,
    pub honeypot: String,
}

impl FormStrings {
    /// From one language's merged theme strings (a site's overrides
    /// included); the built-in theme's when they do not read.
    pub fn of(strings: Option<&toml::Table>, lang: Lang) -> FormStrings {
        strings
            .and_then(|s| s.get("form").cloned())
            .and_then(|t| t.try_into().ok())
            .unwrap_or_else(|| FormStrings::get(lang))
    }

    /// The built-in theme's.
    pub fn get(lang: Lang) -> FormStrings {
        builtin(lang, "form")
            .and_then(|t| toml::Value::Table(t.clone()).try_into().ok())
            .expect("the built-in theme has every [form] string")
    }
}

/// The built-in theme's table `path` (dotted) in `lang`.
fn builtin(lang: Lang, path: &str) -> Option<&'static toml::Table> {
    let mut table = crate::theme::builtin_strings(lang);
    for part in path.split('.') {
        table = table.get(part)?.as_table()?;
    }
    Some(table)
}

/// The built-in theme's string `key` in table `path`, for the texts the
/// endpoint shows before it knows which site a post is for.
fn builtin_text(lang: Lang, path: &str, key: &str) -> &'static str {
    builtin(lang, path)
        .and_then(|t| t.get(key))
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("the built-in theme has no [{path}] {key} in {lang}"))
}

/// Why a field was refused, in words for the visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    Missing,
    TooLong,
    NotAnEmail,
    /// A valid address of a form the endpoint does not mail to (address
    /// literal, quoted local part, `localhost`…).
    UnusableEmail,
    NotADate,
    NotAPhone,
    NotAnOption,
    /// Control characters in a one-line field: tampering.
    Forbidden,
    Unknown,
}

impl Problem {
    /// The key of this problem in the theme's `[form.problem]` table.
    pub fn key(self) -> &'static str {
        use Problem::*;
        match self {
            Missing => "missing",
            TooLong => "too_long",
            NotAnEmail => "not_an_email",
            UnusableEmail => "unusable_email",
            NotADate => "not_a_date",
            NotAPhone => "not_a_phone",
            NotAnOption => "not_an_option",
            Forbidden => "forbidden",
            Unknown => "unknown",
        }
    }

    /// The problem in words in `lang`, from the built-in theme.
    pub fn text(self, lang: Lang) -> &'static str {
        builtin_text(lang, "form.problem", self.key())
    }
}

/// Texts of the endpoint's own pages: the built-in theme's `[endpoint]`
/// table (the endpoint answers some posts before it knows their site).
pub struct EndpointStrings {
    pub error_title: &'static str,
    pub error_intro: &'static str,
    pub back: &'static str,
    pub forbidden: &'static str,
    pub expired: &'static str,
    pub too_large: &'static str,
    pub too_many: &'static str,
    pub unavailable: &'static str,
}

impl EndpointStrings {
    pub fn get(lang: Lang) -> EndpointStrings {
        let t = |key| builtin_text(lang, "endpoint", key);
        EndpointStrings {
            error_title: t("error_title"),
            error_intro: t("error_intro"),
            back: t("back"),
            forbidden: t("forbidden"),
            expired: t("expired"),
            too_large: t("too_large"),
            too_many: t("too_many"),
            unavailable: t("unavailable"),
        }
    }
}

/// The wording of the endpoint's two mails in one language: the theme's
/// `[mail]` table (`themes/default/i18n/*.toml`, overridable key by key in a
/// site's theme). Copied into each ticket when its post is accepted, so a
/// ticket waiting in the spool is sent with the words it was accepted
/// with, even after a restart with another theme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailStrings {
    pub request: RequestNames,
    pub ticket: TicketWords,
    pub ack: AckWords,
    pub language: LanguageNames,
}

/// What the ticket's subject calls each kind of request, with its article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestNames {
    pub access: String,
    pub rectification: String,
    pub erasure: String,
    pub restriction: String,
    pub portability: String,
    pub objection: String,
    pub objection_direct_marketing: String,
    pub withdraw_consent: String,
    pub complaint: String,
    pub other: String,
}

/// The labels and notes of the ticket mail to the firm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketWords {
    pub reference: String,
    pub request: String,
    pub firm: String,
    pub site: String,
    pub form: String,
    pub language: String,
    pub received: String,
    pub due: String,
    pub extended: String,
    pub one_month: String,
    pub stop_direct_marketing: String,
    pub withdraw_consent: String,
    pub complaint: String,
    pub yes: String,
    pub no: String,
    pub reply: String,
    pub no_reply_to: String,
}

/// The acknowledgement to the requester: one body per kind of request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckWords {
    pub subject: String,
    pub subject_complaint: String,
    pub subject_withdrawal: String,
    pub one_month: String,
    pub stop_direct_marketing: String,
    pub withdraw_consent: String,
    pub complaint: String,
    pub footer: String,
}

/// Each language's name in this language, to name the requester's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageNames {
    pub nl: String,
    pub fr: String,
    pub de: String,
    pub en: String,
}

impl LanguageNames {
    pub fn of(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.nl,
            Lang::Fr => &self.fr,
            Lang::De => &self.de,
            Lang::En => &self.en,
        }
    }
}

impl MailStrings {
    /// The `[mail]` table of one language's merged theme strings; the
    /// problem (a missing key, a number where text belongs) otherwise.
    pub fn from_theme(strings: &toml::Table) -> Result<MailStrings, String> {
        let table = strings
            .get("mail")
            .cloned()
            .ok_or_else(|| "the theme has no [mail] strings".to_string())?;
        table
            .try_into()
            .map_err(|e: toml::de::Error| format!("[mail] strings: {}", e.message().trim_end()))
    }

    /// The built-in theme's wording: for tickets spooled by a version that
    /// did not store their wording.
    pub fn builtin(lang: Lang) -> MailStrings {
        MailStrings::from_theme(crate::theme::builtin_strings(lang))
            .expect("the built-in theme has every [mail] string")
    }
}

/// The forms and the endpoint's mails need every `[form]` and `[mail]`
/// string as text: a site
/// override that breaks one is reported here, not when a ticket waits.
pub fn check_theme(theme: &Theme, name: &str, diags: &mut Diagnostics) {
    for (lang, strings) in theme.strings.iter() {
        let form = strings
            .get("form")
            .cloned()
            .map(toml::Value::try_into::<FormStrings>);
        let problem = match form {
            Some(Ok(_)) => MailStrings::from_theme(strings).err(),
            Some(Err(e)) => Some(format!("[form] strings: {}", e.message().trim_end())),
            None => Some("the theme has no [form] strings".to_string()),
        };
        if let Some(e) = problem {
            diags.push(
                Diagnostic::error(format!("themes/{name}/i18n/{lang}.toml"), e)
                    .with_code(Code::P025)
                    .with_fix("every key under [form] and [mail] is a text in quotes; see the built-in theme's i18n files"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fixed text the endpoint and the forms need is in every
    /// language of the built-in theme (they panic otherwise).
    #[test]
    fn every_built_in_string_exists_in_every_language() {
        use Problem::*;
        for lang in Lang::ALL {
            for p in [
                Missing,
                TooLong,
                NotAnEmail,
                UnusableEmail,
                NotADate,
                NotAPhone,
                NotAnOption,
                Forbidden,
                Unknown,
            ] {
                assert!(!p.text(lang).is_empty());
            }
            let e = EndpointStrings::get(lang);
            assert!(!e.error_title.is_empty() && !e.unavailable.is_empty());
            assert!(!FormStrings::get(lang).submit.is_empty());
            MailStrings::builtin(lang);
        }
        assert_eq!(Problem::Missing.text(Lang::Nl), "is verplicht");
        assert!(
            EndpointStrings::get(Lang::Fr)
                .error_intro
                .ends_with("\u{202f}:")
        );
    }

    #[test]
    fn a_sites_form_strings_override_the_built_in_ones() {
        let strings: toml::Table =
            "[form]\nsubmit = \"Verstuur\"\nrequired = \"x\"\nchoose = \"y\"\nhoneypot = \"z\"\n"
                .parse()
                .unwrap();
        assert_eq!(FormStrings::of(Some(&strings), Lang::Nl).submit, "Verstuur");
        assert_eq!(FormStrings::of(None, Lang::Nl).submit, "Verzenden");
    }
}
