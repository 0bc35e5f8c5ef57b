//! The ejected Dockerfile's decisions: built with a plain `docker build .` from the workspace
//! root, it can't have the tool's context (masked skeleton, staged sources, freshness script),
//! so it copies the real manifests and makes the skeleton's placeholder files in a step of its
//! own. A version bump then rebuilds the dependencies; no cache mounts, so the legacy builder
//! builds it too.

use super::*;

/// Refuses a project whose context reaches beyond the workspace root (a path dependency
/// outside it), which `docker build .` from the root can't send.
pub(super) fn check_root(project: &Project, context: &ContextFiles) -> Result<(), Diagnostic> {
    if context.root == project.workspace_root.as_str() {
        return Ok(());
    }
    let outside: Vec<&str> = project
        .packages
        .iter()
        .filter(|p| !p.dir.starts_with(&project.workspace_root))
        .map(|p| p.name.as_str())
        .collect();
    Err(Diagnostic::error(
        Origin::Flag("--eject"),
        format!(
            "an ejected Dockerfile builds from the workspace root, but {} outside it",
            match outside.as_slice() {
                [one] => format!("package `{one}` lies"),
                many =>
                    format!("packages {} lie", many.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")),
            }
        ),
        "",
    )
    .with_help("move it into the workspace, or build with `cargo containerize`, whose context holds it"))
}

/// The manifests to copy, and the step that makes the placeholder sources.
pub(super) fn ejected(context: &ContextFiles) -> Ejected {
    let is_manifest = |path: &str| {
        let name = path.rsplit('/').next().unwrap_or(path);
        name == "Cargo.toml" || name == "Cargo.lock"
    };
    let (manifests, placeholders): (Vec<&SkeletonFile>, Vec<&SkeletonFile>) =
        context.skeleton.iter().partition(|f| is_manifest(&f.path));
    let mut dirs: Vec<String> =
        placeholders.iter().filter_map(|f| f.path.rsplit_once('/').map(|(dir, _)| dir.to_owned())).collect();
    dirs.sort();
    dirs.dedup();
    let mut script = vec![format!("mkdir -p {}", shell_words(&dirs))];
    for file in &placeholders {
        script.push(format!(
            "printf %s {} > {}",
            shell_words(std::slice::from_ref(&file.contents)),
            shell_words(std::slice::from_ref(&file.path))
        ));
    }
    if dirs.is_empty() {
        script.remove(0);
    }
    Ejected {
        manifests: manifests.iter().map(|f| f.path.clone()).collect(),
        placeholders: ["sh", "-c", &script.join(" && ")].map(str::to_owned).to_vec(),
    }
}
