//! What the endpoint answers: a redirect to the thank-you page, an error
//! page in the visitor's language, or JSON for sites that post with `fetch`.

use std::time::Duration;

use serde_json::json;

use super::registry::SiteEntry;
use super::validate::FieldError;
use crate::forms::FormView;
use crate::forms::strings::EndpointStrings;
use crate::forms::strings::Problem;
use crate::render::endpoint_pages::Body;
use crate::render::html::escape;
use crate::vocab::lang::Lang;
use crate::vocab::page_kind::Right;

/// Why a post was not accepted; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    #[error("not a form post")]
    UnsupportedMediaType,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The body did not arrive within `--io-timeout`.
    #[error("request timeout")]
    Timeout,
    /// Bad or unknown signature, key id, site or form. Deliberately one
    /// variant: the visitor (or attacker) learns nothing about which.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("form expired")]
    Expired,
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("rate limited")]
    TooMany(Duration),
    #[error("could not store the request: {0}")]
    Unavailable(String),
}

impl Rejection {
    pub fn status(&self) -> u16 {
        match self {
            Rejection::NotFound => 404,
            Rejection::MethodNotAllowed => 405,
            Rejection::TooLarge(_) => 413,
            Rejection::UnsupportedMediaType => 415,
            Rejection::BadRequest(_) => 400,
            Rejection::Timeout => 408,
            Rejection::Forbidden(_) => 403,
            Rejection::Expired => 410,
            Rejection::Invalid(_) => 422,
            Rejection::TooMany(_) => 429,
            Rejection::Unavailable(_) => 503,
        }
    }

    /// Why, for the log: the code and, where there is one, a detail,
    /// without spaces (`forbidden:bad-signature`, `invalid:email,name`).
    /// Field ids only, never what the visitor typed.
    pub fn reason(&self) -> String {
        let detail = match self {
            Rejection::Forbidden(d) | Rejection::BadRequest(d) => d.replace(' ', "-"),
            Rejection::Invalid(errors) => {
                // Names of fields the form does not have were chosen by the
                // client: counted, not logged.
                let unknown = |e: &&FieldError| matches!(e.problem, Problem::Unknown);
                let mut ids: Vec<String> = errors
                    .iter()
                    .filter(|e| !unknown(e))
                    .map(|e| e.field.clone())
                    .collect();
                match errors.iter().filter(unknown).count() {
                    0 => {}
                    n => ids.push(format!("{n}-unknown")),
                }
                ids.join(",")
            }
            _ => return self.code().to_string(),
        };
        format!("{}:{detail}", self.code())
    }

    fn code(&self) -> &'static str {
        match self {
            Rejection::NotFound => "not_found",
            Rejection::MethodNotAllowed => "method_not_allowed",
            Rejection::TooLarge(_) => "too_large",
            Rejection::UnsupportedMediaType => "unsupported_media_type",
            Rejection::BadRequest(_) => "bad_request",
            Rejection::Timeout => "timeout",
            Rejection::Forbidden(_) => "forbidden",
            Rejection::Expired => "expired",
            Rejection::Invalid(_) => "invalid",
            Rejection::TooMany(_) => "too_many_requests",
            Rejection::Unavailable(_) => "unavailable",
        }
    }
}

/// An answer, independent of the HTTP library.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

/// The visitor's request was stored: see the thank-you page. `due` is
/// `null` in JSON for a complaint or a consent withdrawal (no Art. 12(3)
/// month).
pub fn received(json: bool, thanks_url: &str, reference: &str, due: Option<&str>) -> Reply {
    if json {
        let body = json!({"status": "received", "reference": reference, "due": due, "location": thanks_url});
        return Reply {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.to_string().into_bytes(),
        };
    }
    Reply {
        status: 303,
        headers: vec![
            ("Location", thanks_url.to_string()),
            ("Content-Type", "text/plain; charset=utf-8".into()),
        ],
        body: format!("Received: {reference}\n").into_bytes(),
    }
}

/// A refusal as JSON, for sites that post with `fetch` (`Accept:
/// application/json`): the code, a message in `lang`, and the field problems.
pub fn rejected_json(r: &Rejection, lang: Lang) -> Reply {
    let s = EndpointStrings::get(lang);
    let mut headers = Vec::new();
    if let Rejection::TooMany(wait) = r {
        headers.push(("Retry-After", wait.as_secs().max(1).to_string()));
    }
    let summary = match r {
        Rejection::Forbidden(_) | Rejection::BadRequest(_) | Rejection::UnsupportedMediaType => {
            s.forbidden
        }
        Rejection::Expired => s.expired,
        Rejection::TooLarge(_) => s.too_large,
        Rejection::TooMany(_) => s.too_many,
        Rejection::Unavailable(_) | Rejection::Timeout => s.unavailable,
        Rejection::Invalid(_) => s.error_intro,
        Rejection::NotFound | Rejection::MethodNotAllowed => s.forbidden,
    };
    let errors: &[FieldError] = match r {
        Rejection::Invalid(e) => e,
        _ => &[],
    };
    headers.push(("Content-Type", "application/json".into()));
    let body = json!({"status": "error", "error": r.code(), "message": summary, "errors": errors});
    Reply {
        status: r.status(),
        headers,
        body: body.to_string().into_bytes(),
    }
}

/// Where a refusal page is shown and what it may offer.
pub struct PageContext<'a> {
    pub lang: Lang,
    /// The site the post names, if the registry knows it (even before its
    /// signature is checked: its pages are public).
    pub site: Option<&'a SiteEntry>,
    /// The form's page, when the visitor can use the form again.
    pub back: Option<String>,
}

/// The form to show again on a 422 page: the view (values and problems in
/// its fields) and the right it belongs to.
pub struct Refill {
    pub form: FormView,
    pub right: Right,
    /// Problems of fields the form does not have: `label message`.
    pub other: Vec<String>,
}

/// The `[endpoint_page]` keys of a refusal's title and text.
fn page_keys(r: &Rejection, site_known: bool) -> (&'static str, &'static str) {
    match r {
        Rejection::Expired => ("expired_title", "expired_body"),
        Rejection::TooLarge(_) => ("too_large_title", "too_large_body"),
        Rejection::UnsupportedMediaType => ("unsupported_title", "unsupported_body"),
        Rejection::TooMany(_) => ("too_many_title", "too_many_body"),
        Rejection::Unavailable(_) | Rejection::Timeout => ("unavailable_title", "unavailable_body"),
        Rejection::Invalid(_) => ("error_title", "error_lead"),
        _ if site_known => ("forbidden_title", "forbidden_body"),
        _ => ("neutral_title", "neutral_body"),
    }
}

/// The HTML page of a refusal, in the visitor's language: in the site's
/// theme when the site is known and its theme loads, else plain; the form
/// itself with what the visitor typed when `refill` is given (422).
pub fn refused_page(r: &Rejection, p: &PageContext<'_>, refill: Option<Refill>) -> Reply {
    let mut headers = Vec::new();
    if let Rejection::TooMany(wait) = r {
        headers.push(("Retry-After", wait.as_secs().max(1).to_string()));
    }
    headers.push(("Content-Type", "text/html; charset=utf-8".into()));
    headers.push(("Cache-Control", "no-store".into()));
    let (title_key, body_key) = page_keys(r, p.site.is_some());
    let minutes = match r {
        Rejection::TooMany(wait) => wait.as_secs().div_ceil(60).max(1),
        _ => 1,
    };
    if let Some((site, pages)) = p.site.and_then(|s| s.pages.as_ref().map(|pg| (s, &pg.0))) {
        let title = pages.string(p.lang, &format!("endpoint_page.{title_key}"));
        let body = match refill {
            Some(Refill { form, right, other }) => Body::Form {
                form: Box::new(form),
                right,
                other,
            },
            None => Body::Refused {
                title: &title,
                body: pages
                    .string(p.lang, &format!("endpoint_page.{body_key}"))
                    .replace("{minutes}", &minutes.to_string()),
                back: p.back.clone(),
                // The form works again later: say how to write meanwhile.
                other_ways: matches!(r, Rejection::Unavailable(_) | Rejection::Timeout),
            },
        };
        match pages.render(&site.base_url, p.lang, body) {
            Ok(html) => {
                return Reply {
                    status: r.status(),
                    headers,
                    body: html.into_bytes(),
                };
            }
            Err(e) => log::warn!(
                "site `{}`: cannot render its page ({e}); a plain page was sent",
                site.id
            ),
        }
    }
    let strings = crate::theme::builtin_strings(p.lang);
    let s = |key: &str| {
        crate::theme::lookup(strings, &format!("endpoint_page.{key}"))
            .unwrap_or_default()
            .replace("{minutes}", &minutes.to_string())
    };
    let errors: &[FieldError] = match r {
        Rejection::Invalid(e) => e,
        _ => &[],
    };
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\"><title>{title}</title></head>\n<body>\n<main>\n<h1>{title}</h1>\n<p>{body}</p>\n",
        lang = p.lang,
        title = escape(&s(title_key)),
        body = escape(&s(body_key)),
    );
    if !errors.is_empty() {
        html.push_str("<ul class=\"errors\">\n");
        for e in errors {
            html.push_str(&format!(
                "<li data-field=\"{}\"><strong>{}</strong> {}</li>\n",
                escape(&e.field),
                escape(&e.label),
                escape(&e.message)
            ));
        }
        html.push_str("</ul>\n");
    }
    if let Some(back) = &p.back {
        html.push_str(&format!(
            "<p><a class=\"back\" href=\"{}\">{}</a></p>\n",
            escape(back),
            escape(&s("back_to_form"))
        ));
    }
    if let Some(site) = p.site {
        html.push_str(&format!(
            "<p><a href=\"{}/{}/\">{}</a></p>\n",
            escape(&site.base_url),
            p.lang,
            escape(&s("home"))
        ));
    }
    html.push_str("</main>\n</body>\n</html>\n");
    Reply {
        status: r.status(),
        headers,
        body: html.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(field: &str, problem: Problem) -> FieldError {
        FieldError {
            field: field.into(),
            label: field.into(),
            problem,
            message: String::new(),
        }
    }

    #[test]
    fn log_reason_names_form_fields_but_not_client_chosen_ones() {
        let r = Rejection::Invalid(vec![
            error("email", Problem::NotAnEmail),
            error("Ann Peeters", Problem::Unknown),
            error("name", Problem::Missing),
            error("ann@example.test", Problem::Unknown),
        ]);
        assert_eq!(r.reason(), "invalid:email,name,2-unknown");
        assert_eq!(
            Rejection::Forbidden("bad signature").reason(),
            "forbidden:bad-signature"
        );
        assert_eq!(
            Rejection::Unavailable("/x/y".into()).reason(),
            "unavailable"
        );
    }
}
