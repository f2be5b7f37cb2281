//! What changed between two versions of the statement, computed from their
//! facts (never from their wording) and said in the page's language with
//! the theme's `[changes]` strings.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::site::config::{Config, Cookie, Purpose, Recipient};
use crate::site::history::Snapshot;
use crate::theme::lookup;
use crate::vocab::lang::Lang;

/// The snapshot's facts as a configuration, with today's publishing keys:
/// an earlier version renders with the current address and theme.
pub fn config_of(snapshot: &Snapshot, current: &Config, diags: &mut Diagnostics) -> Option<Config> {
    let mut table = snapshot.facts.clone();
    let site = table
        .entry("site")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(site) = site.as_table_mut() {
        let now = &current.site;
        site.insert("id".into(), now.id.get_ref().clone().into());
        site.insert("base_url".into(), now.base_url.get_ref().clone().into());
        site.insert("policy_version".into(), snapshot.version.clone().into());
        site.insert(
            "last_updated".into(),
            toml::Value::Datetime(snapshot.valid_from),
        );
    }
    let text = toml::to_string(&table).ok()?;
    let path = crate::site::history::path_of(std::path::Path::new(""), &snapshot.version);
    let mut own = Diagnostics::default();
    let file = SourceFile {
        path: &path,
        text: &text,
    };
    // The authority's preset filled in as for the current statement.
    let config = Config::parse(file, &mut own).map(|mut c| {
        crate::site::authority::apply_preset(file, &mut c.authority, &mut own);
        c
    });
    if own.has_errors() || config.is_none() {
        diags.push(
            Diagnostic::error(
                &path,
                format!(
                    "version {} cannot be read as a portal.toml by this portaal: {}",
                    snapshot.version,
                    own.0
                        .first()
                        .map(|d| d.message.as_str())
                        .unwrap_or("unknown problem")
                ),
            )
            .with_code(crate::diagnostics::Code::P058)
            .with_fix(
                "restore it from version control; `portaal release` writes it, nothing edits it",
            ),
        );
        return None;
    }
    config
}

/// The facts of one version, for comparing: its configuration and the
/// fingerprints of its own statement sections per language.
pub struct Version<'a> {
    pub config: &'a Config,
    pub sections: &'a BTreeMap<String, BTreeMap<String, String>>,
}

/// Every change from `old` to `new`, one sentence each, in `lang`.
pub fn changes(
    old: &Version,
    new: &Version,
    lang: Lang,
    strings: Option<&toml::Table>,
) -> Vec<String> {
    let say = |key: &str, args: &[(&str, &str)]| {
        let mut s = strings
            .and_then(|t| lookup(t, &format!("changes.{key}")))
            .unwrap_or(key)
            .to_string();
        for (k, v) in args {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    };
    let string = |key: &str| {
        strings
            .and_then(|t| lookup(t, key))
            .unwrap_or(key)
            .to_string()
    };
    let session = string("session");
    let duration = |d: &crate::site::duration::Duration| d.render(lang, &session, strings);
    let place = |code: &str| {
        strings
            .and_then(|t| {
                lookup(t, &format!("country.{code}"))
                    .or_else(|| lookup(t, &format!("region.{code}")))
            })
            .map(str::to_string)
            .or_else(|| crate::site::country::name(code, lang).map(str::to_string))
            .unwrap_or_else(|| code.to_string())
    };
    let name = |p: &Purpose| p.name.get_ref().in_lang(lang);
    let bases = |p: &Purpose| {
        p.legal_basis
            .all()
            .iter()
            .map(|b| string(&format!("legal_basis.{}.name", b.key())))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (o, n) = (old.config, new.config);
    let mut out = Vec::new();

    let find_purpose = |c: &'_ Config, id: &str| -> Option<Purpose> {
        c.purposes.iter().find(|p| p.id.get_ref() == id).cloned()
    };
    for p in &n.purposes {
        match find_purpose(o, p.id.get_ref()) {
            None => out.push(say("purpose_added", &[("purpose", &name(p))])),
            Some(before) => {
                if before.legal_basis != p.legal_basis {
                    out.push(say(
                        "basis_changed",
                        &[
                            ("purpose", &name(p)),
                            ("from", &bases(&before)),
                            ("to", &bases(p)),
                        ],
                    ));
                }
                let was = before
                    .retention(&o.statement)
                    .and_then(|r| r.period.as_ref());
                let is = p.retention(&n.statement).and_then(|r| r.period.as_ref());
                if let (Some(was), Some(is)) = (was, is) {
                    let (a, b) = (
                        super::summary::rough_seconds(was.get_ref()),
                        super::summary::rough_seconds(is.get_ref()),
                    );
                    if a != b {
                        out.push(say(
                            if b > a {
                                "retention_longer"
                            } else {
                                "retention_shorter"
                            },
                            &[
                                ("purpose", &name(p)),
                                ("from", &duration(was.get_ref())),
                                ("to", &duration(is.get_ref())),
                            ],
                        ));
                    }
                }
            }
        }
    }
    for p in &o.purposes {
        if find_purpose(n, p.id.get_ref()).is_none() {
            out.push(say("purpose_removed", &[("purpose", &name(p))]));
        }
    }

    let has_recipient = |c: &Config, r: &Recipient| c.recipients.iter().any(|x| x.id == r.id);
    for r in &n.recipients {
        if !has_recipient(o, r) {
            match &r.country {
                Some(c) => out.push(say(
                    "recipient_added",
                    &[
                        ("recipient", &r.label(lang)),
                        ("country", &place(c.get_ref())),
                    ],
                )),
                None => out.push(say(
                    "recipient_added_nowhere",
                    &[("recipient", &r.label(lang))],
                )),
            }
        }
    }
    for r in &o.recipients {
        if !has_recipient(n, r) {
            out.push(say("recipient_removed", &[("recipient", &r.label(lang))]));
        }
    }

    let label_of = |c: &Config, id: &str| {
        c.recipients
            .iter()
            .find(|r| r.id.get_ref() == id)
            .map(|r| r.label(lang))
            .unwrap_or_else(|| id.to_string())
    };
    let same_transfer = |a: &crate::site::config::Transfer, b: &crate::site::config::Transfer| {
        a.recipient == b.recipient && a.country == b.country
    };
    for t in &n.transfers {
        match o.transfers.iter().find(|x| same_transfer(x, t)) {
            None => out.push(say(
                "transfer_added",
                &[
                    ("recipient", &label_of(n, t.recipient.get_ref())),
                    ("country", &place(t.country.get_ref())),
                    (
                        "safeguard",
                        &string(&format!("safeguard.{}.name", t.safeguard.key())),
                    ),
                ],
            )),
            Some(before) if before.safeguard != t.safeguard => out.push(say(
                "safeguard_changed",
                &[
                    ("recipient", &label_of(n, t.recipient.get_ref())),
                    ("country", &place(t.country.get_ref())),
                    (
                        "safeguard",
                        &string(&format!("safeguard.{}.name", t.safeguard.key())),
                    ),
                ],
            )),
            Some(_) => {}
        }
    }
    for t in &o.transfers {
        if !n.transfers.iter().any(|x| same_transfer(x, t)) {
            out.push(say(
                "transfer_removed",
                &[
                    ("recipient", &label_of(o, t.recipient.get_ref())),
                    ("country", &place(t.country.get_ref())),
                ],
            ));
        }
    }

    // A cookie is the same cookie when its name (or, unnamed, its
    // category and provider) is the same.
    let same_cookie = |a: &Cookie, b: &Cookie| a.label() == b.label();
    for c in &n.cookies {
        match o.cookies.iter().find(|x| same_cookie(x, c)) {
            None => out.push(say("cookie_added", &[("cookie", &c.label())])),
            Some(before) => {
                let was = before.duration.as_ref().map(|d| d.get_ref());
                let is = c.duration.as_ref().map(|d| d.get_ref());
                if let (Some(was), Some(is)) = (was, is)
                    && was != is
                {
                    out.push(say(
                        "cookie_duration",
                        &[
                            ("cookie", &c.label()),
                            ("from", &duration(was)),
                            ("to", &duration(is)),
                        ],
                    ));
                }
            }
        }
    }
    for c in &o.cookies {
        if !n.cookies.iter().any(|x| same_cookie(x, c)) {
            out.push(say("cookie_removed", &[("cookie", &c.label())]));
        }
    }

    let dpo = |c: &Config| {
        c.controller
            .dpo
            .as_ref()
            .map(|d| (d.name.clone(), d.email.get_ref().clone(), d.phone.clone()))
    };
    if dpo(o) != dpo(n) {
        out.push(say("dpo_changed", &[]));
    }
    let authority = |c: &Config| {
        let a = &c.authority;
        format!(
            "{:?}",
            (
                a.preset.as_ref().map(|v| v.get_ref()),
                a.name.as_ref().map(|v| v.get_ref()),
                a.address.as_ref().map(|v| v.get_ref()),
                &a.phone,
                a.email.as_ref().map(|v| v.get_ref()),
                a.website.as_ref().map(|v| v.get_ref()),
                a.complaint_url.as_ref().map(|v| v.get_ref()),
            )
        )
    };
    if authority(o) != authority(n) {
        out.push(say("authority_changed", &[]));
    }

    let empty = BTreeMap::new();
    let before = old.sections.get(lang.code()).unwrap_or(&empty);
    let after = new.sections.get(lang.code()).unwrap_or(&empty);
    let section = |title: &str| match title {
        "" => say("intro_changed", &[]),
        t => say("section_changed", &[("section", t)]),
    };
    for (title, hash) in after {
        if before.get(title) != Some(hash) {
            out.push(section(title));
        }
    }
    for title in before.keys() {
        if !after.contains_key(title) {
            out.push(section(title));
        }
    }
    out
}
