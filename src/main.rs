use std::process::ExitCode;

use clap::Parser;
use portaal::cli::Cli;
use portaal::cmd::Reported;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
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
