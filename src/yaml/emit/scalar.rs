//! Writing one scalar in the style chosen for it: plain, single- or double-quoted, or a literal
//! block, folded at spaces once a line passes [`BEST_WIDTH`] columns as go-yaml v2 folds.
//!
//! Design. Each style is a method of the [`Emitter`] writing straight into its output buffer
//! and keeping its column count; the style itself is chosen beforehand ([`super::analyze`]).

use super::{BEST_WIDTH, Emitter, INDENT};

impl Emitter<'_> {
    /// A plain scalar, folded at a space once the line passes [`BEST_WIDTH`] (unless the space
    /// follows a space or precedes one). Written a run of non-spaces at a time.
    pub(super) fn write_plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
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

    /// [`Emitter::write_plain`] of ASCII text (one column per byte) that neither starts nor
    /// ends with a space: the text between two breaks is copied at once, and only the spaces
    /// (found with `memchr`) are looked at.
    pub(super) fn write_plain_ascii(&mut self, s: &str, indent: usize) {
        if self.column + s.len() <= BEST_WIDTH {
            self.out.push_str(s);
            self.column += s.len();
            return;
        }
        let b = s.as_bytes();
        // `from` is where the text not yet written starts, at column `col`.
        let (mut from, mut col) = (0, self.column);
        for i in memchr::memchr_iter(b' ', b) {
            // A break replaces a space past the width that follows a non-space and precedes one.
            if col + (i - from) > BEST_WIDTH && b[i - 1] != b' ' && b[i + 1] != b' ' {
                self.out.push_str(&s[from..i]);
                self.out.push('\n');
                self.column = 0;
                self.indent_to(indent);
                (from, col) = (i + 1, self.column);
            }
        }
        self.out.push_str(&s[from..]);
        self.column = col + (b.len() - from);
    }

    /// A single-quoted scalar (`'` doubled), folded like a plain one except at its first and
    /// last character.
    pub(super) fn write_single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
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
    pub(super) fn put_single_run(&mut self, run: &str) {
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

    pub(super) fn write_double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
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

    pub(super) fn write_literal(&mut self, s: &str, indent: usize) {
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
        // Most text is ASCII and breaks lines with `\n` only: lines are then found with a byte
        // search and written a byte per column.
        let ascii = body.is_ascii();
        if ascii && memchr::memchr(b'\r', body.as_bytes()).is_none() {
            self.literal_lines(body.split('\n'), indent, true);
        } else if !ascii && !body.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}']) {
            self.literal_lines(body.split('\n'), indent, false);
        } else {
            self.literal_lines(body.split(is_break), indent, ascii);
        }
    }

    /// The lines of a literal block; empty lines carry no indentation.
    fn literal_lines<'s>(
        &mut self,
        lines: impl Iterator<Item = &'s str>,
        indent: usize,
        ascii: bool,
    ) {
        for (i, line) in lines.enumerate() {
            if i > 0 {
                self.newline();
            }
            if !line.is_empty() {
                self.indent_to(indent);
                if ascii {
                    self.out.push_str(line);
                    self.column += line.len();
                } else {
                    self.put(line);
                }
            }
        }
    }
}

pub(super) fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Printable per YAML (and go-yaml's table): what may appear unescaped.
pub(super) fn is_printable(c: char) -> bool {
    let v = c as u32;
    c == '\n'
        || (0x20..=0x7E).contains(&v)
        || (0xA0..=0xD7FF).contains(&v)
        || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF)
}

pub(super) fn needs_escape(c: char, _first: bool) -> bool {
    !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\'
}

#[cfg(test)]
mod tests {
    use super::Emitter;

    /// The segment-at-a-time folding of ASCII text is the general one, at every starting column.
    #[test]
    fn ascii_folding_is_the_general_one() {
        let words = [
            "a",
            "bb",
            "cccccccc",
            "dddddddddddddddddddddd",
            "e",
            "ffffffffffff",
        ];
        let mut texts = Vec::new();
        for n in 1..40usize {
            let mut t = String::new();
            for k in 0..n {
                if k > 0 {
                    // Mostly single spaces, some double and triple ones.
                    t.push_str(&" ".repeat(1 + usize::from(k % 7 == 3) + usize::from(k % 11 == 5)));
                }
                t.push_str(words[(k * 5 + n) % words.len()]);
            }
            texts.push(t);
        }
        for t in &texts {
            for column in 0..100 {
                let run = |ascii: bool| {
                    let mut out = String::new();
                    let mut e = Emitter {
                        out: &mut out,
                        column,
                    };
                    if ascii {
                        e.write_plain_ascii(t, 4);
                    } else {
                        e.write_plain(t, 4, true);
                    }
                    let column = e.column;
                    (out, column)
                };
                assert_eq!(run(true), run(false), "{t:?} from column {column}");
            }
        }
    }
}
