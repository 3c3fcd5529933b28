//! Helpers several rules share: workloads and their containers ([`pods`]), one object followed
//! across builds ([`resources`]), structural diffs with the `allow` patterns of the rules'
//! options ([`diff`]), and the Secrets an environment's objects provide ([`secrets`]). Nothing
//! here reports a finding.

pub mod diff;
pub mod drift;
pub mod normalize;
pub mod pods;
pub mod resources;
pub mod secrets;
