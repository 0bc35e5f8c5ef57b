//! Reproducible images (`--reproducible`), against the real engine: one commit, cloned at two
//! different paths and built with no cache, gives one image id under either builder; the
//! assembled image holds what the engine's build of the runtime stage holds.

use containerize_tests::{BUILDERS, TestTag, build, docker, engine_available, example};
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", "2025-01-02T03:04:05Z")
        .env("GIT_COMMITTER_DATE", "2025-01-02T03:04:05Z")
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// The files of an image (path, type, mode, owner, size; not times), read from a container
/// created from it and never started.
fn files_of(image: &str) -> Vec<String> {
    let container = docker(&["create", image]);
    let exported = Command::new("docker").args(["export", &container]).output().unwrap();
    docker(&["rm", &container]);
    assert!(exported.status.success());
    let mut archive = tar::Archive::new(exported.stdout.as_slice());
    let mut files: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let header = entry.header();
            format!(
                "{} {:?} {:o} {}:{} {}",
                entry.path().unwrap().display(),
                header.entry_type(),
                header.mode().unwrap(),
                header.uid().unwrap(),
                header.gid().unwrap(),
                header.size().unwrap()
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn one_commit_cloned_at_two_paths_gives_one_image_id_with_no_cache() {
    if !engine_available("one_commit_cloned_at_two_paths_gives_one_image_id_with_no_cache") {
        return;
    }
    let first = example("hello");
    // A working directory, which every builder must make alike.
    let manifest = first.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("base = \"scratch\"", "base = \"scratch\"\nworkdir = \"/srv/data\""))
        .unwrap();
    git(first.path(), &["init", "-q"]);
    git(first.path(), &["add", "-A"]);
    git(first.path(), &["commit", "-qm", "the commit"]);
    // Elsewhere, deeper, under another name.
    let elsewhere = tempfile::Builder::new().prefix("containerize-second-clone-").tempdir().unwrap();
    let second = elsewhere.path().join("some/deeper/place/hello-again");
    std::fs::create_dir_all(second.parent().unwrap()).unwrap();
    let clone = Command::new("git").arg("clone").arg("-q").arg(first.path()).arg(&second).output().unwrap();
    assert!(clone.status.success(), "{}", String::from_utf8_lossy(&clone.stderr));

    let mut ids = Vec::new();
    for builder in BUILDERS {
        for dir in [first.path(), second.as_path()] {
            let tag = TestTag::new(&format!("reproducible-{builder}-{}", ids.len()));
            let report = build(dir, &tag, &["--reproducible", "--no-cache", "--buildkit", builder]);
            let id = docker(&["image", "inspect", "--format", "{{.Id}}", &tag.0]);
            assert_eq!(report["id"], id, "the id reported is the engine's");
            assert_eq!(docker(&["run", "--rm", &tag.0, "twice"]), "Hello, twice! (from a static container)");
            assert_eq!(
                docker(&["image", "inspect", "--format", "{{.Created}}", &tag.0]),
                "2025-01-02T03:04:05Z",
                "created at the commit's time"
            );
            ids.push((builder, dir.to_owned(), id, tag));
        }
    }
    let (_, _, expected, _) = &ids[0];
    for (builder, dir, id, _) in &ids {
        assert_eq!(id, expected, "{builder} from {}: one commit, one image id", dir.display());
    }

    // What the engine builds of the runtime stage holds the same files (times aside) and
    // runs the same way.
    let engine_built = TestTag::new("reproducible-engine");
    build(first.path(), &engine_built, &[]);
    let assembled = &ids[0].3.0;
    let files = files_of(assembled);
    assert!(files.contains(&"srv/data/ Directory 40755 0:0 0".to_owned()), "{files:#?}");
    assert_eq!(files, files_of(&engine_built.0));
    let config = "{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.User}} {{.Config.WorkingDir}} {{json .Config.Env}} {{json .Config.Labels}}";
    assert_eq!(
        docker(&["image", "inspect", "--format", config, assembled]),
        docker(&["image", "inspect", "--format", config, &engine_built.0])
    );
}
