//! Flux's post-build variable substitution language (fluxcd/pkg `envsubst`, a fork of
//! drone/envsubst), read from its parser and evaluator: only the braced form `${…}` substitutes
//! (a bare `$var` is text), `$$` is one literal `$` (so `$${var}` prints `${var}`), and after the
//! name one operator may follow — defaults (`:-` `:=` `:?` `:+` `=`, all meaning "this word when
//! the value is empty"), substrings (`:off`, `:off:len`), trims (`#` `##` `%` `%%` with a glob),
//! replacements (`/` `//` `/#` `/%`), case (`,` `,,` `^` `^^`) — or `${#var}` for the length.
//! Anything else after the name (`${a.b}`, `${a-b}`, `${ a }`) is a parse error, as is an
//! unterminated `${`. Arguments are evaluated before the variable is looked up, so a nested
//! reference in a default word must resolve even when the default is not used.
//!
//! The lookup answers known, unset (an error in strict mode unless a default operator handles it)
//! or unknown (the value lives in the cluster): an unknown variable makes the whole text
//! unresolvable, and the caller keeps it as written.

/// What a variable lookup says.
pub enum Lookup<'a> {
    Set(&'a str),
    Unset,
    /// Defined by a source kustodian cannot read (a Secret in the cluster).
    Unknown,
}

/// Why a text could not be substituted.
#[derive(Debug, PartialEq, Eq)]
pub enum SubstError {
    /// The text does not parse (Flux fails the reconciliation with this message).
    Parse(&'static str),
    /// A variable without a default is not set (strict mode).
    NotSet(String),
    /// A variable's value is unknown offline.
    Unknown(String),
    /// The substituted text is no longer YAML.
    Yaml(String),
}

impl std::fmt::Display for SubstError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubstError::Parse(m) => f.write_str(m),
            SubstError::NotSet(v) => write!(f, "variable not set (strict mode): \"{v}\""),
            SubstError::Unknown(v) => {
                write!(f, "variable \"{v}\" is defined outside the repository")
            }
            SubstError::Yaml(m) => write!(f, "YAMLToJSON: {m}"),
        }
    }
}

const BAD: &str = "bad substitution";
const NO_CLOSE: &str = "missing closing brace";
const NO_NAME: &str = "unable to parse variable name";
const BAD_PARAM: &str = "unable to parse substitution within function";

/// One parsed piece of text.
#[derive(Debug)]
enum Piece {
    Text(String),
    Func {
        /// The operator (`""` for a bare `${var}`, `":-"`, `"#"`, ...).
        op: String,
        var: String,
        args: Vec<Vec<Piece>>,
    },
}

/// Substitutes `${…}` references in `s`. `Ok(None)`: nothing to substitute (no `$` at all).
/// On success, also returns the variables that were looked up and set, in order.
pub fn substitute<'v>(
    s: &str,
    lookup: &dyn Fn(&str) -> Lookup<'v>,
) -> Result<Option<(String, Vec<String>)>, SubstError> {
    if !s.contains('$') {
        return Ok(None);
    }
    let pieces = parse(s)?;
    let mut used = Vec::new();
    let out = eval(&pieces, lookup, &mut used)?;
    Ok(Some((out, used)))
}

fn parse(s: &str) -> Result<Vec<Piece>, SubstError> {
    let chars: Vec<char> = s.chars().collect();
    let mut p = Parser { c: &chars, i: 0 };
    p.any()
}

struct Parser<'a> {
    c: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }
    fn at(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }
    fn lbrack(&self) -> bool {
        self.peek() == Some('$') && self.at(1) == Some('{')
    }

    /// Top-level text: literal runs (with `$$` → `$`) and `${…}` references.
    fn any(&mut self) -> Result<Vec<Piece>, SubstError> {
        let mut out = Vec::new();
        let mut text = String::new();
        while let Some(ch) = self.peek() {
            if self.lbrack() {
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                self.i += 2;
                out.push(self.func()?);
                continue;
            }
            if ch == '$' && self.at(1) == Some('$') {
                // The first `$` is dropped; the second is text, whatever follows it.
                text.push('$');
                self.i += 2;
                continue;
            }
            text.push(ch);
            self.i += 1;
        }
        if !text.is_empty() {
            out.push(Piece::Text(text));
        }
        Ok(out)
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.i += 1;
        }
        self.c[start..self.i].iter().collect()
    }

    fn close(&mut self, err: &'static str) -> Result<(), SubstError> {
        if self.peek() == Some('}') {
            self.i += 1;
            Ok(())
        } else {
            Err(SubstError::Parse(err))
        }
    }

    /// After `${`.
    fn func(&mut self) -> Result<Piece, SubstError> {
        if self.peek() == Some('#') {
            self.i += 1;
            let var = self.ident();
            if var.is_empty() {
                return Err(SubstError::Parse(BAD));
            }
            self.close(BAD)?;
            return Ok(Piece::Func {
                op: "#".into(),
                var,
                args: vec![],
            });
        }
        let var = self.ident();
        if var.is_empty() {
            return Err(SubstError::Parse(NO_NAME));
        }
        let func = |op: &str, args| Piece::Func {
            op: op.into(),
            var: var.clone(),
            args,
        };
        match self.peek() {
            Some(':') if matches!(self.at(1), Some('=' | '-' | '?' | '+')) => {
                let op: String = self.c[self.i..self.i + 2].iter().collect();
                self.i += 2;
                Ok(func(&op, self.default_words()?))
            }
            Some('=') => {
                self.i += 1;
                Ok(func("=", self.default_words()?))
            }
            Some(':') => {
                self.i += 1;
                let mut args = vec![self.param(|c| c != ':' && c != '}', false)?];
                match self.peek() {
                    Some('}') => {
                        self.i += 1;
                        return Ok(func(":", args));
                    }
                    Some(':') => self.i += 1,
                    _ => return Err(SubstError::Parse(BAD)),
                }
                args.push(self.param(|c| c != '}', false)?);
                self.close(BAD)?;
                Ok(func(":", args))
            }
            Some(',' | '^') => {
                // Up to two of `,` and `^`; an odd mix like `,^` leaves the value alone.
                let n = if matches!(self.at(1), Some(',' | '^')) {
                    2
                } else {
                    1
                };
                let op: String = self.c[self.i..self.i + n].iter().collect();
                self.i += n;
                self.close(BAD)?;
                Ok(func(&op, vec![]))
            }
            Some('/') => {
                let op = match self.at(1) {
                    Some(c @ ('/' | '#' | '%')) => format!("/{c}"),
                    _ => "/".to_string(),
                };
                self.i += op.len();
                let mut args = vec![self.param(|c| c != '/', true)?];
                if self.peek() != Some('/') {
                    return Err(SubstError::Parse(BAD));
                }
                self.i += 1;
                if self.peek() != Some('}') {
                    args.push(self.param(|c| c != '}', true)?);
                }
                self.close(BAD)?;
                Ok(func(&op, args))
            }
            Some(c @ ('#' | '%')) => {
                let op = if self.at(1) == Some(c) {
                    format!("{c}{c}")
                } else {
                    c.to_string()
                };
                self.i += op.len();
                let args = vec![self.param(|c| c != '}', false)?];
                self.close(BAD)?;
                Ok(func(&op, args))
            }
            Some('}') => {
                self.i += 1;
                Ok(func("", vec![]))
            }
            _ => Err(SubstError::Parse(NO_CLOSE)),
        }
    }

    /// The word of a default operator, up to the closing brace: text and nested references.
    fn default_words(&mut self) -> Result<Vec<Vec<Piece>>, SubstError> {
        let mut args = Vec::new();
        loop {
            if self.peek() == Some('}') {
                self.i += 1;
                return Ok(args);
            }
            args.push(self.param(|c| c != '}', false)?);
        }
    }

    /// One argument: a nested `${…}`, or text accepted by `accept` up to a `${`. With
    /// `escapes`, `$$`, `\/` and `\\` drop their first character.
    fn param(&mut self, accept: fn(char) -> bool, escapes: bool) -> Result<Vec<Piece>, SubstError> {
        if self.lbrack() {
            self.i += 2;
            return Ok(vec![self.func()?]);
        }
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.lbrack() {
                break;
            }
            let escaped = escapes
                && ((c == '$' && self.at(1) == Some('$'))
                    || (c == '\\' && matches!(self.at(1), Some('/' | '\\'))));
            if escaped {
                text.push(self.at(1).unwrap_or(c));
                self.i += 2;
                continue;
            }
            if !accept(c) {
                break;
            }
            text.push(c);
            self.i += 1;
        }
        if text.is_empty() {
            return Err(SubstError::Parse(BAD_PARAM));
        }
        Ok(vec![Piece::Text(text)])
    }
}

fn eval<'v>(
    pieces: &[Piece],
    lookup: &dyn Fn(&str) -> Lookup<'v>,
    used: &mut Vec<String>,
) -> Result<String, SubstError> {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Func { op, var, args } => {
                let args = args
                    .iter()
                    .map(|a| eval(a, lookup, used))
                    .collect::<Result<Vec<_>, _>>()?;
                let value = match lookup(var) {
                    Lookup::Set(v) => {
                        used.push(var.clone());
                        Some(v.to_string())
                    }
                    Lookup::Unset => None,
                    Lookup::Unknown => return Err(SubstError::Unknown(var.clone())),
                };
                let defaulting = matches!(
                    op.as_str(),
                    "-" | "+" | "=" | "?" | ":-" | ":+" | ":=" | ":?"
                );
                let v = match value {
                    Some(v) => v,
                    None if defaulting => String::new(),
                    None => return Err(SubstError::NotSet(var.clone())),
                };
                out.push_str(&apply(op, &v, &args));
            }
        }
    }
    Ok(out)
}

/// The operator's function (envsubst's `lookupFunc`), on byte strings as Go's are.
fn apply(op: &str, s: &str, args: &[String]) -> String {
    let arg = |i: usize| args.get(i).map(String::as_str);
    match op {
        "," => first_char(s, |c| c.to_lowercase().collect()),
        ",," => s.to_lowercase(),
        "^" => first_char(s, |c| c.to_uppercase().collect()),
        "^^" => s.to_uppercase(),
        "#" if args.is_empty() => s.len().to_string(),
        "#" => trim_prefix(s, arg(0).unwrap_or(""), false),
        "##" => trim_prefix(s, arg(0).unwrap_or(""), true),
        "%" => trim_suffix(s, arg(0).unwrap_or(""), false),
        "%%" => trim_suffix(s, arg(0).unwrap_or(""), true),
        ":" => substring(s, args),
        "/#" => match (arg(0), arg(1)) {
            (Some(p), Some(r)) if s.starts_with(p) => format!("{r}{}", &s[p.len()..]),
            _ => s.to_string(),
        },
        "/%" => match (arg(0), arg(1)) {
            (Some(p), Some(r)) if s.ends_with(p) => format!("{}{r}", &s[..s.len() - p.len()]),
            _ => s.to_string(),
        },
        "/" => match arg(0) {
            Some(p) => s.replacen(p, arg(1).unwrap_or(""), 1),
            None => s.to_string(),
        },
        "//" => match arg(0) {
            Some(p) => s.replace(p, arg(1).unwrap_or("")),
            None => s.to_string(),
        },
        // "" and every default operator: the value, else the word when the value is empty.
        _ if s.is_empty() && !args.is_empty() => args.concat(),
        _ => s.to_string(),
    }
}

fn first_char(s: &str, f: impl Fn(char) -> String) -> String {
    let mut it = s.chars();
    match it.next() {
        Some(c) => f(c) + it.as_str(),
        None => String::new(),
    }
}

/// `${v:off}` / `${v:off:len}`, as bash (an unparsable number leaves the value alone).
fn substring(s: &str, args: &[String]) -> String {
    let Some(Ok(mut pos)) = args.first().map(|a| a.parse::<i64>()) else {
        return s.to_string();
    };
    let n = s.len() as i64;
    if pos < 0 {
        pos = (n + pos).max(0);
    }
    let from = |p: i64| s.get(p as usize..).unwrap_or("").to_string();
    let Some(len) = args.get(1) else {
        return if pos < n { from(pos) } else { String::new() };
    };
    let Ok(len) = len.parse::<i64>() else {
        return s.to_string();
    };
    if pos + len >= n {
        return if pos < n { from(pos) } else { String::new() };
    }
    s.get(pos as usize..(pos + len) as usize)
        .unwrap_or("")
        .to_string()
}

/// Removes the shortest (or longest) prefix matching the glob.
fn trim_prefix(s: &str, pat: &str, longest: bool) -> String {
    let mut cut: Option<usize> = None;
    // Candidate prefixes from the longest down, as envsubst tries them.
    for i in 0..s.len() {
        let end = s.len() - i;
        if !s.is_char_boundary(end) {
            continue;
        }
        match glob_match(pat, &s[..end]) {
            None => return s.to_string(),
            Some(true) if longest => return s[end..].to_string(),
            Some(true) => cut = Some(end),
            Some(false) => {}
        }
    }
    match cut {
        Some(end) if end > 0 => s[end..].to_string(),
        _ => s.to_string(),
    }
}

/// Removes the shortest (or longest) suffix matching the glob (on reversed strings, as
/// envsubst does).
fn trim_suffix(s: &str, pat: &str, longest: bool) -> String {
    let rs: String = s.chars().rev().collect();
    let rp: String = pat.chars().rev().collect();
    trim_prefix(&rs, &rp, longest).chars().rev().collect()
}

/// envsubst's fork of Go `path.Match`: `*` and `?` also match `/`, `[…]` classes (`^`
/// negates), `\` escapes; `None` for a malformed pattern.
pub(super) fn glob_match(pat: &str, name: &str) -> Option<bool> {
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn go(p: &[char], n: &[char]) -> Option<bool> {
        let Some((&c, rest)) = p.split_first() else {
            return Some(n.is_empty());
        };
        match c {
            '*' => {
                for k in 0..=n.len() {
                    if go(rest, &n[k..])? {
                        return Some(true);
                    }
                }
                Some(false)
            }
            '?' => match n.split_first() {
                Some((_, nr)) => go(rest, nr),
                None => Some(false),
            },
            '[' => {
                let close = rest.iter().position(|&x| x == ']')?;
                let (class, after) = (&rest[..close], &rest[close + 1..]);
                let (negate, class) = match class.first() {
                    Some('^') => (true, &class[1..]),
                    _ => (false, class),
                };
                let Some((&x, nr)) = n.split_first() else {
                    return Some(false);
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= x && x <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == x;
                        i += 1;
                    }
                }
                if hit == negate {
                    Some(false)
                } else {
                    go(after, nr)
                }
            }
            '\\' => {
                let (&e, rest) = rest.split_first()?;
                match n.split_first() {
                    Some((&x, nr)) if x == e => go(rest, nr),
                    _ => Some(false),
                }
            }
            _ => match n.split_first() {
                Some((&x, nr)) if x == c => go(rest, nr),
                _ => Some(false),
            },
        }
    }
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(s: &str) -> Result<String, SubstError> {
        let look = |v: &str| match v {
            "NAME" => Lookup::Set("podinfo"),
            "EMPTY" => Lookup::Set(""),
            "PATH" => Lookup::Set("a/b/c.tar.gz"),
            "CLUSTER_SECRET" => Lookup::Unknown,
            _ => Lookup::Unset,
        };
        substitute(s, &look).map(|r| r.map_or_else(|| s.to_string(), |(s, _)| s))
    }

    #[test]
    fn braces_substitute_and_dollars_escape() {
        assert_eq!(sub("app-${NAME}").unwrap(), "app-podinfo");
        assert_eq!(sub("$NAME and $(NAME)").unwrap(), "$NAME and $(NAME)");
        assert_eq!(sub("$${NAME}").unwrap(), "${NAME}");
        assert_eq!(sub("cost: $$5 $$$").unwrap(), "cost: $5 $$");
        assert_eq!(sub("trailing $").unwrap(), "trailing $");
    }

    #[test]
    fn defaults_use_the_word_when_empty_or_unset() {
        assert_eq!(sub("${MISSING:=fallback}").unwrap(), "fallback");
        assert_eq!(sub("${MISSING:-a b}").unwrap(), "a b");
        assert_eq!(sub("${EMPTY=x}").unwrap(), "x");
        assert_eq!(sub("${NAME:-x}").unwrap(), "podinfo");
        assert_eq!(sub("${MISSING:-${NAME}-x}").unwrap(), "podinfo-x");
        assert_eq!(sub("${MISSING:+x}").unwrap(), "x");
        assert_eq!(sub("${MISSING:-}").unwrap(), "");
    }

    #[test]
    fn strict_mode_refuses_unset_variables_even_in_unused_defaults() {
        assert_eq!(sub("${MISSING}"), Err(SubstError::NotSet("MISSING".into())));
        assert_eq!(
            sub("${#MISSING}"),
            Err(SubstError::NotSet("MISSING".into()))
        );
        assert_eq!(
            sub("${NAME:-${MISSING}}"),
            Err(SubstError::NotSet("MISSING".into()))
        );
        assert_eq!(
            sub("${CLUSTER_SECRET}"),
            Err(SubstError::Unknown("CLUSTER_SECRET".into()))
        );
    }

    #[test]
    fn anything_else_after_the_name_is_a_parse_error() {
        assert_eq!(sub("${foo.bar}"), Err(SubstError::Parse(NO_CLOSE)));
        assert_eq!(sub("${foo-bar}"), Err(SubstError::Parse(NO_CLOSE)));
        assert_eq!(sub("${ foo }"), Err(SubstError::Parse(NO_NAME)));
        assert_eq!(sub("${}"), Err(SubstError::Parse(NO_NAME)));
        assert_eq!(sub("${NAME"), Err(SubstError::Parse(NO_CLOSE)));
        assert_eq!(sub("${NAME:-x"), Err(SubstError::Parse(BAD_PARAM)));
        assert_eq!(sub("${NAME:}"), Err(SubstError::Parse(BAD_PARAM)));
    }

    #[test]
    fn string_operators() {
        assert_eq!(sub("${#NAME}").unwrap(), "7");
        assert_eq!(sub("${NAME^^}").unwrap(), "PODINFO");
        assert_eq!(sub("${NAME^}").unwrap(), "Podinfo");
        assert_eq!(sub("${NAME:3}").unwrap(), "info");
        assert_eq!(sub("${NAME:0:3}").unwrap(), "pod");
        assert_eq!(sub("${NAME:-2}").unwrap(), "podinfo");
        assert_eq!(sub("${NAME/o/0}").unwrap(), "p0dinfo");
        assert_eq!(sub("${NAME//o/0}").unwrap(), "p0dinf0");
        assert_eq!(sub("${NAME/#pod/svc}").unwrap(), "svcinfo");
        assert_eq!(sub("${NAME/%info/cast}").unwrap(), "podcast");
        assert_eq!(sub("${PATH#*/}").unwrap(), "b/c.tar.gz");
        assert_eq!(sub("${PATH##*/}").unwrap(), "c.tar.gz");
        assert_eq!(sub("${PATH%.*}").unwrap(), "a/b/c.tar");
        assert_eq!(sub("${PATH%%.*}").unwrap(), "a/b/c");
        assert_eq!(sub("${PATH/\\//-}").unwrap(), "a-b/c.tar.gz");
    }
}
