//! The image is exactly its sources: whatever the engine built before (other copies of the
//! project, an unrelated project with the same package name, older versions of a file with
//! older modification times, builds running at the same time), each image runs the code of its
//! own context; the context is each needed package as cargo sees it, and nothing from outside.

use containerize_tests::{
    BUILDERS, TestTag, build, containerize, docker, edit_file, engine_available, example, fixture,
};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// What the hello image tagged `tag` prints.
fn greeting(tag: &TestTag) -> String {
    docker(&["run", "--rm", &tag.0, "x"])
}

/// Sets a file's modification time.
fn set_mtime(path: &Path, time: SystemTime) {
    std::fs::File::options().write(true).open(path).unwrap().set_modified(time).unwrap();
}

#[test]
fn two_copies_of_one_project_each_run_their_own_code() {
    if !engine_available("two_copies_of_one_project_each_run_their_own_code") {
        return;
    }
    for builder in BUILDERS {
        let (a, b) = (example("hello"), example("hello"));
        // B is edited first, so its sources are older than A's build.
        edit_file(&b.path().join("src/main.rs"), "Hello", "Bonjour from B");
        std::thread::sleep(Duration::from_secs(2));
        edit_file(&a.path().join("src/main.rs"), "Hello", "Hallo from A");
        let (tag_a, tag_b) = (TestTag::new(&format!("copy-a-{builder}")), TestTag::new(&format!("copy-b-{builder}")));
        build(a.path(), &tag_a, &["--buildkit", builder]);
        build(b.path(), &tag_b, &["--buildkit", builder]);
        assert_eq!(greeting(&tag_a), "Hallo from A, x! (from a static container)", "{builder}");
        assert_eq!(greeting(&tag_b), "Bonjour from B, x! (from a static container)", "{builder}");
    }
}

#[test]
fn a_restored_older_version_with_its_older_mtime_is_what_the_image_runs() {
    if !engine_available("a_restored_older_version_with_its_older_mtime_is_what_the_image_runs") {
        return;
    }
    let dir = example("hello");
    let main = dir.path().join("src/main.rs");
    let tag = TestTag::new("restore");
    edit_file(&main, "Hello", "Version one");
    let version_one = std::fs::read(&main).unwrap();
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    set_mtime(&main, an_hour_ago);
    build(dir.path(), &tag, &["--buildkit", "always"]);
    assert_eq!(greeting(&tag), "Version one, x! (from a static container)");
    edit_file(&main, "Version one", "Version two");
    build(dir.path(), &tag, &["--buildkit", "always"]);
    assert_eq!(greeting(&tag), "Version two, x! (from a static container)");
    // As `git checkout` of an old commit with preserved times, or a backup restore, does it.
    std::fs::write(&main, version_one).unwrap();
    set_mtime(&main, an_hour_ago);
    build(dir.path(), &tag, &["--buildkit", "always"]);
    assert_eq!(greeting(&tag), "Version one, x! (from a static container)");
}

#[test]
fn two_projects_with_one_package_name_built_at_the_same_time_each_get_their_code() {
    if !engine_available("two_projects_with_one_package_name_built_at_the_same_time_each_get_their_code") {
        return;
    }
    let (a, b) = (example("hello"), example("hello"));
    edit_file(&a.path().join("src/main.rs"), "Hello", "Concurrent A");
    edit_file(&b.path().join("src/main.rs"), "println!(\"Hello", "println!(\"Concurrent B");
    let (tag_a, tag_b) = (TestTag::new("concurrent-a"), TestTag::new("concurrent-b"));
    std::thread::scope(|scope| {
        let first = scope.spawn(|| build(a.path(), &tag_a, &["--buildkit", "always"]));
        let second = scope.spawn(|| build(b.path(), &tag_b, &["--buildkit", "always"]));
        first.join().unwrap();
        second.join().unwrap();
    });
    assert_eq!(greeting(&tag_a), "Concurrent A, x! (from a static container)");
    assert_eq!(greeting(&tag_b), "Concurrent B, x! (from a static container)");
}

#[test]
fn a_package_that_reads_files_while_compiling_builds_with_no_configuration() {
    if !engine_available("a_package_that_reads_files_while_compiling_builds_with_no_configuration") {
        return;
    }
    let dir = fixture("reads-files");
    let expected = "greeting from the package root | <p>page from templates</p> | 8 bytes | message from assets";
    for builder in BUILDERS {
        let tag = TestTag::new(&format!("reads-files-{builder}"));
        build(dir.path(), &tag, &["--buildkit", builder]);
        assert_eq!(docker(&["run", "--rm", &tag.0]), expected, "{builder}");
    }
    // The build script's input changes with an older time: the cached target directory must
    // not take the old output for fresh.
    let message = dir.path().join("assets/message.txt");
    std::fs::write(&message, "a newer message\n").unwrap();
    set_mtime(&message, SystemTime::now() - Duration::from_secs(3600));
    let tag = TestTag::new("reads-files-edited");
    build(dir.path(), &tag, &["--buildkit", "always"]);
    assert!(docker(&["run", "--rm", &tag.0]).ends_with("| a newer message"));
}

/// The names in the context `--print-context` writes for the project in `dir`, with the kind
/// of each entry (`f` file, `l` link).
fn context_of(dir: &Path) -> Vec<(String, char)> {
    let output = containerize(dir).args(["--print-context", "-"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut archive = tar::Archive::new(output.stdout.as_slice());
    let entries = archive.entries().unwrap().map(|entry| {
        let entry = entry.unwrap();
        let kind = if entry.header().entry_type().is_symlink() { 'l' } else { 'f' };
        (entry.path().unwrap().display().to_string(), kind)
    });
    entries.filter(|(name, _)| name.starts_with(".containerize/sources/")).collect()
}

#[test]
fn secrets_ignored_files_links_out_and_sockets_stay_out_of_the_context() {
    let dir = fixture("reads-files");
    let root = dir.path();
    std::fs::write(root.join(".env"), "DATABASE_PASSWORD=hunter2\n").unwrap();
    std::fs::write(root.join(".gitignore"), "/notes\n").unwrap();
    std::fs::create_dir(root.join("notes")).unwrap();
    std::fs::write(root.join("notes/todo.txt"), "private").unwrap();
    std::fs::create_dir(root.join("target")).unwrap();
    std::fs::write(root.join("target/stale"), "x").unwrap();
    std::os::unix::fs::symlink("/etc", root.join("assets/hostetc")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(root.join("assets/agent.sock")).unwrap();
    let names = context_of(root);
    let s = ".containerize/sources";
    let expected = [
        (".gitignore", 'f'),
        ("Cargo.lock", 'f'),
        ("Cargo.toml", 'f'),
        ("assets/hostetc", 'l'),
        ("assets/message.txt", 'f'),
        ("build.rs", 'f'),
        ("data/logo.bin", 'f'),
        ("greeting.txt", 'f'),
        ("src/main.rs", 'f'),
        ("templates/page.html", 'f'),
    ];
    let expected: Vec<(String, char)> = expected.iter().map(|(n, k)| (format!("{s}/{n}"), *k)).collect();
    assert_eq!(names, expected, "no .env, gitignored file, target/ or socket; the link to /etc goes as a link");

    // Named explicitly, a file behind a link out of the project is refused, naming the link.
    let manifest = root.join("Cargo.toml");
    let include =
        "\n[package.metadata.containerize]\ninclude = [{ src = \"assets/hostetc/hostname\", dest = \"/etc/x\" }]\n";
    std::fs::write(&manifest, std::fs::read_to_string(&manifest).unwrap() + include).unwrap();
    let output = containerize(root).args(["--print-context", "-"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("hostetc is a symlink to /etc, outside the project"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing written");
}

#[test]
fn a_target_outside_the_project_is_refused() {
    let dir = fixture("reads-files");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("main.rs"), "fn main() {}\n").unwrap();
    let manifest = dir.path().join("Cargo.toml");
    let bin = format!("\n[[bin]]\nname = \"elsewhere\"\npath = \"{}\"\n", outside.path().join("main.rs").display());
    std::fs::write(&manifest, std::fs::read_to_string(&manifest).unwrap() + &bin).unwrap();
    let output = containerize(dir.path()).args(["--bin", "elsewhere", "--print-context", "-"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("is outside the project"), "{stderr}");
}
