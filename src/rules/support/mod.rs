//! Helpers several rules share: workloads and their containers ([`pods`]), one object followed
//! across builds ([`resources`]), structural diffs with the `allow` patterns of the rules'
//! options ([`diff`]), and the Secrets an environment's objects provide ([`secrets`]). Nothing
//! here reports a finding.

pub(crate) mod diff;
pub(crate) mod drift;
pub(crate) mod normalize;
pub(crate) mod pods;
pub(crate) mod resources;
pub(crate) mod secrets;
