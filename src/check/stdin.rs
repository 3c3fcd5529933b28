//! `kustodian check -`: rendered manifests from standard input, as kubeconform and conftest read
//! them (`kustomize build overlays/production | kustodian check --env production -`, or `helm
//! template … | kustodian check -`).
//!
//! The stream is one environment of one app: its objects are what a build rendered, so every
//! rule that judges a single environment runs on them — schema validation (the bundled
//! Kubernetes version, `--kubernetes-version`, `schema-dirs` relative to the working directory,
//! and the CRDs the stream itself carries), image pinning, limits, secrets, the custom rules of
//! the policy given by `--policy` and the ValidatingAdmissionPolicies the stream carries — with
//! that policy, and inline `# kustodian:ignore[...]` comments honoured. Rules that
//! compare environments, read kustomizations or a Git history find nothing to say. `--env NAME`
//! names the environment and so gives its stage (`production` turns on the production-only
//! rules); without it the stream is environment `stdin`, of no stage. Findings point at lines of
//! the stream (`<stdin>:LINE`), which is what a reader of `kustomize build`'s output can look up.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{CheckOptions, Outcome};
use crate::diag::{Collector, ErrorCode, Finding, Related, Summary};
use crate::discover::{App, Env};
use crate::render::{Build, Resource};
use crate::rules::{self, AppCtx};
use crate::settings::{Config, Policy, Stage};
use crate::source::{DiskFs, Fs, Sources};
use crate::yaml::Node;

/// The name findings give the stream.
pub(crate) const STDIN: &str = "<stdin>";

fn outcome(findings: Vec<Finding>, summary: Summary, sources: Sources) -> Outcome {
    Outcome {
        findings,
        summary,
        sources,
        affected: vec![],
        changes: vec![],
        rules: vec![],
        rule_times: vec![],
        policy_results: vec![],
    }
}

/// The objects of a stream: every non-empty document, the items of a `List` in its place.
fn objects(docs: Vec<Node>, out: &Collector) -> Vec<Resource> {
    let mut resources = Vec::new();
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        let items = doc
            .str_at(&["kind"])
            .is_some_and(|k| k.ends_with("List"))
            .then(|| doc.get("items").and_then(Node::as_seq).cloned())
            .flatten();
        for obj in items.unwrap_or_else(|| vec![doc]) {
            if obj.as_map().is_none()
                || obj.str_at(&["kind"]).is_none()
                || obj.str_at(&["apiVersion"]).is_none()
            {
                let mut f = Finding::error_code(
                    ErrorCode::Render,
                    "not a Kubernetes object: every document needs `apiVersion` and `kind`",
                );
                f.loc = obj.loc;
                out.push(f);
                continue;
            }
            resources.push(Resource::new(obj));
        }
    }
    resources
}

/// Checks the manifests in `text` as one rendered environment (see the module documentation).
pub fn check_stream(text: &str, opts: &CheckOptions) -> Outcome {
    let sources = Sources::new();
    let id = sources.add(STDIN, text.into());
    let mut policy = match Policy::load(opts.policy.as_deref(), &sources, &rules::CATALOG) {
        Ok(p) => p,
        Err(all) => return outcome(all, Summary::default(), sources),
    };
    opts.restrict(&mut policy);
    if opts.envs.len() > 1 {
        let f = Finding::error_code(
            ErrorCode::Config,
            format!(
                "standard input is one environment: give at most one --env (got {})",
                opts.envs.join(", ")
            ),
        );
        return outcome(vec![f], Summary::default(), sources);
    }
    let out = Collector::new();
    let docs = match crate::yaml::parse::parse_documents_with_duplicates(text, id) {
        Ok((docs, dups)) => {
            if let Some(sev) = policy
                .level("schema-violation")
                .and_then(crate::settings::level::Level::severity)
            {
                for d in dups {
                    let mut f = Finding::new(
                        "schema-violation",
                        sev,
                        format!(
                            "duplicate key '{}': kubectl and the API server reject the document",
                            d.key
                        ),
                    );
                    f.loc = d.second;
                    f.related.push(Related {
                        loc: d.first,
                        message: "first given here".into(),
                    });
                    out.push(f);
                }
            }
            docs
        }
        Err(e) => {
            let mut f = Finding::error_code(ErrorCode::Render, e.message.clone());
            f.loc = e.loc;
            return outcome(vec![f], Summary::default(), sources);
        }
    };
    let resources = objects(docs, &out);
    let env_name = opts.envs.first().cloned().unwrap_or_else(|| "stdin".into());
    let env = Env::plain(
        env_name.clone(),
        Stage::by_convention(&env_name),
        String::new(),
    );
    let app = App {
        name: "stdin".into(),
        dir: String::new(),
        base: None,
        envs: vec![env.clone()],
        pairs: vec![],
    };
    let summary = Summary {
        overlays: 1,
        resources: resources.len(),
        ..Summary::default()
    };
    let build = Build {
        resources,
        files: BTreeSet::new(),
        unmatched_patches: vec![],
    };
    let schemas = match schemas_for(&policy, opts, &build) {
        Ok(s) => s,
        Err(msg) => {
            out.push(Finding::error_code(ErrorCode::Policy, msg));
            None
        }
    };
    let config = Config::default();
    let ctx = AppCtx {
        app: &app,
        base: None,
        envs: vec![(&env, &build)],
        sources: &sources,
        config: &config,
        policy: &policy,
        pr: None,
        schemas: schemas.as_ref(),
    };
    let policies = match judge(&ctx, opts, &out) {
        Ok(p) => p,
        Err(all) => return outcome(all, Summary::default(), sources),
    };
    let mut findings = out.into_sorted(&sources);
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    super::suppress::apply(&mut findings, &config.waivers, &sources, today);
    let mut summary = summary;
    super::tree::count(&mut summary, &findings, false);
    if let Some(f) = opts.unknown_rule(&policy, &policies) {
        return outcome(vec![f], Summary::default(), sources);
    }
    let mut done = outcome(findings, summary, sources);
    done.rules = policies.docs();
    done.rule_times = policies.times();
    done
}

/// Runs every rule the policy turns on, then the policy file's custom rules and the admission
/// policies the stream itself carries, into `out`; the policy set, for its rule descriptions.
fn judge(
    ctx: &AppCtx,
    opts: &CheckOptions,
    out: &Collector,
) -> Result<crate::policies::PolicySet, Vec<Finding>> {
    let policy = ctx.policy;
    for rule in rules::RULES {
        let Some(severity) = policy
            .level(rule.info().id)
            .and_then(crate::settings::level::Level::severity)
        else {
            continue;
        };
        for mut f in rule.check(ctx, policy.rule(rule.info().id)) {
            f.severity = severity;
            out.push(f);
        }
    }
    let mut policies = crate::policies::PolicySet::load(
        &crate::source::MemFs::default(),
        ctx.config,
        policy,
        ctx.sources,
        opts.timings,
    )?;
    opts.restrict_policies(&mut policies);
    for f in policies.check_app(ctx) {
        out.push(f);
    }
    Ok(policies)
}

/// The schemas to validate the stream with: the bundled version (`--kubernetes-version`, else
/// the policy's), `schema-dirs` (relative to `opts.root`, the working directory) and the CRDs in
/// the stream; `None` when both schema rules are off.
fn schemas_for(
    policy: &Policy,
    opts: &CheckOptions,
    build: &Build,
) -> Result<Option<crate::schema::SchemaSet>, String> {
    let on = ["schema-violation", "schema-missing"].iter().any(|id| {
        policy
            .level(id)
            .and_then(crate::settings::level::Level::severity)
            .is_some()
    });
    if !on {
        return Ok(None);
    }
    let o = super::schema_options(policy);
    let crds: Vec<&Node> = build
        .resources
        .iter()
        .filter(|r| r.kind() == "CustomResourceDefinition")
        .map(|r| &r.node)
        .collect();
    let mut set = crate::schema::SchemaSet::new(opts.kubernetes_version(o), o.strict, &crds)
        .map_err(|e| e.to_string())?;
    if !o.schema_dirs.is_empty() {
        let fs: Arc<dyn Fs> = Arc::new(DiskFs::new(&opts.root).map_err(|e| e.to_string())?);
        set.add_dirs(&*fs, &o.schema_dirs)
            .map_err(|e| e.to_string())?;
    }
    let kinds: Vec<(String, String)> = build
        .resources
        .iter()
        .map(|r| (r.id().api_version(), r.kind().to_string()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    set.prepare(&kinds);
    Ok(Some(set))
}
