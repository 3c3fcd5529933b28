//! ApplicationSet templates, both syntaxes Argo CD accepts, on the parameters its generators
//! produce.
//!
//! Default ("fasttemplate"): `{{ key }}` is looked up in the flattened parameters (`path.basename`,
//! `path[1]`, `values.env`); an unknown key is left as written, braces included, as Argo CD leaves
//! it. `goTemplate: true`: a subset of Go templates — field chains (`{{ .path.basename }}`),
//! `index` on lists and maps (`{{ index .path.segments 1 }}`, `{{ index .metadata.labels "env" }}`),
//! quoted strings, and pipes through `normalize`, `lower`, `upper`, `trim`, `default`. A template
//! using anything else (conditionals, other sprig functions) cannot be evaluated here: the caller
//! notes that Application as not rendered rather than guessing, and a missing key renders
//! `<no value>` as Go does (with `missingkey=error`, an error).

use serde_json::Value;

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError(pub String);

/// Renders one string.
pub(crate) fn render(
    text: &str,
    params: &Value,
    go: bool,
    missing_is_error: bool,
) -> Result<String, TemplateError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let Some(j) = rest[i + 2..].find("}}") else {
            if go {
                return Err(TemplateError(format!("unclosed action in '{text}'")));
            }
            break;
        };
        out.push_str(&rest[..i]);
        let action = &rest[i + 2..i + 2 + j];
        let whole = &rest[i..i + 4 + j];
        if go {
            out.push_str(&go_action(action, params, missing_is_error)?);
        } else {
            match flat_lookup(params, action.trim()) {
                Some(v) => out.push_str(&v),
                None => out.push_str(whole),
            }
        }
        rest = &rest[i + 4 + j..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A value as fasttemplate sees it: `a.b.c` through maps, `path[n]` into a list.
fn flat_lookup(params: &Value, key: &str) -> Option<String> {
    let (key, index) = match key.strip_suffix(']').and_then(|k| k.rsplit_once('[')) {
        Some((k, n)) => (k, Some(n.parse::<usize>().ok()?)),
        None => (key, None),
    };
    // Flattened keys may themselves contain dots (`metadata.labels.app.kubernetes.io/name`):
    // try the longest map key first at each level.
    fn walk<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
        if key.is_empty() {
            return Some(v);
        }
        let m = v.as_object()?;
        if let Some(x) = m.get(key) {
            return Some(x);
        }
        let mut cut = key.len();
        while let Some(i) = key[..cut].rfind('.') {
            if let Some(x) = m.get(&key[..i])
                && let Some(found) = walk(x, &key[i + 1..])
            {
                return Some(found);
            }
            cut = i;
        }
        None
    }
    let v = walk(params, key)?;
    let v = match (index, v) {
        (Some(n), Value::Object(m)) => m.get("segments")?.as_array()?.get(n)?,
        (Some(n), Value::Array(a)) => a.get(n)?,
        (Some(_), _) => return None,
        (None, Value::Object(m)) if m.contains_key("path") && key == "path" => m.get("path")?,
        (None, v) => v,
    };
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Argo CD's `SanitizeName`: lowercase, anything outside `[-a-z0-9.]` becomes `-`, at most 253
/// characters, no leading or trailing `-`/`.`.
pub(crate) fn normalize(s: &str) -> String {
    let mapped: String = s
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(253)
        .collect();
    mapped.trim_matches(['-', '.']).to_string()
}

/// One `{{ ... }}` of a Go template: a pipeline of commands.
fn go_action(
    action: &str,
    params: &Value,
    missing_is_error: bool,
) -> Result<String, TemplateError> {
    let action = action
        .trim()
        .trim_start_matches('-')
        .trim_end_matches('-')
        .trim();
    let mut value: Option<Value> = None;
    for (i, cmd) in split_pipes(action).iter().enumerate() {
        let words = words(cmd)?;
        let Some(first) = words.first() else {
            return Err(TemplateError(format!(
                "empty command in '{{{{{action}}}}}'"
            )));
        };
        let prior = value.take();
        let args = |from: usize| -> Result<Vec<Value>, TemplateError> {
            let mut v: Vec<Value> = words[from..]
                .iter()
                .map(|w| operand(w, params, missing_is_error))
                .collect::<Result<_, _>>()?;
            if let Some(p) = &prior {
                v.push(p.clone());
            }
            Ok(v)
        };
        value = Some(match first.as_str() {
            w if w.starts_with('.') || w.starts_with('"') || w.starts_with('$') => {
                if i > 0 {
                    return Err(TemplateError(format!("unsupported pipeline '{action}'")));
                }
                operand(w, params, missing_is_error)?
            }
            "index" => {
                let a = args(1)?;
                let mut cur = a.first().cloned().unwrap_or(Value::Null);
                for k in &a[1..] {
                    cur = match (&cur, k) {
                        (Value::Array(l), Value::Number(n)) => n
                            .as_u64()
                            .and_then(|n| l.get(n as usize).cloned())
                            .ok_or_else(|| TemplateError(format!("index {n} out of range")))?,
                        (Value::Object(m), Value::String(s)) => {
                            m.get(s).cloned().unwrap_or(Value::Null)
                        }
                        _ => return Err(TemplateError(format!("cannot index '{action}'"))),
                    };
                }
                cur
            }
            "normalize" | "lower" | "upper" | "trim" => {
                let a = args(1)?;
                let s = a.last().map(text_of).unwrap_or_default();
                Value::String(match first.as_str() {
                    "normalize" => normalize(&s),
                    "lower" => s.to_lowercase(),
                    "upper" => s.to_uppercase(),
                    _ => s.trim().to_string(),
                })
            }
            "default" => {
                let a = args(1)?;
                let (d, v) = (a.first().cloned(), a.get(1).cloned());
                match v {
                    Some(v) if !is_empty(&v) => v,
                    _ => d.unwrap_or(Value::Null),
                }
            }
            other => {
                return Err(TemplateError(format!(
                    "'{other}' in '{{{{{action}}}}}' is not evaluated offline"
                )));
            }
        });
    }
    Ok(value.map(|v| text_of(&v)).unwrap_or_default())
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
    }
}

/// How Go prints a value (`<no value>` for a missing one).
fn text_of(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => v.to_string(),
    }
}

/// An argument: `.a.b` from the parameters, a quoted string, or a number.
fn operand(w: &str, params: &Value, missing_is_error: bool) -> Result<Value, TemplateError> {
    if let Some(s) = w.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Ok(Value::String(s.replace("\\\"", "\"")));
    }
    if let Ok(n) = w.parse::<i64>() {
        return Ok(Value::from(n));
    }
    let Some(path) = w.strip_prefix('.') else {
        return Err(TemplateError(format!("'{w}' is not evaluated offline")));
    };
    let mut cur = params;
    if path.is_empty() {
        return Ok(cur.clone());
    }
    for key in path.split('.') {
        match cur.get(key) {
            Some(v) => cur = v,
            None if missing_is_error => {
                return Err(TemplateError(format!("map has no entry for key \"{key}\"")));
            }
            None => return Ok(Value::Null),
        }
    }
    Ok(cur.clone())
}

fn split_pipes(action: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in action.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '|' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

fn words(cmd: &str) -> Result<Vec<String>, TemplateError> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in cmd.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '(' | ')' if !quoted => {
                return Err(TemplateError(format!(
                    "'{cmd}': parentheses are not evaluated offline"
                )));
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params() -> Value {
        json!({
            "path": {"path": "apps/billing/prd", "basename": "prd", "segments": ["apps", "billing", "prd"]},
            "cluster": "stg",
            "metadata": {"labels": {"env": "Prod_EU"}},
        })
    }

    #[test]
    fn fasttemplate_looks_up_flat_keys_and_leaves_unknown_ones() {
        let p = params();
        assert_eq!(
            render("{{path.basename}}", &p, false, false).unwrap(),
            "prd"
        );
        assert_eq!(
            render("x-{{ path[1] }}-{{cluster}}", &p, false, false).unwrap(),
            "x-billing-stg"
        );
        assert_eq!(
            render("{{path}}", &p, false, false).unwrap(),
            "apps/billing/prd"
        );
        assert_eq!(
            render("{{metadata.labels.env}}", &p, false, false).unwrap(),
            "Prod_EU"
        );
        assert_eq!(
            render("{{nope}}/a", &p, false, false).unwrap(),
            "{{nope}}/a"
        );
    }

    #[test]
    fn go_templates_fields_index_and_pipes() {
        let p = params();
        let r = |t: &str| render(t, &p, true, false);
        assert_eq!(r("{{.path.basename}}").unwrap(), "prd");
        assert_eq!(
            r("{{ index .path.segments 1 }}-{{.cluster}}").unwrap(),
            "billing-stg"
        );
        assert_eq!(
            r("{{ index .metadata.labels \"env\" | normalize }}").unwrap(),
            "prod-eu"
        );
        assert_eq!(r("{{ .missing | default \"dev\" }}").unwrap(), "dev");
        assert_eq!(r("{{ .missing }}").unwrap(), "<no value>");
        assert!(render("{{ .missing }}", &p, true, true).is_err());
        assert!(r("{{ if .cluster }}x{{ end }}").is_err());
    }
}
