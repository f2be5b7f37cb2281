//! Command-line arguments.

use clap::{Parser, Subcommand};

use crate::cmd;

#[derive(Debug, Parser)]
#[command(
    name = "portaal",
    version,
    about = "Builds multilingual GDPR privacy portals with signed request forms"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render one or more portals into static HTML.
    Build(cmd::build::Args),
    /// Report what a portal still lacks (GDPR checklist, cookies, texts).
    Check(cmd::check::Args),
    /// Create a new client portal that builds at once.
    Init(cmd::init::Args),
    /// Receive the portals' form posts and mail them as tickets.
    Endpoint(cmd::endpoint::Args),
    /// Preview a portal with live reload while editing.
    Serve(cmd::serve::Args),
    /// Record the statement's current facts as a released version in history/.
    Release(cmd::release::Args),
    /// Visit the firm's website in Chromium and compare its cookies and
    /// third parties with the portal.
    Scan(cmd::scan::Args),
}

impl Cli {
    /// Runs the chosen command. The error, if any, is for `main` to print.
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Build(args) => cmd::build::run(args),
            Command::Check(args) => cmd::check::run(args),
            Command::Init(args) => cmd::init::run(args),
            Command::Endpoint(args) => cmd::endpoint::run(args),
            Command::Serve(args) => cmd::serve::run(args),
            Command::Release(args) => cmd::release::run(args),
            Command::Scan(args) => cmd::scan::run(args),
        }
    }
}
