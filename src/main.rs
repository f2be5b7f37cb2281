use std::process::ExitCode;

use clap::Parser;
use portaal::cli::Cli;
use portaal::cmd::{Refused, Reported};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if is_broken_pipe(&e) {
                // The reader went away (`portaal check | head`): like other
                // command-line tools, stop quietly.
                return ExitCode::SUCCESS;
            }
            if let Some(r) = e.downcast_ref::<Refused>() {
                // Nothing was touched; 2 like other argument errors.
                eprintln!("error: {r}");
                return ExitCode::from(2);
            }
            if let Some(r) = e.downcast_ref::<Reported>() {
                // The details were printed where they were found.
                if !r.0.is_empty() {
                    eprintln!("error: {r}");
                }
            } else {
                eprintln!("error: {e}");
                for cause in e.chain().skip(1) {
                    eprintln!("  caused by: {cause}");
                }
            }
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
