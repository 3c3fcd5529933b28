//! Settings: what users write to steer kustodian — the repository config (`.kustodian.yaml`)
//! and policy files — and the vocabulary both share (stages, freeze windows, exceptions).
//!
//! This floor sits above `source`/`yaml` and beside `render`; it knows neither the renderer nor
//! the rules. Rules are described to it through the [`policy::RuleCatalog`] trait, which the rule
//! registry implements: the catalog supplies rule ids, default settings, the JSON Schema of each
//! rule's options and the function that turns those options into the rule's typed struct, so a
//! policy is a map keyed by rule id and adding a rule never touches this folder.
//!
//! Every file here is loaded in two phases (see [`load`]): serde decides first, and only a
//! document it refuses pays for compiling the JSON Schema that reports every error at its line.

pub mod config;
pub(crate) mod custom;
pub(crate) mod freeze;
pub(crate) mod level;
pub mod load;
pub mod policy;
pub(crate) mod stage;
pub(crate) mod waivers;

pub use config::Config;
pub use policy::{Level, Policy, PolicyFile};
pub(crate) use policy::{RuleCatalog, RuleEntry, RuleSettings};
pub use stage::Stage;
