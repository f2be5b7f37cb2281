//! portaal builds multilingual GDPR privacy portals for web agencies' client
//! firms, and runs the endpoint that turns their request forms into tickets.
//!
//! The pipeline is `site` (load and check) → `render` (model, templates,
//! output). Commands in `cmd` are thin layers over it.

pub mod check;
pub mod cli;
pub mod cmd;
pub mod diagnostics;
pub mod endpoint;
pub mod forms;
pub mod render;
pub mod scan;
pub mod serve;
pub mod site;
pub mod theme;
