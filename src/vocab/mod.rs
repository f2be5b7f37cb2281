//! The words every layer shares: languages and translatable texts, the
//! pages and rights a portal has, TOML documents that report every problem,
//! safe paths inside a site, identifiers, and the clock.
//!
//! Nothing here knows a site, a theme or a form: `site`, `theme` and
//! `forms` are built from these words.

pub mod clock;
pub mod confine;
pub mod document;
pub mod identifiers;
pub mod lang;
pub mod page_kind;
pub mod text;
