//! The finding codes of `portaal check`.
//!
//! Codes are stable: agencies filter on them in CI and search for them in
//! the documentation, so a code is never reused for another meaning. New
//! checks get new numbers. README.md lists the same codes, and a test
//! keeps the two in step, as it does the one fixture per code.

use crate::diagnostics::Severity;

/// One finding code and what it means.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    pub code: &'static str,
    /// The severity the finding normally has.
    pub severity: Severity,
    pub summary: &'static str,
}

const fn code(code: &'static str, severity: Severity, summary: &'static str) -> Code {
    Code {
        code,
        severity,
        summary,
    }
}

use Severity::{Error, Warning};

/// A build problem with no more specific code (TOML syntax, unknown keys,
/// wrong types, template errors). Its message says what is wrong.
pub const BUILD: &str = "P000";

pub const CODES: &[Code] = &[
    code(BUILD, Error, "a problem the build itself reports"),
    code(
        "P001",
        Error,
        "the controller's identity or contact is incomplete",
    ),
    code(
        "P002",
        Error,
        "a DPO is required but no DPO contact is given",
    ),
    code("P003", Error, "a purpose has no legal basis"),
    code(
        "P004",
        Error,
        "a purpose based on legitimate interests does not state the interest",
    ),
    code(
        "P005",
        Warning,
        "no recipients are declared, nor that there are none",
    ),
    code(
        "P006",
        Warning,
        "a recipient is declared but no purpose sends it data",
    ),
    code(
        "P007",
        Error,
        "data go outside the EEA without a safeguard being named",
    ),
    code(
        "P008",
        Warning,
        "an adequacy decision is claimed for a country that has none",
    ),
    code(
        "P009",
        Error,
        "a purpose has no retention period or criteria",
    ),
    code(
        "P010",
        Error,
        "the rights cannot be exercised: no address for requests",
    ),
    code(
        "P011",
        Error,
        "a purpose rests on consent but the text on withdrawing it is missing",
    ),
    code(
        "P012",
        Error,
        "the supervisory authority or its contact is missing",
    ),
    code(
        "P013",
        Warning,
        "it is not stated whether people must provide the data",
    ),
    code(
        "P014",
        Error,
        "automated decision-making and profiling are not addressed",
    ),
    code(
        "P015",
        Error,
        "data from another source lack their source or categories (Art. 14)",
    ),
    code("P016", Warning, "a purpose lists no data categories"),
    code("P017", Error, "the policy version or date is missing"),
    code("P018", Error, "the policy date lies in the future"),
    code("P019", Error, "an unknown authority preset"),
    code(
        "P020",
        Error,
        "a standard text the statement relies on is missing in a language",
    ),
    code("P021", Error, "an enterprise number is invalid"),
    code("P022", Error, "an e-mail address is invalid"),
    code("P023", Error, "a URL is invalid"),
    code("P024", Error, "a text in portal.toml lacks a language"),
    code("P025", Error, "a theme string lacks a language"),
    code(
        "P026",
        Error,
        "a page of the site is missing in one of its languages",
    ),
    code("P027", Error, "an internal link leads nowhere"),
    code("P028", Warning, "an image has no alternative text"),
    code(
        "P030",
        Error,
        "a cookie lacks its provider, duration or category",
    ),
    code(
        "P031",
        Error,
        "the portal's own pages set a cookie or storage key that is not declared",
    ),
    code(
        "P032",
        Error,
        "a third-party script or embed sets cookies that are not declared",
    ),
    code(
        "P033",
        Warning,
        "a third-party resource receives visitors' data but its provider is not a recipient",
    ),
    code(
        "P034",
        Warning,
        "a cookie's category disagrees with the Open Cookie Database",
    ),
    code(
        "P035",
        Warning,
        "the authority preset is probably not the firm's competent authority",
    ),
    code(
        "P036",
        Warning,
        "cookies need consent but there is no link to change or withdraw it",
    ),
    code(
        "P037",
        Error,
        "special-category data without an exception of Art. 9(2)",
    ),
    code(
        "P038",
        Warning,
        "no cookies are declared, nor that there are none",
    ),
    code(
        "P039",
        Warning,
        "no transfers are declared, nor that there are none",
    ),
    code("P040", Error, "no purposes are declared"),
    code(
        "P041",
        Warning,
        "the policy date is more than two years old",
    ),
    code(
        "P042",
        Warning,
        "a purpose does not say who receives its data, nor that no one does",
    ),
    code(
        "P043",
        Warning,
        "the rights pages carry no request form ([endpoint] url is not set)",
    ),
    code(
        "P044",
        Warning,
        "the request forms are on, but how long requests are kept is not stated",
    ),
    code(
        "P045",
        Warning,
        "a cookie is declared by its category only, without a name",
    ),
    code(
        "P046",
        Warning,
        "joint controllers are named, but not the essence of their arrangement",
    ),
    code(
        "P047",
        Warning,
        "a purpose's provision requirement does not fit its legal basis",
    ),
    code(
        "P048",
        Warning,
        "a DPO is probably required, but none is declared",
    ),
    code(
        "P049",
        Warning,
        "a transfer names another country than its recipient's",
    ),
    code(
        "P050",
        Warning,
        "placeholder facts from `portaal init` are still in portal.toml",
    ),
    code("P051", Error, "automated_decisions is empty"),
    code(
        "P052",
        Warning,
        "the facts changed since the last released version, but policy_version or last_updated did not",
    ),
    code(
        "P053",
        Error,
        "a released version in history/ cannot be read",
    ),
];

/// The entry for `code`, if it exists.
pub fn lookup(code: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.code == code)
}
