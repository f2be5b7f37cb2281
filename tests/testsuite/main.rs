//! One integration-test binary: a module per feature, each running the real
//! `portaal` binary on small fixture portals in temp dirs.

mod accessibility;
mod build;
mod check;
mod endpoint;
mod errors;
mod example;
mod first_layer;
mod forms;
mod history;
mod mails;
mod nginx;
mod pages;
mod postfix;
mod safety;
mod scan;
mod serve;
mod statement;
mod support;
mod twin;
