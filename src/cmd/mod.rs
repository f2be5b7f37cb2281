//! One module per subcommand, each with its own arguments and one `run`.

pub mod build;
pub mod check;
pub mod endpoint;
pub mod init;
pub mod release;
pub mod serve;

/// A failure whose details were already printed (per-site diagnostics);
/// `main` only sets the exit code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// A command that refused to act (a wrong argument, an unsafe output
/// folder) before touching anything. `main` prints it and exits with 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Writes one line to stdout through its lock. Unlike `println!`, a closed
/// pipe (`portaal check | head`) comes back as an error, which `main` ends
/// quietly instead of panicking.
pub fn print_line(line: impl std::fmt::Display) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}
