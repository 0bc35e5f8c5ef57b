//! Snapshot tests of the Dockerfile (and plan) for every base, linkage, a workspace with
//! several binaries, and hostile values. Projects are built by hand: no disk, no cargo.

use containerize_build::project::{About, Binary, LocalPackage, PackageFiles, TargetFile, TargetRole, Vcs};
use containerize_build::toolchain::Toolchain;
use containerize_build::{
    Options, Project, Selection, Settings, SourceFile, dockerfile, plan_all, plan_image, resolve,
};

const ROOT: &str = "/home/dev/app";

fn package(dir: &str, manifest: &str, binaries: &[&str]) -> LocalPackage {
    let name = toml::from_str::<toml::Table>(manifest).unwrap()["package"]["name"].as_str().unwrap().to_owned();
    LocalPackage {
        name,
        version: "1.2.3".into(),
        member: true,
        patch: false,
        dir: dir.into(),
        manifest: SourceFile::new(format!("{dir}/Cargo.toml"), manifest),
        about: About {
            description: Some("A small\nservice".into()),
            license: Some("MIT OR Apache-2.0".into()),
            authors: vec!["Dev <dev@example.com>".into()],
            repository: Some("https://example.com/app".into()),
            ..About::default()
        },
        rust_version: Some("1.85".into()),
        binaries: binaries
            .iter()
            .map(|b| Binary { name: (*b).into(), required_features: vec![], source: None })
            .collect(),
        local_dependencies: vec![],
        local_dev_dependencies: vec![],
        files: PackageFiles::default(),
        targets: match binaries {
            [] => vec![TargetFile { path: "src/lib.rs".into(), role: TargetRole::Library }],
            [_] => vec![TargetFile { path: "src/main.rs".into(), role: TargetRole::Executable }],
            several => several
                .iter()
                .map(|b| TargetFile { path: format!("src/bin/{b}.rs"), role: TargetRole::Executable })
                .collect(),
        },
    }
}

fn project(root_manifest: &str, packages: Vec<LocalPackage>) -> Project {
    Project {
        workspace_root: ROOT.into(),
        target_directory: format!("{ROOT}/target").into(),
        root_manifest: packages
            .iter()
            .find(|p| p.dir == ROOT)
            .map_or_else(|| SourceFile::new(format!("{ROOT}/Cargo.toml"), root_manifest), |p| p.manifest.clone()),
        packages,
        root_files: vec!["Cargo.lock".into()],
        lockfile: Some("version = 4\n".into()),
        config_has_target_rustflags: false,
        config_string_rustflags: Default::default(),
        config_profiles: Default::default(),
        toolchain: Toolchain { pinned: None, local: Some("1.95.0".into()) },
        vcs: Some(Vcs {
            revision: "0123456789abcdef0123456789abcdef01234567".into(),
            commit_time: 1_763_000_000,
            dirty: false,
        }),
        source_date_epoch: None,
        checkout_key: "0123456789abcdef".into(),
    }
}

/// Every image's Dockerfile, one after the other.
fn dockerfiles(project: &Project) -> String {
    dockerfiles_with(project, Options::default())
}

/// Every image's Dockerfile with these options, on an x86_64 host.
fn dockerfiles_with(project: &Project, options: Options) -> String {
    let spec = resolve(project, &Selection::default(), &Settings::default()).expect("valid settings");
    let options = Options { arch: "x86_64".into(), ..options };
    spec.images
        .iter()
        .map(|image| dockerfile(&plan_image(project, image, &options).expect("a plan")))
        .collect::<Vec<_>>()
        .join("\n# ----------\n\n")
}

fn single(settings: &str) -> Project {
    let manifest =
        format!("[package]\nname = \"app\"\nversion = \"1.2.3\"\n\n[package.metadata.containerize]\n{settings}\n");
    project("", vec![package(ROOT, &manifest, &["app"])])
}

#[test]
fn default_is_distroless_cc_dynamic() {
    insta::assert_snapshot!(dockerfiles(&single("")));
}

#[test]
fn scratch_is_static_with_ca_certificates() {
    insta::assert_snapshot!(dockerfiles(&single("base = \"scratch\"")));
}

#[test]
fn distroless_static_is_static() {
    insta::assert_snapshot!(dockerfiles(&single("base = \"distroless-static\"\nsuite = \"bookworm\"")));
}

#[test]
fn static_linkage_on_a_libc_base() {
    insta::assert_snapshot!(dockerfiles(&single("base = \"distroless-cc\"\nlinkage = \"static\"")));
}

#[test]
fn debian_slim_with_packages_and_everything_set() {
    insta::assert_snapshot!(dockerfiles(&single(
        r#"base = "debian-slim"
build-packages = ["libssl-dev", "pkg-config"]
runtime-packages = ["libssl3t64"]
features = ["tls"]
profile = "dist"
expose = [8080, "9090/udp"]
env = { RUST_LOG = "info" }
workdir = "/data"
user = "10001:10001"
args = ["serve"]
labels = { "com.example.team" = "platform" }
volumes = ["/data"]
stop-signal = "INT"
include = [{ src = "config/app.toml", dest = "/etc/app/app.toml", mode = "0644" }]
build-args = { GIT_SHA = "unknown" }
tags = ["edge"]
name = "registry.example.com/team/app""#
    )));
}

#[test]
fn any_image_as_base() {
    insta::assert_snapshot!(dockerfiles(&single(
        "base = \"registry.example.com/base/runtime:2024\"\nentrypoint = [\"/usr/local/bin/app\", \"--json\"]"
    )));
}

#[test]
fn workspace_with_several_binaries() {
    let root = "[workspace]\nmembers = [\"api\", \"worker\"]\n\n[workspace.metadata.containerize]\nbase = \"distroless-static\"\nenv = { RUST_LOG = \"info\" }\n";
    let api = package(
        &format!("{ROOT}/api"),
        "[package]\nname = \"api\"\n[package.metadata.containerize]\nexpose = [8080]\nbase = \"distroless-cc\"\n",
        &["api", "api-admin"],
    );
    let worker = package(&format!("{ROOT}/worker"), "[package]\nname = \"worker\"\n", &["worker"]);
    let mut shared = package(&format!("{ROOT}/../shared"), "[package]\nname = \"shared\"\n", &[]);
    shared.member = false;
    shared.dir = "/home/dev/shared".into();
    insta::assert_snapshot!(dockerfiles(&project(root, vec![api, worker, shared])));
}

/// A Dockerfile's instructions: lines that are neither comments, blank, nor continuations.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut list = Vec::new();
    let mut continued = false;
    for line in dockerfile.lines() {
        if !continued && !line.trim().is_empty() && !line.starts_with('#') {
            list.push(line.split_whitespace().next().unwrap().to_owned());
        }
        continued = line.ends_with('\\');
    }
    list
}

#[test]
fn hostile_values_cannot_add_instructions() {
    let tame = single(
        "env = { A = \"x\" }\nlabels = { l = \"x\" }\nargs = [\"x\"]\nentrypoint = [\"x\"]\nbuild-args = { B = \"x\" }",
    );
    let expected = instructions(&dockerfiles(&tame));
    let options = Options { arch: "x86_64".into(), ..Options::default() };
    let spec = resolve(&tame, &Selection::default(), &Settings::default()).unwrap();
    let mut plan = plan_image(&tame, &spec.images[0], &options).unwrap();
    // Values validation would refuse, put straight into the plan: the renderer holds alone.
    let hostile = "x\"\nRUN rm -rf / \\\n$HOME '<<EOF'\r\nUSER root\u{0}\u{2028}CMD sh\u{2029}";
    for map in [&mut plan.runtime.env, &mut plan.runtime.labels, &mut plan.builder.build_args, &mut plan.builder.env] {
        for value in map.values_mut() {
            *value = hostile.into();
        }
    }
    // Keys too, where one instruction carries several pairs (each build argument is an `ARG`).
    for map in [&mut plan.runtime.env, &mut plan.runtime.labels, &mut plan.builder.env] {
        map.insert(hostile.into(), hostile.into());
    }
    plan.runtime.cmd = vec![hostile.into()];
    plan.runtime.entrypoint = vec![hostile.into(), "<<EOF".into()];
    plan.runtime.workdir = Some(hostile.into());
    plan.runtime.user = hostile.into();
    plan.runtime.stop_signal = Some(hostile.into());
    plan.runtime.volumes = vec![hostile.into()];
    plan.builder.image = hostile.into();
    plan.runtime.base = hostile.into();
    plan.package = hostile.into();
    for mount in &mut plan.builder.cache_mounts {
        mount.id = hostile.into();
        mount.target = hostile.into();
    }
    plan.builder.install = Some(vec![hostile.into()]);
    plan.runtime.ca_certificates = containerize_build::plan::CaCertificates::FromBuilder(hostile.into());
    plan.builder.toolchain_reason = hostile.into();
    let dockerfile = dockerfile(&plan);
    let mut expected_with_new = expected.clone();
    // The hostile plan also sets WORKDIR, VOLUME and STOPSIGNAL, which the tame one lacks.
    for (after, added) in [("LABEL", "STOPSIGNAL"), ("COPY", "VOLUME"), ("VOLUME", "WORKDIR")] {
        let at = expected_with_new.iter().rposition(|i| i == after).unwrap() + 1;
        expected_with_new.insert(at, added.to_owned());
    }
    // And installs packages in the builder, right after its `FROM`.
    let builder_from = expected_with_new.iter().position(|i| i == "FROM").unwrap();
    expected_with_new.insert(builder_from + 1, "RUN".to_owned());
    // And copies the CA bundle right after the runtime's `FROM`.
    let runtime_from = expected_with_new.iter().rposition(|i| i == "FROM").unwrap();
    expected_with_new.insert(runtime_from + 1, "COPY".to_owned());
    assert_eq!(instructions(&dockerfile), expected_with_new, "{dockerfile}");
    assert!(!dockerfile.contains("\nRUN rm"), "{dockerfile}");
    assert!(!dockerfile.contains("\nUSER root"), "{dockerfile}");
    // Nor on a line of its own in an editor, which breaks lines at the Unicode separators.
    assert!(!dockerfile.contains(['\u{2028}', '\u{2029}']), "{dockerfile}");
    insta::assert_snapshot!(dockerfile);
}

/// The stages beyond builder and runtime (`--stage debug`, `--stage test`, an `include` from an
/// image) hold just as well: hostile values put straight into the plan add no instruction.
#[test]
fn hostile_values_cannot_add_instructions_to_the_other_stages() {
    let include = "include = [{ from = \"debian:trixie-slim\", src = \"/etc/os-release\", dest = \"/etc/os-release\" }, { src = \"x\", dest = \"/x\", mode = 0o600 }]";
    let hostile = "x\"\nRUN rm -rf / \\\n$HOME '<<EOF'\r\nUSER root\u{0}\u{2028}CMD sh\u{2029}";
    // debian-slim's debug stage copies busybox in from an image of its own.
    for (base, stage) in [("distroless-cc", "debug"), ("debian-slim", "debug"), ("scratch", "test")] {
        let tame = single(&format!("base = \"{base}\"\n{include}"));
        let options = Options { arch: "x86_64".into(), stage: Some(stage.into()), ..Options::default() };
        let spec = resolve(&tame, &Selection::default(), &Settings::default()).unwrap();
        let mut plan = plan_image(&tame, &spec.images[0], &options).unwrap();
        let expected = instructions(&dockerfile(&plan));
        for image_stage in &mut plan.image_stages {
            image_stage.image = hostile.into();
            image_stage.name = hostile.into();
        }
        for include in plan.runtime.include.iter_mut().chain(plan.builder.staged.iter_mut().map(|s| &mut s.include)) {
            include.src = hostile.into();
            include.dest = hostile.into();
            include.from = include.from.as_ref().map(|_| hostile.into());
        }
        for staged in &mut plan.builder.staged {
            staged.staged = hostile.into();
            staged.chmod = staged.chmod.as_ref().map(|_| vec![hostile.into()]);
        }
        plan.debug.base = hostile.into();
        plan.debug.busybox = plan.debug.busybox.as_ref().map(|_| hostile.into());
        plan.debug.shell = hostile.into();
        for command in [&mut plan.test.dependencies, &mut plan.test.compile, &mut plan.test.run] {
            *command = vec![hostile.into(), "<<EOF".into()];
        }
        plan.builder.debug_output = hostile.into();
        let dockerfile = dockerfile(&plan);
        assert_eq!(instructions(&dockerfile), expected, "{stage}: {dockerfile}");
        assert!(!dockerfile.contains("\nRUN rm"), "{dockerfile}");
        assert!(!dockerfile.contains("\nUSER root"), "{dockerfile}");
        assert!(!dockerfile.contains(['\u{2028}', '\u{2029}']), "{dockerfile}");
    }
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let project = single("base = \"scratch\"\nenv = { B = \"2\", A = \"1\" }\nlabels = { z = \"1\", a = \"2\" }");
    let first = dockerfiles(&project);
    for _ in 0..5 {
        assert_eq!(dockerfiles(&project), first);
    }
}

#[test]
fn plan_as_json() {
    let project = single("base = \"scratch\"");
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let plan = plan_image(&project, &spec.images[0], &Options { arch: "x86_64".into(), ..Options::default() }).unwrap();
    insta::assert_json_snapshot!(plan);
}

#[test]
fn an_sbom_is_copied_into_the_image_with_its_path_and_digest_as_labels() {
    let project = single("base = \"scratch\"\nlabels = { \"io.github.containerize-rs.sbom.digest\" = \"forged\" }");
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let mut plan =
        plan_image(&project, &spec.images[0], &Options { arch: "x86_64".into(), ..Options::default() }).unwrap();
    containerize_build::plan::attach_sbom(&mut plan, "{}\n".into());
    let sbom = plan.runtime.sbom.as_ref().unwrap();
    assert_eq!(sbom.path, "/var/lib/db/sbom/app.spdx.json");
    assert_eq!(sbom.digest, "sha256:ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356");
    insta::assert_snapshot!(dockerfile(&plan));
}

fn plan_errors(settings: &str) -> String {
    let project = single(settings);
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let errors = plan_image(&project, &spec.images[0], &Options::default()).unwrap_err();
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[test]
fn contradictions_point_at_the_setting() {
    insta::assert_snapshot!(plan_errors("base = \"scratch\"\nlinkage = \"dynamic\"\nruntime-packages = [\"curl\"]"), @r#"
    error: a dynamically linked binary cannot run on a base without a C library
      --> /home/dev/app/Cargo.toml:7:11
      = help: use `linkage = "static"` (or `auto`), or `base = "distroless-cc"`
    error: `runtime-packages` needs a base with a package manager
      --> /home/dev/app/Cargo.toml:8:20
      = help: use `base = "debian-slim"`, or a base image that has these packages
    "#);
}

#[test]
fn the_legacy_builder_gets_no_cache_mounts() {
    let project = single("base = \"distroless-static\"");
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let options = Options { arch: "x86_64".into(), cache_mounts: false, ..Options::default() };
    let dockerfile = dockerfile(&plan_image(&project, &spec.images[0], &options).unwrap());
    assert!(!dockerfile.contains("--mount"), "{dockerfile}");
    insta::assert_snapshot!(dockerfile);
}

#[test]
fn output_adds_a_last_stage_of_the_artifacts_alone() {
    let project = single("base = \"scratch\"");
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let options = Options { arch: "x86_64".into(), export: true, ..Options::default() };
    let plan = plan_image(&project, &spec.images[0], &options).unwrap();
    assert_eq!(plan.target_stage, "export");
    let with_export = dockerfile(&plan);
    // The same file with the stage taken out is the image's: a plain build still gives it.
    let image = dockerfile(&plan_image(&project, &spec.images[0], &Options { export: false, ..options }).unwrap());
    let (before, _) = with_export.split_once("\n# Hand the artifacts").unwrap();
    assert_eq!(before, image);
    insta::assert_snapshot!(with_export);
}

#[test]
fn reproducible_plans_an_assembly_from_the_runtime_stages_own_files() {
    let project =
        single("base = \"scratch\"\ninclude = [{ src = \"static\", dest = \"/srv/static\" }]\nworkdir = \"/srv\"");
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let options = Options { arch: "x86_64".into(), assemble: true, ..Options::default() };
    let plan = plan_image(&project, &spec.images[0], &options).unwrap();
    let assembly = plan.assembly.as_ref().unwrap();
    assert_eq!(assembly.source_date_epoch, 1_763_000_000, "the commit's time");
    assert_eq!(assembly.created, "2025-11-13T02:13:20Z");
    assert_eq!(assembly.directories, ["/srv"]);
    assert_eq!(plan.target_stage, "export");
    let with_export = dockerfile(&plan);
    // The runtime stage is kept whole: `--target runtime` builds the same contents.
    let image = dockerfile(&plan_image(&project, &spec.images[0], &Options { assemble: false, ..options }).unwrap());
    let (before, _) = with_export.split_once("\n# The runtime stage's files").unwrap();
    assert_eq!(before, image);
    insta::assert_snapshot!(with_export);
}

#[test]
fn an_assembled_image_takes_exactly_the_files_the_runtime_stage_copies() {
    // Two lists of one thing: the runtime stage's `COPY --from=builder` lines, and the export
    // stage the image is assembled from. A file added to one must be added to the other.
    let settings = [
        "base = \"scratch\"\ninclude = [{ src = \"static\", dest = \"/srv/static\" }]",
        "base = \"distroless-cc\"",
        "base = \"debian-slim\"",
    ];
    for settings in settings {
        let project = single(settings);
        let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
        let options = Options { arch: "x86_64".into(), assemble: true, ..Options::default() };
        let text = dockerfile(&plan_image(&project, &spec.images[0], &options).unwrap());
        let copies = |stage: &str| -> Vec<String> {
            let start = text.find(&format!(" AS {stage}\n")).unwrap();
            let end = text[start + 1..].find("\nFROM ").map_or(text.len(), |e| start + 1 + e);
            text[start..end]
                .lines()
                .filter_map(|l| l.strip_prefix("COPY --from=builder "))
                .map(|l| l.replace("\"/rootfs/", "\"/"))
                .collect()
        };
        assert!(copies("runtime").iter().any(|c| c.contains("/usr/local/bin/app")), "{text}");
        assert_eq!(copies("runtime"), copies("export"), "{settings}");
    }
}

#[test]
fn reproducible_refuses_runtime_packages() {
    let project = single("base = \"debian-slim\"\nruntime-packages = [\"curl\"]");
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let options = Options { arch: "x86_64".into(), assemble: true, ..Options::default() };
    let errors = plan_image(&project, &spec.images[0], &options).unwrap_err();
    assert!(errors[0].message.contains("`runtime-packages` cannot be installed"), "{errors:?}");
}

fn with_main(settings: &str, main_rs: &str) -> Project {
    let mut project = single(settings);
    project.packages[0].binaries[0].source = Some(SourceFile::new(format!("{ROOT}/src/main.rs"), main_rs));
    project
}

#[test]
fn settings_in_code_give_a_healthcheck_and_cargo_toml_overrides_them() {
    let main = "#[containerize::main(expose = 8080, stop_signal = \"SIGINT\", healthcheck(path = \"/healthz\", interval = \"2s\", timeout = \"1s\", start_period = \"5s\", retries = 2))]\nfn main() {}\n";
    let project = with_main("stop-signal = \"SIGTERM\"", main);
    let dockerfile = dockerfiles(&project);
    assert!(dockerfile.contains("STOPSIGNAL SIGTERM"), "Cargo.toml overrides the attribute: {dockerfile}");
    // The runtime support learns it in the container.
    assert!(dockerfile.contains("ENV CONTAINERIZE_STOP_SIGNAL=\"SIGTERM\""), "{dockerfile}");
    assert!(dockerfile.contains("EXPOSE 8080/tcp"), "{dockerfile}");
    insta::assert_snapshot!(dockerfile);
}

#[test]
fn a_healthcheck_needs_the_attribute_and_a_port() {
    let project = single("healthcheck = { path = \"/healthz\", port = 8080 }");
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let errors = plan_image(&project, &spec.images[0], &Options::default()).unwrap_err();
    assert!(errors[0].message.contains("has no built-in probe"), "{errors:?}");
    let project = with_main("", "#[containerize::main(healthcheck(path = \"/\"))]\nfn main() {}\n");
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let errors = plan_image(&project, &spec.images[0], &Options::default()).unwrap_err();
    assert!(errors[0].message.contains("no port"), "{errors:?}");
}

/// The errors of planning every image of a workspace, one per line.
fn workspace_plan_errors(workspace_settings: &str, packages: &[(&str, &str, &[&str])], tags: &[&str]) -> String {
    let members: Vec<String> = packages.iter().map(|(name, _, _)| format!("\"{name}\"")).collect();
    let root = format!(
        "[workspace]\nmembers = [{}]\n\n[workspace.metadata.containerize]\n{workspace_settings}\n",
        members.join(", ")
    );
    let packages = packages
        .iter()
        .map(|(name, settings, binaries)| {
            let manifest = format!("[package]\nname = \"{name}\"\n\n[package.metadata.containerize]\n{settings}\n");
            package(&format!("{ROOT}/{name}"), &manifest, binaries)
        })
        .collect();
    let project = project(&root, packages);
    let spec = resolve(&project, &Selection::default(), &Settings::default()).expect("valid settings");
    let options = Options { tags: tags.iter().map(|t| (*t).to_owned()).collect(), ..Options::default() };
    match plan_all(&project, &spec, &options) {
        Ok(plans) => format!("ok: {:?}", plans.iter().map(|p| p.tags.join(" ")).collect::<Vec<_>>()),
        Err(errors) => errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
    }
}

#[test]
fn a_name_for_the_whole_workspace_is_refused_with_the_images_and_tags() {
    let two = [("api", "", &["api"][..]), ("worker", "", &["worker"][..])];
    insta::assert_snapshot!(workspace_plan_errors("name = \"acme/app\"", &two, &[]), @r"
    error: the images of `api` (package `api`) and `worker` (package `worker`) would get the same tags `acme/app:1.2.3` and `acme/app:latest`: each build would take them from the one before
      --> /home/dev/app/Cargo.toml:5:8
      = help: give each image its own `name`: in each package's table, or per binary in [package.metadata.containerize.bin.<name>]
    ");
    // One tag in common is enough; a spelling Docker reads as the same name is the same tag.
    let renamed = [
        ("api", "name = \"docker.io/library/app\"\ntags = [\"1\", \"api\"]", &["api"][..]),
        ("worker", "name = \"app\"\ntags = [\"1\", \"worker\"]", &["worker"][..]),
    ];
    insta::assert_snapshot!(workspace_plan_errors("", &renamed, &[]), @r"
    error: the images of `api` (package `api`) and `worker` (package `worker`) would get the same tag `docker.io/library/app:1`: each build would take them from the one before
      --> /home/dev/app/api/Cargo.toml:5:8
      = help: give each image its own `name`: in each package's table, or per binary in [package.metadata.containerize.bin.<name>]
    ");
    let distinct = [("api", "name = \"acme/api\"", &["api"][..]), ("worker", "", &["worker"][..])];
    insta::assert_snapshot!(workspace_plan_errors("name = \"acme/app\"", &distinct, &[]), @r#"ok: ["acme/api:1.2.3 acme/api:latest", "acme/app:1.2.3 acme/app:latest"]"#);
}

#[test]
fn a_package_name_shared_by_its_binaries_is_refused_unless_each_binary_has_its_own() {
    let shared = [("api", "name = \"acme/api\"", &["api", "admin"][..])];
    insta::assert_snapshot!(workspace_plan_errors("", &shared, &[]), @r"
    error: the images of `api` (package `api`) and `admin` (package `api`) would get the same tags `acme/api:1.2.3` and `acme/api:latest`: each build would take them from the one before
      --> /home/dev/app/api/Cargo.toml:5:8
      = help: give each image its own `name`: in each package's table, or per binary in [package.metadata.containerize.bin.<name>]
    ");
    let own = [(
        "api",
        "name = \"acme/api\"\n[package.metadata.containerize.bin.admin]\nname = \"acme/admin\"",
        &["api", "admin"][..],
    )];
    insta::assert_snapshot!(workspace_plan_errors("", &own, &[]), @r#"ok: ["acme/api:1.2.3 acme/api:latest", "acme/admin:1.2.3 acme/admin:latest"]"#);
    // Two packages' binaries of the same name get the same default name.
    let twins = [("api", "", &["app"][..]), ("worker", "", &["app"][..])];
    assert!(workspace_plan_errors("", &twins, &[]).contains("would get the same tags `app:1.2.3` and `app:latest`"));
}

#[test]
fn a_tag_flag_takes_no_digest_and_one_image_only() {
    let one = [("api", "", &["api"][..])];
    let digest = format!("app@sha256:{}", "0".repeat(64));
    insta::assert_snapshot!(workspace_plan_errors("", &one, &[&digest]), @r"
    error: `app@sha256:0000000000000000000000000000000000000000000000000000000000000000` is a digest reference, which can't be a tag
      --> the --tag flag
      = help: write `name:tag`, e.g. `ghcr.io/acme/app:1.0`
    ");
    assert!(workspace_plan_errors("", &one, &["App:1"]).contains("is not an image name"));
    assert!(workspace_plan_errors("", &one, &["app:"]).contains("is not an image tag"));
    assert_eq!(
        workspace_plan_errors("", &one, &["reg.example/app", "app:1"]),
        r#"ok: ["reg.example/app:latest app:1"]"#
    );
    let two = [("api", "", &["api"][..]), ("worker", "", &["worker"][..])];
    assert!(workspace_plan_errors("", &two, &["app:1"]).contains("--tag names one image, but 2 would be built"));
}

#[test]
fn every_command_the_dockerfile_runs_is_one_of_the_plan() {
    // Render only formats: a command it makes up is a decision `--print-plan` does not show.
    let project = single(
        "base = \"debian-slim\"\nbuild-packages = [\"pkg-config\"]\nruntime-packages = [\"libssl3t64\"]\n\
         include = [{ src = \"config\", dest = \"/etc/app\", mode = \"0600\" }]",
    );
    let spec = resolve(&project, &Selection::default(), &Settings::default()).expect("valid settings");
    let options = Options { arch: "x86_64".into(), ..Options::default() };
    let plan = plan_image(&project, &spec.images[0], &options).expect("a plan");
    let (b, r) = (&plan.builder, &plan.runtime);
    let chmods = b.staged.iter().filter_map(|s| s.chmod.as_ref());
    let planned: Vec<&Vec<String>> =
        [b.install.as_ref(), Some(&b.cargo), Some(&b.clean), Some(&b.build), r.install.as_ref()]
            .into_iter()
            .flatten()
            .chain(chmods)
            .collect();
    let text = dockerfile(&plan).replace("\\\n", "");
    for line in text.lines().filter(|l| l.starts_with("RUN ")) {
        let command: Vec<String> = serde_json::from_str(&line[line.find('[').expect("exec form")..]).unwrap();
        assert!(planned.contains(&&command), "`{line}` runs a command the plan does not hold");
    }
}

#[test]
fn files_from_another_image() {
    // Two files from one image share its stage; the local file and its mode are staged alike.
    insta::assert_snapshot!(dockerfiles(&single(
        r#"include = [
    { from = "debian:trixie-slim", src = "/usr/share/zoneinfo", dest = "/usr/share/zoneinfo" },
    { src = "config/app.toml", dest = "/etc/app/app.toml", mode = "0644" },
    { from = "registry.example.com/tools/busybox:1.37@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", src = "/bin/busybox", dest = "/bin/busybox", mode = 0o755 },
    { from = "debian:trixie-slim", src = "/etc/debian_version", dest = "/etc/debian_version" },
]"#
    )));
}

/// Every diagnostic reading the settings gives.
fn settings_errors(settings: &str) -> String {
    let Err(containerize_build::spec::SpecError::Invalid(diagnostics)) =
        resolve(&single(settings), &Selection::default(), &Settings::default())
    else {
        panic!("{settings} should be refused");
    };
    diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[test]
fn an_empty_tag_list_is_refused() {
    insta::assert_snapshot!(settings_errors("tags = []"), @r"
    error: `tags`: an empty list would leave the image with no tag
      --> /home/dev/app/Cargo.toml:6:8
      = help: give at least one, or leave the key out for its default
    ");
}

#[test]
fn an_image_to_copy_from_is_a_valid_reference_and_its_path_absolute() {
    insta::assert_snapshot!(settings_errors(r#"include = [{ from = "Debian:trixie\nRUN x", src = "/etc/x", dest = "/etc/x" }]"#), @r#"
    error: `include`: `Debian` is not an image name
      --> /home/dev/app/Cargo.toml:6:21
      = help: use lowercase letters, digits and separators (`.`, `_`, `-`, `/`), e.g. `ghcr.io/acme/app`
    "#);
    insta::assert_snapshot!(settings_errors(r#"include = [{ src = "etc/x", from = "debian:trixie-slim", dest = "/etc/x" }]"#), @r#"
    error: `include`: `etc/x` is not an absolute path
      --> /home/dev/app/Cargo.toml:6:20
      = help: paths in the image start with `/`, e.g. `/data`
    "#);
}

fn windows() -> Options {
    Options { platform: Some("windows/amd64".into()), ..Options::default() }
}

#[test]
fn windows_on_nanoserver() {
    insta::assert_snapshot!(dockerfiles_with(
        &single(
            r#"expose = [8080]
env = { RUST_LOG = "info" }
include = [{ src = "config/app.toml", dest = "/app/app.toml" }]"#
        ),
        windows()
    ));
}

#[test]
fn windows_on_servercore_keeps_a_set_user() {
    let dockerfile = dockerfiles_with(&single("base = \"servercore\"\nuser = \"ContainerAdministrator\""), windows());
    assert!(dockerfile.contains("\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 AS runtime\n"), "{dockerfile}");
    assert!(dockerfile.contains("\nUSER \"ContainerAdministrator\"\n"), "{dockerfile}");
}

#[test]
fn windows_debug_has_the_bases_shell_and_no_test_stage() {
    let debug = dockerfiles_with(&single(""), Options { stage: Some("debug".into()), ..windows() });
    assert!(debug.contains("# The same image with a shell (the base's cmd.exe)"), "{debug}");
    assert!(!debug.contains("busybox"), "{debug}");
    let errors = plan_errors_with("", Options { stage: Some("test".into()), ..windows() });
    assert!(errors.contains("Windows test binaries cannot run"), "{errors}");
}

fn plan_errors_with(settings: &str, options: Options) -> String {
    let project = single(settings);
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let errors = plan_image(&project, &spec.images[0], &Options { arch: "x86_64".into(), ..options }).unwrap_err();
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[test]
fn windows_refuses_what_only_linux_has() {
    let settings = "base = \"distroless-static\"\nruntime-packages = [\"curl\"]\nstop-signal = \"SIGINT\"";
    insta::assert_snapshot!(plan_errors_with(settings, windows()), @r#"
    error: a Windows image needs a Windows base
      --> /home/dev/app/Cargo.toml:6:8
      = help: use `base = "nanoserver"` (the default for Windows) or `"servercore"`, e.g. with --base nanoserver
    error: `runtime-packages` are Debian packages, which a Windows image can't install
      --> /home/dev/app/Cargo.toml:7:20
      = help: build it for Linux (leave out --platform), or leave this setting out for Windows
    error: `stop-signal` has no meaning on Windows, whose engine refuses STOPSIGNAL
      --> /home/dev/app/Cargo.toml:8:15
      = help: build it for Linux (leave out --platform), or leave this setting out for Windows
    "#);
    insta::assert_snapshot!(plan_errors_with("base = \"nanoserver\"", Options::default()), @r#"
    error: a Windows base needs a Windows image
      --> /home/dev/app/Cargo.toml:6:8
      = help: add `--platform windows/amd64`, or choose a Linux base
    "#);
    let other = Options { platform: Some("linux/arm64".into()), ..Options::default() };
    insta::assert_snapshot!(plan_errors_with("", other), @r"
    error: images can't be planned for `linux/arm64`: the platforms are linux/amd64 (this host, the default) and windows/amd64
      --> the --platform flag
      = help: leave out --platform, or use `--platform windows/amd64`
    ");
}

fn ejected() -> Options {
    Options { eject: true, ..Options::default() }
}

/// A workspace of two members, one of them with a build script, and cargo configuration.
fn workspace_inside() -> Project {
    let root = "[workspace]\nmembers = [\"api\", \"worker\"]\n";
    let api = package(
        &format!("{ROOT}/api"),
        "[package]\nname = \"api\"\n[package.metadata.containerize]\ninclude = [{ src = \"api.toml\", dest = \"/etc/api.toml\" }]\n",
        &["api"],
    );
    let mut worker = package(&format!("{ROOT}/worker"), "[package]\nname = \"worker\"\n", &["worker"]);
    worker.targets.push(TargetFile { path: "build.rs".into(), role: TargetRole::BuildScript });
    let mut project = project(root, vec![api, worker]);
    project.root_files.push(".cargo/config.toml".into());
    project
}

#[test]
fn an_ejected_workspace_makes_its_own_skeleton() {
    let dockerfile = dockerfiles_with(&workspace_inside(), ejected());
    assert!(!dockerfile.contains(".containerize"), "nothing from the tool's context: {dockerfile}");
    assert!(!dockerfile.contains("--mount"), "no cache mounts: {dockerfile}");
    assert!(!dockerfile.contains("0123456789abcdef"), "no revision: {dockerfile}");
    assert!(!dockerfile.contains("image.created"), "no time: {dockerfile}");
    insta::assert_snapshot!(dockerfile);
}

#[test]
fn an_ejected_dockerfile_builds_from_the_workspace_root_only() {
    let root = "[workspace]\nmembers = [\"api\"]\n";
    let api = package(&format!("{ROOT}/api"), "[package]\nname = \"api\"\n", &["api"]);
    let mut shared = package("/home/dev/shared", "[package]\nname = \"shared\"\n", &[]);
    shared.member = false;
    let project = project(root, vec![api, shared]);
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let errors = plan_image(&project, &spec.images[0], &ejected()).unwrap_err();
    insta::assert_snapshot!(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"), @r"
    error: an ejected Dockerfile builds from the workspace root, but package `shared` lies outside it
      --> the --eject flag
      = help: move it into the workspace, or build with `cargo containerize`, whose context holds it
    ");
}

#[test]
fn an_ejected_windows_image() {
    let options = Options { eject: true, ..windows() };
    insta::assert_snapshot!(dockerfiles_with(&single("args = [\"serve\"]"), options));
}

#[test]
fn hostile_stage_names_images_platforms_and_ejected_paths_add_no_instruction() {
    let project =
        single("include = [{ from = \"debian:trixie-slim\", src = \"/etc/debian_version\", dest = \"/etc/v\" }]");
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let options =
        Options { arch: "x86_64".into(), eject: true, platform: Some("windows/amd64".into()), ..Options::default() };
    let mut plan = plan_image(&project, &spec.images[0], &options).unwrap();
    let expected = instructions(&dockerfile(&plan));
    let hostile = "x\"\nRUN rm -rf / \\\n$HOME '<<EOF'\r\nUSER root\u{0}\u{2028}CMD sh\u{2029}";
    plan.image_stages[0].name = hostile.into();
    plan.image_stages[0].image = hostile.into();
    plan.builder.staged[0].include.from = Some(hostile.into());
    plan.builder.staged[0].include.src = hostile.into();
    plan.builder.staged[0].staged = hostile.into();
    plan.builder.platform = Some(hostile.into());
    plan.runtime.binary = hostile.into();
    let ejected = plan.ejected.as_mut().unwrap();
    ejected.manifests.iter_mut().for_each(|m| *m = hostile.into());
    ejected.placeholders = vec![hostile.into()];
    let dockerfile = dockerfile(&plan);
    assert_eq!(instructions(&dockerfile), expected, "{dockerfile}");
    assert!(!dockerfile.contains("\nRUN rm"), "{dockerfile}");
    assert!(!dockerfile.contains("\nUSER root"), "{dockerfile}");
}

fn plan_with(settings: &str, stage: Option<&str>) -> containerize_build::Plan {
    let project = single(settings);
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let options = Options { arch: "x86_64".into(), stage: stage.map(str::to_owned), ..Options::default() };
    plan_image(&project, &spec.images[0], &options).unwrap()
}

#[test]
fn the_debug_stage_follows_the_runtime_with_its_settings() {
    let settings = "base = \"debian-slim\"\nruntime-packages = [\"libssl3t64\"]\nexpose = [8080]\nenv = { RUST_LOG = \"info\" }\nuser = \"10001:10001\"";
    let dockerfile = dockerfile(&plan_with(settings, Some("debug")));
    assert!(dockerfile.contains(" AS debug\n"), "{dockerfile}");
    assert!(dockerfile.ends_with("COPY --from=busybox [\"/busybox\", \"/busybox\"]\n"), "{dockerfile}");
    insta::assert_snapshot!(dockerfile);
}

#[test]
fn the_test_stage_follows_the_builder() {
    let dockerfile = dockerfile(&plan_with("base = \"scratch\"\nbuild-args = { GIT_SHA = \"unknown\" }", Some("test")));
    assert!(!dockerfile.contains(" AS runtime"), "no runtime to build: {dockerfile}");
    insta::assert_snapshot!(dockerfile);
}

#[test]
fn the_debug_stage_has_busybox_on_every_base() {
    let bases = ["scratch", "distroless-static", "distroless-cc", "debian-slim", "registry.example.com/base:1"];
    let lines: Vec<String> = bases
        .iter()
        .map(|base| {
            let debug = plan_with(&format!("base = \"{base}\"\nsuite = \"bookworm\""), None).debug;
            format!("{base}: {} + busybox from {}", debug.base, debug.busybox.as_deref().unwrap_or("the base"))
        })
        .collect();
    insta::assert_snapshot!(lines.join("\n"), @r"
    scratch: gcr.io/distroless/static-debian12:debug-nonroot + busybox from the base
    distroless-static: gcr.io/distroless/static-debian12:debug-nonroot + busybox from the base
    distroless-cc: gcr.io/distroless/cc-debian12:debug-nonroot + busybox from the base
    debian-slim: debian:bookworm-slim + busybox from gcr.io/distroless/static-debian12:debug-nonroot
    registry.example.com/base:1: registry.example.com/base:1 + busybox from gcr.io/distroless/static-debian12:debug-nonroot
    ");
}

#[test]
fn strip_decides_the_runtime_copy_and_cargo_never_strips() {
    for (setting, copy) in [
        ("", "objcopy --strip-debug /build/target/x86_64-unknown-linux-gnu/dist/app /out/app"),
        ("strip = \"symbols\"", "objcopy --strip-all /build/target/x86_64-unknown-linux-gnu/dist/app /out/app"),
        ("strip = \"none\"", "cp /build/target/x86_64-unknown-linux-gnu/dist/app /out/app"),
    ] {
        let plan = plan_with(&format!("profile = \"dist\"\n{setting}"), None);
        let build = &plan.builder.build[2];
        assert!(build.ends_with(&format!("/out/debug/app && {copy}")), "{setting}: {build}");
        // Whatever the profile says, for the skeleton's build, the real one and the tests alike.
        for command in [&plan.builder.cargo, &plan.test.dependencies, &plan.test.run] {
            assert!(command.contains(&"--config=profile.dist.strip=false".to_owned()), "{command:?}");
        }
    }
}

#[test]
fn each_stage_builds_its_images_with_their_tags() {
    let targets = |stage: Option<&str>| {
        let plan = plan_with("tags = [\"1.0\", \"latest\"]", stage);
        let targets: Vec<String> = plan.targets.iter().map(|t| format!("{}: {}", t.stage, t.tags.join(" "))).collect();
        targets.join("; ")
    };
    insta::assert_snapshot!(targets(None), @"runtime: app:1.0 app:latest");
    insta::assert_snapshot!(targets(Some("builder")), @"builder: app:1.0 app:latest");
    insta::assert_snapshot!(
        targets(Some("debug")),
        @"runtime: app:1.0 app:latest; debug: app:1.0-debug app:latest-debug"
    );
    insta::assert_snapshot!(targets(Some("test")), @"test: ");
    let long = format!("tags = [\"{}\"]", "v".repeat(125));
    let project = single(&long);
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let options = Options { stage: Some("debug".into()), ..Options::default() };
    let errors = plan_image(&project, &spec.images[0], &options).unwrap_err();
    assert!(errors[0].message.contains("the debug image's reference"), "{errors:?}");
    // A tag that is another's debug tag would name both images.
    let project = single("tags = [\"a\", \"a-debug\"]");
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    let errors = plan_image(&project, &spec.images[0], &options).unwrap_err();
    assert!(
        errors[0].message.contains("`app:a-debug` would tag both the runtime image and the debug image"),
        "{errors:?}"
    );
}

#[test]
fn the_test_stage_runs_cargo_test_as_the_build_would() {
    let plan = plan_with("features = [\"tls\"]\nno-default-features = true", Some("test"));
    insta::assert_snapshot!(plan.test.run.join(" "), @"cargo test --profile release --package app --features=tls --no-default-features --target x86_64-unknown-linux-gnu --config=profile.release.strip=false --locked --no-fail-fast");
    assert!(plan.test.runs(&format!("RUN {:?}", plan.test.run)));
    assert!(!plan.test.runs(&format!("RUN {:?}", plan.test.compile)));
    assert!(!plan.test.runs(&format!("RUN {:?}", plan.test.dependencies)));
}

#[test]
fn output_refuses_two_binaries_of_one_file_name() {
    // Two packages' `server` binaries, told apart by their names for tags, but not on disk.
    let root = "[workspace]\nmembers = [\"cli\", \"daemon\"]\n";
    let packages = ["cli", "daemon"]
        .iter()
        .map(|name| {
            let manifest =
                format!("[package]\nname = \"{name}\"\n\n[package.metadata.containerize]\nname = \"{name}-server\"\n");
            package(&format!("{ROOT}/{name}"), &manifest, &["server"])
        })
        .collect();
    let project = project(root, packages);
    let spec = resolve(&project, &Selection::default(), &Settings::default()).expect("valid settings");
    let options = Options { export: true, ..Options::default() };
    let errors = plan_all(&project, &spec, &options).expect_err("one file for two binaries");
    let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
    assert!(message.contains("--output would write both binaries of `server` (package `cli`) and `server` (package `daemon`) to one file, `server`"), "{message}");
    assert!(plan_all(&project, &spec, &Options::default()).is_ok(), "images of their own are fine");
}

/// A project whose root manifest is `manifest_tail` after the package table, with this cargo
/// configuration's `profile` tables, planned with `options`.
fn profile_plan(manifest_tail: &str, config: &str, settings: &str, options: Options) -> containerize_build::Plan {
    let manifest = format!(
        "[package]\nname = \"app\"\nversion = \"1.2.3\"\n\n[package.metadata.containerize]\n{settings}\n\n{manifest_tail}"
    );
    let mut project = project("", vec![package(ROOT, &manifest, &["app"])]);
    let config: toml::Table = toml::from_str(config).unwrap();
    project.config_profiles = config.get("profile").and_then(toml::Value::as_table).cloned().unwrap_or_default();
    let spec = resolve(&project, &Selection::default(), &Settings::default()).unwrap();
    plan_image(&project, &spec.images[0], &Options { arch: "x86_64".into(), ..options }).unwrap()
}

/// The manifest's profiles, the configuration's, the image's settings; the debug info kept
/// (its level, and whether packed).
type ProfileCase<'a> = (&'a str, &'a str, &'a str, Option<(&'a str, bool)>);

#[test]
fn the_debug_info_a_profile_keeps_is_read_as_cargo_resolves_it() {
    let packed = "[profile.release]\ndebug = true\nsplit-debuginfo = \"packed\"";
    let cases: &[ProfileCase<'_>] = &[
        ("", "", "", None),
        ("[profile.release]\ndebug = \"line-tables-only\"", "", "", Some(("line-tables-only", false))),
        ("[profile.release]\ndebug = 0", "", "", None),
        ("[profile.release]\ndebug = \"none\"", "", "", None),
        (packed, "", "", Some(("true", true))),
        // The configuration wins over the manifest, a package's own table over the profile's.
        (packed, "[profile.release]\ndebug = false", "", None),
        ("[profile.release]\ndebug = 2\n[profile.release.package.app]\ndebug = false", "", "", None),
        ("[profile.release.package.other]\ndebug = true", "", "", None),
        // Inherited, down to the built-in `dev` (which keeps it) or `release`.
        (
            "[profile.dist]\ninherits = \"release\"\n[profile.release]\ndebug = 1",
            "",
            "profile = \"dist\"",
            Some(("1", false)),
        ),
        ("[profile.dist]\ninherits = \"dev\"", "", "profile = \"dist\"", Some(("true", false))),
        ("[profile.dist]\ninherits = \"release\"", "", "profile = \"dist\"", None),
        ("", "", "profile = \"dev\"", Some(("true", false))),
        ("[profile.dev]\nsplit-debuginfo = \"packed\"", "", "profile = \"test\"", Some(("true", true))),
        // Cargo ignores split-debuginfo without debug info.
        ("[profile.release]\nsplit-debuginfo = \"packed\"", "", "", None),
    ];
    for (manifest, config, settings, expected) in cases {
        let plan = profile_plan(manifest, config, settings, Options::default());
        let found = plan.builder.debug_info.as_ref().map(|d| (d.level.as_str(), d.package.is_some()));
        assert_eq!(found, *expected, "{manifest:?} with config {config:?} and {settings:?}");
    }
}

#[test]
fn a_packed_profile_puts_the_dwarf_package_beside_the_debug_images_binary() {
    let packed = "[profile.release]\ndebug = true\nsplit-debuginfo = \"packed\"";
    let plan = profile_plan(packed, "", "", Options { stage: Some("debug".into()), ..Options::default() });
    let dockerfile = dockerfile(&plan);
    let build = "cp /build/target/x86_64-unknown-linux-gnu/release/app /out/debug/app && cp /build/target/x86_64-unknown-linux-gnu/release/app.dwp /out/debug/app.dwp &&";
    assert!(dockerfile.contains(build), "{dockerfile}");
    let (_, debug) = dockerfile.split_once(" AS debug\n").unwrap();
    assert!(
        debug.contains("COPY --from=builder [\"/out/debug/app.dwp\", \"/usr/local/bin/app.dwp\"]\n"),
        "{dockerfile}"
    );
    let (runtime, _) = dockerfile.split_once(" AS debug\n").unwrap();
    assert!(!runtime.contains("app.dwp\", \"/usr"), "not in the runtime image: {dockerfile}");
    insta::assert_snapshot!(dockerfile);
}

#[test]
fn output_takes_the_debug_info_the_profile_keeps() {
    let export = |manifest: &str| {
        let plan = profile_plan(manifest, "", "", Options { export: true, ..Options::default() });
        let files = plan.export.unwrap().files;
        files.into_iter().map(|f| format!("{} -> {}", f.from, f.to)).collect::<Vec<_>>()
    };
    assert_eq!(export(""), ["/out/app -> /app"]);
    assert_eq!(export("[profile.release]\ndebug = true"), ["/out/app -> /app", "/out/debug/app -> /app.debug"]);
    assert_eq!(
        export("[profile.release]\ndebug = true\nsplit-debuginfo = \"packed\""),
        ["/out/app -> /app", "/out/debug/app -> /app.debug", "/out/debug/app.dwp -> /app.debug.dwp"],
        "named as gdb looks for it beside `app.debug`"
    );
}

#[test]
fn a_dependencys_feature_stays_as_cargo_writes_it_when_features_are_qualified() {
    let plan = plan_with("features = [\"tls\", \"serde/derive\"]", None);
    assert_eq!(plan.builder.features.flags(Some("app")), ["--features=app/tls,serde/derive"]);
    assert_eq!(plan.builder.features.flags(None), ["--features=tls,serde/derive"]);
}
