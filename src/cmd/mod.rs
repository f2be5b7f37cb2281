//! One module per subcommand, each with its own arguments and one `run`.

pub mod build;
pub mod check;
pub mod endpoint;
pub mod init;
pub mod serve;

/// A failure whose details were already printed (per-site diagnostics);
/// `main` only sets the exit code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);
