//! What kustomize-controller does to the built objects (its `build` and `apply` steps): refuse an
//! object without apiVersion, kind or name; substitute post-build variables (`spec.postBuild`);
//! set `commonMetadata` labels and annotations on each object's metadata.
//!
//! Substitution is textual in Flux: each object is printed as YAML (what `kustomize build`
//! prints), run through envsubst and read back (YAML 1.1). kustodian does the same per string:
//! a scalar holding `$` is printed as the printer would print it under a key, substituted, and
//! read back, so a plain `${REPLICAS}` becomes the number 3, a quoted one too (the printer drops
//! the quotes), a value with `: ` or ` #` changes the structure as it would in Flux, and a
//! multi-line value stays a string. The substituted node keeps the location of the manifest text
//! holding `${VAR}`, with `via` the place the variable's value is written. What is not
//! reproduced: Flux's round trip also sorts every substituted object's keys (no effect on what
//! the cluster stores). Errors — an unset variable in strict mode, a reference that does not
//! parse — fail the build at the manifest line, as they fail the reconciliation.

use super::envsubst::{Lookup, SubstError, substitute};
use super::{EnvBuild, LabelMode, Substitution};
use crate::render::Build;
use crate::render::error::RenderError;
use crate::render::resource::Resource;
use crate::render::scalars::raw_string;
use crate::source::{FileId, Loc};
use crate::yaml::{Entry, Mapping, Node, Value};

const OPT_OUT: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Runs the post-build steps of a Flux environment (nothing for Argo CD).
pub(super) fn run(o: &EnvBuild, built: &mut Build) -> Result<(), RenderError> {
    if o.controller != super::Controller::Flux {
        return Ok(());
    }
    for res in &built.resources {
        if res.name().is_empty() || res.kind().is_empty() || res.id().version.is_empty() {
            return Err(RenderError::invalid(
                format!(
                    "failed to decode Kubernetes apiVersion, kind and name of {} ({} fails)",
                    res.id().display(),
                    o.origin
                ),
                res.loc(),
            ));
        }
    }
    if let Some(s) = &o.substitute
        && (s.always || !s.vars.is_empty() || !s.unknown_sources.is_empty())
    {
        for (name, (_, loc)) in &s.vars {
            if !valid_var_name(name) {
                return Err(RenderError::invalid(
                    format!(
                        "'{name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$' ({} fails)",
                        o.origin
                    ),
                    *loc,
                ));
            }
        }
        for res in &mut built.resources {
            if res.label(OPT_OUT).as_deref() == Some("disabled")
                || res.annotation(OPT_OUT).as_deref() == Some("disabled")
            {
                continue;
            }
            let id = res.id();
            let sub = Subst { s };
            sub.node(&mut res.node).map_err(|(e, loc)| {
                RenderError::invalid(
                    format!(
                        "post build failed for '{}/{}': envsubst error: variable substitution failed: {e} ({} fails)",
                        gvk(&id),
                        id.name,
                        o.origin
                    ),
                    loc,
                )
                .with_related(s.at, "postBuild")
            })?;
        }
    }
    if o.label_mode == LabelMode::Metadata {
        for res in &mut built.resources {
            set_metadata(res, "labels", &o.labels);
            set_metadata(res, "annotations", &o.annotations);
        }
    }
    Ok(())
}

fn gvk(id: &crate::render::ResId) -> String {
    if id.group.is_empty() {
        format!("/{}, Kind={}", id.version, id.kind)
    } else {
        format!("{}/{}, Kind={}", id.group, id.version, id.kind)
    }
}

/// `^[_[:alpha:]][_[:alpha:][:digit:]]*$`
fn valid_var_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

/// `commonMetadata`: each key set on the object's own metadata (overwriting).
fn set_metadata(res: &mut Resource, field: &str, pairs: &[(String, Node)]) {
    if pairs.is_empty() {
        return;
    }
    let meta = res.node.ensure_path(&["metadata", field]);
    if !matches!(meta.value, Value::Map(_)) {
        meta.value = Value::Map(Mapping::default());
    }
    let Some(m) = meta.as_map_mut() else { return };
    for (k, v) in pairs {
        let node = Node::new(Value::Str(raw_string(v).into()), v.loc);
        match m.get_mut(k) {
            Some(have) => *have = node,
            None => m.insert_at(k, v.loc, node),
        }
    }
}

struct Subst<'a> {
    s: &'a Substitution,
}

type Failure = (SubstError, Loc);

impl Subst<'_> {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        match self.s.vars.get(name) {
            Some((v, _)) => Lookup::Set(v),
            None if !self.s.unknown_sources.is_empty() => Lookup::Unknown,
            None if self.s.strict => Lookup::Unset,
            // Without strict mode an unset variable is the empty string.
            None => Lookup::Set(""),
        }
    }

    fn via(&self, used: &[String]) -> Loc {
        used.first()
            .and_then(|v| self.s.vars.get(v))
            .map_or(Loc::NONE, |(_, l)| *l)
    }

    /// Substitutes every key and string below `n`.
    fn node(&self, n: &mut Node) -> Result<(), Failure> {
        match &mut n.value {
            Value::Map(m) => {
                for e in &mut m.entries {
                    if e.key.contains('$') {
                        let look = |v: &str| self.lookup(v);
                        match substitute(&e.key, &look) {
                            Ok(Some((k, _))) => e.key = k.into(),
                            Ok(None) | Err(SubstError::Unknown(_)) => {}
                            Err(err) => return Err((err, e.key_loc)),
                        }
                    }
                    self.node(&mut e.value)?;
                }
                Ok(())
            }
            Value::Seq(items) => items.iter_mut().try_for_each(|i| self.node(i)),
            Value::Str(s) if s.contains('$') => {
                let s = s.clone();
                self.scalar(n, &s)
            }
            _ => Ok(()),
        }
    }

    /// One string, printed under a key as the printer would, substituted and read back.
    fn scalar(&self, n: &mut Node, s: &str) -> Result<(), Failure> {
        let look = |v: &str| self.lookup(v);
        let loc = n.loc;
        let (plain_out, used) = match substitute(s, &look) {
            Ok(Some(r)) => r,
            Ok(None) | Err(SubstError::Unknown(_)) => return Ok(()),
            Err(e) => return Err((e, loc)),
        };
        let via = self.via(&used);
        let printed = print_under_key(s);
        let text = match substitute(&printed, &look) {
            Ok(Some((t, _))) => t,
            Ok(None) => return Ok(()),
            Err(SubstError::Unknown(_)) => return Ok(()),
            Err(e) => return Err((e, loc)),
        };
        if text == printed {
            return Ok(());
        }
        // Printed plain and still one plain scalar: YAML 1.1 decides its type, as Flux's
        // `yaml.YAMLToJSON` does.
        let was_plain = printed.starts_with("x: ") && &printed[3..printed.len() - 1] == s;
        let value = if was_plain
            && !plain_out.contains('\n')
            && crate::yaml::emit::plain_reads_whole(&plain_out)
        {
            Node::new(crate::yaml::emit::resolve_plain_v2(&plain_out), loc)
        } else {
            match crate::yaml::parse_documents(&text, FileId::NONE) {
                Ok(docs) => match docs.into_iter().next().and_then(|d| d.get("x").cloned()) {
                    Some(mut v) => {
                        crate::yaml::relocate(&mut v, loc);
                        v
                    }
                    None => Node::new(Value::Null, loc),
                },
                Err(e) => return Err((SubstError::Yaml(e.message), loc)),
            }
        };
        *n = value.with_via(via);
        Ok(())
    }
}

/// `x: <s>` as the printer prints a string value.
fn print_under_key(s: &str) -> String {
    let doc = Node::synth(Value::Map(Mapping {
        entries: vec![Entry {
            key: "x".into(),
            key_loc: Loc::NONE,
            value: Node::str(s),
        }],
    }));
    let mut out = String::new();
    crate::yaml::emit_document(&doc, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn subst(vars: &[(&str, &str)], strict: bool) -> Substitution {
        let mut m = BTreeMap::new();
        for (k, v) in vars {
            m.insert(k.to_string(), (v.to_string(), Loc::NONE));
        }
        Substitution {
            vars: m,
            strict,
            ..Substitution::default()
        }
    }

    fn run_on(yaml: &str, s: &Substitution) -> Result<String, SubstError> {
        let mut n = crate::yaml::parse_documents(yaml, FileId::NONE)
            .unwrap()
            .remove(0);
        Subst { s }.node(&mut n).map_err(|(e, _)| e)?;
        Ok(crate::yaml::emit_documents([&n]))
    }

    #[test]
    fn substitution_is_textual_and_reads_types_back() {
        let s = subst(
            &[
                ("N", "3"),
                ("ON", "yes"),
                ("TAG", "1.2.3"),
                ("KV", "a: b"),
                ("C", "v #c"),
            ],
            true,
        );
        let out = run_on(
            "replicas: ${N}\nquoted: \"${N}\"\nflag: ${ON}\nimage: app:${TAG}\nlit: \"$${N}\"\nc: ${C}\nd: ${MISSING:=dflt}\n",
            &s,
        )
        .unwrap();
        assert_eq!(
            out,
            "c: v\nd: dflt\nflag: true\nimage: app:1.2.3\nlit: ${N}\nquoted: 3\nreplicas: 3\n"
        );
        assert!(
            run_on("x: ${KV}\n", &s).is_err(),
            "a: b under a key does not parse"
        );
        assert_eq!(
            run_on("x: ${MISSING}\n", &s),
            Err(SubstError::NotSet("MISSING".into()))
        );
        let lax = subst(&[("N", "3")], false);
        assert_eq!(run_on("x: a${MISSING}b\n", &lax).unwrap(), "x: ab\n");
    }

    #[test]
    fn multi_line_values_stay_strings() {
        let s = subst(&[("N", "3")], true);
        assert_eq!(
            run_on("script: |\n  echo ${N}\n  exit 0\n", &s).unwrap(),
            "script: |\n  echo 3\n  exit 0\n"
        );
    }
}
