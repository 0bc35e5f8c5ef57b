//! The pure core of [containerize](https://github.com/containerize-rs/containerize), and its
//! `build.rs` helper.
//!
//! The flow, each step testable alone:
//!
//! ```text
//! Cargo.toml files ──cargo_metadata──▶ Project   (project.rs: packages, binaries, toolchain, checkout)
//! settings tables ──────────────────▶ Spec       (manifest.rs, settings.rs, spec.rs: merged, with origins)
//! Project + Spec ───────────────────▶ Plan       (plan/: every decision; serializable; deterministic)
//! Plan + resolve graph, Cargo.lock ─▶ SBOM       (sbom.rs: SPDX JSON, attached by pipeline.rs)
//! Plan ─────────────────────────────▶ Dockerfile (render.rs: a pure function)
//! ```
//!
//! This crate is where the settings parser and validator live because all three front ends
//! need the same one: the `cargo-containerize` CLI (crate `containerize`), the
//! `#[containerize::main]` attribute (crate `containerize-macros`) and build scripts (this
//! crate), and the build script must render the very Dockerfile the CLI prints. It has no
//! async runtime and no Docker client, so adding it to a build costs little.
//!
//! In a build script, one line validates the settings on every build and writes the current
//! Dockerfile, plan and SBOM: see [`configure`] and the [`script`] module.

pub mod diagnostic;
pub mod manifest;
pub mod pipeline;
pub mod plan;
pub mod project;
pub mod render;
pub mod sbom;
pub mod script;
pub mod settings;
pub mod spec;
pub mod validate;

// Shared with the sibling crates (the attribute's parser with the proc-macro; freshness, the
// skeleton and whole-file writes with the CLI), not a public API: they change with those crates.
#[doc(hidden)]
pub mod atomic_write;
#[doc(hidden)]
pub mod attribute;
#[doc(hidden)]
pub mod freshness;
#[doc(hidden)]
pub mod node;
#[doc(hidden)]
pub mod skeleton;
#[doc(hidden)]
pub mod toolchain;

pub use diagnostic::{Diagnostic, Origin, Severity, SourceFile};
pub use pipeline::{PlanError, prepare};
pub use plan::{Options, Plan, plan_all, plan_image};
pub use project::Project;
pub use render::dockerfile;
pub use script::configure;
pub use settings::{Settings, keys};
pub use spec::{ImageSpec, Selection, Spec, resolve};
