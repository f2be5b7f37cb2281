//! Checks on `portal.toml` that serde cannot make: translations, addresses,
//! identifiers and references between sections. Every problem is collected.

use std::collections::BTreeSet;

use toml::Spanned;

use super::config::{LegalBasis, Parts};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, SourceFile};
use crate::vocab::identifiers::{
    base_url_problem, enterprise_number_problem, id_problem, is_valid_email, is_valid_web_url,
};
use crate::vocab::lang::Lang;
use crate::vocab::text::Text;

struct Checker<'a> {
    file: SourceFile<'a>,
    /// `None` when [site] could not be read: translations are then not
    /// checked, rather than reported missing in every language.
    languages: Option<Vec<Lang>>,
    diags: &'a mut Diagnostics,
}

impl Checker<'_> {
    fn error<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) -> &mut Diagnostic {
        self.diags
            .push(self.file.error_at(Some(at.span().start), message));
        self.diags.0.last_mut().expect("just pushed")
    }

    /// Where `at` is, as "line 12": the second place a contradiction names.
    fn line_of<T>(&self, at: &Spanned<T>) -> String {
        let p = crate::diagnostics::Position::of_offset(self.file.text, at.span().start);
        format!("line {}, column {}", p.line, p.column)
    }

    /// `[statement] key = "none"` while `other` (at `place`) says otherwise:
    /// a statement that contradicts itself is refused, naming both places.
    fn contradiction<T, U>(
        &mut self,
        key: &str,
        none: &Spanned<T>,
        other: &Spanned<U>,
        what: String,
        fix: &str,
    ) {
        let place = self.line_of(other);
        let d = self.error(
            none,
            format!("[statement] says `{key} = \"none\"`, but {what} at {place} of portal.toml"),
        );
        d.fix = Some(fix.to_string());
    }

    fn text(&mut self, what: &str, text: &Spanned<Text>) {
        let Some(languages) = &self.languages else {
            return;
        };
        let missing: Vec<String> = text
            .get_ref()
            .missing(languages)
            .map(|l| l.to_string())
            .collect();
        if !missing.is_empty() {
            let list = missing.join(", ");
            let d = self.error(text, format!("{what} has no translation in: {list}"));
            d.code = Some(Code::P024);
            d.fix = Some(format!(
                "add {} to the table, or give one plain string for all languages",
                missing
                    .iter()
                    .map(|l| format!("`{l} = \"…\"`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }

    fn opt_text(&mut self, what: &str, text: &Option<Spanned<Text>>) {
        if let Some(t) = text {
            self.text(what, t);
        }
    }

    fn email(&mut self, what: &str, value: &Spanned<String>) {
        if !is_valid_email(value.get_ref()) {
            self.error(
                value,
                format!("{what} `{}` is not a valid e-mail address", value.get_ref()),
            )
            .code = Some(Code::P022);
        }
    }

    fn url(&mut self, what: &str, value: &Spanned<String>) {
        if !is_valid_web_url(value.get_ref()) {
            let d = self.error(
                value,
                format!(
                    "{what} `{}` is not an absolute http(s) URL",
                    value.get_ref()
                ),
            );
            d.code = Some(Code::P023);
            d.fix = Some("write the full address, e.g. `https://www.example.be`".into());
        }
    }

    fn id(&mut self, what: &str, value: &Spanned<String>) {
        if let Some(problem) = id_problem(what, value.get_ref()) {
            self.error(value, problem).fix =
                Some("ids become HTML ids and URL parts: use a-z, 0-9 and -, e.g. `orders`".into());
        }
    }

    /// A URL, or one per language: each must be absolute.
    fn url_text(&mut self, what: &str, text: &Spanned<Text>) {
        self.text(what, text);
        let values: Vec<String> = match text.get_ref() {
            Text::Same(v) => vec![v.clone()],
            Text::PerLang(map) => map.values().cloned().collect(),
        };
        for v in values {
            self.url(what, &Spanned::new(text.span(), v));
        }
    }

    /// A country code (ISO 3166-1 alpha-2), or with `regions` also a
    /// region such as `outside_eea`.
    fn place(&mut self, value: &Spanned<String>, regions: bool) {
        if let Some(problem) = super::country::place_problem(value.get_ref(), regions) {
            self.error(value, format!("country {problem}"));
        }
    }
}

/// Reports every semantic problem of what could be read of `portal.toml`.
pub fn check(file: SourceFile<'_>, config: &Parts, diags: &mut Diagnostics) {
    let mut c = Checker {
        file,
        languages: config.site.as_ref().map(|s| s.languages.get_ref().clone()),
        diags,
    };
    if let Some(site) = &config.site {
        check_site(&mut c, site);
    }
    // [controller]
    if let Some(ctl) = &config.controller {
        c.opt_text("controller legal_form", &ctl.legal_form);
        c.opt_text("controller trade_name", &ctl.trade_name);
        c.opt_text("controller city", &ctl.address.city);
        if let Some(rep) = &ctl.representative {
            c.email("representative e-mail", &rep.email);
            c.opt_text("representative address", &rep.address);
        }
        c.place(&ctl.address.country, false);
        c.email("controller e-mail", &ctl.email);
        if let Some(w) = &ctl.website {
            c.url("controller website", w);
        }
        if let Some(n) = &ctl.enterprise_number
            && let Some(problem) =
                enterprise_number_problem(n.get_ref(), ctl.address.country.get_ref())
        {
            c.error(n, problem).code = Some(Code::P021);
        }
        if let Some(dpo) = &ctl.dpo {
            c.email("DPO e-mail", &dpo.email);
        }
    }

    // [contacts]
    if let Some(contacts) = &config.contacts {
        match &contacts.requests {
            Some(r) => c.email("requests address", r),
            None if config.section_repaired("contacts.requests") => {}
            None => c.diags.push(
                Diagnostic::error(file.path, "missing `requests` address in [contacts]")
                    .with_code(Code::P010)
                    .with_fix(
                        "add `requests = \"info@…\"`: every request form sends its ticket there",
                    ),
            ),
        }
        if let Some(r) = &contacts.complaints {
            c.email("complaints address", r);
        }
    }

    // [authority]
    let auth = &config.authority;
    c.opt_text("authority name", &auth.name);
    c.opt_text("authority address", &auth.address);
    if let Some(e) = &auth.email {
        c.email("authority e-mail", e);
    }
    for u in [&auth.website, &auth.complaint_url].into_iter().flatten() {
        c.url_text("authority URL", u);
    }

    // [statement]
    c.opt_text("automated_decisions", &config.statement.automated_decisions);
    c.opt_text("security_measures", &config.statement.security_measures);
    if let Some(r) = &config.statement.retention {
        retention_texts(&mut c, r.get_ref());
    }
    if let Some(u) = &config.statement.cookie_settings_url {
        c.url_text("cookie_settings_url", u);
    }

    // [[joint_controllers]]
    c.opt_text("joint_arrangement", &config.statement.joint_arrangement);
    let mut joint_ids = BTreeSet::new();
    for j in &config.joint_controllers {
        c.id("joint controller id", &j.id);
        if !joint_ids.insert(j.id.get_ref().as_str()) {
            c.error(
                &j.id,
                format!("joint controller id `{}` is used twice", j.id.get_ref()),
            );
        }
        c.opt_text("joint controller trade_name", &j.trade_name);
        c.opt_text("joint controller address", &j.address);
        c.opt_text("joint controller responsibilities", &j.responsibilities);
        c.email("joint controller e-mail", &j.email);
        if let Some(w) = &j.website {
            c.url("joint controller website", w);
        }
    }
    let contact_points: Vec<_> = config
        .joint_controllers
        .iter()
        .filter(|j| j.handles_requests)
        .collect();
    if let [_, second, ..] = contact_points.as_slice() {
        c.error(
            &second.id,
            "more than one joint controller says `handles_requests = true`",
        )
        .fix = Some("name one contact point for requests; people may still turn to each of you (Art. 26(3))".into());
    }

    // [procedure]
    let procedure = &config.procedure;
    c.opt_text("identity_check", &procedure.identity_check);
    if let Some(d) = &procedure.answer_within
        && !d.get_ref().within_a_month()
    {
        c.error(
                d,
                format!(
                    "answer_within `{}` can exceed the one month the GDPR allows (Art. 12(3))",
                    d.get_ref()
                ),
            )
            .fix = Some(
                "give at most `1mo`, or in smaller units at most `28d` (`4w`): a month can be as short as February; a longer extension is announced per request, not promised here".into(),
            );
    }
    if let Some(ic) = &procedure.internal_complaint {
        c.text("internal_complaint name", &ic.name);
        c.email("internal_complaint e-mail", &ic.email);
    }

    // [endpoint]
    if let Some(u) = &config.endpoint.url {
        c.url("endpoint url", u);
    }
    if let (Some(l), Some(langs)) = (&config.endpoint.ticket_language, c.languages.clone())
        && !langs.contains(l.get_ref())
    {
        let fix = format!(
            "use one of the site's languages ({}), or remove it to use the default language",
            langs
                .iter()
                .map(|l| l.code())
                .collect::<Vec<_>>()
                .join(", ")
        );
        c.error(
            l,
            format!(
                "ticket_language `{}` is not among the site's languages",
                l.get_ref()
            ),
        )
        .fix = Some(fix);
    }
    if let Some(tz) = &config.endpoint.time_zone
        && let Err(e) = crate::vocab::clock::time_zone(tz.get_ref())
    {
        c.error(tz, e).fix =
            Some("name an IANA time zone such as `Europe/Brussels` or `Europe/Amsterdam`".into());
    }

    // [[recipients]]
    let mut recipient_ids = BTreeSet::new();
    for r in &config.recipients {
        c.id("recipient id", &r.id);
        if !recipient_ids.insert(r.id.get_ref().as_str()) {
            c.error(
                &r.id,
                format!("recipient id `{}` is used twice", r.id.get_ref()),
            );
        }
        c.opt_text("recipient name", &r.name);
        c.opt_text("recipient category", &r.category);
        c.opt_text("recipient service", &r.service);
        if let Some(place) = &r.country {
            c.place(place, true);
        }
        if r.name.is_none() && r.category.is_none() {
            c.error(
                &r.id,
                format!(
                    "recipient `{}` has neither a name nor a category",
                    r.id.get_ref()
                ),
            )
            .fix = Some(
                "give `name = \"…\"` (the organisation), or `category = \"…\"` (e.g. \"IT service providers\"), or both"
                    .into(),
            );
        }
    }

    // [[audiences]]
    let mut audience_ids: BTreeSet<&str> = super::config::AUDIENCES.into_iter().collect();
    let mut declared_audiences = BTreeSet::new();
    for a in &config.audiences {
        let id = a.id.get_ref().as_str();
        if !super::config::AUDIENCES.contains(&id) {
            c.id("audience id", &a.id);
        }
        if !declared_audiences.insert(id) {
            c.error(&a.id, format!("audience `{id}` is declared twice"));
        }
        audience_ids.insert(id);
        match &a.name {
            Some(n) => c.text("audience name", n),
            None if !super::config::AUDIENCES.contains(&id) => {
                c.error(
                    &a.id,
                    format!("audience `{id}` is not built in and has no `name`"),
                )
                .fix = Some(format!(
                    "give `name = {{ … }}` in each language, or use a built-in audience: {}",
                    super::config::AUDIENCES.join(", ")
                ));
            }
            None => {}
        }
        for cat in &a.data_categories {
            c.text("data category", cat);
        }
    }

    // [[purposes]]
    let mut purpose_ids = BTreeSet::new();
    for p in &config.purposes {
        c.id("purpose id", &p.id);
        if !purpose_ids.insert(p.id.get_ref().as_str()) {
            c.error(
                &p.id,
                format!("purpose id `{}` is used twice", p.id.get_ref()),
            );
        }
        c.text("purpose name", &p.name);
        c.opt_text("purpose description", &p.description);
        for cat in &p.data_categories {
            c.text("data category", cat);
        }
        match (
            p.legal_basis.contains(LegalBasis::LegitimateInterests),
            &p.legitimate_interest,
        ) {
            (true, None) if !config.was_repaired("purposes.legitimate_interest", &p.id) => {
                let d = c.error(
                    &p.id,
                    format!(
                        "purpose `{}` rests on legitimate interests but does not say which",
                        p.id.get_ref()
                    ),
                );
                d.code = Some(Code::P004);
                d.fix = Some(
                    "add `legitimate_interest = { … }` stating the interest (Art. 13(1)(d))".into(),
                );
            }
            (_, Some(li)) => c.text("legitimate interest", li),
            _ => {}
        }
        let retention_repaired = [
            "purposes.retention",
            "purposes.retention.period",
            "purposes.retention.criteria",
        ]
        .iter()
        .any(|k| config.was_repaired(k, &p.id));
        let stated = p
            .retention(&config.statement)
            .is_some_and(|r| r.period.is_some() || r.criteria.is_some());
        if !stated && !retention_repaired {
            let at = p.retention.as_ref().map_or(p.id.span(), |r| r.span());
            let d = c.error(
                &Spanned::new(at, ()),
                format!("purpose `{}` states no retention period", p.id.get_ref()),
            );
            d.code = Some(Code::P009);
            d.fix = Some(
                "give `retention = { period = \"7y\" }` or `retention = { criteria = \"…\" }`, or a default for all purposes in [statement]"
                    .into(),
            );
        }
        if let Some(r) = &p.retention {
            retention_texts(&mut c, r.get_ref());
        }
        c.opt_text("purpose source", &p.source);
        c.opt_text("judicial_data_authority", &p.judicial_data_authority);
        for a in &p.audiences {
            if !audience_ids.contains(a.get_ref().as_str()) {
                c.error(a, format!("purpose `{}` names audience `{}`, which is neither built in nor in [[audiences]]", p.id.get_ref(), a.get_ref()))
                    .fix = Some(format!(
                    "use one of: {}, or add an [[audiences]] entry with this id and a `name`",
                    super::config::AUDIENCES.join(", ")
                ));
            }
        }
        for r in p.recipient_ids() {
            if !recipient_ids.contains(r.get_ref().as_str()) {
                c.error(
                    r,
                    format!(
                        "purpose `{}` names recipient `{}`, which is not in [[recipients]]",
                        p.id.get_ref(),
                        r.get_ref()
                    ),
                );
            }
        }
    }

    // [endpoint.requests]: the built-in purpose of the forms.
    let requests = &config.endpoint.requests;
    if let Some(r) = &requests.retention {
        retention_texts(&mut c, r.get_ref());
    }
    for cat in &requests.data_categories {
        c.text("data category", cat);
    }
    c.opt_text("form_service", &requests.form_service);
    c.opt_text("requests description", &requests.description);
    for r in &requests.recipients {
        if !recipient_ids.contains(r.get_ref().as_str()) {
            c.error(
                r,
                format!(
                    "[endpoint.requests] names recipient `{}`, which is not in [[recipients]]",
                    r.get_ref()
                ),
            )
            .fix = Some("add a [[recipients]] entry with that id, or correct the id".into());
        }
    }

    // [[transfers]]
    for t in &config.transfers {
        if !recipient_ids.contains(t.recipient.get_ref().as_str()) {
            c.error(
                &t.recipient,
                format!(
                    "transfer names recipient `{}`, which is not in [[recipients]]",
                    t.recipient.get_ref()
                ),
            );
        }
        // A region (`outside_eea`, `unknown`) when the firm names no country.
        c.place(&t.country, true);
        c.opt_text("transfer details", &t.details);
    }

    declared_none(&mut c, config);

    // [[cookies]]
    let mut cookie_names = BTreeSet::new();
    for k in &config.cookies {
        if let Some(name) = &k.name
            && !cookie_names.insert(name.get_ref().as_str())
        {
            c.error(
                name,
                format!("cookie `{}` is declared twice", name.get_ref()),
            );
        }
        if k.duration.is_none()
            && k.kind != super::config::CookieKind::Pixel
            && !config.was_repaired("cookies.duration", &k.at())
        {
            let missing = c.error(&k.at(), format!("cookie `{}` has no `duration`", k.label()));
            missing.code = Some(crate::diagnostics::Code::P030);
            missing.fix = Some(
                "give how long it stays, e.g. `duration = \"1y\"` (for an entry without a name: the typical duration); only a `kind = \"pixel\"` entry may leave it out".into(),
            );
        }
        c.text("cookie purpose", &k.purpose);
        c.text("cookie provider", &k.provider);
    }
}

fn retention_texts(c: &mut Checker<'_>, r: &super::config::Retention) {
    c.opt_text("retention criteria", &r.criteria);
    c.opt_text("retention start", &r.start);
    if let Some(start) = &r.start {
        // A lone snake_case word is meant as a built-in key: a typo in one
        // would otherwise be printed as it stands.
        if let Text::Same(key) = start.get_ref() {
            let keyish =
                key.contains('_') && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            if keyish && !super::config::RETENTION_STARTS.contains(&key.as_str()) {
                c.error(start, format!("unknown retention start `{key}`"))
                    .fix = Some(format!(
                    "use one of: {}, or the firm's own words in each language",
                    super::config::RETENTION_STARTS.join(", ")
                ));
            }
        }
    }
    c.opt_text("retention statutory", &r.statutory);
}

/// `"none"` in [statement] against the lists it declares empty. Cookies set
/// by the pages themselves are compared in [`crate::check::cookies`], once
/// the theme and content are read.
fn declared_none(c: &mut Checker<'_>, config: &Parts) {
    let statement = &config.statement;
    if let Some(none) = &statement.transfers {
        for t in &config.transfers {
            c.contradiction(
                "transfers",
                none,
                &t.recipient,
                format!("a [[transfers]] entry sends data of `{}` to {}", t.recipient.get_ref(), t.country.get_ref()),
                "remove `transfers = \"none\"` from [statement], or the [[transfers]] entry if it is wrong",
            );
        }
        for r in &config.recipients {
            if let Some(place) = r.country.as_ref().filter(|_| r.outside_eea()) {
                let country = place.get_ref();
                let what = if country == "outside_eea" {
                    format!("recipient `{}` is outside the EEA", r.id.get_ref())
                } else {
                    format!(
                        "recipient `{}` is in {country}, outside the EEA,",
                        r.id.get_ref()
                    )
                };
                c.contradiction(
                    "transfers",
                    none,
                    place,
                    what,
                    "remove `transfers = \"none\"` from [statement] and add a [[transfers]] entry naming the safeguard, or correct the recipient's country",
                );
            }
        }
    }
    if let Some(none) = &statement.recipients {
        for r in &config.recipients {
            c.contradiction(
                "recipients",
                none,
                &r.id,
                format!("recipient `{}` is declared", r.id.get_ref()),
                "remove `recipients = \"none\"` from [statement], or the [[recipients]] entry if no one receives data",
            );
        }
    }
    if let Some(none) = &statement.cookies {
        for k in &config.cookies {
            c.contradiction(
                "cookies",
                none,
                &k.at(),
                format!("cookie `{}` is declared", k.label()),
                "remove `cookies = \"none\"` from [statement], or the [[cookies]] entry if the website does not set it",
            );
        }
    }
}

/// The checks of [site].
fn check_site(c: &mut Checker<'_>, site: &super::config::SiteSection) {
    // [site]
    if let Some(problem) = id_problem("site id", site.id.get_ref()) {
        c.error(&site.id, problem).fix =
            Some("it names the portal in signed forms and tickets, e.g. `bakkerij-peeters`".into());
    }
    if !is_valid_web_url(site.base_url.get_ref()) {
        c.url("base_url", &site.base_url);
    } else if let Some(problem) = base_url_problem(site.base_url.get_ref()) {
        let d = c.error(&site.base_url, format!("base_url {problem}"));
        d.code = Some(Code::P023);
        d.fix = Some(
            "give the address where the portal is published, e.g. `https://privacy.example.be`"
                .into(),
        );
    }
    if let Some(b) = &site.render_budget_ms {
        let max = super::config::MAX_BUDGET_MS;
        if !(1..=max).contains(b.get_ref()) {
            c.error(
                b,
                format!(
                    "render_budget_ms should be between 1 and {max} (ten minutes), found {}",
                    b.get_ref()
                ),
            )
            .fix = Some(format!(
                "leave it out for the default of {} ms per page",
                super::config::DEFAULT_BUDGET_MS
            ));
        }
    }
    let languages = site.languages.get_ref().clone();
    if languages.is_empty() {
        c.error(&site.languages, "the site declares no language")
            .fix = Some(format!("list at least one of: {}", Lang::valid_codes()));
    }
    let unique: BTreeSet<Lang> = languages.iter().copied().collect();
    if unique.len() != languages.len() {
        c.error(&site.languages, "a language is listed twice");
    }
    let default = *site.default_language.get_ref();
    if !languages.is_empty() && !languages.contains(&default) {
        c.error(
            &site.default_language,
            format!("default language `{default}` is not among the site's languages"),
        );
    }
    c.text("site title", &site.title);
    if site.policy_version.get_ref().trim().is_empty() {
        c.error(&site.policy_version, "policy_version is empty")
            .code = Some(Code::P017);
    }
    let updated = site.last_updated.get_ref();
    if updated.date.is_none() || updated.time.is_some() {
        c.error(
            &site.last_updated,
            "last_updated should be a date like 2026-03-01",
        )
        .code = Some(Code::P017);
    }
}
