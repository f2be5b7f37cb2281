//! Reading TOML files so that one run reports all of their problems.
//!
//! serde stops at the first error it meets. To report more, a document is
//! parsed into a table of spanned values first, and each section (and each
//! entry of an array of tables) is then deserialized on its own: a typo in
//! `[controller]` does not hide a wrong legal basis in the third purpose.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diagnostics::{Code, Diagnostic, Diagnostics, SourceFile};

/// A parsed TOML document whose sections are taken out one by one.
pub struct Document<'a> {
    file: SourceFile<'a>,
    /// Added to every span: the document may start inside a larger file
    /// (front matter starts after the opening `+++`).
    base: usize,
    table: DeTable<'a>,
    /// The span of the whole document, for "missing section" errors.
    span: Range<usize>,
    /// The keys taken out of sections and entries to report every problem.
    repaired: Vec<Repair>,
    /// Keys whose absence is a finding with its own code (see [`Self::require`]).
    required: &'static [Required],
}

/// A key a section (or each entry of an array) must have, and the finding
/// code of its absence: `("purposes", "legal_basis", Code::P003)`.
pub type Required = (&'static str, &'static str, Code);

/// A key that was taken out of a section or an array entry because its
/// value was wrong (and reported). Later checks that a key is *absent* ask
/// about it first, so that one mistake is not reported twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// The section or array key and the path inside it, e.g.
    /// `purposes.retention.period`.
    pub key: String,
    /// The span of the section or entry it was taken out of.
    pub within: Range<usize>,
}

impl<'a> Document<'a> {
    /// Parses `text`, which starts at byte `base` of `file`. Syntax errors are
    /// pushed to `diags`; what could be recovered is still returned.
    pub fn parse(
        file: SourceFile<'a>,
        text: &'a str,
        base: usize,
        diags: &mut Diagnostics,
    ) -> Self {
        let (table, errors) = DeTable::parse_recoverable(text);
        let failed = !errors.is_empty();
        for e in errors {
            diags.push(file.error_at(e.span().map(|s| s.start + base), clean_message(&e)));
        }
        let span = table.span();
        // After a syntax error the recovered table may be incomplete; sections
        // missing because of it would only repeat the same problem.
        let table = if failed {
            DeTable::default()
        } else {
            table.into_inner()
        };
        Document {
            file,
            base,
            table,
            span,
            repaired: Vec::new(),
            required: &[],
        }
    }

    /// Reports the absence of these keys under their codes, before serde
    /// would report it as a bare build problem.
    pub fn require(mut self, required: &'static [Required]) -> Self {
        self.required = required;
        self
    }

    /// True when parsing failed and the document holds nothing.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn error(&self, offset: Option<usize>, message: impl Into<String>) -> Diagnostic {
        self.file.error_at(offset.map(|o| o + self.base), message)
    }

    /// Takes the section `key`, deserialized as `T`. A missing section is an
    /// error when `required`; otherwise `None` is returned quietly.
    pub fn section<T: DeserializeOwned>(
        &mut self,
        key: &str,
        required: bool,
        diags: &mut Diagnostics,
    ) -> Option<T> {
        match self.table.remove(key) {
            Some(value) => self.deserialize_in(key, value, diags),
            None => {
                if required {
                    diags.push(
                        self.error(Some(self.span.start), format!("missing `{key}`"))
                            .with_fix(format!("add a `[{key}]` section")),
                    );
                }
                None
            }
        }
    }

    /// Takes the array of tables `key` (e.g. `[[purposes]]`), each entry
    /// deserialized on its own so that every bad entry is reported.
    pub fn array<T: DeserializeOwned>(&mut self, key: &str, diags: &mut Diagnostics) -> Vec<T> {
        let Some(value) = self.table.remove(key) else {
            return Vec::new();
        };
        let span = value.span();
        match value.into_inner() {
            DeValue::Array(items) => items
                .into_iter()
                .filter_map(|item| self.deserialize_in(key, item, diags))
                .collect(),
            other => {
                diags.push(self.error(
                    Some(span.start),
                    format!(
                        "`{key}` should be an array of tables (`[[{key}]]`), found {}",
                        other.type_str()
                    ),
                ));
                Vec::new()
            }
        }
    }

    /// Reports every key not taken yet, listing the keys that are valid.
    pub fn reject_unknown(self, valid: &[&str], diags: &mut Diagnostics) {
        for (key, _) in self.table.iter() {
            diags.push(self.error(
                Some(key.span().start),
                format!(
                    "unknown key `{}`, expected one of: {}",
                    key.get_ref(),
                    valid.join(", ")
                ),
            ));
        }
    }

    /// Deserializes the whole remaining document as `T`.
    pub fn into_value<T: DeserializeOwned>(self, diags: &mut Diagnostics) -> Option<T> {
        let value = Spanned::new(self.span.clone(), DeValue::Table(self.table.clone()));
        self.deserialize(value, diags)
    }

    /// The keys taken out so far, to report every problem once.
    pub fn repaired(&self) -> &[Repair] {
        &self.repaired
    }

    /// [`Self::deserialize`], remembering what was taken out of `key`.
    fn deserialize_in<T: DeserializeOwned>(
        &mut self,
        key: &str,
        value: Spanned<DeValue<'a>>,
        diags: &mut Diagnostics,
    ) -> Option<T> {
        let within = extent(&value);
        let required = self.missing_required(key, &value);
        let quiet: Vec<&str> = required.iter().map(|(field, _)| *field).collect();
        let mut suggested = Vec::new();
        let at = Some(value.span().start);
        let result = self.deserialize_checked(value, &quiet, &mut suggested, diags);
        // A required key is missing in its own right, unless a misspelt key
        // was taken for it (`emial`): that mistake was reported.
        for (field, code) in required {
            if !suggested.iter().any(|s| s == field) {
                diags.push(
                    self.error(at, format!("missing key `{field}`"))
                        .with_code(code),
                );
            }
        }
        let (v, removed) = result?;
        self.repaired.extend(removed.into_iter().map(|path| Repair {
            key: format!("{key}.{path}"),
            within: within.clone(),
        }));
        Some(v)
    }

    /// Deserializes `value` as `T`, reporting every problem in it, not just
    /// serde's first: after each error the offending key (or array item) is
    /// taken out and the rest is tried again. A value that needed such a
    /// repair is still returned when the rest is valid, so that its other
    /// facts are checked too; `repaired` then names what was taken out.
    /// A "missing key" error for a key taken out is not reported: it was.
    fn deserialize<T: DeserializeOwned>(
        &self,
        value: Spanned<DeValue<'a>>,
        diags: &mut Diagnostics,
    ) -> Option<T> {
        self.deserialize_repaired(value, diags).map(|(v, _)| v)
    }

    /// Like [`Self::deserialize`], also returning the dotted paths of the
    /// keys that were taken out (empty when the value was valid as written).
    pub fn deserialize_repaired<T: DeserializeOwned>(
        &self,
        value: Spanned<DeValue<'a>>,
        diags: &mut Diagnostics,
    ) -> Option<(T, Vec<String>)> {
        self.deserialize_checked(value, &[], &mut Vec::new(), diags)
    }

    /// The required keys `value` of section `key` lacks, with their codes.
    fn missing_required(
        &self,
        key: &str,
        value: &Spanned<DeValue<'a>>,
    ) -> Vec<(&'static str, Code)> {
        let DeValue::Table(t) = value.get_ref() else {
            return Vec::new();
        };
        let missing = self
            .required
            .iter()
            .filter(|(section, field, _)| *section == key && t.get(*field).is_none());
        missing.map(|&(_, field, code)| (field, code)).collect()
    }

    /// [`Self::deserialize_repaired`], leaving the missing keys in `quiet`
    /// to the caller; `suggested` gets the keys a misspelt one was taken for.
    fn deserialize_checked<T: DeserializeOwned>(
        &self,
        mut value: Spanned<DeValue<'a>>,
        quiet: &[&str],
        suggested: &mut Vec<String>,
        diags: &mut Diagnostics,
    ) -> Option<(T, Vec<String>)> {
        let fallback = value.span().start;
        let mut removed: Vec<String> = Vec::new();
        // Each round takes one key or item out, so this ends; the bound is
        // a second guarantee.
        for _ in 0..=count_nodes(value.get_ref()) {
            let e = match T::deserialize(ValueDeserializer::from(value.clone())) {
                Ok(v) => return Some((v, removed)),
                Err(e) => e,
            };
            let message = clean_message(&e);
            // A key taken out, or one a misspelt key was taken for, is not
            // reported missing: its mistake was.
            let missing_removed = missing_key(&message).is_some_and(|k| {
                removed.iter().any(|r| r.rsplit('.').next() == Some(k))
                    || suggested.iter().any(|s| s == k)
                    || quiet.contains(&k)
            });
            let suggestion = did_you_mean(&message);
            let culprit = e
                .span()
                .and_then(|span| culprit_item::<T>(&value, &span, &message));
            if !missing_removed {
                // An error about a whole array points at its bad item.
                let item_start = culprit
                    .as_deref()
                    .and_then(|p| lookup_spanned(&value, p))
                    .map(|s| s.start);
                let at = item_start.or(e.span().map(|s| s.start)).unwrap_or(fallback);
                let d = self.error(Some(at), message.clone());
                diags.push(match &suggestion {
                    Some(s) => d.with_fix(format!("did you mean `{s}`?")),
                    None => d,
                });
            }
            suggested.extend(suggestion);
            let span = e.span()?;
            let path = match culprit {
                Some(path) => remove_path(value.get_mut(), &path).then_some(path),
                None => remove_at(value.get_mut(), &span),
            };
            match path {
                Some(path) => removed.push(path),
                None => return None,
            }
        }
        None
    }
}

/// The bytes a value covers. The span toml gives a `[[table]]` entry is its
/// header only; its keys and values come after it.
fn extent(v: &Spanned<DeValue<'_>>) -> Range<usize> {
    let mut r = v.span();
    if let DeValue::Table(t) = v.get_ref() {
        for (k, val) in t.iter() {
            r.start = r.start.min(k.span().start);
            r.end = r.end.max(val.span().end);
        }
    }
    r
}

/// How many keys and items a value holds, at every depth.
fn count_nodes(v: &DeValue<'_>) -> usize {
    match v {
        DeValue::Table(t) => t.iter().map(|(_, v)| 1 + count_nodes(v.get_ref())).sum(),
        DeValue::Array(a) => a.iter().map(|v| 1 + count_nodes(v.get_ref())).sum(),
        _ => 0,
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end && outer != &(0..0)
}

/// Takes out the innermost key or array item whose key or value holds
/// `at`, and returns its dotted path; `None` when nothing inside does (the
/// error is about the value as a whole, e.g. a missing key).
fn remove_at(v: &mut DeValue<'_>, at: &Range<usize>) -> Option<String> {
    match v {
        DeValue::Table(t) => {
            let key = t
                .iter()
                .find(|(k, val)| contains(&val.span(), at) || contains(&k.span(), at))
                .map(|(k, _)| k.clone())?;
            let child = t.get_mut(key.get_ref().as_ref())?;
            if contains(&child.span(), at)
                && child.span() != *at
                && let Some(inner) = remove_at(child.get_mut(), at)
            {
                return Some(format!("{}.{inner}", key.get_ref()));
            }
            t.remove(key.get_ref().as_ref());
            Some(key.get_ref().to_string())
        }
        DeValue::Array(a) => {
            let i = a.iter().position(|item| contains(&item.span(), at))?;
            let slice: &mut [Spanned<DeValue<'_>>] = a;
            if slice[i].span() != *at
                && let Some(inner) = remove_at(slice[i].get_mut(), at)
            {
                return Some(format!("{i}.{inner}"));
            }
            let items = std::mem::replace(a, toml::de::DeArray::new());
            *a = items
                .into_iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, item)| item)
                .collect();
            Some(i.to_string())
        }
        _ => None,
    }
}

/// Some errors inside an array point at the whole array (toml does not
/// give its items' spans to every error). When `at` is exactly an array,
/// find the item whose removal makes that error go away: `key.index`.
fn culprit_item<T: DeserializeOwned>(
    value: &Spanned<DeValue<'_>>,
    at: &Range<usize>,
    message: &str,
) -> Option<String> {
    let key = find_array(value.get_ref(), at)?;
    let len = match lookup(value.get_ref(), &key)? {
        DeValue::Array(a) => a.len(),
        _ => return None,
    };
    // Arrays in portal.toml are short; a long one is left to `remove_at`.
    if len > 64 {
        return None;
    }
    (0..len).find_map(|i| {
        let path = format!("{key}.{i}");
        let mut trial = value.clone();
        remove_path(trial.get_mut(), &path).then_some(())?;
        match T::deserialize(ValueDeserializer::from(trial)) {
            Ok(_) => Some(path),
            Err(e) if e.span() != Some(at.clone()) || clean_message(&e) != message => Some(path),
            Err(_) => None,
        }
    })
}

/// The dotted path of the array value whose span is exactly `at`.
fn find_array(v: &DeValue<'_>, at: &Range<usize>) -> Option<String> {
    let DeValue::Table(t) = v else { return None };
    t.iter().find_map(|(k, val)| {
        if val.span() == *at && matches!(val.get_ref(), DeValue::Array(_)) {
            return Some(k.get_ref().to_string());
        }
        if contains(&val.span(), at) {
            return find_array(val.get_ref(), at).map(|p| format!("{}.{p}", k.get_ref()));
        }
        None
    })
}

/// The span of the value at a dotted path.
fn lookup_spanned(v: &Spanned<DeValue<'_>>, path: &str) -> Option<Range<usize>> {
    path.split('.')
        .try_fold(v, |v, part| match v.get_ref() {
            DeValue::Table(t) => t.get(part),
            DeValue::Array(a) => a.get(part.parse::<usize>().ok()?),
            _ => None,
        })
        .map(|x| x.span())
}

fn lookup<'v, 'a>(v: &'v DeValue<'a>, path: &str) -> Option<&'v DeValue<'a>> {
    path.split('.').try_fold(v, |v, part| match v {
        DeValue::Table(t) => t.get(part).map(|x| x.get_ref()),
        DeValue::Array(a) => a.get(part.parse::<usize>().ok()?).map(|x| x.get_ref()),
        _ => None,
    })
}

/// Takes out the key or item at a dotted path; false when there is none.
fn remove_path(v: &mut DeValue<'_>, path: &str) -> bool {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, path),
    };
    let mut target = v;
    if let Some(parent) = parent {
        for part in parent.split('.') {
            target = match target {
                DeValue::Table(t) => match t.get_mut(part) {
                    Some(x) => x.get_mut(),
                    None => return false,
                },
                DeValue::Array(a) => {
                    let slice: &mut [Spanned<DeValue<'_>>] = a;
                    match part.parse::<usize>().ok().and_then(|i| slice.get_mut(i)) {
                        Some(x) => x.get_mut(),
                        None => return false,
                    }
                }
                _ => return false,
            };
        }
    }
    match target {
        DeValue::Table(t) => t.remove(last).is_some(),
        DeValue::Array(a) => {
            let Ok(i) = last.parse::<usize>() else {
                return false;
            };
            if i >= a.len() {
                return false;
            }
            let items = std::mem::replace(a, toml::de::DeArray::new());
            *a = items
                .into_iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, item)| item)
                .collect();
            true
        }
        _ => false,
    }
}

/// For "unknown key `x`, expected one of: a, b": the valid key closest to
/// `x`, when it is close enough to be a typo.
fn did_you_mean(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown key `")?;
    let (typed, rest) = rest.split_once('`')?;
    let valid = rest.split_once("expected one of: ")?.1;
    valid
        .split(", ")
        .map(|k| (strsim::damerau_levenshtein(typed, k), k))
        .filter(|(d, k)| *d <= 2 && *d < k.len())
        .min()
        .map(|(_, k)| k.to_string())
}

/// The key of a "missing key `k`" message.
fn missing_key(message: &str) -> Option<&str> {
    message.strip_prefix("missing key `")?.split('`').next()
}

/// toml's messages end with a newline and sometimes carry a rendered snippet;
/// we print our own position, so keep the first line only, in the user's
/// words rather than serde's.
fn clean_message(e: &toml::de::Error) -> String {
    let first = e.message().lines().next().unwrap_or_default().trim();
    in_users_words(first)
}

/// serde's messages name Rust's types and its own terms ("variant", "u32");
/// a portal's author reads TOML keys and values.
pub fn in_users_words(message: &str) -> String {
    let list = |expected: &str| -> String {
        let expected = expected.strip_prefix("one of ").unwrap_or(expected);
        expected.replace(" or ", ", ").replace('`', "")
    };
    for (serde, ours) in [
        ("unknown variant ", "unknown value "),
        ("unknown field ", "unknown key "),
    ] {
        if let Some(rest) = message.strip_prefix(serde) {
            if let Some((name, expected)) = rest.split_once(", expected ") {
                return format!("{ours}{name}, expected one of: {}", list(expected));
            }
            if let Some((name, _)) = rest.split_once(", there are no") {
                return format!("{ours}{name}: none is expected here");
            }
        }
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("missing key {rest}");
    }
    for (rust, ours) in [
        ("u8", "a whole number from 0 to 255"),
        ("u16", "a whole number from 0 to 65535"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u64", "a whole number, 0 or more"),
        ("usize", "a whole number, 0 or more"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("isize", "a whole number"),
    ] {
        if let Some(start) = message.strip_suffix(&format!("expected {rust}")) {
            return format!("{start}expected {ours}");
        }
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_in_the_users_words() {
        assert_eq!(
            in_users_words("unknown variant `contrakt`, expected one of `consent`, `contract`"),
            "unknown value `contrakt`, expected one of: consent, contract"
        );
        assert_eq!(
            in_users_words("unknown variant `x`, expected `first` or `third`"),
            "unknown value `x`, expected one of: first, third"
        );
        assert_eq!(
            in_users_words("unknown field `emial`, expected one of `email`, `phone`"),
            "unknown key `emial`, expected one of: email, phone"
        );
        assert_eq!(
            in_users_words("invalid value: integer `-3`, expected u32"),
            "invalid value: integer `-3`, expected a whole number from 0 to 4294967295"
        );
        assert_eq!(in_users_words("missing field `id`"), "missing key `id`");
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Two {
        a: u32,
        b: Option<u32>,
        c: Vec<u32>,
        d: Option<u32>,
    }

    #[test]
    fn every_bad_key_of_a_table_is_reported() {
        let text = "a = \"x\"\nb = -1\nc = [1, \"two\", 3]\nd = 4\ne = 5\n";
        let path = std::path::Path::new("t.toml");
        let file = SourceFile { path, text };
        let mut diags = Diagnostics::default();
        let doc = Document::parse(file, text, 0, &mut diags);
        let got: Option<Two> = doc.into_value(&mut diags);
        let shown: Vec<String> = diags.0.iter().map(|d| d.to_string()).collect();
        assert_eq!(shown.len(), 4, "{shown:#?}");
        // `a` is required: after it was taken out, the table cannot be built,
        // and its absence is not reported a second time.
        assert!(got.is_none());
        assert!(!shown.iter().any(|s| s.contains("missing")), "{shown:#?}");
    }

    /// A missing key the checklist requires carries its code whatever
    /// serde's wording, and every such key of an entry is reported once.
    #[test]
    fn missing_required_keys_carry_their_code() {
        let text = "[[t]]\nb = 1\nc = []\n";
        let file = SourceFile {
            path: std::path::Path::new("t.toml"),
            text,
        };
        let mut diags = Diagnostics::default();
        const REQUIRED: [Required; 2] = [("t", "a", Code::P003), ("t", "d", Code::P009)];
        let mut doc = Document::parse(file, text, 0, &mut diags).require(&REQUIRED);
        let got: Vec<Two> = doc.array("t", &mut diags);
        assert!(got.is_empty());
        let shown: Vec<String> = diags.0.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            shown,
            [
                "t.toml:1:1: error[P003]: missing key `a`",
                "t.toml:1:1: error[P009]: missing key `d`"
            ]
        );
    }
}
