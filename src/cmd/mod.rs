//! One module per subcommand, each with its own arguments and one `run`.

pub mod build;
pub mod check;
pub mod endpoint;
pub mod init;
pub mod release;
pub mod scan;
pub mod serve;

pub use crate::diagnostics::{Refused, Reported, print_line};
