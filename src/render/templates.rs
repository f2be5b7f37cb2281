//! The tera engine loaded with a site's theme, and tera's errors turned into
//! one-line diagnostics that point at the template file, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use crate::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::theme::{Template, Theme};
use crate::vocab::lang::Lang;

/// The compiled templates of `theme`, shared: the built-in theme's are
/// compiled once per process and used by every portal that does not
/// override a template; another theme's are kept for as long as its
/// templates stay the same (so `serve` recompiles only after a template
/// edit). A theme that fails to compile is compiled again by every call, to
/// report its problems.
pub fn shared(theme: &Theme) -> Result<Arc<tera::Tera>, Diagnostics> {
    static BUILTIN: OnceLock<Arc<tera::Tera>> = OnceLock::new();
    /// Themes of their own, most recently used first.
    type Compiled = (Arc<BTreeMap<String, Template>>, Arc<tera::Tera>);
    static OTHERS: Mutex<Vec<Compiled>> = Mutex::new(Vec::new());
    const KEEP: usize = 8;

    if theme.builtin_templates() {
        if let Some(tera) = BUILTIN.get() {
            return Ok(Arc::clone(tera));
        }
        let tera = Arc::new(compile(theme)?);
        return Ok(Arc::clone(BUILTIN.get_or_init(|| tera)));
    }
    let same = |(templates, _): &Compiled| {
        Arc::ptr_eq(templates, &theme.templates)
            || (templates.len() == theme.templates.len()
                && templates
                    .iter()
                    .zip(theme.templates.iter())
                    .all(|((a, x), (b, y))| a == b && x.source == y.source))
    };
    {
        let mut others = OTHERS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = others.iter().position(same) {
            let hit = others.remove(i);
            let tera = Arc::clone(&hit.1);
            others.insert(0, hit);
            return Ok(tera);
        }
    }
    let tera = Arc::new(compile(theme)?);
    let mut others = OTHERS.lock().unwrap_or_else(|e| e.into_inner());
    others.insert(0, (Arc::clone(&theme.templates), Arc::clone(&tera)));
    others.truncate(KEEP);
    Ok(tera)
}

/// The theme's strings of each language as tera values (the `t` of every
/// page), made once per set of strings: portals with the built-in theme
/// share one set, and converting and dropping it per portal cost more
/// than some pages.
pub fn strings_values(theme: &Theme) -> Arc<BTreeMap<Lang, tera::Value>> {
    type Converted = (
        Arc<BTreeMap<Lang, toml::Table>>,
        Arc<BTreeMap<Lang, tera::Value>>,
    );
    /// Most recently used first; holding the source keeps its address from
    /// being reused by another set.
    static CONVERTED: Mutex<Vec<Converted>> = Mutex::new(Vec::new());
    const KEEP: usize = 8;

    let mut converted = CONVERTED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = converted
        .iter()
        .position(|(source, _)| Arc::ptr_eq(source, &theme.strings))
    {
        let hit = converted.remove(i);
        let values = Arc::clone(&hit.1);
        converted.insert(0, hit);
        return values;
    }
    let values: Arc<BTreeMap<Lang, tera::Value>> = Arc::new(
        theme
            .strings
            .iter()
            .map(|(&lang, table)| (lang, tera::Value::from_serializable(table)))
            .collect(),
    );
    converted.insert(0, (Arc::clone(&theme.strings), Arc::clone(&values)));
    converted.truncate(KEEP);
    values
}

/// Compiles every template of `theme`. On failure, every problem is
/// reported with its file, line and column: each template's syntax errors,
/// and then what the templates without syntax errors get wrong together
/// (unknown filters, functions, tests and templates, blocks outside their
/// parent, circular `extends` and `include`).
pub fn compile(theme: &Theme) -> Result<tera::Tera, Diagnostics> {
    let all = theme
        .templates
        .iter()
        .map(|(name, t)| (name.as_str(), t.source.as_str()));
    let mut tera = engine();
    let Err(first) = tera.add_raw_templates(all) else {
        return Ok(tera);
    };
    let mut diags = Diagnostics::default();
    let mut broken = BTreeSet::new();
    for (name, t) in theme.templates.iter() {
        let mut alone = engine();
        if let Err(e) = alone.add_raw_template(name, &t.source)
            && matches!(e.kind(), tera::ErrorKind::SyntaxError(_))
        {
            diags.push(to_diagnostic(theme, &e));
            broken.insert(name.as_str());
        }
    }
    // The others, together: a template that extends or includes a broken
    // one is not reported again for it.
    let sound = theme
        .templates
        .iter()
        .filter(|(name, _)| !broken.contains(name.as_str()))
        .map(|(name, t)| (name.as_str(), t.source.as_str()));
    let mut rest = engine();
    let second = if broken.is_empty() {
        Some(first)
    } else {
        rest.add_raw_templates(sound).err()
    };
    if let Some(e) = second {
        for d in diagnostics_of(theme, &e) {
            let about_broken = broken.iter().any(|b| d.message.contains(&format!("`{b}`")));
            if !about_broken {
                diags.push(d);
            }
        }
    }
    if diags.is_empty() {
        diags.push(Diagnostic::error(
            PathBuf::from("themes"),
            "the theme's templates cannot be loaded together, for a reason tera did not say",
        ));
    }
    Err(diags)
}

fn engine() -> tera::Tera {
    let mut tera = tera::Tera::new();
    super::budget::install(&mut tera);
    tera.set_escape_fn(escape_html);
    tera
}

/// tera's HTML escaping, writing each run of plain text at once instead of
/// one byte at a time. The same five characters are replaced as by tera's
/// own (`&`, `<`, `>`, `"` and `'`, so a value stays inside a
/// single-quoted attribute too), with the same entities: the output is
/// byte for byte tera's.
pub fn escape_html(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    /// The bytes to replace, for a one-load test per byte.
    const SPECIAL: [bool; 256] = {
        let mut t = [false; 256];
        t[b'&' as usize] = true;
        t[b'<' as usize] = true;
        t[b'>' as usize] = true;
        t[b'"' as usize] = true;
        t[b'\'' as usize] = true;
        t
    };
    let bytes = input.as_bytes();
    let mut plain = 0;
    for (i, b) in bytes.iter().enumerate() {
        if !SPECIAL[*b as usize] {
            continue;
        }
        let entity: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            _ => b"&#39;",
        };
        if plain < i {
            out.write_all(&bytes[plain..i])?;
        }
        out.write_all(entity)?;
        plain = i + 1;
    }
    if plain < bytes.len() {
        out.write_all(&bytes[plain..])?;
    }
    Ok(())
}

/// Turns a tera error into a diagnostic pointing at the template file.
pub fn to_diagnostic(theme: &Theme, e: &tera::Error) -> Diagnostic {
    diagnostics_of(theme, e)
        .into_iter()
        .next()
        .expect("at least one diagnostic per error")
}

/// Every problem in one tera error: a failed `add_raw_templates` reports all
/// unknown references of all templates in one message.
fn diagnostics_of(theme: &Theme, e: &tera::Error) -> Vec<Diagnostic> {
    use tera::ErrorKind as K;
    let at = |name: &str, needle: Option<&str>| -> Diagnostic {
        let d = Diagnostic::error(template_path(theme, name), String::new());
        match needle.and_then(|n| quoted_offset(theme, name, n)) {
            Some(p) => d.at(p),
            None => d,
        }
    };
    let one = |mut d: Diagnostic, message: String| {
        d.message = message;
        vec![d]
    };
    match e.kind() {
        K::SyntaxError(report) | K::RenderingError(report) => {
            let span = report.span();
            let d = Diagnostic::error(
                template_path(theme, report.filename()),
                one_line(report.message()),
            )
            .at(Position {
                line: span.start_line,
                column: span.start_col + 1,
            });
            if report.message() == super::budget::EXCEEDED {
                return vec![over_budget_here(d)];
            }
            vec![d]
        }
        K::CircularExtend {
            tpl,
            inheritance_chain,
        } => {
            let next = inheritance_chain.first().map(String::as_str);
            let chain = std::iter::once(tpl.as_str())
                .chain(inheritance_chain.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" → ");
            one(at(tpl, next), format!("circular `extends`: {chain}"))
        }
        K::CircularInclude { tpl, include_chain } => {
            // The chain runs from the template checked to the repeated one;
            // point at the include that closes the circle.
            let n = include_chain.len();
            let (from, to) = if n >= 2 {
                (include_chain[n - 2].as_str(), include_chain[n - 1].as_str())
            } else {
                (tpl.as_str(), tpl.as_str())
            };
            one(
                at(from, Some(to)),
                format!("circular `include`: {}", include_chain.join(" → ")),
            )
        }
        K::MissingParent { current, parent } => one(
            at(current, Some(parent)),
            format!("extends `{parent}`, which is not a template of this theme"),
        ),
        K::TemplateNotFound(name) => vec![Diagnostic::error(
            template_path(theme, name),
            format!("template `{name}` not found"),
        )],
        K::Msg(message) => {
            let parsed = parse_reports(theme, message);
            if parsed.is_empty() {
                vec![Diagnostic::error(
                    PathBuf::from("themes"),
                    format!("template error: {}", one_line(message)),
                )]
            } else {
                parsed
            }
        }
        other => vec![Diagnostic::error(
            PathBuf::from("themes"),
            format!("template error: {}", one_line(&other.to_string())),
        )],
    }
}

/// The diagnostic of a page stopped at a `range()` call by its budget.
fn over_budget_here(mut d: Diagnostic) -> Diagnostic {
    d.message = "this loop ran past the page's render budget".into();
    d.with_fix(budget_fix())
}

/// A page's render error; one stopped by its budget says which page and
/// what the budget was.
pub fn render_error(theme: &Theme, e: &tera::Error, output: &str, budget_ms: u64) -> Diagnostic {
    let mut d = to_diagnostic(theme, e);
    if let tera::ErrorKind::RenderingError(report) = e.kind()
        && report.message() == super::budget::EXCEEDED
    {
        d.message = format!(
            "rendering `{output}` ran past the render budget of {budget_ms} ms in this loop"
        );
    }
    d
}

/// The diagnostic of a page whose render was stopped or abandoned without
/// a position (a loop that writes, or one that neither writes nor calls
/// `range()`): it names the page's template.
pub fn over_budget(theme: &Theme, template: &str, output: &str, budget_ms: u64) -> Diagnostic {
    Diagnostic::error(
        template_path(theme, template),
        format!(
            "rendering `{output}` took longer than the render budget of {budget_ms} ms: a loop in this template, or in one it extends or includes, runs too long"
        ),
    )
    .with_fix(budget_fix())
}

/// What to do about a page over its render budget.
pub fn budget_fix() -> String {
    "make the loop smaller; if the page really needs the time, raise `render_budget_ms` in [site] of portal.toml".into()
}

/// tera reports problems found across templates (unknown filters, functions,
/// tests, templates, blocks outside their parent) as one message of
/// rendered reports, each `error: <message>` then ` --> <name>:<line>:<col>`.
fn parse_reports(theme: &Theme, message: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut lines = message.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(what) = line.strip_prefix("error: ") else {
            continue;
        };
        let Some(locus) = lines
            .peek()
            .and_then(|l| l.trim_start().strip_prefix("--> "))
        else {
            continue;
        };
        let mut parts = locus.rsplitn(3, ':');
        let (Some(col), Some(line_no), Some(name)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (Ok(column), Ok(line)) = (col.parse(), line_no.parse()) else {
            continue;
        };
        out.push(
            Diagnostic::error(template_path(theme, name), lower_first(what))
                .at(Position { line, column }),
        );
    }
    out
}

/// tera's messages start with a capital; ours follow `error:` in lower case.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if chars.clone().next().is_some_and(|n| n.is_lowercase()) => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => s.to_string(),
    }
}

/// The first line of a message, without tera's source excerpt.
fn one_line(s: &str) -> String {
    let first = s.lines().next().unwrap_or_default().trim();
    lower_first(first.strip_prefix("error: ").unwrap_or(first))
}

/// Where template `name` names `target` in quotes, e.g. in
/// `{% extends "base.html" %}`.
fn quoted_offset(theme: &Theme, name: &str, target: &str) -> Option<Position> {
    let source = &theme.templates.get(name)?.source;
    ['"', '\'', '`'].iter().find_map(|q| {
        let offset = source.find(&format!("{q}{target}{q}"))?;
        Some(Position::of_offset(source, offset))
    })
}

fn template_path(theme: &Theme, name: &str) -> PathBuf {
    theme
        .templates
        .get(name)
        .map(|t| t.origin.display_path())
        .unwrap_or_else(|| PathBuf::from(format!("templates/{name}")))
}

#[cfg(test)]
mod tests {
    use super::escape_html;

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        escape_html(s, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The faster escaping writes exactly what tera's own does, for every
    /// special character, at the start, the end and side by side.
    #[test]
    fn escaping_equals_teras_own() {
        for s in [
            "",
            "plain text, é and 🙂",
            "<script>alert('x')</script>",
            "a & b \"quoted\" 'single' <tag> >",
            "&&''\"\"<<>>",
            "O'Brien",
            "trailing'",
        ] {
            let mut theirs = Vec::new();
            tera::escape_html(s, &mut theirs).unwrap();
            assert_eq!(escaped(s), String::from_utf8(theirs).unwrap(), "{s:?}");
        }
    }

    /// A value with `'` stays inside a single-quoted attribute: the
    /// rendered page, parsed, has the whole value in the attribute and no
    /// attribute the value tried to add.
    #[test]
    fn single_quote_in_a_single_quoted_attribute_stays_inside() {
        let mut tera = super::engine();
        tera.add_raw_template("t.html", "<a title='{{ v }}' href='/'>x</a>")
            .unwrap();
        let mut ctx = tera::Context::new();
        let value = "x' onmouseover='alert(1)";
        ctx.insert("v", value);
        let html = tera.render("t.html", &ctx).unwrap();
        let doc = scraper::Html::parse_fragment(&html);
        let a = doc
            .select(&scraper::Selector::parse("a").unwrap())
            .next()
            .unwrap();
        assert_eq!(a.value().attr("title"), Some(value));
        assert_eq!(a.value().attr("onmouseover"), None);
        assert_eq!(a.value().attrs().count(), 2);
    }
}
