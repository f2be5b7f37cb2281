//! Request forms in the preview: they post to a real `portaal endpoint`
//! started by `portaal serve` on loopback, which verifies and validates
//! exactly as in production but writes the ticket e-mails to a local outbox
//! instead of sending them. `/_outbox/` shows that outbox to the editor.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::endpoint::Endpoint;
use crate::endpoint::mailer::{Delivery, MailSettings};
use crate::endpoint::registry::{Registry, SiteEntry};
use crate::endpoint::server::Settings;
use crate::forms::sign::{KeyRing, generate_key_line};
use crate::render::FormTarget;
use crate::render::html::escape;
use crate::site::Site;

/// The preview's endpoint, restarted whenever the site is loaded anew (its
/// forms or contacts may have changed). Its spool and outbox live in a
/// temporary directory removed when `portaal serve` stops.
pub struct PreviewForms {
    dir: tempfile::TempDir,
    keys: KeyRing,
    endpoint: Option<Endpoint>,
    /// The forms' issue time when fixed (`$SOURCE_DATE_EPOCH`); else now.
    issued: Option<u64>,
}

impl PreviewForms {
    /// Makes a throwaway signing key: preview forms are never valid for a
    /// real endpoint, and the site's own key is never needed to preview.
    pub fn new(issued: Option<u64>) -> anyhow::Result<PreviewForms> {
        let line = generate_key_line("preview").context("no randomness for a preview key")?;
        let keys = KeyRing::parse(&line, "preview key").context("preview key")?;
        let dir = tempfile::Builder::new()
            .prefix("portaal-preview-")
            .tempdir()?;
        Ok(PreviewForms {
            dir,
            keys,
            endpoint: None,
            issued,
        })
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    /// (Re)starts the endpoint for `site`, published at `preview_url`, and
    /// says where its forms must post.
    pub fn restart(&mut self, site: &Site, preview_url: &str) -> anyhow::Result<FormTarget> {
        self.endpoint = None; // stop the old one first: it frees its threads
        let mut entry = SiteEntry::new(site, self.keys.clone());
        entry.base_url = preview_url.trim_end_matches('/').to_string();
        let mut registry = Registry::default();
        registry.sites.insert(entry.id.clone(), entry);
        let settings = Settings {
            listen: ([127, 0, 0, 1], 0).into(),
            workers: 2,
            ..Settings::default()
        };
        let mail = MailSettings {
            delivery: Delivery::Outbox(self.outbox()),
            from: "portaal preview <preview@localhost>"
                .parse()
                .expect("valid mailbox"),
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_secs(1),
        };
        let endpoint = Endpoint::start(registry, settings, &self.dir.path().join("spool"), mail)?;
        let action = format!("http://{}/submit", endpoint.addr());
        self.endpoint = Some(endpoint);
        Ok(FormTarget {
            action,
            keys: self.keys.clone(),
            issued: self.issued.unwrap_or_else(|| {
                let today = crate::forms::sign::issue_time(None, crate::vocab::clock::now_secs());
                today.expect("without a value there is nothing to refuse")
            }),
        })
    }
}

/// The outbox page: every ticket e-mail the preview received, newest
/// first, as the firm would get it.
pub fn outbox_page(outbox: &Path) -> String {
    let mut mails: Vec<(std::time::SystemTime, String, String)> = std::fs::read_dir(outbox)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| {
            let modified = e.metadata().and_then(|m| m.modified()).ok()?;
            let text = std::fs::read_to_string(e.path()).ok()?;
            Some((modified, e.file_name().to_string_lossy().into_owned(), text))
        })
        .collect();
    mails.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut body = String::new();
    if mails.is_empty() {
        body.push_str("<p>No request yet. Submit a form on a rights page of the preview; the e-mail the firm would receive appears here.</p>");
    }
    for (_, name, text) in &mails {
        body.push_str(&format!(
            "<article class=\"mail\"><h2>{}</h2><pre>{}</pre></article>",
            escape(name),
            escape(text)
        ));
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Preview outbox</title>\
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}pre{{white-space:pre-wrap;background:#f4f4f4;padding:1rem;overflow:auto}}</style></head>\
<body><h1>Preview outbox</h1><p>{} e-mail(s). Nothing here was sent: <code>portaal serve</code> keeps ticket e-mails local.</p>{body}</body></html>",
        mails.len()
    )
}
