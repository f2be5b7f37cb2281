//! The pages a portal has, whether or not the site writes prose for them.

use serde::{Deserialize, Serialize};

/// A data-subject right, each with its own page and request form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Right {
    /// Art. 15.
    Access,
    /// Art. 16.
    Rectification,
    /// Art. 17.
    Erasure,
    /// Art. 18.
    Restriction,
    /// Art. 20.
    Portability,
    /// Art. 21.
    Objection,
    /// Art. 7(3).
    WithdrawConsent,
    /// Art. 77: a complaint, to the firm first or to the authority.
    Complaint,
}

impl Right {
    pub const ALL: [Right; 8] = [
        Right::Access,
        Right::Rectification,
        Right::Erasure,
        Right::Restriction,
        Right::Portability,
        Right::Objection,
        Right::WithdrawConsent,
        Right::Complaint,
    ];

    /// The page's file stem and URL segment.
    pub fn slug(self) -> &'static str {
        match self {
            Right::Access => "access",
            Right::Rectification => "rectification",
            Right::Erasure => "erasure",
            Right::Restriction => "restriction",
            Right::Portability => "portability",
            Right::Objection => "objection",
            Right::WithdrawConsent => "withdraw-consent",
            Right::Complaint => "complaint",
        }
    }

    /// The GDPR article that grants the right.
    pub fn article(self) -> &'static str {
        match self {
            Right::Access => "15",
            Right::Rectification => "16",
            Right::Erasure => "17",
            Right::Restriction => "18",
            Right::Portability => "20",
            Right::Objection => "21",
            Right::WithdrawConsent => "7(3)",
            Right::Complaint => "77",
        }
    }

    /// The key of this right in theme strings (`right.<key>.title`).
    pub fn key(self) -> &'static str {
        match self {
            Right::WithdrawConsent => "withdraw_consent",
            other => other.slug(),
        }
    }

    pub fn from_slug(slug: &str) -> Option<Right> {
        Right::ALL.into_iter().find(|r| r.slug() == slug)
    }
}

/// The file stem of the firm's own summary (see [`PageKind::is_summary`]).
pub const SUMMARY_SLUG: &str = "summary";

/// What a page is; decides its template, its URL and its structured parts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PageKind {
    /// The landing page of a language.
    Index,
    Privacy,
    Cookies,
    Right(Right),
    /// Shown after a request form was received, with its reference.
    Thanks,
    /// A page of the site's own, with no structured part.
    Custom(String),
}

impl PageKind {
    /// The pages every portal has in every language, in menu order.
    pub fn standard() -> Vec<PageKind> {
        let mut kinds = vec![PageKind::Index, PageKind::Privacy, PageKind::Cookies];
        kinds.extend(Right::ALL.map(PageKind::Right));
        kinds.push(PageKind::Thanks);
        kinds
    }

    /// The page's file stem under `content/<lang>/` and its URL segment.
    pub fn slug(&self) -> &str {
        match self {
            PageKind::Index => "index",
            PageKind::Privacy => "privacy",
            PageKind::Cookies => "cookies",
            PageKind::Right(r) => r.slug(),
            PageKind::Thanks => "thanks",
            PageKind::Custom(s) => s,
        }
    }

    pub fn from_slug(slug: &str) -> PageKind {
        match slug {
            "index" => PageKind::Index,
            "privacy" => PageKind::Privacy,
            "cookies" => PageKind::Cookies,
            "thanks" => PageKind::Thanks,
            other => Right::from_slug(other)
                .map(PageKind::Right)
                .unwrap_or_else(|| PageKind::Custom(other.to_string())),
        }
    }

    /// The theme template that renders this kind.
    pub fn template(&self) -> &'static str {
        match self {
            PageKind::Index => "index.html",
            PageKind::Privacy => "privacy.html",
            PageKind::Cookies => "cookies.html",
            PageKind::Right(_) => "right.html",
            PageKind::Thanks => "thanks.html",
            PageKind::Custom(_) => "page.html",
        }
    }

    /// Path below the language folder: `""` for the landing page, else `slug/`.
    pub fn path(&self) -> String {
        match self {
            PageKind::Index => String::new(),
            other => format!("{}/", other.slug()),
        }
    }

    /// `content/<lang>/summary.md`: the firm's own first layer, shown at
    /// the top of the statement and the landing page; not a page itself.
    pub fn is_summary(&self) -> bool {
        matches!(self, PageKind::Custom(s) if s == SUMMARY_SLUG)
    }

    /// Search engines need not index the thank-you page.
    pub fn in_sitemap(&self) -> bool {
        !matches!(self, PageKind::Thanks)
    }
}
