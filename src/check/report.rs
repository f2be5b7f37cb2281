//! The two forms of a check report: text for people, JSON for CI.
//!
//! The JSON form is a documented interface (README.md, "JSON output"):
//! fields are only ever added, and `schema` changes if one is removed or
//! changes meaning.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::SiteReport;
use crate::diagnostics::{Code, Diagnostic, Severity};

/// The version of the JSON layout.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    pub schema: u32,
    pub errors: usize,
    pub warnings: usize,
    pub sites: Vec<JsonSite<'a>>,
}

#[derive(Debug, Serialize)]
pub struct JsonSite<'a> {
    /// The site directory as given on the command line.
    pub dir: String,
    pub id: Option<&'a str>,
    pub errors: usize,
    pub warnings: usize,
    pub findings: Vec<JsonFinding<'a>>,
}

#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    pub code: Code,
    pub severity: Severity,
    /// The code's one-line meaning, as in README.md.
    pub title: &'static str,
    /// Relative to the site directory, `/`-separated.
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: &'a str,
    pub fix: Option<&'a str>,
}

fn slash_path(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

pub fn json(reports: &[SiteReport]) -> String {
    let sites: Vec<JsonSite> = reports
        .iter()
        .map(|r| JsonSite {
            dir: slash_path(&r.dir),
            id: r.id.as_deref(),
            errors: r.count(Severity::Error),
            warnings: r.count(Severity::Warning),
            findings: r
                .findings
                .0
                .iter()
                .map(|d| JsonFinding {
                    code: d.code.unwrap_or(Code::P000),
                    severity: d.severity,
                    title: d.code.unwrap_or(Code::P000).summary(),
                    file: slash_path(&d.file),
                    line: d.position.map(|p| p.line),
                    column: d.position.map(|p| p.column),
                    message: &d.message,
                    fix: d.fix.as_deref(),
                })
                .collect(),
        })
        .collect();
    let report = JsonReport {
        schema: SCHEMA,
        errors: sites.iter().map(|s| s.errors).sum(),
        warnings: sites.iter().map(|s| s.warnings).sum(),
        sites,
    };
    serde_json::to_string_pretty(&report).expect("plain data serializes")
}

/// Grouped by site; each finding on one line with its place, severity and
/// code, and its fix indented below.
pub fn human(reports: &[SiteReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let name = match &r.id {
            Some(id) => format!("{} ({id})", r.dir.display()),
            None => r.dir.display().to_string(),
        };
        let (errors, warnings) = (r.count(Severity::Error), r.count(Severity::Warning));
        if r.findings.is_empty() {
            let _ = writeln!(out, "{name}: ok, no findings\n");
            continue;
        }
        let _ = writeln!(out, "{name}");
        for d in &r.findings.0 {
            line(&mut out, &r.dir, d);
        }
        let _ = writeln!(
            out,
            "  {} {}, {} {}\n",
            errors,
            plural(errors, "error"),
            warnings,
            plural(warnings, "warning")
        );
    }
    if reports.len() > 1 {
        let errors: usize = reports.iter().map(|r| r.count(Severity::Error)).sum();
        let warnings: usize = reports.iter().map(|r| r.count(Severity::Warning)).sum();
        let _ = writeln!(
            out,
            "{} sites checked: {errors} {}, {warnings} {}",
            reports.len(),
            plural(errors, "error"),
            plural(warnings, "warning")
        );
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

fn line(out: &mut String, dir: &Path, d: &Diagnostic) {
    let file: PathBuf =
        if d.file.is_relative() && !d.file.starts_with("<built-in theme>") && dir != Path::new(".")
        {
            dir.join(&d.file)
        } else {
            d.file.clone()
        };
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = write!(
        out,
        "  {severity}[{}] {}",
        d.code.unwrap_or(Code::P000),
        file.display()
    );
    if let Some(p) = d.position {
        let _ = write!(out, ":{}:{}", p.line, p.column);
    }
    let _ = writeln!(out, ": {}", d.message);
    if let Some(fix) = &d.fix {
        for (i, l) in fix.lines().enumerate() {
            let lead = if i == 0 { "fix: " } else { "     " };
            let _ = writeln!(out, "      {lead}{l}");
        }
    }
}
