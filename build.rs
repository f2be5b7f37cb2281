//! Embeds the default theme and the default forms into the binary, so that a
//! bare site directory builds. Every file under `themes/default/` and
//! `forms/` is listed; cargo re-runs this when either folder changes.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = String::new();
    for (name, dir) in [("THEME", "themes/default"), ("FORMS", "forms")] {
        let dir = root.join(dir);
        println!("cargo::rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        if dir.is_dir() {
            collect(&dir, &dir, &mut files);
        }
        files.sort();
        writeln!(out, "pub static {name}: &[(&str, &[u8])] = &[").unwrap();
        for rel in files {
            let abs = dir.join(&rel);
            writeln!(
                out,
                "    ({rel:?}, include_bytes!({:?})),",
                abs.display().to_string()
            )
            .unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
}

fn collect(base: &Path, dir: &Path, files: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(base, &path, files);
        } else {
            let rel = path.strip_prefix(base).unwrap();
            files.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}
