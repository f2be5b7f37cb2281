//! The example portal at the repository root: it builds, and every page is
//! snapshot-tested so that any change of output shows in review.

use crate::support::Portal;

#[test]
fn example_portal_pages() {
    let portal = Portal::example();
    // A fixed signing key and issue time, so the signed forms snapshot stably.
    let out = portal
        .portaal()
        .env(
            "PORTAAL_SIGNING_KEYS",
            format!("example:{}", "0e".repeat(32)),
        )
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .arg("build")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "no warnings: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = portal.files("public");
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".html")).count(),
        4 * 12 + 2
    );
    for file in files {
        if file.ends_with(".html") || file.ends_with(".xml") || file.ends_with(".txt") {
            let name = file.replace('/', "__");
            insta::assert_snapshot!(name, portal.read(&format!("public/{file}")));
        }
    }
}
