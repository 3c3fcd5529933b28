//! Strict decoding of a kustomization, the way kustomize decodes it.
//!
//! kustomize converts the kustomization's YAML to JSON with go-yaml v2 (YAML 1.1: plain `yes`,
//! `on`, `y` are booleans; `1.25` and `0o17` are numbers) and decodes that into its Go types with
//! unknown fields disallowed and field names matched case-insensitively. So `newTag: 1.25`,
//! `commonLabels: {tier: 1}`, `includeSelectors: "true"` or a misspelt `patches[0].targett` make
//! `kustomize build` (and so Argo CD and Flux) fail, while a lenient reader would render them. The
//! [`KUSTOMIZATION`] table mirrors those Go types (embedded structs flattened); [`check`] walks a
//! parsed kustomization against it before anything reads it, reports the first mismatch at its
//! line with what to write instead, and on the way rewrites what the decoder would have accepted
//! in another spelling — a field name in another case, a YAML 1.1 boolean word in a boolean field —
//! so the renderer reads what kustomize reads.

use super::error::RenderError;
use crate::source::Loc;
use crate::yaml::{Node, Value};

/// A Go type a kustomization field decodes into.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ty {
    Str,
    Bool,
    Int,
    /// `[]string`.
    Strs,
    /// `map[string]string`.
    StrMap,
    /// Not checked here (refused or checked elsewhere).
    Any,
    /// A struct: its JSON field names (embedded structs' fields included) and types.
    Obj(&'static [(&'static str, Ty)]),
    /// A slice of the type.
    List(&'static Ty),
}

use Ty::*;

const GVK: [(&str, Ty); 3] = [("group", Str), ("version", Str), ("kind", Str)];
const SELECTOR: Ty = Obj(&[
    GVK[0],
    GVK[1],
    GVK[2],
    ("name", Str),
    ("namespace", Str),
    ("annotationSelector", Str),
    ("labelSelector", Str),
]);
const FIELD_SPEC: Ty = Obj(&[GVK[0], GVK[1], GVK[2], ("path", Str), ("create", Bool)]);
const GENERATOR_OPTIONS: Ty = Obj(&[
    ("labels", StrMap),
    ("annotations", StrMap),
    ("disableNameSuffixHash", Bool),
    ("immutable", Bool),
]);
const FIELD_OPTIONS: Ty = Obj(&[
    ("delimiter", Str),
    ("index", Int),
    ("encoding", Str),
    ("create", Bool),
]);
const PATCH: Ty = Obj(&[
    ("path", Str),
    ("patch", Str),
    ("target", SELECTOR),
    (
        "options",
        Obj(&[("allowNameChange", Bool), ("allowKindChange", Bool)]),
    ),
]);
const IMAGE: Ty = Obj(&[
    ("name", Str),
    ("newName", Str),
    ("tagSuffix", Str),
    ("newTag", Str),
    ("digest", Str),
]);
const GENERATOR_ARGS: [(&str, Ty); 8] = [
    ("namespace", Str),
    ("name", Str),
    ("behavior", Str),
    ("literals", Strs),
    ("files", Strs),
    ("envs", Strs),
    ("env", Str),
    ("options", GENERATOR_OPTIONS),
];

/// `types.Kustomization` of kustomize API v0.21.3.
pub(crate) const KUSTOMIZATION: Ty = Obj(&[
    ("apiVersion", Str),
    ("kind", Str),
    (
        "metadata",
        Obj(&[
            ("name", Str),
            ("namespace", Str),
            ("labels", StrMap),
            ("annotations", StrMap),
        ]),
    ),
    ("openapi", StrMap),
    ("namePrefix", Str),
    ("nameSuffix", Str),
    ("namespace", Str),
    ("commonLabels", StrMap),
    (
        "labels",
        List(&Obj(&[
            ("pairs", StrMap),
            ("includeSelectors", Bool),
            ("includeTemplates", Bool),
            ("includeVolumeClaimTemplates", Bool),
            ("fields", List(&FIELD_SPEC)),
        ])),
    ),
    ("commonAnnotations", StrMap),
    ("patchesStrategicMerge", Strs),
    ("patchesJson6902", List(&PATCH)),
    ("patches", List(&PATCH)),
    ("images", List(&IMAGE)),
    ("imageTags", List(&IMAGE)),
    (
        "replacements",
        List(&Obj(&[
            ("path", Str),
            (
                "source",
                Obj(&[
                    GVK[0],
                    GVK[1],
                    GVK[2],
                    ("name", Str),
                    ("namespace", Str),
                    ("fieldPath", Str),
                    ("options", FIELD_OPTIONS),
                ]),
            ),
            (
                "targets",
                List(&Obj(&[
                    ("select", SELECTOR),
                    ("reject", List(&SELECTOR)),
                    ("fieldPaths", Strs),
                    ("options", FIELD_OPTIONS),
                ])),
            ),
            ("sourceValue", Str),
        ])),
    ),
    ("replicas", List(&Obj(&[("name", Str), ("count", Int)]))),
    (
        "vars",
        List(&Obj(&[
            ("name", Str),
            (
                "objref",
                Obj(&[
                    ("apiVersion", Str),
                    GVK[0],
                    GVK[1],
                    GVK[2],
                    ("name", Str),
                    ("namespace", Str),
                ]),
            ),
            ("fieldref", Obj(&[("fieldPath", Str)])),
        ])),
    ),
    (
        "sortOptions",
        Obj(&[
            ("order", Str),
            (
                "legacySortOptions",
                Obj(&[("orderFirst", Strs), ("orderLast", Strs)]),
            ),
        ]),
    ),
    ("resources", Strs),
    ("components", Strs),
    ("crds", Strs),
    ("bases", Strs),
    ("configMapGenerator", List(&Obj(&GENERATOR_ARGS))),
    (
        "secretGenerator",
        List(&Obj(&[
            GENERATOR_ARGS[0],
            GENERATOR_ARGS[1],
            GENERATOR_ARGS[2],
            GENERATOR_ARGS[3],
            GENERATOR_ARGS[4],
            GENERATOR_ARGS[5],
            GENERATOR_ARGS[6],
            GENERATOR_ARGS[7],
            ("type", Str),
        ])),
    ),
    ("helmGlobals", Any),
    ("helmCharts", Any),
    ("helmChartInflationGenerator", Any),
    ("generatorOptions", GENERATOR_OPTIONS),
    ("configurations", Strs),
    ("generators", Strs),
    ("transformers", Strs),
    ("validators", Strs),
    ("buildMetadata", Strs),
]);

/// Checks (and normalizes) a kustomization document against [`KUSTOMIZATION`]. `text` is the
/// file's text, to tell a plain `yes` (a YAML 1.1 boolean) from a quoted one. Unknown top-level
/// fields are left to the caller, which knows the supported subset and suggests spellings.
/// `lenient`: unknown fields below the top are dropped instead of refused (Flux's decoder).
pub(crate) fn check(doc: &mut Node, text: &str, lenient: bool) -> Result<(), RenderError> {
    let w = Walk { text, lenient };
    w.walk(doc, KUSTOMIZATION, &Path::Root, true)
}

struct Walk<'a> {
    text: &'a str,
    lenient: bool,
}

/// Where a value is, spelled out only for an error (kustomizations are checked on every build).
enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(Path::Root, k) => write!(f, "{k}"),
            Path::Field(p, k) => write!(f, "{p}.{k}"),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

impl Walk<'_> {
    fn walk(&self, n: &mut Node, ty: Ty, path: &Path, top: bool) -> Result<(), RenderError> {
        let text = self.text;
        if n.is_null() {
            return Ok(()); // JSON null decodes to the zero value of any type
        }
        let found = Found::of(n, text);
        match ty {
            Any => Ok(()),
            Str if found == Found::Str => Ok(()),
            Bool if found == Found::Bool => {
                if let Some(b) = yaml11_bool(n, text) {
                    n.value = Value::Bool(b);
                }
                Ok(())
            }
            Int if matches!(n.value, Value::Int(_)) => Ok(()),
            Int if matches!(n.value, Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18) => {
                n.value = Value::Int(n.as_i64().unwrap_or_default());
                Ok(())
            }
            Strs if found == Found::List => {
                let items = n.as_seq_mut().into_iter().flatten();
                for (i, item) in items.enumerate() {
                    self.walk(item, Str, &Path::Index(path, i), false)?;
                }
                Ok(())
            }
            List(inner) if found == Found::List => {
                let items = n.as_seq_mut().into_iter().flatten();
                for (i, item) in items.enumerate() {
                    self.walk(item, *inner, &Path::Index(path, i), false)?;
                }
                Ok(())
            }
            StrMap if found == Found::Map => {
                let entries = n.as_map_mut().map(|m| m.entries.iter_mut());
                for e in entries.into_iter().flatten() {
                    self.walk(&mut e.value, Str, &Path::Field(path, &e.key), false)?;
                }
                Ok(())
            }
            Obj(fields) if found == Found::Map => {
                if self.lenient
                    && !top
                    && let Some(m) = n.as_map_mut()
                {
                    m.entries
                        .retain(|e| fields.iter().any(|(f, _)| f.eq_ignore_ascii_case(&e.key)));
                }
                let entries = n.as_map_mut().map(|m| m.entries.iter_mut());
                for e in entries.into_iter().flatten() {
                    // encoding/json: an exact match first, else any case-insensitive one.
                    let field = fields
                        .iter()
                        .find(|(f, _)| *f == e.key)
                        .or_else(|| fields.iter().find(|(f, _)| f.eq_ignore_ascii_case(&e.key)));
                    let Some((name, fty)) = field else {
                        if top {
                            continue;
                        }
                        let known: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
                        return Err(RenderError::invalid(
                            format!(
                                "invalid Kustomization: unknown field '{}' (kustomize refuses it; known here: {})",
                                Path::Field(path, &e.key),
                                known.join(", ")
                            ),
                            e.key_loc,
                        ));
                    };
                    if e.key != *name {
                        e.key = (*name).into();
                    }
                    self.walk(&mut e.value, *fty, &Path::Field(path, name), false)?;
                }
                Ok(())
            }
            _ => Err(mismatch(n, ty, found, path, text)),
        }
    }
}

/// What a value is after kustomize's YAML 1.1 → JSON conversion.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    Str,
    Number,
    Bool,
    List,
    Map,
    Null,
}

impl Found {
    fn of(n: &Node, text: &str) -> Found {
        match &n.value {
            Value::Null => Found::Null,
            Value::Bool(_) => Found::Bool,
            Value::Int(_) | Value::Float(_) => Found::Number,
            Value::Str(_) if yaml11_bool(n, text).is_some() => Found::Bool,
            Value::Str(_) => Found::Str,
            Value::Seq(_) => Found::List,
            Value::Map(_) => Found::Map,
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Found::Str => "a string",
            Found::Number => "a number",
            Found::Bool => "a boolean",
            Found::List => "a list",
            Found::Map => "a mapping",
            Found::Null => "null",
        }
    }
}

/// A plain `yes`/`no`/`on`/`off`/`y`/`n` (YAML 1.1 booleans to go-yaml v2; strings to YAML 1.2).
fn yaml11_bool(n: &Node, text: &str) -> Option<bool> {
    let s = n.as_str()?;
    yaml11_bool_word(s).filter(|_| plain_at(text, n.loc, s))
}

/// The booleans YAML 1.1 has and YAML 1.2 does not, as go-yaml v2 reads them.
pub(crate) fn yaml11_bool_word(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Whether the text at `loc` is `s` itself, unquoted and untagged.
pub(crate) fn plain_at(text: &str, loc: Loc, s: &str) -> bool {
    if text.get(loc.start as usize..loc.end as usize) != Some(s) {
        return false;
    }
    let before = text.get(..loc.start as usize).unwrap_or("").trim_end();
    !before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '[' | '{' | ','))
        .next()
        .is_some_and(|t| t.starts_with('!'))
}

fn mismatch(n: &Node, ty: Ty, found: Found, path: &Path, text: &str) -> RenderError {
    let expected = match ty {
        Str => "a string",
        Bool => "a boolean (true or false)",
        Int => "an integer",
        Strs => "a list of strings",
        StrMap => "a mapping of strings to strings",
        Obj(_) => "a mapping",
        List(_) => "a list",
        Any => "anything",
    };
    let raw = text
        .get(n.loc.start as usize..n.loc.end as usize)
        .filter(|r| !r.contains('\n'))
        .unwrap_or("");
    let hint = match (ty, found) {
        (Str, Found::Number | Found::Bool) if !raw.is_empty() => {
            format!("; quote it: \"{raw}\"")
        }
        (Bool, Found::Str) => "; write true or false without quotes".to_string(),
        _ => String::new(),
    };
    let shown = if raw.is_empty() {
        String::new()
    } else {
        format!(" ({raw})")
    };
    RenderError::invalid(
        format!(
            "invalid Kustomization: '{path}' must be {expected}, not {}{shown}: kustomize refuses it{hint}",
            found.describe()
        ),
        n.loc,
    )
}
