//! Problems found in a site, collected rather than thrown.
//!
//! A build reports every problem it can find in one run: an agency fixing a
//! portal should not have to rebuild once per typo. Each problem names the
//! file, and where the source is known, the line and column.

pub mod code;

pub use code::Code;

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A place in a source file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The line and column (in characters) of byte `offset` in `source`.
    pub fn of_offset(source: &str, offset: usize) -> Position {
        let offset = offset.min(source.len());
        let before = &source[..floor_char_boundary(source, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Position { line, column }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The finding code, attached where the problem is found; `None` for
    /// build problems without a more specific code (`check` shows P000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Code>,
    pub file: PathBuf,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    pub message: String,
    /// What to do about it, when that is not obvious from the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Diagnostic {
    pub fn error(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: None,
            file: file.into(),
            position: None,
            message: message.into(),
            fix: None,
        }
    }

    pub fn warning(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, message)
        }
    }

    pub fn at(mut self, position: Position) -> Self {
        self.position = Some(position);
        self
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// Marks a finding with its stable code.
    pub fn with_code(mut self, code: Code) -> Self {
        self.code = Some(code);
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        // An environment variable (`$SOURCE_DATE_EPOCH`) or a command-line
        // option (`--base-url`) is named alone, even when the caller put the
        // site directory in front of it.
        match self.file.file_name().and_then(|n| n.to_str()) {
            Some(name) if name.starts_with('$') || name.starts_with("--") => write!(f, "{name}")?,
            _ => write!(f, "{}", self.file.display())?,
        }
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        write!(f, ": {severity}")?;
        if let Some(code) = self.code {
            write!(f, "[{code}]")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n  fix: {fix}")?;
        }
        Ok(())
    }
}

/// A source file's text, kept so that byte spans can become line and column.
#[derive(Clone, Copy)]
pub struct SourceFile<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl SourceFile<'_> {
    pub fn error_at(&self, offset: Option<usize>, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::error(self.path, message);
        match offset {
            Some(o) => d.at(Position::of_offset(self.text, o)),
            None => d,
        }
    }
}

/// Text from bytes, or an error naming the first byte that is not UTF-8,
/// with its line and column, so that the editor can find it.
pub fn decode_utf8(bytes: Vec<u8>, shown: &Path) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
        let byte = e.as_bytes()[offset];
        Diagnostic::error(
            shown,
            format!("not valid UTF-8: byte {offset} (0x{byte:02x}) starts no UTF-8 character"),
        )
        .at(Position::of_offset(valid, offset))
        .with_fix("save the file as UTF-8 (most editors offer this under \"Save with encoding\")")
    })
}

/// Reads a text file from `disk`; problems are reported against `shown`,
/// the path as the user knows it.
pub fn read_utf8(disk: &Path, shown: &Path) -> Result<String, Diagnostic> {
    let bytes =
        std::fs::read(disk).map_err(|e| Diagnostic::error(shown, format!("cannot read: {e}")))?;
    decode_utf8(bytes, shown)
}

/// All problems found in one site. The error type of loading and building.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn error_count(&self) -> usize {
        self.0
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorted by file and position, so reports are stable from run to run.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| {
            (&a.file, a.position, &a.message).cmp(&(&b.file, b.position, &b.message))
        });
        self.0.dedup();
        self
    }

    /// The diagnostics as text, with paths shown from the current directory
    /// rather than from the site directory `dir` they are relative to.
    pub fn prefixed(&self, dir: &Path) -> String {
        let mut shown = self.clone();
        for d in &mut shown.0 {
            if d.file.is_relative() && !d.file.starts_with("<built-in theme>") {
                d.file = dir.join(&d.file);
            }
        }
        for d in &mut shown.0 {
            if let Ok(rel) = d.file.strip_prefix("./") {
                d.file = rel.to_path_buf();
            }
        }
        shown.to_string()
    }

    /// `Ok(value)` when nothing is an error.
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.has_errors() {
            Err(self.sorted())
        } else {
            Ok(value)
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// A failure whose details were already printed (per-site diagnostics);
/// `main` only sets the exit code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// A command that refused to act (a wrong argument, an unsafe output
/// folder) before touching anything. `main` prints it and exits with 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Writes one line to stdout through its lock. Unlike `println!`, a closed
/// pipe (`portaal check | head`) comes back as an error, which `main` ends
/// quietly instead of panicking.
pub fn print_line(line: impl std::fmt::Display) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_names_its_byte_line_and_column() {
        let d = decode_utf8(b"a = 1\nb = \"\xe9\"\n".to_vec(), Path::new("x.toml")).unwrap_err();
        assert_eq!(
            d.to_string().lines().next().unwrap(),
            "x.toml:2:6: error: not valid UTF-8: byte 11 (0xe9) starts no UTF-8 character"
        );
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(Position::of_offset(src, 0), Position { line: 1, column: 1 });
        assert_eq!(Position::of_offset(src, 6), Position { line: 2, column: 1 });
        // `=` after the two-character key `bé` (3 bytes).
        assert_eq!(
            Position::of_offset(src, 10),
            Position { line: 2, column: 4 }
        );
    }
}
