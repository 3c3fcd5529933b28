//! Building a mapping from parsed pairs when a key may come twice.
//!
//! Design. Both parsers — the general one (`parse.rs`) and the fast path for the common subset
//! (`fast.rs`) — must treat a repeated key exactly alike, as go-yaml v3 (and so kustomize) does:
//! the key keeps its first position, the later value wins, and the pair is recorded so checks
//! can report it. The rule lives here, below both, so neither parser borrows it from the other.

use super::{Entry, Key, Node};
use crate::source::Loc;

/// A key given twice in one mapping: where the later (winning) one is, where the first was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    pub(crate) key: String,
    pub(crate) second: Loc,
    pub(crate) first: Loc,
}

/// Adds `key: value` to a mapping being parsed, given where among its entries the key already
/// is (`prev`: each parser looks keys up its own way, e.g. with [`position`]). A key given twice
/// keeps its first position and takes the later value, as go-yaml v3 (and so kustomize) does;
/// the pair is recorded and the value it replaced returned.
#[inline]
pub(crate) fn insert_last_wins(
    entries: &mut Vec<Entry>,
    prev: Option<usize>,
    key: Key,
    key_loc: Loc,
    value: Node,
    duplicates: &mut Vec<DuplicateKey>,
) -> Option<Node> {
    let Some(prev) = prev.map(|i| &mut entries[i]) else {
        entries.push(Entry {
            key,
            key_loc,
            value,
        });
        return None;
    };
    duplicates.push(DuplicateKey {
        key: key.to_string(),
        second: key_loc,
        first: prev.key_loc,
    });
    prev.key_loc = key_loc;
    Some(std::mem::replace(&mut prev.value, value))
}

/// Where `key` is among `entries`.
pub(crate) fn position(entries: &[Entry], key: &str) -> Option<usize> {
    entries.iter().position(|e| e.key == key)
}
