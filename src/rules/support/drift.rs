//! What differs between a staging environment and the production environment it promotes to,
//! and where each difference comes from — shared by `promotion-drift` (differences an
//! environment's own files introduce: errors) and `stage-config-differs` (differences a file
//! shared by every environment of a stage introduces: intended stage configuration, notes).
//!
//! A value's origin is the file its line is in. A file inside the environment's own directory,
//! or read by that environment alone among several of its stage (a patch only it uses), is the
//! environment's own: the seed's failure mode, a manual edit in one overlay, forgotten. A file
//! outside it that every environment of the stage reads and no environment of another stage
//! does (kostis-codefresh's `variants/prod`, a `components/production`) is stage configuration.
//! A difference is the environment's own when either side's value is.
//!
//! Overlay identity is not drift either (each exemption can be turned off in the rule's
//! options): values that differ only by the environments' names (`ENV=prod-eu`,
//! `podinfo.production.example.com`, Flux `spec.path: ./production`), namespace fields and
//! objects, replica counts from any source (and an HPA's bounds), and the kinds production alone
//! is expected to have (PodDisruptionBudgets, HorizontalPodAutoscalers).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diff::{Diff, allow_patterns, diff, show};
use super::normalize::{Side, first_loc, normalize, renames, same};
use super::resources::{counterpart, removal_by};
use crate::discover::Env;
use crate::render::{Build, Resource};
use crate::settings::Stage;
use crate::source::{Loc, Sources};
use crate::yaml::Node;

/// Which overlay-identity exemptions apply (all on by default).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IdentityOptions {
    /// Values that differ only by the environments' names (`ENV=staging-eu` vs `ENV=prod-eu`,
    /// `podinfo.staging.example.com` vs `podinfo.production.example.com`).
    #[serde(default = "yes")]
    pub environment_names: bool,
    /// Namespace fields (`namespace`, `targetNamespace`) and each overlay's own `Namespace` object.
    #[serde(default = "yes")]
    pub namespaces: bool,
    /// Replica counts (`spec.replicas`) and HorizontalPodAutoscaler bounds, from any source.
    #[serde(default = "yes")]
    pub replicas: bool,
    /// Kinds production may have that staging does not.
    #[serde(default = "production_only")]
    pub production_only: Vec<String>,
}

fn yes() -> bool {
    true
}

fn production_only() -> Vec<String> {
    vec![
        "PodDisruptionBudget".into(),
        "HorizontalPodAutoscaler".into(),
    ]
}

impl Default for IdentityOptions {
    fn default() -> IdentityOptions {
        IdentityOptions {
            environment_names: true,
            namespaces: true,
            replicas: true,
            production_only: production_only(),
        }
    }
}

/// Where a difference comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file of one environment alone (or a value with no file to tell).
    Own,
    /// A file every environment of a stage shares: intended stage configuration.
    Stage { file: String },
}

/// One difference between a staging and a production environment.
pub struct Drift<'a> {
    pub origin: Origin,
    /// The production object (or the staging one, for an object production lacks).
    pub resource: &'a Resource,
    /// The environment the object is in.
    pub in_production: bool,
    /// `None` for an object present in one environment only.
    pub path: Option<String>,
    pub message: String,
    pub loc: Loc,
    /// The other side's value, and how to label it.
    pub other: Option<(Loc, String)>,
    pub help: Option<String>,
}

/// Which environments of the app read each file.
pub struct Readers<'a> {
    envs: Vec<(&'a Env, &'a Build)>,
}

impl<'a> Readers<'a> {
    pub fn new(envs: &[(&'a Env, &'a Build)]) -> Readers<'a> {
        Readers {
            envs: envs.to_vec(),
        }
    }

    /// The origin of a value of environment `env` written at `loc`.
    fn origin(&self, env: &Env, loc: Loc, sources: &Sources) -> Option<Origin> {
        let file = sources.get(loc.file)?.path.clone();
        if file.starts_with(&format!("{}/", env.dir)) {
            return Some(Origin::Own);
        }
        let readers: Vec<&Env> = self
            .envs
            .iter()
            .filter(|(_, b)| b.files.contains(&file))
            .map(|(e, _)| *e)
            .collect();
        let stage_envs: Vec<&Env> = self
            .envs
            .iter()
            .map(|(e, _)| *e)
            .filter(|e| e.stage == env.stage)
            .collect();
        let only_this_stage = readers.iter().all(|e| e.stage == env.stage);
        let all_of_stage = stage_envs
            .iter()
            .all(|e| readers.iter().any(|r| r.name == e.name));
        if !only_this_stage {
            // Shared across stages (a base): the difference comes from the other side.
            return None;
        }
        if all_of_stage && (stage_envs.len() > 1 || !readers.is_empty()) {
            Some(Origin::Stage { file })
        } else {
            Some(Origin::Own)
        }
    }
}

/// Everything promotion-drift's comparison of one pair needs (`'a`: the renders, `'b`: the
/// comparison's own inputs).
pub struct Pair<'a, 'b> {
    pub senv: &'a Env,
    pub sb: &'a Build,
    pub penv: &'a Env,
    pub pb: &'a Build,
    pub sources: &'a Sources,
    pub readers: &'b Readers<'a>,
    pub allow: Vec<String>,
    pub identity: &'b IdentityOptions,
}

/// The differences between a staging and a production environment.
pub fn compare<'a>(p: &Pair<'a, '_>) -> Vec<Drift<'a>> {
    let allow = allow_patterns(&p.allow);
    let (sr, pr) = (renames(p.sb), renames(p.pb));
    let (ss, ps) = (
        Side {
            renames: &sr,
            sources: p.sources,
        },
        Side {
            renames: &pr,
            sources: p.sources,
        },
    );
    let mut out = Vec::new();
    for prod in &p.pb.resources {
        let Some(st) = counterpart(p.sb, prod) else {
            if !only_in_one_is_identity(p, prod, true) {
                out.push(only_in(p, prod, true));
            }
            continue;
        };
        // Almost every pair is the same once normalized: decide that without building the
        // normalized copies; only a pair that may differ goes through normalize + diff.
        let unchanged = same(&st.node, &prod.node, &mut String::new(), &ss, &ps);
        // Debug builds (every test) check the shortcut against the full comparison.
        if unchanged && !cfg!(debug_assertions) {
            continue;
        }
        let (Some(a), Some(b)) = (normalize(&st.node, "", &ss), normalize(&prod.node, "", &ps))
        else {
            continue;
        };
        let mut diffs = Vec::new();
        diff(&a, &b, String::new(), &mut diffs);
        if unchanged {
            debug_assert!(
                diffs.is_empty(),
                "promotion-drift shortcut missed {:?}",
                diffs.iter().map(|d| &d.path).collect::<Vec<_>>()
            );
            continue;
        }
        for d in diffs {
            let kind = prod.kind();
            let allowed = allow
                .iter()
                .any(|(k, re)| k.as_deref().is_none_or(|k| k == kind) && re.is_match(&d.path));
            if allowed || exempt(p, prod, &d) {
                continue;
            }
            out.push(field_drift(p, st, prod, &d));
        }
    }
    for st in &p.sb.resources {
        if counterpart(p.pb, st).is_none() && !only_in_one_is_identity(p, st, false) {
            out.push(only_in(p, st, false));
        }
    }
    out
}

/// Differences promotion is expected to make: images, Secret values, overlay identity.
fn exempt(p: &Pair<'_, '_>, r: &Resource, d: &Diff) -> bool {
    let kind = r.kind();
    if d.path.ends_with(".image") || super::pods::pod_spec_path(r).is_none() && d.path == "image" {
        return true;
    }
    // Secret values are per environment by nature; their keys are compared by
    // secret-keys-differ.
    if kind == "Secret" && (d.path.starts_with("data") || d.path.starts_with("stringData")) {
        return true;
    }
    let id = p.identity;
    let last = d.path.rsplit('.').next().unwrap_or(&d.path);
    if id.namespaces && (last == "namespace" || last == "targetNamespace") {
        return true;
    }
    if id.replicas
        && (d.path == "spec.replicas"
            || kind == "HorizontalPodAutoscaler"
                && matches!(d.path.as_str(), "spec.minReplicas" | "spec.maxReplicas"))
    {
        return true;
    }
    id.environment_names
        && match (d.staging, d.production) {
            (Some(a), Some(b)) => same_but_names(a, b, p.senv, p.penv),
            _ => false,
        }
}

/// An object in one environment only that the environment has as its identity: its own
/// Namespace, or a kind production alone is expected to have.
fn only_in_one_is_identity(p: &Pair<'_, '_>, r: &Resource, in_production: bool) -> bool {
    (p.identity.namespaces && r.kind() == "Namespace")
        || in_production && p.identity.production_only.iter().any(|k| k == r.kind())
}

/// Whether two values differ only by the environments' names (each side's own name, its stage
/// word and the stage's usual names, as whole tokens).
pub fn same_but_names(a: &Node, b: &Node, senv: &Env, penv: &Env) -> bool {
    let (Some(x), Some(y)) = (a.scalar_string(), b.scalar_string()) else {
        return false;
    };
    x != y && masked(&x, senv) == masked(&y, penv)
}

/// `s` with the environment's names replaced by placeholders.
fn masked(s: &str, env: &Env) -> String {
    let stage_words: &[&str] = match env.stage {
        Some(Stage::Production) => &["production", "prod", "prd", "live"],
        Some(Stage::Staging) => &["staging", "stage", "stg", "preprod"],
        Some(Stage::Dev) => &["development", "dev"],
        None => &[],
    };
    // Placeholders no word matches (a later stage word must not find itself in one).
    let mut out = replace_token(s, &env.name, "\u{1}");
    for w in stage_words {
        out = replace_token(&out, w, "\u{2}");
    }
    out
}

/// Replaces whole-token, case-insensitive occurrences of `word` (bounded by characters that
/// are not letters or digits).
fn replace_token(s: &str, word: &str, with: &str) -> String {
    if word.is_empty() {
        return s.to_string();
    }
    let lower = s.to_ascii_lowercase();
    let w = word.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(j) = lower[i..].find(&w).map(|j| j + i) {
        let end = j + w.len();
        let before = lower[..j]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        let after = lower[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        out.push_str(&s[i..j]);
        if before && after {
            out.push_str(with);
        } else {
            out.push_str(&s[j..end]);
        }
        i = end;
    }
    out.push_str(&s[i..]);
    out
}

/// An object present in one environment of the pair only.
fn only_in<'a>(p: &Pair<'a, '_>, r: &'a Resource, in_production: bool) -> Drift<'a> {
    let (here, there) = if in_production {
        (p.penv, p.senv)
    } else {
        (p.senv, p.penv)
    };
    let loc = r
        .node
        .get_path(&["metadata", "name"])
        .map(|n| n.loc)
        .filter(crate::source::Loc::is_some)
        .unwrap_or(r.loc());
    Drift {
        origin: p
            .readers
            .origin(here, loc, p.sources)
            .unwrap_or(Origin::Own),
        resource: r,
        in_production,
        path: None,
        message: format!(
            "{} '{}' exists in {} but not in {}",
            r.kind(),
            r.orig_id().name,
            here.name,
            there.name
        ),
        loc,
        other: None,
        help: None,
    }
}

/// A field whose values differ.
fn field_drift<'a>(p: &Pair<'a, '_>, st: &'a Resource, prod: &'a Resource, d: &Diff) -> Drift<'a> {
    // An absent value was usually removed by a patch: blame the patch.
    let ploc = d
        .production
        .map(first_loc)
        .or_else(|| removal_by(prod, &d.path))
        .unwrap_or(Loc::NONE);
    let sloc = d
        .staging
        .map(first_loc)
        .or_else(|| removal_by(st, &d.path))
        .unwrap_or(Loc::NONE);
    let po = p.readers.origin(p.penv, ploc, p.sources);
    let so = p.readers.origin(p.senv, sloc, p.sources);
    // The line to edit: an environment's own file first (production's, then staging's); else
    // the stage file that makes the difference.
    let (primary, other, other_label, origin) = match (&po, &so) {
        (Some(Origin::Own), _) | (None, None) => (ploc, sloc, &p.senv.name, Origin::Own),
        (_, Some(Origin::Own)) => (sloc, ploc, &p.penv.name, Origin::Own),
        (Some(o @ Origin::Stage { .. }), _) => (ploc, sloc, &p.senv.name, o.clone()),
        (None, Some(o @ Origin::Stage { .. })) => (sloc, ploc, &p.penv.name, o.clone()),
    };
    let primary = if primary.is_some() {
        primary
    } else {
        prod.loc()
    };
    let first = |n: Option<&Node>| show(n).lines().next().unwrap_or("").to_string();
    let (x, y) = (show(d.staging) + "\n", show(d.production) + "\n");
    let mut help = format!(
        "{}\nmake the change in the base, or in both environments, or allow `{}` in the policy's promotion-drift options",
        similar::TextDiff::from_lines(&x, &y)
            .unified_diff()
            .header(&p.senv.name, &p.penv.name),
        d.path
    );
    if d.path == "spec.replicas" {
        help.push_str(
            "; to size the environments differently, set the count with each overlay's `replicas:` field, which is the overlay's own",
        );
    }
    Drift {
        origin,
        resource: prod,
        in_production: true,
        path: Some(d.path.clone()),
        message: format!(
            "{} '{}' differs between {} and {} at {}: {} {} vs {} {}",
            prod.kind(),
            prod.orig_id().name,
            p.senv.name,
            p.penv.name,
            d.path,
            p.senv.name,
            first(d.staging),
            p.penv.name,
            first(d.production)
        ),
        loc: primary,
        other: other
            .is_some()
            .then(|| (other, format!("{other_label} value"))),
        help: Some(help),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Env {
        Env::plain(
            name.into(),
            Stage::by_convention(name),
            format!("envs/{name}"),
        )
    }

    #[test]
    fn values_that_differ_only_by_the_environments_names() {
        let (s, p) = (env("staging-eu"), env("prod-eu"));
        let same = |a: &str, b: &str| same_but_names(&Node::str(a), &Node::str(b), &s, &p);
        assert!(same("staging-eu", "prod-eu"));
        assert!(same(
            "podinfo.staging.example.com",
            "podinfo.prod.example.com"
        ));
        assert!(same(
            "podinfo.staging.example.com",
            "podinfo.production.example.com"
        ));
        assert!(same("./staging", "./production"));
        assert!(!same(
            "https://sandbox.paypal.com",
            "https://api.paypal.com"
        ));
        assert!(!same("staging-eu-1", "prod-us-1"));
        // Not inside other words.
        assert!(!same("prestaging", "preprod"));
        let (s, p) = (env("stg"), env("prd"));
        let same = |a: &str, b: &str| same_but_names(&Node::str(a), &Node::str(b), &s, &p);
        assert!(same("reports-stg", "reports-prd"));
        assert!(same("DB_stage", "DB_live"));
    }
}
