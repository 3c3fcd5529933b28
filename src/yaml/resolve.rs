//! Scalar resolution, the way kustomize sees scalars.
//!
//! kustomize reads YAML with go-yaml v3 and converts every resource to JSON and back before printing,
//! so what matters is the Go value each plain scalar decodes to. Observed with the reference
//! kustomize (see `scripts/regen-goldens`): `0755` and `0o755` are the int 493, `0x1F` is 31,
//! `1_000` is 1000, `+1` is 1, `1e3` and `1.` are floats that print as integers, `True`/`TRUE` are
//! booleans but `yes`, `on`, `y` and `tRUE` are strings, `~`/`Null`/empty are null, `12e` is a string.
//! Quoted and block scalars are always strings; an explicit `!!str`/`!!int`/... tag wins.

use super::Value;

/// Whether a plain scalar can be a number (or a timestamp): its first byte is one a number
/// starts with. Everything else resolves to itself, a boolean or null.
pub(crate) fn starts_like_number(s: &str) -> bool {
    s.bytes()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.'))
}

/// Resolves a plain (unquoted) scalar.
pub(crate) fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if !starts_like_number(s) {
        return Value::Str(s.into());
    }
    if let Some(i) = parse_int(s) {
        return Value::Int(i);
    }
    if let Some(f) = parse_float(s).or_else(|| special_float(s)) {
        return Value::Float(f);
    }
    if let Some(t) = timestamp(s) {
        return Value::Str(t.into());
    }
    Value::Str(s.into())
}

/// `.inf`, `-.Inf`, `.NaN`, ...: floats to go-yaml (kustomize then fails to print them as JSON).
fn special_float(s: &str) -> Option<f64> {
    let (sign, body) = match s.as_bytes().first()? {
        b'-' => (-1.0, &s[1..]),
        b'+' => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    match body {
        ".inf" | ".Inf" | ".INF" => Some(sign * f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" if sign > 0.0 && !s.starts_with('+') => Some(f64::NAN),
        _ => None,
    }
}

/// A plain scalar go-yaml reads as a timestamp (its formats: `2006-1-2`, `2006-1-2T15:4:5.999Z07:00`
/// with `T` or `t`, `2006-1-2 15:4:5.999`), as kustomize prints it after its round trip through
/// JSON: RFC 3339 with nanoseconds trimmed, UTC written `Z` (`2001-12-14` →
/// `2001-12-14T00:00:00Z`). `None` for anything else, including impossible dates.
pub(crate) fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let mut p = Cursor { b, i: 5 };
    let year: u32 = s[..4].parse().ok()?;
    let month = p.num(1, 2)?;
    p.eat(b'-')?;
    let day = p.num(1, 2)?;
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day < 1 || day > days[month as usize - 1] {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if p.done() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let sep = p.next()?;
    if !matches!(sep, b'T' | b't' | b' ') {
        return None;
    }
    let hour = p.num(1, 2)?;
    p.eat(b':')?;
    let min = p.num(1, 2)?;
    p.eat(b':')?;
    let sec = p.num(1, 2)?;
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut frac = String::new();
    if p.peek() == Some(b'.') {
        p.i += 1;
        let start = p.i;
        while p.peek().is_some_and(|c| c.is_ascii_digit()) {
            p.i += 1;
        }
        if p.i == start || p.i - start > 9 {
            return None;
        }
        frac = s[start..p.i].trim_end_matches('0').to_string();
    }
    let zone = if sep == b' ' {
        // The space-separated form has no zone: UTC.
        if !p.done() {
            return None;
        }
        "Z".to_string()
    } else {
        match p.next()? {
            b'Z' if p.done() => "Z".to_string(),
            sign @ (b'+' | b'-') => {
                let zh = p.num(2, 2)?;
                p.eat(b':')?;
                let zm = p.num(2, 2)?;
                if !p.done() || zh > 23 || zm > 59 {
                    return None;
                }
                if zh == 0 && zm == 0 {
                    "Z".to_string()
                } else {
                    format!("{}{zh:02}:{zm:02}", sign as char)
                }
            }
            _ => return None,
        }
    };
    let frac = if frac.is_empty() {
        frac
    } else {
        format!(".{frac}")
    };
    Some(format!("{date}T{hour:02}:{min:02}:{sec:02}{frac}{zone}"))
}

/// The source spelling of a plain scalar go-yaml read as a timestamp, for the places where
/// kustomize keeps it (Go string fields, annotations, JSON patches): `None` if `n` is not one.
pub(crate) fn timestamp_spelling(n: &super::Node, text: &str) -> Option<String> {
    let Value::Str(v) = &n.value else {
        return None;
    };
    let raw = text.get(n.loc.start as usize..n.loc.end as usize)?;
    (raw != v && timestamp(raw).as_deref() == Some(v.as_str())).then(|| raw.to_string())
}

/// [`timestamp_spelling`] over a whole tree.
pub(crate) fn restore_timestamps(n: &mut super::Node, text: &str) {
    n.walk_mut(&mut |n| {
        if let Some(raw) = timestamp_spelling(n, text) {
            n.value = Value::Str(raw.into());
        }
    });
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }
    /// `min` to `max` digits.
    fn num(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i - start < max && self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
}

/// Resolves a scalar with an explicit core tag (`!!str`, `!!int`, ...). Unknown tags resolve as plain.
pub(crate) fn resolve_tagged(s: &str, tag: &str, plain: bool) -> Value {
    match tag {
        "str" => Value::Str(s.into()),
        "int" => parse_int(s).map_or_else(|| Value::Str(s.into()), Value::Int),
        "float" => parse_float(s)
            .or_else(|| parse_int(s).map(|i| i as f64))
            .map_or_else(|| Value::Str(s.into()), Value::Float),
        "bool" => match resolve_plain(s) {
            v @ Value::Bool(_) => v,
            _ => Value::Str(s.into()),
        },
        "null" => Value::Null,
        _ if plain => resolve_plain(s),
        _ => Value::Str(s.into()),
    }
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(d) = clean.strip_prefix("0b") {
        (2, d.to_string())
    } else if let Some(d) = clean.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = clean.strip_prefix("0x") {
        (16, d.to_string())
    } else if clean.len() > 1
        && clean.starts_with('0')
        && clean.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        (8, clean[1..].to_string())
    } else {
        (10, clean.clone())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(&digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn parse_float(s: &str) -> Option<f64> {
    // [-+]? ( \.[0-9]+ | [0-9][0-9_]* (\.[0-9_]*)? ) ([eE][-+]?[0-9]+)?
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let mut digits = 0;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        digits += 1;
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    clean.parse::<f64>().ok()
}

/// Formats a float the way kustomize's output does. kustomize prints a resource by encoding it as
/// JSON (Go `json.Marshal`: integral values below 1e21 as plain digits) and reading that JSON
/// back as YAML, where plain digits that fit an int64 or uint64 are integers again and anything
/// else is a float printed by Go's shortest `%g` (exponent form from 1e+06 and below 1e-04):
/// `1e3` → `1000`, `1e19` → `10000000000000000000`, `1e20` → `1e+20`, `1234567.5` →
/// `1.2345675e+06`.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        // Rust's `Display` and Go's `json.Marshal` agree: shortest round-trip digits padded
        // with zeros (18446744073709551616 prints 18446744073709552000, past uint64).
        let json = if f == 0.0 {
            "0".to_string()
        } else {
            format!("{f}")
        };
        if json.parse::<i64>().is_ok() || json.parse::<u64>().is_ok() {
            return json;
        }
    }
    go_shortest_g(f)
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`: shortest round-trip digits, exponent form when
/// the decimal exponent is below -4 or at least 6 (Go's fixed precision for the shortest form),
/// the exponent signed and at least two digits.
fn go_shortest_g(f: f64) -> String {
    let e = format!("{f:e}"); // "1.2345e-7", "-5e20"
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if mant.starts_with('-') { "-" } else { "" };
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    if !(-4..6).contains(&exp) {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let es = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{es}{:02}", exp.abs())
    } else if exp < 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
    } else if (exp + 1) as usize >= digits.len() {
        let zeros = "0".repeat(exp as usize + 1 - digits.len());
        format!("{sign}{digits}{zeros}")
    } else {
        let p = (exp + 1) as usize;
        format!("{sign}{}.{}", &digits[..p], &digits[p..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Value {
        resolve_plain(s)
    }

    #[test]
    fn timestamps_and_special_floats_like_go_yaml() {
        // Observed with the reference kustomize (fixtures/golden/scalars).
        let t = |s: &str| timestamp(s);
        assert_eq!(t("2024-01-15").as_deref(), Some("2024-01-15T00:00:00Z"));
        assert_eq!(t("2024-1-5").as_deref(), Some("2024-01-05T00:00:00Z"));
        assert_eq!(
            t("2001-12-14t21:59:43.10-05:00").as_deref(),
            Some("2001-12-14T21:59:43.1-05:00")
        );
        assert_eq!(
            t("2001-12-14T21:59:43+00:00").as_deref(),
            Some("2001-12-14T21:59:43Z")
        );
        assert_eq!(
            t("2001-12-14 21:59:43.10").as_deref(),
            Some("2001-12-14T21:59:43.1Z")
        );
        assert_eq!(t("2001-12-14 21:59:43.10 -5"), None);
        assert_eq!(t("2001-13-14"), None);
        assert_eq!(t("2023-02-29"), None);
        assert_eq!(t("2024-02-29").as_deref(), Some("2024-02-29T00:00:00Z"));
        assert_eq!(t("12024-01-01"), None);
        assert!(matches!(r(".inf"), Value::Float(f) if f == f64::INFINITY));
        assert!(matches!(r("-.Inf"), Value::Float(f) if f == f64::NEG_INFINITY));
        assert!(matches!(r(".NaN"), Value::Float(f) if f.is_nan()));
        assert_eq!(r("-.nan"), Value::Str("-.nan".into()));
        assert_eq!(r(".infinity"), Value::Str(".infinity".into()));
    }

    #[test]
    fn resolves_like_kustomize() {
        assert_eq!(r("0755"), Value::Int(493));
        assert_eq!(r("0o755"), Value::Int(493));
        assert_eq!(r("0x1F"), Value::Int(31));
        assert_eq!(r("1_000"), Value::Int(1000));
        assert_eq!(r("+1"), Value::Int(1));
        assert_eq!(r("-1"), Value::Int(-1));
        assert_eq!(r("0b101"), Value::Int(5));
        assert_eq!(r(".5"), Value::Float(0.5));
        assert_eq!(r("1e3"), Value::Float(1000.0));
        assert_eq!(r("12e"), Value::Str("12e".into()));
        assert_eq!(r("yes"), Value::Str("yes".into()));
        assert_eq!(r("True"), Value::Bool(true));
        assert_eq!(r("tRUE"), Value::Str("tRUE".into()));
        assert_eq!(r("~"), Value::Null);
        assert_eq!(r("1:20"), Value::Str("1:20".into()));
        assert_eq!(r("0"), Value::Int(0));
        assert_eq!(r("09"), Value::Float(9.0));
    }

    #[test]
    fn formats_floats_like_go() {
        assert_eq!(format_float(1000.0), "1000");
        assert_eq!(format_float(0.5), "0.5");
        assert_eq!(format_float(1.5e-7), "1.5e-07");
        assert_eq!(format_float(1e29), "1e+29");
        assert_eq!(
            format_float(1.2345678901234568e29),
            "1.2345678901234568e+29"
        );
        assert_eq!(format_float(1.1), "1.1");
        // Observed with the reference kustomize: the JSON round trip decides.
        assert_eq!(format_float(1234567.5), "1.2345675e+06");
        assert_eq!(format_float(123456.5), "123456.5");
        assert_eq!(format_float(12345678.9), "1.23456789e+07");
        assert_eq!(format_float(1e-5), "1e-05");
        assert_eq!(format_float(0.0001), "0.0001");
        assert_eq!(format_float(1e19), "10000000000000000000");
        assert_eq!(format_float(1e20), "1e+20");
        assert_eq!(format_float(1.5e20), "1.5e+20");
        assert_eq!(
            format_float(18446744073709551616.0),
            "1.8446744073709552e+19"
        );
        assert_eq!(
            format_float(-9223372036854775809.0),
            "-9.223372036854776e+18"
        );
        assert_eq!(format_float(-1e19), "-1e+19");
        assert_eq!(format_float(123456789012345678.5), "123456789012345680");
        assert_eq!(format_float(-0.0), "0");
        assert_eq!(format_float(-2.5), "-2.5");
    }
}
