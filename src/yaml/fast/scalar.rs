//! Scalars of the fast path that span lines: plain and quoted scalars wrapped over several
//! lines (as generated CRDs wrap long descriptions), literal blocks, and unquoting.
//!
//! Design. Each reads the lines of its scalar directly from the line table and folds them as
//! YAML does; any spacing or escape whose reading is subtle (escaped line breaks, leading empty
//! lines of a block, lines of only spaces) declines, leaving the document to the general parser.

use super::{Line, P};
use crate::yaml::resolve::resolve_plain;
use crate::yaml::{Node, Value};

impl P<'_> {
    /// A plain scalar whose first line is `pos..e` (the current line), with the lines that
    /// continue it: more indented than its collection at `col`, folded into one space each (or
    /// a line break per empty line between them), as generated CRDs wrap long descriptions.
    /// Leaves the current line on its last line. A continuation that could be read otherwise
    /// (a `- ` or `? ` first, a `: ` inside) is left to the general parser.
    pub(super) fn plain_lines(&mut self, pos: usize, e: usize, col: usize) -> Option<Node> {
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
    pub(super) fn quoted_lines(&mut self, pos: usize, col: usize) -> Option<Node> {
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
                return Some(Node::new(Value::Str(value.into()), self.loc(pos, after)));
            }
            j += 1;
        }
    }

    /// The offset of the quote `q` that closes a quoted scalar on the line `from..end`
    /// (`''` and `\"` do not close).
    pub(super) fn closing_quote(&self, from: usize, end: usize, q: u8) -> Option<usize> {
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

    /// A `|`, `|-` or `|+` literal block whose indicator is at `pos`, under a collection at `col`.
    pub(super) fn literal(&mut self, pos: usize, col: usize) -> Option<Node> {
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
        Some(Node::new(Value::Str(value.into()), self.loc(start, end)))
    }
}

/// The value of the quoted scalar `quoted` (its quotes `q` included), `None` for an escape the
/// fast path leaves to the general parser.
pub(super) fn unquote_text(quoted: &str, q: u8) -> Option<String> {
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
