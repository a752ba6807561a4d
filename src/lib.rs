//! Rapport: client-feedback survey server for clinics.
//!
//! Dependencies point inward: `cli` → `web`, `jobs` → `context` → `mail` →
//! `actions` → `store` → `domain`. `domain` is pure (no I/O) and depends on
//! nothing else of ours; `context` is the running service (pool, settings,
//! clock, keys, mail transport) that handlers and the job loop share.

pub mod actions;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod context;
pub mod demo;
pub mod domain;
pub mod i18n;
pub mod jobs;
pub mod json;
pub mod mail;
pub mod security;
pub mod server_key;
pub mod store;
pub mod web;

/// The layer rules, checked on the source: a lower layer never imports a
/// higher one, and view code reads no database.
#[cfg(test)]
mod layers {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The modules of ours each layer may name (`crate::…`).
    const RULES: [(&str, &[&str]); 12] = [
        ("domain", &["domain"]),
        ("i18n", &["i18n"]),
        ("security", &["security"]),
        ("clock.rs", &["clock", "store"]),
        ("server_key.rs", &["server_key", "config", "store"]),
        ("config.rs", &["config", "domain", "i18n"]),
        ("store", &["store", "domain", "security", "config"]),
        ("actions", &["actions", "store", "domain", "security", "config"]),
        ("json.rs", &["json", "store", "domain"]),
        (
            "mail",
            &["mail", "store", "domain", "security", "config", "i18n", "clock"],
        ),
        (
            "context.rs",
            &["context", "mail", "store", "security", "config", "clock"],
        ),
        (
            "jobs",
            &["jobs", "context", "mail", "actions", "store", "domain", "config"],
        ),
    ];

    /// Every `crate::…` module named in a file, or in a folder's files.
    fn named_modules(path: &Path, found: &mut BTreeSet<(String, String)>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                named_modules(&entry.unwrap().path(), found);
            }
        } else {
            assert!(path.exists(), "{} is gone: update the layer rules", path.display());
            if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(path).unwrap();
                for (i, _) in text.match_indices("crate::") {
                    let rest = &text[i + "crate::".len()..];
                    let names: Vec<&str> = match rest.strip_prefix('{') {
                        Some(group) => group[..group.find('}').unwrap_or(group.len())]
                            .split(',')
                            .map(|part| part.trim().split("::").next().unwrap_or(""))
                            .collect(),
                        None => vec![
                            rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                                .next()
                                .unwrap_or(""),
                        ],
                    };
                    for name in names.into_iter().filter(|n| !n.is_empty()) {
                        found.insert((path.display().to_string(), name.to_string()));
                    }
                }
            }
        }
    }

    #[test]
    fn no_layer_imports_a_higher_one() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut broken = vec![];
        for (layer, allowed) in RULES {
            let mut found = BTreeSet::new();
            named_modules(&src.join(layer), &mut found);
            for (file, module) in found {
                if !allowed.contains(&module.as_str()) {
                    broken.push(format!("{file} names crate::{module}"));
                }
            }
        }
        assert!(broken.is_empty(), "layer rules broken:\n{}", broken.join("\n"));
    }

    /// View code: maud functions over what a handler already read.
    const VIEWS: [&str; 7] = [
        "web/views",
        "web/admin/views",
        "web/survey/views.rs",
        "web/clinician/views",
        "web/manager/views.rs",
        "web/manager/charts.rs",
        "web/manager/figures.rs",
    ];

    fn view_files(path: &Path, files: &mut Vec<std::path::PathBuf>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                view_files(&entry.unwrap().path(), files);
            }
        } else {
            assert!(path.exists(), "{} is gone: update VIEWS", path.display());
            files.push(path.to_path_buf());
        }
    }

    #[test]
    fn views_read_no_database() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![];
        for view in VIEWS {
            view_files(&src.join(view), &mut files);
        }
        let mut broken = vec![];
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for sign in ["DbConnection", "crate::context", ".db(", ".db_mailing("] {
                if text.contains(sign) {
                    broken.push(format!("{} uses {sign}", file.display()));
                }
            }
        }
        assert!(broken.is_empty(), "views reading the database:\n{}", broken.join("\n"));
    }
}
