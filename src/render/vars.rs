//! Legacy `vars:` — `$(NAME)` substitution.
//!
//! A var names an object (`objref`) and a field of it (`fieldref.fieldpath`, default
//! `metadata.name`). The kustomization that declares it binds it to exactly one object it can see
//! (by any of its names); at the top of the build, after renames and name references, the field's
//! final value replaces `$(NAME)` in the var-reference fields (container commands, args, env values,
//! ingress hosts, ... — `fieldspecs/varreference.yaml`). A field that is exactly `$(NAME)` takes the
//! value with its type; elsewhere the value is interpolated as text. `$$` escapes a dollar; unknown
//! names stay as written. The same var declared twice in one build is an error, as in kustomize.

use std::collections::HashMap;

use super::builtin::VAR_REFERENCE;
use super::error::{RenderError, RenderErrorKind};
use super::fieldspec::{FieldSpec, apply_specs};
use super::replacements::{split_field_path, visit_path};
use super::resource::Resource;
use crate::source::Loc;
use crate::yaml::{Node, Value};

/// A declared var.
#[derive(Clone, Debug)]
pub(crate) struct Var {
    pub(crate) name: String,
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) obj_name: String,
    pub(crate) namespace: String,
    pub(crate) field_path: String,
    pub(crate) loc: Loc,
}

impl Var {
    pub(crate) fn from_node(n: &Node) -> Result<Var, RenderError> {
        let s = |p: &[&str]| {
            n.get_path(p)
                .and_then(crate::yaml::Node::scalar_string)
                .unwrap_or_default()
        };
        let name = s(&["name"]);
        if name.is_empty() {
            return Err(RenderError::invalid("var needs a 'name'", n.loc));
        }
        let fp = n
            .get("fieldref")
            .or_else(|| n.get("fieldRef"))
            .and_then(|f| f.get("fieldpath").or_else(|| f.get("fieldPath")))
            .and_then(crate::yaml::Node::scalar_string)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "metadata.name".to_string());
        Ok(Var {
            name,
            api_version: s(&["objref", "apiVersion"]),
            kind: s(&["objref", "kind"]),
            obj_name: s(&["objref", "name"]),
            namespace: s(&["objref", "namespace"]),
            field_path: fp,
            loc: n.loc,
        })
    }
}

/// Binds newly declared vars to the object each names, refusing a var declared twice.
pub(crate) fn bind(
    resources: &mut [Resource],
    declared: &[Var],
    incoming: &[Node],
) -> Result<Vec<Var>, RenderError> {
    let mut out = Vec::new();
    for n in incoming {
        let v = Var::from_node(n)?;
        if declared
            .iter()
            .chain(out.iter())
            .any(|d: &Var| d.name == v.name)
        {
            return Err(RenderError::new(
                RenderErrorKind::Conflict,
                format!("var '{}' already encountered", v.name),
                v.loc,
            ));
        }
        let (group, version) = crate::text::split_api_version(&v.api_version);
        let matches: Vec<usize> = resources
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.all_ids().iter().any(|id| {
                    id.kind == v.kind
                        && id.name == v.obj_name
                        && (v.api_version.is_empty()
                            || (id.group == group && id.version == version))
                        && (v.namespace.is_empty() || id.namespace == v.namespace)
                })
            })
            .map(|(i, _)| i)
            .collect();
        if matches.len() > 1 {
            return Err(RenderError::new(
                RenderErrorKind::Conflict,
                format!(
                    "found {} resId matches for var '{}' (unable to disambiguate; add objref.namespace)",
                    matches.len(),
                    v.name
                ),
                v.loc,
            ));
        }
        if let Some(&i) = matches.first() {
            resources[i].var_names.push(v.name.clone());
        }
        out.push(v);
    }
    Ok(out)
}

/// Substitutes every declared var at the top of the build.
pub(crate) fn apply(
    resources: &mut [Resource],
    vars: &[Var],
    extra_specs: &[FieldSpec],
) -> Result<(), RenderError> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values: HashMap<String, Node> = HashMap::new();
    for v in vars {
        let Some(r) = resources.iter().find(|r| r.var_names.contains(&v.name)) else {
            return Err(RenderError::new(
                RenderErrorKind::Conflict,
                format!(
                    "var '{}' cannot be mapped to a field in the set of known resources (no {} named {})",
                    v.name, v.kind, v.obj_name
                ),
                v.loc,
            ));
        };
        let mut node = r.node.clone();
        let mut found = None;
        visit_path(&mut node, &var_path(&v.field_path), false, &mut |n| {
            if found.is_none() {
                found = Some(n.clone());
            }
        });
        let Some(value) = found else {
            return Err(RenderError::invalid(
                format!(
                    "field '{}' specified in var '{}' not found in {}",
                    v.field_path,
                    v.name,
                    r.id().display()
                ),
                v.loc,
            ));
        };
        values.insert(v.name.clone(), value);
    }
    let specs: Vec<FieldSpec> = VAR_REFERENCE
        .iter()
        .chain(extra_specs.iter())
        .cloned()
        .collect();
    let mut refused: Option<RenderError> = None;
    for r in resources.iter_mut() {
        let id = r.id();
        apply_specs(&specs, &id, &mut r.node, r.bookkept, &mut |n| {
            if let Err(e) = substitute(n, &values)
                && refused.is_none()
            {
                refused = Some(e);
            }
        });
    }
    refused.map_or(Ok(()), Err)
}

/// `spec.ports[0].port` → `spec.ports.0.port` for the replacement path walker.
fn var_path(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    for seg in split_field_path(p) {
        match seg.find('[') {
            Some(i) if i > 0 && seg.ends_with(']') && !seg[i..].contains('=') => {
                out.push(seg[..i].to_string());
                out.push(seg[i + 1..seg.len() - 1].to_string());
            }
            _ => out.push(seg),
        }
    }
    out
}

/// Substitutes in a scalar, a list of strings or a map's string values. Like kustomize, a list
/// holding anything but strings (`args: [1e3]`) is refused once vars are in use.
fn substitute(n: &mut Node, values: &HashMap<String, Node>) -> Result<(), RenderError> {
    match &mut n.value {
        Value::Str(s) => {
            if let Some(v) = expand(s, values) {
                let via = v.1;
                n.value = v.0;
                n.via = via;
            }
        }
        Value::Seq(items) => {
            if let Some(bad) = items.iter().find(|i| !matches!(i.value, Value::Str(_))) {
                return Err(RenderError::invalid(
                    "with `vars` declared, kustomize substitutes in this list and refuses a non-string item \
                     (\"invalid value type expect a string\"): quote it",
                    bad.loc,
                ));
            }
            for i in items.iter_mut() {
                substitute(i, values)?;
            }
        }
        Value::Map(m) => {
            for e in &mut m.entries {
                if matches!(e.value.value, Value::Str(_)) {
                    substitute(&mut e.value, values)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Expands `$(NAME)` references; `None` when nothing changed.
fn expand(s: &str, values: &HashMap<String, Node>) -> Option<(Value, Loc)> {
    if !s.contains('$') {
        return None;
    }
    // A field that is exactly one reference takes the value with its type.
    if let Some(name) = s.strip_prefix("$(").and_then(|r| r.strip_suffix(')'))
        && !name.contains(['(', ')', '$'])
        && let Some(v) = values.get(name)
    {
        return Some((v.value.clone(), v.blame()));
    }
    let mut out = String::new();
    let mut changed = false;
    let mut via = Loc::NONE;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            if b[i + 1] == b'$' {
                out.push('$');
                i += 2;
                changed = true;
                continue;
            }
            if b[i + 1] == b'('
                && let Some(end) = s[i + 2..].find(')')
            {
                let name = &s[i + 2..i + 2 + end];
                if let Some(v) = values.get(name) {
                    out.push_str(&v.scalar_string().unwrap_or_default());
                    via = v.blame();
                    changed = true;
                } else {
                    out.push_str(&s[i..i + 3 + end]);
                }
                i += 3 + end;
                continue;
            }
        }
        let c = s[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    changed.then_some((Value::Str(out.into()), via))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_rules() {
        let mut m = HashMap::new();
        m.insert("A".to_string(), Node::str("x"));
        m.insert("N".to_string(), Node::synth(Value::Int(3)));
        assert_eq!(
            expand("pre-$(A)-post", &m).unwrap().0,
            Value::Str("pre-x-post".into())
        );
        assert_eq!(expand("$(N)", &m).unwrap().0, Value::Int(3));
        assert_eq!(
            expand("$$(A) $(B)", &m).unwrap().0,
            Value::Str("$(A) $(B)".into())
        );
        assert!(expand("$(B)", &m).is_none());
    }
}
