//! The finding codes of `portaal check`.
//!
//! Codes are stable: agencies filter on them in CI and search for them in
//! the documentation, so a code is never reused for another meaning. New
//! checks get new numbers. README.md's tables and the fixtures under
//! `tests/fixtures/check/` are tested against this list.

use super::Severity;

/// Declares the codes once: the enum, its severities and summaries.
macro_rules! codes {
    ($($code:ident $severity:ident $summary:literal,)*) => {
        /// A finding code. Every diagnostic of `check` carries one; build
        /// problems without a more specific code are [`Code::P000`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($code,)*
        }

        impl Code {
            /// Every code, in the order of this list.
            pub const ALL: &[Code] = &[$(Code::$code,)*];

            /// The severity the finding normally has.
            pub fn severity(self) -> Severity {
                match self {
                    $(Code::$code => Severity::$severity,)*
                }
            }

            /// What the code means, in one line (README.md's "Summary").
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$code => $summary,)*
                }
            }

            /// The code as written: `P013`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                }
            }
        }
    };
}

codes! {
    P000 Error "a problem the build itself reports",
    P001 Error "the controller's identity or contact is incomplete",
    P002 Error "a DPO is required but no DPO contact is given",
    P003 Error "a purpose has no legal basis",
    P004 Error "a purpose based on legitimate interests does not state the interest",
    P005 Warning "no recipients are declared, nor that there are none",
    P006 Warning "a recipient is declared but no purpose sends it data",
    P007 Error "data go outside the EEA without a safeguard being named",
    P008 Warning "an adequacy decision is claimed for a country that has none",
    P009 Error "a purpose has no retention period or criteria",
    P010 Error "the rights cannot be exercised: no address for requests",
    P011 Error "a purpose rests on consent but the text on withdrawing it is missing",
    P012 Error "the supervisory authority or its contact is missing",
    P013 Warning "it is not stated whether people must provide the data",
    P014 Error "automated decision-making and profiling are not addressed",
    P015 Error "data from another source lack their source or categories (Art. 14)",
    P016 Warning "a purpose lists no data categories",
    P017 Error "the policy version or date is missing",
    P018 Error "the policy date lies in the future",
    P019 Error "an unknown authority preset",
    P020 Error "a standard text the statement relies on is missing in a language",
    P021 Error "an enterprise number is invalid",
    P022 Error "an e-mail address is invalid",
    P023 Error "a URL is invalid",
    P024 Error "a text in portal.toml lacks a language",
    P025 Error "a theme string lacks a language",
    P026 Error "a page of the site is missing in one of its languages",
    P027 Error "an internal link leads nowhere",
    P028 Warning "an image has no alternative text",
    P030 Error "a cookie lacks its provider, duration or category",
    P031 Error "the portal's own pages set a cookie or storage key that is not declared",
    P032 Error "a third-party script or embed sets cookies that are not declared",
    P033 Warning "a third-party resource receives visitors' data but its provider is not a recipient",
    P034 Warning "a cookie's category disagrees with the Open Cookie Database",
    P035 Warning "the authority preset is probably not the firm's competent authority",
    P036 Warning "cookies need consent but there is no link to change or withdraw it",
    P037 Error "special-category data without an exception of Art. 9(2)",
    P038 Warning "no cookies are declared, nor that there are none",
    P039 Warning "no transfers are declared, nor that there are none",
    P040 Error "no purposes are declared",
    P041 Warning "the policy date is more than two years old",
    P042 Warning "a purpose does not say who receives its data, nor that no one does",
    P043 Warning "the rights pages carry no request form ([endpoint] url is not set)",
    P044 Warning "the request forms are on, but how long requests are kept is not stated",
    P045 Warning "a cookie is declared by its category only, without a name",
    P046 Warning "joint controllers are named, but not the essence of their arrangement",
    P047 Warning "a purpose's provision requirement does not fit its legal basis",
    P048 Warning "a DPO is probably required, but none is declared",
    P049 Warning "a transfer names another country than its recipient's",
    P050 Warning "placeholder facts from `portaal init` are still in portal.toml",
    P051 Error "the text on automated decisions is empty",
    P052 Error "the scanned website sets a cookie or storage key that is not declared",
    P053 Warning "a declared cookie was not seen on the scanned website",
    P054 Warning "a cookie on the scanned website lasts more than a day longer or shorter than declared",
    P055 Error "a cookie that needs consent is set before the visitor consents",
    P056 Warning "the scanned website contacts a third party that is not among the recipients",
    P057 Warning "the facts changed since the last released version, but policy_version or last_updated did not",
    P058 Error "a released version in history/ cannot be read",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::str::FromStr for Code {
    type Err = String;

    /// The code written as `P013`; anything else is an error naming it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a finding code of portaal"))
    }
}

/// Saved reports (`portaal scan --format json`) carry codes as text.
impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
