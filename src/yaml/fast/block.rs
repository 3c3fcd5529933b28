//! Block collections of the fast path: sequences, mappings, their keys, and the one-line
//! values that follow a key or a dash.
//!
//! Design. Each collection is parsed by indentation alone: its items or keys sit at one column,
//! anything more indented belongs to the item above, anything less ends the collection. Where
//! granit-parser's spans for a shape are unverified, the fast path declines (`None`) rather than
//! guess, and the document goes to the general parser.

use super::scalar::unquote_text;
use super::{First, MAX_DEPTH, P};
use crate::source::Loc;
use crate::yaml::duplicates::insert_last_wins;
use crate::yaml::resolve::resolve_plain;
use crate::yaml::{Key, Mapping, Node, Value};

impl P<'_> {
    /// A block sequence whose first dash is at `dash` (the current line). `as_value`: it is a
    /// mapping's value at the key's own indentation (an "indentless" sequence, which changes
    /// where granit says it starts).
    pub(super) fn seq(&mut self, dash: usize, as_value: bool) -> Option<Node> {
        self.enter()?;
        let base = self.items.len();
        let n = self.seq_items(dash, as_value, base);
        self.items.truncate(base);
        self.leave();
        n
    }

    /// One more collection open; `None` past [`MAX_DEPTH`].
    pub(super) fn enter(&self) -> Option<()> {
        let d = self.depth.get() + 1;
        (d <= MAX_DEPTH).then(|| self.depth.set(d))
    }

    pub(super) fn leave(&self) {
        self.depth.set(self.depth.get() - 1);
    }

    /// The items of [`P::seq`], gathered on the `items` stack above `base` and moved into a
    /// vector of their exact number at the end.
    pub(super) fn seq_items(&mut self, dash: usize, as_value: bool, base: usize) -> Option<Node> {
        let col = dash - self.lines[self.i].start;
        let mut seq_loc = None;
        loop {
            let l = self.lines[self.i];
            let b = self.b;
            let d = l.first();
            let after = self.skip_spaces(d + 1);
            let (item, kind) = if self.rest_is_empty(d + 1) {
                self.i += 1;
                match self.next_content() {
                    // Where granit starts a mapping's sequence whose first item opens on the
                    // next line is unverified: leave it to the general parser.
                    Some(n) if n.indent > col && as_value && self.items.len() == base => {
                        return None;
                    }
                    Some(n) if n.indent > col => {
                        let first = n.first();
                        let node = if self.is_dash(first) {
                            self.seq(first, false)?
                        } else {
                            self.map(first)?
                        };
                        (node, First::Nested)
                    }
                    _ => {
                        // An empty item sits after the dash and any spaces.
                        let at = self.skip_spaces(d + 1);
                        if b.get(at) == Some(&b'#') {
                            return None;
                        }
                        (Node::new(Value::Null, self.loc(at, at)), First::Empty)
                    }
                }
            } else if self.is_dash(after) {
                return None; // `- - x`: a compact nested sequence
            } else if let Some(key_end) = self.key_at(after) {
                let _ = key_end;
                (self.map(after)?, First::Inline)
            } else {
                let node = self.inline_value(after, col)?;
                (node, First::Inline)
            };
            if seq_loc.is_none() {
                seq_loc = Some(match (as_value, kind) {
                    (false, _) => self.loc(d, d),
                    (true, First::Empty) => item.loc,
                    // Verified for `- item` and `- {flow}` with one space; a literal block's
                    // start is not.
                    (true, First::Inline) if after == d + 2 && b[after] != b'|' => {
                        self.loc(after, after)
                    }
                    (true, _) => return None,
                });
            }
            self.items.push(item);
            self.count(1);
            match self.next_content() {
                Some(n) if n.indent == col && self.is_dash(n.first()) => continue,
                Some(n) if n.indent > col => return None,
                _ => break,
            }
        }
        let items = self.items.drain(base..).collect();
        Some(Node::new(Value::Seq(items), seq_loc?))
    }

    /// If a mapping key starts at `pos`, the offset just after its `:`.
    pub(super) fn key_at(&self, pos: usize) -> Option<usize> {
        let b = self.b;
        let end = self.line_end(pos);
        let c = *b.get(pos)?;
        let colon = if c == b'"' || c == b'\'' {
            let close = self.quoted_end(pos)?;
            if b.get(close) != Some(&b':') || !matches!(b.get(close + 1), None | Some(b' ' | b'\n'))
            {
                return None;
            }
            close
        } else {
            if matches!(
                c,
                b'-' | b'?'
                    | b':'
                    | b','
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'#'
                    | b'&'
                    | b'*'
                    | b'!'
                    | b'|'
                    | b'>'
                    | b'%'
                    | b'@'
                    | b'`'
            ) {
                return None;
            }
            let mut j = pos;
            loop {
                if j >= end {
                    return None;
                }
                if b[j] == b':' && (j + 1 == end || b[j + 1] == b' ') {
                    break j;
                }
                if b[j] == b'#' && b[j - 1] == b' ' {
                    return None;
                }
                j += 1;
            }
        };
        // `key :` (space before the colon) has spans of its own.
        if b[colon - 1] == b' ' {
            return None;
        }
        Some(colon + 1)
    }

    /// The offset just after the closing quote of a one-line quoted scalar at `pos`.
    pub(super) fn quoted_end(&self, pos: usize) -> Option<usize> {
        let b = self.b;
        let end = self.line_end(pos);
        let q = b[pos];
        let mut j = pos + 1;
        while j < end {
            match b[j] {
                b'\\' if q == b'"' => j += 2,
                c if c == q => {
                    if q == b'\'' && b.get(j + 1) == Some(&b'\'') {
                        j += 2;
                    } else {
                        return Some(j + 1);
                    }
                }
                _ => j += 1,
            }
        }
        None
    }

    /// A block mapping whose first key is at `first` (on the current line).
    pub(super) fn map(&mut self, first: usize) -> Option<Node> {
        self.enter()?;
        let base = self.entries.len();
        let n = self.map_entries(first, base);
        self.entries.truncate(base);
        self.hashes.truncate(base);
        self.leave();
        n
    }

    /// The entries of [`P::map`], gathered on the `entries` stack above `base` (most mappings
    /// of a manifest have one or two keys: a vector grown a push at a time would hold room for
    /// four) and moved into a vector of their exact number at the end.
    pub(super) fn map_entries(&mut self, first: usize, base: usize) -> Option<Node> {
        let col = first - self.lines[self.i].start;
        let mut pos = first;
        loop {
            let after_colon = self.key_at(pos)?;
            let (key, key_loc) = self.key(pos, after_colon - 1)?;
            if key == "<<" {
                return None;
            }
            let value = if self.rest_is_empty(after_colon) {
                self.i += 1;
                match self.next_content() {
                    Some(n) if n.indent > col => {
                        let f = n.first();
                        if self.is_dash(f) {
                            self.seq(f, false)?
                        } else if self.key_at(f).is_none()
                            && !matches!(self.b[f], b'|' | b'[' | b'{')
                        {
                            // A scalar on the line after its key (long values are written so).
                            self.inline_value(f, col)?
                        } else {
                            self.map(f)?
                        }
                    }
                    Some(n) if n.indent == col && self.is_dash(n.first()) => {
                        self.seq(n.first(), true)?
                    }
                    _ => Node::new(
                        Value::Null,
                        self.loc(key_loc.end as usize, key_loc.end as usize),
                    ),
                }
            } else {
                let v = self.skip_spaces(after_colon);
                self.inline_value(v, col)?
            };
            self.count(1);
            // Keys are looked up by a hash first: a wide mapping (a CRD's `properties`) would
            // otherwise compare every key with every one before it.
            let h = key_hash(key.as_bytes());
            let prev = (base..self.entries.len())
                .find(|&i| self.hashes[i] == h && self.entries[i].key == key);
            if prev.is_none() {
                self.hashes.push(h);
            }
            let (entries, dups) = (&mut self.entries, &mut self.dups);
            if let Some(old) = insert_last_wins(entries, prev, key, key_loc, value, dups) {
                // The replaced value's nodes leave the tree.
                self.nodes
                    .set(self.nodes.get() - crate::yaml::measure(&old).0);
            }
            match self.next_content() {
                Some(n) if n.indent == col => {
                    if self.is_dash(n.first()) {
                        // Only an indentless sequence (handled above) may put a dash here.
                        return None;
                    }
                    pos = n.first();
                }
                Some(n) if n.indent > col => return None,
                _ => break,
            }
        }
        self.hashes.truncate(base);
        let map = Mapping {
            entries: self.entries.drain(base..).collect(),
        };
        Some(Node::new(Value::Map(map), self.loc(first, first)))
    }

    /// The key text between `pos` and its colon, as the general parser derives it.
    pub(super) fn key(&self, pos: usize, colon: usize) -> Option<(Key, Loc)> {
        let loc = self.loc(pos, colon);
        let raw = &self.text[pos..colon];
        if matches!(self.b[pos], b'"' | b'\'') {
            return Some((Key::from(self.unquote(pos, colon)?.as_str()), loc));
        }
        // A plain key that resolves to a string (or null) is its own text. Numbers, booleans
        // and timestamps as keys print in their canonical form; leave them to the general
        // parser's scalar_string rather than re-deriving it here.
        let boolean = matches!(raw, "true" | "True" | "TRUE" | "false" | "False" | "FALSE");
        let numeric = crate::yaml::resolve::starts_like_number(raw);
        if boolean
            || numeric
                && !match resolve_plain(raw) {
                    Value::Null => true,
                    Value::Str(s) => s == raw,
                    _ => false,
                }
        {
            return None;
        }
        Some((Key::from(raw), loc))
    }

    /// The value of a quoted scalar spanning `pos..end` (quotes included).
    pub(super) fn unquote(&self, pos: usize, end: usize) -> Option<String> {
        unquote_text(&self.text[pos..end], self.b[pos])
    }

    /// A value that starts on the current line at `pos`, inside a collection at column `col`.
    /// Leaves the current line index on the line after the value.
    pub(super) fn inline_value(&mut self, pos: usize, col: usize) -> Option<Node> {
        let b = self.b;
        let end = self.line_end(pos);
        let node = match b[pos] {
            b'"' | b'\'' => {
                let Some(close) = self.quoted_end(pos) else {
                    return self.quoted_lines(pos, col);
                };
                if !self.rest_is_empty(close) || (close < end && b[close] == b'#') {
                    return None;
                }
                Node::new(
                    Value::Str(self.unquote(pos, close)?.into()),
                    self.loc(pos, close),
                )
            }
            b'|' => return self.literal(pos, col),
            b'[' | b'{' => {
                let (node, after) = self.flow(pos)?;
                if !self.rest_is_empty(after) || b.get(after) == Some(&b'#') {
                    return None;
                }
                node
            }
            b'-' | b'?' | b':' if matches!(b.get(pos + 1), None | Some(b' ' | b'\n')) => {
                return None;
            }
            b']' | b'}' | b',' | b'>' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'#' => {
                return None;
            }
            _ => {
                let mut e = pos;
                while e < end {
                    if b[e] == b'#' && b[e - 1] == b' ' {
                        break;
                    }
                    // `a: b: c` is an error the general parser reports.
                    if b[e] == b':' && (e + 1 == end || b[e + 1] == b' ') {
                        return None;
                    }
                    e += 1;
                }
                let commented = e < end;
                while b[e - 1] == b' ' {
                    e -= 1;
                }
                if commented {
                    Node::new(resolve_plain(&self.text[pos..e]), self.loc(pos, e))
                } else {
                    self.plain_lines(pos, e, col)?
                }
            }
        };
        self.i += 1;
        // A more indented line after a one-line scalar would continue it (or be an error).
        if let Some(n) = self.next_content()
            && n.indent > col
        {
            return None;
        }
        Some(node)
    }
}

/// A hash of a mapping key from its length and first and last eight bytes (keys differ there
/// almost always): equal keys hash alike, and few different keys of one mapping do.
fn key_hash(k: &[u8]) -> u64 {
    let n = k.len();
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let (head, tail) = (word(&k[..n.min(8)]), word(&k[n.saturating_sub(8)..]));
    (head ^ tail.rotate_left(29) ^ ((n as u64) << 56)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
