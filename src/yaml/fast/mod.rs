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
}

impl Line {
    fn first(&self) -> usize {
        self.start + self.indent
    }
}

struct P<'a> {
    text: &'a str,
    b: &'a [u8],
    lines: Vec<Line>,
    /// The current line (the next one to look at).
    i: usize,
    file: FileId,
    dups: Vec<DuplicateKey>,
    /// Collections open around the current position (see [`MAX_DEPTH`]).
    depth: std::cell::Cell<usize>,
}

/// Deeper nesting is left to the general parser, which does not recurse and enforces the
/// `depth` budget: this one recurses once per level.
pub(super) const MAX_DEPTH: usize = 64;

/// Parses `text` if it stays inside the fast subset; `None` means "use the general parser".
pub fn parse(text: &str, file: FileId) -> Option<(Vec<Node>, Vec<DuplicateKey>)> {
    let (mut docs, mut dups) = (Vec::new(), Vec::new());
    for piece in parse_pieces(text, file)? {
        match piece {
            Piece::Parsed(node, d) => {
                docs.push(node);
                dups.extend(d);
            }
            Piece::Declined(_) => return None,
        }
    }
    Some((docs, dups))
}

/// One document of a file: parsed here (with its duplicate keys), or the byte range of its text
/// for the general parser. A multi-megabyte bundle of CRDs then leaves only the document that
/// steps outside the subset (an escaped line break in one ConfigMap) to the slower parser.
pub enum Piece {
    Parsed(Node, Vec<DuplicateKey>),
    Declined(std::ops::Range<usize>),
}

/// [`parse`] a document at a time; `None` when the file as a whole is the general parser's
/// (characters with rules of their own, directives, `...`, `---` with content, empty documents).
/// Documents are only ever split at a `---` line, where YAML ends a document whatever was open.
pub fn parse_pieces(text: &str, file: FileId) -> Option<Vec<Piece>> {
    let b = text.as_bytes();
    // A byte-order mark and Unicode line separators have rules of their own; leave the file to
    // the general parser. (Tabs and other control characters: the document, see `document`.)
    if !text.is_ascii() && text.contains(['\u{feff}', '\u{85}', '\u{2028}', '\u{2029}']) {
        return None;
    }
    let mut lines = Vec::with_capacity(text.len() / 24 + 1);
    let mut start = 0;
    while start < b.len() {
        let end = memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i);
        let indent = b[start..end].iter().take_while(|&&c| c == b' ').count();
        let rest = &b[start + indent..end];
        // A directive (`%YAML`) applies to the documents after it: not split here.
        if indent == 0 && rest.first() == Some(&b'%') {
            return None;
        }
        lines.push(Line {
            start,
            end,
            indent,
            blank: rest.is_empty() || rest[0] == b'#',
        });
        start = end + 1;
    }
    let mut p = P {
        text,
        b,
        lines,
        i: 0,
        file,
        dups: Vec::new(),
        depth: Default::default(),
    };
    let mut pieces = Vec::new();
    loop {
        let mut chunk_start = p.lines.get(p.i).map_or(b.len(), |l| l.start);
        p.skip_blank();
        if p.i >= p.lines.len() {
            break;
        }
        let mut empty = false;
        if p.is_doc_marker(p.i) {
            // `---` opens a document; anything after it on the line, and `...`, are left to the
            // general parser.
            let l = p.lines[p.i];
            if l.end != l.start + 3 || b[l.start] == b'.' {
                return None;
            }
            chunk_start = l.start;
            p.i += 1;
            p.skip_blank();
            // An empty document (Helm's `---\n# Source: ...\n---`): its span conventions are
            // the general parser's.
            empty = p.i >= p.lines.len() || p.is_doc_marker(p.i);
        } else if !pieces.is_empty() {
            return None;
        }
        let first = p.i;
        match if empty { None } else { p.document() } {
            Some(node) => pieces.push(Piece::Parsed(node, std::mem::take(&mut p.dups))),
            None => {
                // The rest of this document is the general parser's: up to the next `---` line.
                p.dups.clear();
                p.depth.set(0);
                let mut j = first;
                while j < p.lines.len() && !p.is_doc_marker(j) {
                    j += 1;
                }
                if j < p.lines.len() {
                    let l = p.lines[j];
                    if l.end != l.start + 3 || b[l.start] == b'.' {
                        return None;
                    }
                }
                let end = p.lines.get(j).map_or(b.len(), |l| l.start);
                pieces.push(Piece::Declined(chunk_start..end));
                p.i = j;
            }
        }
    }
    if pieces.is_empty() {
        return None;
    }
    Some(pieces)
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == needle)
}

impl<'a> P<'a> {
    /// The document whose first line is the current one, up to the next document marker.
    fn document(&mut self) -> Option<Node> {
        let l = self.lines[self.i];
        if l.indent != 0 {
            return None;
        }
        // Tabs, carriage returns and other control characters have rules of their own.
        let mut end = self.i;
        while end < self.lines.len() && !self.is_doc_marker(end) {
            end += 1;
        }
        let to = self.lines.get(end).map_or(self.b.len(), |l| l.start);
        if self.b[l.start..to].chunks(64).any(|c| {
            c.iter()
                .fold(false, |a, &c| a | ((c < 0x20 && c != b'\n') || c == 0x7f))
        }) {
            return None;
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
        let l = self.lines[i];
        let s = &self.b[l.start..l.end];
        (s.starts_with(b"---") || s.starts_with(b"...")) && (s.len() == 3 || s[3] == b' ')
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

    /// The end of the line that holds offset `pos`.
    fn line_end(&self, pos: usize) -> usize {
        memchr(b'\n', &self.b[pos..]).map_or(self.b.len(), |i| pos + i)
    }

    /// `-` followed by a space or the end of the line, at `pos`.
    fn is_dash(&self, pos: usize) -> bool {
        self.b.get(pos) == Some(&b'-')
            && matches!(self.b.get(pos + 1), None | Some(b' ') | Some(b'\n'))
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
        matches!(self.b.get(pos), None | Some(b'\n') | Some(b'#'))
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
