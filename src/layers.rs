//! The direction of the crate's modules, enforced.
//!
//! Each top-level module may use only modules of a lower layer, so that a
//! change to a command never reaches down into how a site is read, and
//! every concept has one folder that owns it. This test reads every
//! `crate::` path in `src/` and fails on one that points up or sideways.

use std::path::Path;

/// Lowest first. Modules of one layer do not use each other.
const LAYERS: &[&[&str]] = &[
    &["diagnostics"],
    &["vocab"],
    &["theme"],
    &["forms"],
    &["site"],
    &["render"],
    &["check", "endpoint"],
    &["serve", "scan"],
    &["cmd"],
    &["cli"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level modules named by `crate::` paths on one line, including
/// those inside `use crate::{a, b::c}`; comments are skipped.
fn imports(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or_default();
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or_default();
            out.extend(group.split(',').filter_map(|p| p.trim().split("::").next()));
        } else {
            out.push(
                rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                    .next()
                    .unwrap_or_default(),
            );
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ is readable").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_use_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let from = first.trim_end_matches(".rs");
        if ["lib", "main", "layers"].contains(&from) {
            continue;
        }
        let Some(from_layer) = layer(from) else {
            wrong.push(format!(
                "src/{}: module `{from}` is in no layer of src/layers.rs",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        // A multi-line `use crate::{` group: its lines name modules too.
        let mut in_group = false;
        for (n, line) in text.lines().enumerate() {
            let mut used = imports(line);
            if in_group {
                used.extend(line.split(',').filter_map(|p| p.trim().split("::").next()));
                used.retain(|m| {
                    !m.is_empty()
                        && !m.starts_with('}')
                        && m.chars().all(|c| c.is_alphanumeric() || c == '_')
                });
                in_group = !line.contains('}');
            } else if line.trim_end().ends_with("crate::{") {
                in_group = true;
            }
            for to in used {
                if to == from {
                    continue;
                }
                match layer(to) {
                    Some(l) if l < from_layer => {}
                    Some(_) => wrong.push(format!(
                        "src/{}:{}: `{from}` uses `{to}`, which is not below it",
                        rel.display(),
                        n + 1
                    )),
                    None => wrong.push(format!(
                        "src/{}:{}: `{from}` uses `{to}`, which is in no layer of src/layers.rs",
                        rel.display(),
                        n + 1
                    )),
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers (lowest first: {LAYERS:?}):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn imports_are_read_from_paths_and_groups() {
    assert_eq!(imports("use crate::site::Site; // crate::cmd"), ["site"]);
    assert_eq!(
        imports("use crate::{render, site::lang::Lang};"),
        ["render", "site"]
    );
    assert_eq!(
        imports("    x(crate::serve::run(), crate::cmd::y)"),
        ["serve", "cmd"]
    );
}
