//! The GDPR Art. 13/14 checklist, derived from the site model.
//!
//! Each check looks for one item that a privacy statement must contain and
//! that the site's facts do not yet provide. The build renders whatever is
//! there; this module says what is still missing and where to add it.

use std::collections::BTreeSet;

use super::Context;
use crate::diagnostics::{Code, Diagnostic, Diagnostics, Severity};
use crate::site::config::{CookieCategory, LegalBasis, ProvisionRequirement, Statement};
use crate::theme::lookup;
use crate::vocab::lang::Lang;
use crate::vocab::page_kind::Right;
use crate::vocab::text::Text;

/// Countries with an adequacy decision of the European Commission (Art. 45),
/// as known on 2026-11-23 without access to the Commission's list; check
/// there before relying on a borderline case (Brazil's was pending). For the
/// United States the decision covers only organisations certified under the
/// EU-US Data Privacy Framework, for Canada only commercial organisations.
const ADEQUATE: [&str; 15] = [
    "AD", "AR", "CA", "CH", "FO", "GB", "GG", "IL", "IM", "JE", "JP", "KR", "NZ", "US", "UY",
];

/// Built-in data-category keys that are special categories (Art. 9(1)).
const SPECIAL_CATEGORIES: [&str; 8] = [
    "ethnic_origin",
    "political_opinions",
    "religious_beliefs",
    "trade_union",
    "genetic",
    "biometric",
    "health",
    "sex_life",
];

/// The built-in key for data on criminal convictions and offences (Art. 10).
const JUDICIAL: &str = "judicial";

/// Data-category keys for which the default theme has a standard text.
pub const COMMON_DATA_CATEGORIES: [&str; 20] = [
    "identity",
    "contact",
    "account",
    "payment",
    "order",
    "communication",
    "technical",
    "usage",
    "location",
    "images",
    "employment",
    "health",
    "ethnic_origin",
    "political_opinions",
    "religious_beliefs",
    "trade_union",
    "genetic",
    "biometric",
    "sex_life",
    "judicial",
];

/// Whether data in `country` stay inside the EEA.
fn is_eea(country: &str) -> bool {
    crate::site::country::in_eea(country)
}

pub fn run(cx: &Context, diags: &mut Diagnostics) {
    let config = &cx.site.config;
    let ctl = &config.controller;
    let statement = &config.statement;

    // Art. 13(1)(a): who the controller is and how to reach them.
    if ctl.legal_name.trim().is_empty() {
        diags.push(
            cx.at_key(
                Severity::Error,
                Code::P001,
                "legal_name",
                "the controller's `legal_name` is empty: the statement must say who is responsible",
            )
            .with_fix("fill in `legal_name` in [controller]"),
        );
    }
    // The page shows what there is of the address, never a country alone;
    // what is missing is reported here.
    let blank = |s: &Option<toml::Spanned<String>>| {
        s.as_ref().is_none_or(|s| s.get_ref().trim().is_empty())
    };
    let city_blank = ctl.address.city.as_ref().is_none_or(|c| {
        cx.languages()
            .iter()
            .any(|l| c.get_ref().in_lang(*l).trim().is_empty())
    });
    let missing: Vec<&str> = [
        ("street", blank(&ctl.address.street)),
        ("postal_code", blank(&ctl.address.postal_code)),
        ("city", city_blank),
    ]
    .into_iter()
    .filter_map(|(key, is_blank)| is_blank.then_some(key))
    .collect();
    if !missing.is_empty() {
        let keys = missing
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        diags.push(
            cx.in_table(
                "controller.address",
                Diagnostic::error(
                    cx.file(),
                    format!("the controller's address lacks {keys}: the statement must say where the controller can be reached"),
                ),
            )
            .with_code(Code::P001)
            .with_fix(format!("fill in {keys} in [controller.address]")),
        );
    }
    if ctl.email.get_ref().trim().is_empty() {
        diags.push(
            cx.at(
                Severity::Error,
                Code::P001,
                &ctl.email,
                "the controller's e-mail address is empty",
            )
            .with_fix("give the address people can write to about their data"),
        );
    }

    // Art. 13(1)(b): the DPO's contact, when there must be one.
    if statement.dpo_required() && ctl.dpo.is_none() {
        diags.push(
            cx.at_key(
                Severity::Error,
                Code::P002,
                "dpo_required",
                "[statement] says a DPO is required, but [controller.dpo] is missing",
            )
            .with_fix("add `[controller.dpo]` with at least `email = \"dpo@…\"`"),
        );
    }

    // Art. 13(1)(e): recipients.
    if config.recipients.is_empty() && statement.recipients.is_none() && !config.purposes.is_empty()
    {
        diags.push(
            Diagnostic::warning(
                cx.file(),
                "no [[recipients]] are declared, and [statement] does not say `recipients = \"none\"`: the statement says nothing about who receives data",
            )
            .with_code(Code::P005)
            .with_fix("add a [[recipients]] entry for each supplier or category that receives the data (hosting, e-mail, payments, accountant); if really no one outside the firm does, write `recipients = \"none\"` in [statement]"),
        );
    }
    for p in &config.purposes {
        if p.recipients.is_none() {
            diags.push(
                cx.at(
                    Severity::Warning,
                    Code::P042,
                    &p.id,
                    format!(
                        "purpose `{}` does not say who receives its data: the statement leaves the cell empty",
                        p.id.get_ref()
                    ),
                )
                .with_fix("list the ids of its [[recipients]] in `recipients = [\"…\"]`, or write `recipients = []` if no one outside the firm receives them"),
            );
        }
    }
    let used: BTreeSet<&str> = config
        .purposes
        .iter()
        .flat_map(|p| p.recipient_ids().iter().map(|r| r.get_ref().as_str()))
        .collect();
    for r in &config.recipients {
        if !used.contains(r.id.get_ref().as_str()) {
            diags.push(
                cx.at(
                    Severity::Warning,
                    Code::P006,
                    &r.id,
                    format!(
                        "recipient `{}` is declared, but no purpose names it, so the statement cannot say which data it receives",
                        r.id.get_ref()
                    ),
                )
                .with_fix(format!(
                    "add \"{}\" to `recipients` of the purposes it serves, or remove it",
                    r.id.get_ref()
                )),
            );
        }
    }

    // Art. 13(1)(f): transfers outside the EEA and their safeguards.
    for r in &config.recipients {
        let Some(place) = r.country.as_ref().filter(|_| r.outside_eea()) else {
            continue;
        };
        let country = place.get_ref();
        let country = if country == "outside_eea" {
            "a country"
        } else {
            country.as_str()
        };
        if !config
            .transfers
            .iter()
            .any(|t| t.recipient.get_ref() == r.id.get_ref())
        {
            diags.push(
                cx.at(
                    Severity::Error,
                    Code::P007,
                    place,
                    format!(
                        "recipient `{}` is in {country}, outside the EEA, but no [[transfers]] entry names the safeguard",
                        r.id.get_ref()
                    ),
                )
                .with_fix(format!(
                    "add [[transfers]] with `recipient = \"{}\"`, `country = \"…\"` (the country code) and `safeguard = \"standard_contractual_clauses\"` (or adequacy_decision, binding_corporate_rules, derogation)",
                    r.id.get_ref()
                )),
            );
        }
    }
    for t in &config.transfers {
        let recipient = config
            .recipients
            .iter()
            .find(|r| r.id.get_ref() == t.recipient.get_ref());
        let theirs = recipient.and_then(|r| r.country.as_ref());
        if let Some(theirs) = theirs.filter(|c| {
            let (a, b) = (c.get_ref().as_str(), t.country.get_ref().as_str());
            let country = crate::site::country::is_country;
            a != b && country(a) && country(b)
        }) {
            diags.push(
                cx.at(
                    Severity::Warning,
                    Code::P049,
                    &t.country,
                    format!(
                        "the transfer to `{}` names {}, but the recipient is declared in {}",
                        t.recipient.get_ref(),
                        t.country.get_ref(),
                        theirs.get_ref()
                    ),
                )
                .with_fix("correct one of the two; if the recipient processes data in several countries, give each country its own [[transfers]] entry and the recipient the main one"),
            );
        }
        let country = t.country.get_ref();
        if t.safeguard == crate::site::config::Safeguard::AdequacyDecision
            && !ADEQUATE.contains(&country.as_str())
            && !is_eea(country)
        {
            diags.push(
                cx.at(
                    Severity::Warning,
                    Code::P008,
                    &t.country,
                    format!("the European Commission has no adequacy decision for {country}"),
                )
                .with_fix(
                    "name the safeguard actually used, usually `standard_contractual_clauses`",
                ),
            );
        } else if t.safeguard == crate::site::config::Safeguard::AdequacyDecision
            && country == "US"
            && !t.dpf_certified
        {
            diags.push(
                cx.at(
                    Severity::Warning,
                    Code::P008,
                    &t.country,
                    "the US adequacy decision covers only organisations certified under the EU-US Data Privacy Framework",
                )
                .with_fix(
                    "check the recipient on the Data Privacy Framework list and add `dpf_certified = true`; otherwise name the safeguard actually used, usually `standard_contractual_clauses`",
                ),
            );
        }
    }

    // Silence is no claim: the pages say "no transfers" or "no cookies"
    // only when portal.toml does, so an unanswered question is reported.
    let outside_eea = config.recipients.iter().any(|r| r.outside_eea());
    if config.transfers.is_empty() && statement.transfers.is_none() && !outside_eea {
        diags.push(
            cx.in_table(
                "statement",
                Diagnostic::warning(
                    cx.file(),
                    "it is not stated whether personal data leave the EEA: the statement says nothing about transfers",
                ),
            )
            .with_code(Code::P039)
            .with_fix("write `transfers = \"none\"` in [statement] if no data leave the EEA; otherwise add a [[transfers]] entry per recipient outside it"),
        );
    }
    if config.cookies.is_empty() && statement.cookies.is_none() {
        diags.push(
            cx.in_table(
                "statement",
                Diagnostic::warning(
                    cx.file(),
                    "it is not stated whether the website uses cookies: the cookie page says nothing about them",
                ),
            )
            .with_code(Code::P038)
            .with_fix("declare each cookie in [[cookies]], or write `cookies = \"none\"` in [statement] if the website sets none (nor similar techniques such as localStorage)"),
        );
    }

    // Art. 13(2)(d): the supervisory authority.
    let auth = &config.authority;
    let reachable = auth.address.is_some()
        || auth.website.is_some()
        || auth.email.is_some()
        || auth.phone.is_some()
        || auth.complaint_url.is_some();
    if auth.name.is_none() || !reachable {
        let what = if auth.name.is_none() {
            "the supervisory authority is not named"
        } else {
            "the supervisory authority has no address, website, e-mail or phone"
        };
        diags.push(
            cx.in_table(
                "authority",
                Diagnostic::error(cx.file(), format!("{what}: people must be told where they can complain")),
            )
                .with_code(Code::P012)
                .with_fix(format!(
                    "add `[authority]` with `preset = \"BE\"` (one of: {}), or give its name and contact yourself",
                    crate::site::authority::valid_codes()
                )),
        );
    }

    // The preset should be the authority competent for the firm: usually
    // that of its own country, and in Germany that of its Land (§ 40 BDSG).
    if let Some(preset) = &auth.preset {
        let code = preset.get_ref().to_ascii_uppercase();
        let home = config.controller.address.country.get_ref();
        let preset_country = crate::site::authority::Preset::country(&code);
        let known = crate::site::authority::presets().contains_key(&code);
        if known && preset_country != home {
            diags.push(
                cx.at(
                    Severity::Warning,
                    Code::P035,
                    preset,
                    format!("the authority preset `{code}` is for another country than the controller's (`{home}`)"),
                )
                .with_fix("name the authority of the country where the firm has its main establishment; keep this preset only if that authority is competent"),
            );
        } else if code == "DE" && home == "DE" {
            diags.push(
                cx.at(
                    Severity::Warning,
                    Code::P035,
                    preset,
                    "the BfDI (preset `DE`) supervises only federal bodies and telecommunications and postal firms; other private firms answer to the authority of their Land",
                )
                .with_fix("use the preset of the firm's Land, e.g. `preset = \"DE-BY\"` (BY, BW, BE, … by ISO 3166-2 code); keep `DE` only for a telecommunications or postal firm"),
            );
        }
    }

    // Art. 13(2)(e): must people give the data?
    if statement.provision_requirement.is_none() {
        let open: Vec<&str> = config
            .purposes
            .iter()
            .filter(|p| {
                p.provision_requirement.is_none()
                    && crate::render::model::derived_provision(&p.legal_basis).is_none()
            })
            .map(|p| p.id.get_ref().as_str())
            .collect();
        if !open.is_empty() {
            diags.push(
                cx.in_table(
                    "statement",
                    Diagnostic::warning(
                        cx.file(),
                        format!(
                            "the statement does not say whether people must give their data (Art. 13(2)(e)) for: {}",
                            open.join(", ")
                        ),
                    ),
                )
                .with_code(Code::P013)
                .with_fix("add `provision_requirement = \"contractual\"` (or legal, voluntary) to [statement], or to each purpose"),
            );
        }
    }

    // A stated requirement that the bases do not bear out: "the law
    // requires these data" for a purpose on no legal obligation.
    for p in &config.purposes {
        let Some(r) = &p.provision_requirement else {
            continue;
        };
        let (needs, words) = match r.get_ref() {
            ProvisionRequirement::Contractual => (LegalBasis::Contract, "needed for a contract"),
            ProvisionRequirement::Legal => (LegalBasis::LegalObligation, "required by law"),
            ProvisionRequirement::Voluntary => continue,
        };
        if !p.legal_basis.contains(needs) {
            diags.push(
                cx.at(
                    Severity::Warning,
                    Code::P047,
                    r,
                    format!(
                        "purpose `{}` says its data are {words}, but it does not rest on `{}`",
                        p.id.get_ref(),
                        needs.key()
                    ),
                )
                .with_fix(format!(
                    "add `{}` to its `legal_basis` if that is true, or state the requirement that fits (`voluntary`, or leave it out to derive it from the basis)",
                    needs.key()
                )),
            );
        }
    }

    // `portaal init` writes placeholder facts; published unchanged, they
    // name a firm that does not exist. The sample enterprise number alone
    // may be a real firm's, so it is named only next to another one.
    let mut placeholders: Vec<String> = Vec::new();
    if ctl.legal_name.trim() == "Example BV" {
        placeholders.push("`legal_name = \"Example BV\"`".into());
    }
    let example_domain = |s: &str| {
        let host = s.rsplit('@').next().unwrap_or(s).to_ascii_lowercase();
        let host = host
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        host == "example.be" || host.ends_with(".example.be")
    };
    let addresses = [Some(&ctl.email)]
        .into_iter()
        .chain([
            config.contacts.requests.as_ref(),
            config.contacts.complaints.as_ref(),
        ])
        .chain([ctl.website.as_ref()])
        .flatten();
    for a in addresses {
        if example_domain(a.get_ref()) {
            placeholders.push(format!("`{}`", a.get_ref()));
        }
    }
    if !placeholders.is_empty() {
        if let Some(n) = ctl
            .enterprise_number
            .as_ref()
            .filter(|n| n.get_ref() == "0123.456.749")
        {
            placeholders.push(format!("`enterprise_number = \"{}\"`", n.get_ref()));
        }
        diags.push(
            cx.in_table(
                "controller",
                cx.diagnostic(
                    Severity::Warning,
                    Code::P050,
                    format!(
                        "portal.toml still holds the sample facts of `portaal init`: {}",
                        placeholders.join(", ")
                    ),
                ),
            )
            .with_fix("replace them with the firm's own name, e-mail addresses, website and enterprise number"),
        );
    }

    // Art. 37(1): a DPO is required for public bodies and for large-scale
    // processing of special categories or judicial data. Scale cannot be
    // read from portal.toml, so this is a question, not a verdict.
    if ctl.dpo.is_none() && statement.dpo_required.is_none() {
        let public = config
            .purposes
            .iter()
            .find(|p| p.legal_basis.contains(LegalBasis::PublicTask));
        let special = config.purposes.iter().find(|p| {
            config.data_categories_of(p).iter().any(|c| {
                matches!(c.get_ref(), Text::Same(k) if SPECIAL_CATEGORIES.contains(&k.as_str()) || k == JUDICIAL)
            })
        });
        let why = match (public, special) {
            (Some(p), _) => Some((
                p,
                "rests on a task in the public interest, as a public body's purposes do",
            )),
            (None, Some(p)) => Some((
                p,
                "uses special-category or judicial data, which at a large scale require a DPO",
            )),
            (None, None) => None,
        };
        if let Some((p, why)) = why {
            diags.push(
                cx.at(
                    Severity::Warning,
                    Code::P048,
                    &p.id,
                    format!(
                        "purpose `{}` {why} (Art. 37(1)), but no DPO is declared",
                        p.id.get_ref()
                    ),
                )
                .with_fix("if the firm must appoint one, add `[controller.dpo]` with `email = \"dpo@…\"` and `dpo_required = true` to [statement]; if it need not (small scale, no public body), write `dpo_required = false` explicitly in [statement] and keep the reason on file"),
            );
        }
    }

    // Art. 13(2)(f): automated decisions, even when there are none.
    if statement.automated_decisions.is_none() {
        diags.push(
            cx.in_table(
                "statement",
                Diagnostic::error(
                    cx.file(),
                    "the statement does not say whether the firm takes automated decisions or profiles people (Art. 13(2)(f))",
                ),
            )
            .with_code(Code::P014)
            .with_fix(format!(
                "add `[statement]` with `automated_decisions = \"{}\"`, or explain them in each language",
                Statement::NONE
            )),
        );
    }
    if let Some(ad) = &statement.automated_decisions {
        let empty: Vec<String> = cx
            .languages()
            .iter()
            .filter(|l| ad.get_ref().in_lang(**l).trim().is_empty())
            .map(Lang::to_string)
            .collect();
        if !empty.is_empty() {
            diags.push(
                cx.at(
                    Severity::Error,
                    Code::P051,
                    ad,
                    format!(
                        "`automated_decisions` is empty in: {}; the statement would show an empty paragraph",
                        empty.join(", ")
                    ),
                )
                .with_fix(format!(
                    "write `automated_decisions = \"{}\"` when there are none, or explain them in each language",
                    Statement::NONE
                )),
            );
        }
    }

    // Art. 12(2): the firm must make exercising rights easy. Without an
    // endpoint the rights pages still say how to write, but offer no form.
    if config.endpoint.url.is_none() {
        diags.push(
            cx.in_table(
                "endpoint",
                cx.diagnostic(
                    Severity::Warning,
                    Code::P043,
                    "the rights pages carry no request form, because portal.toml has no [endpoint] url",
                ),
            )
            .with_fix("add `[endpoint]` with `url = \"https://…/submit\"` (the address of your portaal endpoint) so visitors can send requests from the page"),
        );
    }

    // Art. 13(2)(a) for the forms themselves: the statement names how long
    // a request record is kept only when the firm says so.
    if config.endpoint.url.is_some()
        && config.endpoint.requests.retention.is_none()
        && statement.retention.is_none()
    {
        diags.push(
            cx.in_table(
                "endpoint",
                cx.diagnostic(
                    Severity::Warning,
                    Code::P044,
                    "the statement does not say how long the firm keeps the requests that reach it through the forms, nor its answers",
                ),
            )
            .with_fix("add `[endpoint.requests]` with `retention = { period = \"5y\", start = \"last_contact\" }` (or `criteria = \"…\"`): the period the firm keeps a request record to show how it handled it"),
        );
    }

    // Art. 7(3): cookies placed with consent need a way to withdraw it that
    // is as easy as giving it; the cookie page links to the site's settings.
    let consent_cookie = config
        .cookies
        .iter()
        .find(|c| c.category != CookieCategory::StrictlyNecessary);
    if let (Some(cookie), None) = (consent_cookie, &statement.cookie_settings_url) {
        diags.push(
            cx.at(
                Severity::Warning,
                Code::P036,
                &cookie.at(),
                format!(
                    "cookie `{}` needs consent, but the statement gives no link where visitors change or withdraw it",
                    cookie.label()
                ),
            )
            .with_fix("add `cookie_settings_url = \"https://…\"` to [statement]: the page of the firm's website that reopens its cookie choices"),
        );
    }

    // Art. 26(2): the essence of the joint controllers' arrangement must be
    // available to the people concerned.
    if let (Some(first), None) = (
        config.joint_controllers.first(),
        &statement.joint_arrangement,
    ) {
        diags.push(
            cx.at(
                Severity::Warning,
                Code::P046,
                &first.id,
                format!(
                    "`{}` is a joint controller, but [statement] does not give the essence of your arrangement (Art. 26(2))",
                    first.id.get_ref()
                ),
            )
            .with_fix("add `joint_arrangement = { … }` to [statement]: who does what (who informs people, who handles requests, who keeps which data)"),
        );
    }

    // A cookie overview by category is allowed, but a visitor who finds a
    // cookie in the browser can only match it against a name.
    for c in config.cookies.iter().filter(|c| c.name.is_none()) {
        diags.push(
            cx.at(
                Severity::Warning,
                Code::P045,
                &c.at(),
                format!(
                    "a [[cookies]] entry ({}) names no cookie: visitors cannot match it to what their browser holds",
                    c.label()
                ),
            )
            .with_fix("add `name = \"…\"` (with `prefix = true` for a family such as `_ga_*`); the browser's developer tools list the names the website sets"),
        );
    }

    for p in &config.purposes {
        let categories = config.data_categories_of(p);
        let is_key = |c: &&&toml::Spanned<Text>, keys: &[&str]| matches!(c.get_ref(), Text::Same(k) if keys.contains(&k.as_str()));
        // Art. 10: judicial data only under official authority or a law.
        let judicial = categories.iter().find(|c| is_key(c, &[JUDICIAL]));
        if let (Some(category), None) = (judicial, &p.judicial_data_authority) {
            diags.push(
                cx.at(
                    Severity::Error,
                    Code::P037,
                    *category,
                    format!(
                        "purpose `{}` uses judicial data (Art. 10) but names no law or authority that allows it",
                        p.id.get_ref()
                    ),
                )
                .with_fix("add `judicial_data_authority = { … }` naming the law that allows it (e.g. the law that requires a certificate of good conduct for the job)"),
            );
        }
        // Art. 9: special-category data need one of the exceptions of 9(2).
        let special = categories
            .iter()
            .find(|c| is_key(c, &SPECIAL_CATEGORIES))
            .copied();
        if let (Some(category), None) = (special, &p.special_category_condition) {
            diags.push(
                cx.at(
                    Severity::Error,
                    Code::P037,
                    category,
                    format!(
                        "purpose `{}` uses special-category data (Art. 9) but names no exception of Art. 9(2)",
                        p.id.get_ref()
                    ),
                )
                .with_fix("add `special_category_condition = \"explicit_consent\"` (or employment_social_security, vital_interests, not_for_profit_body, made_public, legal_claims, substantial_public_interest, health_care, public_health, archiving_research)"),
            );
        }

        // Art. 14(2)(f) and 14(1)(d): where data come from, and which.
        if let Some(source) = &p.source {
            let empty: Vec<String> = cx
                .languages()
                .iter()
                .filter(|l| {
                    source
                        .get_ref()
                        .get(**l)
                        .is_some_and(|s| s.trim().is_empty())
                })
                .map(Lang::to_string)
                .collect();
            if !empty.is_empty() {
                diags.push(
                    cx.at(
                        Severity::Error,
                        Code::P015,
                        source,
                        format!(
                            "purpose `{}` says its data come from elsewhere, but the source is empty in: {}",
                            p.id.get_ref(),
                            empty.join(", ")
                        ),
                    )
                    .with_fix("name the source, e.g. \"public registers\" or the firm that passed the data on"),
                );
            }
            if categories.is_empty() {
                diags.push(
                    cx.at(
                        Severity::Error,
                        Code::P015,
                        source,
                        format!(
                            "purpose `{}` gets its data from another source but does not list which categories (Art. 14(1)(d))",
                            p.id.get_ref()
                        ),
                    )
                    .with_fix("add `data_categories = [\"identity\", \"contact\", …]`"),
                );
            }
        } else if categories.is_empty() {
            diags.push(
                cx.at(
                    Severity::Warning,
                    Code::P016,
                    &p.id,
                    format!("purpose `{}` lists no data categories", p.id.get_ref()),
                )
                .with_fix(format!(
                    "add `data_categories = [\"identity\", \"contact\", …]`; built-in keys: {}",
                    COMMON_DATA_CATEGORIES.join(", ")
                )),
            );
        }
    }

    // Dates: a statement dated in the future is not in force yet.
    if let Some(d) = config.site.last_updated.get_ref().date {
        let date = (d.year, d.month, d.day);
        if date > cx.today {
            let (y, m, dd) = cx.today;
            diags.push(
                cx.at(
                    Severity::Error,
                    Code::P018,
                    &config.site.last_updated,
                    format!("last_updated {d} lies in the future (today is {y:04}-{m:02}-{dd:02})"),
                )
                .with_fix("give the date the current version was published"),
            );
        } else {
            let (y, m, dd) = cx.today;
            let two_years_ago = (y.saturating_sub(2), m, dd);
            if date < two_years_ago {
                diags.push(
                    cx.at(
                        Severity::Warning,
                        Code::P041,
                        &config.site.last_updated,
                        format!("last_updated {d} is more than two years ago: is the statement still what the firm does?"),
                    )
                    .with_fix("review the facts in portal.toml with the firm, then set `last_updated` (and `policy_version` if anything changed)"),
                );
            }
        }
    }

    // A statement must say why data are used (Art. 13(1)(c)).
    if config.purposes.is_empty() {
        diags.push(
            Diagnostic::error(
                cx.file(),
                "no [[purposes]] are declared: the statement cannot say why personal data are used",
            )
            .with_code(Code::P040)
            .with_fix("add a [[purposes]] entry for each reason the firm uses personal data, with its legal basis, data categories and retention"),
        );
    }

    standard_texts(cx, diags);
}

/// Every theme text the checklist relies on must exist, and not be empty, in
/// every language of the site. The theme ships them all; a site that blanks
/// one in its own i18n file would publish a statement with a hole in it.
fn standard_texts(cx: &Context, diags: &mut Diagnostics) {
    let config = &cx.site.config;
    let mut keys: Vec<(Code, String)> = Vec::new();
    let mut add = |code: Code, prefix: String, leaves: &[&str]| {
        for leaf in leaves {
            keys.push((code, format!("{prefix}.{leaf}")));
        }
    };
    let bases: BTreeSet<LegalBasis> = config
        .purposes
        .iter()
        .flat_map(|p| p.legal_basis.all().iter().copied())
        .collect();
    let consent = bases.contains(&LegalBasis::Consent);
    for r in Right::ALL {
        // Withdrawing consent has its own code where consent is relied on.
        let code = if consent && r == Right::WithdrawConsent {
            Code::P011
        } else {
            Code::P020
        };
        add(
            code,
            format!("right.{}", r.key()),
            &["title", "explanation"],
        );
    }
    for b in &bases {
        add(
            Code::P020,
            format!("legal_basis.{}", b.key()),
            &["name", "explanation"],
        );
    }
    if consent {
        add(Code::P011, "purposes".into(), &["consent_note"]);
    }
    let categories: BTreeSet<&'static str> =
        config.cookies.iter().map(|c| c.category.key()).collect();
    for c in categories {
        add(
            Code::P020,
            format!("cookie_category.{c}"),
            &["name", "explanation"],
        );
    }
    let data: BTreeSet<&str> = config
        .purposes
        .iter()
        .flat_map(|p| config.data_categories_of(p))
        .filter_map(|t| match t.get_ref() {
            Text::Same(k) if COMMON_DATA_CATEGORIES.contains(&k.as_str()) => Some(k.as_str()),
            _ => None,
        })
        .collect();
    for k in data {
        add(Code::P020, "data_category".into(), &[k]);
        add(Code::P020, "data_category_explanation".into(), &[k]);
    }
    let safeguards: BTreeSet<&'static str> =
        config.transfers.iter().map(|t| t.safeguard.key()).collect();
    for s in safeguards {
        add(
            Code::P020,
            format!("safeguard.{s}"),
            &["name", "explanation"],
        );
    }
    for p in &config.purposes {
        if let Some(c) = &p.special_category_condition {
            add(Code::P020, "special_condition".into(), &[c.get_ref().key()]);
            add(Code::P020, "purposes".into(), &["special_condition"]);
        }
    }
    // Art. 21(4): the right to object, explicitly and apart.
    if config.purposes.iter().any(|p| p.direct_marketing) {
        add(
            Code::P020,
            "purposes".into(),
            &["direct_marketing_heading", "direct_marketing_note"],
        );
    }
    if bases.contains(&LegalBasis::LegitimateInterests) || bases.contains(&LegalBasis::PublicTask) {
        add(Code::P020, "purposes".into(), &["object_note"]);
    }
    add(Code::P020, "privacy".into(), &["providing_data"]);
    if config.statement.no_automated_decisions() {
        add(Code::P020, "privacy".into(), &["automated_decisions_none"]);
    } else if config.statement.automated_decisions.is_some() {
        // Art. 22(3): what a person can ask when such decisions are taken.
        add(Code::P020, "privacy".into(), &["automated_rights"]);
    }
    add(Code::P020, "authority".into(), &["intro"]);

    let theme = config.site.theme.get_ref();
    for &lang in cx.languages() {
        let strings = cx.site.theme.strings.get(&lang);
        for code in [Code::P011, Code::P020] {
            let missing: Vec<&str> = keys
                .iter()
                .filter(|(c, _)| *c == code)
                .map(|(_, k)| k.as_str())
                .filter(|k| {
                    strings
                        .and_then(|s| lookup(s, k))
                        .is_none_or(|s| s.trim().is_empty())
                })
                .collect();
            if missing.is_empty() {
                continue;
            }
            let what = if code == Code::P011 {
                "a purpose rests on consent, but the text telling people they can withdraw it is"
            } else {
                "standard text the privacy statement relies on is"
            };
            diags.push(
                Diagnostic::error(
                    format!("themes/{theme}/i18n/{lang}.toml"),
                    format!("{what} missing or empty in `{lang}`: {}", missing.join(", ")),
                )
                .with_code(code)
                .with_fix(format!(
                    "write these keys in themes/{theme}/i18n/{lang}.toml, or remove the empty overrides so the built-in texts apply"
                )),
            );
        }
    }
}
