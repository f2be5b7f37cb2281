//! The endpoint's log on stderr: the `log` crate's records, one line each,
//! `portaal endpoint: LEVEL message` (README, "Logs"). A message of several
//! lines continues on lines indented by two spaces, so every record starts
//! with the prefix. `PORTAAL_LOG` (off, error, warn, info, debug) sets the
//! least severe level written; info when unset.

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};

struct Stderr;

static LOGGER: Stderr = Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            let line = line(record.level(), &record.args().to_string());
            // One write per record, so that the records of several threads
            // never interleave; a closed stderr loses the line, not the
            // server.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// A record as written: the prefix, the level, the message, a newline.
pub fn line(level: Level, message: &str) -> String {
    format!(
        "portaal endpoint: {level} {}\n",
        message.trim_end().replace('\n', "\n  ")
    )
}

/// Installs the logger, at the level `PORTAAL_LOG` names; a second call
/// (`portaal serve` runs an endpoint of its own) keeps the first.
pub fn init() -> Result<(), String> {
    let level = match std::env::var("PORTAAL_LOG") {
        Ok(v) => v
            .parse::<LevelFilter>()
            .map_err(|_| format!("PORTAAL_LOG={v:?}: expected off, error, warn, info or debug"))?,
        Err(_) => LevelFilter::Info,
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_prefixed_line_and_continuations_are_indented() {
        assert_eq!(
            line(Level::Info, "post accepted status=303"),
            "portaal endpoint: INFO post accepted status=303\n"
        );
        assert_eq!(
            line(Level::Warn, "theme of `acme`:\nerror: x\n"),
            "portaal endpoint: WARN theme of `acme`:\n  error: x\n"
        );
    }
}
