//! The shape ARCHITECTURE.md promises: modules that depend on each other one way only.

use containerize_tests::repo;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The crate's own modules a file names (`crate::x`, `crate::{x, y}`), leaving out comments
/// (doc links are not imports) and the tests at the end of the file.
fn named_modules(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .take_while(|line| line.trim() != "#[cfg(test)]")
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                names.extend(group.split(',').map(|item| ident(item.trim())));
            }
            None => {
                names.insert(ident(rest));
            }
        }
    }
    names.retain(|name| !name.is_empty());
    names
}

/// Each top-level module of `src` (a file, or a directory with its submodules) and the
/// modules of the same crate it names.
fn dependencies(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap();
            let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
            let module = first.trim_end_matches(".rs").to_owned();
            if module == "lib" || module == "bin" {
                continue;
            }
            let named = named_modules(&std::fs::read_to_string(&path).unwrap());
            graph.entry(module.clone()).or_default().extend(named.into_iter().filter(|m| *m != module));
        }
    }
    graph
}

#[test]
fn no_two_modules_import_each_other() {
    let mut cycles = Vec::new();
    for krate in ["containerize-build", "containerize"] {
        let graph = dependencies(&repo().join(krate).join("src"));
        for (module, named) in &graph {
            for other in named {
                if module < other && graph.get(other).is_some_and(|back| back.contains(module)) {
                    cycles.push(format!("{krate}: {module} <-> {other}"));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "modules that import each other:\n{}", cycles.join("\n"));
}

#[test]
fn architecture_md_names_every_module() {
    let map = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    let mut unnamed = Vec::new();
    for krate in ["containerize-build", "containerize"] {
        let src = repo().join(krate).join("src");
        for module in dependencies(&src).keys() {
            // A file module is named `name.rs`, a directory module `name/`.
            let named = [format!("`{module}.rs`"), format!("`{module}/`")];
            if !named.iter().any(|name| map.contains(name.as_str())) {
                unnamed.push(format!("{krate}/src/{module}"));
            }
        }
    }
    assert!(unnamed.is_empty(), "modules ARCHITECTURE.md does not name: {}", unnamed.join(", "));
}
