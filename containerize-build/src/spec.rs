//! What the user asked for: the images to build (one per selected binary) and the settings of
//! each, merged from every layer in precedence order, lowest first: built-in defaults (applied
//! by the plan), `[workspace.metadata.containerize]`, `#[containerize::main(...)]` on the
//! binary's `main`, `[package.metadata.containerize]`,
//! `[package.metadata.containerize.bin.<name>]`, then command-line flags.

use crate::attribute;
use crate::diagnostic::Diagnostic;
use crate::manifest;
use crate::project::{LocalPackage, Project};
use crate::settings::{Set, Settings};

/// Which packages and binaries to build, in cargo's terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// `-p/--package`.
    pub packages: Vec<String>,
    /// `--workspace`.
    pub workspace: bool,
    /// `--exclude`.
    pub exclude: Vec<String>,
    /// `--bin`.
    pub bins: Vec<String>,
    /// The package whose directory cargo was run in (`cargo metadata`'s root package).
    pub current_package: Option<String>,
}

/// One image to build.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSpec {
    /// The package.
    pub package: String,
    /// The binary.
    pub binary: String,
    /// Its settings, all layers merged.
    pub settings: Settings,
    /// Whether its `main` carries `#[containerize::main]`, whose runtime support answers the
    /// healthcheck probe and handles signals as PID 1.
    pub runtime_support: bool,
}

/// Why the request can't be met.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// Settings have errors (the diagnostics say which); warnings may be among them.
    #[error("invalid container settings")]
    Invalid(Vec<Diagnostic>),
    /// `-p` named a package that is not a workspace member.
    #[error("package `{name}` is not a member of the workspace (members: {members})")]
    UnknownPackage {
        /// The name given.
        name: String,
        /// The members, comma separated.
        members: String,
    },
    /// `--bin` named a binary no selected package has.
    #[error("no selected package has a binary named `{name}` (binaries: {binaries})")]
    UnknownBinary {
        /// The name given.
        name: String,
        /// The binaries of the selected packages.
        binaries: String,
    },
    /// Nothing to build.
    #[error("no binary to put in an image: {0}")]
    NoBinaries(String),
}

/// The images the user asked for, with the warnings found on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// One per selected binary, in package then binary order.
    pub images: Vec<ImageSpec>,
    /// Warnings (unknown keys and the like).
    pub warnings: Vec<Diagnostic>,
    /// The selected packages with no binary, so no image (a workspace's libraries).
    pub libraries: Vec<String>,
}

/// Reads every settings table of the project and selects the images to build.
pub fn resolve(project: &Project, selection: &Selection, flags: &Settings) -> Result<Spec, SpecError> {
    let mut diagnostics = Vec::new();
    // Each manifest is read once, so each problem is reported once; the root manifest holds
    // the workspace table and, in a root package, that package's table too.
    let root = manifest::read(&project.root_manifest, &mut diagnostics);
    let workspace = root.workspace.clone().unwrap_or_default();
    let packages = select_packages(project, selection)?;
    let layers: Vec<(&LocalPackage, Settings)> = packages
        .iter()
        .map(|package| {
            let table = if package.manifest == project.root_manifest {
                root.package.clone()
            } else {
                manifest::read(&package.manifest, &mut diagnostics).package
            };
            (*package, table.unwrap_or_default())
        })
        .collect();

    let mut images = Vec::new();
    for (package, layer) in &layers {
        for binary in select_binaries(package, layer, selection, &mut diagnostics) {
            // Settings in code sit between the workspace's defaults and the package's own.
            let source = package.binaries.iter().find(|b| b.name == binary).and_then(|b| b.source.as_ref());
            let attribute = source.and_then(|file| attribute::settings_in_source(file, &mut diagnostics));
            let runtime_support = attribute.is_some();
            let in_code = workspace.overlay(&attribute.unwrap_or_default());
            let settings = in_code.overlay(&layer.for_binary(&binary)).overlay(flags);
            images.push(ImageSpec { package: package.name.clone(), binary, settings, runtime_support });
        }
    }
    for (package, layer) in &layers {
        for (name, table) in &layer.bin {
            if !package.binaries.iter().any(|b| &b.name == name) {
                diagnostics.push(
                    Diagnostic::warning(
                        table.origin.clone(),
                        format!("package `{}` has no binary named `{name}`", package.name),
                        "no such binary",
                    )
                    .with_help(format!("its binaries: {}", binary_names(package))),
                );
            }
        }
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(SpecError::Invalid(diagnostics));
    }
    for name in &selection.bins {
        if !images.iter().any(|i| &i.binary == name) {
            let binaries = packages.iter().map(|p| binary_names(p)).collect::<Vec<_>>().join(", ");
            return Err(SpecError::UnknownBinary { name: name.clone(), binaries });
        }
    }
    if images.is_empty() {
        let names = packages.iter().map(|p| format!("`{}`", p.name)).collect::<Vec<_>>().join(", ");
        return Err(SpecError::NoBinaries(format!("{names} has no binary target")));
    }
    let libraries = packages.iter().filter(|p| p.binaries.is_empty()).map(|p| p.name.clone()).collect();
    Ok(Spec { images, warnings: diagnostics, libraries })
}

fn binary_names(package: &LocalPackage) -> String {
    let names: Vec<&str> = package.binaries.iter().map(|b| b.name.as_str()).collect();
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

fn select_packages<'p>(project: &'p Project, selection: &Selection) -> Result<Vec<&'p LocalPackage>, SpecError> {
    let members = || project.members().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    if !selection.packages.is_empty() {
        return selection
            .packages
            .iter()
            .map(|name| {
                project.member(name).ok_or_else(|| SpecError::UnknownPackage { name: name.clone(), members: members() })
            })
            .collect();
    }
    let current = selection.current_package.as_deref().filter(|_| !selection.workspace);
    Ok(project
        .members()
        .filter(|p| current.is_none_or(|c| c == p.name))
        .filter(|p| !selection.exclude.contains(&p.name))
        .collect())
}

fn select_binaries(
    package: &LocalPackage,
    layer: &Settings,
    selection: &Selection,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut chosen: Vec<String> = match &layer.bins {
        Some(Set { value, origin, .. }) => value
            .iter()
            .filter(|name| {
                let known = package.binaries.iter().any(|b| &b.name == *name);
                if !known {
                    diagnostics.push(
                        Diagnostic::error(
                            origin.clone(),
                            format!("package `{}` has no binary named `{name}`", package.name),
                            "no such binary",
                        )
                        .with_help(format!("its binaries: {}", binary_names(package))),
                    );
                }
                known
            })
            .cloned()
            .collect(),
        None => package.binaries.iter().map(|b| b.name.clone()).collect(),
    };
    if !selection.bins.is_empty() {
        chosen.retain(|b| selection.bins.contains(b));
    }
    chosen
}

/// Checks that the files each image's `include` and `build-include` name exist: the one step
/// of the spec that looks at the disk, so [`resolve`] stays pure.
pub fn check_files(project: &Project, spec: &Spec) -> Result<(), SpecError> {
    let mut diagnostics = Vec::new();
    for image in &spec.images {
        let package = project.member(&image.package).expect("the spec selects members of this project");
        check_package_files(package, &image.settings, &mut diagnostics);
    }
    if diagnostics.is_empty() { Ok(()) } else { Err(SpecError::Invalid(diagnostics)) }
}

fn check_package_files(package: &LocalPackage, settings: &Settings, diagnostics: &mut Vec<Diagnostic>) {
    // Files taken from another image are the engine's to find.
    let includes = settings
        .include
        .iter()
        .flat_map(|s| s.value.iter().filter(|i| i.from.is_none()).map(move |i| (&i.src, &s.origin)));
    let build_includes = settings.build_include.iter().flat_map(|s| s.value.iter().map(move |p| (p, &s.origin)));
    for (path, origin) in includes.chain(build_includes) {
        if !package.dir.join(path).exists() {
            diagnostics.push(
                Diagnostic::error(
                    origin.clone(),
                    format!("`{path}` does not exist in package `{}`", package.name),
                    "missing file",
                )
                .with_help(format!("paths are relative to {}", package.dir)),
            );
        }
    }
}
