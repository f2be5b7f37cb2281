//! Test tools from the npm registry: axe-core (accessibility rules run in
//! the browser) and the W3C Nu HTML Checker (`vnu-jar`, run on Java).
//! `scripts/test` installs both into `target/test-tools/`.

use std::path::PathBuf;

fn installed(rel: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-tools/node_modules")
        .join(rel);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/test once (it installs axe-core and vnu-jar \
         with npm into target/test-tools/)",
        path.display()
    );
    path
}

pub fn axe_core() -> PathBuf {
    installed("axe-core/axe.min.js")
}

pub fn vnu_jar() -> PathBuf {
    installed("vnu-jar/build/dist/vnu.jar")
}
