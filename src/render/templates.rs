//! The tera engine loaded with a site's theme.

use std::path::PathBuf;

use crate::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::theme::Theme;

/// Compiles every template of `theme`. On failure, each template with a
/// syntax error is reported, with its file, line and column.
pub fn compile(theme: &Theme) -> Result<tera::Tera, Diagnostics> {
    let mut tera = tera::Tera::new();
    let all = theme
        .templates
        .iter()
        .map(|(name, t)| (name.as_str(), t.source.as_str()));
    match tera.add_raw_templates(all) {
        Ok(()) => Ok(tera),
        Err(first) => {
            let mut diags = Diagnostics::default();
            // Compile each template alone to find every syntax error, not
            // just the first; missing parents are reported by the whole set.
            for (name, t) in &theme.templates {
                let mut alone = tera::Tera::new();
                if let Err(e) = alone.add_raw_template(name, &t.source) {
                    if matches!(e.kind(), tera::ErrorKind::SyntaxError(_)) {
                        diags.push(to_diagnostic(theme, &e));
                    }
                }
            }
            if diags.is_empty() {
                diags.push(to_diagnostic(theme, &first));
            }
            Err(diags)
        }
    }
}

/// Turns a tera error into a diagnostic pointing at the template file.
pub fn to_diagnostic(theme: &Theme, e: &tera::Error) -> Diagnostic {
    match e.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            let span = report.span();
            Diagnostic::error(template_path(theme, report.filename()), report.message()).at(
                Position {
                    line: span.start_line,
                    column: span.start_col + 1,
                },
            )
        }
        other => Diagnostic::error(PathBuf::from("themes"), format!("template error: {other}")),
    }
}

fn template_path(theme: &Theme, name: &str) -> PathBuf {
    theme
        .templates
        .get(name)
        .map(|t| t.origin.display_path())
        .unwrap_or_else(|| PathBuf::from(format!("templates/{name}")))
}
