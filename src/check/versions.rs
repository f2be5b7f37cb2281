//! Released versions (`history/*.toml`): a statement whose facts changed
//! since the last release must say it is a new version (P052), and a
//! snapshot that cannot be read is the build's error (P053).

use crate::diagnostics::{Code, Severity};
use crate::site::history;

use super::Context;

pub(crate) fn run(cx: &Context, diags: &mut crate::diagnostics::Diagnostics) {
    // An unreadable snapshot is the build's error (P053), reported with it.
    let (snapshots, _) = history::load_all(&cx.site.dir);
    let Some(last) = snapshots.last() else {
        return;
    };
    let Some(facts) = history::normalised_facts(cx.text) else {
        return;
    };
    if facts == last.facts {
        return;
    }
    let site = &cx.site.config.site;
    let same_version = site.policy_version.get_ref() == &last.version;
    let same_date = site.last_updated.get_ref().to_string() == last.valid_from.to_string();
    if same_version || same_date {
        let what = match (same_version, same_date) {
            (true, true) => "policy_version and last_updated did not",
            (true, false) => "policy_version did not",
            _ => "last_updated did not",
        };
        let message = format!(
            "the statement's facts changed since version {} was released, but {what}",
            last.version
        );
        let d = if same_version {
            cx.at(Severity::Warning, Code::P057, &site.policy_version, message)
        } else {
            cx.at(Severity::Warning, Code::P057, &site.last_updated, message)
        };
        diags.push(d.with_fix(
            "raise policy_version and set last_updated to the day the new version applies, then run `portaal release`",
        ));
    }
}
