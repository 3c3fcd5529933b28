//! Repository configuration (`.kustodian.yaml`) and the two-phase loader shared with policies.
//!
//! Loading is two-phase, as for every file a user writes: (1) parse with kustodian's YAML loader,
//! so every value has a line, and validate the whole document against the JSON Schema generated
//! from the Rust types (`schemas/*.schema.json`) with the `jsonschema` crate — unknown keys, wrong
//! types and bad enum values are all collected, each pointing at its line; (2) deserialize into the
//! typed struct only when phase one found nothing. So a user sees every mistake in one run.

use std::collections::BTreeMap;
use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::diag::{Finding, Severity};
use crate::discover::{Env, Stage};
use crate::source::{Loc, Sources};
use crate::yaml::{Node, Value};

/// `.kustodian.yaml`: how this repository is laid out. Every field is optional.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Globs (relative to the repository root) of overlay directories to check. Default: every
    /// `<app>/overlays/<env>` directory holding a kustomization.
    #[serde(default)]
    pub overlays: Vec<String>,
    /// Globs of paths never checked (e.g. `archive/**`).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Environment name → stage, in addition to the conventions (dev/development/test → dev,
    /// stage/staging/qa/preprod/uat → staging, prod/production/live → production).
    #[serde(default)]
    pub stages: BTreeMap<String, Stage>,
    /// Environment names in promotion order, to order environments that share a stage.
    #[serde(default)]
    pub order: Vec<String>,
    /// Secret names that exist in the clusters but are not in the repository (created by an
    /// operator, a CSI driver, ...). References to them are satisfied.
    #[serde(default)]
    pub external_secrets: Vec<String>,
    /// Rule settings for this repository (same format as a policy file's `rules:`). They override
    /// the built-in policy; a `--policy` file overrides them in turn.
    #[serde(default)]
    pub rules: crate::policy::Rules,
}

/// The loaded configuration with compiled patterns.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub file: ConfigFile,
    overlays: Option<GlobSet>,
    ignore: Option<GlobSet>,
}

impl Config {
    /// The repo config at `<root>/.kustodian.yaml` (or `.kustodian.yml`); defaults when absent.
    pub fn load(root: &Path, sources: &Sources) -> Result<Config, Vec<Finding>> {
        for name in [".kustodian.yaml", ".kustodian.yml"] {
            let p = root.join(name);
            if let Ok(text) = std::fs::read_to_string(&p) {
                let file: ConfigFile = load_validated(name, &text, sources, "config-error")?;
                return Config::from_file(file, name, sources);
            }
        }
        Ok(Config::default())
    }

    pub fn from_file(
        file: ConfigFile,
        path: &str,
        _sources: &Sources,
    ) -> Result<Config, Vec<Finding>> {
        let build = |globs: &[String]| -> Result<Option<GlobSet>, Vec<Finding>> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut b = GlobSetBuilder::new();
            let mut errs = Vec::new();
            for g in globs {
                match globset::GlobBuilder::new(g).literal_separator(true).build() {
                    Ok(glob) => {
                        b.add(glob);
                        // `dir/**` should also match `dir` itself.
                        if let Some(stem) = g.strip_suffix("/**")
                            && let Ok(glob) = Glob::new(stem)
                        {
                            b.add(glob);
                        }
                    }
                    Err(e) => {
                        let mut f = Finding::new(
                            "config-error",
                            Severity::Error,
                            format!("invalid glob '{g}': {e}"),
                        );
                        f.path = Some(path.to_string());
                        f.fatal = true;
                        errs.push(f);
                    }
                }
            }
            if errs.is_empty() {
                Ok(b.build().ok())
            } else {
                Err(errs)
            }
        };
        Ok(Config {
            overlays: build(&file.overlays)?,
            ignore: build(&file.ignore)?,
            file,
        })
    }

    /// Whether an overlay directory is in scope.
    pub fn includes_overlay(&self, dir: &str) -> bool {
        if self.ignore.as_ref().is_some_and(|g| g.is_match(dir)) {
            return false;
        }
        self.overlays.as_ref().is_none_or(|g| g.is_match(dir))
    }

    /// Stage of an environment name (config first, then conventions).
    pub fn stage_of(&self, env: &str) -> Option<Stage> {
        self.file
            .stages
            .get(env)
            .copied()
            .or_else(|| Stage::by_convention(env))
    }

    /// Sort key of an environment: stage, then position in `order`.
    pub fn env_rank(&self, env: &Env) -> (u8, usize) {
        let stage = match env.stage {
            Some(Stage::Dev) => 0,
            Some(Stage::Staging) => 1,
            Some(Stage::Production) => 2,
            None => 3,
        };
        let pos = self
            .file
            .order
            .iter()
            .position(|o| *o == env.name)
            .unwrap_or(usize::MAX);
        (stage, pos)
    }
}

/// The JSON Schema of a type, as committed under `schemas/`.
pub fn schema_of<T: JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialize")
}

/// Phase one and two: parse with spans, validate against `T`'s schema (all errors, each with its
/// line), then deserialize. Errors come back as fatal findings with rule id `rule`.
pub fn load_validated<T: DeserializeOwned + JsonSchema>(
    path: &str,
    text: &str,
    sources: &Sources,
    rule: &str,
) -> Result<T, Vec<Finding>> {
    let id = sources.add(path, text.into());
    let fail = |msg: String, loc: Loc| {
        let mut f = Finding::new(rule, Severity::Error, msg);
        f.loc = loc;
        f.path = Some(path.to_string());
        f.fatal = true;
        f
    };
    let docs = crate::yaml::parse_documents(text, id)
        .map_err(|e| vec![fail(format!("invalid YAML: {}", e.message), e.loc)])?;
    let doc = docs
        .into_iter()
        .find(|d| !d.is_null())
        .unwrap_or_else(|| Node::synth(Value::Map(Default::default())));
    let json = crate::yaml::to_json(&doc);
    let schema = schema_of::<T>();
    let validator = jsonschema::validator_for(&schema).expect("generated schemas compile");
    let mut errors: Vec<Finding> = validator
        .iter_errors(&json)
        .map(|e| {
            let pointer = e.instance_path().as_str().to_string();
            let (loc, key_loc) = locate(&doc, &pointer);
            let msg = e.to_string();
            // For unknown keys, point at the offending key itself.
            let unknown = msg
                .split('\'')
                .nth(1)
                .filter(|_| msg.contains("Additional properties"))
                .map(str::to_string);
            let loc = match &unknown {
                Some(k) => find_key(&doc, &pointer, k).unwrap_or(loc),
                None => key_loc.unwrap_or(loc),
            };
            let at = if pointer.is_empty() {
                "top level".to_string()
            } else {
                pointer.trim_start_matches('/').replace('/', ".")
            };
            let msg = match unknown {
                Some(k) => format!("unknown key '{k}' in {at}"),
                None => format!("{at}: {msg}"),
            };
            fail(msg, loc)
        })
        .collect();
    if !errors.is_empty() {
        errors.sort_by_key(|f| (f.loc.start, f.message.clone()));
        return Err(errors);
    }
    serde_json::from_value(json).map_err(|e| vec![fail(e.to_string(), doc.loc)])
}

/// The node at a JSON pointer (its location) and, for map entries, the key's location.
fn locate(doc: &Node, pointer: &str) -> (Loc, Option<Loc>) {
    let mut cur = doc;
    let mut key_loc = None;
    for tok in pointer.split('/').skip(1) {
        let tok = tok.replace("~1", "/").replace("~0", "~");
        match &cur.value {
            Value::Map(m) => match m.get_entry(&tok) {
                Some(e) => {
                    key_loc = Some(e.key_loc);
                    cur = &e.value;
                }
                None => break,
            },
            Value::Seq(items) => match tok.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(n) => {
                    key_loc = None;
                    cur = n;
                }
                None => break,
            },
            _ => break,
        }
    }
    (cur.loc, key_loc.filter(|_| !cur.loc.is_some()))
}

fn find_key(doc: &Node, pointer: &str, key: &str) -> Option<Loc> {
    let mut cur = doc;
    for tok in pointer.split('/').skip(1) {
        cur = match &cur.value {
            Value::Map(m) => m.get(tok)?,
            Value::Seq(items) => items.get(tok.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    cur.as_map()?.get_entry(key).map(|e| e.key_loc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_error_with_its_line() {
        let sources = Sources::new();
        let text = "overlays: [\"apps/*/overlays/*\"]\nstagez: {}\nstages:\n  qa: nightly\nexternal-secrets: 3\n";
        let errs = load_validated::<ConfigFile>(".kustodian.yaml", text, &sources, "config-error")
            .unwrap_err();
        let lines: Vec<(u32, String)> = errs
            .iter()
            .map(|f| (sources.position(f.loc).unwrap().line, f.message.clone()))
            .collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0].0, 2);
        assert!(lines[0].1.contains("unknown key 'stagez'"), "{lines:?}");
        assert_eq!(lines[1].0, 4);
        assert_eq!(lines[2].0, 5);
        assert!(errs.iter().all(|f| f.fatal));
    }

    #[test]
    fn globs_and_stages() {
        let sources = Sources::new();
        let text = "overlays: [\"apps/*/overlays/*\"]\nignore: [\"apps/legacy/**\"]\nstages:\n  canary: production\n";
        let file: ConfigFile =
            load_validated(".kustodian.yaml", text, &sources, "config-error").unwrap();
        let c = Config::from_file(file, ".kustodian.yaml", &sources).unwrap();
        assert!(c.includes_overlay("apps/web/overlays/prod"));
        assert!(!c.includes_overlay("apps/legacy/overlays/prod"));
        assert!(!c.includes_overlay("other/web/overlays/prod"));
        assert_eq!(c.stage_of("canary"), Some(Stage::Production));
        assert_eq!(c.stage_of("qa"), Some(Stage::Staging));
    }
}
