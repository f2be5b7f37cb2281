//! Checking a post's fields against the form's schema, and cleaning them so
//! that no visitor string can carry a control character into a mail.

use std::collections::HashMap;

use serde::Serialize;

use super::address::{self, Refusal};
use super::ticket::{TicketField, parse_date};
use crate::forms::definition::{Field, FieldKind, FormDef, RESERVED};
use crate::forms::strings::Problem;
use crate::vocab::lang::Lang;

#[derive(Debug, Clone, Serialize)]
pub struct FieldError {
    pub field: String,
    /// The field's label in the visitor's language.
    pub label: String,
    pub problem: Problem,
    /// The problem in the visitor's language.
    pub message: String,
}

/// The fields of an accepted post.
#[derive(Debug)]
pub struct Accepted {
    pub fields: Vec<TicketField>,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Removes every control character; in multi-line text `\n` stays (and
/// `\r\n` becomes `\n`), since a body line break cannot reach a header.
pub fn clean(s: &str, multiline: bool) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || (multiline && *c == '\n'))
        .collect::<String>()
        .trim()
        .to_string()
}

/// An address the endpoint can mail (see `address::requester` for the
/// accepted forms); the problem to show otherwise.
fn mailable_address(s: &str) -> Result<lettre::Address, Problem> {
    address::requester(s).map_err(|r| match r {
        Refusal::Syntax => Problem::NotAnEmail,
        Refusal::Unusable => Problem::UnusableEmail,
    })
}

fn is_phone(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || " +-()./".contains(c))
        && s.chars().filter(char::is_ascii_digit).count() >= 6
}

/// Checks every field of `form` in `posted` (the post without the signed
/// hidden fields and the honeypot). All problems are returned together.
pub fn check(
    form: &FormDef,
    lang: Lang,
    posted: &[(String, String)],
) -> Result<Accepted, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut values: HashMap<&str, &str> = HashMap::new();
    let error = |f: &Field, p: Problem| FieldError {
        field: f.name().to_string(),
        label: f.label.get_ref().in_lang(lang),
        problem: p,
        message: p.text(lang).to_string(),
    };
    for (k, v) in posted {
        if RESERVED.contains(&k.as_str()) {
            continue;
        }
        if form.field(k).is_none() || values.insert(k, v).is_some() {
            errors.push(FieldError {
                field: clean(k, false).chars().take(40).collect(),
                label: clean(k, false).chars().take(40).collect(),
                problem: Problem::Unknown,
                message: Problem::Unknown.text(lang).to_string(),
            });
        }
    }
    let mut fields = Vec::new();
    let mut email = None;
    let mut name = None;
    for f in &form.fields {
        let raw = values.get(f.name()).copied().unwrap_or_default();
        let multiline = f.kind == FieldKind::Textarea;
        // A single-line input cannot hold a control character when a
        // browser posts it; one there is tampering (header injection).
        if !multiline && raw.chars().any(char::is_control) {
            errors.push(error(f, Problem::Forbidden));
            continue;
        }
        let value = clean(raw, multiline);
        let required = f.required || f.kind == FieldKind::Consent;
        if value.is_empty() {
            if required {
                errors.push(error(f, Problem::Missing));
            }
            if matches!(f.kind, FieldKind::Checkbox | FieldKind::Consent) {
                fields.push(ticket_field(f, lang, "no".into()));
            } else {
                fields.push(ticket_field(f, lang, String::new()));
            }
            continue;
        }
        if value.chars().count() > f.max_length() {
            errors.push(error(f, Problem::TooLong));
            continue;
        }
        let mailable = match f.kind {
            FieldKind::Email => Some(mailable_address(&value)),
            _ => None,
        };
        let problem = match f.kind {
            FieldKind::Email => mailable.as_ref().and_then(|r| r.as_ref().err()).copied(),
            FieldKind::Date if parse_date(&value).is_none() => Some(Problem::NotADate),
            FieldKind::Tel if !is_phone(&value) => Some(Problem::NotAPhone),
            FieldKind::Select | FieldKind::Radio
                if !f.options.iter().any(|o| o.value.get_ref() == &value) =>
            {
                Some(Problem::NotAnOption)
            }
            _ => None,
        };
        if let Some(p) = problem {
            errors.push(error(f, p));
            continue;
        }
        let shown = match f.kind {
            FieldKind::Checkbox | FieldKind::Consent => "yes".to_string(),
            _ => value.clone(),
        };
        // The address as mail headers carry it (A-label domain); the
        // field keeps what the visitor typed.
        if let (Some(Ok(a)), None) = (&mailable, &email) {
            email = Some(a.to_string());
        }
        if f.name() == "name" {
            name = Some(value.clone());
        }
        fields.push(ticket_field(f, lang, shown));
    }
    if errors.is_empty() {
        Ok(Accepted {
            fields,
            email,
            name,
        })
    } else {
        Err(errors)
    }
}

fn ticket_field(f: &Field, lang: Lang, value: String) -> TicketField {
    TicketField {
        name: f.name().to_string(),
        label: f.label.get_ref().in_lang(lang),
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_strips_controls_but_keeps_body_line_breaks() {
        assert_eq!(clean("Ann\r\nBcc: x@y\0", false), "AnnBcc: x@y");
        assert_eq!(clean("one\r\ntwo\u{7}", true), "one\ntwo");
        assert_eq!(clean("Zoë 李 Ωmega", false), "Zoë 李 Ωmega");
    }

    #[test]
    fn email_addresses() {
        assert!(mailable_address("ann@example.be").is_ok());
        assert_eq!(
            mailable_address("ann@example.be\r\nBcc: x@y"),
            Err(Problem::NotAnEmail)
        );
        assert_eq!(mailable_address("not an address"), Err(Problem::NotAnEmail));
        assert_eq!(mailable_address("ann@"), Err(Problem::NotAnEmail));
        assert_eq!(
            mailable_address("ann@[192.0.2.1]"),
            Err(Problem::UnusableEmail)
        );
        assert_eq!(
            mailable_address("nosuchuser@localhost"),
            Err(Problem::UnusableEmail)
        );
    }
}
