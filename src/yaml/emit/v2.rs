//! How go-yaml v2 (YAML 1.1) reads plain text: which strings would come back as booleans,
//! nulls, numbers or timestamps if printed plain, and so must be quoted.
//!
//! Design. kustomize decodes resources through go-yaml v2 into Go values and prints them with
//! the same library, so both directions follow YAML 1.1's resolution rules (`yes`, `0777`,
//! `1:20`, `2001-12-14`), not the YAML 1.2 rules the parser reads with. Written from go-yaml's
//! resolver and Go's `strconv`, checked against the reference kustomize.

use crate::yaml::Value;

/// What go-yaml v2 (YAML 1.1) reads a plain scalar as when decoding into Go `interface{}` values,
/// as `yaml.YAMLToJSON` does: `yes`/`on`/`y` are booleans, `0777` and `1_000` integers, and a
/// timestamp stays a string.
pub(crate) fn resolve_plain_v2(s: &str) -> Value {
    if resolves_as_string_v2(s) || is_timestamp(s) {
        return Value::Str(s.into());
    }
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    let plain: String = s.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match plain.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') && !lower.contains(['.', 'e']) {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    if let Ok(v) = i64::from_str_radix(digits, radix) {
        return Value::Int(if neg { -v } else { v });
    }
    let special = match body {
        ".inf" | ".Inf" | ".INF" => Some(f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ => None,
    };
    match special.or_else(|| plain.parse::<f64>().ok()) {
        Some(f) if special.is_some() && neg => Value::Float(-f),
        Some(f) => Value::Float(f),
        None => Value::Str(s.into()),
    }
}

/// Would go-yaml v2 read this plain text back as a string (not a bool, null, number, timestamp)?
pub(super) fn resolves_as_string_v2(s: &str) -> bool {
    let Some(&first) = s.as_bytes().first() else {
        return false; // "" is null
    };
    match first {
        b'+' | b'-' | b'0'..=b'9' => {}
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            return !matches!(
                s,
                "y" | "Y"
                    | "yes"
                    | "Yes"
                    | "YES"
                    | "true"
                    | "True"
                    | "TRUE"
                    | "on"
                    | "On"
                    | "ON"
                    | "n"
                    | "N"
                    | "no"
                    | "No"
                    | "NO"
                    | "false"
                    | "False"
                    | "FALSE"
                    | "off"
                    | "Off"
                    | "OFF"
                    | "~"
                    | "null"
                    | "Null"
                    | "NULL"
            );
        }
        b'.' => {
            if matches!(s, ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF") {
                return false;
            }
            return go_parse_float(s).is_none();
        }
        _ => return true,
    }
    if matches!(s, "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF") {
        return false;
    }
    if is_timestamp(s) {
        return false;
    }
    let plain: std::borrow::Cow<str> = if s.contains('_') {
        s.chars().filter(|c| *c != '_').collect::<String>().into()
    } else {
        s.into()
    };
    if go_parse_int(&plain) || is_yaml_float(&plain) {
        return false;
    }
    if let Some(rest) = plain
        .strip_prefix("0b")
        .or_else(|| plain.strip_prefix("-0b"))
        && !rest.is_empty()
        && rest.bytes().all(|b| b == b'0' || b == b'1')
    {
        return false;
    }
    true
}

/// Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint` acceptance (sign, 0x/0o/0b/0 prefixes).
pub(super) fn go_parse_int(s: &str) -> bool {
    let body = s
        .strip_prefix('-')
        .or_else(|| s.strip_prefix('+'))
        .unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    // Prefixes in either case (digits of every radix are accepted in either case too).
    let b = body.as_bytes();
    let (digits, radix) = match (b[0], b.get(1).map(u8::to_ascii_lowercase)) {
        (b'0', Some(b'x')) => (&body[2..], 16),
        (b'0', Some(b'o')) => (&body[2..], 8),
        (b'0', Some(b'b')) => (&body[2..], 2),
        (b'0', Some(_)) => (&body[1..], 8),
        _ => (body, 10),
    };
    !digits.is_empty()
        && digits.chars().all(|c| c.is_digit(radix))
        && u64::from_str_radix(digits, radix).is_ok()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
pub(super) fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let start = i;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let d = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == d {
            return false;
        }
    } else {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let d = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == d {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat` for text starting with '.' (decimal forms only can start so).
pub(super) fn go_parse_float(s: &str) -> Option<f64> {
    if s.contains('_') {
        return None;
    }
    if is_yaml_float(s) {
        s.parse::<f64>().ok()
    } else {
        None
    }
}

/// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?`
pub(super) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !(b[0] == b'+' || b[0] == b'-' || b[0].is_ascii_digit()) || !s.contains(':')
    {
        return false;
    }
    let mut i = usize::from(b[0] == b'+' || b[0] == b'-');
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let d = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) && i - d < 2 {
            i += 1;
        }
        let n = i - d;
        if n == 0 || (n == 2 && b[d] > b'5') {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// YAML 1.1 timestamps as go-yaml accepts them: `2001-12-14`, `2001-12-14T21:59:43.10-05:00`,
/// `2001-12-14 21:59:43.10`.
pub(super) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut i = 5;
    let num = |i: &mut usize, max: usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        if *i == start {
            None
        } else {
            std::str::from_utf8(&b[start..*i]).ok()?.parse().ok()
        }
    };
    let Some(month) = num(&mut i, 2) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(&mut i, 2) else {
        return false;
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let sep = b[i];
    if !matches!(sep, b'T' | b't' | b' ') {
        return false;
    }
    i += 1;
    let Some(h) = num(&mut i, 2) else {
        return false;
    };
    if b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(m) = num(&mut i, 2) else {
        return false;
    };
    if b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(sec) = num(&mut i, 2) else {
        return false;
    };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            return false;
        }
    }
    if sep == b' ' {
        return i == b.len();
    }
    // RFC 3339 forms need a zone.
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let rest = &s[i + 1..];
            rest.len() == 5 && rest.as_bytes()[2] == b':'
        }
        _ => false,
    }
}
