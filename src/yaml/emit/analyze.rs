//! Which style go-yaml v2 gives a string: the rules of its emitter's scalar analysis.
//!
//! Design. [`choose_style`] starts from the style the value asks for (plain unless it would read
//! back as something else, a literal block when it has line breaks) and falls back as go-yaml
//! does when the text cannot be written so. The analysis of ASCII text runs a byte at a time;
//! other text a character at a time, under the same rules (a test holds the two together).

use super::Style;
use super::scalar::{is_break, is_printable};
use super::v2::{is_base60_float, resolves_as_string_v2};

/// The style go-yaml picks for a string value (or key).
pub(super) fn choose_style(s: &str, simple_key: bool) -> Style {
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

pub(super) struct Analysis {
    pub(super) multiline: bool,
    pub(super) block_plain_allowed: bool,
    pub(super) single_quoted_allowed: bool,
    pub(super) block_allowed: bool,
}

pub(super) fn analyze(s: &str) -> Analysis {
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
pub(super) fn analyze_chars(s: &str) -> Analysis {
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

/// Whether `s` prints plain exactly as it is, decided in one pass over its bytes: printable
/// ASCII without line breaks, spaces only inside, no `: ` or ` #` and no indicator first, and
/// not a word or number YAML 1.1 reads as something else. [`choose_style`] gives `Plain` for
/// every such string (the test below holds the two together); the rest go through it.
pub(super) fn plain_as_is(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if !PLAIN_FIRST[first as usize]
        || last == b' '
        || (matches!(first, b'-' | b'?') && b.get(1).is_none_or(|&c| c == b' '))
        || b.starts_with(b"---")
        || b.starts_with(b"...")
    {
        return false;
    }
    let mut colon = false;
    for (i, &c) in b.iter().enumerate() {
        if PLAIN_INSIDE[c as usize] {
            continue;
        }
        // A `:` before a space (or at the end) and a `#` after a space end a plain scalar;
        // elsewhere they are text (`image: repo:tag`, `a#b`). (`#` is never first here.)
        match c {
            b':' if b.get(i + 1).is_some_and(|&n| n != b' ') => colon = true,
            b'#' if b[i - 1] != b' ' => {}
            _ => return false,
        }
    }
    resolves_as_string_v2(s) && !(colon && is_base60_float(s))
}

/// Bytes that change nothing about how a plain scalar reads when inside it: printable ASCII
/// but `:` and `#`, which do in some places (see [`plain_as_is`]).
const PLAIN_INSIDE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0x20;
    while c < 0x7f {
        t[c] = !matches!(c as u8, b':' | b'#');
        c += 1;
    }
    t
};

/// [`PLAIN_INSIDE`] bytes that may also open a plain scalar (not a space or an indicator).
const PLAIN_FIRST: [bool; 256] = {
    let mut t = PLAIN_INSIDE;
    let indicators = b" ,[]{}&*!|>%@`'\"";
    let mut i = 0;
    while i < indicators.len() {
        t[indicators[i] as usize] = false;
        i += 1;
    }
    t
};

/// Whether text read as a plain scalar in block context is all of one scalar (no `: `, ` #`,
/// leading indicator, surrounding space or line break would make it something else).
pub(crate) fn plain_reads_whole(s: &str) -> bool {
    s.is_empty() || analyze(s).block_plain_allowed
}

/// [`analyze`] of an ASCII string by byte searches (the same rules: of the breaks only `\n` and
/// `\r` are ASCII, and the printable ASCII characters are `\n` and space to `~`): long texts
/// (scripts and JSON in ConfigMaps, descriptions) are mostly letters and spaces, which no rule
/// looks at.
pub(super) fn analyze_ascii(b: &[u8]) -> Analysis {
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
    // Control characters (tabs, `\r`) rule out every style but double quotes: found in one
    // branch-free pass. Then only `:`, `#` and line breaks, and their neighbours, matter.
    let special = b.chunks(32).any(|c| {
        c.iter()
            .fold(false, |a, &c| a | ((c < 0x20 && c != b'\n') || c == 0x7f))
    });
    let (mut line_breaks, mut break_space, mut space_break) = (false, false, false);
    if special {
        line_breaks = b.contains(&b'\n') || b.contains(&b'\r');
    } else {
        for i in memchr::memchr3_iter(b':', b'#', b'\n', b) {
            match b[i] {
                b':' if i > 0 && (i + 1 == n || ws(b[i + 1])) => block_indicators = true,
                b'#' if i > 0 && ws(b[i - 1]) => block_indicators = true,
                b'\n' => {
                    line_breaks = true;
                    space_break |= i > 0 && b[i - 1] == b' ';
                    break_space |= b.get(i + 1) == Some(&b' ');
                }
                _ => {}
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string [`plain_as_is`] accepts is one [`choose_style`] prints plain, key or value.
    #[test]
    fn plain_as_is_is_plain() {
        let alphabet = [
            " ", "a", "y", "1", "0", ".", "-", "?", ":", "#", "'", "\"", "_", "+", "e", "x", ",",
            "[", "&", "|", ">", "%", "/", "=",
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
        cases.extend(
            [
                "yes",
                "no",
                "on",
                "off",
                "true",
                "null",
                "~",
                "1:20",
                "2001-12-14",
                "0x1F",
                "1e3",
                "-.inf",
                ".5",
                "1_000",
                "0b101",
                "+1",
                "---x",
                "...x",
                "a b",
                "b a ",
                "=",
            ]
            .map(String::from),
        );
        let mut plain = 0;
        for s in &cases {
            if plain_as_is(s) {
                plain += 1;
                for key in [false, true] {
                    assert_eq!(choose_style(s, key), Style::Plain, "{s:?} (key: {key})");
                }
            }
        }
        assert!(plain > 1000, "only {plain} cases take the fast path");
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
}
