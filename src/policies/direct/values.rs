//! The values of direct evaluation and what the subset does with them: equality, order,
//! arithmetic, membership, indexes, sizes, Kubernetes quantities and regular expressions — each
//! exactly as the interpreter and its libraries do for the types it accepts, and `None` (give up)
//! for every other combination.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::Func;
use crate::yaml::{Node, Value as Y};

/// A value during direct evaluation.
#[derive(Clone, Debug)]
pub enum V<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    /// A map or a list of an input, unconverted.
    Node(&'a Node),
    /// A Kubernetes quantity, `mantissa × 10^scale`, as the Kubernetes library keeps it.
    Quantity(i128, i32),
}

impl<'a> V<'a> {
    /// A node as the interpreter sees it (`cel::value_of`): scalars as scalars, the rest as is.
    pub fn of(n: &'a Node) -> V<'a> {
        match &n.value {
            Y::Null => V::Null,
            Y::Bool(b) => V::Bool(*b),
            Y::Int(i) => V::Int(*i),
            Y::Float(f) => V::Float(*f),
            Y::Str(s) => V::Str(Cow::Borrowed(s)),
            Y::Seq(_) | Y::Map(_) => V::Node(n),
        }
    }
}

pub(super) fn arithmetic<'a>(f: Func, l: V<'a>, r: V<'a>) -> Option<V<'a>> {
    match (l, r) {
        (V::Int(x), V::Int(y)) => match f {
            Func::Add => x.checked_add(y),
            Func::Sub => x.checked_sub(y),
            Func::Mul => x.checked_mul(y),
            Func::Div => x.checked_div(y),
            Func::Mod => x.checked_rem(y),
            _ => None,
        }
        .map(V::Int),
        (V::UInt(x), V::UInt(y)) => match f {
            Func::Add => x.checked_add(y),
            Func::Sub => x.checked_sub(y),
            Func::Mul => x.checked_mul(y),
            Func::Div => x.checked_div(y),
            Func::Mod => x.checked_rem(y),
            _ => None,
        }
        .map(V::UInt),
        (V::Str(x), V::Str(y)) if f == Func::Add => {
            let mut joined = x.into_owned();
            joined.push_str(&y);
            Some(V::Str(Cow::Owned(joined)))
        }
        _ => None,
    }
}

/// `==` as the interpreter has it for the types both sides share; other mixes are its to
/// decide (its numeric types compare across, its maps and lists deeply).
pub(super) fn equal(l: &V, r: &V) -> Option<bool> {
    Some(match (l, r) {
        (V::Null, V::Null) => true,
        // Nothing else equals null.
        (V::Null, _) | (_, V::Null) => false,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::UInt(x), V::UInt(y)) => x == y,
        (V::Float(x), V::Float(y)) => x == y,
        (V::Str(x), V::Str(y)) => x == y,
        _ => return None,
    })
}

pub(super) fn compare(l: &V, r: &V) -> Option<Ordering> {
    match (l, r) {
        (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
        (V::UInt(x), V::UInt(y)) => Some(x.cmp(y)),
        (V::Float(x), V::Float(y)) => x.partial_cmp(y),
        (V::Str(x), V::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        _ => None,
    }
}

/// `needle in haystack`: a key of a map (the converted maps' keys are strings), an item of a
/// list.
pub(super) fn contains(haystack: &V, needle: &V) -> Option<bool> {
    let V::Node(n) = haystack else {
        return None;
    };
    match (&n.value, needle) {
        (Y::Map(m), V::Str(k)) => Some(m.contains_key(k)),
        (Y::Seq(items), _) => {
            for i in items {
                if equal(&V::of(i), needle)? {
                    return Some(true);
                }
            }
            Some(false)
        }
        _ => None,
    }
}

pub(super) fn index<'a>(l: V<'a>, r: &V) -> Option<V<'a>> {
    let V::Node(n) = l else {
        return None;
    };
    match (&n.value, r) {
        (Y::Map(m), V::Str(k)) => m.get(k).map(V::of),
        (Y::Seq(items), V::Int(i)) => usize::try_from(*i)
            .ok()
            .and_then(|i| items.get(i))
            .map(V::of),
        _ => None,
    }
}

/// `size`: bytes of a string (as the interpreter counts), entries of a map or list.
pub(super) fn size<'a>(v: &V) -> Option<V<'a>> {
    let n = match v {
        V::Str(s) => s.len(),
        V::Node(n) => match &n.value {
            Y::Map(m) => m.entries.len(),
            Y::Seq(items) => items.len(),
            _ => return None,
        },
        _ => return None,
    };
    i64::try_from(n).ok().map(V::Int)
}

/// A quantity in the plain form manifests use (`512Mi`, `1.5`, `250m`) as `mantissa × 10^scale`;
/// signs, exponents, spaces and long mantissas are left to the interpreter's library.
pub(super) fn quantity(s: &str) -> Option<(i128, i32)> {
    let end = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(end);
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if int.is_empty() || frac.contains('.') || number.ends_with('.') || int.len() + frac.len() > 18
    {
        return None;
    }
    let mantissa = int
        .bytes()
        .chain(frac.bytes())
        .fold(0i128, |m, d| m * 10 + i128::from(d - b'0'));
    let places = frac.len() as i32;
    let (scale, binary) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => return None,
    };
    Some((mantissa << binary, scale - places))
}

/// Compares two quantities exactly, as the Kubernetes library does (`None` where the common
/// scale would overflow).
pub(super) fn quantity_order(a: (i128, i32), b: (i128, i32)) -> Option<Ordering> {
    let scale = a.1.min(b.1);
    let at =
        |(m, e): (i128, i32)| m.checked_mul(10i128.checked_pow(u32::try_from(e - scale).ok()?)?);
    Some(at(a)?.cmp(&at(b)?))
}

/// Whether `text` matches `pattern`, with each thread's compiled patterns kept (patterns are
/// literals in practice, so a few per thread); an invalid pattern's error in the interpreter's
/// words.
pub fn regex_match(text: &str, pattern: &str) -> Result<bool, String> {
    thread_local! {
        static COMPILED: std::cell::RefCell<std::collections::HashMap<String, regex::Regex>> = Default::default();
    }
    COMPILED.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(re) = c.get(pattern) {
            return Ok(re.is_match(text));
        }
        let re = regex::Regex::new(pattern)
            .map_err(|e| format!("'{pattern}' not a valid regex:\n{e}"))?;
        let hit = re.is_match(text);
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(pattern.to_string(), re);
        Ok(hit)
    })
}
