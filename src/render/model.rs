//! The site seen in one language: what every template receives.
//!
//! All translatable values are resolved here, once per language, so that
//! templates only print strings and never pick a language themselves.

use serde::Serialize;

use super::citation::Citation;
use crate::site::Site;
use crate::site::config::{
    Config, CookieCategory, CookieKind, LegalBasis, Party, ProvisionRequirement, RecipientKind,
    Safeguard, SpecialCondition,
};
use crate::theme::lookup;
use crate::vocab::lang::Lang;
use crate::vocab::page_kind::Right;
use crate::vocab::text::Text;

#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub id: String,
    pub title: String,
    pub base_url: String,
    pub base_path: String,
    pub default_language: Lang,
    pub policy_version: String,
    pub last_updated: String,
    pub last_updated_iso: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AddressView {
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
    /// The country's name in the page's language.
    pub country_name: String,
    /// There is a postal address to show: a street or a city. A country
    /// alone is no address ("Address: Belgium").
    pub postal: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepresentativeView {
    pub name: String,
    pub email: String,
    pub address: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DpoView {
    pub name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControllerView {
    pub legal_name: String,
    pub trade_name: Option<String>,
    pub legal_form: Option<String>,
    pub address: AddressView,
    pub enterprise_number: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub dpo: Option<DpoView>,
    /// The representative in the EU (Art. 27).
    pub representative: Option<RepresentativeView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactsView {
    pub requests: Option<String>,
    pub complaints: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthorityView {
    pub name: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub complaint_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecipientRef {
    pub id: String,
    /// Its category and/or name (see `Recipient::label`).
    pub name: String,
    pub service: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PurposeView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The first basis, for themes that show one.
    pub legal_basis: LegalBasis,
    /// The point of Art. 6(1) in the code's notation, e.g. `6(1)(a)`.
    pub legal_basis_article: &'static str,
    /// The same, cited as the page's language does (see `citation`).
    pub legal_basis_ref: String,
    /// Every basis of the purpose, in the order given.
    pub legal_bases: Vec<BasisView>,
    /// Their keys, for tests in templates (`"consent" in p.basis_keys`).
    pub basis_keys: Vec<LegalBasis>,
    /// People may object without giving a reason (Art. 21(2)).
    pub direct_marketing: bool,
    /// The Art. 9(2) exception for special-category data, and its citation.
    pub special_condition: Option<SpecialCondition>,
    pub special_condition_ref: Option<String>,
    pub legitimate_interest: Option<String>,
    /// Its own data categories and those of its audiences.
    pub data_categories: Vec<String>,
    /// Whose data: the audiences' names in the page's language.
    pub audiences: Vec<String>,
    /// The law or authority allowing judicial data (Art. 10).
    pub judicial_data_authority: Option<String>,
    pub retention_period: Option<String>,
    pub retention_criteria: Option<String>,
    /// The law that sets the period, when it is statutory.
    pub retention_statutory: Option<String>,
    pub recipients: Vec<RecipientRef>,
    /// The purpose says who receives its data, if only `[]` (no one).
    pub recipients_declared: bool,
    /// The purpose's own, else `[statement]`'s (Art. 13(2)(e)).
    pub provision_requirement: Option<ProvisionRequirement>,
    /// Where the data come from when not from the person (Art. 14(2)(f)).
    pub source: Option<String>,
}

/// One legal basis of a purpose, with its citation.
#[derive(Debug, Clone, Serialize)]
pub struct BasisView {
    pub key: LegalBasis,
    pub article: &'static str,
    pub article_ref: String,
}

/// `[statement]`: what the statement says beyond the purposes.
#[derive(Debug, Clone, Serialize)]
pub struct StatementView {
    /// True for `automated_decisions = "none"`: the theme's standard
    /// sentence applies.
    pub automated_decisions_none: bool,
    /// The firm's own explanation, when there are automated decisions.
    pub automated_decisions: Option<String>,
    pub provision_requirement: Option<ProvisionRequirement>,
    pub dpo_required: bool,
    /// Where visitors change their cookie consent on the firm's website.
    pub cookie_settings_url: Option<String>,
    /// The firm's own security measures, when it states them.
    pub security_measures: Option<String>,
    /// `cookies = "none"`: the website sets no cookies. Without it and
    /// without cookies, the pages say nothing about there being none.
    pub cookies_none: bool,
    /// `transfers = "none"`: no data leave the EEA.
    pub transfers_none: bool,
    /// `recipients = "none"`: no one outside the firm receives data.
    pub recipients_none: bool,
    /// The essence of the joint controllers' arrangement (Art. 26(2)).
    pub joint_arrangement: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecipientView {
    pub id: String,
    /// Its category and/or name (see `Recipient::label`).
    pub name: String,
    pub kind: RecipientKind,
    pub service: Option<String>,
    /// A country code or a region, when the firm states where.
    pub country: Option<String>,
    /// The same in words, in the page's language.
    pub country_name: Option<String>,
    /// The data leave the EEA (Chapter V GDPR).
    pub outside_eea: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransferView {
    pub recipient_name: String,
    pub country: String,
    pub country_name: String,
    pub safeguard: Safeguard,
    pub details: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CookieView {
    /// None for an entry that describes cookies by category only.
    pub name: Option<String>,
    pub prefix: bool,
    pub kind: CookieKind,
    pub provider: String,
    pub party: Party,
    /// None only for a pixel that states none.
    pub duration: Option<String>,
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CookieGroup {
    pub category: CookieCategory,
    pub cookies: Vec<CookieView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RightView {
    pub key: &'static str,
    pub article: &'static str,
    /// The article cited as the page's language does.
    pub article_ref: String,
    pub url: String,
}

/// What the request forms promise the visitor.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointView {
    /// The forms post somewhere (`[endpoint] url`).
    pub forms: bool,
    /// The requester gets an acknowledgement by e-mail.
    pub acknowledge: bool,
    /// The built-in purpose "handling your privacy requests".
    pub requests: RequestsView,
}

/// The portal's own processing (`[endpoint.requests]`): what the forms
/// collect, on which basis, for how long and who receives it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestsView {
    /// The firm's own words, replacing the built-in explanation.
    pub description: Option<String>,
    /// Art. 6(1)(c), cited in the page's language.
    pub basis_ref: String,
    /// Data the firm adds to what the form asks.
    pub data_categories: Vec<String>,
    /// Only what the firm declared: no period is ever invented.
    pub retention_period: Option<String>,
    pub retention_criteria: Option<String>,
    pub retention_statutory: Option<String>,
    /// Who runs the form service (the processor), when the firm names it.
    pub form_service: Option<String>,
    pub recipients: Vec<RecipientRef>,
}

/// One of `[[joint_controllers]]` (Art. 26), in the page's language.
#[derive(Debug, Clone, Serialize)]
pub struct JointControllerView {
    pub id: String,
    pub legal_name: String,
    pub trade_name: Option<String>,
    pub address: Option<String>,
    pub enterprise_number: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub responsibilities: Option<String>,
    pub handles_requests: bool,
}

/// `[procedure]`: the firm's own way of handling requests, when declared.
#[derive(Debug, Clone, Serialize)]
pub struct ProcedureView {
    /// What the firm asks to confirm who a requester is.
    pub identity_check: Option<String>,
    /// The firm's own answer time, in words.
    pub answer_within: Option<String>,
    pub internal_complaint: Option<InternalComplaintView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InternalComplaintView {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// Everything about the firm, in one language.
#[derive(Debug, Clone, Serialize)]
pub struct LangView {
    pub site: SiteView,
    pub controller: ControllerView,
    pub contacts: ContactsView,
    pub authority: AuthorityView,
    pub statement: StatementView,
    pub procedure: ProcedureView,
    pub joint_controllers: Vec<JointControllerView>,
    pub purposes: Vec<PurposeView>,
    /// The legal bases the purposes use, each once, in the order of Art. 6(1).
    pub legal_bases: Vec<BasisView>,
    pub recipients: Vec<RecipientView>,
    pub transfers: Vec<TransferView>,
    pub cookie_groups: Vec<CookieGroup>,
    pub rights: Vec<RightView>,
    pub endpoint: EndpointView,
}

/// Whether `[statement]`'s default requirement can be said of a purpose on
/// `basis`: "we need them for our contract" is false for fraud prevention on
/// legitimate interests, "the law requires them" for a newsletter. A purpose
/// may still state its own requirement whatever its basis.
fn fits_basis(requirement: ProvisionRequirement, basis: LegalBasis) -> bool {
    match requirement {
        ProvisionRequirement::Contractual => basis == LegalBasis::Contract,
        ProvisionRequirement::Legal => basis == LegalBasis::LegalObligation,
        ProvisionRequirement::Voluntary => basis == LegalBasis::Consent,
    }
}

/// What the legal bases alone say about having to give the data (Art.
/// 13(2)(e)): a contract needs them, a legal obligation requires them,
/// consent is free. Other bases, or bases that disagree, say nothing.
pub fn derived_provision(bases: &crate::site::config::LegalBases) -> Option<ProvisionRequirement> {
    let of = |b: &LegalBasis| match b {
        LegalBasis::Contract => Some(ProvisionRequirement::Contractual),
        LegalBasis::LegalObligation => Some(ProvisionRequirement::Legal),
        LegalBasis::Consent => Some(ProvisionRequirement::Voluntary),
        _ => None,
    };
    let first = of(&bases.first())?;
    bases
        .all()
        .iter()
        .all(|b| of(b) == Some(first))
        .then_some(first)
}

fn text(t: &toml::Spanned<Text>, lang: Lang) -> String {
    t.get_ref().in_lang(lang)
}

/// An optional string, trimmed; empty when missing.
fn filled(s: &Option<toml::Spanned<String>>) -> String {
    s.as_ref()
        .map(|s| s.get_ref().trim().to_string())
        .unwrap_or_default()
}

fn opt_text(t: &Option<toml::Spanned<Text>>, lang: Lang) -> Option<String> {
    t.as_ref().map(|t| text(t, lang))
}

/// The path part of `base_url`, always ending in `/`: `/` or `/privacy/`.
pub fn base_path(base_url: &str) -> String {
    let path = url::Url::parse(base_url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let trimmed = path.trim_end_matches('/');
    format!("{trimmed}/")
}

impl LangView {
    pub fn new(site: &Site, base_url: &str, lang: Lang) -> LangView {
        let config: &Config = &site.config;
        let strings = site.theme.strings.get(&lang);
        let string = |key: &str| {
            strings
                .and_then(|s| lookup(s, key))
                .unwrap_or_default()
                .to_string()
        };
        let base_path = base_path(base_url);
        let updated = config.site.last_updated.get_ref();
        let (last_updated, last_updated_iso) = match updated.date {
            Some(d) => (lang.format_date(d.year, d.month, d.day), d.to_string()),
            None => (String::new(), String::new()),
        };
        let ctl = &config.controller;
        let find_recipient = |id: &str| config.recipients.iter().find(|r| r.id.get_ref() == id);
        let category = |t: &toml::Spanned<Text>| match t.get_ref() {
            Text::Same(key) => strings
                .and_then(|s| lookup(s, &format!("data_category.{key}")))
                .map(str::to_string)
                .unwrap_or_else(|| key.clone()),
            other => other.in_lang(lang),
        };
        let session_word = string("session");
        // A theme's own name for a country or region first, then the
        // built-in ISO 3166 name, then the code as written.
        let place_name = |code: &str| {
            let themed = strings.and_then(|s| {
                lookup(s, &format!("country.{code}"))
                    .or_else(|| lookup(s, &format!("region.{code}")))
            });
            themed
                .map(str::to_string)
                .or_else(|| crate::site::country::name(code, lang).map(str::to_string))
                .unwrap_or_else(|| code.to_string())
        };
        let cite = |compact: &str| Citation::parse(compact).render(string);
        // A retention as the page says it: "10 years after the end of the
        // contract", the criteria, and the law that sets it.
        let retention_of = |r: Option<&crate::site::config::Retention>| {
            let start = r.and_then(|r| r.start.as_ref()).map(|t| match t.get_ref() {
                Text::Same(key) => strings
                    .and_then(|s| lookup(s, &format!("retention_start.{key}")))
                    .map(str::to_string)
                    .unwrap_or_else(|| key.clone()),
                other => other.in_lang(lang),
            });
            let period = r
                .and_then(|r| r.period.as_ref())
                .map(|d| d.get_ref().render(lang, &session_word, strings))
                .map(|d| match &start {
                    Some(s) => format!("{d} {s}"),
                    None => d,
                });
            (
                period,
                r.and_then(|r| opt_text(&r.criteria, lang)),
                r.and_then(|r| opt_text(&r.statutory, lang)),
            )
        };
        let recipient_ref = |r: &crate::site::config::Recipient| RecipientRef {
            id: r.id.get_ref().clone(),
            name: r.label(lang),
            service: opt_text(&r.service, lang),
        };
        let default_provision = config
            .statement
            .provision_requirement
            .as_ref()
            .map(|r| *r.get_ref());

        LangView {
            site: SiteView {
                id: config.site.id.get_ref().clone(),
                title: text(&config.site.title, lang),
                base_url: base_url.trim_end_matches('/').to_string(),
                base_path: base_path.clone(),
                default_language: *config.site.default_language.get_ref(),
                policy_version: config.site.policy_version.get_ref().clone(),
                last_updated,
                last_updated_iso,
            },
            controller: ControllerView {
                legal_name: ctl.legal_name.clone(),
                trade_name: opt_text(&ctl.trade_name, lang),
                legal_form: opt_text(&ctl.legal_form, lang),
                address: AddressView {
                    street: filled(&ctl.address.street),
                    postal_code: filled(&ctl.address.postal_code),
                    city: opt_text(&ctl.address.city, lang)
                        .map(|c| c.trim().to_string())
                        .unwrap_or_default(),
                    postal: !filled(&ctl.address.street).is_empty()
                        || ctl
                            .address
                            .city
                            .as_ref()
                            .is_some_and(|c| !text(c, lang).trim().is_empty()),
                    country: ctl.address.country.get_ref().clone(),
                    country_name: place_name(ctl.address.country.get_ref()),
                },
                enterprise_number: ctl.enterprise_number.as_ref().map(|n| n.get_ref().clone()),
                email: ctl.email.get_ref().clone(),
                phone: ctl.phone.clone(),
                website: ctl.website.as_ref().map(|w| w.get_ref().clone()),
                dpo: ctl.dpo.as_ref().map(|d| DpoView {
                    name: d.name.clone(),
                    email: d.email.get_ref().clone(),
                    phone: d.phone.clone(),
                }),
                representative: ctl.representative.as_ref().map(|r| RepresentativeView {
                    name: r.name.clone(),
                    email: r.email.get_ref().clone(),
                    address: opt_text(&r.address, lang),
                    phone: r.phone.clone(),
                }),
            },
            contacts: ContactsView {
                requests: config
                    .contacts
                    .requests
                    .as_ref()
                    .map(|r| r.get_ref().clone()),
                complaints: config
                    .contacts
                    .complaints
                    .as_ref()
                    .map(|r| r.get_ref().clone()),
            },
            authority: AuthorityView {
                name: opt_text(&config.authority.name, lang),
                address: opt_text(&config.authority.address, lang),
                phone: config.authority.phone.clone(),
                email: config.authority.email.as_ref().map(|e| e.get_ref().clone()),
                website: opt_text(&config.authority.website, lang),
                complaint_url: opt_text(&config.authority.complaint_url, lang),
            },
            statement: StatementView {
                automated_decisions_none: config.statement.no_automated_decisions(),
                automated_decisions: config
                    .statement
                    .automated_decisions
                    .as_ref()
                    .filter(|_| !config.statement.no_automated_decisions())
                    .map(|t| text(t, lang)),
                provision_requirement: default_provision,
                dpo_required: config.statement.dpo_required(),
                cookie_settings_url: opt_text(&config.statement.cookie_settings_url, lang),
                security_measures: opt_text(&config.statement.security_measures, lang),
                cookies_none: config.statement.cookies.is_some(),
                transfers_none: config.statement.transfers.is_some(),
                recipients_none: config.statement.recipients.is_some(),
                joint_arrangement: opt_text(&config.statement.joint_arrangement, lang),
            },
            joint_controllers: config
                .joint_controllers
                .iter()
                .map(|j| JointControllerView {
                    id: j.id.get_ref().clone(),
                    legal_name: j.legal_name.clone(),
                    trade_name: opt_text(&j.trade_name, lang),
                    address: opt_text(&j.address, lang),
                    enterprise_number: j.enterprise_number.as_ref().map(|n| n.get_ref().clone()),
                    email: j.email.get_ref().clone(),
                    phone: j.phone.clone(),
                    website: j.website.as_ref().map(|w| w.get_ref().clone()),
                    responsibilities: opt_text(&j.responsibilities, lang),
                    handles_requests: j.handles_requests,
                })
                .collect(),
            procedure: ProcedureView {
                identity_check: opt_text(&config.procedure.identity_check, lang),
                answer_within: config
                    .procedure
                    .answer_within
                    .as_ref()
                    .map(|d| d.get_ref().render(lang, &session_word, strings)),
                internal_complaint: config.procedure.internal_complaint.as_ref().map(|c| {
                    InternalComplaintView {
                        name: text(&c.name, lang),
                        email: c.email.get_ref().clone(),
                        phone: c.phone.clone(),
                    }
                }),
            },
            purposes: config
                .purposes
                .iter()
                .map(|p| {
                    let (retention_period, retention_criteria, retention_statutory) =
                        retention_of(p.retention(&config.statement));
                    PurposeView {
                        id: p.id.get_ref().clone(),
                        name: text(&p.name, lang),
                        description: opt_text(&p.description, lang),
                        legal_basis: p.legal_basis.first(),
                        legal_basis_article: p.legal_basis.first().article(),
                        legal_basis_ref: cite(p.legal_basis.first().article()),
                        legal_bases: p
                            .legal_basis
                            .all()
                            .iter()
                            .map(|b| BasisView {
                                key: *b,
                                article: b.article(),
                                article_ref: cite(b.article()),
                            })
                            .collect(),
                        basis_keys: p.legal_basis.all().to_vec(),
                        direct_marketing: p.direct_marketing,
                        special_condition: p
                            .special_category_condition
                            .as_ref()
                            .map(|c| *c.get_ref()),
                        special_condition_ref: p
                            .special_category_condition
                            .as_ref()
                            .map(|c| cite(c.get_ref().article())),
                        legitimate_interest: opt_text(&p.legitimate_interest, lang),
                        data_categories: config
                            .data_categories_of(p)
                            .into_iter()
                            .map(category)
                            .collect(),
                        audiences: p
                            .audiences
                            .iter()
                            .map(|a| {
                                let id = a.get_ref();
                                config
                                    .audiences
                                    .iter()
                                    .find(|x| x.id.get_ref() == id)
                                    .and_then(|x| opt_text(&x.name, lang))
                                    .or_else(|| {
                                        strings
                                            .and_then(|s| lookup(s, &format!("audience.{id}")))
                                            .map(str::to_string)
                                    })
                                    .unwrap_or_else(|| id.clone())
                            })
                            .collect(),
                        judicial_data_authority: opt_text(&p.judicial_data_authority, lang),
                        retention_period,
                        retention_criteria,
                        retention_statutory,
                        recipients_declared: p.recipients.is_some(),
                        recipients: p
                            .recipient_ids()
                            .iter()
                            .filter_map(|id| find_recipient(id.get_ref()))
                            .map(recipient_ref)
                            .collect(),
                        provision_requirement: p
                            .provision_requirement
                            .as_ref()
                            .map(|r| *r.get_ref())
                            .or(default_provision
                                .filter(|d| p.legal_basis.all().iter().any(|b| fits_basis(*d, *b))))
                            .or_else(|| derived_provision(&p.legal_basis)),
                        source: opt_text(&p.source, lang),
                    }
                })
                .collect(),
            legal_bases: {
                let used: std::collections::BTreeSet<LegalBasis> = config
                    .purposes
                    .iter()
                    .flat_map(|p| p.legal_basis.all().iter().copied())
                    .collect();
                used.into_iter()
                    .map(|b| BasisView {
                        key: b,
                        article: b.article(),
                        article_ref: cite(b.article()),
                    })
                    .collect()
            },
            recipients: config
                .recipients
                .iter()
                .map(|r| RecipientView {
                    id: r.id.get_ref().clone(),
                    name: r.label(lang),
                    kind: r.kind,
                    service: opt_text(&r.service, lang),
                    country: r.country.as_ref().map(|c| c.get_ref().clone()),
                    country_name: r.country.as_ref().map(|c| place_name(c.get_ref())),
                    outside_eea: r.outside_eea(),
                })
                .collect(),
            transfers: config
                .transfers
                .iter()
                .map(|t| TransferView {
                    recipient_name: find_recipient(t.recipient.get_ref())
                        .map(|r| r.label(lang))
                        .unwrap_or_default(),
                    country: t.country.get_ref().clone(),
                    country_name: place_name(t.country.get_ref()),
                    safeguard: t.safeguard,
                    details: opt_text(&t.details, lang),
                })
                .collect(),
            cookie_groups: CookieCategory::ALL
                .into_iter()
                .map(|category| CookieGroup {
                    category,
                    cookies: config
                        .cookies
                        .iter()
                        .filter(|c| c.category == category)
                        .map(|c| CookieView {
                            name: c.name.as_ref().map(|n| n.get_ref().clone()),
                            prefix: c.prefix,
                            kind: c.kind,
                            provider: text(&c.provider, lang),
                            party: c.party,
                            duration: c
                                .duration
                                .as_ref()
                                .map(|d| d.get_ref().render(lang, &session_word, strings)),
                            purpose: text(&c.purpose, lang),
                        })
                        .collect(),
                })
                .filter(|g: &CookieGroup| !g.cookies.is_empty())
                .collect(),
            rights: Right::ALL
                .into_iter()
                .map(|r| RightView {
                    key: r.key(),
                    article: r.article(),
                    article_ref: cite(r.article()),
                    url: format!("{base_path}{lang}/{}/", r.slug()),
                })
                .collect(),
            endpoint: EndpointView {
                forms: config.endpoint.url.is_some(),
                acknowledge: config.endpoint.acknowledge,
                requests: {
                    let r = &config.endpoint.requests;
                    let (retention_period, retention_criteria, retention_statutory) = retention_of(
                        r.retention
                            .as_ref()
                            .or(config.statement.retention.as_ref())
                            .map(|r| r.get_ref()),
                    );
                    RequestsView {
                        description: opt_text(&r.description, lang),
                        basis_ref: cite(LegalBasis::LegalObligation.article()),
                        data_categories: r.data_categories.iter().map(category).collect(),
                        retention_period,
                        retention_criteria,
                        retention_statutory,
                        form_service: opt_text(&r.form_service, lang),
                        recipients: r
                            .recipients
                            .iter()
                            .filter_map(|id| find_recipient(id.get_ref()))
                            .map(recipient_ref)
                            .collect(),
                    }
                },
            },
        }
    }
}
