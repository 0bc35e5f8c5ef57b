//! The one way from cargo's metadata to plans, shared by the `cargo-containerize` CLI and the
//! build-script helper, with the one error type both front ends wrap.

use crate::diagnostic::Diagnostic;
use crate::project::{Project, ProjectError};
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

/// Every image's plan, or every problem found planning them.
pub fn plans(project: &Project, spec: &Spec, options: &Options) -> Result<Vec<Plan>, PlanError> {
    crate::plan_all(project, spec, options).map_err(PlanError::Settings)
}
