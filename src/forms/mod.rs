//! Request forms: their definitions, their signatures, and the view the
//! theme's `partials/form.html` renders.

pub mod definition;
pub mod sign;
pub mod strings;

use serde::Serialize;

use crate::vocab::lang::Lang;
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
    /// The ids that describe the input (`aria-describedby`): its error
    /// message first, then its help.
    pub describedby: Option<String>,
    /// What the visitor typed, when the endpoint shows the form again.
    pub value: Option<String>,
    /// Why the endpoint refused the value, in the visitor's language.
    pub error: Option<String>,
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
/// `t` is the theme's `[form]` wording in `lang` (a site may override it).
pub fn view(
    form: &FormDef,
    lang: Lang,
    action: &str,
    signing: &Signing<'_>,
    t: strings::FormStrings,
) -> Option<FormView> {
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
                describedby: help.as_ref().map(|_| format!("{id}-help")),
                value: None,
                error: None,
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
        t,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostics;
    use crate::vocab::page_kind::Right;
    use scraper::{Html, Selector};

    /// Renders a built-in form through the theme's `partials/form.html`
    /// alone, as the rights page template includes it.
    fn render(right: Right, lang: Lang) -> Html {
        let mut diags = Diagnostics::default();
        let forms = load(std::path::Path::new("/nonexistent"), &Lang::ALL, &mut diags);
        assert!(!diags.has_errors(), "{diags}");
        let theme = crate::theme::Theme::load(
            std::path::Path::new("/nonexistent"),
            "default",
            &Lang::ALL,
            &mut diags,
        );
        let source = &theme.templates["partials/form.html"].source;
        let mut tera = tera::Tera::new();
        tera.add_raw_template("partials/form.html", source).unwrap();
        let keys = KeyRing::parse(&format!("k1:{}", "ab".repeat(32)), "test").unwrap();
        let signing = Signing {
            site_id: "acme",
            keys: &keys,
            issued: 1_780_000_000,
        };
        let form = for_right(&forms, right).expect("a built-in form per right");
        let t = strings::FormStrings::get(lang);
        let view = view(form, lang, "https://forms.agency.test/submit", &signing, t).unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("form", &view);
        Html::parse_fragment(&tera.render("partials/form.html", &ctx).unwrap())
    }

    fn sel(s: &str) -> Selector {
        Selector::parse(s).unwrap()
    }

    #[test]
    fn every_right_has_an_accessible_signed_form_in_every_language() {
        for right in Right::ALL {
            for lang in Lang::ALL {
                let html = render(right, lang);
                let form = html.select(&sel("form")).next().expect("a form");
                assert_eq!(form.attr("method"), Some("post"));
                assert_eq!(
                    form.attr("action"),
                    Some("https://forms.agency.test/submit")
                );
                for name in ["_site", "_form", "_lang", "_kid", "_ts", "_sig"] {
                    let s = sel(&format!("input[type=hidden][name={name}]"));
                    let v = html.select(&s).next().and_then(|e| e.attr("value"));
                    assert!(v.is_some_and(|v| !v.is_empty()), "{right:?} {lang}: {name}");
                }
                let lang_value = html
                    .select(&sel("input[name=_lang]"))
                    .next()
                    .and_then(|e| e.attr("value"));
                assert_eq!(lang_value, Some(lang.code()));
                // Every visible control has a real label, help is linked.
                for input in html.select(&sel(
                    "input:not([type=hidden]):not([type=radio]), textarea, select",
                )) {
                    let id = input.attr("id").expect("controls have ids");
                    let label = html
                        .select(&sel(&format!("label[for=\"{id}\"]")))
                        .next()
                        .unwrap_or_else(|| panic!("{right:?} {lang}: no label for {id}"));
                    assert!(!label.text().collect::<String>().trim().is_empty());
                    if let Some(help) = input.attr("aria-describedby") {
                        assert!(html.select(&sel(&format!("#{help}"))).next().is_some());
                    }
                }
                let email = html.select(&sel("input[name=email]")).next().unwrap();
                assert_eq!(email.attr("type"), Some("email"));
                assert_eq!(email.attr("autocomplete"), Some("email"));
                assert_eq!(email.attr("inputmode"), Some("email"));
                assert!(email.attr("required").is_some());
                assert!(email.attr("aria-describedby").is_some());
                let hp = html.select(&sel("input[name=homepage]")).next().unwrap();
                assert_eq!(hp.attr("tabindex"), Some("-1"));
                let hp_box = html.select(&sel(".field-hp")).next().unwrap();
                assert_eq!(hp_box.attr("aria-hidden"), Some("true"));
                assert!(html.select(&sel(".required")).next().is_some());
                assert!(html.select(&sel("script")).next().is_none());
            }
        }
    }

    #[test]
    fn signed_values_verify() {
        let html = render(Right::Complaint, Lang::Fr);
        let get = |n: &str| {
            html.select(&sel(&format!("input[name={n}]")))
                .next()
                .and_then(|e| e.attr("value"))
                .unwrap()
                .to_string()
        };
        let keys = KeyRing::parse(&format!("k1:{}", "ab".repeat(32)), "test").unwrap();
        let mut diags = Diagnostics::default();
        let forms = load(std::path::Path::new("/nonexistent"), &Lang::ALL, &mut diags);
        let form = for_right(&forms, Right::Complaint).unwrap();
        assert_eq!(form.route, Route::Complaints);
        let claims = Claims {
            site: &get("_site"),
            form: &get("_form"),
            lang: &get("_lang"),
            kid: &get("_kid"),
            issued: get("_ts").parse().unwrap(),
        };
        assert!(sign::verify(
            &keys,
            &claims,
            &form.schema_hash(),
            &get("_sig")
        ));
    }

    #[test]
    fn form_errors_have_file_and_line() {
        let text = "id = \"x\"\nright = \"access\"\nroute = \"elsewhere\"\n[[fields]]\nname = \"a\"\nkind = \"text\"\nlabel = \"A\"\n";
        let mut diags = Diagnostics::default();
        let path = std::path::PathBuf::from("forms/x.toml");
        let file = crate::diagnostics::SourceFile { path: &path, text };
        assert!(definition::parse(file, &[Lang::Nl], &mut diags).is_none());
        let shown = diags.to_string();
        assert!(shown.contains("forms/x.toml:3:"), "{shown}");

        let text = "id = \"x\"\nright = \"access\"\nroute = \"requests\"\n[[fields]]\nname = \"a\"\nkind = \"slider\"\nlabel = \"A\"\n";
        let mut diags = Diagnostics::default();
        let file = crate::diagnostics::SourceFile { path: &path, text };
        assert!(definition::parse(file, &[Lang::Nl], &mut diags).is_none());
        assert!(diags.to_string().contains("forms/x.toml:6:"), "{diags}");

        let text = "id = \"x\"\nright = \"access\"\nroute = \"requests\"\n[[fields]]\nname = \"a\"\nkind = \"text\"\nlabel = { nl = \"A\" }\n";
        let mut diags = Diagnostics::default();
        let file = crate::diagnostics::SourceFile { path: &path, text };
        assert!(definition::parse(file, &[Lang::Nl, Lang::Fr], &mut diags).is_none());
        let shown = diags.to_string();
        assert!(
            shown.contains("forms/x.toml:7:") && shown.contains("fr"),
            "{shown}"
        );
    }
}
