//! Environments named by `environments:` path patterns in `.kustodian.yaml`.
//!
//! A pattern is matched against the directories holding a kustomization, segment by segment: `*`
//! matches one segment, `**` any number (including none), `{app}` and `{env}` one segment each,
//! captured; anything else literally. A pattern with no `{env}` names one environment (`name`);
//! with no `{app}`, its environments belong to the entry's `app` (default `.`, the repository).

use super::convention::{Walked, app_name};
use super::{Env, EnvSource, Found, SourceKind};
use crate::render::kustomization::find_kustomization_file;
use crate::settings::Config;
use crate::source::{Fs, child_rel};

/// What a pattern captured.
#[derive(Debug, Default, PartialEq, Eq)]
struct Captures {
    app: Option<(String, usize)>,
    env: Option<String>,
}

/// Matches `path` against `pattern`, both split in segments. `app` records the capture and the
/// number of segments up to and including it (the app's directory).
fn matches(pattern: &[&str], path: &[&str], at: usize, caps: &mut Captures) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            matches(&pattern[1..], path, at, caps)
                || (!path.is_empty() && matches(pattern, &path[1..], at + 1, caps))
        }
        (Some(p), Some(s)) => {
            let ok = match *p {
                "*" => true,
                "{app}" => {
                    caps.app = Some((s.to_string(), at + 1));
                    true
                }
                "{env}" => {
                    caps.env = Some(s.to_string());
                    true
                }
                lit => lit == *s,
            };
            ok && matches(&pattern[1..], &path[1..], at + 1, caps)
        }
        _ => false,
    }
}

/// The environments the config's patterns name.
pub(crate) fn find(fs: &dyn Fs, config: &Config, walked: &Walked) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, entry) in config.file.environments.iter().enumerate() {
        let Some(pattern) = &entry.path else { continue };
        let pattern: Vec<&str> = pattern.trim_matches('/').split('/').collect();
        for dir in &walked.kustomizations {
            if config.ignored(dir) {
                continue;
            }
            let segs: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
            let mut caps = Captures::default();
            if !matches(&pattern, &segs, 0, &mut caps) {
                continue;
            }
            let Some(env) = caps.env.or_else(|| entry.name.clone()) else {
                continue;
            };
            let (app, app_dir) = match caps.app {
                Some((name, n)) => (name, segs[..n].join("/")),
                None => (
                    entry.app.clone().unwrap_or_else(|| app_name("")),
                    String::new(),
                ),
            };
            let b = child_rel(&app_dir, "base");
            let base = find_kustomization_file(fs, &b).map(|_| b);
            out.push(Found {
                app,
                app_dir,
                base,
                env: Env {
                    stage: entry.stage.or_else(|| config.stage_of(&env)),
                    name: env,
                    dir: dir.clone(),
                    source: EnvSource {
                        kind: SourceKind::Config,
                        loc: config
                            .environment_locs
                            .get(i)
                            .copied()
                            .unwrap_or(crate::source::Loc::NONE),
                    },
                    build: None,
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> Option<Captures> {
        let p: Vec<&str> = pattern.split('/').collect();
        let s: Vec<&str> = path.split('/').collect();
        let mut c = Captures::default();
        matches(&p, &s, 0, &mut c).then_some(c)
    }

    #[test]
    fn segments_wildcards_and_captures() {
        let c = m(
            "teams/*/apps/{app}/deploy/{env}",
            "teams/a/apps/billing/deploy/prd",
        )
        .unwrap();
        assert_eq!(c.app, Some(("billing".into(), 4)));
        assert_eq!(c.env.as_deref(), Some("prd"));
        assert!(m("envs/{env}", "envs/prod-eu").is_some());
        assert!(m("envs/{env}", "envs/prod-eu/x").is_none());
        assert!(m("**/deploy/{env}", "a/b/c/deploy/stg").is_some());
        assert!(m("**/deploy/{env}", "deploy/stg").is_some());
        assert!(m("apps/*/overlays/{env}", "apps/a/b/overlays/x").is_none());
    }
}
