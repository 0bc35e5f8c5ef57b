//! The build context's file list: package trees, named copies, the skeleton, the roots.

use super::*;

/// `path` relative to `root`, with `/` separators; empty when they are the same.
pub(super) fn relative(root: &str, path: &str) -> String {
    path.strip_prefix(root).unwrap_or(path).trim_start_matches('/').to_owned()
}

/// The context root holds the workspace and every local package, so relative paths between
/// them (`path = "../lib"`) still hold in the builder. With `tests`, the packages the tests
/// need besides (local dev-dependencies) are sent too.
pub(super) fn context_files(project: &Project, package: &LocalPackage, s: &Settings, tests: bool) -> ContextFiles {
    let mut root = project.workspace_root.clone();
    for p in &project.packages {
        while !p.dir.starts_with(&root) {
            root = root.parent().map(ToOwned::to_owned).unwrap_or_default();
        }
    }
    let root = root.to_string();
    let in_context = |dir: &str, path: &str| {
        let dir = relative(&root, dir);
        clean_path(&if dir.is_empty() { path.to_owned() } else { format!("{dir}/{path}") })
    };
    let workspace = project.workspace_root.as_str();
    let needed = project.needed_by(package, tests);
    let mut copies: Vec<String> = std::iter::once("Cargo.toml")
        .chain(project.root_files.iter().map(String::as_str))
        .map(|f| in_context(workspace, f))
        .collect();
    // Every member's real manifest, needed or not: cargo loads the whole workspace, and a
    // member left with its skeleton manifest (version masked) would disagree with the lockfile.
    copies.extend(project.packages.iter().map(|p| in_context(p.dir.as_str(), "Cargo.toml")));
    // Each target's root file by name, whatever the ignore rules say: the build can't do
    // without it. One outside its package is still inside the workspace root or another
    // package, whose walk brings its modules as that walk chooses files.
    for p in &needed {
        copies.extend(p.targets.iter().map(|target| in_context(p.dir.as_str(), &target.path)));
    }
    copies
        .extend(value(&s.build_include).unwrap_or_default().iter().map(|path| in_context(package.dir.as_str(), path)));
    copies.sort();
    copies.dedup();
    let mut packages: Vec<PackageTree> =
        needed.iter().map(|p| PackageTree { dir: relative(&root, p.dir.as_str()), files: p.files.clone() }).collect();
    // The workspace root's own files too (not its members' trees): members read shared files
    // there at compile time (`../proto/service.proto`, `../../README.md` as docs).
    let workspace_dir = relative(&root, workspace);
    if !packages.iter().any(|p| p.dir == workspace_dir) {
        let own = project.packages.iter().find(|p| p.dir == project.workspace_root).map(|p| p.files.clone());
        packages.push(PackageTree { dir: workspace_dir, files: own.unwrap_or_default() });
    }
    let mut roots: Vec<String> = std::iter::once(workspace)
        .chain(project.packages.iter().map(|p| p.dir.as_str()))
        .map(|d| relative(&root, d))
        .collect();
    roots.sort();
    roots.dedup();
    let skeleton = skeleton::skeleton(project, in_context);
    let include = value(&s.include)
        .unwrap_or_default()
        .into_iter()
        .map(|i| match i.from {
            None => Include { src: in_context(package.dir.as_str(), &i.src), ..i },
            // From another image: its path there, not in the context.
            Some(_) => i,
        })
        .collect();
    let with_skeleton =
        project.root_files.iter().filter(|f| *f != "Cargo.lock").map(|f| in_context(workspace, f)).collect();
    ContextFiles { root, roots, skeleton, with_skeleton, packages, copies, include }
}

/// Go's `filepath.Clean` for `/`-separated paths: `.` and empty parts dropped, `dir/..` pairs
/// folded; a leading `..` stays (so a path that leaves the context root is still seen as
/// such), and an empty result is `.`. Docker cleans `.dockerignore` patterns the same way.
pub fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}
