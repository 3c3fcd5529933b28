//! kustodian: guards environment promotion in GitOps config repos.
//!
//! Layers, bottom to top (each imports only from the floors below it):
//! [`source`] + [`yaml`] + [`text`] (files read once, YAML with spans, string helpers) with
//! [`limits`] (the budgets they keep to), [`diag`] (findings);
//! [`settings`] (repository config and policies) beside [`render`] (native kustomize build with
//! provenance) and [`schema`] (offline validation), none of them importing another;
//! [`discover`] (apps and environments); [`check`] + [`rules`] (the engine and one rule per
//! file) + [`policies`] (custom CEL rules, admission policies, Conftest), and beside them
//! [`promotion`] (what runs where and since when, and promoting it, checked by the engine);
//! [`report`] (one emitter per output format) and [`output`] (writing report files); the binary
//! on top.
//!
//! The library never prints (the binary decides what reaches stdout and stderr; the timings
//! that `KUSTODIAN_TIMINGS` asks for are the one exception) and keeps functions short enough to
//! read whole (clippy's `too_many_lines`, at the threshold clippy.toml sets).

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::too_many_lines)]
#![warn(missing_docs)]

pub mod check;
pub mod diag;
pub mod diff;
pub mod discover;
pub mod git;
pub mod limits;
pub mod output;
pub mod policies;
pub mod policy_tests;
pub mod promotion;
pub mod render;
pub mod report;
pub mod rules;
pub mod schema;
pub mod settings;
pub mod source;
pub mod text;
pub mod timings;
pub mod yaml;
