//! One form post, independent of the HTTP library: checked, spooled, and
//! turned into an answer plus one log line.

use std::net::IpAddr;
use std::time::Instant;

use super::ratelimit::{Limiter, Rate};
use super::registry::{Registry, SiteEntry};
use super::response::{self, Rejection, Reply};
use super::spool::Committer;
use super::ticket::{self, Ticket};
use super::validate;
use crate::forms::definition::{FormDef, HONEYPOT};
use crate::forms::sign::{self, Claims};
use crate::site::lang::Lang;

/// A form accepted at most this far in the future (clock skew).
const MAX_SKEW_SECS: u64 = 300;

/// What the HTTP layer read of a post.
pub struct Incoming<'a> {
    pub client: IpAddr,
    pub content_type: &'a str,
    pub json: bool,
    pub body: &'a [u8],
    /// The request's path: the form shown again posts there, and the
    /// thank-you page is its sibling `thanks`.
    pub path: &'a str,
    pub accept_language: Option<&'a str>,
}

/// How a post ended, for the log: never anything the visitor typed.
#[derive(Debug, Default)]
pub struct Outcome {
    pub status: u16,
    /// `accepted`, `discarded` (honeypot) or `rejected`.
    pub verdict: &'static str,
    /// A site and form id, only once they are known ids of the registry.
    pub site: Option<String>,
    pub form: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
}

impl Outcome {
    pub fn rejected(r: &Rejection) -> Outcome {
        Outcome {
            status: r.status(),
            verdict: "rejected",
            reason: Some(r.reason()),
            ..Outcome::default()
        }
    }

    /// The log line, `post accepted status=303 site=acme form=access
    /// ticket=K7QM-3XDA reason=-`: space-separated `key=value` pairs
    /// whose values hold no spaces (README, "Logs").
    pub fn line(&self) -> String {
        let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        format!(
            "portaal endpoint: post {} status={} site={} form={} ticket={} reason={}",
            self.verdict,
            self.status,
            v(&self.site),
            v(&self.form),
            v(&self.ticket),
            v(&self.reason)
        )
    }
}

/// What the visitor's post said about itself before it was checked.
struct Context<'a> {
    /// The post's `_lang`, if it names a language at all.
    lang: Option<Lang>,
    /// The site the post names, known to the registry but not yet proven.
    named: Option<&'a SiteEntry>,
    /// Known ids from the registry (safe to log) even before the signature
    /// is checked.
    site_id: Option<&'a str>,
    form_id: Option<&'a str>,
    /// Set only once the signature proved the post came from our page.
    site: Option<&'a SiteEntry>,
    form: Option<&'a FormDef>,
}

/// Checks posts and stores them as tickets.
pub struct Handler {
    registry: Registry,
    committer: Committer,
    clients: Limiter<IpAddr>,
    sites: Limiter<String>,
}

/// An accepted post: how to answer it and what to log.
struct Accepted {
    thanks: String,
    reference: String,
    due: String,
    stored: bool,
    site: String,
    lang: Lang,
}

impl Handler {
    pub fn new(
        registry: Registry,
        committer: Committer,
        client_rate: Rate,
        site_rate: Rate,
    ) -> Handler {
        Handler {
            registry,
            committer,
            clients: Limiter::new(client_rate),
            sites: Limiter::new(site_rate),
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Takes a token for the client: done before any of the body is read,
    /// so a client over its rate costs nothing more than its head.
    pub fn admit(&self, client: IpAddr) -> Result<(), Rejection> {
        self.clients
            .take(&client, Instant::now())
            .map_err(Rejection::TooMany)
    }

    /// Checks a post whose body has been read, and stores it as a ticket;
    /// blocks until the ticket is durable.
    pub fn post(&self, rq: &Incoming<'_>) -> (Reply, Outcome) {
        let mut ctx = Context {
            lang: None,
            named: None,
            site_id: None,
            form_id: None,
            site: None,
            form: None,
        };
        let pairs: Vec<(String, String)> = form_urlencoded::parse(rq.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let result = self.accept(rq, &pairs, &mut ctx);
        let lang = visitor_lang(ctx.lang, ctx.named, rq.accept_language);
        let (mut reply, mut outcome) = match result {
            Ok(a) => {
                let reply = if rq.json {
                    response::received(true, &a.thanks, &a.reference, &a.due)
                } else {
                    let own = thanks_path(rq.path, &a.site, a.lang, &a.due, &a.reference);
                    response::received(false, &own, &a.reference, &a.due)
                };
                let outcome = Outcome {
                    status: reply.status,
                    verdict: if a.stored { "accepted" } else { "discarded" },
                    ticket: a.stored.then_some(a.reference),
                    reason: (!a.stored).then(|| "honeypot".to_string()),
                    ..Outcome::default()
                };
                (reply, outcome)
            }
            Err(r) => {
                if let Rejection::Unavailable(e) = &r {
                    eprintln!("portaal endpoint: ERROR could not spool a request: {e}");
                }
                // Back to the form only when it can be used again: not when
                // it is not one of ours (403), nor when it was refused before
                // its signature was checked.
                let back = match (ctx.site, ctx.form) {
                    (Some(s), Some(f)) => Some(s.form_url(lang, f.right)),
                    _ => None,
                };
                let reply = if rq.json {
                    response::rejected_json(&r, lang)
                } else {
                    let refill = match (&r, ctx.site, ctx.form) {
                        (Rejection::Invalid(errors), Some(site), Some(form)) => {
                            refill(site, form, lang, &pairs, errors, rq.path)
                        }
                        _ => None,
                    };
                    let page = response::PageContext {
                        lang,
                        site: ctx.named,
                        back,
                    };
                    response::refused_page(&r, &page, refill)
                };
                (reply, Outcome::rejected(&r))
            }
        };
        outcome.site = ctx.site_id.map(str::to_string);
        outcome.form = ctx.form_id.map(str::to_string);
        // Sites that post with fetch() read the JSON answer cross-origin:
        // allow exactly the portal's own origin, once the post proved it.
        if let (true, Some(site)) = (rq.json, ctx.site) {
            if let Ok(u) = url::Url::parse(&site.base_url) {
                reply.headers.push((
                    "Access-Control-Allow-Origin",
                    u.origin().ascii_serialization(),
                ));
            }
        }
        (reply, outcome)
    }

    fn accept<'a>(
        &'a self,
        rq: &Incoming<'_>,
        pairs: &[(String, String)],
        ctx: &mut Context<'a>,
    ) -> Result<Accepted, Rejection> {
        let now = Instant::now();
        if !rq
            .content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(Rejection::UnsupportedMediaType);
        }
        let get = |name: &str| {
            let mut it = pairs.iter().filter(|(k, _)| k == name);
            match (it.next(), it.next()) {
                (Some((_, v)), None) => Some(v.as_str()),
                _ => None,
            }
        };
        ctx.lang = get("_lang").and_then(|l| l.parse::<Lang>().ok());
        let site_id = get("_site").ok_or(Rejection::Forbidden("no site"))?;
        let site = self
            .registry
            .sites
            .get(site_id)
            .ok_or(Rejection::Forbidden("unknown site"))?;
        ctx.site_id = Some(&site.id);
        ctx.named = Some(site);
        let form_id = get("_form").ok_or(Rejection::Forbidden("no form"))?;
        let (form, schema) = site
            .forms
            .get(form_id)
            .ok_or(Rejection::Forbidden("unknown form"))?;
        ctx.form_id = Some(&form.id);
        let lang_code = get("_lang").ok_or(Rejection::Forbidden("no language"))?;
        let lang: Lang = lang_code
            .parse()
            .map_err(|_| Rejection::Forbidden("bad language"))?;
        if !site.languages.contains(&lang) {
            return Err(Rejection::Forbidden("language not of the site"));
        }
        let kid = get("_kid").ok_or(Rejection::Forbidden("no key id"))?;
        let issued: u64 = get("_ts")
            .and_then(|t| t.parse().ok())
            .ok_or(Rejection::Forbidden("bad issue time"))?;
        let sig = get("_sig").ok_or(Rejection::Forbidden("no signature"))?;
        let claims = Claims {
            site: site_id,
            form: form_id,
            lang: lang_code,
            kid,
            issued,
        };
        if !sign::verify(&site.keys, &claims, schema, sig) {
            return Err(Rejection::Forbidden("bad signature"));
        }
        // Only now is the post known to come from one of our pages.
        ctx.site = Some(site);
        ctx.form = Some(form);
        let received = ticket::now_secs();
        if issued > received + MAX_SKEW_SECS {
            return Err(Rejection::Forbidden("issued in the future"));
        }
        if received - issued.min(received) > u64::from(form.max_age_days) * 86_400 {
            return Err(Rejection::Expired);
        }
        self.sites.take(&site.id, now).map_err(Rejection::TooMany)?;
        let reference =
            ticket::new_reference().map_err(|e| Rejection::Unavailable(e.to_string()))?;
        let due = ticket::iso_date(ticket::due_date(received));
        let thanks = site.thanks_url(lang, &reference);
        if get(HONEYPOT).is_some_and(|v| !v.is_empty())
            || pairs.iter().filter(|(k, _)| k == HONEYPOT).count() > 1
        {
            // A bot: answer as if received, keep nothing.
            return Ok(Accepted {
                thanks,
                reference,
                due,
                stored: false,
                site: site.id.clone(),
                lang,
            });
        }
        let accepted = validate::check(form, lang, pairs).map_err(Rejection::Invalid)?;
        let to = site
            .route(form.route)
            .ok_or(Rejection::Unavailable(format!(
                "site {} has no [contacts] address for {:?}",
                site.id, form.route
            )))?;
        let t = Ticket {
            reference: reference.clone(),
            site: site.id.clone(),
            firm: site.firm.clone(),
            form: form.id.clone(),
            right: form.right.slug().to_string(),
            to: to.to_string(),
            language: lang.code().to_string(),
            received,
            due: due.clone(),
            fields: accepted.fields,
            reply_to: accepted.email,
            requester_name: accepted.name,
            acknowledge: site.acknowledge,
        };
        self.committer
            .commit(t)
            .map_err(|e| Rejection::Unavailable(e.to_string()))?;
        Ok(Accepted {
            thanks,
            reference,
            due,
            stored: true,
            site: site.id.clone(),
            lang,
        })
    }
}

/// The language of the visitor's page: the post's own, else the first of
/// `Accept-Language` the site has, else the site's default.
fn visitor_lang(posted: Option<Lang>, site: Option<&SiteEntry>, accept: Option<&str>) -> Lang {
    let offered: &[Lang] = site.map_or(&Lang::ALL, |s| s.languages.as_slice());
    posted
        .filter(|l| offered.contains(l))
        .or_else(|| accept.and_then(|a| super::thanks::negotiate(a, offered)))
        .or(site.map(|s| s.default_language))
        .unwrap_or(Lang::En)
}

/// The endpoint's own thank-you page for an accepted post, relative to the
/// post's path (`/submit` → `/thanks?…`), so it works behind a proxy that
/// serves the endpoint under a prefix. `ref` goes last: it is what people
/// copy from the address.
fn thanks_path(post_path: &str, site: &str, lang: Lang, due: &str, reference: &str) -> String {
    let dir = &post_path[..post_path.rfind('/').map_or(0, |i| i + 1)];
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("site", site)
        .append_pair("lang", lang.code())
        .append_pair("due", due)
        .append_pair("ref", reference)
        .finish();
    format!("{dir}thanks?{query}")
}

/// The form again, as the visitor sent it: their values, each refused
/// field's message next to it, and the post's own signature (it was just
/// verified, so the form stays valid as long as the first one was).
fn refill(
    site: &SiteEntry,
    form: &FormDef,
    lang: Lang,
    pairs: &[(String, String)],
    errors: &[validate::FieldError],
    action: &str,
) -> Option<response::Refill> {
    let signing = crate::forms::Signing {
        site_id: &site.id,
        keys: &site.keys,
        issued: 0,
    };
    let mut view = crate::forms::view(form, lang, action, &signing)?;
    let first = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    for h in &mut view.hidden {
        if let Some(v) = first(h.name) {
            h.value = v;
        }
    }
    for f in &mut view.fields {
        f.value = first(&f.name).filter(|v| !v.is_empty());
        if let Some(e) = errors.iter().find(|e| e.field == f.name) {
            f.error = Some(e.message.clone());
            let error_id = format!("{}-error", f.id);
            f.describedby = Some(match &f.help_id {
                Some(help) => format!("{error_id} {help}"),
                None => error_id,
            });
        }
    }
    let other = errors
        .iter()
        .filter(|e| !view.fields.iter().any(|f| f.name == e.field))
        .map(|e| format!("{} {}", e.label, e.message))
        .collect();
    Some(response::Refill {
        form: view,
        right: form.right,
        other,
    })
}
