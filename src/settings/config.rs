//! Repository configuration (`.kustodian.yaml`) and the two-phase loader shared with policies.
//!
//! Loading is two-phase, as for every file a user writes: (1) parse with kustodian's YAML loader,
//! so every value has a line, and validate the whole document against the JSON Schema generated
//! from the Rust types (`schemas/*.schema.json`) with the `jsonschema` crate — unknown keys, wrong
//! types and bad enum values are all collected, each pointing at its line; (2) deserialize into the
//! typed struct only when phase one found nothing. So a user sees every mistake in one run.

use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};
use schemars::JsonSchema;
use serde::Deserialize;

use super::custom::{CustomDecl, CustomRule, declare};
pub(crate) use super::freeze::FreezeWindow;
use super::load::{CONFIG_GLOBS, glob_errors, load_with_schema, locate};
use super::policy::{RuleCatalog, Rules, check_rules, schema_with_rules};
use super::stage::Stage;
pub(crate) use super::waivers::Exception;
use super::waivers::Waiver;
use crate::diag::{ErrorCode, Finding};
use crate::source::{Fs, FsError, Loc, Sources};

/// `.kustodian.yaml`: how this repository is laid out. Every field is optional.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ConfigFile {
    /// Globs (relative to the repository root) of overlay directories to check. Default: every
    /// `<app>/overlays/<env>` directory holding a kustomization.
    #[serde(default)]
    pub(crate) overlays: Vec<String>,
    /// Globs of paths never checked (e.g. `archive/**`).
    #[serde(default)]
    pub(crate) ignore: Vec<String>,
    /// Environment name → stage, in addition to the conventions (dev/development/test → dev,
    /// stage/staging/qa/preprod/uat → staging, prod/production/live → production).
    #[serde(default)]
    pub(crate) stages: BTreeMap<String, Stage>,
    /// Environment names in promotion order, to order environments that share a stage.
    #[serde(default)]
    pub(crate) order: Vec<String>,
    /// Environments kustodian cannot find on its own (and stages or promotion edges for ones it
    /// finds): path patterns with `{app}` and `{env}` captures, or environment names.
    #[serde(default)]
    pub(crate) environments: Vec<EnvironmentEntry>,
    /// Secret names that exist in the clusters but are not in the repository (created by an
    /// operator, a CSI driver, ...). References to them are satisfied.
    #[serde(default)]
    pub(crate) external_secrets: Vec<String>,
    /// Change-freeze windows (pull-request mode): changes to the protected environments or paths
    /// during a window fail `change-freeze`.
    #[serde(default)]
    pub(crate) freeze: Vec<FreezeWindow>,
    /// Rule settings for this repository (same format as a policy file's `rules:`). They override
    /// the built-in policy; a `--policy` file overrides them in turn.
    #[serde(default)]
    pub(crate) rules: Rules,
    /// Findings waived on purpose, each with its reason (reported as suppressed in JSON and
    /// SARIF, counted in the summary). For one line, a `# kustodian:ignore[<rule>] <reason>`
    /// comment next to it does the same.
    #[serde(default)]
    pub(crate) exceptions: Vec<Exception>,
    /// Rules written in CEL (same format as a policy file's `custom:`, docs/policies.md).
    #[serde(default)]
    pub(crate) custom: Vec<CustomRule>,
    /// Globs of files holding ValidatingAdmissionPolicies, their bindings and parameter
    /// objects (`policies/admission/*.yaml`): they apply to every environment their bindings
    /// select. Policies rendered into an environment apply to it without being listed here.
    #[serde(default)]
    pub(crate) admission_policies: Vec<String>,
    /// Directories (or files) of Conftest policies in Rego, v1 or v0 syntax (`policy`).
    #[serde(default)]
    pub(crate) rego: Vec<String>,
    /// The Rego packages whose `deny`, `violation` and `warn` rules run (conftest's
    /// `--namespace`); `*` for every package. Default: `main`.
    #[serde(default)]
    pub(crate) rego_namespaces: Vec<String>,
    /// Budgets for this repository (bytes per file, YAML depth, ...; docs/security.md), each
    /// only lower than the run's: raising one takes `--limits` on the command line, since the
    /// repository is what the budgets guard against.
    #[serde(default)]
    pub(crate) limits: crate::limits::LimitsFile,
}

/// One entry of `environments:`: a path pattern that names environments (and apps), or an
/// environment name whose stage and promotion edges it sets.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct EnvironmentEntry {
    /// Directory pattern, relative to the repository root: `*` matches one path segment, `**`
    /// any number, `{app}` and `{env}` capture one segment each (e.g. `envs/{env}`,
    /// `teams/*/apps/{app}/deploy/{env}`). Every matching directory holding a kustomization is an
    /// environment.
    pub(crate) path: Option<String>,
    /// The app's name when the pattern has no `{app}` (default: the repository, named after the
    /// checked directory).
    pub(crate) app: Option<String>,
    /// The environment's name when the pattern has no `{env}`. Without `path`, the entry applies
    /// its `stage` and `promotes-to` to every environment of this name, however it was found.
    pub(crate) name: Option<String>,
    /// The stage of the environments the entry names (default: read from their names).
    pub(crate) stage: Option<Stage>,
    /// Environment names this one promotes to (`staging-eu` → `[prod-eu]`): production
    /// environments are compared with the environment that promotes to them.
    #[serde(default)]
    pub(crate) promotes_to: Vec<String>,
}

impl EnvironmentEntry {
    /// What is wrong with the entry, if anything.
    pub(crate) fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        let Some(path) = &self.path else {
            if self.name.is_none() {
                errs.push("give a `path` pattern, or the `name` of an environment".into());
            }
            if self.app.is_some() {
                errs.push("`app` needs a `path`".into());
            }
            return errs;
        };
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        if path.starts_with('/') || segments.iter().any(|s| *s == ".." || s.is_empty()) {
            errs.push(format!(
                "'{path}': a directory pattern relative to the repository root, without `..`"
            ));
        }
        for cap in ["{app}", "{env}"] {
            let n = segments.iter().filter(|s| **s == cap).count();
            if n > 1 {
                errs.push(format!("'{path}': {cap} may appear once"));
            }
            if segments.iter().any(|s| s.contains(cap) && *s != cap) {
                errs.push(format!("'{path}': {cap} must be a whole path segment"));
            }
        }
        let has_env = segments.contains(&"{env}");
        if !has_env && self.name.is_none() {
            errs.push(format!(
                "'{path}' has no {{env}}: name the environment with `name`"
            ));
        }
        if has_env && self.name.is_some() {
            errs.push("`name` and an {env} capture both name the environment: keep one".into());
        }
        if segments.contains(&"{app}") && self.app.is_some() {
            errs.push("`app` and an {app} capture both name the app: keep one".into());
        }
        errs
    }
}

/// The loaded configuration with compiled patterns.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub(crate) file: ConfigFile,
    overlays: Option<GlobSet>,
    ignore: Option<GlobSet>,
    /// `exceptions`, compiled.
    pub(crate) waivers: Vec<Waiver>,
    /// The run's budgets as lowered by `limits:` (see [`crate::limits`]).
    pub(crate) limits: crate::limits::Limits,
    /// Where each `environments:` entry is written (same order).
    pub(crate) environment_locs: Vec<Loc>,
    /// `custom`, checked.
    pub(crate) custom: Vec<CustomDecl>,
}

impl Config {
    /// The repo config at `.kustodian.yaml` (or `.kustodian.yml`) in the root of `fs`; defaults
    /// when absent. Read through the repository's [`Fs`] like every other file: a symlink out of
    /// the root, a directory or anything unreadable is a config error that names the file and
    /// never shows what lies behind it.
    pub fn load(
        fs: &dyn Fs,
        sources: &Sources,
        catalog: &dyn RuleCatalog,
    ) -> Result<Config, Vec<Finding>> {
        for name in [".kustodian.yaml", ".kustodian.yml"] {
            match fs.read(name) {
                Ok(text) => {
                    let file = load_config_file(name, &text, sources, catalog)?;
                    return Config::from_file(file, name, sources, catalog);
                }
                Err(FsError::NotFound(_)) => {}
                Err(e) => {
                    let mut f = Finding::error_code(
                        ErrorCode::Config,
                        format!("cannot read the repository config: {e}"),
                    );
                    f.path = Some(name.to_string());
                    return Err(vec![f]);
                }
            }
        }
        Ok(Config::default())
    }

    pub(crate) fn from_file(
        file: ConfigFile,
        path: &str,
        sources: &Sources,
        catalog: &dyn RuleCatalog,
    ) -> Result<Config, Vec<Finding>> {
        let doc = super::load::document(sources, path);
        // A fatal finding at the value a JSON pointer names (else at the file).
        let fail = |pointer: &str, msg: String| {
            let mut f = Finding::error_code(ErrorCode::Config, msg);
            f.path = Some(path.to_string());
            f.loc = doc.as_ref().map_or(Loc::NONE, |d| {
                let (loc, key_loc) = locate(d, pointer);
                if loc.is_some() {
                    loc
                } else {
                    key_loc.unwrap_or(d.loc)
                }
            });
            f
        };
        let mut errs: Vec<Finding> = Vec::new();
        for (i, w) in file.freeze.iter().enumerate() {
            for (field, msg) in w.validate() {
                let weekly = if w.weekly.is_some() && field != "name" {
                    "/weekly"
                } else {
                    ""
                };
                errs.push(fail(&format!("/freeze/{i}{weekly}/{field}"), msg));
            }
        }
        let limits = crate::limits::get()
            .lowered_by(&file.limits)
            .unwrap_or_else(|e| {
                errs.extend(
                    e.into_iter()
                        .map(|(name, msg)| fail(&format!("/limits/{name}"), msg)),
                );
                crate::limits::get()
            });
        let entry = |i: usize| {
            doc.as_ref()
                .and_then(|d| d.get("environments")?.as_seq()?.get(i))
                .map_or(Loc::NONE, |n| n.loc)
        };
        let environment_locs: Vec<Loc> = (0..file.environments.len()).map(entry).collect();
        for (i, e) in file.environments.iter().enumerate() {
            for msg in e.validate() {
                let mut f =
                    Finding::error_code(ErrorCode::Config, format!("environments[{i}]: {msg}"));
                f.path = Some(path.to_string());
                f.loc = environment_locs[i];
                errs.push(f);
            }
        }
        if let Some(d) = &doc {
            errs.extend(glob_errors(d, path, ErrorCode::Config.id(), CONFIG_GLOBS));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let build = |globs: &[String]| -> Option<GlobSet> {
            if globs.is_empty() {
                return None;
            }
            let mut b = GlobSetBuilder::new();
            for g in globs {
                if let Ok(glob) = globset::GlobBuilder::new(g).literal_separator(true).build() {
                    b.add(glob);
                    // `dir/**` should also match `dir` itself.
                    if let Some(stem) = g.strip_suffix("/**")
                        && let Ok(glob) = Glob::new(stem)
                    {
                        b.add(glob);
                    }
                }
            }
            b.build().ok()
        };
        let custom = declare(
            &file.custom,
            path,
            sources,
            &|id| catalog.is_known(id),
            ErrorCode::Config,
        )?;
        let custom_ids: Vec<&str> = custom.iter().map(|d| d.rule.id.as_str()).collect();
        Ok(Config {
            overlays: build(&file.overlays),
            ignore: build(&file.ignore),
            waivers: Waiver::compile(&file.exceptions, path, sources, catalog, &custom_ids)?,
            limits,
            environment_locs,
            custom,
            file,
        })
    }

    /// Whether a path is excluded by `ignore:`.
    pub(crate) fn ignored(&self, path: &str) -> bool {
        self.ignore.as_ref().is_some_and(|g| g.is_match(path))
    }

    /// Whether an overlay directory is in scope.
    pub(crate) fn includes_overlay(&self, dir: &str) -> bool {
        if self.ignore.as_ref().is_some_and(|g| g.is_match(dir)) {
            return false;
        }
        self.overlays.as_ref().is_none_or(|g| g.is_match(dir))
    }

    /// Stage of an environment name (config first, then conventions).
    pub(crate) fn stage_of(&self, env: &str) -> Option<Stage> {
        self.file
            .stages
            .get(env)
            .copied()
            .or_else(|| {
                self.file
                    .environments
                    .iter()
                    .find(|e| e.path.is_none() && e.name.as_deref() == Some(env))
                    .and_then(|e| e.stage)
            })
            .or_else(|| Stage::by_convention(env))
    }

    /// The environments `env` promotes to, as configured (`environments:` entries by name).
    pub(crate) fn promotes_to(&self, env: &str) -> Vec<String> {
        self.file
            .environments
            .iter()
            .filter(|e| e.name.as_deref() == Some(env))
            .flat_map(|e| e.promotes_to.iter().cloned())
            .collect()
    }

    /// Sort key of an environment: stage, then position in `order`.
    pub(crate) fn env_rank(&self, name: &str, stage: Option<Stage>) -> (u8, usize) {
        let pos = self
            .file
            .order
            .iter()
            .position(|o| o == name)
            .unwrap_or(usize::MAX);
        (Stage::rank(stage), pos)
    }
}

/// The JSON Schema of `.kustodian.yaml` (its `rules:` typed by the catalog).
pub fn config_schema(catalog: &dyn RuleCatalog) -> serde_json::Value {
    schema_with_rules::<ConfigFile>(catalog, &["properties", "rules"])
}

/// A repository config file, loaded in two phases against the catalog's schema.
pub(crate) fn load_config_file(
    path: &str,
    text: &str,
    sources: &Sources,
    catalog: &dyn RuleCatalog,
) -> Result<ConfigFile, Vec<Finding>> {
    load_with_schema(
        path,
        text,
        sources,
        ErrorCode::Config.id(),
        &|| config_schema(catalog),
        &|c: &ConfigFile| check_rules(&c.rules, catalog),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::policy::test_catalog::DEMO;

    #[test]
    fn reports_every_error_with_its_line() {
        let sources = Sources::new();
        let text = "overlays: [\"apps/*/overlays/*\"]\nstagez: {}\nstages:\n  qa: nightly\nexternal-secrets: 3\n";
        let errs = load_config_file(".kustodian.yaml", text, &sources, &DEMO).unwrap_err();
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
        let file = load_config_file(".kustodian.yaml", text, &sources, &DEMO).unwrap();
        let c = Config::from_file(file, ".kustodian.yaml", &sources, &DEMO).unwrap();
        assert!(c.includes_overlay("apps/web/overlays/prod"));
        assert!(!c.includes_overlay("apps/legacy/overlays/prod"));
        assert!(!c.includes_overlay("other/web/overlays/prod"));
        assert_eq!(c.stage_of("canary"), Some(Stage::Production));
        assert_eq!(c.stage_of("qa"), Some(Stage::Staging));
    }
}
