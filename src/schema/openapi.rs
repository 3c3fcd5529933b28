//! Schemas from outside the bundle: CRDs' OpenAPI and `schema-dirs` files.
//!
//! Design. A CustomResourceDefinition's `openAPIV3Schema` is OpenAPI v3 in the CRD dialect;
//! `jsonschema` validates JSON Schema 2020-12. The conversion rewrites only what differs
//! (`nullable`, `x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields`, embedded
//! resources) and, when strict, closes every object to unknown fields as the API server does.
//! `schema-dirs` files are already JSON Schema; their kind, group and version come from their
//! file name, named the kubeconform or CRDs-catalog way.

use serde_json::{Value as J, json};

/// The JSON Schema of every served version of a CustomResourceDefinition (as JSON):
/// `(apiVersion, kind, schema)`, in the CRD's order. The one conversion of CRDs, for those of the
/// repository and for the bundled ones (`scripts/update-crd-schemas` runs it through
/// [`super::crd_kind_schemas`]).
pub(super) fn crd_schemas(crd: &J, strict: bool) -> Vec<(String, String, J)> {
    let group = crd["spec"]["group"].as_str().unwrap_or("");
    let kind = crd["spec"]["names"]["kind"].as_str().unwrap_or("");
    let mut out = Vec::new();
    for v in crd["spec"]["versions"].as_array().into_iter().flatten() {
        let (Some(name), Some(schema)) = (v["name"].as_str(), v["schema"].get("openAPIV3Schema"))
        else {
            continue;
        };
        if v["served"] == J::Bool(false) {
            continue;
        }
        let mut s = convert_openapi(schema, strict);
        // apiVersion, kind and metadata are always allowed on a custom resource.
        if let Some(props) = s.get_mut("properties").and_then(|p| p.as_object_mut()) {
            props
                .entry("apiVersion")
                .or_insert(json!({"type": "string"}));
            props.entry("kind").or_insert(json!({"type": "string"}));
            props.entry("metadata").or_insert(json!({"type": "object"}));
        }
        out.push((format!("{group}/{name}"), kind.to_string(), s));
    }
    out
}

/// OpenAPI v3 (CRD dialect) → JSON Schema 2020-12.
fn convert_openapi(s: &J, strict: bool) -> J {
    let J::Object(m) = s else { return s.clone() };
    let mut out = serde_json::Map::new();
    for (k, v) in m {
        match k.as_str() {
            "properties" | "patternProperties" => {
                let props: serde_json::Map<String, J> = v
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(k, v)| (k.clone(), convert_openapi(v, strict)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(k.clone(), J::Object(props));
            }
            "items" | "additionalProperties" | "not" => {
                out.insert(
                    k.clone(),
                    if v.is_object() {
                        convert_openapi(v, strict)
                    } else {
                        v.clone()
                    },
                );
            }
            "allOf" | "anyOf" | "oneOf" => {
                out.insert(
                    k.clone(),
                    J::Array(
                        v.as_array()
                            .map(|a| a.iter().map(|x| convert_openapi(x, strict)).collect())
                            .unwrap_or_default(),
                    ),
                );
            }
            "nullable"
            | "x-kubernetes-int-or-string"
            | "x-kubernetes-preserve-unknown-fields"
            | "x-kubernetes-embedded-resource"
            | "x-kubernetes-list-type"
            | "x-kubernetes-list-map-keys"
            | "x-kubernetes-map-type"
            | "x-kubernetes-validations"
            | "description"
            | "example" => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    let nullable = m.get("nullable") == Some(&J::Bool(true));
    if m.get("x-kubernetes-int-or-string") == Some(&J::Bool(true)) {
        out.remove("type");
        out.insert(
            "anyOf".into(),
            if nullable {
                json!([{"type": "integer"}, {"type": "string"}, {"type": "null"}])
            } else {
                json!([{"type": "integer"}, {"type": "string"}])
            },
        );
    }
    // An embedded resource is a whole object (a template's Pod, a Job): it always carries
    // apiVersion, kind and metadata even when its schema lists only the rest.
    if m.get("x-kubernetes-embedded-resource") == Some(&J::Bool(true)) {
        let props = out.entry("properties").or_insert_with(|| json!({}));
        if let Some(props) = props.as_object_mut() {
            props
                .entry("apiVersion")
                .or_insert(json!({"type": "string"}));
            props.entry("kind").or_insert(json!({"type": "string"}));
            props.entry("metadata").or_insert(json!({"type": "object"}));
        }
    }
    if nullable && let Some(t) = out.get("type").cloned() {
        let mut types: Vec<J> = match t {
            J::Array(a) => a,
            t => vec![t],
        };
        types.push(json!("null"));
        out.insert("type".into(), J::Array(types));
    }
    let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&J::Bool(true));
    if strict
        && !preserve
        && out.contains_key("properties")
        && !out.contains_key("additionalProperties")
    {
        out.insert("additionalProperties".into(), J::Bool(false));
    }
    J::Object(out)
}

/// `(lowercase kind, group, version)` of a schema file named the kubeconform or CRDs-catalog way.
pub(super) fn key_from_file_name(dir: &str, name: &str) -> Option<(String, String, String)> {
    let stem = name.strip_suffix(".json")?.to_ascii_lowercase();
    // CRDs catalog: {group}/{kind}_{version}.json
    if let Some((kind, version)) = stem.split_once('_') {
        let group = dir.rsplit('/').next().unwrap_or("").to_string();
        return Some((kind.to_string(), group, version.to_string()));
    }
    // kubeconform: {kind}-{group}-{version}.json, group dots replaced by nothing after the first
    // label (deployment-apps-v1, certificate-cert-manager-v1 is ambiguous, so the group is
    // everything between the first and the last dash), or {kind}-{version}.json for core.
    let parts: Vec<&str> = stem.split('-').collect();
    match parts.as_slice() {
        [kind, version] => Some((kind.to_string(), String::new(), version.to_string())),
        [kind, middle @ .., version] => {
            Some((kind.to_string(), middle.join("-"), version.to_string()))
        }
        _ => None,
    }
}

/// Removes `additionalProperties: false` everywhere (the non-strict variant).
pub(super) fn relax(v: &mut J) {
    match v {
        J::Object(m) => {
            if m.get("additionalProperties") == Some(&J::Bool(false)) {
                m.remove("additionalProperties");
            }
            m.values_mut().for_each(relax);
        }
        J::Array(a) => a.iter_mut().for_each(relax),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(schema: &J, instance: J) -> bool {
        jsonschema::validator_for(schema)
            .expect("converted schema compiles")
            .is_valid(&instance)
    }

    #[test]
    fn crd_extensions_convert_to_json_schema() {
        let crd = json!({
            "type": "object",
            "properties": {
                "port": {"x-kubernetes-int-or-string": true, "nullable": true},
                "note": {"type": "string", "nullable": true},
                "job": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": true,
                    "properties": {"spec": {"type": "object"}}
                },
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                         "properties": {"a": {"type": "string"}}}
            }
        });
        let strict = convert_openapi(&crd, true);
        assert!(valid(&strict, json!({"port": 80})));
        assert!(valid(&strict, json!({"port": "http"})));
        assert!(valid(&strict, json!({"port": null, "note": null})));
        assert!(!valid(&strict, json!({"port": 1.5})));
        assert!(valid(
            &strict,
            json!({"job": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {}, "spec": {}}})
        ));
        assert!(!valid(&strict, json!({"job": {"other": 1}})));
        assert!(valid(&strict, json!({"free": {"anything": [1]}})));
        assert!(!valid(&strict, json!({"free": {"a": 1}})));
        assert!(!valid(&strict, json!({"unknown": 1})));
        assert!(valid(&convert_openapi(&crd, false), json!({"unknown": 1})));
    }
}
