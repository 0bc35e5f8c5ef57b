//! The image is exactly its sources: whatever the engine built before (other copies of the
//! project, an unrelated project with the same package name, older versions of a file with
//! older modification times, builds running at the same time), each image runs the code of its
//! own context; the context is each needed package as cargo sees it, and nothing from outside.

use containerize_tests::{
    BUILDERS, TestTag, binary, build, containerize, docker, edit_file, engine_available, example, fixture,
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
        let report = build(a.path(), &tag_a, &["--buildkit", builder]);
        build(b.path(), &tag_b, &["--buildkit", builder]);
        // The plan a build used is the one `--print-plan` shows for the same flags and builder.
        let printed =
            containerize(a.path()).args(["--print-plan", "-t", &tag_a.0, "--buildkit", builder]).output().unwrap();
        let printed: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
        assert_eq!(report["plan"], printed[0], "{builder}");
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

#[test]
fn print_context_replaces_a_file_whole_and_writes_through_anything_else() {
    let dir = fixture("reads-files");
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("context.tar");
    // Files of the user's that look like ours are left alone.
    std::fs::write(out.path().join("context.partial"), "mine").unwrap();
    std::fs::write(&file, "old").unwrap();
    containerize(dir.path()).arg("--print-context").arg(&file).assert().success();
    let mut archive = tar::Archive::new(std::fs::File::open(&file).unwrap());
    assert!(archive.entries().unwrap().count() > 5, "a whole archive replaced the old file");
    assert_eq!(std::fs::read_to_string(out.path().join("context.partial")).unwrap(), "mine");
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "no temporary file left: {left:?}");

    // Written inside the project, the archive is not in the next one.
    let inside = dir.path().join("context.tar");
    for _ in 0..2 {
        containerize(dir.path()).arg("--print-context").arg(&inside).assert().success();
    }
    let mut archive = tar::Archive::new(std::fs::File::open(&inside).unwrap());
    let names: Vec<String> =
        archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
    assert!(!names.iter().any(|n| n.ends_with("context.tar")), "{names:?}");

    // A device or a pipe is written to, never replaced.
    containerize(dir.path()).args(["--print-context", "/dev/null"]).assert().success();
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    let fifo = out.path().join("pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap().len())
    };
    containerize(dir.path()).arg("--print-context").arg(&fifo).assert().success();
    assert!(reader.join().unwrap() > 10_000, "the archive went through the pipe");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn ctrl_c_while_the_context_is_written_leaves_no_file_behind() {
    let dir = fixture("reads-files");
    // Large enough that writing it takes a while; sparse, so cheap to make.
    std::fs::File::create(dir.path().join("assets/big.bin")).unwrap().set_len(2_000_000_000).unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("context.tar");
    let mut child = std::process::Command::new(binary())
        .current_dir(dir.path())
        .arg("--print-context")
        .arg(&file)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let partial = || std::fs::read_dir(out.path()).unwrap().next().is_some();
    while !partial() {
        assert!(child.try_wait().unwrap().is_none(), "the write started");
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "nothing half-written: {left:?}");
}

#[test]
fn a_repointed_symlink_builds_the_file_it_now_names() {
    if !engine_available("a_repointed_symlink_builds_the_file_it_now_names") {
        return;
    }
    let dir = example("hello");
    let src = dir.path().join("src");
    edit_file(&src.join("main.rs"), "fn main() {", "mod greeting;\n\nfn main() {");
    edit_file(&src.join("main.rs"), "\"Hello, {name}!", "\"{}, {name}!");
    edit_file(&src.join("main.rs"), "container)\", if", "container)\", greeting::WORD, if");
    std::fs::create_dir(src.join("variants")).unwrap();
    // The second variant is older than the first build: only its content can tell it apart.
    std::fs::write(src.join("variants/two.rs"), "pub const WORD: &str = \"Two\";\n").unwrap();
    set_mtime(&src.join("variants/two.rs"), SystemTime::now() - Duration::from_secs(3600));
    std::fs::write(src.join("variants/one.rs"), "pub const WORD: &str = \"One\";\n").unwrap();
    std::os::unix::fs::symlink("variants/one.rs", src.join("greeting.rs")).unwrap();
    let tag = TestTag::new("repointed");
    for (variant, word) in [("one", "One"), ("two", "Two")] {
        std::fs::remove_file(src.join("greeting.rs")).unwrap();
        std::os::unix::fs::symlink(format!("variants/{variant}.rs"), src.join("greeting.rs")).unwrap();
        build(dir.path(), &tag, &["--buildkit", "always"]);
        assert_eq!(greeting(&tag), format!("{word}, x! (from a static container)"));
    }
}

#[test]
fn a_workspace_member_the_build_does_not_need_keeps_its_real_manifest() {
    if !engine_available("a_workspace_member_the_build_does_not_need_keeps_its_real_manifest") {
        return;
    }
    let dir = example("workspace");
    // A literal version, unlike the others: a masked skeleton manifest would not match the lock.
    edit_file(&dir.path().join("cli/Cargo.toml"), "version.workspace = true", "version = \"3.1.4\"");
    edit_file(
        &dir.path().join("Cargo.lock"),
        "name = \"cli\"\nversion = \"0.2.0\"",
        "name = \"cli\"\nversion = \"3.1.4\"",
    );
    for builder in BUILDERS {
        let tag = TestTag::new(&format!("unneeded-member-{builder}"));
        build(dir.path(), &tag, &["-p", "server", "--locked", "--buildkit", builder]);
    }
}

#[test]
fn a_package_without_a_version_never_ships_the_skeleton_placeholder() {
    if !engine_available("a_package_without_a_version_never_ships_the_skeleton_placeholder") {
        return;
    }
    let dir = example("hello");
    let manifest = dir.path().join("Cargo.toml");
    edit_file(&manifest, "version = \"0.1.0\"\n", "");
    edit_file(
        &dir.path().join("Cargo.lock"),
        "name = \"hello\"\nversion = \"0.1.0\"",
        "name = \"hello\"\nversion = \"0.0.0\"",
    );
    let tag = TestTag::new("versionless");
    edit_file(&dir.path().join("src/main.rs"), "\"Hello", "\"Versionless");
    build(dir.path(), &tag, &["--buildkit", "always"]);
    assert_eq!(greeting(&tag), "Versionless, x! (from a static container)");
    // A manifest change that rebuilds the skeleton's placeholder, now, but not the real crate,
    // whose sources were seen before: the placeholder must not pass for the real build.
    edit_file(&manifest, "edition = \"2024\"", "edition = \"2024\"\nrust-version = \"1.85\"");
    build(dir.path(), &tag, &["--buildkit", "always"]);
    assert_eq!(greeting(&tag), "Versionless, x! (from a static container)");
}

#[test]
fn vendored_sources_and_links_that_stay_inside_go_whole_and_dotenv_directories_not_at_all() {
    let dir = fixture("reads-files");
    let root = dir.path();
    std::fs::create_dir_all(root.join(".cargo")).unwrap();
    std::fs::write(
        root.join(".cargo/config.toml"),
        "[source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = \"vendor\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("vendor/itoa/src")).unwrap();
    std::fs::write(root.join("vendor/itoa/Cargo.toml"), "[package]\nname = \"itoa\"\n").unwrap();
    std::fs::write(root.join("vendor/itoa/src/lib.rs"), "").unwrap();
    std::fs::create_dir_all(root.join(".env.d")).unwrap();
    std::fs::write(root.join(".env.d/production"), "SECRET=1\n").unwrap();
    std::fs::create_dir_all(root.join("shared/css")).unwrap();
    std::fs::write(root.join("shared/css/site.css"), "p {}\n").unwrap();
    std::os::unix::fs::symlink("../shared/css", root.join("templates/css")).unwrap();
    let names: Vec<String> = context_of(root).into_iter().map(|(n, k)| format!("{n} {k}")).collect();
    let s = ".containerize/sources";
    for expected in ["vendor/itoa/Cargo.toml f", "vendor/itoa/src/lib.rs f", "templates/css/site.css f"] {
        assert!(names.contains(&format!("{s}/{expected}")), "{expected} in {names:#?}");
    }
    assert!(!names.iter().any(|n| n.contains(".env.d")), "{names:#?}");
}

#[test]
fn a_member_reading_workspace_files_and_a_local_crate_named_like_a_registry_one_build() {
    if !engine_available("a_member_reading_workspace_files_and_a_local_crate_named_like_a_registry_one_build") {
        return;
    }
    let dir = fixture("shared-files");
    for builder in BUILDERS {
        let tag = TestTag::new(&format!("shared-files-{builder}"));
        build(dir.path(), &tag, &["--locked", "--buildkit", builder]);
        assert_eq!(docker(&["run", "--rm", &tag.0]), "service Greeter from the shared proto | 42 | the local itoa");
    }
}

#[test]
fn a_build_script_reading_a_file_cargo_does_not_track_sees_its_own_copy() {
    if !engine_available("a_build_script_reading_a_file_cargo_does_not_track_sees_its_own_copy") {
        return;
    }
    let (a, b) = (fixture("reads-files"), fixture("reads-files"));
    for copy in [&a, &b] {
        // Only the script itself is declared: cargo can't know the asset matters.
        edit_file(&copy.path().join("build.rs"), "rerun-if-changed=assets/message.txt", "rerun-if-changed=build.rs");
    }
    std::fs::write(b.path().join("assets/message.txt"), "copy B's message\n").unwrap();
    let (tag_a, tag_b) = (TestTag::new("untracked-a"), TestTag::new("untracked-b"));
    build(a.path(), &tag_a, &["--buildkit", "always"]);
    build(b.path(), &tag_b, &["--buildkit", "always"]);
    assert!(docker(&["run", "--rm", &tag_b.0]).ends_with("| copy B's message"), "as cargo on B's own checkout");
}

#[test]
fn a_link_leading_out_of_the_project_is_followed_in_the_builder_and_repointing_it_rebuilds() {
    if !engine_available("a_link_leading_out_of_the_project_is_followed_in_the_builder_and_repointing_it_rebuilds") {
        return;
    }
    let dir = fixture("reads-files");
    let greeting = dir.path().join("greeting.txt");
    let tag = TestTag::new("link-out");
    build(dir.path(), &tag, &["--buildkit", "always"]);
    // Sent as a link, read in the builder through it: the builder's file, older than any build.
    std::fs::remove_file(&greeting).unwrap();
    std::os::unix::fs::symlink("/etc/debian_version", &greeting).unwrap();
    build(dir.path(), &tag, &["--buildkit", "always"]);
    let version = docker(&["run", "--rm", "--entrypoint", "cat", "rust:1.95.0-slim-trixie", "/etc/debian_version"]);
    assert!(docker(&["run", "--rm", &tag.0]).starts_with(&format!("{version} |")));
    std::fs::remove_file(&greeting).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &greeting).unwrap();
    build(dir.path(), &tag, &["--buildkit", "always"]);
    assert!(!docker(&["run", "--rm", &tag.0]).starts_with(&format!("{version} |")), "rebuilt for the new target");
}

#[test]
fn vendored_sources_build_from_the_vendor_directory() {
    if !engine_available("vendored_sources_build_from_the_vendor_directory") {
        return;
    }
    let dir = fixture("shared-files");
    let vendor = std::process::Command::new(env!("CARGO"))
        .current_dir(dir.path())
        .args(["vendor", "--locked"])
        .output()
        .unwrap();
    assert!(vendor.status.success(), "{}", String::from_utf8_lossy(&vendor.stderr));
    std::fs::create_dir_all(dir.path().join(".cargo")).unwrap();
    // What `cargo vendor` prints to put in the configuration.
    std::fs::write(dir.path().join(".cargo/config.toml"), String::from_utf8_lossy(&vendor.stdout).as_ref()).unwrap();
    for builder in BUILDERS {
        let tag = TestTag::new(&format!("vendored-{builder}"));
        // `--offline`: the builder may not reach a registry; every crate comes from vendor/.
        build(dir.path(), &tag, &["--locked", "--offline", "--buildkit", builder]);
        assert_eq!(docker(&["run", "--rm", &tag.0]), "service Greeter from the shared proto | 42 | the local itoa");
    }
}

#[test]
fn a_target_outside_every_package_is_refused_even_inside_the_context_root() {
    let dir = fixture("shared-files");
    // The workspace root is a root, but `proto/` belongs to no package: still, it's inside.
    // A path dependency outside the workspace widens the context root to the temporary
    // directory; a target beside it, in no package, is refused rather than sending its directory.
    let outside = dir.path().parent().unwrap().parent().unwrap().join("elsewhere");
    std::fs::create_dir_all(outside.join("lib/src")).unwrap();
    std::fs::write(
        outside.join("lib/Cargo.toml"),
        "[package]\nname = \"lib\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::write(outside.join("lib/src/lib.rs"), "").unwrap();
    std::fs::write(outside.join("main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(outside.join("secret.txt"), "not the project's").unwrap();
    let manifest = dir.path().join("server/Cargo.toml");
    // The dependency by a relative path (an absolute one is refused on its own account).
    let added = format!(
        "lib = {{ path = \"../../../elsewhere/lib\" }}\n\n[[bin]]\nname = \"beside\"\npath = \"{}\"\n",
        outside.join("main.rs").display()
    );
    std::fs::write(&manifest, std::fs::read_to_string(&manifest).unwrap() + &added).unwrap();
    let output = containerize(dir.path()).args(["--bin", "beside", "--print-context", "-"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("elsewhere/main.rs is outside the project"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_crate_patched_with_a_local_copy_builds_from_that_copy() {
    if !engine_available("a_crate_patched_with_a_local_copy_builds_from_that_copy") {
        return;
    }
    let dir = fixture("shared-files");
    let patched = dir.path().join("patched/itoa");
    std::fs::create_dir_all(patched.join("src")).unwrap();
    std::fs::write(
        patched.join("Cargo.toml"),
        "[package]\nname = \"itoa\"\nversion = \"1.0.99\"\nedition = \"2024\"\n",
    )
    .unwrap();
    let lib = "pub struct Buffer;\nimpl Buffer {\n    pub fn new() -> Self { Buffer }\n    pub fn format(&mut self, _: i32) -> &'static str { \"forty-two, patched\" }\n}\n";
    std::fs::write(patched.join("src/lib.rs"), lib).unwrap();
    let manifest = dir.path().join("Cargo.toml");
    let patch = "\n[patch.crates-io]\nitoa = { path = \"patched/itoa\" }\n";
    std::fs::write(&manifest, std::fs::read_to_string(&manifest).unwrap() + patch).unwrap();
    let update = std::process::Command::new(env!("CARGO"))
        .current_dir(dir.path())
        .args(["update", "-p", "itoa@1.0.19", "--offline"])
        .output()
        .unwrap();
    assert!(update.status.success(), "{}", String::from_utf8_lossy(&update.stderr));
    let tag = TestTag::new("patched");
    build(dir.path(), &tag, &["--buildkit", "always"]);
    assert_eq!(
        docker(&["run", "--rm", &tag.0]),
        "service Greeter from the shared proto | forty-two, patched | the local itoa"
    );
}

#[test]
fn a_new_checkout_at_an_old_ones_path_never_gets_its_build_script_output() {
    if !engine_available("a_new_checkout_at_an_old_ones_path_never_gets_its_build_script_output") {
        return;
    }
    let dir = fixture("reads-files");
    let path = dir.path().to_owned();
    let make = |message: &str| {
        // Only the script itself is declared: cargo can't know the asset matters.
        edit_file(&path.join("build.rs"), "rerun-if-changed=assets/message.txt", "rerun-if-changed=build.rs");
        std::fs::write(path.join("assets/message.txt"), format!("{message}\n")).unwrap();
    };
    make("the first checkout");
    let tag = TestTag::new("same-path");
    build(&path, &tag, &["--buildkit", "always"]);
    assert!(docker(&["run", "--rm", &tag.0]).ends_with("| the first checkout"));
    // Deleted, and another checkout made at the same path (a CI runner's fixed directory).
    std::fs::remove_dir_all(&path).unwrap();
    let again = fixture("reads-files");
    copy_tree(again.path(), &path);
    make("the second checkout");
    build(&path, &tag, &["--buildkit", "always"]);
    assert!(docker(&["run", "--rm", &tag.0]).ends_with("| the second checkout"), "as cargo in a fresh clone");
}

/// Copies a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(status.success());
}

#[test]
fn rustflags_and_a_build_target_in_cargo_configuration_are_kept() {
    if !engine_available("rustflags_and_a_build_target_in_cargo_configuration_are_kept") {
        return;
    }
    let dir = example("hello");
    std::fs::create_dir_all(dir.path().join(".cargo")).unwrap();
    // Flags as one string (cargo takes a string or a list) and a default target.
    let config = "[build]\nrustflags = \"--cfg from_config\"\ntarget = \"x86_64-unknown-linux-gnu\"\n";
    std::fs::write(dir.path().join(".cargo/config.toml"), config).unwrap();
    let main = r#"fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let word = if cfg!(from_config) { "Configured" } else { "Hello" };
    let linkage = if cfg!(target_feature = "crt-static") { "static" } else { "dynamic" };
    println!("{word}, {name}! (from a {linkage} container)");
}
"#;
    std::fs::write(dir.path().join("src/main.rs"), main).unwrap();
    for base in ["scratch", "distroless-cc"] {
        let tag = TestTag::new(&format!("cargo-config-{base}"));
        build(dir.path(), &tag, &["--base", base, "--buildkit", "always"]);
        let linkage = if base == "scratch" { "static" } else { "dynamic" };
        assert_eq!(docker(&["run", "--rm", &tag.0, "x"]), format!("Configured, x! (from a {linkage} container)"));
    }
}
