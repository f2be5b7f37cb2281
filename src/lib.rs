//! portaal builds multilingual GDPR privacy portals for web agencies' client
//! firms, and runs the endpoint that turns their request forms into tickets.
//!
//! The pipeline is `site` (load and check) → `render` (model, templates,
//! output). Commands in `cmd` are thin layers over it. Modules use only
//! lower layers (`src/layers.rs` tests it), lowest first: `diagnostics`,
//! `vocab`, `theme`, `forms`, `site`, `render`, `check` and `endpoint`,
//! `serve` and `scan`, `cmd`, `cli`.
//!
//! The library exists for the binary (`cli`, `cmd`) and for the tests and
//! benchmarks, which drive the endpoint, the forms' signatures and sites
//! directly; what only the binary uses is `pub(crate)`, so that rustc
//! reports it when it falls out of use.

pub(crate) mod check;
pub mod cli;
pub mod cmd;
pub mod diagnostics;
pub mod endpoint;
pub mod forms;
pub(crate) mod render;
pub(crate) mod scan;
pub(crate) mod serve;
pub mod site;
pub(crate) mod theme;
pub mod vocab;

#[cfg(test)]
mod layers;
