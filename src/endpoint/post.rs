//! One form post, independent of the HTTP library: checked, spooled, and
//! turned into an answer plus one log line.

use std::net::IpAddr;
use std::time::Instant;

use super::ratelimit::{Limiter, Rate};
use super::registry::{Registry, SiteEntry};
use super::response::{self, Rejection, Reply};
use super::spool::Committer;
use super::ticket::{self, Handling, Ticket, TicketField, Wording};
use super::validate;
use crate::forms::definition::{FieldKind, FormDef, HONEYPOT};
use crate::forms::sign::{self, Claims};
use crate::forms::strings::MailStrings;
use crate::vocab::lang::Lang;

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

    /// The log message, `post accepted status=303 site=acme form=access
    /// ticket=K7QM-3XDA reason=-`: space-separated `key=value` pairs
    /// whose values hold no spaces (README, "Logs").
    pub fn line(&self) -> String {
        let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        format!(
            "post {} status={} site={} form={} ticket={} reason={}",
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
    /// None for a complaint or a consent withdrawal: no Art. 12(3) month.
    due: Option<String>,
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
                let due = a.due.as_deref();
                let reply = if rq.json {
                    response::received(true, &a.thanks, &a.reference, due)
                } else {
                    let own = thanks_path(rq.path, &a.site, a.lang, due, &a.reference);
                    response::received(false, &own, &a.reference, due)
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
                    log::error!("could not spool a request: {e}");
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
        if let (true, Some(site)) = (rq.json, ctx.site)
            && let Ok(u) = url::Url::parse(&site.base_url)
        {
            reply.headers.push((
                "Access-Control-Allow-Origin",
                u.origin().ascii_serialization(),
            ));
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
        let Some(site) = self.registry.sites.get(site_id) else {
            // A site of ours that did not load: logged by its id.
            ctx.site_id = self.registry.skipped.get(site_id).map(String::as_str);
            return Err(Rejection::Forbidden(match ctx.site_id {
                Some(_) => "site skipped at start",
                None => "unknown site",
            }));
        };
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
        let thanks = site.thanks_url(lang, &reference);
        // What a bot is told matches a person's answer for the same form.
        let due_of = |handling: Handling| {
            handling.has_deadline().then(|| {
                let tz = ticket::time_zone(&site.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
                ticket::deadlines(ticket::day_in(received, &tz))
            })
        };
        if get(HONEYPOT).is_some_and(|v| !v.is_empty())
            || pairs.iter().filter(|(k, _)| k == HONEYPOT).count() > 1
        {
            // A bot: answer as if received, keep nothing.
            return Ok(Accepted {
                thanks,
                reference,
                due: due_of(Handling::of(form.right.slug(), &[])).map(|d| ticket::iso_date(d.due)),
                stored: false,
                site: site.id.clone(),
                lang,
            });
        }
        let accepted = validate::check(form, lang, pairs).map_err(|mut errors| {
            // In the site's words, once the post is known to be the site's.
            for e in &mut errors {
                if let Some(text) = site.problem_text(lang, e.problem) {
                    e.message = text.to_string();
                }
            }
            Rejection::Invalid(errors)
        })?;
        let handling = Handling::of(form.right.slug(), &accepted.fields);
        let deadlines = due_of(handling);
        let due = deadlines.map(|d| ticket::iso_date(d.due));
        let firm_words = site.mail_words(site.ticket_language);
        let fields = in_language(form, accepted.fields, site.ticket_language, &firm_words);
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
            handling: Some(handling),
            due: due.clone(),
            extended: deadlines.map(|d| ticket::iso_date(d.extended)),
            time_zone: site.time_zone.clone(),
            ticket_language: Some(site.ticket_language.code().to_string()),
            wording: Some(Wording {
                ticket: firm_words,
                ack: site.mail_words(lang),
            }),
            fields,
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
fn thanks_path(
    post_path: &str,
    site: &str,
    lang: Lang,
    due: Option<&str>,
    reference: &str,
) -> String {
    let dir = &post_path[..post_path.rfind('/').map_or(0, |i| i + 1)];
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("site", site)
        .append_pair("lang", lang.code());
    // No due date for a complaint or a withdrawal: they get none.
    if let Some(due) = due {
        query.append_pair("due", due);
    }
    let query = query.append_pair("ref", reference).finish();
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
    let words = match &site.pages {
        Some(pages) => pages.0.form_strings(lang),
        None => crate::forms::strings::FormStrings::of(None, lang),
    };
    let mut view = crate::forms::view(form, lang, action, &signing, words)?;
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

/// The ticket's fields in the firm's language: labels, the chosen option's
/// label (with the value the form posted) and yes/no for check boxes,
/// whatever the requester's language was.
fn in_language(
    form: &FormDef,
    fields: Vec<TicketField>,
    lang: Lang,
    words: &MailStrings,
) -> Vec<TicketField> {
    fields
        .into_iter()
        .map(|mut f| {
            let Some(def) = form.field(&f.name) else {
                return f;
            };
            f.label = def.label.get_ref().in_lang(lang);
            match def.kind {
                FieldKind::Checkbox | FieldKind::Consent => {
                    f.value = if f.value == "yes" {
                        words.ticket.yes.clone()
                    } else {
                        words.ticket.no.clone()
                    };
                }
                FieldKind::Select | FieldKind::Radio => {
                    if let Some(o) = def.options.iter().find(|o| o.value.get_ref() == &f.value) {
                        f.value = format!("{} ({})", o.label.get_ref().in_lang(lang), f.value);
                    }
                }
                _ => {}
            }
            f
        })
        .collect()
}
