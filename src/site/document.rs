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

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};

/// A parsed TOML document whose sections are taken out one by one.
pub struct Document<'a> {
    file: SourceFile<'a>,
    /// Added to every span: the document may start inside a larger file
    /// (front matter starts after the opening `+++`).
    base: usize,
    table: DeTable<'a>,
    /// The span of the whole document, for "missing section" errors.
    span: Range<usize>,
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
        }
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
            Some(value) => self.deserialize(value, diags),
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
                .filter_map(|item| self.deserialize(item, diags))
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

    fn deserialize<T: DeserializeOwned>(
        &self,
        value: Spanned<DeValue<'a>>,
        diags: &mut Diagnostics,
    ) -> Option<T> {
        let fallback = value.span().start;
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(v) => Some(v),
            Err(e) => {
                let at = e.span().map_or(fallback, |s| s.start);
                diags.push(self.error(Some(at), clean_message(&e)));
                None
            }
        }
    }
}

/// toml's messages end with a newline and sometimes carry a rendered snippet;
/// we print our own position, so keep the first line only.
fn clean_message(e: &toml::de::Error) -> String {
    e.message()
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}
