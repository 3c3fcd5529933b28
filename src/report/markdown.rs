//! Markdown escaping for the step summary: every value from the repository (app and environment
//! names, messages, image references, file paths, rendered diffs) is inserted so that CommonMark
//! (and GitHub's table extension) shows it as the text it is — never as HTML, a link, emphasis,
//! a table cell boundary or the end of a code block.

/// Plain text (never at the start of a line): ASCII punctuation with an inline meaning in
/// markdown — code, emphasis, links, HTML and entities, table cells, strikethrough, GitHub's math
/// — is backslash-escaped (CommonMark allows a backslash before any ASCII punctuation); line
/// breaks become spaces.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '!' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text in a table cell: escaped like [`text`], with line breaks kept as `<br>`.
pub(crate) fn cell(s: &str) -> String {
    s.lines().map(text).collect::<Vec<_>>().join("<br>")
}

/// A code span holding `s` verbatim: fenced with more backticks than any run inside it (padded
/// with spaces when it starts or ends with one); line breaks become spaces. `in_table`: GitHub's
/// table extension splits cells at `|` even inside code spans unless it is backslash-escaped
/// (and then shows the bare `|`).
pub(crate) fn code(s: &str, in_table: bool) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let s = if in_table { s.replace('|', "\\|") } else { s };
    let longest = longest_run(&s, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') && s.ends_with(' ') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Text inside raw HTML (`<summary>…</summary>`): HTML-escaped; markdown is not interpreted
/// there.
pub(crate) fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A fenced code block holding `body` verbatim, whatever lines it contains: the fence is longer
/// than any backtick run in it.
pub(crate) fn code_block(info: &str, body: &str) -> String {
    let fence = "`".repeat((longest_run(body, '`') + 1).max(3));
    let mut out = format!("{fence}{info}\n{body}");
    if !body.is_empty() && !body.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        if c == ch {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_outlast_backticks_inside() {
        assert_eq!(code("a", false), "`a`");
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`a", false), "`` `a ``");
        assert_eq!(code("a|b", true), "`a\\|b`");
    }

    #[test]
    fn code_blocks_outlast_fences_inside() {
        let b = code_block("diff", "+ ```\n+ x\n");
        assert!(b.starts_with("````diff\n"), "{b}");
        assert!(b.ends_with("\n````\n"), "{b}");
    }

    #[test]
    fn text_escapes_markup() {
        assert_eq!(text("<b>*x*</b>"), "\\<b\\>\\*x\\*\\</b\\>");
        assert_eq!(html("<script>&"), "&lt;script&gt;&amp;");
    }
}
