//! The shape of `portal.toml`: one firm's facts.
//!
//! Every struct denies unknown keys so that a typo is an error rather than a
//! silently missing paragraph in a legal text. Values whose correctness can
//! only be judged later (an e-mail address, an enterprise number) are kept
//! `Spanned`, so that validation can point at the line that holds them.

use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use super::duration::Duration;
use crate::vocab::lang::Lang;
use crate::vocab::text::Text;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSection {
    /// Stable identifier of the client portal; it is signed into every form.
    pub id: Spanned<String>,
    /// Where the portal is published, e.g. `https://privacy.example.be`.
    pub base_url: Spanned<String>,
    pub languages: Spanned<Vec<Lang>>,
    pub default_language: Spanned<Lang>,
    pub title: Spanned<Text>,
    pub policy_version: Spanned<String>,
    pub last_updated: Spanned<Datetime>,
    /// Name of the theme folder under `themes/`; `default` is built in.
    #[serde(default = "default_theme")]
    pub theme: Spanned<String>,
    /// How long one page may take to render, in milliseconds, before the
    /// build fails naming its template (a runaway loop in a theme).
    pub render_budget_ms: Option<Spanned<u64>>,
}

/// The default budget of one page: far above any real page (a few ms).
pub const DEFAULT_BUDGET_MS: u64 = 10_000;

/// The largest budget `[site] render_budget_ms` accepts: ten minutes.
pub const MAX_BUDGET_MS: u64 = 600_000;

impl SiteSection {
    /// The render budget of one page, in milliseconds.
    pub fn render_budget_ms(&self) -> u64 {
        self.render_budget_ms
            .as_ref()
            .map_or(DEFAULT_BUDGET_MS, |b| *b.get_ref())
    }
}

fn default_theme() -> Spanned<String> {
    Spanned::new(0..0, "default".to_string())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street and number; a firm that publishes none leaves it out, and
    /// `portaal check` reports it (P001) rather than the page inventing one.
    pub street: Option<Spanned<String>>,
    pub postal_code: Option<Spanned<String>>,
    pub city: Option<Spanned<Text>>,
    /// ISO 3166-1 alpha-2 code, e.g. `BE`.
    pub country: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dpo {
    pub name: Option<String>,
    pub email: Spanned<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    pub legal_name: String,
    /// The brand the firm trades under, when it is not its legal name.
    pub trade_name: Option<Spanned<Text>>,
    pub legal_form: Option<Spanned<Text>>,
    pub address: Address,
    /// Belgian KBO/BCE number (`0123.456.749`) or Dutch KvK number.
    pub enterprise_number: Option<Spanned<String>>,
    pub email: Spanned<String>,
    pub phone: Option<String>,
    pub website: Option<Spanned<String>>,
    pub dpo: Option<Dpo>,
    /// The representative in the EU of a controller established outside
    /// it (Art. 27); the statement must give its identity and contact.
    pub representative: Option<Representative>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Representative {
    pub name: String,
    pub email: Spanned<String>,
    /// The postal address in one text, e.g. "Rue de la Loi 1, 1000 Brussels, Belgium".
    pub address: Option<Spanned<Text>>,
    pub phone: Option<String>,
}

/// Where tickets from the request forms go. The visitor never chooses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    pub requests: Option<Spanned<String>>,
    pub complaints: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    /// Built-in facts for a national authority, e.g. `"BE"`; explicit fields
    /// below override the preset's.
    pub preset: Option<Spanned<String>>,
    pub name: Option<Spanned<Text>>,
    pub address: Option<Spanned<Text>>,
    pub phone: Option<String>,
    pub email: Option<Spanned<String>>,
    /// A URL, or one per language: an authority often has a site per language.
    pub website: Option<Spanned<Text>>,
    pub complaint_url: Option<Spanned<Text>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// The URL the request forms post to: the agency's `portaal endpoint`.
    pub url: Option<Spanned<String>>,
    /// Send the requester a fixed-text acknowledgement (reference and due
    /// date) once their request was delivered to the firm. On unless set
    /// to `false`: the default thank-you page promises it.
    #[serde(default = "yes")]
    pub acknowledge: bool,
    /// The language of the ticket mails to the firm; the site's default
    /// language when not set.
    pub ticket_language: Option<Spanned<crate::vocab::lang::Lang>>,
    /// The IANA time zone the firm's deadlines are counted in;
    /// `Europe/Brussels` when not set.
    pub time_zone: Option<Spanned<String>>,
    /// What the statement says about the portal's own processing: the
    /// built-in purpose "handling your privacy requests".
    #[serde(default)]
    pub requests: RequestHandling,
}

/// `[endpoint.requests]`: the firm's facts about the requests that reach it
/// through the forms (Art. 13 for the form itself). The purpose, its basis
/// (Art. 6(1)(c) with Art. 12-22) and the form service as processor are
/// built in; how long the firm keeps a request record is its own fact and
/// is never invented: undeclared, the statement names no period and
/// `portaal check` reports it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestHandling {
    /// How long the firm keeps a request and its answer; else
    /// `[statement] retention`, else nothing is said about the period.
    pub retention: Option<Spanned<Retention>>,
    /// Data the firm adds to what the form asks (e.g. `"identity"` when it
    /// asks for a copy of an identity card): built-in keys or own words.
    #[serde(default)]
    pub data_categories: Vec<Spanned<Text>>,
    /// Ids of `[[recipients]]` that also receive requests (a ticket system).
    #[serde(default)]
    pub recipients: Vec<Spanned<String>>,
    /// The name of the agency or firm that runs the form service.
    pub form_service: Option<Spanned<Text>>,
    /// The firm's own words replacing the built-in explanation.
    pub description: Option<Spanned<Text>>,
}

fn yes() -> bool {
    true
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint {
            url: None,
            acknowledge: true,
            ticket_language: None,
            time_zone: None,
            requests: RequestHandling::default(),
        }
    }
}

/// The six lawful bases of GDPR Art. 6(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    PublicTask,
    LegitimateInterests,
}

impl LegalBasis {
    pub fn key(self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent",
            LegalBasis::Contract => "contract",
            LegalBasis::LegalObligation => "legal_obligation",
            LegalBasis::VitalInterests => "vital_interests",
            LegalBasis::PublicTask => "public_task",
            LegalBasis::LegitimateInterests => "legitimate_interests",
        }
    }

    /// The point of Art. 6(1) it rests on, e.g. "6(1)(a)".
    pub fn article(self) -> &'static str {
        match self {
            LegalBasis::Consent => "6(1)(a)",
            LegalBasis::Contract => "6(1)(b)",
            LegalBasis::LegalObligation => "6(1)(c)",
            LegalBasis::VitalInterests => "6(1)(d)",
            LegalBasis::PublicTask => "6(1)(e)",
            LegalBasis::LegitimateInterests => "6(1)(f)",
        }
    }
}

/// The legal bases of one purpose: `"contract"` or `["consent",
/// "legitimate_interests"]`. Never empty, never a basis twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalBases(Vec<LegalBasis>);

impl LegalBases {
    pub fn all(&self) -> &[LegalBasis] {
        &self.0
    }

    pub fn contains(&self, basis: LegalBasis) -> bool {
        self.0.contains(&basis)
    }

    /// The first basis given: what a theme that shows one basis shows.
    pub fn first(&self) -> LegalBasis {
        self.0[0]
    }
}

impl<'de> Deserialize<'de> for LegalBases {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, IntoDeserializer, SeqAccess, Visitor};

        struct BasesVisitor;

        impl<'de> Visitor<'de> for BasesVisitor {
            type Value = Vec<LegalBasis>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a legal basis, or a list of them")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let d: de::value::StrDeserializer<E> = v.into_deserializer();
                Ok(vec![LegalBasis::deserialize(d)?])
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<LegalBasis>()? {
                    if out.contains(&b) {
                        return Err(de::Error::custom(format!(
                            "legal basis `{}` is listed twice",
                            b.key()
                        )));
                    }
                    out.push(b);
                }
                if out.is_empty() {
                    return Err(de::Error::custom("the list of legal bases is empty"));
                }
                Ok(out)
            }
        }

        d.deserialize_any(BasesVisitor).map(LegalBases)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// How long, e.g. `"7y"`.
    pub period: Option<Spanned<Duration>>,
    /// When no fixed period fits: the criteria that decide it.
    pub criteria: Option<Spanned<Text>>,
    /// From when the period runs: a built-in key (`contract_end`,
    /// `last_contact`, `collection`, `financial_year_end`, `account_closed`)
    /// or the firm's own words ("after the event").
    pub start: Option<Spanned<Text>>,
    /// The law that sets the period, named ("Art. III.88 WER").
    pub statutory: Option<Spanned<Text>>,
}

/// Built-in starting points of a retention period (`retention_start.<key>`).
pub const RETENTION_STARTS: [&str; 5] = [
    "contract_end",
    "last_contact",
    "collection",
    "financial_year_end",
    "account_closed",
];

/// Whether a person must give the data (GDPR Art. 13(2)(e)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionRequirement {
    /// A law obliges the person to give the data.
    Legal,
    /// The data are needed to conclude or carry out a contract.
    Contractual,
    /// The person may refuse without consequences beyond the purpose itself.
    Voluntary,
}

/// Facts of the statement that belong to no single purpose (Art. 13(2)).
/// Optional, so that existing portals keep building; `portaal check` says
/// which of them a statement still lacks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Automated decisions and profiling (Art. 13(2)(f)): the string
    /// `"none"` when there are none, else a translatable explanation.
    pub automated_decisions: Option<Spanned<Text>>,
    /// The default for purposes that do not state their own.
    pub provision_requirement: Option<Spanned<ProvisionRequirement>>,
    /// True when Art. 37 obliges the firm to appoint a DPO; the statement
    /// must then give the DPO's contact. `false` written out answers
    /// `portaal check`'s question whether one is needed (P048).
    pub dpo_required: Option<bool>,
    /// Where visitors change or withdraw their cookie consent on the firm's
    /// website (a URL, or one per language): withdrawing must be as easy as
    /// giving consent (Art. 7(3)), so the cookie page links to it.
    pub cookie_settings_url: Option<Spanned<Text>>,
    /// The retention of purposes that state none of their own.
    pub retention: Option<Spanned<Retention>>,
    /// The firm's own security measures, in its words (Art. 32). The
    /// standard text states only what the law requires; what the firm
    /// actually does (encryption, backups, access rules) is a fact to give.
    pub security_measures: Option<Spanned<Text>>,
    /// `"none"`: the website sets no cookies and uses no similar technique.
    /// Without it and without `[[cookies]]`, the statement says nothing
    /// about cookies: silence is never rendered as "we use none".
    pub cookies: Option<Spanned<DeclaredNone>>,
    /// `"none"`: no personal data leave the EEA. Without it and without
    /// `[[transfers]]`, the statement says nothing about transfers.
    pub transfers: Option<Spanned<DeclaredNone>>,
    /// With `[[joint_controllers]]`: the essence of the arrangement between
    /// them (Art. 26(2)), in the firms' words.
    pub joint_arrangement: Option<Spanned<Text>>,
    /// `"none"`: no organisation outside the firm receives personal data.
    /// Without it and without `[[recipients]]`, the statement says nothing.
    pub recipients: Option<Spanned<DeclaredNone>>,
}

/// The only value of a key that declares a list empty: `"none"`. A key of
/// its own, because an absent list is silence, not a claim that there is
/// nothing (a privacy statement must not state what the firm did not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclaredNone {
    None,
}

impl Statement {
    /// The marker for "we take no automated decisions".
    pub const NONE: &'static str = "none";

    /// Whether the firm says it must appoint a DPO.
    pub fn dpo_required(&self) -> bool {
        self.dpo_required == Some(true)
    }

    /// True when the statement declares that there are no automated decisions.
    pub fn no_automated_decisions(&self) -> bool {
        matches!(
            self.automated_decisions.as_ref().map(|t| t.get_ref()),
            Some(Text::Same(s)) if s.trim().eq_ignore_ascii_case(Self::NONE)
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: Spanned<String>,
    pub name: Spanned<Text>,
    pub description: Option<Spanned<Text>>,
    /// One basis, or several where the firm really has them (direct
    /// marketing on "consent or legitimate interests"); each is rendered.
    pub legal_basis: LegalBases,
    /// Required when a basis is `legitimate_interests`.
    pub legitimate_interest: Option<Spanned<Text>>,
    /// Built-in category keys (`identity`, `contact`, …) or own wording.
    #[serde(default)]
    pub data_categories: Vec<Spanned<Text>>,
    /// Else `[statement] retention`, the portal-wide default.
    pub retention: Option<Spanned<Retention>>,
    /// Ids of `[[recipients]]` that receive data for this purpose; `[]`
    /// declares that no one outside the firm does, while leaving the key
    /// out says nothing either way.
    pub recipients: Option<Vec<Spanned<String>>>,
    /// Whether people must give these data; else `[statement]`'s default.
    pub provision_requirement: Option<Spanned<ProvisionRequirement>>,
    /// Where the data come from when not from the person (Art. 14(2)(f)).
    pub source: Option<Spanned<Text>>,
    /// The purpose is direct marketing: people may object without giving a
    /// reason, and the statement must say so separately (Art. 21(2)-(4)).
    #[serde(default)]
    pub direct_marketing: bool,
    /// The Art. 9(2) exception that allows special-category data (health).
    pub special_category_condition: Option<Spanned<SpecialCondition>>,
    /// With judicial data (Art. 10): the law or authority that allows them.
    pub judicial_data_authority: Option<Spanned<Text>>,
    /// Whose data these are: built-in keys (`customers`, `prospects`,
    /// `suppliers`, `job_applicants`, `event_participants`,
    /// `website_visitors`) or ids of `[[audiences]]`. The data categories
    /// of their `[[audiences]]` entries count for the purpose too.
    #[serde(default)]
    pub audiences: Vec<Spanned<String>>,
}

/// Built-in kinds of people whose data a purpose concerns (`audience.<key>`).
pub const AUDIENCES: [&str; 6] = [
    "customers",
    "prospects",
    "suppliers",
    "job_applicants",
    "event_participants",
    "website_visitors",
];

/// `[[audiences]]`: a group of people whose data the firm uses, with the
/// data it keeps about them, declared once for every purpose naming it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// A built-in key (`customers`, …) or the firm's own id.
    pub id: Spanned<String>,
    /// Required for an own id; a built-in key has the theme's wording.
    pub name: Option<Spanned<Text>>,
    #[serde(default)]
    pub data_categories: Vec<Spanned<Text>>,
}

impl Purpose {
    /// The purpose's own retention, else the portal-wide default.
    pub fn retention<'a>(&'a self, statement: &'a Statement) -> Option<&'a Retention> {
        self.retention
            .as_ref()
            .or(statement.retention.as_ref())
            .map(|r| r.get_ref())
    }

    /// The recipients named for this purpose; none when the key is absent.
    pub fn recipient_ids(&self) -> &[Spanned<String>] {
        self.recipients.as_deref().unwrap_or_default()
    }
}

/// The exceptions of GDPR Art. 9(2) to the ban on special-category data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialCondition {
    ExplicitConsent,
    EmploymentSocialSecurity,
    VitalInterests,
    NotForProfitBody,
    MadePublic,
    LegalClaims,
    SubstantialPublicInterest,
    HealthCare,
    PublicHealth,
    ArchivingResearch,
}

impl SpecialCondition {
    /// The key in theme strings (`special_condition.<key>`).
    pub fn key(self) -> &'static str {
        match self {
            SpecialCondition::ExplicitConsent => "explicit_consent",
            SpecialCondition::EmploymentSocialSecurity => "employment_social_security",
            SpecialCondition::VitalInterests => "vital_interests",
            SpecialCondition::NotForProfitBody => "not_for_profit_body",
            SpecialCondition::MadePublic => "made_public",
            SpecialCondition::LegalClaims => "legal_claims",
            SpecialCondition::SubstantialPublicInterest => "substantial_public_interest",
            SpecialCondition::HealthCare => "health_care",
            SpecialCondition::PublicHealth => "public_health",
            SpecialCondition::ArchivingResearch => "archiving_research",
        }
    }

    /// The point of Art. 9(2), e.g. "9(2)(a)".
    pub fn article(self) -> &'static str {
        match self {
            SpecialCondition::ExplicitConsent => "9(2)(a)",
            SpecialCondition::EmploymentSocialSecurity => "9(2)(b)",
            SpecialCondition::VitalInterests => "9(2)(c)",
            SpecialCondition::NotForProfitBody => "9(2)(d)",
            SpecialCondition::MadePublic => "9(2)(e)",
            SpecialCondition::LegalClaims => "9(2)(f)",
            SpecialCondition::SubstantialPublicInterest => "9(2)(g)",
            SpecialCondition::HealthCare => "9(2)(h)",
            SpecialCondition::PublicHealth => "9(2)(i)",
            SpecialCondition::ArchivingResearch => "9(2)(j)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// Processes data on the firm's behalf (Art. 28).
    Processor,
    /// Decides on its own what it does with the data (an accountant, an authority).
    Controller,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub id: Spanned<String>,
    /// The organisation's name; optional when a category says who it is
    /// (Art. 13(1)(e): "recipients or categories of recipients").
    pub name: Option<Spanned<Text>>,
    /// A category of recipients, e.g. "IT service providers".
    pub category: Option<Spanned<Text>>,
    pub kind: RecipientKind,
    /// What they do for the firm, e.g. "web hosting".
    pub service: Option<Spanned<Text>>,
    /// Where the data are processed: an ISO 3166-1 code, or a region (`EU`,
    /// `EEA`, `outside_eea`, `unknown`) when the firm names no country.
    pub country: Option<Spanned<String>>,
}

impl Recipient {
    /// What the statement calls the recipient in `lang`: its category (with
    /// the name after it, when both are given) or its name.
    pub fn label(&self, lang: crate::vocab::lang::Lang) -> String {
        let name = self.name.as_ref().map(|n| n.get_ref().in_lang(lang));
        let category = self.category.as_ref().map(|c| c.get_ref().in_lang(lang));
        match (category, name) {
            (Some(c), Some(n)) => format!("{c} ({n})"),
            (Some(c), None) => c,
            (None, Some(n)) => n,
            (None, None) => self.id.get_ref().clone(),
        }
    }

    /// Every wording of its name and category, in all languages: what a
    /// third party's name is matched against.
    pub fn all_names(&self) -> Vec<String> {
        [&self.name, &self.category]
            .into_iter()
            .flatten()
            .flat_map(|t| match t.get_ref() {
                Text::Same(s) => vec![s.clone()],
                Text::PerLang(m) => m.values().cloned().collect(),
            })
            .collect()
    }

    /// The data are processed outside the EEA for sure.
    pub fn outside_eea(&self) -> bool {
        self.country
            .as_ref()
            .is_some_and(|c| super::country::outside_eea(c.get_ref()))
    }
}

/// The legal instrument that makes a transfer outside the EEA lawful (Art. 45–49).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Safeguard {
    AdequacyDecision,
    StandardContractualClauses,
    BindingCorporateRules,
    Derogation,
}

impl Safeguard {
    pub fn key(self) -> &'static str {
        match self {
            Safeguard::AdequacyDecision => "adequacy_decision",
            Safeguard::StandardContractualClauses => "standard_contractual_clauses",
            Safeguard::BindingCorporateRules => "binding_corporate_rules",
            Safeguard::Derogation => "derogation",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// Id of the `[[recipients]]` entry that receives the data.
    pub recipient: Spanned<String>,
    pub country: Spanned<String>,
    pub safeguard: Safeguard,
    /// Where a copy of the safeguard can be obtained, or more detail.
    pub details: Option<Spanned<Text>>,
    /// The US recipient is certified under the EU-US Data Privacy
    /// Framework: the only case the US adequacy decision covers.
    #[serde(default)]
    pub dpf_certified: bool,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CookieCategory {
    StrictlyNecessary,
    Functional,
    Analytics,
    Marketing,
    SocialMedia,
}

impl CookieCategory {
    pub const ALL: [CookieCategory; 5] = [
        CookieCategory::StrictlyNecessary,
        CookieCategory::Functional,
        CookieCategory::Analytics,
        CookieCategory::Marketing,
        CookieCategory::SocialMedia,
    ];

    pub fn key(self) -> &'static str {
        match self {
            CookieCategory::StrictlyNecessary => "strictly_necessary",
            CookieCategory::Functional => "functional",
            CookieCategory::Analytics => "analytics",
            CookieCategory::Marketing => "marketing",
            CookieCategory::SocialMedia => "social_media",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    First,
    Third,
}

/// What a `[[cookies]]` entry is: a cookie (or similar storage), or a
/// tracking pixel (web beacon), which reports a visit or an opened e-mail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieKind {
    #[default]
    Cookie,
    Pixel,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cookie {
    /// The cookie's name, or the start of its name when `prefix = true`.
    /// Left out, the entry describes cookies of a category as the firm
    /// lists them (no names); `portaal check` then says names are better.
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub prefix: bool,
    /// A cookie (the default) or a tracking pixel.
    #[serde(default)]
    pub kind: CookieKind,
    /// Who sets it; a plain string, or one per language.
    pub provider: Spanned<Text>,
    pub category: CookieCategory,
    pub party: Party,
    /// How long it stays (for an entry without a name: typically); a
    /// pixel may leave it out, since it stores nothing itself.
    pub duration: Option<Spanned<Duration>>,
    pub purpose: Spanned<Text>,
}

impl Cookie {
    /// Where a finding about the entry points: its name, else its provider.
    pub fn at(&self) -> Spanned<()> {
        let span = self
            .name
            .as_ref()
            .map_or_else(|| self.provider.span(), |n| n.span());
        Spanned::new(span, ())
    }

    /// How messages name the entry: its name, or its category and provider.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.get_ref().clone(),
            None => format!(
                "{} entry of {}",
                self.category.key(),
                match self.provider.get_ref() {
                    Text::Same(s) => s.clone(),
                    Text::PerLang(m) => m.values().next().cloned().unwrap_or_default(),
                }
            ),
        }
    }
}

/// `[[joint_controllers]]`: an organisation that decides with the firm why
/// and how data are used (Art. 26); the statement gives its identity and
/// contact next to the firm's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointController {
    pub id: Spanned<String>,
    pub legal_name: String,
    pub trade_name: Option<Spanned<Text>>,
    /// The postal address in one text.
    pub address: Option<Spanned<Text>>,
    pub enterprise_number: Option<Spanned<String>>,
    pub email: Spanned<String>,
    pub phone: Option<String>,
    pub website: Option<Spanned<String>>,
    /// Its part of the arrangement, e.g. "keeps the member register".
    pub responsibilities: Option<Spanned<Text>>,
    /// This organisation is the contact point for requests (Art. 26(1));
    /// people may still turn to each controller (Art. 26(3)).
    #[serde(default)]
    pub handles_requests: bool,
}

/// `[procedure]`: how the firm itself handles requests, where that is a
/// common fact. Each is optional; what is not declared is not rendered as
/// a claim (the standard texts then say only what the law allows).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    /// What the firm asks to confirm a requester's identity, e.g. "a copy
    /// of your identity card, with photo and national number masked".
    pub identity_check: Option<Spanned<Text>>,
    /// The firm's own answer time; never more than the legal month of
    /// Art. 12(3), which the build checks.
    pub answer_within: Option<Spanned<Duration>>,
    /// Someone at the firm a person may turn to with a complaint first.
    /// Optional for the person: the authority stays open at any time.
    pub internal_complaint: Option<InternalComplaint>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternalComplaint {
    /// Who handles complaints, e.g. "our complaints officer".
    pub name: Spanned<Text>,
    pub email: Spanned<String>,
    pub phone: Option<String>,
}

/// Everything in `portal.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    pub site: SiteSection,
    pub controller: Controller,
    pub contacts: Contacts,
    pub authority: Authority,
    pub endpoint: Endpoint,
    pub statement: Statement,
    pub procedure: Procedure,
    pub joint_controllers: Vec<JointController>,
    pub audiences: Vec<Audience>,
    pub purposes: Vec<Purpose>,
    pub recipients: Vec<Recipient>,
    pub transfers: Vec<Transfer>,
    pub cookies: Vec<Cookie>,
}

/// `portal.toml` as far as it could be read: a required section with a
/// mistake it cannot do without is `None`, so that the other sections are
/// still checked in the same run.
pub struct Parts {
    pub site: Option<SiteSection>,
    pub controller: Option<Controller>,
    pub contacts: Option<Contacts>,
    pub authority: Authority,
    pub endpoint: Endpoint,
    pub statement: Statement,
    pub procedure: Procedure,
    pub joint_controllers: Vec<JointController>,
    pub audiences: Vec<Audience>,
    pub purposes: Vec<Purpose>,
    pub recipients: Vec<Recipient>,
    pub transfers: Vec<Transfer>,
    pub cookies: Vec<Cookie>,
    /// Keys whose wrong values were reported and taken out (see
    /// [`crate::vocab::document::Repair`]).
    pub repaired: Vec<crate::vocab::document::Repair>,
}

impl Parts {
    /// The whole configuration, when every required section was read.
    pub fn into_config(self) -> Option<Config> {
        Some(Config {
            site: self.site?,
            controller: self.controller?,
            contacts: self.contacts?,
            authority: self.authority,
            endpoint: self.endpoint,
            statement: self.statement,
            procedure: self.procedure,
            joint_controllers: self.joint_controllers,
            audiences: self.audiences,
            purposes: self.purposes,
            recipients: self.recipients,
            transfers: self.transfers,
            cookies: self.cookies,
        })
    }

    /// True when `key` (e.g. `purposes.legitimate_interest`) was taken out
    /// of the section or entry that holds `at` because its value was wrong:
    /// its absence is then no news.
    pub fn was_repaired<T>(&self, key: &str, at: &Spanned<T>) -> bool {
        let at = at.span();
        self.repaired
            .iter()
            .any(|r| r.key == key && r.within.start <= at.start && at.end <= r.within.end)
    }

    /// Like [`Self::was_repaired`], for a section (which has one span).
    pub fn section_repaired(&self, key: &str) -> bool {
        self.repaired.iter().any(|r| r.key == key)
    }
}

impl Config {
    /// The data categories of `p`: its own, then those of its audiences'
    /// `[[audiences]]` entries, each wording once.
    pub fn data_categories_of<'a>(&'a self, p: &'a Purpose) -> Vec<&'a Spanned<Text>> {
        let mut out: Vec<&Spanned<Text>> = Vec::new();
        let of_audiences = p.audiences.iter().flat_map(|a| {
            self.audiences
                .iter()
                .filter(move |x| x.id.get_ref() == a.get_ref())
                .flat_map(|x| &x.data_categories)
        });
        for c in p.data_categories.iter().chain(of_audiences) {
            if !out.iter().any(|o| o.get_ref() == c.get_ref()) {
                out.push(c);
            }
        }
        out
    }

    /// The top-level keys of `portal.toml`.
    pub const KEYS: [&'static str; 13] = [
        "site",
        "controller",
        "contacts",
        "authority",
        "endpoint",
        "statement",
        "procedure",
        "joint_controllers",
        "audiences",
        "purposes",
        "recipients",
        "transfers",
        "cookies",
    ];

    /// Reads `portal.toml` from its text, collecting every problem.
    pub fn parse(
        file: crate::diagnostics::SourceFile<'_>,
        diags: &mut crate::diagnostics::Diagnostics,
    ) -> Option<Config> {
        Self::parse_parts(file, diags)?.into_config()
    }

    /// Reads what can be read of `portal.toml`, collecting every problem;
    /// `None` only when the file is not TOML at all.
    pub fn parse_parts(
        file: crate::diagnostics::SourceFile<'_>,
        diags: &mut crate::diagnostics::Diagnostics,
    ) -> Option<Parts> {
        let text = file.text;
        let mut doc =
            crate::vocab::document::Document::parse(file, text, 0, diags).require(&REQUIRED);
        if doc.is_empty() && diags.has_errors() {
            return None;
        }
        let site = doc.section("site", true, diags);
        let controller = doc.section("controller", true, diags);
        let contacts = doc.section("contacts", true, diags);
        let authority = doc.section("authority", false, diags).unwrap_or_default();
        let endpoint = doc.section("endpoint", false, diags).unwrap_or_default();
        let statement = doc.section("statement", false, diags).unwrap_or_default();
        let procedure = doc.section("procedure", false, diags).unwrap_or_default();
        let joint_controllers = doc.array("joint_controllers", diags);
        let audiences = doc.array("audiences", diags);
        let purposes = doc.array("purposes", diags);
        let recipients = doc.array("recipients", diags);
        let transfers = doc.array("transfers", diags);
        let cookies = doc.array("cookies", diags);
        let repaired = doc.repaired().to_vec();
        doc.reject_unknown(&Self::KEYS, diags);
        Some(Parts {
            site,
            controller,
            contacts,
            authority,
            endpoint,
            statement,
            procedure,
            joint_controllers,
            audiences,
            purposes,
            recipients,
            transfers,
            cookies,
            repaired,
        })
    }
}

/// Keys the legal checklist requires: their absence is reported under the
/// checklist's code, not as a bare build problem.
const REQUIRED: [crate::vocab::document::Required; 9] = {
    use crate::diagnostics::Code::{P001, P003, P007, P017, P030};
    [
        ("site", "policy_version", P017),
        ("site", "last_updated", P017),
        ("controller", "legal_name", P001),
        ("controller", "address", P001),
        ("controller", "email", P001),
        ("purposes", "legal_basis", P003),
        ("transfers", "safeguard", P007),
        ("cookies", "provider", P030),
        ("cookies", "category", P030),
    ]
};
