//! End to end against the real engine: the stages besides the runtime. `--stage debug` gives a
//! shell and the binary whole next to a runtime image whose binary is stripped; `--stage test`
//! runs the package's tests, tags nothing, and fails with their output and status 13.

use containerize_tests::{BUILDERS, TestTag, containerize, docker, edit_file, engine_available, example, fixture};
use std::path::Path;

/// The names of an ELF file's sections (64-bit, little-endian, as the builder makes them).
fn elf_sections(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x7fELF\x02\x01", "{} is a 64-bit little-endian ELF file", path.display());
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let (table, entry, count, names) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let names_at = u64_at(table + names * entry + 0x18);
    (0..count)
        .map(|i| {
            let name = &bytes[names_at + u32_at(table + i * entry)..];
            String::from_utf8_lossy(&name[..name.iter().position(|&b| b == 0).unwrap()]).into_owned()
        })
        .collect()
}

/// Whether a section holds debug info (`.debug_gdb_scripts` does not: it is loaded, and names
/// the pretty-printers gdb should use).
fn is_debug_info(section: &str) -> bool {
    section.starts_with(".debug_") && section != ".debug_gdb_scripts"
}

/// Copies `path` out of `image` into `dir`, as `name`.
fn copy_out(image: &str, path: &str, dir: &Path, name: &str) -> std::path::PathBuf {
    let container = docker(&["create", image]);
    let to = dir.join(name);
    let copied = std::process::Command::new("docker")
        .args(["cp", &format!("{container}:{path}"), to.to_str().unwrap()])
        .output()
        .unwrap();
    docker(&["rm", &container]);
    assert!(copied.status.success(), "docker cp: {}", String::from_utf8_lossy(&copied.stderr));
    to
}

fn image_size(image: &str) -> u64 {
    docker(&["image", "inspect", image, "--format", "{{.Size}}"]).parse().unwrap()
}

#[test]
fn the_debug_image_has_a_shell_and_the_debug_info_the_runtime_binary_lacks() {
    let test = "the_debug_image_has_a_shell_and_the_debug_info_the_runtime_binary_lacks";
    if !engine_available(test) {
        return;
    }
    // A release profile that keeps debug info, as many do for profiling.
    let dir = example("hello");
    let manifest = dir.path().join("Cargo.toml");
    edit_file(&manifest, "[workspace]", "[workspace]\n\n[profile.release]\ndebug = true");
    let tag = TestTag::new("stages-debug");
    let debug_tag = TestTag(format!("{}-debug", tag.0));
    let base = "gcr.io/distroless/static-debian13:nonroot";
    let output = containerize(dir.path())
        .args(["-q", "--json", "-t", &tag.0, "--stage", "debug", "--base", "distroless-static", "--run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "build failed: {stderr}");
    // The image shipped is smoke-run too, not only the debug one.
    let (runtime_run, debug_run) = (format!("running {},", tag.0), format!("running {},", debug_tag.0));
    assert!(stderr.contains(&runtime_run) && stderr.contains(&debug_run), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report[0]["stage"], "runtime", "{report}");
    assert_eq!(report[0]["tags"], serde_json::json!([tag.0]));
    assert_eq!(report[1]["stage"], "debug", "{report}");
    assert_eq!(report[1]["tags"], serde_json::json!([debug_tag.0]));
    assert_eq!(report[1]["size"].as_u64().unwrap(), image_size(&debug_tag.0), "both sizes are reported");

    // A shell, as the same user with the same entrypoint.
    let shell =
        docker(&["run", "--rm", "--entrypoint", "/busybox/sh", &debug_tag.0, "-c", "id -u && ls /usr/local/bin"]);
    assert_eq!(shell, "65532\nhello");
    let config = "{{.Config.User}} {{json .Config.Entrypoint}}";
    assert_eq!(docker(&["image", "inspect", &tag.0, "--format", config]), "65532:65532 [\"/usr/local/bin/hello\"]");
    assert_eq!(
        docker(&["image", "inspect", &debug_tag.0, "--format", config]),
        "65532:65532 [\"/usr/local/bin/hello\"]"
    );
    assert_eq!(docker(&["run", "--rm", &debug_tag.0, "debug"]), "Hello, debug! (from a static container)");

    // The debug info is in the debug image's binary, not in the runtime's, which keeps its symbols.
    let host = tempfile::tempdir().unwrap();
    let runtime_binary = copy_out(&tag.0, "/usr/local/bin/hello", host.path(), "runtime");
    let debug_binary = copy_out(&debug_tag.0, "/usr/local/bin/hello", host.path(), "debug");
    let debug_sections = elf_sections(&debug_binary);
    assert!(debug_sections.iter().any(|s| s == ".debug_info"), "{debug_sections:?}");
    let runtime_sections = elf_sections(&runtime_binary);
    assert!(!runtime_sections.iter().any(|s| is_debug_info(s)), "{runtime_sections:?}");
    assert!(runtime_sections.iter().any(|s| s == ".symtab"), "strip = \"debuginfo\" keeps symbols");
    let (runtime_bytes, debug_bytes) =
        (runtime_binary.metadata().unwrap().len(), debug_binary.metadata().unwrap().len());
    assert!(debug_bytes > 2 * runtime_bytes, "the debug info is most of the binary: {debug_bytes} vs {runtime_bytes}");
    // The runtime image is the base and the stripped binary, within 5%.
    let (runtime_size, base_size) = (report[0]["size"].as_u64().unwrap(), image_size(base));
    assert!(
        runtime_size as f64 <= 1.05 * (base_size + runtime_bytes) as f64,
        "runtime image {runtime_size} bytes, base {base_size} and stripped binary {runtime_bytes}"
    );

    // `strip = "symbols"` removes the symbol table too; the debug image still gets it all.
    edit_file(&manifest, "base = \"scratch\"", "base = \"scratch\"\nstrip = \"symbols\"");
    let output = containerize(dir.path()).args(["-q", "-t", &tag.0, "--stage", "debug"]).output().unwrap();
    assert!(output.status.success(), "build failed: {}", String::from_utf8_lossy(&output.stderr));
    let runtime_binary = copy_out(&tag.0, "/usr/local/bin/hello", host.path(), "runtime-symbols");
    let runtime_sections = elf_sections(&runtime_binary);
    assert!(!runtime_sections.iter().any(|s| s == ".symtab" || is_debug_info(s)), "{runtime_sections:?}");
    let debug_binary = copy_out(&debug_tag.0, "/usr/local/bin/hello", host.path(), "debug-symbols");
    assert!(elf_sections(&debug_binary).iter().any(|s| s == ".debug_info"));
}

/// `--stage test` on `dir` with `tag`: its status, stdout and stderr.
fn test_stage(dir: &Path, tag: &TestTag, builder: &str) -> (i32, String, String) {
    let output =
        containerize(dir).args(["-v", "-t", &tag.0, "--stage", "test", "--buildkit", builder]).output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code().unwrap(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn the_test_stage_passes_or_fails_with_the_tests_and_tags_nothing() {
    let test = "the_test_stage_passes_or_fails_with_the_tests_and_tags_nothing";
    if !engine_available(test) {
        return;
    }
    for builder in BUILDERS {
        let dir = fixture("tested");
        // Sources no earlier run had: a run of the same sources is cached, tests and all.
        let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let lib = dir.path().join("src/lib.rs");
        edit_file(&lib, "//! What the tests check.", &format!("//! What the tests check ({nonce})."));
        let tag = TestTag::new(&format!("stages-test-{builder}"));
        let (status, stdout, stderr) = test_stage(dir.path(), &tag, builder);
        assert_eq!(status, 0, "{builder}: {stderr}");
        assert!(stdout.starts_with("tested (test)  sha256:") && stdout.ends_with("tests passed\n"), "{stdout}");
        assert!(stderr.contains("test the_answer_formats_as_42 ... ok"), "the integration test ran: {stderr}");
        assert!(stderr.contains("test tests::doubles ... ok"), "the unit test ran: {stderr}");
        let unknown = std::process::Command::new("docker").args(["image", "inspect", &tag.0]).output().unwrap();
        assert!(!unknown.status.success(), "{builder}: nothing is tagged");

        // A source edit that breaks both tests: their output, status 7, and the test-only
        // dependency is not compiled again (its layer is cached).
        edit_file(&lib, "x * 2", "x * 3");
        let (status, _, stderr) = test_stage(dir.path(), &tag, builder);
        assert_eq!(status, 13, "{builder}: {stderr}");
        // Each failure's own report (cargo's stderr may come between a test's name and its
        // result, as the engine mixes the two streams).
        assert!(stderr.contains("---- the_answer_formats_as_42 stdout ----"), "{stderr}");
        assert!(stderr.contains("left: \"63\""), "each failure's message is shown: {stderr}");
        assert!(stderr.contains("---- tests::doubles stdout ----"), "every test binary ran: {stderr}");
        assert!(stderr.contains("the tests of package `tested` failed; nothing was tagged"), "{stderr}");
        assert!(!stderr.contains("Compiling itoa"), "{builder}: the dev-dependency was compiled again: {stderr}");
        let unknown = std::process::Command::new("docker").args(["image", "inspect", &tag.0]).output().unwrap();
        assert!(!unknown.status.success(), "{builder}: nothing is tagged");
    }
}

#[test]
fn a_test_that_does_not_compile_is_a_failed_build() {
    let test = "a_test_that_does_not_compile_is_a_failed_build";
    if !engine_available(test) {
        return;
    }
    let dir = fixture("tested");
    let tag = TestTag::new("stages-test-compile");
    edit_file(&dir.path().join("tests/formatting.rs"), "tested::double(21)", "tested::triple(21)");
    let (status, _, stderr) = test_stage(dir.path(), &tag, "always");
    assert_eq!(status, 5, "a compile error is a failed build, not a failed test: {stderr}");
    assert!(stderr.contains("cannot find function `triple`"), "{stderr}");
}

#[test]
fn the_test_stage_sends_the_local_packages_only_the_tests_need() {
    let dir = fixture("tested");
    let packages = |stage: &str| {
        let output = containerize(dir.path()).args(["--print-plan", "--stage", stage]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let plans: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let packages = plans[0]["context"]["packages"].as_array().unwrap().clone();
        packages.iter().map(|p| p["dir"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(packages("runtime"), [""], "the image's build does not need `testkit`");
    assert_eq!(packages("test"), ["", "testkit"]);
}

#[test]
fn the_debug_image_of_any_other_base_gets_busybox_copied_in() {
    let test = "the_debug_image_of_any_other_base_gets_busybox_copied_in";
    if !engine_available(test) {
        return;
    }
    let dir = example("hello");
    let tag = TestTag::new("stages-debug-slim");
    let debug_tag = TestTag(format!("{}-debug", tag.0));
    let output = containerize(dir.path())
        .args(["-q", "-t", &tag.0, "--stage", "debug", "--base", "debian-slim"])
        .output()
        .unwrap();
    assert!(output.status.success(), "build failed: {}", String::from_utf8_lossy(&output.stderr));
    let shell = ["run", "--rm", "--entrypoint", "/busybox/sh", &debug_tag.0, "-c", "/busybox/id -u && echo $0"];
    assert_eq!(docker(&shell), "65532\n/busybox/sh");
    // The base's own files are there too: it is the runtime's base.
    let debian = ["run", "--rm", "--entrypoint", "/bin/cat", &debug_tag.0, "/etc/debian_version"];
    assert_eq!(docker(&debian), docker(&["run", "--rm", "--entrypoint", "/bin/cat", &tag.0, "/etc/debian_version"]));
}
