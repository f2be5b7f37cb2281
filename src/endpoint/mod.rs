//! `portaal endpoint`: one process that turns every client portal's form
//! posts into e-mail tickets, and loses none of them.
//!
//! A post is read within its limits (`server`, `conns`), checked (`post`,
//! `validate`), written durably to the spool
//! (`spool`) and only then answered; the mail worker (`mailer`) sends it
//! and removes it once the mail server took it.

pub mod address;
pub mod conns;
pub mod logger;
pub mod mailer;
pub mod message;
pub mod post;
pub mod ratelimit;
pub mod registry;
pub mod response;
pub mod segment;
pub mod server;
pub mod spool;
pub mod thanks;
pub mod ticket;
pub mod validate;

use std::net::SocketAddr;
use std::path::Path;

use mailer::{MailSettings, Worker};
use registry::Registry;
use server::{Running, Settings};
use spool::{Committer, Spool};

/// A running endpoint: HTTP server, spool committer and mail worker.
/// Dropping it stops the server first, then the mail worker.
pub struct Endpoint {
    server: Option<Running>,
    _worker: Worker,
}

impl Endpoint {
    pub fn start(
        registry: Registry,
        settings: Settings,
        spool_dir: &Path,
        mail: MailSettings,
    ) -> anyhow::Result<Endpoint> {
        let spool = Spool::open(spool_dir)?;
        let worker = Worker::start(spool.clone(), mail);
        let committer = Committer::start(spool, worker.waker());
        let server = server::start(registry, settings, committer)?;
        Ok(Endpoint {
            server: Some(server),
            _worker: worker,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.as_ref().expect("running").addr()
    }

    /// Serves until the process is stopped; an error if the server can
    /// no longer accept connections (the process should then exit).
    pub fn wait(mut self) -> anyhow::Result<()> {
        match self.server.take() {
            Some(s) => s.wait(),
            None => Ok(()),
        }
    }
}
