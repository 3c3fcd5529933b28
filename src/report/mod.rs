//! Output formats: one emitter per format, all reading the same [`Report`].
//!
//! Emitters write to any `io::Write`; the CLI decides where (stdout, or a file written
//! atomically). Locations are resolved through [`crate::source::Sources`] only here, at the end of
//! the pipeline.

pub mod envs;
pub mod github;
pub mod human;
pub mod json;
pub mod promotion;
pub mod sarif;
pub mod versions;

pub use crate::diag::Report;

use crate::diag::Finding;
use crate::source::{Loc, Position, Sources};

/// Start and end (line, column) of a finding's primary location.
pub fn span(f: &Finding, sources: &Sources) -> Option<(Position, Position)> {
    let start = f.position(sources)?;
    let end = if f.loc.is_some() && f.loc.end > f.loc.start {
        sources
            .position(Loc {
                start: f.loc.end,
                ..f.loc
            })
            .unwrap_or_else(|| start.clone())
    } else {
        start.clone()
    };
    Some((start, end))
}
