//! Name patterns in kustomize selectors, compiled lazily.
//!
//! Kustomize compiles target names, namespaces and image names into Go regular expressions
//! (`^(?:name)$`; for `images:`, the name unescaped followed by an optional tag and digest).
//! Almost every pattern in a real repository is a plain name, and compiling a regex costs more
//! than rendering a small overlay, so plain names are compared directly — with exactly the
//! semantics the regex would have had (an unescaped `.` in an image name still matches any
//! character, as it does in kustomize) — and only real patterns are compiled.

use regex::Regex;

/// Characters with a meaning outside a character class in Go's and Rust's regex syntax.
const META: &[char] = &[
    '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$',
];

/// An anchored pattern: the whole string must match.
#[derive(Clone, Debug)]
pub(crate) enum Pattern {
    Literal(String),
    Regex(Regex),
}

impl Pattern {
    /// `^(?:s)$`, as kustomize's selectors compile it.
    pub(crate) fn anchored(s: &str) -> Result<Pattern, regex::Error> {
        if s.contains(META) {
            Regex::new(&format!("^(?:{s})$")).map(Pattern::Regex)
        } else {
            Ok(Pattern::Literal(s.to_string()))
        }
    }

    /// A pattern matching exactly `s`.
    pub(crate) fn literal(s: &str) -> Pattern {
        Pattern::Literal(s.to_string())
    }

    pub(crate) fn is_match(&self, text: &str) -> bool {
        match self {
            Pattern::Literal(s) => s == text,
            Pattern::Regex(r) => r.is_match(text),
        }
    }
}

/// The matcher of an `images:` entry's `name`: kustomize's
/// `^NAME(:[a-zA-Z0-9_.{}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{}-]*)?$`
/// with NAME inserted unescaped.
#[derive(Clone, Debug)]
pub(crate) enum ImagePattern {
    /// A name whose only metacharacter is `.` (matching any character but a newline).
    Simple(String),
    Regex(Regex),
    /// The name is not a valid regex: kustomize matches nothing.
    Never,
}

impl ImagePattern {
    pub(crate) fn new(name: &str) -> ImagePattern {
        if name.chars().any(|c| c != '.' && META.contains(&c)) {
            match Regex::new(&format!(
                "^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{{}}-]*)?$"
            )) {
                Ok(r) => ImagePattern::Regex(r),
                Err(_) => ImagePattern::Never,
            }
        } else {
            ImagePattern::Simple(name.to_string())
        }
    }

    pub(crate) fn is_match(&self, image: &str) -> bool {
        match self {
            ImagePattern::Never => false,
            ImagePattern::Regex(r) => r.is_match(image),
            ImagePattern::Simple(name) => {
                let mut rest = image.chars();
                for p in name.chars() {
                    match rest.next() {
                        Some(c) if c == p || (p == '.' && c != '\n') => {}
                        _ => return false,
                    }
                }
                tag_and_digest(rest.as_str())
            }
        }
    }
}

fn tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '{' | '}' | '-')
}

/// `(:[a-zA-Z0-9_.{}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{}-]*)?` and the end.
/// Every choice is forced by the next character, so one left-to-right pass decides it.
fn tag_and_digest(s: &str) -> bool {
    let mut s = s;
    if let Some(t) = s.strip_prefix(':') {
        s = t.trim_start_matches(tag_char);
    }
    if s.is_empty() {
        return true;
    }
    let Some(d) = s.strip_prefix('@') else {
        return false;
    };
    let Some((algorithm, hex)) = d.split_once(':') else {
        return false;
    };
    let alnum_runs = algorithm
        .split(['.', '+', '_', '-'])
        .all(|run| !run.is_empty() && run.chars().all(|c| c.is_ascii_alphanumeric()));
    alnum_runs && hex.chars().all(tag_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The regex kustomize compiles, to compare the fast path against.
    fn reference(name: &str) -> Regex {
        Regex::new(&format!(
            "^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{{}}-]*)?$"
        ))
        .unwrap()
    }

    #[test]
    fn image_fast_path_agrees_with_the_regex() {
        let names = ["nginx", "registry.example.com/team/app", "my-app", "a.b"];
        let images = [
            "nginx",
            "nginx:1.25",
            "nginx:",
            "nginx@sha256:abc",
            "nginx:1.25@sha256:0123abcd",
            "nginx@sha256",
            "nginx@:abc",
            "nginx@sha256:ab:c",
            "nginx@sha+256.x_y-z:ab",
            "nginx@sha..256:ab",
            "nginx/sidecar",
            "nginxx",
            "ngin",
            "registry.example.com/team/app:1",
            "registryXexampleYcom/team/app@sha256:00",
            "my-app:v{1}",
            "my-app:v 1",
            "a\nb",
            "aXb:1",
            "a.b.c",
        ];
        for n in names {
            let fast = ImagePattern::new(n);
            assert!(matches!(fast, ImagePattern::Simple(_)));
            let slow = reference(n);
            for i in images {
                assert_eq!(fast.is_match(i), slow.is_match(i), "name {n:?} image {i:?}");
            }
        }
    }

    #[test]
    fn real_patterns_are_compiled() {
        assert!(matches!(
            ImagePattern::new("ngin[x]"),
            ImagePattern::Regex(_)
        ));
        assert!(ImagePattern::new("ngin[x]").is_match("nginx:1"));
        assert!(matches!(ImagePattern::new("bad("), ImagePattern::Never));
        let p = Pattern::anchored("app-.*").unwrap();
        assert!(p.is_match("app-web") && !p.is_match("my-app-web"));
        let l = Pattern::anchored("app-1").unwrap();
        assert!(matches!(l, Pattern::Literal(_)));
        assert!(l.is_match("app-1") && !l.is_match("app-10"));
        assert!(Pattern::anchored("a(").is_err());
    }
}
