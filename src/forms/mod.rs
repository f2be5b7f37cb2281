//! Request forms: their definitions, their signatures, and the view the
//! theme's `partials/form.html` renders.

pub mod definition;
pub mod sign;
pub mod strings;

use serde::Serialize;

use crate::site::lang::Lang;
use definition::{FieldKind, FormDef, HONEYPOT};
use sign::{Claims, KeyRing};

pub use definition::{Route, for_right, load};

/// One input as the template sees it, in one language.
#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    /// The element id, unique on the page: `f-<form>-<field>`.
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    /// The `type` of an `<input>`; empty for textarea, select and radio.
    pub input_type: &'static str,
    pub label: String,
    pub help: Option<String>,
    pub help_id: Option<String>,
    pub required: bool,
    pub maxlength: usize,
    pub autocomplete: Option<String>,
    pub inputmode: Option<&'static str>,
    pub options: Vec<OptionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OptionView {
    pub id: String,
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hidden {
    pub name: &'static str,
    pub value: String,
}

/// Everything `partials/form.html` needs.
#[derive(Debug, Clone, Serialize)]
pub struct FormView {
    pub id: String,
    pub action: String,
    pub title: Option<String>,
    pub hidden: Vec<Hidden>,
    pub fields: Vec<FieldView>,
    pub honeypot: Hidden,
    pub t: strings::FormStrings,
}

/// The values signed into a form rendered now.
pub struct Signing<'a> {
    pub site_id: &'a str,
    pub keys: &'a KeyRing,
    pub issued: u64,
}

/// The view of `form` in `lang`, signed; `None` when the ring has no key.
pub fn view(form: &FormDef, lang: Lang, action: &str, signing: &Signing<'_>) -> Option<FormView> {
    let key = signing.keys.signing()?;
    let claims = Claims {
        site: signing.site_id,
        form: &form.id,
        lang: lang.code(),
        kid: &key.id,
        issued: signing.issued,
    };
    let sig = sign::sign(key, &claims, &form.schema_hash());
    let hidden = vec![
        Hidden {
            name: "_site",
            value: signing.site_id.to_string(),
        },
        Hidden {
            name: "_form",
            value: form.id.clone(),
        },
        Hidden {
            name: "_lang",
            value: lang.code().to_string(),
        },
        Hidden {
            name: "_kid",
            value: key.id.clone(),
        },
        Hidden {
            name: "_ts",
            value: signing.issued.to_string(),
        },
        Hidden {
            name: "_sig",
            value: sig,
        },
    ];
    let fields = form
        .fields
        .iter()
        .map(|f| {
            let id = format!("f-{}-{}", form.id, f.name());
            let help = f.help.as_ref().map(|h| h.get_ref().in_lang(lang));
            FieldView {
                help_id: help.as_ref().map(|_| format!("{id}-help")),
                options: f
                    .options
                    .iter()
                    .enumerate()
                    .map(|(i, o)| OptionView {
                        id: format!("{id}-{i}"),
                        value: o.value.get_ref().clone(),
                        label: o.label.get_ref().in_lang(lang),
                    })
                    .collect(),
                id,
                name: f.name().to_string(),
                kind: f.kind.key(),
                input_type: match f.kind {
                    FieldKind::Text => "text",
                    FieldKind::Email => "email",
                    FieldKind::Tel => "tel",
                    FieldKind::Date => "date",
                    FieldKind::Checkbox | FieldKind::Consent => "checkbox",
                    FieldKind::Textarea | FieldKind::Select | FieldKind::Radio => "",
                },
                label: f.label.get_ref().in_lang(lang),
                help,
                required: f.required || f.kind == FieldKind::Consent,
                maxlength: f.max_length(),
                autocomplete: f.autocomplete.clone(),
                inputmode: f.inputmode(),
            }
        })
        .collect();
    Some(FormView {
        id: form.id.clone(),
        action: action.to_string(),
        title: form.title.as_ref().map(|t| t.in_lang(lang)),
        hidden,
        fields,
        honeypot: Hidden {
            name: HONEYPOT,
            value: String::new(),
        },
        t: strings::FormStrings::get(lang),
    })
}
