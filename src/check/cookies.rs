//! Cookie checks: the cookie overview must declare every cookie the portal's
//! own pages could set, and every third party they load.
//!
//! The portal is static, so its cookies come from scripts and embeds in its
//! templates, static files and Markdown. Those are scanned as text: a
//! `document.cookie = "name=…"` or `localStorage.setItem("name", …)` with a
//! literal name, and URLs of known third parties in `src` attributes,
//! stylesheet links, scripts and CSS. A real browser audit finds more; this
//! finds the common omissions without one.

use std::path::PathBuf;

use super::Context;
use super::cookie_db::CookieDb;
use crate::diagnostics::{Code, Diagnostic, Diagnostics, Position, Severity};
use crate::site::Site;
use crate::site::config::Cookie;

/// A third party whose scripts or embeds agencies commonly add.
pub(crate) struct Provider {
    pub(crate) name: &'static str,
    /// Host suffixes, optionally with a path prefix (`google.com/maps`).
    hosts: &'static [&'static str],
    /// Names (or name prefixes) of the cookies it typically sets; empty when
    /// it sets none but still receives every visitor's IP address.
    cookies: &'static [&'static str],
}

impl Provider {
    /// Lower-case names a declaration may use for this provider: the full
    /// name and, for `Meta (Facebook)`, each part of four letters or more.
    pub(crate) fn names(&self) -> Vec<String> {
        let full = self.name.to_lowercase();
        let mut names: Vec<String> = full
            .split(['(', ')'])
            .map(str::trim)
            .filter(|part| part.len() >= 4 && *part != full)
            .map(str::to_string)
            .collect();
        names.push(full);
        names
    }
}

const PROVIDERS: &[Provider] = &[
    Provider {
        name: "Google Tag Manager",
        hosts: &["googletagmanager.com"],
        cookies: &["_ga", "_gid", "_gcl_au"],
    },
    Provider {
        name: "Google Analytics",
        hosts: &["google-analytics.com", "analytics.google.com"],
        cookies: &["_ga", "_gid", "_gat"],
    },
    Provider {
        name: "YouTube",
        hosts: &[
            "youtube.com",
            "youtube-nocookie.com",
            "youtu.be",
            "ytimg.com",
        ],
        cookies: &["VISITOR_INFO1_LIVE", "YSC", "PREF"],
    },
    Provider {
        name: "Vimeo",
        hosts: &["player.vimeo.com", "vimeo.com"],
        cookies: &["vuid"],
    },
    Provider {
        name: "Google Maps",
        hosts: &["maps.google.com", "google.com/maps", "maps.googleapis.com"],
        cookies: &["NID"],
    },
    Provider {
        name: "Google reCAPTCHA",
        hosts: &[
            "google.com/recaptcha",
            "gstatic.com/recaptcha",
            "recaptcha.net",
        ],
        cookies: &["_GRECAPTCHA"],
    },
    Provider {
        name: "Meta (Facebook)",
        hosts: &[
            "connect.facebook.net",
            "facebook.com/plugins",
            "facebook.com/tr",
        ],
        cookies: &["_fbp", "fr"],
    },
    Provider {
        name: "Instagram",
        hosts: &["instagram.com/embed", "instagram.com/p/"],
        cookies: &["ig_did", "mid"],
    },
    Provider {
        name: "X (Twitter)",
        hosts: &["platform.twitter.com", "platform.x.com"],
        cookies: &["guest_id", "personalization_id"],
    },
    Provider {
        name: "LinkedIn",
        hosts: &["snap.licdn.com", "platform.linkedin.com"],
        cookies: &["li_sugr", "bcookie", "lidc", "UserMatchHistory"],
    },
    Provider {
        name: "TikTok",
        hosts: &["analytics.tiktok.com", "tiktok.com/embed"],
        cookies: &["_ttp"],
    },
    Provider {
        name: "Hotjar",
        hosts: &["static.hotjar.com", "script.hotjar.com"],
        cookies: &["_hjSession", "_hjSessionUser"],
    },
    Provider {
        name: "Microsoft Clarity",
        hosts: &["clarity.ms"],
        cookies: &["_clck", "_clsk"],
    },
    Provider {
        name: "HubSpot",
        hosts: &["js.hs-scripts.com", "js.hsforms.net", "js.hs-analytics.net"],
        cookies: &["hubspotutk", "__hstc", "__hssc"],
    },
    Provider {
        name: "Matomo Cloud",
        hosts: &["matomo.cloud"],
        cookies: &["_pk_id", "_pk_ses"],
    },
    Provider {
        name: "Google Fonts",
        hosts: &["fonts.googleapis.com", "fonts.gstatic.com"],
        cookies: &[],
    },
    Provider {
        name: "Adobe Fonts",
        hosts: &["use.typekit.net"],
        cookies: &[],
    },
    Provider {
        name: "jsDelivr",
        hosts: &["cdn.jsdelivr.net"],
        cookies: &[],
    },
    Provider {
        name: "cdnjs (Cloudflare)",
        hosts: &["cdnjs.cloudflare.com"],
        cookies: &[],
    },
    Provider {
        name: "unpkg",
        hosts: &["unpkg.com"],
        cookies: &[],
    },
];

/// One text the portal publishes, with a way to place offsets in its file.
struct Source<'a> {
    file: PathBuf,
    text: &'a str,
    /// Scripts and stylesheets: every URL in them is loaded or used.
    is_code: bool,
    position: Box<dyn Fn(usize) -> Position + 'a>,
}

pub fn run(cx: &Context, db: Option<&CookieDb>, diags: &mut Diagnostics) {
    let cookies = &cx.site.config.cookies;
    for c in cookies {
        if provider_names(c).iter().any(|p| p.trim().is_empty()) {
            diags.push(
                cx.at(
                    Severity::Error,
                    Code::P030,
                    &c.at(),
                    format!("cookie `{}` has an empty provider", c.label()),
                )
                .with_fix("name who sets the cookie: the firm itself, or the third party"),
            );
        }
    }
    if let Some(db) = db {
        for c in cookies {
            if let Some(problem) = db.category_problem(c) {
                diags.push(
                    cx.at(Severity::Warning, Code::P034, &c.at(), problem)
                        .with_fix("check the cookie, and correct `category` if the database is right; consent is needed for all but strictly necessary cookies"),
                );
            }
        }
    }

    let statics = read_statics(cx.site);
    let sources = sources(cx.site, &statics);
    for s in &sources {
        for (offset, name, kind) in own_cookies(s.text) {
            if !declared(cookies, &name) {
                let mut fix = format!(
                    "add a [[cookies]] entry with `name = \"{name}\"`, its provider, category, duration and purpose"
                );
                if let Some(snippet) = db.and_then(|db| db.snippet(&name)) {
                    fix = format!("{fix}; the Open Cookie Database suggests:\n{snippet}");
                }
                diags.push(
                    Diagnostic::error(
                        &s.file,
                        format!("this page sets the {kind} `{name}`, which the cookie overview does not declare"),
                    )
                    .at((s.position)(offset))
                    .with_code(Code::P031)
                    .with_fix(fix),
                );
            }
        }
        let mut reported: Vec<&str> = Vec::new();
        for (offset, url) in embedded_urls(s.text, s.is_code) {
            let Some(p) = provider_of(&url) else { continue };
            if reported.contains(&p.name) {
                continue;
            }
            if p.cookies.is_empty() {
                let named = cx.site.config.recipients.iter().any(|r| {
                    r.all_names().iter().any(|n| {
                        let n = n.to_lowercase();
                        p.name
                            .split([' ', '(', ')'])
                            .filter(|w| w.len() > 3)
                            .any(|w| n.contains(&w.to_lowercase()))
                    })
                });
                if !named {
                    reported.push(p.name);
                    diags.push(
                        Diagnostic::warning(
                            &s.file,
                            format!(
                                "loads {url} from {}: every visitor's IP address goes to {}, which is not among the recipients",
                                p.name, p.name
                            ),
                        )
                        .at((s.position)(offset))
                        .with_code(Code::P033)
                        .with_fix(format!(
                            "host the file on the portal's own server, or declare {} in [[recipients]] (and [[transfers]] if outside the EEA)",
                            p.name
                        )),
                    );
                }
                continue;
            }
            let undeclared: Vec<&str> = p
                .cookies
                .iter()
                .copied()
                .filter(|n| !declared(cookies, n))
                .collect();
            let names = p.names();
            let provider_named = cookies.iter().any(|c| {
                provider_names(c).iter().any(|declared| {
                    let declared = declared.to_lowercase();
                    names.iter().any(|n| declared.contains(n.as_str()))
                })
            });
            if undeclared.len() == p.cookies.len() && !provider_named {
                reported.push(p.name);
                let mut fix = format!(
                    "declare its cookies in [[cookies]] (typically {}), with `provider = \"{}\"`, or remove the embed",
                    p.cookies
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    p.name
                );
                if let Some(db) = db {
                    let snippets: Vec<String> =
                        p.cookies.iter().filter_map(|n| db.snippet(n)).collect();
                    if !snippets.is_empty() {
                        fix = format!(
                            "{fix}; the Open Cookie Database suggests:\n{}",
                            snippets.join("\n")
                        );
                    }
                }
                diags.push(
                    Diagnostic::error(
                        &s.file,
                        format!(
                            "embeds {} ({url}), whose cookies the cookie overview does not declare",
                            p.name
                        ),
                    )
                    .at((s.position)(offset))
                    .with_code(Code::P032)
                    .with_fix(fix),
                );
            }
        }
    }
}

/// Every text the portal publishes: theme templates, the built-in forms,
/// the site's `static/` text files and its Markdown.
fn sources<'a>(site: &'a Site, statics: &'a [(PathBuf, String)]) -> Vec<Source<'a>> {
    let mut sources: Vec<Source> = Vec::new();
    for t in site.theme.templates.values() {
        let text = t.source.as_str();
        sources.push(Source {
            file: t.origin.display_path(),
            text,
            is_code: false,
            position: Box::new(move |o| Position::of_offset(text, o)),
        });
    }
    // The request forms are part of every portal's pages too.
    for (rel, bytes) in crate::theme::embedded_forms() {
        if let Ok(text) = std::str::from_utf8(bytes) {
            sources.push(Source {
                file: PathBuf::from(format!("<built-in forms>/{rel}")),
                text,
                is_code: rel.ends_with(".js") || rel.ends_with(".css"),
                position: Box::new(move |o| Position::of_offset(text, o)),
            });
        }
    }
    for (path, text) in statics {
        let is_code = path
            .extension()
            .is_some_and(|e| e == "js" || e == "mjs" || e == "css");
        sources.push(Source {
            file: path.clone(),
            text,
            is_code,
            position: Box::new(move |o| Position::of_offset(text, o)),
        });
    }
    for c in &site.content {
        sources.push(Source {
            file: c.path.clone(),
            text: &c.markdown,
            is_code: false,
            position: Box::new(move |o| c.position(o)),
        });
    }

    sources
}

/// `[statement] cookies = "none"` while the portal's own pages set a cookie
/// or storage key, or load a third party that sets cookies: a build error
/// naming both places, since the page would state something false.
pub(crate) fn contradicting_none(site: &Site, config_text: &str, diags: &mut Diagnostics) {
    let Some(none) = &site.config.statement.cookies else {
        return;
    };
    let at = Position::of_offset(config_text, none.span().start);
    let statics = read_statics(site);
    let declared_at = |what: String, file: &PathBuf, p: Position| {
        Diagnostic::error(
            crate::site::CONFIG_FILE,
            format!(
                "[statement] says `cookies = \"none\"`, but {what} at {}:{}:{}",
                file.display(),
                p.line,
                p.column
            ),
        )
        .at(at)
        .with_fix("remove `cookies = \"none\"` and declare the cookies in [[cookies]], or remove the script or embed")
    };
    for s in sources(site, &statics) {
        for (offset, name, kind) in own_cookies(s.text) {
            diags.push(declared_at(
                format!("this page sets the {kind} `{name}`"),
                &s.file,
                (s.position)(offset),
            ));
        }
        for (offset, url) in embedded_urls(s.text, s.is_code) {
            if let Some(p) = provider_of(&url).filter(|p| !p.cookies.is_empty()) {
                diags.push(declared_at(
                    format!("{} ({url}), which sets cookies, is embedded", p.name),
                    &s.file,
                    (s.position)(offset),
                ));
            }
        }
    }
}

/// The site's own `static/` text files and those of its theme folder
/// (`themes/<name>/static/`), relative to the site directory: both are
/// published with the portal.
fn read_statics(site: &Site) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let theme = site.config.site.theme.get_ref();
    for dir in [
        site.dir.join("static"),
        site.dir.join("themes").join(theme).join("static"),
    ] {
        read_static_dir(site, &dir, &mut out);
    }
    out
}

fn read_static_dir(site: &Site, dir: &std::path::Path, out: &mut Vec<(PathBuf, String)>) {
    if !dir.is_dir() {
        return;
    }
    for entry in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        let text_like = path.extension().is_some_and(|e| {
            ["html", "htm", "js", "mjs", "css", "svg"].contains(&e.to_string_lossy().as_ref())
        });
        if !entry.file_type().is_file() || !text_like {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(path) {
            let rel = path.strip_prefix(&site.dir).unwrap_or(path);
            out.push((rel.to_path_buf(), text));
        }
    }
}

/// A cookie's provider in each language it is written in.
fn provider_names(c: &Cookie) -> Vec<String> {
    match c.provider.get_ref() {
        crate::vocab::text::Text::Same(s) => vec![s.clone()],
        crate::vocab::text::Text::PerLang(m) => m.values().cloned().collect(),
    }
}

/// Whether the overview declares a cookie called `name`.
fn declared(cookies: &[Cookie], name: &str) -> bool {
    declaration(cookies, name).is_some()
}

/// The `[[cookies]]` entry for a cookie called `name`: the exact name, or
/// a prefix entry (`prefix = true`) it starts with. Entries without a name
/// (a category described as a whole) match no cookie.
pub(crate) fn declaration<'a>(cookies: &'a [Cookie], name: &str) -> Option<&'a Cookie> {
    let named = |c: &&'a Cookie| c.name.as_ref().map(|n| n.get_ref().as_str());
    cookies.iter().find(|c| named(c) == Some(name)).or_else(|| {
        cookies
            .iter()
            .find(|c| c.prefix && named(c).is_some_and(|d| name.starts_with(d)))
    })
}

/// Cookies and storage keys that `text` sets with a literal name: offsets,
/// names and what they are ("cookie", "localStorage key", …).
fn own_cookies(text: &str) -> Vec<(usize, String, &'static str)> {
    let mut out = Vec::new();
    for (start, _) in text.match_indices("document.cookie") {
        let rest = text[start + "document.cookie".len()..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        if rest.starts_with('=') {
            continue; // a comparison
        }
        if let Some(name) = literal(rest.trim_start(), '=') {
            out.push((start, name, "cookie"));
        }
    }
    for (api, kind) in [
        ("localStorage.setItem(", "localStorage key"),
        ("sessionStorage.setItem(", "sessionStorage key"),
    ] {
        for (start, _) in text.match_indices(api) {
            if let Some(name) = literal(text[start + api.len()..].trim_start(), '\0') {
                out.push((start, name, kind));
            }
        }
    }
    out
}

/// The start of a quoted string literal, up to its closing quote or `stop`.
/// `None` when the name is computed (template syntax, concatenation).
fn literal(s: &str, stop: char) -> Option<String> {
    let quote = s.chars().next().filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let body = &s[1..];
    let end = body.find([quote, stop])?;
    let name = body[..end].trim();
    let computed = name.is_empty() || name.contains(['{', '$', '+', ' ', '<']);
    (!computed).then(|| name.to_string())
}

/// URLs that `text` loads rather than merely links to: in `src` attributes,
/// `<link>` tags, inside `<script>` elements and CSS `url()`/`@import`; in
/// script and style files, every URL.
fn embedded_urls(text: &str, is_code: bool) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices("//") {
        let before = &text[..i];
        let start = if before.ends_with("https:") {
            i - 6
        } else if before.ends_with("http:") {
            i - 5
        } else if i > 0 && matches!(bytes[i - 1], b'"' | b'\'' | b'(' | b'=') {
            i // protocol-relative: `//cdn.example/x.js`
        } else {
            continue;
        };
        let end = text[i + 2..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ')' | '<' | '>' | '`'))
            .map_or(text.len(), |e| i + 2 + e);
        if end == i + 2 {
            continue;
        }
        let url = &text[start..end];
        if is_code || loads(text, start) {
            out.push((start, url.to_string()));
        }
    }
    out
}

/// Whether a URL at `at` in HTML or Markdown is loaded by the browser.
fn loads(text: &str, at: usize) -> bool {
    let before = &text[..at];
    let open = before.rfind('<');
    let close = before.rfind('>');
    if let Some(o) = open.filter(|o| close.is_none_or(|c| c < *o)) {
        // Inside a tag: which one, and which attribute?
        let tag: String = before[o + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let attr_src = before[o..].trim_end_matches(['"', '\'']).ends_with("src=")
            || before[o..]
                .trim_end_matches(['"', '\''])
                .ends_with("data-src=");
        return attr_src || (tag == "link" && before[o..].contains("href"));
    }
    let lower = before.to_ascii_lowercase();
    let in_script = lower
        .rfind("<script")
        .is_some_and(|s| lower.rfind("</script").is_none_or(|e| e < s));
    let in_style = lower
        .rfind("<style")
        .is_some_and(|s| lower.rfind("</style").is_none_or(|e| e < s));
    in_script || (in_style && (lower.ends_with("url(") || lower.trim_end().ends_with("@import")))
}

pub(crate) fn provider_of(url: &str) -> Option<&'static Provider> {
    let rest = url.split_once("//")?.1;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let host = host.split(':').next().unwrap_or_default();
    PROVIDERS.iter().find(|p| {
        p.hosts.iter().any(|h| {
            let (h_host, h_path) = h.split_once('/').unwrap_or((h, ""));
            let host_ok = host == h_host || host.ends_with(&format!(".{h_host}"));
            host_ok && path.starts_with(h_path)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_literal_cookie_names() {
        let js = r#"document.cookie = "theme=dark; path=/"; if (document.cookie == "x") {}
            localStorage.setItem('seen', 1); document.cookie = name + "=1";"#;
        let found: Vec<String> = own_cookies(js).into_iter().map(|(_, n, _)| n).collect();
        assert_eq!(found, ["theme", "seen"]);
    }

    #[test]
    fn embeds_but_not_links() {
        let html = r#"<a href="https://www.youtube.com/watch?v=1">video</a>
<iframe src="https://www.youtube-nocookie.com/embed/1"></iframe>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">
<script>gtag('js'); load("https://www.googletagmanager.com/gtag/js?id=G-1")</script>
[text](https://maps.google.com/x)"#;
        let urls: Vec<String> = embedded_urls(html, false)
            .into_iter()
            .map(|(_, u)| u)
            .collect();
        assert_eq!(
            urls,
            [
                "https://www.youtube-nocookie.com/embed/1",
                "https://fonts.googleapis.com/css2?family=Inter",
                "https://www.googletagmanager.com/gtag/js?id=G-1",
            ]
        );
        assert_eq!(provider_of(&urls[0]).unwrap().name, "YouTube");
        assert_eq!(provider_of(&urls[1]).unwrap().name, "Google Fonts");
        assert_eq!(
            provider_of("https://www.google.com/maps/embed?pb=1")
                .unwrap()
                .name,
            "Google Maps"
        );
        assert!(provider_of("https://www.google.com/search").is_none());
        assert!(provider_of("https://notyoutube.com/x").is_none());
    }

    #[test]
    fn providers_are_known_by_their_distinct_names() {
        let meta = PROVIDERS
            .iter()
            .find(|p| p.name == "Meta (Facebook)")
            .unwrap();
        assert_eq!(meta.names(), ["meta", "facebook", "meta (facebook)"]);
        let x = PROVIDERS.iter().find(|p| p.name == "X (Twitter)").unwrap();
        assert_eq!(x.names(), ["twitter", "x (twitter)"]);
    }
}
