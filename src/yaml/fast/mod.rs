//! A fast path for the YAML that config repositories are made of.
//!
//! Design. Kubernetes manifests and kustomizations use a small part of YAML: block mappings and
//! sequences, plain and quoted scalars (wrapped over several lines in generated CRDs), one-line
//! flow collections, `|` literal blocks, comments and `---`. This module parses exactly that
//! subset, line by line, straight into [`Node`]s — several times faster than the general event
//! parser, which dominated a whole-repository check. Anything else (anchors, tags, folded block
//! scalars, escaped line breaks, tabs, odd indentation, anything that might be an error) makes it
//! give up on that document ([`Piece::Declined`]) and the caller parses the document's text with
//! the general parser (the whole file, when the file cannot be split at its `---` lines). So the
//! fast path never decides what a document means on its own: where it answers, its tree —
//! values, key order, duplicate keys and every span — is the general parser's. Debug builds
//! assert that on every file they parse (`parse.rs`), `tests/yaml_fast.rs` checks it over the
//! fixtures and kustomize's conformance inputs, and `examples/yaml_fast_diff.rs` shows the
//! differences for one file.
//!
//! Spans follow granit-parser's conventions, found by experiment: a mapping starts (zero-length)
//! at its first key; a sequence at its first dash, except a mapping's value written at the key's
//! own indentation (`key:\n- item`), which starts at its first item's content after `- ` (or just
//! after the dash when that item is empty; other spacings are left to the general parser); an
//! empty value sits at the end of its key, an empty item after its dash and spaces; a literal block
//! runs from its first content character to the first character of the line that ends it; a flow
//! collection spans its opening bracket; a scalar over several lines runs from its first
//! character (or opening quote) to its last (or closing quote).

mod block;
mod flow;
mod scalar;

use super::duplicates::DuplicateKey;
use super::{Node, Value};
use crate::source::{FileId, Loc};
use std::cell::Cell;

/// One line of the input.
#[derive(Clone, Copy)]
struct Line {
    /// Offset of the first byte of the line.
    start: usize,
    /// Offset of the line's `\n` (or the end of the text).
    end: usize,
    /// Leading spaces.
    indent: usize,
    /// Only spaces, or a comment after spaces.
    blank: bool,
    /// A document marker: `---` or `...` at the start of the line, alone or before a space.
    marker: bool,
}

impl Line {
    fn first(&self) -> usize {
        self.start + self.indent
    }
}

struct P<'a> {
    text: &'a str,
    b: &'a [u8],
    lines: &'a [Line],
    /// The current line (the next one to look at).
    i: usize,
    file: FileId,
    dups: Vec<DuplicateKey>,
    /// Collections open around the current position (see [`MAX_DEPTH`]).
    depth: Cell<usize>,
    /// Nodes in the tree so far (for the `nodes` budget, see `parse.rs`).
    nodes: Cell<usize>,
    /// The entries of the mappings and the items of the sequences being parsed, innermost last
    /// (see [`P::map_entries`]).
    entries: Vec<super::Entry>,
    /// A hash of each key in `entries` (see `block.rs`).
    hashes: Vec<u64>,
    items: Vec<Node>,
}

/// Deeper nesting is left to the general parser, which does not recurse and enforces the
/// `depth` budget: this one recurses once per level.
const MAX_DEPTH: usize = 64;

/// Files at least this large have their documents parsed on the thread pool (a bundle of CRDs);
/// smaller ones in place, where handing documents out would cost more than it saves.
const PARALLEL_BYTES: usize = 256 * 1024;

/// Parses `text` if it stays inside the fast subset; `None` means "use the general parser".
pub fn parse(text: &str, file: FileId) -> Option<(Vec<Node>, Vec<DuplicateKey>)> {
    let (mut docs, mut dups) = (Vec::new(), Vec::new());
    for piece in parse_pieces(text, file)? {
        match piece {
            Piece::Parsed(node, d, _) => {
                docs.push(node);
                dups.extend(d);
            }
            Piece::Declined(_) => return None,
        }
    }
    Some((docs, dups))
}

/// One document of a file: parsed here (with its duplicate keys and how many nodes its tree
/// has), or the byte range of its text for the general parser. A multi-megabyte bundle of CRDs
/// then leaves only the document that steps outside the subset (an escaped line break in one
/// ConfigMap) to the slower parser.
pub enum Piece {
    /// Parsed here: the document, its repeated keys, and how many nodes its tree has.
    Parsed(Node, Vec<DuplicateKey>, usize),
    /// Outside the subset parsed here: the document's byte range in the text, for the general
    /// parser.
    Declined(std::ops::Range<usize>),
}

/// [`parse`] a document at a time; `None` when the file as a whole is the general parser's
/// (characters with rules of their own, directives, `...`, `---` with content, empty documents).
/// Documents are only ever split at a `---` line, where YAML ends a document whatever was open,
/// so each is parsed on its own — on the thread pool, when the file is large.
pub fn parse_pieces(text: &str, file: FileId) -> Option<Vec<Piece>> {
    let b = text.as_bytes();
    // A byte-order mark and Unicode line separators have rules of their own; leave the file to
    // the general parser. (Tabs and other control characters: the document, see `document`.)
    if !text.is_ascii() && text.contains(['\u{feff}', '\u{85}', '\u{2028}', '\u{2029}']) {
        return None;
    }
    let lines = split_lines(b)?;
    // Where each document starts: the top of the file, and after every `---` line.
    let mut starts = vec![(0, None)];
    for (i, l) in lines.iter().enumerate() {
        if l.marker {
            // `---` opens a document; anything after it on the line, and `...`, are left to
            // the general parser.
            if l.end != l.start + 3 || b[l.start] == b'.' {
                return None;
            }
            starts.push((i + 1, Some(l.start)));
        }
    }
    let controls = has_controls(b);
    let one = |&(first, marker): &(usize, Option<usize>)| {
        let mut p = P {
            text,
            b,
            lines: &lines,
            i: first,
            file,
            dups: Vec::new(),
            depth: Cell::new(0),
            nodes: Cell::new(0),
            entries: Vec::new(),
            hashes: Vec::new(),
            items: Vec::new(),
        };
        p.piece(marker, controls)
    };
    let pieces: Option<Vec<Option<Piece>>> = if text.len() >= PARALLEL_BYTES && starts.len() > 2 {
        use rayon::prelude::*;
        starts.par_iter().map(one).collect()
    } else {
        starts.iter().map(one).collect()
    };
    let pieces: Vec<Piece> = pieces?.into_iter().flatten().collect();
    if pieces.is_empty() {
        return None;
    }
    Some(pieces)
}

/// The lines of the text; `None` for a directive (`%YAML` applies to the documents after it:
/// not split here).
fn split_lines(b: &[u8]) -> Option<Vec<Line>> {
    let mut lines = Vec::with_capacity(b.len() / 24 + 1);
    let mut start = 0;
    // The line ends, found by one byte search over the whole text, and the end of a last line
    // without a line break.
    let unterminated = !b.is_empty() && b.last() != Some(&b'\n');
    let ends = memchr::memchr_iter(b'\n', b).chain(unterminated.then_some(b.len()));
    for end in ends {
        let line = &b[start..end];
        let indent = leading_spaces(line);
        let rest = &line[indent..];
        if indent == 0 && rest.first() == Some(&b'%') {
            return None;
        }
        lines.push(Line {
            start,
            end,
            indent,
            blank: rest.is_empty() || rest[0] == b'#',
            marker: indent == 0
                && (rest.starts_with(b"---") || rest.starts_with(b"..."))
                && (rest.len() == 3 || rest[3] == b' '),
        });
        start = end + 1;
    }
    Some(lines)
}

/// How many spaces `line` starts with, eight at a time (generated manifests indent deeply).
fn leading_spaces(line: &[u8]) -> usize {
    const SPACES: u64 = u64::from_le_bytes([b' '; 8]);
    let mut n = 0;
    while let Some(w) = line.get(n..n + 8) {
        let other = u64::from_le_bytes(w.try_into().unwrap_or_default()) ^ SPACES;
        if other != 0 {
            return n + other.trailing_zeros() as usize / 8;
        }
        n += 8;
    }
    n + line[n..].iter().take_while(|&&c| c == b' ').count()
}

/// Tabs, carriage returns and other control characters, which have rules of their own.
fn has_controls(b: &[u8]) -> bool {
    b.chunks(64).any(|c| {
        c.iter()
            .fold(false, |a, &c| a | ((c < 0x20 && c != b'\n') || c == 0x7f))
    })
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr(needle, hay)
}

impl P<'_> {
    /// The document that starts at the current line (after the `---` line at `marker`, or at
    /// the top of the file): parsed, declined (its text for the general parser), or nothing
    /// when the top of the file holds no document. `controls`: the text has control
    /// characters somewhere (each document is then looked at).
    fn piece(&mut self, marker: Option<usize>, controls: bool) -> Option<Option<Piece>> {
        let first = self.i;
        self.skip_blank();
        let empty = self.i >= self.lines.len() || self.lines[self.i].marker;
        let Some(chunk_start) = marker else {
            if empty {
                return Some(None);
            }
            return Some(Some(match self.document(controls) {
                Some(node) => self.parsed(node),
                None => self.declined(0, first),
            }));
        };
        // An empty document (Helm's `---\n# Source: ...\n---`): its span conventions are the
        // general parser's.
        Some(Some(
            match if empty { None } else { self.document(controls) } {
                Some(node) => self.parsed(node),
                None => self.declined(chunk_start, first),
            },
        ))
    }

    fn parsed(&mut self, node: Node) -> Piece {
        Piece::Parsed(node, std::mem::take(&mut self.dups), self.nodes.get() + 1)
    }

    /// The document from the line `first` on is the general parser's: up to the next `---` line.
    fn declined(&self, chunk_start: usize, first: usize) -> Piece {
        let j = (first..self.lines.len())
            .find(|&j| self.lines[j].marker)
            .unwrap_or(self.lines.len());
        let end = self.lines.get(j).map_or(self.b.len(), |l| l.start);
        Piece::Declined(chunk_start..end)
    }

    /// The document whose first line is the current one, up to the next document marker.
    fn document(&mut self, controls: bool) -> Option<Node> {
        let l = self.lines[self.i];
        if l.indent != 0 {
            return None;
        }
        if controls {
            let end = (self.i..self.lines.len())
                .find(|&j| self.lines[j].marker)
                .map_or(self.b.len(), |j| self.lines[j].start);
            if has_controls(&self.b[l.start..end]) {
                return None;
            }
        }
        let node = if self.is_dash(l.first()) {
            self.seq(l.first(), false)?
        } else {
            self.map(l.first())?
        };
        self.skip_blank();
        if self.i < self.lines.len() && !self.is_doc_marker(self.i) {
            return None;
        }
        Some(node)
    }

    fn loc(&self, s: usize, e: usize) -> Loc {
        Loc::new(self.file, s, e)
    }

    fn skip_blank(&mut self) {
        while self.i < self.lines.len() && self.lines[self.i].blank {
            self.i += 1;
        }
    }

    fn is_doc_marker(&self, i: usize) -> bool {
        self.lines[i].marker
    }

    /// `n` more nodes in the tree (fewer, when a duplicate key dropped a value).
    fn count(&self, n: usize) {
        self.nodes.set(self.nodes.get() + n);
    }

    /// The next non-blank line, if it belongs to the current document.
    fn next_content(&mut self) -> Option<Line> {
        self.skip_blank();
        if self.i < self.lines.len() && !self.is_doc_marker(self.i) {
            Some(self.lines[self.i])
        } else {
            None
        }
    }

    /// The end of the line that holds offset `pos` (almost always the current line).
    fn line_end(&self, pos: usize) -> usize {
        match self.lines.get(self.i) {
            Some(l) if (l.start..=l.end).contains(&pos) => l.end,
            _ => memchr(b'\n', &self.b[pos..]).map_or(self.b.len(), |i| pos + i),
        }
    }

    /// `-` followed by a space or the end of the line, at `pos`.
    fn is_dash(&self, pos: usize) -> bool {
        self.b.get(pos) == Some(&b'-') && matches!(self.b.get(pos + 1), None | Some(b' ' | b'\n'))
    }

    fn skip_spaces(&self, mut pos: usize) -> usize {
        while self.b.get(pos) == Some(&b' ') {
            pos += 1;
        }
        pos
    }

    /// Nothing but an optional comment from `pos` to the end of the line.
    fn rest_is_empty(&self, pos: usize) -> bool {
        let pos = self.skip_spaces(pos);
        matches!(self.b.get(pos), None | Some(b'\n' | b'#'))
    }
}

/// What the first item of a sequence was (it decides where granit says the sequence starts).
#[derive(Clone, Copy)]
enum First {
    /// On the dash's line: a scalar, or a compact mapping.
    Inline,
    /// `-` alone with nothing under it: null.
    Empty,
    /// `-` alone with a collection on the following lines.
    Nested,
}

/// Whether two trees are the same in every respect the renderer can observe: value kinds (an
/// integer is not a float), key order, spans and provenance.
pub fn same_tree(a: &Node, b: &Node) -> bool {
    if a.loc != b.loc || a.via != b.via {
        return false;
    }
    match (&a.value, &b.value) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_tree(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.entries.len() == y.entries.len()
                && x.entries.iter().zip(&y.entries).all(|(p, q)| {
                    p.key == q.key && p.key_loc == q.key_loc && same_tree(&p.value, &q.value)
                })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn leading_spaces_counts_a_word_at_a_time() {
        for n in 0..40 {
            for tail in ["", "x", "x  ", "\n", "        y"] {
                let line = format!("{}{tail}", " ".repeat(n));
                let want = line.bytes().take_while(|&c| c == b' ').count();
                assert_eq!(super::leading_spaces(line.as_bytes()), want, "{line:?}");
            }
        }
    }
}
