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

use super::duplicates::{DuplicateKey, insert_last_wins};
use super::resolve::resolve_plain;
use super::{Entry, Key, Mapping, Node, Value};
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
const MAX_DEPTH: usize = 64;

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
        let parsed = if empty { None } else { p.document() };
        if let Some(node) = parsed {
            pieces.push(Piece::Parsed(node, std::mem::take(&mut p.dups)));
        } else {
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
    if pieces.is_empty() {
        return None;
    }
    Some(pieces)
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == needle)
}

impl P<'_> {
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

    /// A block sequence whose first dash is at `dash` (the current line). `as_value`: it is a
    /// mapping's value at the key's own indentation (an "indentless" sequence, which changes
    /// where granit says it starts).
    fn seq(&mut self, dash: usize, as_value: bool) -> Option<Node> {
        self.enter()?;
        let n = self.seq_items(dash, as_value);
        self.leave();
        n
    }

    /// One more collection open; `None` past [`MAX_DEPTH`].
    fn enter(&self) -> Option<()> {
        let d = self.depth.get() + 1;
        (d <= MAX_DEPTH).then(|| self.depth.set(d))
    }

    fn leave(&self) {
        self.depth.set(self.depth.get() - 1);
    }

    fn seq_items(&mut self, dash: usize, as_value: bool) -> Option<Node> {
        let col = dash - self.lines[self.i].start;
        let mut items = Vec::new();
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
                    Some(n) if n.indent > col && as_value && items.is_empty() => return None,
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
            items.push(item);
            match self.next_content() {
                Some(n) if n.indent == col && self.is_dash(n.first()) => continue,
                Some(n) if n.indent > col => return None,
                _ => break,
            }
        }
        Some(Node::new(Value::Seq(items), seq_loc?))
    }

    /// If a mapping key starts at `pos`, the offset just after its `:`.
    fn key_at(&self, pos: usize) -> Option<usize> {
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
    fn quoted_end(&self, pos: usize) -> Option<usize> {
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
    fn map(&mut self, first: usize) -> Option<Node> {
        self.enter()?;
        let n = self.map_entries(first);
        self.leave();
        n
    }

    fn map_entries(&mut self, first: usize) -> Option<Node> {
        let col = first - self.lines[self.i].start;
        let mut map = Mapping::default();
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
            insert_last_wins(&mut map, key, key_loc, value, &mut self.dups);
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
        Some(Node::new(Value::Map(map), self.loc(first, first)))
    }

    /// The key text between `pos` and its colon, as the general parser derives it.
    fn key(&self, pos: usize, colon: usize) -> Option<(Key, Loc)> {
        let loc = self.loc(pos, colon);
        let raw = &self.text[pos..colon];
        if matches!(self.b[pos], b'"' | b'\'') {
            return Some((Key::from(self.unquote(pos, colon)?.as_str()), loc));
        }
        // A plain key that resolves to a string (or null) is its own text. Numbers, booleans
        // and timestamps as keys print in their canonical form; leave them to the general
        // parser's scalar_string rather than re-deriving it here.
        let boolean = matches!(raw, "true" | "True" | "TRUE" | "false" | "False" | "FALSE");
        let numeric = super::resolve::starts_like_number(raw);
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
    fn unquote(&self, pos: usize, end: usize) -> Option<String> {
        unquote_text(&self.text[pos..end], self.b[pos])
    }

    /// A value that starts on the current line at `pos`, inside a collection at column `col`.
    /// Leaves the current line index on the line after the value.
    fn inline_value(&mut self, pos: usize, col: usize) -> Option<Node> {
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
                Node::new(Value::Str(self.unquote(pos, close)?), self.loc(pos, close))
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

    /// A plain scalar whose first line is `pos..e` (the current line), with the lines that
    /// continue it: more indented than its collection at `col`, folded into one space each (or
    /// a line break per empty line between them), as generated CRDs wrap long descriptions.
    /// Leaves the current line on its last line. A continuation that could be read otherwise
    /// (a `- ` or `? ` first, a `: ` inside) is left to the general parser.
    fn plain_lines(&mut self, pos: usize, e: usize, col: usize) -> Option<Node> {
        let (b, text) = (self.b, self.text);
        let mut value: Option<String> = None;
        let (mut end, mut empties) = (e, 0);
        let mut j = self.i + 1;
        while let Some(&l) = self.lines.get(j) {
            let first = l.first();
            if first == l.end {
                empties += 1;
                j += 1;
                continue;
            }
            if l.indent <= col || b[first] == b'#' {
                break;
            }
            if matches!(b[first], b'-' | b'?' | b':')
                && matches!(b.get(first + 1), None | Some(b' ' | b'\n'))
            {
                return None;
            }
            // A comment ends the scalar (a line after it would be an error: see the caller).
            let comment = text[first..l.end].find(" #").map(|c| first + c);
            let mut t = comment.unwrap_or(l.end);
            while b[t - 1] == b' ' {
                t -= 1;
            }
            let line = &text[first..t];
            if line.contains(": ") || line.ends_with(':') {
                return None;
            }
            let v = value.get_or_insert_with(|| text[pos..e].to_string());
            if empties == 0 {
                v.push(' ');
            } else {
                v.extend(std::iter::repeat_n('\n', empties));
            }
            v.push_str(line);
            (end, empties) = (t, 0);
            self.i = j;
            j += 1;
            if comment.is_some() {
                break;
            }
        }
        let value = match value {
            Some(v) => resolve_plain(&v),
            None => resolve_plain(&text[pos..e]),
        };
        Some(Node::new(value, self.loc(pos, end)))
    }

    /// A quoted scalar opening at `pos` and closing on a later line (generated CRDs wrap long
    /// quoted descriptions so): each line break folds into a space, or into one line break per
    /// empty line between, and the spaces around breaks go. Lines must be more indented than
    /// the collection at `col`. An escaped line break, a line or edge that is only spaces,
    /// and anything after the closing quote but a comment are left to the general parser.
    /// Leaves the current line after the scalar, like [`P::inline_value`].
    fn quoted_lines(&mut self, pos: usize, col: usize) -> Option<Node> {
        let (b, text) = (self.b, self.text);
        let q = b[pos];
        let trim_end = |mut t: usize, from: usize| {
            while t > from && b[t - 1] == b' ' {
                t -= 1;
            }
            t
        };
        let first_end = trim_end(self.lines[self.i].end, pos + 1);
        if first_end == pos + 1 || b[first_end - 1] == b'\\' {
            return None;
        }
        // The unquoted value of one line's part (`''` and escapes stay within a line).
        let part = |from: usize, to: usize| -> Option<String> {
            let mut quoted = String::with_capacity(to - from + 2);
            quoted.push(q as char);
            quoted.push_str(&text[from..to]);
            quoted.push(q as char);
            unquote_text(&quoted, q)
        };
        let mut value = part(pos + 1, first_end)?;
        let mut empties = 0;
        let mut j = self.i + 1;
        loop {
            let l = *self.lines.get(j)?;
            let first = l.first();
            if first == l.end {
                empties += 1;
                j += 1;
                continue;
            }
            if l.indent <= col {
                return None;
            }
            let close = self.closing_quote(first, l.end, q);
            let to = match close {
                Some(c) => c,
                None => trim_end(l.end, first),
            };
            if to == first || (close.is_none() && b[to - 1] == b'\\') {
                return None;
            }
            if empties == 0 {
                value.push(' ');
            } else {
                value.extend(std::iter::repeat_n('\n', empties));
            }
            empties = 0;
            value.push_str(&part(first, to)?);
            if let Some(c) = close {
                let after = c + 1;
                if !self.rest_is_empty(after) || (after < l.end && b[after] == b'#') {
                    return None;
                }
                self.i = j + 1;
                if let Some(n) = self.next_content()
                    && n.indent > col
                {
                    return None;
                }
                return Some(Node::new(Value::Str(value), self.loc(pos, after)));
            }
            j += 1;
        }
    }

    /// The offset of the quote `q` that closes a quoted scalar on the line `from..end`
    /// (`''` and `\"` do not close).
    fn closing_quote(&self, from: usize, end: usize, q: u8) -> Option<usize> {
        let b = self.b;
        let mut j = from;
        while j < end {
            match b[j] {
                b'\\' if q == b'"' => j += 2,
                c if c == q => {
                    if q == b'\'' && b.get(j + 1) == Some(&b'\'') {
                        j += 2;
                    } else {
                        return Some(j);
                    }
                }
                _ => j += 1,
            }
        }
        None
    }

    /// A one-line flow collection (`[a, "b"]`, `{k: v}`, nested) opening at `pos`: its node and
    /// the offset after its closing bracket. Empty entries, trailing commas, `key: value` pairs
    /// inside sequences and anything spanning lines are left to the general parser.
    fn flow(&self, pos: usize) -> Option<(Node, usize)> {
        self.enter()?;
        let n = self.flow_items(pos);
        self.leave();
        n
    }

    fn flow_items(&self, pos: usize) -> Option<(Node, usize)> {
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
                    map.entries.push(Entry {
                        key,
                        key_loc,
                        value,
                    });
                    i = next;
                } else {
                    let (item, next) = self.flow_item(i)?;
                    items.push(item);
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
    fn flow_item(&self, i: usize) -> Option<(Node, usize)> {
        let b = self.b;
        match *b.get(i)? {
            b'"' | b'\'' => {
                let end = self.quoted_end(i)?;
                Some((
                    Node::new(Value::Str(self.unquote(i, end)?), self.loc(i, end)),
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
    fn flow_key(&self, i: usize) -> Option<(Key, Loc, usize)> {
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

    /// A `|`, `|-` or `|+` literal block whose indicator is at `pos`, under a collection at `col`.
    fn literal(&mut self, pos: usize, col: usize) -> Option<Node> {
        let b = self.b;
        let chomp = match b.get(pos + 1) {
            Some(b'-') => Some(false),
            Some(b'+') => Some(true),
            _ => None,
        };
        let header_end = pos + 1 + usize::from(chomp.is_some());
        if !matches!(b.get(header_end), None | Some(b' ' | b'\n'))
            || !self.rest_is_empty(header_end)
        {
            return None;
        }
        self.i += 1;
        // The first line with content fixes the indentation; leading empty lines are left to
        // the general parser (their spans and indentation rules are subtle).
        let first = *self.lines.get(self.i)?;
        let only_spaces = |l: &Line| l.indent == l.end - l.start;
        if only_spaces(&first) || first.indent <= col {
            return None;
        }
        let indent = first.indent;
        let start = first.first();
        let mut body: Vec<&str> = Vec::new();
        let mut end = self.b.len();
        while self.i < self.lines.len() {
            let l = self.lines[self.i];
            if only_spaces(&l) {
                if l.indent > indent {
                    // Spaces beyond the indentation: content or not depends on what follows.
                    return None;
                }
                body.push("");
            } else if l.indent >= indent {
                body.push(&self.text[l.start + indent..l.end]);
            } else {
                end = l.first();
                break;
            }
            self.i += 1;
        }
        // Trailing empty lines: dropped (clip, strip) or kept (keep).
        let content_lines = body
            .iter()
            .rposition(|s| !s.is_empty())
            .map_or(0, |i| i + 1);
        let trailing = body.len() - content_lines;
        let mut value = body[..content_lines].join("\n");
        // The line breaks after the content: the last content line's own and one per trailing
        // empty line — one fewer when the text ends without a final line break.
        let unterminated = end == self.b.len() && !self.text.ends_with('\n');
        let breaks = (1 + trailing).saturating_sub(usize::from(unterminated));
        match chomp {
            Some(false) => {}
            None => value.push_str(if breaks > 0 { "\n" } else { "" }),
            Some(true) => value.push_str(&"\n".repeat(breaks)),
        }
        if self.i < self.lines.len() && self.lines[self.i].indent > col && !self.lines[self.i].blank
        {
            return None;
        }
        Some(Node::new(Value::Str(value), self.loc(start, end)))
    }
}

/// The value of the quoted scalar `quoted` (its quotes `q` included), `None` for an escape the
/// fast path leaves to the general parser.
fn unquote_text(quoted: &str, q: u8) -> Option<String> {
    let inner = &quoted[1..quoted.len() - 1];
    if q == b'\'' {
        return Some(inner.replace("''", "'"));
    }
    if !inner.contains('\\') {
        return Some(inner.to_string());
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars, n: usize| -> Option<char> {
            let h: String = chars.by_ref().take(n).collect();
            if h.len() != n {
                return None;
            }
            char::from_u32(u32::from_str_radix(&h, 16).ok()?)
        };
        out.push(match chars.next()? {
            '\\' => '\\',
            '"' => '"',
            '/' => '/',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            'x' => hex(&mut chars, 2)?,
            'u' => hex(&mut chars, 4)?,
            'U' => hex(&mut chars, 8)?,
            _ => return None,
        });
    }
    Some(out)
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
