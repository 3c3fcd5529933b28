//! YAML output byte-identical to `kustomize build`.
//!
//! kustomize converts each resource to Go values through JSON and prints them with go-yaml v2's
//! emitter (a port of libyaml). This module reproduces that emitter's observable behaviour for the
//! block-style documents kustomize prints, written from its documented rules and checked against
//! the reference kustomize (`tests/golden.rs`, the conformance corpus):
//!
//! * mapping keys in go-yaml's natural order ([`super::keyorder`]), indent 2, sequences in a
//!   mapping not indented (`key:\n- item`), a mapping in a sequence item starting on the dash line;
//! * empty collections in flow style (`{}`, `[]`);
//! * a string is plain unless it would read back as something else under YAML 1.1 rules (`"yes"`,
//!   `"1.0"`, `"2001-12-14"`, `"1:20"`) — then double-quoted — or plain is not allowed where it
//!   stands (leading indicators, `: `, ` #`, leading/trailing spaces) — then single-quoted, unless
//!   it has characters only double quotes can carry (tabs, control characters);
//! * strings with line breaks as literal blocks with indentation and chomping indicators
//!   (`|`, `|-`, `|+`, `|2`), unless they cannot be (trailing spaces before a break, CR);
//! * plain and quoted scalars folded at spaces once a line passes 80 columns.

mod analyze;
mod scalar;
mod v2;

use std::fmt::Write as _;

use super::keyorder::{compare_keys, less};
use super::resolve::format_float;
use super::{Node, Value};
pub(crate) use analyze::plain_reads_whole;
use analyze::{choose_style, plain_as_is};
pub(crate) use v2::resolve_plain_v2;

const BEST_WIDTH: usize = 80;
const INDENT: usize = 2;

/// Appends one document (no `---`) to `out`.
pub(crate) fn emit_document(node: &Node, out: &mut String) {
    let mut e = Emitter { out, column: 0 };
    match &node.value {
        Value::Map(m) if !m.is_empty() => e.map(node, 0, false),
        Value::Seq(s) if !s.is_empty() => e.seq(node, 0, false),
        _ => {
            e.scalar_or_empty(node, 0, false);
            e.newline();
        }
    }
}

/// Documents joined by `---\n`, as `kustomize build` prints them.
pub fn emit_documents<'a>(docs: impl IntoIterator<Item = &'a Node>) -> String {
    exact(|out| {
        for (i, d) in docs.into_iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            emit_document(d, out);
        }
    })
}

/// What `write` appends to an empty string, in a string of exactly its size: written into a
/// buffer this thread keeps for the purpose, then copied once. (A string grown as it is written
/// is copied at every doubling, each time into memory not touched before.)
fn exact(write: impl FnOnce(&mut String)) -> String {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    /// Larger buffers are not kept (a multi-megabyte CRD would otherwise stay with the thread).
    const KEEP: usize = 4 << 20;
    BUFFER.with(|b| {
        // In use further up this thread's stack (not done today): write into a string of its own.
        let Ok(mut buf) = b.try_borrow_mut() else {
            let mut out = String::new();
            write(&mut out);
            return out;
        };
        buf.clear();
        write(&mut buf);
        let out = String::from(buf.as_str());
        if buf.capacity() > KEEP {
            *buf = String::new();
        }
        out
    })
}

/// [`emit_documents`] on the thread pool: with many documents, or a few large ones (a bundle of
/// CRDs), each is printed on whichever thread takes it and the texts are joined in order. Few
/// documents are printed in place (most overlays: the threads are busy with other overlays).
pub(crate) fn emit_documents_parallel(docs: &[&Node]) -> String {
    let mut parts = emit_documents_parts(docs);
    if parts.len() == 1 {
        return parts.pop().unwrap_or_default();
    }
    let mut out = String::with_capacity(parts.iter().map(String::len).sum());
    for p in &parts {
        out.push_str(p);
    }
    out
}

/// [`emit_documents_parallel`] in pieces whose concatenation is the output (each document after
/// the first starts with its `---`): a caller that writes them one after another saves joining
/// them.
pub(crate) fn emit_documents_parts(docs: &[&Node]) -> Vec<String> {
    use rayon::prelude::*;
    if docs.len() < 4 {
        return vec![emit_documents(docs.iter().copied())];
    }
    docs.par_iter()
        .enumerate()
        .map(|(i, d)| {
            exact(|s| {
                if i > 0 {
                    s.push_str("---\n");
                }
                emit_document(d, s);
            })
        })
        .collect()
}

struct Emitter<'a> {
    out: &'a mut String,
    /// Characters written on the current line.
    column: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

impl Emitter<'_> {
    fn put(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        };
    }
    fn put_char(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }
    fn newline(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }
    fn indent_to(&mut self, indent: usize) {
        const SPACES: &str = "                                                                ";
        let mut n = indent.saturating_sub(self.column);
        while n > 0 {
            let k = n.min(SPACES.len());
            self.out.push_str(&SPACES[..k]);
            n -= k;
        }
        self.column = self.column.max(indent);
    }

    /// A block mapping whose keys sit at `indent`; `inline` when the first key continues the
    /// current line (after `- `).
    fn map(&mut self, node: &Node, indent: usize, inline: bool) {
        let Value::Map(m) = &node.value else { return };
        // Most mappings arrive in printing order already (generated manifests and CRDs are
        // sorted): then no copy is made to sort.
        if m.entries.windows(2).all(|w| !less(&w[1].key, &w[0].key)) {
            for (i, e) in m.entries.iter().enumerate() {
                self.entry(e, indent, i == 0 && inline);
            }
        } else {
            let mut entries: Vec<_> = m.entries.iter().collect();
            entries.sort_by(|a, b| compare_keys(&a.key, &b.key));
            for (i, e) in entries.into_iter().enumerate() {
                self.entry(e, indent, i == 0 && inline);
            }
        }
    }

    /// One `key: value` of a block mapping; `inline`: the key continues the current line.
    fn entry(&mut self, e: &super::Entry, indent: usize, inline: bool) {
        if !inline {
            self.indent_to(indent);
        }
        self.key(&e.key, indent);
        self.put_char(':');
        self.value_after_key(&e.value, indent);
    }

    /// The value of a `key:` whose key sits at `indent`.
    fn value_after_key(&mut self, v: &Node, indent: usize) {
        match &v.value {
            Value::Map(m) if !m.is_empty() => {
                self.newline();
                self.map(v, indent + INDENT, false);
            }
            // Sequences in a mapping are not indented (go-yaml's "indentless" sequences).
            Value::Seq(s) if !s.is_empty() => {
                self.newline();
                self.seq(v, indent, false);
            }
            _ => {
                self.put_char(' ');
                self.scalar_or_empty(v, indent + INDENT, false);
                self.newline();
            }
        }
    }

    /// A block sequence whose dashes sit at `indent`.
    fn seq(&mut self, node: &Node, indent: usize, inline: bool) {
        let Value::Seq(items) = &node.value else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            if i > 0 || !inline {
                self.indent_to(indent);
            }
            self.put("- ");
            match &item.value {
                Value::Map(m) if !m.is_empty() => self.map(item, indent + INDENT, true),
                Value::Seq(s) if !s.is_empty() => self.seq(item, indent + INDENT, true),
                _ => {
                    self.scalar_or_empty(item, indent + INDENT, false);
                    self.newline();
                }
            }
        }
    }

    /// Writes a scalar (or `{}` / `[]`); `indent` is where continuation lines go.
    fn scalar_or_empty(&mut self, v: &Node, indent: usize, simple_key: bool) {
        match &v.value {
            Value::Map(_) => self.put("{}"),
            Value::Seq(_) => self.put("[]"),
            Value::Null => self.put("null"),
            Value::Bool(b) => self.put(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let start = self.out.len();
                let _ = write!(self.out, "{i}");
                self.column += self.out.len() - start;
            }
            Value::Float(f) => self.put(&format_float(*f)),
            Value::Str(s) => self.string(s, indent, simple_key),
        }
    }

    fn key(&mut self, k: &str, indent: usize) {
        self.string(k, indent + INDENT, true);
    }

    fn string(&mut self, s: &str, indent: usize, simple_key: bool) {
        // Most keys and values (names, types, descriptions) are printable ASCII that reads back
        // as the same string: plain, found in one pass over the bytes.
        if plain_as_is(s) {
            debug_assert_eq!(choose_style(s, simple_key), Style::Plain, "{s:?}");
            if simple_key {
                self.out.push_str(s);
                self.column += s.len();
            } else {
                self.write_plain_ascii(s, indent);
            }
            return;
        }
        match choose_style(s, simple_key) {
            Style::Plain => self.write_plain(s, indent, !simple_key),
            Style::Single => self.write_single(s, indent, !simple_key),
            Style::Double => self.write_double(s, indent, !simple_key),
            Style::Literal => self.write_literal(s, indent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn emit(src: &str) -> String {
        let d = crate::yaml::parse_documents(src, FileId(0)).unwrap();
        emit_documents(d.iter())
    }

    #[test]
    fn quoting_matches_kustomize() {
        // Expected strings observed from the reference kustomize.
        let out = emit(
            "a:\n- \"yes\"\n- \"on\"\n- \"y\"\n- \"1.10\"\n- \"0.0\"\n- \"1e3\"\n- inf\n- \".Inf\"\n- NaN\n- \"0b1\"\n- 0x\n- \"1:20\"\n- \"2001-12-14\"\n- =\n- \"<<\"\n- \"-\"\n- \"a'b\"\n- \"x # y\"\n- \"#x\"\n- \"x: y\"\n- \"x#y\"\n- \" x\"\n- \"x \"\n- \"- x\"\n- \"?x\"\n- \"\\t\"\n- \"\"\n- é\n",
        );
        assert_eq!(
            out,
            "a:\n- \"yes\"\n- \"on\"\n- \"y\"\n- \"1.10\"\n- \"0.0\"\n- \"1e3\"\n- inf\n- \".Inf\"\n- NaN\n- \"0b1\"\n- 0x\n- \"1:20\"\n- \"2001-12-14\"\n- =\n- <<\n- '-'\n- a'b\n- 'x # y'\n- '#x'\n- 'x: y'\n- x#y\n- ' x'\n- 'x '\n- '- x'\n- ?x\n- \"\\t\"\n- \"\"\n- é\n"
        );
    }

    #[test]
    fn blocks_and_folding() {
        let out = emit(
            "k:\n  lead: \"  line1\\nline2\\n\"\n  e: \"\\n\"\n  t: \"line1\\nline2\"\n  long: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb cccccccccccccccccccc dddddddddddddd eeeeeeeeeee\"\n",
        );
        assert_eq!(
            out,
            "k:\n  e: |2+\n\n  lead: |2\n      line1\n    line2\n  long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n    cccccccccccccccccccc dddddddddddddd eeeeeeeeeee\n  t: |-\n    line1\n    line2\n"
        );
    }

    #[test]
    fn nested_collections() {
        let out = emit("a: {}\nb: []\nc: [[1, 2], [3]]\nd:\n- x: 1\n  y: [z]\n- []\n- {}\n");
        assert_eq!(
            out,
            "a: {}\nb: []\nc:\n- - 1\n  - 2\n- - 3\nd:\n- x: 1\n  \"y\":\n  - z\n- []\n- {}\n"
        );
    }
}
