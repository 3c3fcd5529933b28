//! kustodian: guards environment promotion in GitOps config repos.
//!
//! The pipeline flows one way, one module per stage:
//! [`discover`] (find apps and environments) → [`yaml`]/[`source`] (load files with spans) →
//! [`render`] (native kustomize build with provenance) → [`check`] + [`rules`] (policy evaluation,
//! findings into a [`diag::Collector`]) → [`report`] (one emitter per output format).

pub mod check;
pub mod config;
pub mod diag;
pub mod diff;
pub mod discover;
pub mod git;
pub mod limits;
pub mod output;
pub mod policy;
pub mod render;
pub mod report;
pub mod rules;
pub mod schema;
pub mod source;
pub mod suppress;
pub mod timings;
pub mod yaml;
