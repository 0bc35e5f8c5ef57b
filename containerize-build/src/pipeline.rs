//! The one way from cargo's metadata to plans, shared by the `cargo-containerize` CLI and the
//! build-script helper, with the one error type both front ends wrap.

use crate::diagnostic::Diagnostic;
use crate::project::{Project, ProjectError};
use crate::sbom::{self, SbomError, Subject};
use crate::settings::Settings;
use crate::spec::{self, Selection, Spec, SpecError};
use crate::{Options, Plan};

/// Why a project could not be planned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// `cargo metadata` failed.
    #[error("failed to read the project's metadata")]
    Metadata(#[from] cargo_metadata::Error),
    /// The project can't be used.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// Settings are invalid; the diagnostics say where and why.
    #[error("invalid container settings")]
    Settings(Vec<Diagnostic>),
    /// The selection can't be met.
    #[error(transparent)]
    Selection(SpecError),
    /// The SBOM could not be made.
    #[error(transparent)]
    Sbom(#[from] SbomError),
}

impl From<SpecError> for PlanError {
    fn from(error: SpecError) -> Self {
        match error {
            SpecError::Invalid(diagnostics) => PlanError::Settings(diagnostics),
            other => PlanError::Selection(other),
        }
    }
}

/// Reads the project and the settings of the images `selection` picks, with `flags` as the
/// highest layer, and checks the files they name: everything up to planning.
pub fn prepare(
    metadata: &cargo_metadata::Metadata,
    selection: &Selection,
    flags: &Settings,
) -> Result<(Project, Spec), PlanError> {
    let project = Project::load(metadata)?;
    let spec = spec::resolve(&project, selection, flags)?;
    spec::check_files(&project, &spec)?;
    Ok((project, spec))
}

/// Every image's plan, or every problem found planning them, each with its SBOM. `metadata`
/// runs `cargo metadata` on the project (manifest path, cargo), to which each image's target
/// and features are added: the dependency graph of what its binary compiles.
pub fn plans(
    project: &Project,
    spec: &Spec,
    options: &Options,
    metadata: &cargo_metadata::MetadataCommand,
) -> Result<Vec<Plan>, PlanError> {
    let mut plans = crate::plan_all(project, spec, options).map_err(PlanError::Settings)?;
    // Images of one target and features share a graph.
    let mut graphs: Vec<(Vec<String>, cargo_metadata::Metadata)> = Vec::new();
    // An ejected Dockerfile is built from the workspace alone, where no document is, and is
    // committed, where a digest that changes with every commit would leave it stale.
    for plan in plans.iter_mut().filter(|plan| plan.ejected.is_none()) {
        let Some(target) = plan.builder.target.clone() else { continue };
        let mut args = vec!["--filter-platform".to_owned(), target];
        args.extend(plan.builder.features.flags(Some(&plan.package)));
        args.extend(options.cargo_flags.iter().cloned());
        let index = match graphs.iter().position(|(a, _)| *a == args) {
            Some(index) => index,
            None => {
                let graph = metadata.clone().other_options(args.clone()).exec()?;
                graphs.push((args, graph));
                graphs.len() - 1
            }
        };
        let created = crate::plan::rfc3339(project.created().unwrap_or(0));
        let subject = Subject { package: &plan.package, binary: &plan.binary, created: &created, tool: plan.generator };
        let document = sbom::document(&graphs[index].1, project.lockfile.as_deref(), subject)?;
        crate::plan::attach_sbom(plan, document);
    }
    Ok(plans)
}
