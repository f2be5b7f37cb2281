//! The finding-code cases of `tests/fixtures/check/cases.toml`: the clean
//! portal plus one edit each (the format is described at the top of that
//! file).

use std::collections::BTreeMap;
use std::path::Path;

use toml_edit::{DocumentMut, Item, Value};

use super::{Portal, copy_dir, fixtures};

/// One case: how to turn the clean portal into one that draws its code.
pub struct Case {
    pub code: String,
    remove: Vec<String>,
    set: Vec<(String, Value)>,
    append: Vec<(String, String)>,
    write: Vec<(String, String)>,
    /// Extra arguments to `portaal check`.
    pub args: Vec<String>,
    /// `file:line:column`, or the file alone, of the one finding.
    pub finding: String,
}

/// Every case, by code.
pub fn cases() -> BTreeMap<String, Case> {
    let path = fixtures().join("check/cases.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: DocumentMut = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc.iter()
        .map(|(code, item)| (code.to_string(), case(code, item)))
        .collect()
}

fn case(code: &str, item: &Item) -> Case {
    let table = item
        .as_table_like()
        .unwrap_or_else(|| panic!("cases.toml: [{code}] is not a table"));
    for (key, _) in table.iter() {
        assert!(
            ["remove", "set", "append", "write", "args", "finding"].contains(&key),
            "cases.toml: [{code}] has an unknown key `{key}`"
        );
    }
    let strings = |key: &str| -> Vec<String> {
        table.get(key).map_or_else(Vec::new, |v| {
            v.as_array()
                .unwrap_or_else(|| panic!("cases.toml: {code}.{key} is not an array"))
                .iter()
                .map(|s| s.as_str().expect("a string").to_string())
                .collect()
        })
    };
    let pairs = |key: &str| -> Vec<(String, Value)> {
        table.get(key).map_or_else(Vec::new, |v| {
            v.as_table_like()
                .unwrap_or_else(|| panic!("cases.toml: {code}.{key} is not a table"))
                .iter()
                .map(|(k, v)| {
                    let mut v = v.as_value().expect("a value").clone();
                    v.decor_mut().clear();
                    (k.to_string(), v)
                })
                .collect()
        })
    };
    let texts = |key: &str| -> Vec<(String, String)> {
        pairs(key)
            .into_iter()
            .map(|(k, v)| (k, v.as_str().expect("a string").to_string()))
            .collect()
    };
    Case {
        code: code.to_string(),
        remove: strings("remove"),
        set: pairs("set"),
        append: texts("append"),
        write: texts("write"),
        args: strings("args"),
        finding: table
            .get("finding")
            .and_then(Item::as_str)
            .unwrap_or_else(|| panic!("cases.toml: [{code}] lacks `finding`"))
            .to_string(),
    }
}

impl Case {
    /// Copies the clean portal to `dir` and applies the edit.
    pub fn write_to(&self, dir: &Path) {
        copy_dir(&fixtures().join("check/clean"), dir);
        let toml_path = dir.join("portal.toml");
        let mut doc: DocumentMut = std::fs::read_to_string(&toml_path)
            .unwrap()
            .parse()
            .unwrap();
        for key in &self.remove {
            let (parent, last) = self.parent(&mut doc, key);
            let removed = match last.parse::<usize>() {
                Ok(i) => parent
                    .as_array_of_tables_mut()
                    .filter(|a| i < a.len())
                    .map(|a| a.remove(i))
                    .is_some(),
                Err(_) => parent
                    .as_table_like_mut()
                    .and_then(|t| t.remove(last))
                    .is_some(),
            };
            assert!(removed, "case {}: no key `{key}` to remove", self.code);
        }
        for (key, value) in &self.set {
            let (parent, last) = self.parent(&mut doc, key);
            let table = parent
                .as_table_like_mut()
                .unwrap_or_else(|| panic!("case {}: `{key}` is not in a table", self.code));
            table.insert(last, Item::Value(value.clone()));
        }
        std::fs::write(&toml_path, doc.to_string()).unwrap();
        for (rel, text) in &self.append {
            let path = dir.join(rel);
            let mut old = std::fs::read_to_string(&path).unwrap_or_default();
            old.push_str(text);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, old).unwrap();
        }
        for (rel, text) in &self.write {
            let path = dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    /// The item that holds the last segment of dotted `key`, and that segment.
    fn parent<'d>(&self, doc: &'d mut DocumentMut, key: &'d str) -> (&'d mut Item, &'d str) {
        let mut segments: Vec<&str> = key.split('.').collect();
        let last = segments.pop().unwrap();
        let mut item = doc.as_item_mut();
        for segment in segments {
            // `get` first: `get_mut` would add a missing key.
            let next = match segment.parse::<usize>() {
                Ok(i) => item.get(i).is_some().then(|| item.get_mut(i)).flatten(),
                Err(_) => item
                    .get(segment)
                    .is_some()
                    .then(|| item.get_mut(segment))
                    .flatten(),
            };
            item = next.unwrap_or_else(|| panic!("case {}: no `{segment}` in `{key}`", self.code));
        }
        (item, last)
    }
}

/// The case of `code`, panicking if there is none.
pub fn case_of(code: &str) -> Case {
    cases()
        .remove(code)
        .unwrap_or_else(|| panic!("no case {code} in tests/fixtures/check/cases.toml"))
}

impl Portal {
    /// The clean check fixture with the edit of the case of `code`.
    pub fn check_case(code: &str) -> Portal {
        let portal = Portal::empty();
        case_of(code).write_to(portal.path());
        portal
    }
}
