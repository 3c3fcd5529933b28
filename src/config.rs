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
use serde::de::DeserializeOwned;

use crate::diag::{Finding, Severity};
use crate::discover::{Env, Stage};
use crate::source::{Fs, FsError, Loc, Sources};
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
    /// Change-freeze windows (pull-request mode): changes to the protected environments or paths
    /// during a window fail `change-freeze`.
    #[serde(default)]
    pub freeze: Vec<FreezeWindow>,
    /// Rule settings for this repository (same format as a policy file's `rules:`). They override
    /// the built-in policy; a `--policy` file overrides them in turn.
    #[serde(default)]
    pub rules: crate::policy::Rules,
    /// Findings waived on purpose, each with its reason (reported as suppressed in JSON and
    /// SARIF, counted in the summary). For one line, a `# kustodian:ignore[<rule>] <reason>`
    /// comment next to it does the same.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
    /// Budgets for this repository (bytes per file, YAML depth, ...; docs/security.md), each
    /// only lower than the run's: raising one takes `--limits` on the command line, since the
    /// repository is what the budgets guard against.
    #[serde(default)]
    pub limits: crate::limits::LimitsFile,
}

/// A waiver for findings of one rule. Selectors left out match everything.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Exception {
    /// The rule id whose findings are waived (`kustodian rules`).
    pub rule: String,
    /// Why the findings are acceptable; shown with every suppressed finding.
    pub reason: String,
    /// Globs of app names.
    #[serde(default)]
    pub apps: Vec<String>,
    /// Environment names.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Globs of `Kind/name` of the rendered object (`Deployment/legacy-*`).
    #[serde(default)]
    pub resources: Vec<String>,
    /// The last day (`YYYY-MM-DD`, UTC) the exception applies; after it the findings count again
    /// and `unused-suppression` reports the exception.
    pub expires: Option<String>,
}

/// A change-freeze window: absolute (`from`/`to`, RFC 3339) or recurring weekly.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FreezeWindow {
    /// A name shown in findings (e.g. `weekend`, `black-friday`).
    pub name: String,
    /// Start, RFC 3339 (`2026-11-27T00:00:00+01:00`).
    pub from: Option<String>,
    /// End, RFC 3339.
    pub to: Option<String>,
    /// A window that repeats every week.
    pub weekly: Option<WeeklyWindow>,
    /// Stages protected (default: all, unless `environments` or `paths` are given).
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Environment names protected.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Path globs protected (repository-relative).
    #[serde(default)]
    pub paths: Vec<String>,
}

/// A weekly window: `from: "Fri 16:00"`, `to: "Mon 08:00"`, `timezone: Europe/Berlin`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WeeklyWindow {
    /// Day and time the window opens (`Mon`..`Sun` and `HH:MM`).
    pub from: String,
    /// Day and time the window closes.
    pub to: String,
    /// IANA time zone (default `UTC`).
    pub timezone: Option<String>,
}

/// Minutes since Monday 00:00 of `"Fri 16:00"`.
pub fn week_minute(s: &str) -> Result<i64, String> {
    let (day, time) = s
        .trim()
        .split_once(' ')
        .ok_or_else(|| format!("'{s}': expected a day and a time, e.g. \"Fri 16:00\""))?;
    let d = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .position(|x| day.to_ascii_lowercase().starts_with(x))
        .ok_or_else(|| format!("'{day}': expected a day Mon..Sun"))? as i64;
    let (h, m) = time
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("'{time}': expected HH:MM"))?;
    let (h, m): (i64, i64) = (
        h.parse().map_err(|_| format!("'{time}': expected HH:MM"))?,
        m.parse().map_err(|_| format!("'{time}': expected HH:MM"))?,
    );
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(format!("'{time}': not a time of day"));
    }
    Ok(d * 24 * 60 + h * 60 + m)
}

impl FreezeWindow {
    /// Checks the window's times; every problem is returned with the field it is about.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errs = Vec::new();
        let name = &self.name;
        match (&self.from, &self.to, &self.weekly) {
            (Some(a), Some(b), None) => {
                let mut times = Vec::new();
                for (field, t) in [("from", a), ("to", b)] {
                    match t.parse::<jiff::Timestamp>() {
                        Ok(ts) => times.push(ts),
                        Err(_) => errs.push((
                            field,
                            format!("freeze '{name}': '{t}' is not an RFC 3339 time"),
                        )),
                    }
                }
                if let [from, to] = times[..]
                    && to <= from
                {
                    errs.push((
                        "to",
                        format!(
                            "freeze '{name}': `to` ({b}) is not after `from` ({a}): the window \
                             would never be open"
                        ),
                    ));
                }
            }
            (None, None, Some(w)) => {
                let mut minutes = Vec::new();
                for (field, t) in [("from", &w.from), ("to", &w.to)] {
                    match week_minute(t) {
                        Ok(m) => minutes.push(m),
                        Err(e) => errs.push((field, format!("freeze '{name}': {e}"))),
                    }
                }
                // `to` before `from` is a window across the week's end; only an equal pair
                // is never open.
                if let [from, to] = minutes[..]
                    && from == to
                {
                    errs.push((
                        "to",
                        format!(
                            "freeze '{name}': weekly `to` equals `from`: the window would never \
                             be open"
                        ),
                    ));
                }
                if let Some(tz) = &w.timezone
                    && jiff::tz::TimeZone::get(tz).is_err()
                {
                    errs.push((
                        "timezone",
                        format!("freeze '{name}': unknown time zone '{tz}'"),
                    ));
                }
            }
            _ => errs.push((
                "name",
                format!("freeze '{name}': give either `from` and `to` (RFC 3339) or `weekly`"),
            )),
        }
        errs
    }

    /// Is the window open at `now`?
    pub fn active(&self, now: jiff::Timestamp) -> bool {
        if let (Some(a), Some(b)) = (&self.from, &self.to) {
            return match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
                (Ok(a), Ok(b)) => a <= now && now < b,
                _ => false,
            };
        }
        let Some(w) = &self.weekly else { return false };
        let tz = w
            .timezone
            .as_deref()
            .and_then(|t| jiff::tz::TimeZone::get(t).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC);
        let local = now.to_zoned(tz);
        let t = (local.weekday().to_monday_zero_offset() as i64) * 24 * 60
            + local.hour() as i64 * 60
            + local.minute() as i64;
        let (Ok(from), Ok(to)) = (week_minute(&w.from), week_minute(&w.to)) else {
            return false;
        };
        if from <= to {
            from <= t && t < to
        } else {
            t >= from || t < to
        }
    }
}

/// The loaded configuration with compiled patterns.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub file: ConfigFile,
    overlays: Option<GlobSet>,
    ignore: Option<GlobSet>,
    /// `exceptions`, compiled.
    pub waivers: Vec<crate::suppress::Waiver>,
    /// The run's budgets as lowered by `limits:` (see [`crate::limits`]).
    pub limits: crate::limits::Limits,
}

impl Config {
    /// The repo config at `.kustodian.yaml` (or `.kustodian.yml`) in the root of `fs`; defaults
    /// when absent. Read through the repository's [`Fs`] like every other file: a symlink out of
    /// the root, a directory or anything unreadable is a config error that names the file and
    /// never shows what lies behind it.
    pub fn load(fs: &dyn Fs, sources: &Sources) -> Result<Config, Vec<Finding>> {
        for name in [".kustodian.yaml", ".kustodian.yml"] {
            match fs.read(name) {
                Ok(text) => {
                    let file: ConfigFile = load_validated(name, &text, sources, "config-error")?;
                    return Config::from_file(file, name, sources);
                }
                Err(FsError::NotFound(_)) => {}
                Err(e) => {
                    let mut f = Finding::new(
                        "config-error",
                        Severity::Error,
                        format!("cannot read the repository config: {e}"),
                    );
                    f.path = Some(name.to_string());
                    f.fatal = true;
                    return Err(vec![f]);
                }
            }
        }
        Ok(Config::default())
    }

    pub fn from_file(
        file: ConfigFile,
        path: &str,
        sources: &Sources,
    ) -> Result<Config, Vec<Finding>> {
        let doc = sources.lookup(path).and_then(|id| {
            let text = sources.get(id)?.text.clone();
            crate::yaml::parse_documents(&text, id)
                .ok()?
                .into_iter()
                .find(|d| !d.is_null())
        });
        // A fatal finding at the value a JSON pointer names (else at the file).
        let fail = |pointer: &str, msg: String| {
            let mut f = Finding::new("config-error", Severity::Error, msg);
            f.path = Some(path.to_string());
            f.loc = doc.as_ref().map_or(Loc::NONE, |d| {
                let (loc, key_loc) = locate(d, pointer);
                if loc.is_some() {
                    loc
                } else {
                    key_loc.unwrap_or(d.loc)
                }
            });
            f.fatal = true;
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
        if let Some(d) = &doc {
            errs.extend(glob_errors(d, path, "config-error", CONFIG_GLOBS));
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
        let overlays = build(&file.overlays);
        let ignore = build(&file.ignore);
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Config {
            overlays,
            ignore,
            waivers: crate::suppress::Waiver::compile(&file.exceptions, path, sources)?,
            limits,
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

/// Where `.kustodian.yaml` holds globs (JSON pointers, `*` for any key or index).
const CONFIG_GLOBS: &[&str] = &[
    "/overlays/*",
    "/ignore/*",
    "/freeze/*/paths/*",
    "/exceptions/*/apps/*",
    "/exceptions/*/resources/*",
    "/rules/*/apps/*",
    "/rules/image-not-pinned/options/allow/*",
    "/rules/bot-write-scope/options/bots/*",
];

/// Where a policy file holds globs.
pub const POLICY_GLOBS: &[&str] = &[
    "/rules/*/apps/*",
    "/rules/image-not-pinned/options/allow/*",
    "/rules/bot-write-scope/options/bots/*",
];

/// Every string at one of `patterns` (JSON pointers with `*` segments) that is not a valid glob,
/// as a fatal finding at its line: a glob that does not compile would otherwise match nothing,
/// silently.
pub fn glob_errors(doc: &Node, path: &str, rule: &str, patterns: &[&str]) -> Vec<Finding> {
    fn walk<'a>(n: &'a Node, segs: &[&str], at: String, out: &mut Vec<(String, &'a Node)>) {
        let Some((first, rest)) = segs.split_first() else {
            out.push((at, n));
            return;
        };
        match &n.value {
            Value::Map(m) => {
                for e in &m.entries {
                    if *first == "*" || e.key == *first {
                        walk(&e.value, rest, format!("{at}.{}", e.key), out);
                    }
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if *first == "*" || first.parse() == Ok(i) {
                        walk(item, rest, format!("{at}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for p in patterns {
        let segs: Vec<&str> = p.split('/').skip(1).collect();
        walk(doc, &segs, String::new(), &mut found);
    }
    found
        .into_iter()
        .filter_map(|(at, n)| {
            let g = n.as_str()?;
            let e = globset::GlobBuilder::new(g).build().err()?;
            let mut f = Finding::new(
                rule,
                Severity::Error,
                format!(
                    "{}: invalid glob '{g}': {}",
                    at.trim_start_matches('.'),
                    e.kind()
                ),
            );
            f.loc = n.loc;
            f.path = Some(path.to_string());
            f.fatal = true;
            Some(f)
        })
        .collect()
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
    let (docs, duplicates) = crate::yaml::parse::parse_documents_with_duplicates(text, id)
        .map_err(|e| vec![fail(format!("invalid YAML: {}", e.message), e.loc)])?;
    // The later value would win silently: a setting or an exception written twice is a mistake
    // to point at, not a choice to make for the user.
    if !duplicates.is_empty() {
        return Err(duplicates
            .into_iter()
            .map(|d| {
                let mut f = fail(
                    format!("duplicate key '{}' (the later one would win)", d.key),
                    d.second,
                );
                f.related.push(crate::diag::Related {
                    loc: d.first,
                    message: "first given here".into(),
                });
                f
            })
            .collect());
    }
    let doc = docs
        .into_iter()
        .find(|d| !d.is_null())
        .unwrap_or_else(|| Node::synth(Value::Map(Default::default())));
    let json = crate::yaml::to_json(&doc);
    let schema_errors = |json: &serde_json::Value| {
        let schema = schema_of::<T>();
        let validator = jsonschema::validator_for(&schema).expect("generated schemas compile");
        let mut out = Vec::new();
        for e in validator.iter_errors(json) {
            specific_errors(&e, &mut out);
        }
        out
    };
    // The schema is generated from `T`, whose types all deny unknown fields: a document serde
    // accepts is one the schema accepts. Only a document that fails pays for compiling the schema
    // (~2 ms, most of a one-app check) to report every error at its line. Debug builds (every
    // test) check that agreement on each document they load.
    if let Ok(v) = serde_json::from_value::<T>(json.clone()) {
        debug_assert!(
            schema_errors(&json).is_empty(),
            "{path}: serde accepts what the schema refuses: {:?}",
            schema_errors(&json)
        );
        return Ok(v);
    }
    let mut errors: Vec<Finding> = schema_errors(&json)
        .into_iter()
        .map(|(pointer, msg)| {
            let (loc, key_loc) = locate(&doc, &pointer);
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

/// The errors to show for one schema error. "Not valid under any of the schemas listed in
/// 'anyOf'" names neither the field nor the value at fault: the alternative that got deepest
/// into the value (an object with a bad field, rather than "not null") says both.
fn specific_errors(e: &jsonschema::ValidationError, out: &mut Vec<(String, String)>) {
    use jsonschema::error::ValidationErrorKind as K;
    let here = e.instance_path().as_str().len();
    if let K::AnyOf { context } | K::OneOfNotValid { context } = e.kind() {
        let depth = |branch: &Vec<jsonschema::ValidationError>| {
            branch
                .iter()
                .map(|x| x.instance_path().as_str().len())
                .max()
                .unwrap_or(0)
        };
        if let Some(best) = context.iter().max_by_key(|b| depth(b))
            && depth(best) > here
        {
            for x in best {
                specific_errors(x, out);
            }
            return;
        }
    }
    out.push((e.instance_path().as_str().to_string(), e.to_string()));
}

/// Loads a document that ships inside the binary (the built-in policy): parsed and
/// deserialized without the schema pass, which costs a schema compilation per run and can only
/// fail if the file and its schema drift apart — a unit test runs the full
/// [`load_validated`] on it instead.
pub fn load_builtin<T: DeserializeOwned>(
    path: &str,
    text: &str,
    sources: &Sources,
) -> Result<T, String> {
    let id = sources.add(path, text.into());
    let docs = crate::yaml::parse_documents(text, id).map_err(|e| e.message)?;
    let doc = docs
        .into_iter()
        .find(|d| !d.is_null())
        .unwrap_or_else(|| Node::synth(Value::Map(Default::default())));
    serde_json::from_value(crate::yaml::to_json(&doc)).map_err(|e| e.to_string())
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
