//! Label selector syntax, checked as Kubernetes parses it (`a=b,c!=d,e in (x,y),f notin (z),g,!h`,
//! `n>1`), so that a patch or replacement target kustomize refuses is refused here too — a
//! selector read loosely would select objects kustomize never patches.
//!
//! Only the syntax is checked here (tokens, operators, the shape of keys and values); matching
//! stays with the selector's users.

/// The selector's first syntax error, worded as kustomize words it.
pub(crate) fn validate(sel: &str) -> Result<(), String> {
    let toks = lex(sel);
    let mut p = Parser { toks: &toks, i: 0 };
    match p.peek() {
        Tok::End => return Ok(()),
        Tok::Ident(_) | Tok::Not => {}
        t => {
            return Err(format!(
                "found '{}', expected: !, identifier, or 'end of string'",
                t.text()
            ));
        }
    }
    loop {
        p.requirement()
            .map_err(|e| format!("unable to parse requirement: {e}"))?;
        match p.next() {
            Tok::End => return Ok(()),
            Tok::Comma => match p.peek() {
                Tok::Ident(_) | Tok::Not => {}
                t => {
                    return Err(format!(
                        "found '{}', expected: identifier after ','",
                        t.text()
                    ));
                }
            },
            t => {
                return Err(format!(
                    "found '{}', expected: ',' or 'end of string'",
                    t.text()
                ));
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok<'a> {
    Ident(&'a str),
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
    End,
}

impl Tok<'_> {
    fn text(&self) -> &str {
        match self {
            Tok::Ident(s) => s,
            Tok::Not => "!",
            Tok::Eq => "=",
            Tok::DoubleEq => "==",
            Tok::NotEq => "!=",
            Tok::Gt => ">",
            Tok::Lt => "<",
            Tok::Open => "(",
            Tok::Close => ")",
            Tok::Comma => ",",
            Tok::End => "",
        }
    }
}

/// Whitespace separates; `! = ( ) , < >` are symbols (`==`, `!=` two-character ones); anything
/// else runs into an identifier.
fn lex(s: &str) -> Vec<Tok<'_>> {
    let special = |c: char| matches!(c, '!' | '=' | '(' | ')' | ',' | '<' | '>');
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let two = b.get(i + 1) == Some(&b'=');
        let (tok, len) = match c {
            '!' if two => (Tok::NotEq, 2),
            '!' => (Tok::Not, 1),
            '=' if two => (Tok::DoubleEq, 2),
            '=' => (Tok::Eq, 1),
            '(' => (Tok::Open, 1),
            ')' => (Tok::Close, 1),
            ',' => (Tok::Comma, 1),
            '<' => (Tok::Lt, 1),
            '>' => (Tok::Gt, 1),
            _ => {
                let len = s[i..]
                    .find(|c: char| c.is_whitespace() || special(c))
                    .unwrap_or(s.len() - i);
                (Tok::Ident(&s[i..i + len]), len)
            }
        };
        out.push(tok);
        i += len;
    }
    out
}

struct Parser<'t, 'a> {
    toks: &'t [Tok<'a>],
    i: usize,
}

impl<'a> Parser<'_, 'a> {
    fn peek(&self) -> Tok<'a> {
        self.toks.get(self.i).cloned().unwrap_or(Tok::End)
    }

    fn next(&mut self) -> Tok<'a> {
        let t = self.peek();
        self.i += 1;
        t
    }

    fn requirement(&mut self) -> Result<(), String> {
        let negated = self.peek() == Tok::Not;
        if negated {
            self.i += 1;
        }
        let key = match self.next() {
            Tok::Ident(k) => k,
            t => return Err(format!("found '{}', expected: identifier", t.text())),
        };
        check_key(key)?;
        if negated || matches!(self.peek(), Tok::End | Tok::Comma) {
            return Ok(());
        }
        match self.next() {
            Tok::Ident("in" | "notin") => self.set(key),
            Tok::Eq | Tok::DoubleEq | Tok::NotEq => match self.peek() {
                Tok::End | Tok::Comma => Ok(()),
                Tok::Ident(v) => {
                    self.i += 1;
                    check_value(key, v)
                }
                t => Err(format!("found '{}', expected: identifier", t.text())),
            },
            Tok::Gt | Tok::Lt => match self.next() {
                Tok::Ident(v) if v.parse::<i64>().is_ok() => Ok(()),
                _ => Err("for 'Gt', 'Lt' operators, the value must be an integer".into()),
            },
            t => Err(format!(
                "found '{}', expected: '=', '!=', '==', 'in', notin'",
                t.text()
            )),
        }
    }

    /// `( v, v, ... )`, empty values and an empty set allowed.
    fn set(&mut self, key: &str) -> Result<(), String> {
        match self.next() {
            Tok::Open => {}
            t => return Err(format!("found '{}', expected: '('", t.text())),
        }
        loop {
            match self.next() {
                Tok::Close => return Ok(()),
                Tok::Comma => {}
                Tok::Ident(v) => {
                    check_value(key, v)?;
                    match self.next() {
                        Tok::Comma => {}
                        Tok::Close => return Ok(()),
                        t => return Err(format!("found '{}', expected: ',' or ')'", t.text())),
                    }
                }
                t => return Err(format!("found '{}', expected: ',' or ')'", t.text())),
            }
        }
    }
}

/// A name part: 1-63 characters, alphanumerics with `-`, `_`, `.` inside.
fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A label key: `name` or `prefix/name`, the prefix a DNS subdomain.
fn check_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
    });
    if prefix_ok && is_name(name) {
        Ok(())
    } else {
        Err(format!(
            "invalid label key \"{k}\": a qualified name must consist of alphanumeric characters, \
             '-', '_' or '.', and must start and end with an alphanumeric character, with an \
             optional DNS subdomain prefix and '/'"
        ))
    }
}

fn check_value(key: &str, v: &str) -> Result<(), String> {
    if v.is_empty() || is_name(v) {
        Ok(())
    } else {
        Err(format!(
            "invalid label value: \"{v}\": at key: \"{key}\": a valid label must be an empty \
             string or consist of alphanumeric characters, '-', '_' or '.', and must start and \
             end with an alphanumeric character"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::validate;

    /// Each case checked against kustomize (kustomize-ref build) with the selector in a patch
    /// target.
    #[test]
    fn accepts_and_refuses_what_kustomize_does() {
        for ok in [
            "",
            " ",
            "a=",
            "a in ()",
            "a==b",
            "a!=",
            "!a",
            "a>1",
            "x.io/B=c",
            "a in (b,)",
            "a notin (b),c",
            "a=b,c!=d,e in (x,y),f notin (z),g,!h",
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok:?}");
        }
        for (bad, says) in [
            ("a=b,", "expected: identifier after ','"),
            ("a b", "expected: '=', '!=', '==', 'in', notin'"),
            ("a>x", "must be an integer"),
            ("a/b/c=d", "invalid label key \"a/b/c\""),
            ("a=b c", "expected: ',' or 'end of string'"),
            ("a in (b", "found '', expected: ',' or ')'"),
            (",a", "expected: !, identifier, or 'end of string'"),
            ("a=b,,c", "found ',', expected: identifier after ','"),
            ("-a=b", "invalid label key \"-a\""),
            ("a=-b", "invalid label value: \"-b\""),
        ] {
            let e = validate(bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }
}
