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

use std::fmt::Write as _;

use super::keyorder::{compare_keys, less};
use super::resolve::format_float;
use super::{Node, Value};

const BEST_WIDTH: usize = 80;
const INDENT: usize = 2;

/// Appends one document (no `---`) to `out`.
pub fn emit_document(node: &Node, out: &mut String) {
    let mut e = Emitter {
        out,
        column: 0,
        line_start: true,
    };
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
    let mut out = String::new();
    for (i, d) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        emit_document(d, &mut out);
    }
    out
}

/// [`emit_documents`] on the thread pool: with many documents, or a few large ones (a bundle of
/// CRDs), each is printed on whichever thread takes it and the texts are joined in order. Few
/// documents are printed in place (most overlays: the threads are busy with other overlays).
pub fn emit_documents_parallel(docs: &[&Node]) -> String {
    use rayon::prelude::*;
    if docs.len() < 4 {
        return emit_documents(docs.iter().copied());
    }
    let texts: Vec<String> = docs
        .par_iter()
        .map(|d| {
            let mut s = String::new();
            emit_document(d, &mut s);
            s
        })
        .collect();
    let mut out = String::with_capacity(texts.iter().map(|t| t.len() + 4).sum());
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(t);
    }
    out
}

struct Emitter<'a> {
    out: &'a mut String,
    /// Characters written on the current line.
    column: usize,
    line_start: bool,
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
        self.line_start = false;
    }
    fn put_char(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
        self.line_start = false;
    }
    fn newline(&mut self) {
        self.out.push('\n');
        self.column = 0;
        self.line_start = true;
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
                self.line_start = false;
            }
            Value::Float(f) => self.put(&format_float(*f)),
            Value::Str(s) => self.string(s, indent, simple_key),
        }
    }

    fn key(&mut self, k: &str, indent: usize) {
        self.string(k, indent + INDENT, true);
    }

    fn string(&mut self, s: &str, indent: usize, simple_key: bool) {
        match choose_style(s, simple_key) {
            Style::Plain => self.write_plain(s, indent, !simple_key),
            Style::Single => self.write_single(s, indent, !simple_key),
            Style::Double => self.write_double(s, indent, !simple_key),
            Style::Literal => self.write_literal(s, indent),
        }
    }

    /// A plain scalar, folded at a space once the line passes [`BEST_WIDTH`] (unless the space
    /// follows a space or precedes one). Written a run of non-spaces at a time.
    fn write_plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        // No space can be past the width: one copy.
        if !allow_breaks || self.column + s.len() <= BEST_WIDTH || !s.contains(' ') {
            self.put(s);
            return;
        }
        let b = s.as_bytes();
        let (mut spaces, mut run) = (false, 0);
        for (i, &c) in b.iter().enumerate() {
            if c != b' ' {
                spaces = false;
                continue;
            }
            if run < i {
                self.put(&s[run..i]);
            }
            run = i + 1;
            let next_space = b.get(i + 1) == Some(&b' ');
            if !spaces && self.column > BEST_WIDTH && !next_space {
                self.newline();
                self.indent_to(indent);
            } else {
                self.put_char(' ');
            }
            spaces = true;
        }
        if run < b.len() {
            self.put(&s[run..]);
        }
    }

    /// A single-quoted scalar (`'` doubled), folded like a plain one except at its first and
    /// last character.
    fn write_single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.put_char('\'');
        let b = s.as_bytes();
        let (mut spaces, mut run) = (false, 0);
        for (i, &c) in b.iter().enumerate() {
            if c != b' ' {
                spaces = false;
                continue;
            }
            self.put_single_run(&s[run..i]);
            run = i + 1;
            let next_space = b.get(i + 1) == Some(&b' ');
            if allow_breaks
                && !spaces
                && self.column > BEST_WIDTH
                && i > 0
                && i + 1 < b.len()
                && !next_space
            {
                self.newline();
                self.indent_to(indent);
            } else {
                self.put_char(' ');
            }
            spaces = true;
        }
        self.put_single_run(&s[run..]);
        self.put_char('\'');
    }

    /// Text without spaces inside single quotes: `'` doubled.
    fn put_single_run(&mut self, run: &str) {
        if !run.contains('\'') {
            self.put(run);
            return;
        }
        for part in run.split_inclusive('\'') {
            self.put(part);
            if part.ends_with('\'') {
                self.put_char('\'');
            }
        }
    }

    fn write_double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        // Printable ASCII with nothing to escape and no space past the width: one copy.
        if s.bytes()
            .all(|c| (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\')
            && (!allow_breaks || self.column + s.len() <= BEST_WIDTH || !s.contains(' '))
        {
            self.put_char('"');
            self.put(s);
            self.put_char('"');
            return;
        }
        self.put_char('"');
        let b = s.as_bytes();
        let mut spaces = false;
        for (i, c) in s.char_indices() {
            if needs_escape(c, i == 0) {
                self.put_char('\\');
                match c {
                    '\0' => self.put_char('0'),
                    '\u{7}' => self.put_char('a'),
                    '\u{8}' => self.put_char('b'),
                    '\t' => self.put_char('t'),
                    '\n' => self.put_char('n'),
                    '\u{b}' => self.put_char('v'),
                    '\u{c}' => self.put_char('f'),
                    '\r' => self.put_char('r'),
                    '\u{1b}' => self.put_char('e'),
                    '"' => self.put_char('"'),
                    '\\' => self.put_char('\\'),
                    '\u{85}' => self.put_char('N'),
                    '\u{a0}' => self.put_char('_'),
                    '\u{2028}' => self.put_char('L'),
                    '\u{2029}' => self.put_char('P'),
                    c => {
                        let v = c as u32;
                        if v <= 0xFF {
                            self.put(&format!("x{v:02X}"));
                        } else if v <= 0xFFFF {
                            self.put(&format!("u{v:04X}"));
                        } else {
                            self.put(&format!("U{v:08X}"));
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < b.len() {
                    self.newline();
                    self.indent_to(indent);
                    if b.get(i + 1) == Some(&b' ') {
                        self.put_char('\\');
                    }
                } else {
                    self.put_char(c);
                }
                spaces = true;
            } else {
                self.put_char(c);
                spaces = false;
            }
        }
        self.put_char('"');
    }

    fn write_literal(&mut self, s: &str, indent: usize) {
        self.put_char('|');
        let first = s.chars().next();
        if matches!(first, Some(' ' | '\n')) || first.is_some_and(is_break) {
            self.put(&INDENT.to_string());
        }
        // Chomping: `-` without a final break, `+` with two or more (or only one break).
        let mut rev = s.chars().rev();
        let last = rev.next();
        if !last.is_some_and(is_break) {
            self.put_char('-');
        } else if s.chars().nth(1).is_none() || rev.next().is_some_and(is_break) {
            self.put_char('+');
        }
        self.newline();
        // The caller ends the last line, so a final line break is left to it.
        let body = match last {
            Some(c) if is_break(c) => &s[..s.len() - c.len_utf8()],
            _ => s,
        };
        // A line at a time; empty lines carry no indentation.
        for (i, line) in body.split(is_break).enumerate() {
            if i > 0 {
                self.newline();
            }
            if !line.is_empty() {
                self.indent_to(indent);
                self.put(line);
            }
        }
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Printable per YAML (and go-yaml's table): what may appear unescaped.
fn is_printable(c: char) -> bool {
    let v = c as u32;
    c == '\n'
        || (0x20..=0x7E).contains(&v)
        || (0xA0..=0xD7FF).contains(&v)
        || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF)
}

fn needs_escape(c: char, _first: bool) -> bool {
    !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\'
}

/// The style go-yaml picks for a string value (or key).
fn choose_style(s: &str, simple_key: bool) -> Style {
    let requested = if s.contains('\n') {
        Style::Literal
    } else if resolves_as_string_v2(s) && !is_base60_float(s) {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(s);
    let mut style = requested;
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain {
        if !a.block_plain_allowed {
            style = Style::Single;
        }
        if s.is_empty() && simple_key {
            style = Style::Single;
        }
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || simple_key) {
        style = Style::Double;
    }
    style
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    if s.is_ascii() {
        return analyze_ascii(s.as_bytes());
    }
    analyze_chars(s)
}

/// [`analyze`] a character at a time (any string but the empty one).
fn analyze_chars(s: &str) -> Analysis {
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let mut chars = s.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let last = next.is_none();
        let followed_by_ws = next.is_none_or(|n| matches!(n, ' ' | '\t') || is_break(n));
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) || c == '\u{feff}' {
            special = true;
        }
        if c == ' ' {
            if first {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if first {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break(c);
        first = false;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks {
        a.block_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Whether text read as a plain scalar in block context is all of one scalar (no `: `, ` #`,
/// leading indicator, surrounding space or line break would make it something else).
pub fn plain_reads_whole(s: &str) -> bool {
    s.is_empty() || analyze(s).block_plain_allowed
}

/// What go-yaml v2 (YAML 1.1) reads a plain scalar as when decoding into Go `interface{}` values,
/// as `yaml.YAMLToJSON` does: `yes`/`on`/`y` are booleans, `0777` and `1_000` integers, and a
/// timestamp stays a string.
pub fn resolve_plain_v2(s: &str) -> Value {
    if resolves_as_string_v2(s) || is_timestamp(s) {
        return Value::Str(s.to_string());
    }
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    let plain: String = s.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match plain.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') && !lower.contains(['.', 'e']) {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    if let Ok(v) = i64::from_str_radix(digits, radix) {
        return Value::Int(if neg { -v } else { v });
    }
    let special = match body {
        ".inf" | ".Inf" | ".INF" => Some(f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ => None,
    };
    match special.or_else(|| plain.parse::<f64>().ok()) {
        Some(f) if special.is_some() && neg => Value::Float(-f),
        Some(f) => Value::Float(f),
        None => Value::Str(s.to_string()),
    }
}

/// [`analyze`] of an ASCII string, a byte at a time (the same rules: of the breaks only `\n` and
/// `\r` are ASCII, and the printable ASCII characters are `\n` and space to `~`).
fn analyze_ascii(b: &[u8]) -> Analysis {
    let n = b.len();
    let brk = |c: u8| c == b'\n' || c == b'\r';
    let ws = |c: u8| c == b' ' || c == b'\t' || brk(c);
    let mut block_indicators = b.starts_with(b"---") || b.starts_with(b"...");
    block_indicators |= match b[0] {
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => true,
        b'?' | b':' | b'-' => n == 1 || ws(b[1]),
        _ => false,
    };
    let (mut line_breaks, mut special, mut break_space, mut space_break) =
        (false, false, false, false);
    for i in 0..n {
        let c = b[i];
        match c {
            b':' if i > 0 && (i + 1 == n || ws(b[i + 1])) => block_indicators = true,
            b'#' if i > 0 && ws(b[i - 1]) => block_indicators = true,
            b' ' if i > 0 && brk(b[i - 1]) => break_space = true,
            b'\n' | b'\r' => {
                line_breaks = true;
                if i > 0 && b[i - 1] == b' ' {
                    space_break = true;
                }
                special |= c == b'\r';
            }
            0x7f => special = true,
            c if c < 0x20 => special = true,
            _ => {}
        }
    }
    let (first, last) = (b[0], b[n - 1]);
    let leading = first == b' ' || brk(first);
    let trailing_space = last == b' ';
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: !(leading || trailing_space || brk(last)),
        single_quoted_allowed: true,
        block_allowed: !trailing_space,
    };
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Would go-yaml v2 read this plain text back as a string (not a bool, null, number, timestamp)?
fn resolves_as_string_v2(s: &str) -> bool {
    let Some(&first) = s.as_bytes().first() else {
        return false; // "" is null
    };
    match first {
        b'+' | b'-' | b'0'..=b'9' => {}
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            return !matches!(
                s,
                "y" | "Y"
                    | "yes"
                    | "Yes"
                    | "YES"
                    | "true"
                    | "True"
                    | "TRUE"
                    | "on"
                    | "On"
                    | "ON"
                    | "n"
                    | "N"
                    | "no"
                    | "No"
                    | "NO"
                    | "false"
                    | "False"
                    | "FALSE"
                    | "off"
                    | "Off"
                    | "OFF"
                    | "~"
                    | "null"
                    | "Null"
                    | "NULL"
            );
        }
        b'.' => {
            if matches!(s, ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF") {
                return false;
            }
            return go_parse_float(s).is_none();
        }
        _ => return true,
    }
    if matches!(s, "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF") {
        return false;
    }
    if is_timestamp(s) {
        return false;
    }
    let plain: std::borrow::Cow<str> = if s.contains('_') {
        s.chars().filter(|c| *c != '_').collect::<String>().into()
    } else {
        s.into()
    };
    if go_parse_int(&plain) || is_yaml_float(&plain) {
        return false;
    }
    if let Some(rest) = plain
        .strip_prefix("0b")
        .or_else(|| plain.strip_prefix("-0b"))
        && !rest.is_empty()
        && rest.bytes().all(|b| b == b'0' || b == b'1')
    {
        return false;
    }
    true
}

/// Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint` acceptance (sign, 0x/0o/0b/0 prefixes).
fn go_parse_int(s: &str) -> bool {
    let body = s
        .strip_prefix('-')
        .or_else(|| s.strip_prefix('+'))
        .unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    // Prefixes in either case (digits of every radix are accepted in either case too).
    let b = body.as_bytes();
    let (digits, radix) = match (b[0], b.get(1).map(u8::to_ascii_lowercase)) {
        (b'0', Some(b'x')) => (&body[2..], 16),
        (b'0', Some(b'o')) => (&body[2..], 8),
        (b'0', Some(b'b')) => (&body[2..], 2),
        (b'0', Some(_)) => (&body[1..], 8),
        _ => (body, 10),
    };
    !digits.is_empty()
        && digits.chars().all(|c| c.is_digit(radix))
        && u64::from_str_radix(digits, radix).is_ok()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let start = i;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let d = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == d {
            return false;
        }
    } else {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let d = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == d {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat` for text starting with '.' (decimal forms only can start so).
fn go_parse_float(s: &str) -> Option<f64> {
    if s.contains('_') {
        return None;
    }
    if is_yaml_float(s) {
        s.parse::<f64>().ok()
    } else {
        None
    }
}

/// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !(b[0] == b'+' || b[0] == b'-' || b[0].is_ascii_digit()) || !s.contains(':')
    {
        return false;
    }
    let mut i = usize::from(b[0] == b'+' || b[0] == b'-');
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let d = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) && i - d < 2 {
            i += 1;
        }
        let n = i - d;
        if n == 0 || (n == 2 && b[d] > b'5') {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// YAML 1.1 timestamps as go-yaml accepts them: `2001-12-14`, `2001-12-14T21:59:43.10-05:00`,
/// `2001-12-14 21:59:43.10`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut i = 5;
    let num = |i: &mut usize, max: usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        if *i == start {
            None
        } else {
            std::str::from_utf8(&b[start..*i]).ok()?.parse().ok()
        }
    };
    let Some(month) = num(&mut i, 2) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(&mut i, 2) else {
        return false;
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let sep = b[i];
    if !matches!(sep, b'T' | b't' | b' ') {
        return false;
    }
    i += 1;
    let Some(h) = num(&mut i, 2) else {
        return false;
    };
    if b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(m) = num(&mut i, 2) else {
        return false;
    };
    if b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(sec) = num(&mut i, 2) else {
        return false;
    };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return false;
        }
    }
    if sep == b' ' {
        return i == b.len();
    }
    // RFC 3339 forms need a zone.
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let rest = &s[i + 1..];
            rest.len() == 5 && rest.as_bytes()[2] == b':'
        }
        _ => false,
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

    /// The byte analysis of ASCII strings is the character analysis.
    #[test]
    fn ascii_analysis_is_the_general_one() {
        let alphabet = [
            " ", "a", ":", "#", "-", "\n", "\r", "\t", "'", "\"", "?", "|", "\u{7f}", ".",
        ];
        let mut cases = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for c in &cases {
                for a in alphabet {
                    next.push(format!("{c}{a}"));
                }
            }
            cases.extend(next);
            cases.dedup();
        }
        for s in cases.iter().filter(|s| !s.is_empty()) {
            let general = analyze_chars(s);
            let ascii = analyze_ascii(s.as_bytes());
            assert_eq!(
                (
                    ascii.multiline,
                    ascii.block_plain_allowed,
                    ascii.single_quoted_allowed,
                    ascii.block_allowed
                ),
                (
                    general.multiline,
                    general.block_plain_allowed,
                    general.single_quoted_allowed,
                    general.block_allowed
                ),
                "{s:?}"
            );
        }
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
