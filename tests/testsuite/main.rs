mod build;
mod endpoint;
mod support;
