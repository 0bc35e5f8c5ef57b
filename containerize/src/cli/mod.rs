//! The `cargo-containerize` command: parse flags, gather the project, plan, then print or
//! build. Everything up to the plan is synchronous; only building touches the engine.

pub mod args;
mod progress;
mod report;

use crate::assemble;
use crate::context::{Context, LARGE as LARGE_CONTEXT};
use crate::credentials;
use crate::engine::{Credential, Docker, Ending, Engine, EngineError, Probe, registry_of};
use crate::error::{Difference, Error};
use crate::export::{self, Exported};
use crate::image::{self, Built, ImageBuild};
use crate::interrupt::Interruption;
use crate::push::{self, ImagePush, Pushed};
use args::{Args, BuildKit, Color};
use containerize_build::diagnostic::{Diagnostic, Origin};
use containerize_build::keys::KEYS;
use containerize_build::pipeline::{self, PlanError};
use containerize_build::plan::{HEALTHCHECK_FLAG, HealthcheckPlan, stage};
use containerize_build::settings::{Base, Linkage, Set};
use containerize_build::validate::{Port, Protocol};
use containerize_build::{Options, Plan, Project, Selection, Settings, Spec, dockerfile, validate};
use progress::{Display, PushDisplay, Verbosity};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Runs the command with the process's arguments.
pub fn main() -> ExitCode {
    let args = Args::from_env();
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    report::init(color);
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report::error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}

fn run(args: &Args) -> Result<(), Error> {
    if args.help_settings {
        return write_stdout(&settings_reference());
    }
    let (project, spec) = prepare(args)?;
    // Printed without an engine, a Dockerfile assumes BuildKit, the docker CLI's default; a
    // build plans again once the engine says which builder it has.
    let plans = plans(args, &project, &spec, args.buildkit != BuildKit::Never)?;
    if args.eject {
        check_ejectable(&project, &plans)?;
    }
    let sbom = sbom_output(args, &plans)?;
    if args.print || args.check.is_some() || args.print_plan || args.print_context.is_some() {
        if args.print || args.check.is_some() {
            let dockerfiles: Vec<String> = plans.iter().map(dockerfile).collect();
            match &args.check {
                Some(file) => check(args, file, &dockerfiles.join("\n"))?,
                None => write_stdout(&dockerfiles.join("\n"))?,
            }
        } else if let Some(file) = &args.print_context {
            write_context(&project, &plans, file)?;
        } else {
            let json = serde_json::to_string_pretty(&plans).expect("plans serialize");
            write_stdout(&format!("{json}\n"))?;
        }
        // Nothing is built: the document goes as planned, last, so that no context has it.
        return sbom.map_or(Ok(()), |(file, document)| write_sbom(file, document));
    }
    // Both take the runtime image: a builder image pushed under its tags would ship the sources.
    if let Some(stage @ (stage::BUILDER | stage::TEST)) = args.stage.as_deref() {
        let wanting = [("--run", args.run, "runs"), ("--push", args.push, "pushes")];
        if let Some((flag, _, verb)) = wanting.into_iter().find(|(_, given, _)| *given) {
            let message = format!("{flag} {verb} the runtime image, which --stage {stage} does not build");
            let help = format!("leave out --stage, or {flag}");
            return Err(Error::Settings(vec![Diagnostic::error(Origin::Flag(flag), message, "").with_help(help)]));
        }
    }
    // A bad `.dockerignore` is the project's problem, told before any engine is asked.
    Context::dockerignore(project.workspace_root.as_std_path()).map_err(EngineError::from)?;
    if let Some(dir) = &args.output {
        let names: Vec<String> = plans.iter().flat_map(export::output_names).collect();
        let packages: Vec<&std::path::Path> = project.packages.iter().map(|p| p.dir.as_std_path()).collect();
        export::prepare_dir(dir, &names, &packages)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Error::Output)?;
    runtime.block_on(build_all(args, &project, &spec))
}

/// A plain `docker build .` sends what `.dockerignore` leaves, and the ejected Dockerfile copies
/// all of it: a target directory inside the workspace must be left out, or the host's
/// artifacts would be sent and land in the builder's own target directory; and nothing the
/// build names may be, or a placeholder source would silently stand in for it.
fn check_ejectable(project: &Project, plans: &[Plan]) -> Result<(), Error> {
    let root = project.workspace_root.as_std_path();
    let ignore = Context::dockerignore(root).map_err(EngineError::from)?;
    let dockerignore = root.join(".dockerignore");
    let named = plans.iter().flat_map(|p| {
        p.context.copies.iter().chain(p.context.include.iter().filter(|i| i.from.is_none()).map(|i| &i.src))
    });
    if let Some(path) = named.into_iter().find(|path| ignore.excludes(path)) {
        return Err(Error::NotEjectable {
            reason: format!(
                "the build needs `{path}`, but {} leaves it out of `docker build .`",
                dockerignore.display()
            ),
            fix: format!("add `!{path}` to .dockerignore, after the pattern that excludes it"),
        });
    }
    let Ok(target) = project.target_directory.as_std_path().strip_prefix(root) else {
        return Ok(());
    };
    let target = target.to_string_lossy().replace('\\', "/");
    if ignore.excludes(&target) {
        return Ok(());
    }
    Err(Error::NotEjectable {
        reason: format!(
            "the ejected Dockerfile copies the workspace as `docker build .` sends it, and {} does not leave out the target directory `{target}`",
            dockerignore.display()
        ),
        fix: format!(
            "add `/{target}` to .dockerignore (and `.git`, `.env`: what it leaves in is copied into the builder)"
        ),
    })
}

/// `--check`: the file must be what `--print --eject` writes; else the difference goes to
/// stdout. A missing file, or one that differs only in its line endings, is stale too, and
/// said to be so rather than shown line by line.
fn check(args: &Args, file: &std::path::Path, expected: &str) -> Result<(), Error> {
    let command = "cargo containerize --print --eject".to_owned();
    let stale = |difference| Err(Error::Stale { file: file.to_owned(), command: command.clone(), difference });
    let read = crate::engine::discovery::read_capped(file).map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    let found = match read {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return stale(Difference::Missing),
        Err(e) => {
            let message = format!("can't read {}: {e}", file.display());
            return Err(Error::Settings(vec![Diagnostic::error(Origin::Flag("--check"), message, "")]));
        }
    };
    if found == expected {
        if !args.quiet {
            say!("{} is the Dockerfile `{command}` writes", file.display());
        }
        return Ok(());
    }
    if found.contains("\r\n") && found.replace("\r\n", "\n") == expected {
        return stale(Difference::LineEndings);
    }
    let diff = similar::TextDiff::from_lines(found.as_str(), expected);
    let shown = file.display().to_string();
    write_stdout(&diff.unified_diff().context_radius(3).header(&shown, &command).to_string())?;
    stale(Difference::Shown)
}

/// Writes the one image's context as a tar, streamed ([`write_output`]). Ctrl-C stops it with
/// nothing half-written left behind.
fn write_context(project: &Project, plans: &[Plan], file: &std::path::Path) -> Result<(), Error> {
    let [plan] = plans else {
        let message = format!("--print-context writes one image's context, but {} would be built", plans.len());
        let diagnostic =
            Diagnostic::error(Origin::Flag("--print-context"), message, "").with_help("select one with --bin");
        return Err(Error::Settings(vec![diagnostic]));
    };
    // The archive written inside the project must not go into the next one.
    let output = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    let context = context_of(project, plan, Some(&output))?;
    let interrupted = interrupt_flag();
    let write = |out: &mut dyn Write| {
        let mut out = std::io::BufWriter::new(Interruptible { out, interrupted: &interrupted });
        let written: Result<(), Error> =
            context.write(&dockerfile(plan), &mut out).map(drop).map_err(|e| EngineError::from(e).into());
        let written = written.and_then(|()| out.flush().map_err(Error::Output));
        if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(EngineError::Interrupted.into());
        }
        written
    };
    write_output(file, write)
}

/// `--sbom`: the file, and the document of the one image, refused for several.
fn sbom_output<'p>(args: &'p Args, plans: &'p [Plan]) -> Result<Option<(&'p std::path::Path, &'p str)>, Error> {
    let Some(file) = &args.sbom else { return Ok(None) };
    let [plan] = plans else {
        let message = format!("--sbom writes one image's SBOM, but {} would be built", plans.len());
        let diagnostic = Diagnostic::error(Origin::Flag("--sbom"), message, "").with_help("select one with --bin");
        return Err(Error::Settings(vec![diagnostic]));
    };
    Ok(plan.runtime.sbom.as_ref().map(|sbom| (file.as_path(), sbom.document.as_str())))
}

fn write_sbom(file: &std::path::Path, document: &str) -> Result<(), Error> {
    write_output(file, |out| out.write_all(document.as_bytes()).and_then(|()| out.flush()).map_err(Error::Output))
}

/// Writes an output file with `write`: a regular file only once it is whole (written to a
/// temporary file beside it, then renamed over it, through a symlink to the file it names),
/// and anything else (`-` for stdout, a pipe, a device) as it goes.
fn write_output(file: &std::path::Path, write: impl FnOnce(&mut dyn Write) -> Result<(), Error>) -> Result<(), Error> {
    if file == std::path::Path::new("-") {
        return write(&mut std::io::stdout().lock());
    }
    let target = match std::fs::metadata(file) {
        Ok(meta) if !meta.is_file() => {
            let out = std::fs::OpenOptions::new().write(true).open(file).map_err(Error::Output);
            return out.and_then(|mut out| write(&mut out)).map_err(|e| e.writing(file));
        }
        // Through a symlink to the file it names, which stays a link.
        Ok(_) => std::fs::canonicalize(file).map_err(|e| Error::Output(e).writing(file))?,
        Err(_) => file.to_owned(),
    };
    containerize_build::atomic_write::replace(&target, Error::Output, |file| write(file)).map_err(|e| e.writing(file))
}

/// A flag Ctrl-C raises instead of killing the process, so a write in progress can stop and
/// clean up; a second Ctrl-C exits at once.
fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    #[cfg(unix)]
    {
        use signal_hook::consts::SIGINT;
        let _ = signal_hook::flag::register_conditional_shutdown(SIGINT, 130, std::sync::Arc::clone(&flag));
        let _ = signal_hook::flag::register(SIGINT, std::sync::Arc::clone(&flag));
    }
    flag
}

/// A writer that fails once Ctrl-C has been pressed.
struct Interruptible<'a, W: ?Sized> {
    out: &'a mut W,
    interrupted: &'a std::sync::atomic::AtomicBool,
}

impl<W: Write + ?Sized> Write for Interruptible<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(std::io::Error::other("interrupted"));
        }
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Lists a plan's context, leaving out `output` (where `--print-context` or `--output` writes), with a
/// warning when it is unexpectedly large.
fn context_of(project: &Project, plan: &Plan, output: Option<&std::path::Path>) -> Result<Context, Error> {
    let never: Vec<&std::path::Path> = [project.target_directory.as_std_path()].into_iter().chain(output).collect();
    let context = Context::of(plan, project.workspace_root.as_std_path(), &never).map_err(EngineError::from)?;
    let size = context.size();
    if size.bytes > LARGE_CONTEXT {
        let largest: Vec<String> = context
            .largest_directories()
            .iter()
            .map(|(dir, bytes)| format!("{dir} ({})", report::size(*bytes)))
            .collect();
        let message = format!(
            "the build context of `{}` is {}, mostly {}",
            plan.binary,
            report::size(size.bytes),
            largest.join(", ")
        );
        let help = "leave out what the build does not read with .dockerignore, .gitignore or `package.exclude`";
        report::diagnostic(&Diagnostic::warning(Origin::Derived, message, "").with_help(help));
    }
    Ok(context)
}

fn write_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Error::Output)
}

/// Metadata and settings: everything up to planning.
fn prepare(args: &Args) -> Result<(Project, Spec), Error> {
    let mut command = args.manifest.metadata();
    command.other_options(args.cargo_flags());
    let metadata = command.exec().map_err(PlanError::from)?;
    let selection = Selection {
        packages: args.workspace.package.clone(),
        workspace: args.workspace.workspace || args.workspace.all,
        exclude: args.workspace.exclude.clone(),
        bins: args.bins.clone(),
        current_package: metadata.root_package().map(|p| p.name.to_string()),
    };
    let (project, spec) = containerize_build::prepare(&metadata, &selection, &flag_settings(args)?)?;
    spec.warnings.iter().for_each(report::diagnostic);
    if args.stage.as_deref() == Some(stage::TEST) && !spec.libraries.is_empty() {
        let names: Vec<String> = spec.libraries.iter().map(|name| format!("`{name}`")).collect();
        let message = format!(
            "the test stage runs the tests of the packages that have an image; {} {} no binary, so {} tests are not run",
            names.join(", "),
            if names.len() == 1 { "has" } else { "have" },
            if names.len() == 1 { "its" } else { "their" },
        );
        let help = format!(
            "run them with `cargo test {}`",
            spec.libraries.iter().map(|n| format!("-p {n}")).collect::<Vec<_>>().join(" ")
        );
        report::diagnostic(&Diagnostic::warning(Origin::Flag("--stage"), message, "").with_help(help));
    }
    Ok((project, spec))
}

/// Every image's plan, for a builder with BuildKit or without.
fn plans(args: &Args, project: &Project, spec: &Spec, buildkit: bool) -> Result<Vec<Plan>, Error> {
    let options = Options {
        tags: args.tags.clone(),
        stage: args.stage.clone(),
        platform: args.platform.clone(),
        eject: args.eject,
        cargo_flags: args.cargo_flags(),
        cache_mounts: buildkit,
        export: args.output.is_some(),
        assemble: args.reproducible,
        ..Options::default()
    };
    Ok(pipeline::plans(project, spec, &options, &args.manifest.metadata())?)
}

/// The settings layer the flags make, the highest in precedence.
pub fn flag_settings(args: &Args) -> Result<Settings, Error> {
    let mut errors = Vec::new();
    let mut check = |flag: &'static str, result: validate::Checked<()>| {
        if let Err(invalid) = result {
            errors
                .push(Diagnostic { help: invalid.help, ..Diagnostic::error(Origin::Flag(flag), invalid.message, "") });
        }
    };
    let mut s = Settings::default();
    let features = args.feature_list();
    for feature in &features {
        check("--features", validate::feature(feature).map(drop));
    }
    if !features.is_empty() {
        s.features = Some(Set::flag(features, "--features"));
    }
    if args.features.all_features {
        s.all_features = Some(Set::flag(true, "--all-features"));
    }
    if args.features.no_default_features {
        s.no_default_features = Some(Set::flag(true, "--no-default-features"));
    }
    let profile = args.profile.clone().or_else(|| args.release.then(|| "release".to_owned()));
    if let Some(profile) = profile {
        check("--profile", validate::cargo_name(&profile).map(drop));
        s.profile = Some(Set::flag(profile, "--profile"));
    }
    if let Some(base) = &args.base {
        match Base::parse(base) {
            Ok(base) => s.base = Some(Set::flag(base, "--base")),
            Err(invalid) => check("--base", Err(invalid)),
        }
    }
    if let Some(linkage) = &args.linkage {
        match Linkage::parse(linkage) {
            Ok(linkage) => s.linkage = Some(Set::flag(linkage, "--linkage")),
            Err(invalid) => check("--linkage", Err(invalid)),
        }
    }
    if errors.is_empty() { Ok(s) } else { Err(Error::Settings(errors)) }
}

/// Builds, tags and reports every image, then smoke-runs them if asked. Ctrl-C at any point
/// stops with 130: the images reported so far keep their tags, and nothing else is tagged.
async fn build_all(args: &Args, project: &Project, spec: &Spec) -> Result<(), Error> {
    let interruption = Interruption::listen();
    let mut built = Vec::new();
    let mut pushed = Vec::new();
    let result = build_and_run(args, project, spec, &interruption, &mut built, &mut pushed).await;
    let interrupted = matches!(
        result,
        Err(Error::Engine(EngineError::Interrupted) | Error::Push { error: EngineError::Interrupted, .. })
    );
    // Ctrl-C may also come as a step fails: it is what the user did last.
    if interrupted || interruption.happened() {
        let tagged = built.into_iter().flat_map(|image| image.tags).collect();
        return Err(Error::Interrupted { tagged, pushed: args.push.then_some(pushed) });
    }
    result
}

/// Each registry the tags name, with the user's credentials for it (none: anonymous).
type Registries = BTreeMap<String, Option<Credential>>;

/// The credentials for every registry `references` name, as `docker login` stored them.
async fn credentials_for<'a>(
    references: impl IntoIterator<Item = &'a String>,
    interruption: &Interruption,
) -> Result<Registries, EngineError> {
    let mut registries = Registries::new();
    for reference in references {
        let registry = registry_of(reference);
        if !registries.contains_key(registry) {
            registries.insert(registry.to_owned(), credentials::find(registry, interruption).await?);
        }
    }
    Ok(registries)
}

/// Before anything is built: every tag must name a registry of the user's, and every registry
/// must answer and take the credentials.
async fn check_push(docker: &Docker, plans: &[Plan], interruption: &Interruption) -> Result<Registries, EngineError> {
    let tags: Vec<String> = plans.iter().flat_map(|plan| plan.tags.iter().cloned()).collect();
    tags.iter().try_for_each(|tag| push::check_name(tag))?;
    let registries = credentials_for(&tags, interruption).await?;
    push::check_registries(docker, &tags, |registry| registries.get(registry).cloned().flatten(), interruption).await?;
    Ok(registries)
}

/// The credentials for the registries the base images come from, to pull private ones. One
/// that can't be read is not needed for a public base: a warning, and the build goes on.
async fn base_credentials(plans: &[Plan], interruption: &Interruption) -> Result<Vec<Credential>, EngineError> {
    let bases: Vec<String> = plans
        .iter()
        .flat_map(|plan| [plan.builder.image.clone(), plan.runtime.base.clone()])
        .filter(|base| base != "scratch")
        .collect();
    let mut found = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for base in &bases {
        let registry = registry_of(base);
        if !seen.insert(registry) {
            continue;
        }
        match credentials::find(registry, interruption).await {
            Ok(credential) => found.extend(credential),
            Err(EngineError::Interrupted) => return Err(EngineError::Interrupted),
            Err(error) => {
                let help = "the build goes on without them, which is enough for public base images";
                report::diagnostic(&Diagnostic::warning(Origin::Derived, error.to_string(), "").with_help(help));
            }
        }
    }
    Ok(found)
}

async fn build_and_run(
    args: &Args,
    project: &Project,
    spec: &Spec,
    interruption: &Interruption,
    built: &mut Vec<Built>,
    pushed: &mut Vec<Pushed>,
) -> Result<(), Error> {
    let verbosity = match (args.quiet, args.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    let docker = tokio::select! {
        biased;
        () = interruption.wait() => return Err(EngineError::Interrupted.into()),
        docker = Docker::connect(|warning| {
            let help = "the docker CLI ignores it too, and uses the default socket";
            report::diagnostic(&Diagnostic::warning(Origin::Derived, warning.to_string(), "").with_help(help));
        }) => docker?,
    };
    let buildkit = match args.buildkit {
        BuildKit::Always if !docker.info.buildkit => {
            return Err(EngineError::NoBuildKit { engine: Box::new(docker.info.clone()) }.into());
        }
        BuildKit::Always => true,
        BuildKit::Auto => docker.info.buildkit,
        BuildKit::Never => false,
    };
    let plans = plans(args, project, spec, buildkit)?;
    // Refused before anything is sent: the engine would only fail at the first Windows step.
    if let Some(plan) = plans.iter().find(|p| !p.platform.starts_with(&format!("{}/", docker.info.os))) {
        let (binary, platform, os) = (plan.binary.clone(), plan.platform.clone(), docker.info.os.clone());
        return Err(EngineError::Platform { binary, platform, os }.into());
    }
    if verbosity != Verbosity::Quiet {
        let builder = if buildkit { "BuildKit" } else { "the legacy builder" };
        say!("engine: {}, with {builder}", docker.info);
    }
    let registries = match args.push {
        true => {
            check_push(&docker, &plans, interruption).await.map_err(|error| Error::Push { error, pushed: vec![] })?
        }
        false => Registries::new(),
    };
    let credentials = base_credentials(&plans, interruption).await?;
    let terminal = std::io::stderr().is_terminal();
    // The plan each image in `built` was built from.
    let mut built_from: Vec<&Plan> = Vec::new();
    // What `--output` wrote before must not feed the build it comes from.
    let output = args.output.as_ref().map(|dir| std::path::absolute(dir).unwrap_or_else(|_| dir.clone()));
    for plan in &plans {
        for target in &plan.targets {
            if interruption.happened() {
                return Err(EngineError::Interrupted.into());
            }
            let context = context_of(project, plan, output.as_deref())?;
            let mut bases: Vec<String> = [&plan.builder.image, &plan.runtime.base]
                .into_iter()
                .chain(plan.image_stages.iter().map(|s| &s.image))
                .cloned()
                .collect();
            if target.stage == stage::DEBUG {
                bases.push(plan.debug.base.clone());
                bases.extend(plan.debug.busybox.clone());
            }
            let image_build = ImageBuild {
                binary: &plan.binary,
                dockerfile: dockerfile(plan),
                context,
                target: &target.stage,
                tags: &target.tags,
                buildkit,
                bases,
                credentials: credentials.clone(),
                no_cache: args.no_cache,
            };
            let mut display = Display::new(verbosity, terminal, &plan.binary);
            if let (Some(dir), Some(stage)) = (&args.output, &plan.export) {
                // The SBOM the image would carry, as the tool made it.
                let sbom =
                    plan.runtime.sbom.as_ref().map(|sbom| (export::sbom_name(&plan.binary), sbom.document.as_bytes()));
                let documents: Vec<(String, &[u8])> = sbom.into_iter().collect();
                let result =
                    export::export(&docker, image_build, &stage.files, &documents, dir, &mut display, interruption)
                        .await;
                display.finish();
                report_exported(&result?)?;
                continue;
            }
            let result = if let Some(assembly) = &plan.assembly {
                assemble::assemble(&docker, image_build, &plan.runtime, assembly, &mut display, interruption).await
            } else {
                image::build(&docker, image_build, &mut display, interruption).await.map_err(|error| match error {
                    EngineError::StepFailed { step, output, .. }
                        if target.stage == stage::TEST && plan.test.runs(&step) =>
                    {
                        Error::TestsFailed { package: plan.package.clone(), output }
                    }
                    other => other.into(),
                })
            };
            display.finish();
            let image = result.map_err(|error| match error {
                Error::Engine(EngineError::BaseImageMissing { image, message, .. })
                    if plan.image_stages.iter().any(|stage| stage.image == image) =>
                {
                    Error::Engine(EngineError::BaseImageMissing { image, message, included: true })
                }
                other => other,
            })?;
            // Tagged: it is built whatever comes next, and reported as such.
            built.push(image.clone());
            built_from.push(plan);
            if !args.json {
                report_built(&image)?;
            }
        }
    }
    if let Some((file, document)) = sbom_output(args, &plans)? {
        write_sbom(file, document)?;
    }
    if args.run {
        // Every image built: with --stage debug, the runtime image (the one shipped, whose
        // base lacks what the debug one adds) as well as the debug image.
        for (image, plan) in built.iter().zip(&built_from) {
            smoke_run(&docker, image, plan, args, interruption).await?;
        }
    }
    if args.push {
        let names: Vec<String> = built.iter().map(Built::name).collect();
        let pushes: Vec<ImagePush<'_>> =
            built.iter().zip(&names).map(|(image, name)| ImagePush { name, tags: &image.tags }).collect();
        let credential = |registry: &str| registries.get(registry).cloned().flatten();
        let mut display = PushDisplay::new(verbosity, terminal);
        let result = push::push_all(&docker, &pushes, credential, &mut display, interruption, pushed).await;
        if let Err(error) = result {
            // What was built and pushed before the failure, for a CI job reading the JSON.
            if args.json {
                write_reports(args, built, &built_from, pushed)?;
            }
            return Err(Error::Push { error, pushed: pushed.clone() });
        }
        if !args.json {
            let lines: Vec<String> = pushed.iter().map(|p| format!("pushed {} {}\n", p.tag, p.digest)).collect();
            write_stdout(&lines.concat())?;
        }
    }
    if args.json {
        write_reports(args, built, &built_from, pushed)?;
    }
    Ok(())
}

/// `--json`: each image with the plan it was built from (the one `--print-plan` shows for the
/// same flags and builder); and with `--push`, each tag's digest.
fn write_reports(args: &Args, built: &[Built], built_from: &[&Plan], pushed: &[Pushed]) -> Result<(), Error> {
    let reports: Vec<Report<'_>> = built
        .iter()
        .zip(built_from)
        .map(|(image, &plan)| {
            let pushed = args.push.then(|| pushed.iter().filter(|p| image.tags.contains(&p.tag)).collect());
            Report { image, plan, pushed }
        })
        .collect();
    let json = serde_json::to_string_pretty(&reports).expect("results serialize");
    write_stdout(&format!("{json}\n"))
}

/// An image in the `--json` report.
#[derive(serde::Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    image: &'a Built,
    plan: &'a Plan,
    /// With `--push`: each tag pushed, with its manifest's digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pushed: Option<Vec<&'a Pushed>>,
}

/// One line per image: the binary (and the stage, when not the runtime), id, size and tags; a
/// test stage says its tests passed.
fn report_built(image: &Built) -> Result<(), Error> {
    let id = image.id.strip_prefix("sha256:").unwrap_or(&image.id);
    let name = image.name();
    let what = match image.stage.as_str() {
        stage::TEST => "tests passed".to_owned(),
        _ => format!("{}  {}", report::size(image.size), image.tags.join(" ")),
    };
    write_stdout(&format!("{name}  sha256:{}  {what}\n", &id[..id.len().min(12)]))
}

fn report_exported(exported: &Exported) -> Result<(), Error> {
    let lines: Vec<String> = exported
        .files
        .iter()
        .map(|(path, bytes)| format!("{}  {}  {}\n", exported.binary, path.display(), report::size(*bytes)))
        .collect();
    write_stdout(&lines.concat())
}

/// Runs a built image once, until it exits or, when it exposes a port, answers there from
/// outside the container; at most `--run-timeout`.
async fn smoke_run(
    engine: &impl Engine,
    image: &Built,
    plan: &Plan,
    args: &Args,
    interruption: &Interruption,
) -> Result<(), Error> {
    let reference = image.tags.first().unwrap_or(&image.id);
    let probe = probe(plan.runtime.healthcheck.as_ref(), &plan.runtime.expose);
    let until = probe.as_ref().map_or(String::new(), |p| format!(" until it answers {p}"));
    say!("running {reference}{until}, for at most {}s", args.run_timeout.as_secs());
    let outcome = engine.run_once(reference, &args.run_args, probe.as_ref(), args.run_timeout, interruption).await?;
    say_part!("{}", outcome.logs);
    let image = reference.clone();
    match outcome.ending {
        Ending::Exited(0) => say!("{reference} exited with status 0"),
        Ending::Exited(status) => return Err(EngineError::RunFailed { image, status }.into()),
        Ending::Answered(how) => say!("{reference} answered from outside the container: {how}"),
        Ending::TimedOut(last) => {
            let waited = args.run_timeout;
            return Err(match probe {
                Some(probe) => EngineError::NotAnswered { image, probe, waited, last },
                None => EngineError::RunTimedOut { image, waited },
            }
            .into());
        }
    }
    Ok(())
}

/// How to tell that the image's service answers: GET on its healthcheck's path when it has
/// an HTTP one, else a connection on the healthcheck's port or its first exposed TCP port.
fn probe(healthcheck: Option<&HealthcheckPlan>, expose: &[Port]) -> Option<Probe> {
    let healthcheck = healthcheck.and_then(|check| {
        let url = check.command.iter().skip_while(|word| *word != HEALTHCHECK_FLAG).nth(1)?;
        let (port, path) = match url.strip_prefix("http://127.0.0.1:") {
            Some(rest) => rest.split_at(rest.find('/').unwrap_or(rest.len())),
            None => (url.strip_prefix("tcp://127.0.0.1:")?, ""),
        };
        let http_path = (!path.is_empty()).then(|| path.to_owned());
        Some(Probe { port: port.parse().ok()?, http_path })
    });
    let exposed = expose.iter().find(|p| p.protocol == Protocol::Tcp);
    healthcheck.or_else(|| exposed.map(|p| Probe { port: p.number, http_path: None }))
}

/// Every settings key, with its summary and an example, for `--help-settings` and the README.
pub fn settings_reference() -> String {
    let mut text = String::from(
        "Settings go in [package.metadata.containerize] (one package), [workspace.metadata.containerize]\n(defaults for every member), [package.metadata.containerize.bin.<name>] (one binary), or\n#[containerize::main(...)] on a binary's main (written stop_signal = ..., env(KEY = \"v\")).\nPrecedence, lowest first: workspace, attribute, package, binary table, flags; maps merge key by\nkey and the healthcheck field by field. --print-plan shows where each value was set.\n",
    );
    for key in KEYS {
        let scope = match (key.in_manifest, key.in_workspace) {
            (false, _) => " (#[containerize::main] only)",
            (true, false) => " (package tables only)",
            (true, true) => "",
        };
        text.push_str(&format!("\n{}{scope}\n    {}\n", key.name, key.summary));
        for line in key.example.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthcheck(url: &str) -> HealthcheckPlan {
        let command = ["/usr/local/bin/web", HEALTHCHECK_FLAG, url, "1000"].map(str::to_owned).to_vec();
        HealthcheckPlan { command, timing: Default::default() }
    }

    #[test]
    fn a_smoke_run_asks_what_the_healthcheck_asks_else_takes_a_connection() {
        let tcp = |number| Port { number, protocol: Protocol::Tcp };
        let udp = Port { number: 53, protocol: Protocol::Udp };
        let http = healthcheck("http://127.0.0.1:8080/healthz?full=1");
        assert_eq!(
            probe(Some(&http), &[tcp(9090)]),
            Some(Probe { port: 8080, http_path: Some("/healthz?full=1".into()) })
        );
        let connect = healthcheck("tcp://127.0.0.1:7070");
        assert_eq!(probe(Some(&connect), &[tcp(9090)]), Some(Probe { port: 7070, http_path: None }));
        assert_eq!(probe(None, &[udp, tcp(9090)]), Some(Probe { port: 9090, http_path: None }));
        assert_eq!(probe(None, &[udp]), None, "nothing to connect to: the run waits for an exit");
    }
}
