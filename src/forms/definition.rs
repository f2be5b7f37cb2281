//! Form definitions: one TOML file per form under `forms/`.
//!
//! A form says which right it serves, where its tickets go (`route`, resolved
//! to the `[contacts]` addresses of `portal.toml`, so a post can never name an
//! address) and its fields. The same definition renders the HTML form and
//! validates the post, so the two can never disagree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::diagnostics::{Diagnostics, SourceFile};
use crate::vocab::document::Document;
use crate::vocab::lang::Lang;
use crate::vocab::page_kind::Right;
use crate::vocab::text::Text;

/// Where a form's tickets are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `[contacts] requests`, e.g. info@….
    Requests,
    /// `[contacts] complaints`.
    Complaints,
}

/// What an input is; decides its HTML element and its validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Textarea,
    Email,
    Tel,
    /// `YYYY-MM-DD`, as `<input type=date>` posts it.
    Date,
    Select,
    Radio,
    Checkbox,
    /// A checkbox that must be ticked for the post to be accepted.
    Consent,
}

impl FieldKind {
    pub fn key(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Textarea => "textarea",
            FieldKind::Email => "email",
            FieldKind::Tel => "tel",
            FieldKind::Date => "date",
            FieldKind::Select => "select",
            FieldKind::Radio => "radio",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Consent => "consent",
        }
    }

    fn has_options(self) -> bool {
        matches!(self, FieldKind::Select | FieldKind::Radio)
    }

    /// A length bound for kinds that take free text and set none.
    fn default_max_length(self) -> usize {
        match self {
            FieldKind::Textarea => 5000,
            FieldKind::Email => 254,
            FieldKind::Tel => 40,
            FieldKind::Date => 10,
            _ => 200,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOption {
    pub value: Spanned<String>,
    pub label: Spanned<Text>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: Spanned<String>,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// At most [`MAX_FIELD_LENGTH`] characters.
    pub max_length: Option<Spanned<u64>>,
    pub label: Spanned<Text>,
    pub help: Option<Spanned<Text>>,
    /// The HTML `autocomplete` token, e.g. `name`, `email`, `tel`.
    pub autocomplete: Option<String>,
    #[serde(default)]
    pub options: Vec<FieldOption>,
}

impl Field {
    pub fn name(&self) -> &str {
        self.name.get_ref()
    }

    pub fn max_length(&self) -> usize {
        self.max_length
            .as_ref()
            .map_or_else(|| self.kind.default_max_length(), |n| *n.get_ref() as usize)
    }

    /// The `inputmode` hint for on-screen keyboards.
    pub fn inputmode(&self) -> Option<&'static str> {
        match self.kind {
            FieldKind::Email => Some("email"),
            FieldKind::Tel => Some("tel"),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormFile {
    id: Spanned<String>,
    right: Spanned<Right>,
    route: Spanned<Route>,
    /// Days a rendered form stays valid; older posts get 410 Gone.
    max_age_days: Option<u32>,
    title: Option<Spanned<Text>>,
    fields: Vec<Field>,
}

/// A checked form definition.
#[derive(Debug, Clone)]
pub struct FormDef {
    pub id: String,
    pub right: Right,
    pub route: Route,
    pub max_age_days: u32,
    pub title: Option<Text>,
    pub fields: Vec<Field>,
    /// Where it was read from, for messages.
    pub origin: PathBuf,
}

/// Names the endpoint uses for its own hidden fields; a form field may not.
pub const RESERVED: [&str; 7] = ["_site", "_form", "_lang", "_kid", "_ts", "_sig", HONEYPOT];

/// The visually hidden field a person never fills in and a bot often does.
pub const HONEYPOT: &str = "homepage";

/// The largest `max_length` of a field, in characters: the endpoint takes
/// posts of at most 64 KiB, and a value that cannot arrive should not be
/// promised.
pub const MAX_FIELD_LENGTH: u64 = 10_000;

/// By default a rendered form is accepted for half a year: long enough for a
/// cached page, short enough that a leaked signed form expires.
pub const DEFAULT_MAX_AGE_DAYS: u32 = 183;

impl FormDef {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name() == name)
    }

    /// The field whose value is the requester's e-mail address (`Reply-To`).
    pub fn email_field(&self) -> Option<&Field> {
        self.fields.iter().find(|f| f.kind == FieldKind::Email)
    }

    /// A hash of everything that decides what a valid post is. It is signed
    /// into every rendered form, so a page rendered from another version of
    /// the form is refused rather than validated against the wrong rules.
    pub fn schema_hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"portaal-form-schema-v1\0");
        for part in [self.id.as_str(), self.right.slug(), route_key(self.route)] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for f in &self.fields {
            h.update(f.name().as_bytes());
            h.update([0]);
            h.update(f.kind.key().as_bytes());
            h.update([0, u8::from(f.required)]);
            h.update((f.max_length() as u64).to_be_bytes());
            for o in &f.options {
                h.update(o.value.get_ref().as_bytes());
                h.update([0]);
            }
            h.update([1]);
        }
        h.finalize().into()
    }
}

pub fn route_key(r: Route) -> &'static str {
    match r {
        Route::Requests => "requests",
        Route::Complaints => "complaints",
    }
}

/// Parses and checks one form file.
pub fn parse(file: SourceFile<'_>, languages: &[Lang], diags: &mut Diagnostics) -> Option<FormDef> {
    let doc = Document::parse(file, file.text, 0, diags);
    if doc.is_empty() && diags.has_errors() {
        return None;
    }
    let raw: FormFile = doc.into_value(diags)?;
    let before = diags.0.len();
    let err = |diags: &mut Diagnostics, at: usize, msg: String| {
        diags.push(file.error_at(Some(at), msg));
    };
    let id = raw.id.get_ref();
    if let Some(problem) = crate::vocab::identifiers::id_problem("form id", id) {
        err(diags, raw.id.span().start, problem);
    }
    let check_text = |diags: &mut Diagnostics, what: &str, t: &Spanned<Text>| {
        let missing: Vec<String> = t
            .get_ref()
            .missing(languages)
            .map(|l| l.to_string())
            .collect();
        if !missing.is_empty() {
            diags.push(
                file.error_at(
                    Some(t.span().start),
                    format!("{what} has no translation in: {}", missing.join(", ")),
                )
                .with_fix("add the missing languages to the table"),
            );
        }
    };
    if let Some(t) = &raw.title {
        check_text(diags, "title", t);
    }
    if raw.fields.is_empty() {
        err(
            diags,
            raw.id.span().start,
            "a form needs at least one field".into(),
        );
    }
    let mut seen = BTreeMap::new();
    for f in &raw.fields {
        let name = f.name.get_ref();
        let at = f.name.span().start;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            || name.starts_with('_')
        {
            err(
                diags,
                at,
                format!(
                    "field name `{name}` should be lowercase letters, digits and `_`, not starting with `_`"
                ),
            );
        }
        if RESERVED.contains(&name.as_str()) {
            err(
                diags,
                at,
                format!("field name `{name}` is reserved by the endpoint"),
            );
        }
        if seen.insert(name.clone(), ()).is_some() {
            err(diags, at, format!("field `{name}` is defined twice"));
        }
        check_text(diags, &format!("label of `{name}`"), &f.label);
        if let Some(h) = &f.help {
            check_text(diags, &format!("help of `{name}`"), h);
        }
        if f.kind.has_options() && f.options.is_empty() {
            err(
                diags,
                at,
                format!("field `{name}` is a {} and needs `options`", f.kind.key()),
            );
        }
        if !f.kind.has_options() && !f.options.is_empty() {
            err(
                diags,
                at,
                format!(
                    "field `{name}` is a {} and takes no `options`",
                    f.kind.key()
                ),
            );
        }
        for o in &f.options {
            check_text(
                diags,
                &format!("option `{}` of `{name}`", o.value.get_ref()),
                &o.label,
            );
        }
        if let Some(n) = &f.max_length
            && !(1..=MAX_FIELD_LENGTH).contains(n.get_ref())
        {
            err(
                diags,
                n.span().start,
                format!(
                    "field `{name}`: max_length should be between 1 and {MAX_FIELD_LENGTH}, found {}",
                    n.get_ref()
                ),
            );
        }
    }
    if diags.0.len() > before {
        return None;
    }
    Some(FormDef {
        id: id.clone(),
        right: *raw.right.get_ref(),
        route: *raw.route.get_ref(),
        max_age_days: raw.max_age_days.unwrap_or(DEFAULT_MAX_AGE_DAYS),
        title: raw.title.map(|t| t.into_inner()),
        fields: raw.fields,
        origin: file.path.to_path_buf(),
    })
}

/// The built-in forms overlaid with the site's `forms/*.toml`: a site file
/// with the id of a built-in form replaces it, any other adds a form.
pub fn load(site_dir: &Path, languages: &[Lang], diags: &mut Diagnostics) -> Vec<FormDef> {
    let mut forms = builtin(languages, diags);
    let dir = site_dir.join("forms");
    let confine = crate::vocab::confine::Confinement::new(site_dir);
    if dir.is_dir() && confine.root_ok(&dir, diags) {
        let entries = walkdir::WalkDir::new(&dir)
            .min_depth(1)
            .max_depth(1)
            .sort_by_file_name();
        for entry in entries.into_iter().filter_map(Result::ok) {
            let path = entry.path().to_path_buf();
            if path.extension().and_then(|e| e.to_str()) != Some("toml")
                || confine.kind(&entry, diags) != crate::vocab::confine::Kind::File
            {
                continue;
            }
            let shown = path.strip_prefix(site_dir).unwrap_or(&path).to_path_buf();
            match crate::diagnostics::read_utf8(&path, &shown) {
                Ok(text) => {
                    let file = SourceFile {
                        path: &shown,
                        text: &text,
                    };
                    if let Some(f) = parse(file, languages, diags) {
                        forms.insert(f.id.clone(), f);
                    }
                }
                Err(d) => diags.push(d),
            }
        }
    }
    forms.into_values().collect()
}

/// The built-in forms for `languages`, parsed once per process for each
/// set of languages (a portfolio build loads them for every portal).
fn builtin(languages: &[Lang], diags: &mut Diagnostics) -> BTreeMap<String, FormDef> {
    type Parsed = (Vec<Lang>, BTreeMap<String, FormDef>, Diagnostics);
    static CACHE: std::sync::Mutex<Vec<Parsed>> = std::sync::Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, forms, problems)) = cache.iter().find(|(l, _, _)| l == languages) {
        diags.extend(problems.clone());
        return forms.clone();
    }
    let mut forms: BTreeMap<String, FormDef> = BTreeMap::new();
    let mut problems = Diagnostics::default();
    for (rel, bytes) in crate::theme::embedded_forms() {
        if !rel.ends_with(".toml") {
            continue;
        }
        let shown = PathBuf::from(format!("<built-in forms>/{rel}"));
        let text = String::from_utf8_lossy(bytes);
        let file = SourceFile {
            path: &shown,
            text: &text,
        };
        if let Some(f) = parse(file, languages, &mut problems) {
            forms.insert(f.id.clone(), f);
        }
    }
    // A process sees a handful of language lists; the bound only guards
    // against an unusual caller.
    if cache.len() >= 64 {
        cache.remove(0);
    }
    cache.push((languages.to_vec(), forms.clone(), problems.clone()));
    diags.extend(problems);
    forms
}

/// The form a rights page shows: the one whose id is the right's slug, else
/// the first form serving that right.
pub fn for_right(forms: &[FormDef], right: Right) -> Option<&FormDef> {
    forms
        .iter()
        .find(|f| f.id == right.slug() && f.right == right)
        .or_else(|| forms.iter().find(|f| f.right == right))
}
