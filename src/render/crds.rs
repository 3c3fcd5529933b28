//! `crds:` files as kustomize reads them: not CustomResourceDefinition objects but the map of
//! OpenAPI definitions kube-openapi's generator writes (`{"<package>.<Kind>": {"Schema": …,
//! "Dependencies": …}}`), whose property extensions name the fields transformers must visit:
//!
//! - `x-kubernetes-object-ref-kind` + `x-kubernetes-object-ref-api-version` (+ optional
//!   `x-kubernetes-object-ref-name-key`, default `name`): a name reference to that kind;
//! - `x-kubernetes-annotation`, `x-kubernetes-label-selector`, `x-kubernetes-identity`: the
//!   field takes `commonAnnotations`, `commonLabels`, `namePrefix` too.
//!
//! The result is one transformer-configuration document, merged into the build's tables exactly
//! like a `configurations:` file, so the name-reference pass and the field-spec transformers need
//! no CRD-specific code. A type is read only if it looks like an object (`kind`, `apiVersion` and
//! `metadata` properties); its kind is the type name's last `.` segment; `$ref`s to definitions
//! in the same file are followed, with the path growing by the property name. A definition
//! that refers back to itself ends the walk there (kustomize recurses until its stack runs out).
//! A file of another shape — a CustomResourceDefinition object, say — fails the build, as in
//! kustomize, at the value that does not fit.

use std::collections::BTreeMap;

use super::RenderError;
use crate::source::Loc;
use crate::yaml::{Mapping, Node, Value};

/// The transformer configuration the definitions in `doc` (the parsed `crds:` file `path`) ask
/// for, in the shape of a `configurations:` document.
pub(crate) fn config_from_definitions(doc: &Node, path: &str) -> Result<Node, RenderError> {
    let bad = |what: &str, at: &Node| {
        RenderError::invalid(
            format!("unable to parse open API definition from '{path}': {what}"),
            at.loc,
        )
    };
    let defs: BTreeMap<&str, &Node> = match &doc.value {
        Value::Null => BTreeMap::new(),
        Value::Map(m) => {
            let mut defs = BTreeMap::new();
            for e in &m.entries {
                // encoding/json matches struct fields case-insensitively.
                let schema = match &e.value.value {
                    Value::Null => None,
                    Value::Map(d) => d
                        .entries
                        .iter()
                        .find(|f| f.key.eq_ignore_ascii_case("schema"))
                        .map(|f| &f.value),
                    _ => {
                        let hint = if m.contains_key("apiVersion") && m.contains_key("kind") {
                            " (crds: takes OpenAPI definitions keyed by type name, not Kubernetes objects; a CustomResourceDefinition belongs under resources:)"
                        } else {
                            ""
                        };
                        return Err(bad(
                            &format!("the definition of '{}' is not a mapping{hint}", e.key),
                            &e.value,
                        ));
                    }
                };
                if let Some(s) = schema {
                    check_schema(s, &e.key, &bad)?;
                    defs.insert(e.key.as_str(), s);
                }
            }
            defs
        }
        _ => {
            return Err(bad(
                "expected a mapping of type names to definitions ({\"<package>.<Kind>\": {\"Schema\": …}})",
                doc,
            ));
        }
    };
    let mut out = Tables::default();
    for (name, schema) in &defs {
        let props = properties(schema);
        let looks_like_object = ["kind", "apiVersion", "metadata"]
            .iter()
            .all(|k| props.is_some_and(|p| p.contains_key(k)));
        if !looks_like_object {
            continue;
        }
        let kind = name.rsplit('.').next().unwrap_or(name);
        walk(
            &defs,
            name,
            kind,
            &mut Vec::new(),
            &mut vec![name.to_string()],
            &mut out,
        );
    }
    Ok(out.into_node())
}

/// The parts of a schema the walk reads must have the shapes it reads them as.
fn check_schema(
    s: &Node,
    type_name: &str,
    bad: &dyn Fn(&str, &Node) -> RenderError,
) -> Result<(), RenderError> {
    match &s.value {
        Value::Null => return Ok(()),
        Value::Map(_) => {}
        _ => {
            return Err(bad(
                &format!("the schema of '{type_name}' is not a mapping"),
                s,
            ));
        }
    }
    let Some(props) = s.get("properties") else {
        return Ok(());
    };
    match &props.value {
        Value::Null => Ok(()),
        Value::Map(m) => {
            for e in &m.entries {
                if !matches!(e.value.value, Value::Map(_) | Value::Null) {
                    return Err(bad(
                        &format!(
                            "property '{}' of '{type_name}' is not a schema (a mapping)",
                            e.key
                        ),
                        &e.value,
                    ));
                }
                if let Some(r) = e.value.get("$ref")
                    && !matches!(r.value, Value::Str(_))
                {
                    return Err(bad(
                        &format!("'$ref' of property '{}' is not a string", e.key),
                        r,
                    ));
                }
            }
            Ok(())
        }
        _ => Err(bad(
            &format!("'properties' of '{type_name}' is not a mapping"),
            props,
        )),
    }
}

fn properties(schema: &Node) -> Option<&Mapping> {
    schema.get("properties").and_then(|p| p.as_map())
}

/// A string extension of a property (kube-openapi lower-cases extension keys; a value that is
/// not a string does not count).
fn extension<'a>(prop: &'a Node, key: &str) -> Option<&'a str> {
    let m = prop.as_map()?;
    let e = m.entries.iter().find(|e| e.key.eq_ignore_ascii_case(key))?;
    e.value.as_str()
}

fn walk(
    defs: &BTreeMap<&str, &Node>,
    type_name: &str,
    kind: &str,
    path: &mut Vec<String>,
    visiting: &mut Vec<String>,
    out: &mut Tables,
) {
    let Some(props) = defs.get(type_name).and_then(|s| properties(s)) else {
        return;
    };
    for e in &props.entries {
        let prop = &e.value;
        path.push(e.key.to_string());
        let here = path.join("/");
        let at = prop.loc;
        if extension(prop, "x-kubernetes-annotation").is_some() {
            out.add("commonAnnotations", kind, &here, at);
        }
        if extension(prop, "x-kubernetes-label-selector").is_some() {
            out.add("commonLabels", kind, &here, at);
        }
        if extension(prop, "x-kubernetes-identity").is_some() {
            out.add("namePrefix", kind, &here, at);
        }
        if let (Some(version), Some(ref_kind)) = (
            extension(prop, "x-kubernetes-object-ref-api-version"),
            extension(prop, "x-kubernetes-object-ref-kind"),
        ) {
            let key = extension(prop, "x-kubernetes-object-ref-name-key").unwrap_or("name");
            out.name_reference
                .entry((ref_kind.to_string(), version.to_string()))
                .or_default()
                .push((format!("{here}/{key}"), kind.to_string(), at));
        }
        if let Some(r) = prop.get("$ref").and_then(|r| r.as_str())
            && !visiting.iter().any(|v| v == r)
        {
            visiting.push(r.to_string());
            walk(defs, r, kind, path, visiting, out);
            visiting.pop();
        }
        path.pop();
    }
}

/// A field spec as collected: path, the kind holding it, the property that asked for it.
type Spec = (String, String, Loc);

/// Field specs by transformer table, and name references by referred (kind, version).
#[derive(Default)]
struct Tables {
    specs: BTreeMap<&'static str, Vec<Spec>>,
    name_reference: BTreeMap<(String, String), Vec<Spec>>,
}

impl Tables {
    fn add(&mut self, table: &'static str, kind: &str, path: &str, at: Loc) {
        let v = self.specs.entry(table).or_default();
        if !v.iter().any(|(p, k, _)| p == path && k == kind) {
            v.push((path.to_string(), kind.to_string(), at));
        }
    }

    fn into_node(self) -> Node {
        let spec = |path: &str, kind: &str, at: Loc| {
            let mut m = Node::map().at(at);
            m.set("path", Node::str(path).at(at));
            m.set("kind", Node::str(kind).at(at));
            m
        };
        let mut doc = Node::map();
        for (table, specs) in self.specs {
            doc.set(
                table,
                Node::seq(specs.iter().map(|(p, k, at)| spec(p, k, *at)).collect()),
            );
        }
        if !self.name_reference.is_empty() {
            let refs = self
                .name_reference
                .into_iter()
                .map(|((kind, version), referrers)| {
                    let mut m = Node::map();
                    m.set("kind", Node::str(kind));
                    m.set("version", Node::str(version));
                    let mut seen = Vec::new();
                    let mut specs = Vec::new();
                    for (p, k, at) in referrers {
                        if !seen.contains(&(p.clone(), k.clone())) {
                            specs.push(spec(&p, &k, at));
                            seen.push((p, k));
                        }
                    }
                    m.set("fieldSpecs", Node::seq(specs));
                    m
                })
                .collect();
            doc.set("nameReference", Node::seq(refs));
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<String, RenderError> {
        let doc = crate::yaml::parse_documents(text, crate::source::FileId::NONE)
            .unwrap()
            .remove(0);
        config_from_definitions(&doc, "crd.json")
            .map(|n| crate::yaml::emit_documents([&n]).trim_end().to_string())
    }

    #[test]
    fn object_refs_and_markers_become_field_specs() {
        let out = config(
            r#"{
  "ex/v1.MyKind": {"Schema": {"properties": {
      "apiVersion": {"type": "string"}, "kind": {"type": "string"},
      "metadata": {"$ref": "meta/v1.ObjectMeta"},
      "spec": {"$ref": "ex/v1.MyKindSpec"}}}},
  "ex/v1.MyKindSpec": {"schema": {"properties": {
      "secretRef": {"x-kubernetes-object-ref-api-version": "v1",
                    "x-kubernetes-object-ref-kind": "Secret"},
      "beeRef": {"x-kubernetes-object-ref-api-version": "v1beta1",
                 "X-Kubernetes-Object-Ref-Kind": "Bee",
                 "x-kubernetes-object-ref-name-key": "beeName"},
      "selector": {"x-kubernetes-label-selector": ""},
      "notes": {"x-kubernetes-annotation": ""},
      "alias": {"x-kubernetes-identity": ""},
      "flag": {"x-kubernetes-annotation": true},
      "self": {"$ref": "ex/v1.MyKindSpec"}}}},
  "ex/v1.Unrelated": {"Schema": {"properties": {
      "ref": {"x-kubernetes-object-ref-api-version": "v1",
              "x-kubernetes-object-ref-kind": "Secret"}}}}
}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            "commonAnnotations:\n- kind: MyKind\n  path: spec/notes\ncommonLabels:\n- kind: MyKind\n  path: spec/selector\nnamePrefix:\n- kind: MyKind\n  path: spec/alias\nnameReference:\n- fieldSpecs:\n  - kind: MyKind\n    path: spec/beeRef/beeName\n  kind: Bee\n  version: v1beta1\n- fieldSpecs:\n  - kind: MyKind\n    path: spec/secretRef/name\n  kind: Secret\n  version: v1"
        );
    }

    #[test]
    fn other_shapes_fail_at_the_value() {
        let e = config("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n")
            .unwrap_err();
        assert!(
            e.message
                .contains("unable to parse open API definition from 'crd.json'")
        );
        assert!(
            e.message.contains("'apiVersion' is not a mapping"),
            "{}",
            e.message
        );
        let e = config("a.B:\n  Schema:\n    properties: [x]\n").unwrap_err();
        assert!(e.message.contains("'properties' of 'a.B'"), "{}", e.message);
        assert_eq!(config("{}").unwrap(), "{}");
    }
}
