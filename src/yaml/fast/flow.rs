//! One-line flow collections of the fast path (`[a, "b"]`, `{k: v}`, nested).
//!
//! Design. Only collections that open and close on one line, with plain or quoted scalars and
//! nested collections as entries, are parsed here; empty entries, trailing commas, `key: value`
//! pairs inside sequences, `:` or `#` in a plain entry and anything spanning lines decline.

use super::P;
use crate::source::Loc;
use crate::yaml::resolve::resolve_plain;
use crate::yaml::{Entry, Key, Mapping, Node, Value};

impl P<'_> {
    /// A one-line flow collection (`[a, "b"]`, `{k: v}`, nested) opening at `pos`: its node and
    /// the offset after its closing bracket. Empty entries, trailing commas, `key: value` pairs
    /// inside sequences and anything spanning lines are left to the general parser.
    pub(super) fn flow(&self, pos: usize) -> Option<(Node, usize)> {
        self.enter()?;
        let n = self.flow_items(pos);
        self.leave();
        n
    }

    pub(super) fn flow_items(&self, pos: usize) -> Option<(Node, usize)> {
        let b = self.b;
        let is_map = b[pos] == b'{';
        let close = if is_map { b'}' } else { b']' };
        let loc = self.loc(pos, pos + 1);
        let mut items = Vec::new();
        let mut map = Mapping::default();
        let mut i = self.skip_spaces(pos + 1);
        if b.get(i) != Some(&close) {
            loop {
                if is_map {
                    let (key, key_loc, after) = self.flow_key(i)?;
                    if key == "<<" || map.contains_key(&key) {
                        return None;
                    }
                    let (value, next) = self.flow_item(self.skip_spaces(after))?;
                    self.count(1);
                    map.entries.push(Entry {
                        key,
                        key_loc,
                        value,
                    });
                    i = next;
                } else {
                    let (item, next) = self.flow_item(i)?;
                    items.push(item);
                    self.count(1);
                    i = next;
                }
                i = self.skip_spaces(i);
                match b.get(i) {
                    Some(b',') => {
                        i = self.skip_spaces(i + 1);
                        if matches!(b.get(i), Some(b']' | b'}' | b',')) {
                            return None;
                        }
                    }
                    Some(&c) if c == close => break,
                    _ => return None,
                }
            }
        }
        let value = if is_map {
            Value::Map(map)
        } else {
            Value::Seq(items)
        };
        Some((Node::new(value, loc), i + 1))
    }

    /// One entry of a flow collection at `i`: a quoted or plain scalar, or a nested collection.
    pub(super) fn flow_item(&self, i: usize) -> Option<(Node, usize)> {
        let b = self.b;
        match *b.get(i)? {
            b'"' | b'\'' => {
                let end = self.quoted_end(i)?;
                Some((
                    Node::new(Value::Str(self.unquote(i, end)?.into()), self.loc(i, end)),
                    end,
                ))
            }
            b'[' | b'{' => self.flow(i),
            b'-' | b'?' | b':' | b',' | b']' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>'
            | b'%' | b'@' | b'`' | b'\n' => None,
            _ => {
                let mut e = i;
                while e < b.len() && !matches!(b[e], b',' | b'[' | b']' | b'{' | b'}' | b'\n') {
                    // A `:` or `#` inside a flow scalar has rules of its own.
                    if matches!(b[e], b':' | b'#') {
                        return None;
                    }
                    e += 1;
                }
                let mut t = e;
                while b[t - 1] == b' ' {
                    t -= 1;
                }
                Some((
                    Node::new(resolve_plain(&self.text[i..t]), self.loc(i, t)),
                    e,
                ))
            }
        }
    }

    /// A flow mapping's key at `i` and the offset after its `: `.
    pub(super) fn flow_key(&self, i: usize) -> Option<(Key, Loc, usize)> {
        let b = self.b;
        let end = match *b.get(i)? {
            b'"' | b'\'' => self.quoted_end(i)?,
            b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!'
            | b'|' | b'>' | b'%' | b'@' | b'`' | b'\n' | b' ' => {
                return None;
            }
            _ => {
                let mut e = i;
                while e < b.len() && b[e] != b':' {
                    if matches!(b[e], b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'\n') {
                        return None;
                    }
                    e += 1;
                }
                e
            }
        };
        if b.get(end) != Some(&b':') || b.get(end + 1) != Some(&b' ') || b[end - 1] == b' ' {
            return None;
        }
        let (key, loc) = self.key(i, end)?;
        Some((key, loc, end + 1))
    }
}
