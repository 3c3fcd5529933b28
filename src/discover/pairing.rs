//! Which staging environment each production environment is compared with.
//!
//! In order: a configured edge (`environments: [{name: staging-eu, promotes-to: [prod-eu]}]`), a
//! Kargo promotion edge between stages of the same names, the staging environment whose name
//! has the same qualifiers once the stage word is dropped (`staging-eu` ↔ `prod-eu`,
//! `us-staging` ↔ `us-prod`, `staging` ↔ `production`), and finally the only staging
//! environment, when there is one. A production environment none of these pairs is compared with
//! nothing (and the human report says which pairs were compared).

use super::App;
use crate::settings::stage::qualifiers;
use crate::settings::{Config, Stage};

/// `(staging, production)` index pairs for an app's environments.
pub fn pairs(app: &App, config: &Config, promotions: &[(String, String)]) -> Vec<(usize, usize)> {
    let staging: Vec<usize> = indexes(app, Stage::Staging);
    let mut out = Vec::new();
    for p in indexes(app, Stage::Production) {
        let pname = &app.envs[p].name;
        let by_name = |pred: &dyn Fn(&str) -> bool| {
            app.envs
                .iter()
                .enumerate()
                .find(|(i, e)| *i != p && pred(&e.name))
                .map(|(i, _)| i)
        };
        let configured = by_name(&|s| config.promotes_to(s).iter().any(|t| t == pname));
        let kargo = || by_name(&|s| promotions.iter().any(|(a, b)| a == s && b == pname));
        let q = qualifiers(pname);
        let same_qualifiers = || {
            staging
                .iter()
                .copied()
                .find(|s| qualifiers(&app.envs[*s].name) == q)
        };
        let only = || (staging.len() == 1).then(|| staging[0]);
        // Regions pair by name: a production region without its staging region is compared with
        // nothing rather than with another region's staging.
        let regional = !q.is_empty()
            && staging
                .iter()
                .any(|s| !qualifiers(&app.envs[*s].name).is_empty());
        let closest = || {
            (!regional)
                .then(|| closest_to_production(app, &staging))
                .flatten()
        };
        if let Some(s) = configured
            .or_else(kargo)
            .or_else(same_qualifiers)
            .or_else(only)
            .or_else(closest)
        {
            out.push((s, p));
        }
    }
    out
}

/// Among staging environments without qualifiers, the one whose name says it is last before
/// production (`preprod` over `staging` over `uat` over `qa`), when exactly one does.
fn closest_to_production(app: &App, staging: &[usize]) -> Option<usize> {
    let rank = |name: &str| -> u8 {
        let n = name.to_ascii_lowercase();
        if n.contains("preprod") || n.contains("pre-prod") || n.contains("preproduction") {
            3
        } else if n.contains("stag") || n.split(['-', '_', '.']).any(|t| t == "stg") {
            2
        } else {
            u8::from(n.contains("uat") || n.contains("acceptance"))
        }
    };
    let plain: Vec<usize> = staging
        .iter()
        .copied()
        .filter(|s| qualifiers(&app.envs[*s].name).is_empty())
        .collect();
    let best = plain.iter().map(|s| rank(&app.envs[*s].name)).max()?;
    let top: Vec<usize> = plain
        .into_iter()
        .filter(|s| rank(&app.envs[*s].name) == best)
        .collect();
    (top.len() == 1).then(|| top[0])
}

fn indexes(app: &App, stage: Stage) -> Vec<usize> {
    app.envs
        .iter()
        .enumerate()
        .filter(|(_, e)| e.stage == Some(stage))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Env;

    fn app(names: &[&str]) -> App {
        App {
            name: "a".into(),
            dir: "a".into(),
            base: None,
            envs: names
                .iter()
                .map(|n| Env::plain(n.to_string(), Stage::by_convention(n), format!("envs/{n}")))
                .collect(),
            pairs: vec![],
        }
    }

    fn named(a: &App, pairs: &[(usize, usize)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(s, p)| (a.envs[*s].name.clone(), a.envs[*p].name.clone()))
            .collect()
    }

    #[test]
    fn production_pairs_with_the_staging_of_its_region_else_the_only_one() {
        let a = app(&[
            "qa",
            "staging-eu",
            "staging-us",
            "prod-eu",
            "prod-us",
            "prod-asia",
        ]);
        let got = named(&a, &pairs(&a, &Config::default(), &[]));
        assert_eq!(
            got,
            [
                ("staging-eu".into(), "prod-eu".into()),
                ("staging-us".into(), "prod-us".into())
            ]
        );
        let a = app(&["qa", "staging", "prod-eu", "prod-us"]);
        let got = named(&a, &pairs(&a, &Config::default(), &[]));
        assert_eq!(
            got,
            [
                ("staging".into(), "prod-eu".into()),
                ("staging".into(), "prod-us".into())
            ]
        );
        let a = app(&["stg", "prd", "live"]);
        let got = named(&a, &pairs(&a, &Config::default(), &[]));
        assert_eq!(
            got,
            [("stg".into(), "prd".into()), ("stg".into(), "live".into())]
        );
    }

    #[test]
    fn configured_and_kargo_edges_come_first() {
        let a = app(&["staging-eu", "staging-asia", "prod-asia"]);
        let kargo = vec![("staging-eu".to_string(), "prod-asia".to_string())];
        let got = named(&a, &pairs(&a, &Config::default(), &kargo));
        assert_eq!(got, [("staging-eu".into(), "prod-asia".into())]);
    }
}
