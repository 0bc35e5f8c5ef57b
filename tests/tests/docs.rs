//! The README's settings reference matches the code's, and every TOML example in it parses
//! with the real reader, without a single warning; its example Dockerfile is what the tool writes.

use containerize_build::keys::KEYS;
use containerize_build::{SourceFile, manifest};

fn readme() -> String {
    std::fs::read_to_string(containerize_tests::repo().join("README.md")).unwrap()
}

/// Reads `toml` as a package manifest; returns every diagnostic.
fn diagnostics(toml: &str) -> Vec<String> {
    let text = format!("[package]\nname = \"doc\"\nversion = \"0.1.0\"\n\n{toml}\n");
    let mut diagnostics = Vec::new();
    manifest::read(&SourceFile::new("README.md", text), &mut diagnostics);
    diagnostics.iter().map(ToString::to_string).collect()
}

#[test]
fn every_key_is_in_the_readme_with_its_summary_and_example() {
    let readme = readme();
    for key in KEYS {
        let row = readme.lines().find(|l| l.starts_with(&format!("| `{}` |", key.name)));
        let row = row.unwrap_or_else(|| panic!("README has no row for `{}`", key.name));
        assert!(row.contains(key.summary), "README's `{}` row lacks: {}", key.name, key.summary);
        let first_line = key.example.lines().next().unwrap();
        assert!(row.contains(&format!("`{first_line}`")), "README's `{}` row lacks its example", key.name);
    }
}

#[test]
fn every_key_example_parses_cleanly() {
    for key in KEYS.iter().filter(|k| k.in_manifest) {
        let toml = if key.example.starts_with('[') {
            key.example.to_owned()
        } else {
            format!("[package.metadata.containerize]\n{}", key.example)
        };
        assert_eq!(diagnostics(&toml), Vec::<String>::new(), "example of `{}`", key.name);
    }
}

#[test]
fn every_toml_block_in_the_readme_parses_cleanly() {
    let readme = readme();
    let blocks: Vec<&str> = readme.split("```toml\n").skip(1).map(|b| b.split("```").next().unwrap()).collect();
    assert!(!blocks.is_empty());
    for block in blocks {
        assert_eq!(diagnostics(block), Vec::<String>::new(), "{block}");
    }
}

#[test]
fn attribute_examples_parse_cleanly() {
    for key in KEYS.iter().filter(|k| !k.in_manifest) {
        let source = SourceFile::new("main.rs", format!("{}\nfn main() {{}}\n", key.example));
        let mut diagnostics = Vec::new();
        let settings = containerize_build::attribute::settings_in_source(&source, &mut diagnostics);
        assert!(settings.is_some(), "the example of `{}` is an attribute on main", key.name);
        assert!(diagnostics.is_empty(), "example of `{}`: {diagnostics:?}", key.name);
    }
}

/// The Dockerfile's lines, with the values that follow the checkout (commit, its time, and so
/// the SBOM's digest) elided.
fn without_revision(dockerfile: &str) -> Vec<String> {
    let marks = ["CONTAINERIZE_REVISION=", "image.created\"=", "image.revision\"=", "sbom.digest\"="];
    dockerfile
        .lines()
        .map(|line| match marks.iter().find_map(|m| line.find(m).map(|at| at + m.len())) {
            Some(at) => format!("{}…{}", &line[..at], if line.ends_with('\\') { " \\" } else { "" }),
            None => line.to_owned(),
        })
        .collect()
}

#[test]
fn the_readme_shows_the_dockerfile_the_tool_writes() {
    let readme = readme();
    let start = readme.find("```dockerfile\n").expect("a Dockerfile in the README") + "```dockerfile\n".len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let web = containerize_tests::repo().join("examples/web");
    let output = containerize_tests::containerize(&web).args(["--print", "--buildkit", "never"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(without_revision(shown), without_revision(&printed), "regenerate the README's example:\n{printed}");
}

#[test]
fn the_readme_lists_every_exit_status_as_help_does() {
    let help = containerize_tests::containerize(std::path::Path::new(".")).arg("--help").output().unwrap().stdout;
    let help = String::from_utf8(help).unwrap();
    let statuses = help.split("Exit status:\n").nth(1).expect("--help lists the exit statuses");
    let readme = readme();
    for line in statuses.lines().filter(|l| !l.trim().is_empty()) {
        let (code, meaning) = line.trim().split_once("  ").expect("a status and its meaning");
        let row = format!("| {code} | {} |", meaning.trim());
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}

#[test]
fn the_readme_shows_the_ejected_dockerfile_the_tool_writes() {
    let readme = readme();
    let blocks = readme.split("```dockerfile\n").skip(1).map(|b| b.split("```").next().unwrap());
    let shown = blocks
        .into_iter()
        .find(|b| b.contains("--print --eject`; edit Cargo.toml"))
        .expect("an ejected Dockerfile in the README");
    let hello = containerize_tests::repo().join("examples/hello");
    let output = containerize_tests::containerize(&hello).args(["--print", "--eject"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(shown, printed, "regenerate the README's ejected example:\n{printed}");
}
