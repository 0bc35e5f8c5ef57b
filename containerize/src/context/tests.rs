use super::*;
use containerize_build::project::PackageFiles;
use std::fs;

/// Writes `files` (path, contents) under `root`.
fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
        fs::write(root.join(path), text).unwrap();
    }
}

fn lister(root: &Path, dockerignore: &str) -> Lister {
    Lister {
        links: Vec::new(),
        root: root.to_owned(),
        roots: vec![fs::canonicalize(root).unwrap()],
        never: vec![root.join("target")],
        canonical_root: fs::canonicalize(root).unwrap(),
        dockerignore: Arc::new(Dockerignore {
            ignore: DockerIgnore::parse(dockerignore).unwrap(),
            base: String::new(),
        }),
        entries: BTreeMap::new(),
    }
}

fn tree(dir: &str, include: &[&str], exclude: &[&str]) -> PackageTree {
    let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
    PackageTree { dir: dir.to_owned(), files: PackageFiles { include: strings(include), exclude: strings(exclude) } }
}

fn names(lister: &Lister) -> Vec<String> {
    lister.entries.keys().map(|k| k.strip_prefix(&format!("{SOURCES_DIR}/")).unwrap_or(k).to_owned()).collect()
}

#[test]
fn a_package_goes_as_cargo_would_package_it_less_what_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(
        root,
        &[
            ("Cargo.toml", "[package]"),
            ("src/main.rs", "fn main() {}"),
            ("assets/logo.svg", "<svg/>"),
            (".sqlx/query.json", "{}"),
            (".gitignore", "/generated\n*.tmp\n"),
            ("generated/big.bin", "x"),
            ("src/scratch.tmp", "x"),
            (".dockerignore", "docs\n"),
            ("docs/guide.md", "x"),
            (".env", "SECRET=1"),
            (".env.production", "SECRET=1"),
            (".env.d/secrets", "SECRET=1"),
            ("target/release/app", "x"),
            ("member/Cargo.toml", "[package]"),
            ("member/src/lib.rs", ""),
            (".git/config", "x"),
        ],
    );
    let mut lister = lister(root, "docs\n");
    lister.package(&tree("", &[], &[])).unwrap();
    assert_eq!(
        names(&lister),
        [".dockerignore", ".gitignore", ".sqlx/query.json", "Cargo.toml", "assets/logo.svg", "src/main.rs"]
    );
}

#[test]
fn package_include_and_exclude_choose_files_as_cargo_does() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(
        root,
        &[
            ("Cargo.toml", "[package]"),
            ("src/main.rs", ""),
            ("data/a.txt", ""),
            ("benches/b.rs", ""),
            ("README.md", ""),
        ],
    );
    let mut included = lister(root, "");
    included.package(&tree("", &["/src", "data/*.txt"], &[])).unwrap();
    assert_eq!(names(&included), ["Cargo.toml", "data/a.txt", "src/main.rs"]);
    let mut excluded = lister(root, "");
    excluded.package(&tree("", &[], &["/benches", "*.md"])).unwrap();
    assert_eq!(names(&excluded), ["Cargo.toml", "data/a.txt", "src/main.rs"]);
    // With `include`, cargo takes the listed files whatever `.gitignore` says.
    write_files(root, &[(".gitignore", "/data\n")]);
    let mut included = lister(root, "");
    included.package(&tree("", &["/src", "data/*.txt"], &[])).unwrap();
    assert_eq!(names(&included), ["Cargo.toml", "data/a.txt", "src/main.rs"]);
}

#[test]
fn links_out_of_the_project_go_as_links_and_special_files_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(root, &[("Cargo.toml", "[package]"), ("src/main.rs", "")]);
    std::os::unix::fs::symlink("/etc", root.join("src/hostetc")).unwrap();
    std::os::unix::fs::symlink("nowhere", root.join("src/dangling")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(root.join("src/app.sock")).unwrap();
    let mut lister = lister(root, "");
    lister.package(&tree("", &[], &[])).unwrap();
    assert_eq!(names(&lister), ["Cargo.toml", "src/dangling", "src/hostetc", "src/main.rs"]);
    assert_eq!(lister.entries[&format!("{SOURCES_DIR}/src/hostetc")].kind, Kind::Link);
    assert_eq!(lister.entries[&format!("{SOURCES_DIR}/src/dangling")].kind, Kind::Link);
}

#[test]
fn links_inside_are_sent_as_what_the_context_holds_there_and_never_bypass_ignore_rules() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(
        root,
        &[
            ("Cargo.toml", "[package]"),
            ("src/impl_b.rs", "b"),
            ("shared/templates/page.html", "<p>"),
            (".gitignore", "/secrets\n"),
            ("secrets/key.pem", "KEY"),
        ],
    );
    std::os::unix::fs::symlink("impl_b.rs", root.join("src/lib.rs")).unwrap();
    std::os::unix::fs::symlink("../shared/templates", root.join("src/templates")).unwrap();
    std::os::unix::fs::symlink("../secrets", root.join("src/keys")).unwrap();
    std::os::unix::fs::symlink(".", root.join("src/here")).unwrap();
    let mut lister = lister(root, "");
    lister.package(&tree("", &[], &[])).unwrap();
    lister.resolve_links().unwrap();
    assert_eq!(
        names(&lister),
        [
            ".gitignore",
            "Cargo.toml",
            "shared/templates/page.html",
            "src/here/impl_b.rs",
            "src/impl_b.rs",
            "src/keys",
            "src/lib.rs",
            "src/templates/page.html",
        ]
    );
    let kind = |name: &str| lister.entries[&format!("{SOURCES_DIR}/{name}")].kind;
    assert_eq!(kind("src/lib.rs"), Kind::File, "the builder stamps and reads the content, not a link");
    assert_eq!(kind("src/templates/page.html"), Kind::File, "a linked directory sends its chosen files");
    assert_eq!(kind("src/keys"), Kind::Link, "an ignored directory stays out, even through a link");
}

#[test]
fn a_file_replaced_by_a_link_after_listing_fails_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let host = tempfile::tempdir().unwrap();
    write_files(root, &[("Cargo.toml", "[package]"), ("src/main.rs", "fn main() {}")]);
    write_files(host.path(), &[("secret", "host")]);
    let mut lister = lister(root, "");
    lister.package(&tree("", &[], &[])).unwrap();
    fs::remove_file(root.join("src/main.rs")).unwrap();
    std::os::unix::fs::symlink(host.path().join("secret"), root.join("src/main.rs")).unwrap();
    let context = Context { entries: lister.entries, generated: Vec::new() };
    let mut tar = Vec::new();
    let error = context.write("FROM scratch\n", &mut tar).unwrap_err();
    assert!(matches!(&error, ContextError::Changed(path) if path.ends_with("src/main.rs")), "{error:?}");
    assert!(!String::from_utf8_lossy(&tar).contains("host"), "nothing of the other file was sent");
}

#[test]
fn an_ignore_file_that_is_a_pipe_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(root, &[("Cargo.toml", "[package]"), ("src/main.rs", "")]);
    let fifo = |path: &Path| {
        assert!(std::process::Command::new("mkfifo").arg(path).status().unwrap().success());
    };
    fifo(&root.join("src/.gitignore"));
    let error = lister(root, "").package(&tree("", &[], &[])).unwrap_err();
    assert!(matches!(&error, ContextError::NotAFile(path) if path.ends_with("src/.gitignore")), "{error:?}");
    fs::remove_file(root.join("src/.gitignore")).unwrap();
    fifo(&root.join(".dockerignore"));
    let error = read_ignore_file(&root.join(".dockerignore")).unwrap_err();
    assert!(matches!(error, ContextError::NotAFile(_)), "{error:?}");
}

#[test]
fn a_named_path_through_a_link_out_of_the_project_is_refused_naming_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(root, &[("Cargo.toml", "[package]")]);
    std::os::unix::fs::symlink("/etc", root.join("hostetc")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", root.join("name")).unwrap();
    for path in ["hostetc/hostname", "name"] {
        let error = lister(root, "").named(INCLUDE_DIR, path).unwrap_err();
        let ContextError::LinkOutside { link, target } = error else { panic!("{error:?}") };
        assert_eq!(link, root.join(path.split('/').next().unwrap()));
        assert!(target.starts_with("/etc"), "{}", target.display());
    }
    for path in ["../outside", "/etc/hostname"] {
        let error = lister(root, "").named(SOURCES_DIR, path).unwrap_err();
        assert!(matches!(error, ContextError::Outside(_)), "{error:?}");
    }
}

#[test]
fn a_named_path_through_a_link_inside_the_project_is_sent_as_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(root, &[("shared/app.toml", "port = 1"), (".env", "SECRET=1")]);
    std::os::unix::fs::symlink("shared", root.join("config")).unwrap();
    let mut lister = lister(root, "");
    lister.named(INCLUDE_DIR, "config/app.toml").unwrap();
    lister.named(SOURCES_DIR, ".env").unwrap();
    let names: Vec<&String> = lister.entries.keys().collect();
    assert_eq!(names, [&format!("{INCLUDE_DIR}/config/app.toml"), &format!("{SOURCES_DIR}/.env")]);
    assert!(lister.entries.values().all(|e| e.kind == Kind::File), "named, so followed and sent whole");
}

#[test]
fn a_file_name_with_a_line_break_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(root, &[("Cargo.toml", "[package]"), ("src/a\nb.rs", "")]);
    let error = lister(root, "").package(&tree("", &[], &[])).unwrap_err();
    assert!(matches!(error, ContextError::Name(_)), "{error:?}");
}

#[test]
fn sends_the_listed_files_with_real_mtimes_and_modes_as_git_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(root, &[("Cargo.toml", "[package]"), ("src/main.rs", "fn main() {}")]);
    std::os::unix::fs::symlink("/etc/hostname", root.join("src/link.rs")).unwrap();
    // A private file, and a setuid one: sent as git keeps them, 0644 and 0755.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(root.join("Cargo.toml"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::set_permissions(root.join("src/main.rs"), fs::Permissions::from_mode(0o4711)).unwrap();
    let mut lister = lister(root, "");
    lister.package(&tree("", &[], &[])).unwrap();
    let context = Context { entries: lister.entries, generated: vec![("gen".into(), "made".into())] };
    let mut tar = Vec::new();
    let size = context.write("FROM scratch\n", &mut tar).unwrap();
    let mut archive = tar::Archive::new(tar.as_slice());
    let mut names = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        if name.ends_with("src/main.rs") {
            let mtime = fs::metadata(root.join("src/main.rs")).unwrap().modified().unwrap();
            let seconds = mtime.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            assert_eq!(entry.header().mtime().unwrap(), seconds, "real mtimes are kept");
        }
        if name.ends_with("Cargo.toml") {
            assert_eq!(entry.header().mode().unwrap(), 0o644);
        }
        if name.ends_with("src/main.rs") {
            assert_eq!(entry.header().mode().unwrap(), 0o755);
        }
        if name.ends_with("src/link.rs") {
            assert!(entry.header().entry_type().is_symlink(), "links out of the project stay links");
        }
        names.push(name);
    }
    let s = SOURCES_DIR;
    assert_eq!(
        names,
        [
            format!("{s}/Cargo.toml"),
            format!("{s}/src/link.rs"),
            format!("{s}/src/main.rs"),
            "gen".into(),
            DOCKERFILE.into()
        ]
    );
    assert_eq!(size, ContextSize { files: 5, bytes: 9 + 12 + 4 + 13 });
}

#[test]
fn a_file_that_shrinks_or_grows_while_it_is_sent_fails_the_context() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("growing.log");
    fs::write(&path, "0123456789").unwrap();
    // The listed size is what the header announces; the file changes before it is read.
    for now in ["01234", "0123456789abcdef"] {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(10);
        let error = {
            fs::write(&path, now).unwrap();
            let mut file = fs::File::open(&path).unwrap();
            let mut exact = Exact { file: (&mut file).take(10), left: 10 };
            let short = tar.append_data(&mut header, "growing.log", &mut exact).err();
            let long = file.read(&mut [0]).unwrap() != 0;
            (short.map(|e| e.kind()), long)
        };
        let expected = if now.len() < 10 { (Some(io::ErrorKind::UnexpectedEof), false) } else { (None, true) };
        assert_eq!(error, expected, "{now}");
    }
    // And through the real function: a file listed at one size and sent at another.
    fs::write(&path, "0123456789").unwrap();
    let meta = fs::metadata(&path).unwrap();
    let entry = Entry { path: path.clone(), kind: Kind::File, len: 10, identity: identity(&meta) };
    let mut tar = tar::Builder::new(Vec::new());
    assert!(append_file(&mut tar, "ok", &entry).is_ok());
}

#[test]
fn the_largest_directories_are_named_where_their_bytes_are() {
    let mut entries = BTreeMap::new();
    let mut add = |name: &str, len| {
        entries.insert(
            format!("{SOURCES_DIR}/{name}"),
            Entry { path: PathBuf::new(), kind: Kind::File, len, identity: None },
        );
    };
    add("app/assets/video/a.mp4", 60_000_000);
    add("app/assets/logo.svg", 1_000);
    add("app/docs/guide.pdf", 5_000_000);
    add("app/src/main.rs", 1_000);
    let context = Context { entries, generated: Vec::new() };
    assert_eq!(
        context.largest_directories(),
        [("app/assets/video".into(), 60_000_000), ("app/docs".into(), 5_000_000), ("app/src".into(), 1_000)]
    );
}

#[test]
fn gitignore_files_above_a_package_count_up_to_the_context_root_outside_a_checkout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    // A dotfiles repository's catch-all, above the project: not the project's business.
    write_files(dir.path(), &[(".gitignore", "*\n")]);
    write_files(
        &root,
        &[(".gitignore", "*.log\n"), ("app/Cargo.toml", "[package]"), ("app/src/main.rs", ""), ("app/debug.log", "")],
    );
    let mut lister = lister(&root, "");
    lister.package(&tree("app", &[], &[])).unwrap();
    assert_eq!(names(&lister), ["app/Cargo.toml", "app/src/main.rs"]);
}

#[test]
fn gitignore_files_of_the_enclosing_checkout_count_as_in_git_and_the_nearest_decides() {
    let dir = tempfile::tempdir().unwrap();
    let checkout = dir.path().join("monorepo");
    let root = checkout.join("rust/project");
    write_files(&checkout, &[(".git/HEAD", "ref: refs/heads/main\n"), (".gitignore", "*.generated.rs\n*.sql\n")]);
    write_files(
        &root,
        &[
            ("app/Cargo.toml", "[package]"),
            ("app/src/main.rs", ""),
            ("app/src/api.generated.rs", ""),
            ("app/data/.gitignore", "!seed.sql\n"),
            ("app/data/seed.sql", ""),
            ("app/data/dump.sql", "x"),
        ],
    );
    let mut lister = lister(&root, "");
    lister.package(&tree("app", &[], &[])).unwrap();
    assert_eq!(names(&lister), ["app/Cargo.toml", "app/data/.gitignore", "app/data/seed.sql", "app/src/main.rs"]);
}

#[test]
fn gitignore_files_outside_the_packages_checkout_do_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // The context root holds the app's checkout and a path dependency beside it.
    write_files(
        root,
        &[(".gitignore", "data/\n"), ("app/.git/HEAD", "x"), ("app/Cargo.toml", "[package]"), ("app/data/x.txt", "")],
    );
    let mut lister = lister(root, "");
    lister.package(&tree("app", &[], &[])).unwrap();
    assert_eq!(names(&lister), ["app/Cargo.toml", "app/data/x.txt"]);
}

#[test]
fn a_named_path_that_dockerignore_excludes_is_refused_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(root, &[("config/app.toml", "port = 1")]);
    let error = lister(root, "config\n").named(INCLUDE_DIR, "config/app.toml").unwrap_err();
    assert!(matches!(&error, ContextError::Excluded(path) if path == "config/app.toml"), "{error:?}");
}

#[test]
fn a_named_link_into_what_is_left_out_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_files(root, &[("secrets/app.toml", "TOKEN=abc"), (".git/config", "token"), ("target/out", "x")]);
    std::os::unix::fs::symlink("secrets", root.join("cfg")).unwrap();
    std::os::unix::fs::symlink(".git/config", root.join("gitconfig")).unwrap();
    std::os::unix::fs::symlink("target/out", root.join("built")).unwrap();
    for named in ["cfg/app.toml", "gitconfig", "built"] {
        let error = lister(root, "secrets/\n").named(INCLUDE_DIR, named).unwrap_err();
        assert!(matches!(error, ContextError::Excluded(_)), "{named}: {error:?}");
    }
}
