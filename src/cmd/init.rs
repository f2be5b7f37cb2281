//! `portaal init`: scaffold a client portal that builds and checks clean.

use std::fmt::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::{Refused, print_line};
use crate::vocab::lang::Lang;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The new portal's directory; created if missing, must be empty.
    pub dir: PathBuf,
    /// The portal's languages, the first being the default.
    #[arg(long, value_delimiter = ',', default_value = "nl,fr,de,en")]
    pub languages: Vec<Lang>,
    /// The portal's id, signed into its forms; defaults to the folder name.
    #[arg(long)]
    pub id: Option<String>,
    /// Only add a signing key to an existing portal: creates
    /// `.portaal/signing.keys`, or puts a new key first in it (rotation).
    #[arg(long)]
    pub key_only: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.key_only {
        let (path, rotated) = crate::forms::sign::add_key(&args.dir)?;
        print_line(format_args!(
            "{} signing key in {}; rebuild the portal and restart the endpoint",
            if rotated {
                "added a new first"
            } else {
                "created a"
            },
            path.display()
        ))?;
        return Ok(());
    }
    let languages = checked_languages(&args.languages)?;
    if args.dir.exists() && args.dir.read_dir()?.next().is_some() {
        return Err(Refused(format!(
            "{} is not empty; portaal init only writes into a new or empty folder\n  \
             fix: pass a new folder name, e.g. `portaal init clients/new-firm`",
            args.dir.display()
        ))
        .into());
    }
    let id = match args.id {
        Some(id) => checked_id(&id)?,
        None => default_id(&args.dir),
    };
    std::fs::create_dir_all(args.dir.join("content"))
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    std::fs::write(args.dir.join("portal.toml"), portal_toml(&id, &languages))?;
    std::fs::write(args.dir.join(".gitignore"), "/public/\n/.portaal/\n")?;
    crate::forms::sign::add_key(&args.dir)?;
    for lang in &languages {
        let dir = args.dir.join("content").join(lang.code());
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("index.md"), index_md(*lang))?;
    }
    let shown = args.dir.to_string_lossy();
    let quoted = shlex::try_quote(&shown).unwrap_or_else(|_| shown.clone());
    print_line(format_args!(
        "created portal `{id}` in {} ({}); fill in portal.toml, then run `portaal build {quoted}`",
        args.dir.display(),
        languages
            .iter()
            .map(|l| l.code())
            .collect::<Vec<_>>()
            .join(", "),
    ))?;
    Ok(())
}

/// The languages as given, refused when empty or when one is listed twice
/// (a doubled key would make the written portal.toml invalid).
fn checked_languages(given: &[Lang]) -> anyhow::Result<Vec<Lang>> {
    if given.is_empty() {
        return Err(Refused(format!(
            "--languages needs at least one of: {}",
            Lang::valid_codes()
        ))
        .into());
    }
    let mut seen = Vec::new();
    for lang in given {
        if seen.contains(lang) {
            return Err(Refused(format!(
                "--languages lists `{lang}` twice\n  fix: name each language once, the default first, e.g. --languages nl,fr"
            ))
            .into());
        }
        seen.push(*lang);
    }
    Ok(seen)
}

/// Whether `id` is a site id: lower-case ASCII letters, digits and hyphens
/// (it names the output folder and is signed into every form).
fn is_site_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn checked_id(id: &str) -> anyhow::Result<String> {
    if is_site_id(id) {
        return Ok(id.to_string());
    }
    Err(Refused(format!(
        "--id `{id}` is not a site id: use lower-case letters a-z, digits and hyphens, e.g. --id bakkerij-peeters"
    ))
    .into())
}

/// A site id from the folder name: transliterated to ASCII (`Ça & Co` →
/// `ca-co`), lower-cased, every other run of characters one hyphen.
fn default_id(dir: &std::path::Path) -> String {
    let name = dir
        .file_name()
        .map(|n| deunicode::deunicode(&n.to_string_lossy()).to_lowercase())
        .unwrap_or_default();
    let mut id = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id.trim_end_matches('-').to_string();
    if id.is_empty() { "portal".into() } else { id }
}

/// A translatable value in the chosen languages, from one text per language.
fn text(languages: &[Lang], nl: &str, fr: &str, de: &str, en: &str) -> String {
    let mut out = String::from("{ ");
    for (i, l) in languages.iter().enumerate() {
        let v = match l {
            Lang::Nl => nl,
            Lang::Fr => fr,
            Lang::De => de,
            Lang::En => en,
        };
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{} = {:?}", l.code(), v);
    }
    out.push_str(" }");
    out
}

fn portal_toml(id: &str, languages: &[Lang]) -> String {
    let t = |nl, fr, de, en| text(languages, nl, fr, de, en);
    let langs = languages
        .iter()
        .map(|l| format!("{:?}", l.code()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"# The client firm's facts. The portal's pages, tables and forms come from here.
# Reference: the README of portaal, section "portal.toml".

[site]
id = "{id}"
base_url = "https://privacy.example.be"
languages = [{langs}]
default_language = "{default}"
title = {title}
policy_version = "1.0"
last_updated = 2026-01-01

[controller]
legal_name = "Example BV"
legal_form = {legal_form}
enterprise_number = "0123.456.749"
email = "privacy@example.be"
phone = "+32 2 000 00 00"

[controller.address]
street = "Voorbeeldstraat 1"
postal_code = "1000"
city = {city}
country = "BE"

[contacts]
requests = "info@example.be"
complaints = "complaints@example.be"

# Where the rights pages' request forms post: the address of your
# `portaal endpoint`. Without an [endpoint] url the rights pages explain
# each right but carry no form, and `portaal build` says so. Remove the
# `#` of both lines and put your endpoint's address:
# [endpoint]
# url = "https://forms.agency.example/submit"

# The Belgian Data Protection Authority, in every language, from portaal's
# built-in facts; give name, address, website, … to override any of them.
[authority]
preset = "BE"

# What the statement says beyond the purposes (GDPR Art. 13(2)).
[statement]
# "none", or explain the automated decisions and profiling in each language.
automated_decisions = "none"
# legal, contractual or voluntary; a purpose can state its own.
provision_requirement = "contractual"
# "none" when no personal data leave the EEA; else list each in [[transfers]].
transfers = "none"

[[purposes]]
id = "customers"
name = {purpose}
legal_basis = "contract"
data_categories = ["identity", "contact", "order"]
retention = {{ period = "7y" }}
recipients = ["hosting"]

# Every supplier that handles personal data: hosting, e-mail, payments, …
[[recipients]]
id = "hosting"
name = "Example Hosting NV"
kind = "processor"
service = {hosting}
country = "BE"

[[cookies]]
name = "session"
provider = "Example BV"
category = "strictly_necessary"
party = "first"
duration = "session"
purpose = {cookie}
"#,
        default = languages[0].code(),
        title = t(
            "Privacy bij Example",
            "Vie privée chez Example",
            "Datenschutz bei Example",
            "Privacy at Example"
        ),
        legal_form = t(
            "besloten vennootschap",
            "société à responsabilité limitée",
            "Gesellschaft mit beschränkter Haftung",
            "private limited company"
        ),
        city = t("Brussel", "Bruxelles", "Brüssel", "Brussels"),
        purpose = t(
            "Klanten bedienen",
            "Servir nos clients",
            "Kunden bedienen",
            "Serving our customers"
        ),
        hosting = t(
            "hosting van de website",
            "hébergement du site web",
            "Hosting der Website",
            "website hosting"
        ),
        cookie = t(
            "Houdt je sessie bij.",
            "Garde votre session.",
            "Speichert Ihre Sitzung.",
            "Keeps your session."
        ),
    )
}

fn index_md(lang: Lang) -> String {
    let body = match lang {
        Lang::Nl => {
            "Hier lees je hoe wij met je persoonsgegevens omgaan en hoe je je rechten uitoefent."
        }
        Lang::Fr => {
            "Vous trouverez ici comment nous traitons vos données personnelles et comment exercer vos droits."
        }
        Lang::De => {
            "Hier lesen Sie, wie wir mit Ihren personenbezogenen Daten umgehen und wie Sie Ihre Rechte ausüben."
        }
        Lang::En => {
            "Here you can read how we handle your personal data and how to exercise your rights."
        }
    };
    format!("{body}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ids_are_transliterated_site_ids() {
        for (name, id) in [
            ("Ça & Co", "ca-co"),
            ("Bakkerij Peeters", "bakkerij-peeters"),
            ("--Über--", "uber"),
            ("日本", "ri-ben"),
            ("&&&", "portal"),
        ] {
            let got = default_id(std::path::Path::new(name));
            assert_eq!(got, id, "{name}");
            assert!(is_site_id(&got), "{got}");
        }
    }
}
