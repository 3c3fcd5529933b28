//! Scalar resolution, the way kustomize sees scalars.
//!
//! kustomize reads YAML with go-yaml v3 and converts every resource to JSON and back before printing,
//! so what matters is the Go value each plain scalar decodes to. Observed with the reference
//! kustomize (see `scripts/regen-goldens`): `0755` and `0o755` are the int 493, `0x1F` is 31,
//! `1_000` is 1000, `+1` is 1, `1e3` and `1.` are floats that print as integers, `True`/`TRUE` are
//! booleans but `yes`, `on`, `y` and `tRUE` are strings, `~`/`Null`/empty are null, `12e` is a string.
//! Quoted and block scalars are always strings; an explicit `!!str`/`!!int`/... tag wins.

use super::Value;

/// Resolves a plain (unquoted) scalar.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Value::Str(s.to_string());
    }
    if let Some(i) = parse_int(s) {
        return Value::Int(i);
    }
    if let Some(f) = parse_float(s) {
        return Value::Float(f);
    }
    Value::Str(s.to_string())
}

/// Resolves a scalar with an explicit core tag (`!!str`, `!!int`, ...). Unknown tags resolve as plain.
pub fn resolve_tagged(s: &str, tag: &str, plain: bool) -> Value {
    match tag {
        "str" => Value::Str(s.to_string()),
        "int" => parse_int(s)
            .map(Value::Int)
            .unwrap_or_else(|| Value::Str(s.to_string())),
        "float" => parse_float(s)
            .or_else(|| parse_int(s).map(|i| i as f64))
            .map(Value::Float)
            .unwrap_or_else(|| Value::Str(s.to_string())),
        "bool" => match resolve_plain(s) {
            v @ Value::Bool(_) => v,
            _ => Value::Str(s.to_string()),
        },
        "null" => Value::Null,
        _ if plain => resolve_plain(s),
        _ => Value::Str(s.to_string()),
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

/// Formats a float the way kustomize's output does (Go `json.Marshal`, then go-yaml): integral
/// values below 1e21 print as integers; others use Go's shortest `%g` form (`1.5e-07`, `1e+29`).
pub fn format_float(f: f64) -> String {
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
        return format!("{}", f as i128);
    }
    // Shortest round-trip digits and decimal exponent.
    let e = format!("{:e}", f); // like "1.2345e-7"
    let (mant, exp) = e.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    // Go %g with shortest precision: exponent form when exp < -4 || exp >= max(ndigits, 21 for json)
    // json.Marshal uses 'e' only when |f| < 1e-6 or >= 1e21, then go-yaml reformats with 'g'.
    let nd = digits.len() as i32;
    let eprec = if nd > 6 { nd } else { 6 }.max(nd);
    let sign = if neg { "-" } else { "" };
    if exp < -4 || exp >= eprec.max(21) {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        let es = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{es}{:02}", exp.abs())
    } else if exp < 0 {
        format!("{sign}0.{}{}", "0".repeat((-exp - 1) as usize), digits)
    } else if (exp + 1) as usize >= digits.len() {
        format!(
            "{sign}{}{}",
            digits,
            "0".repeat(exp as usize + 1 - digits.len())
        )
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
    }
}
