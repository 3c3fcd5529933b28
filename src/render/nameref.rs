//! Name back-references: after prefixes, suffixes, content hashes and namespaces changed names,
//! every field that names another object of the build is pointed at its new name.
//!
//! The table of which fields name which kinds is data (`fieldspecs/namereference.yaml`, plus any
//! `configurations:`). For each referrer field, candidates are the objects of the referral kind the
//! referrer can see (same namespace, cluster-scoped, or a RoleBinding's subject namespaces) whose
//! *any* earlier name equals the field's value; ties break the way kustomize breaks them — same
//! current namespace, then the same prefix/suffix history — and a tie that remains is an error.
//! A rewritten field's `via` is the referral's `metadata.name`, the place its new name comes from.

use std::borrow::Cow;

use compact_str::CompactString;

use super::error::{RenderError, RenderErrorKind};
use super::fieldspec::{FieldSpec, static_or_any};
use super::resource::is_cluster_scoped;
use super::resource::{ResId, Resource};
use crate::source::Loc;
use crate::yaml::{Node, Value};

/// One referral kind and the fields that name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BackRef {
    pub(crate) group: Option<CompactString>,
    pub(crate) version: Option<CompactString>,
    pub(crate) kind: CompactString,
    pub(crate) fields: Cow<'static, [FieldSpec]>,
}

impl BackRef {
    /// A built-in entry (build.rs writes calls to this; an empty group or version is "any").
    pub(crate) const fn builtin(
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        fields: &'static [FieldSpec],
    ) -> BackRef {
        BackRef {
            group: static_or_any(group),
            version: static_or_any(version),
            kind: CompactString::const_new(kind),
            fields: Cow::Borrowed(fields),
        }
    }

    /// An entry read from YAML: the referral's `group`, `version` and `kind` from `head`, the
    /// fields that name it from the list `fields`.
    fn from_nodes(head: &Node, fields: Option<&Node>) -> Option<BackRef> {
        let s = |k: &str| {
            head.get(k)
                .and_then(crate::yaml::Node::scalar_string)
                .map(CompactString::from)
        };
        Some(BackRef {
            group: s("group"),
            version: s("version"),
            kind: s("kind")?,
            fields: fields
                .and_then(|f| f.as_seq())
                .map(|s| s.iter().filter_map(FieldSpec::from_node).collect())
                .unwrap_or_default(),
        })
    }
}

/// kustomize's default table, compiled in from `fieldspecs/namereference.yaml`.
use super::builtin::NAME_REFERENCE as DEFAULT;

/// Parses a table in `fieldspecs/namereference.yaml`'s layout (the built-in one is compiled in;
/// this holds it to its YAML in a test).
#[cfg(test)]
fn parse(text: &str) -> Vec<BackRef> {
    let docs = crate::yaml::parse_documents(text, crate::source::FileId::NONE)
        .expect("built-in name reference table is valid YAML");
    docs.iter()
        .filter_map(|d| d.as_seq())
        .flatten()
        .filter_map(|e| BackRef::from_nodes(e.get("referral")?, e.get("fields")))
        .collect()
}

/// Reads extra `nameReference` entries from a `configurations:` file (kustomize's layout:
/// `{kind, group, version, fieldSpecs: [...]}`).
pub(crate) fn from_config(entries: &[Node]) -> Vec<BackRef> {
    entries
        .iter()
        .filter_map(|e| BackRef::from_nodes(e, e.get("fieldSpecs")))
        .collect()
}

impl BackRef {
    fn selects(&self, id: &ResId) -> bool {
        // Compared as written, as kustomize does: its table's IngressClass entry has the group
        // `networking.k8s.io/v1`, so it selects nothing and `ingressClassName` is never rewritten
        // (fixtures/golden/namerefs shows kustomize doing exactly that).
        self.group.as_deref().is_none_or(|g| g == id.group)
            && self.version.as_deref().is_none_or(|v| v == id.version)
            && self.kind == id.kind
    }
}

fn ns_equal(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        if s.is_empty() {
            "default".to_string()
        } else {
            s.to_string()
        }
    };
    norm(a) == norm(b)
}

/// Rewrites references; an ambiguous reference is an error.
pub(crate) fn fix_back_references_with(
    resources: &mut [Resource],
    extra: &[BackRef],
) -> Result<(), RenderError> {
    // Snapshot of what each candidate looks like (ids, names, namespaces) before any rewrite:
    // references only change referrers' fields, never candidates' names.
    let snapshot: Vec<Candidate> = resources.iter().map(Candidate::of).collect();
    // A table entry whose kind nothing in the build has can find no referral: skip walking its
    // dozens of field specs over every object (a typical overlay has three or four kinds).
    let table: Vec<&BackRef> = DEFAULT
        .iter()
        .chain(extra.iter())
        .filter(|br| {
            snapshot
                .iter()
                .any(|c| c.ids.iter().any(|id| br.selects(id)))
        })
        .collect();
    // Candidates by any of their names: a reference only ever matches objects that once had the
    // name it holds, so look those up instead of scanning every object.
    let mut by_name: crate::source::HashMap<&str, Vec<usize>> = Default::default();
    for (i, c) in snapshot.iter().enumerate() {
        let mut names: Vec<&str> = c.ids.iter().map(|id| id.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            by_name.entry(n).or_default().push(i);
        }
    }
    // Indexing (not iterating) because each referrer is read, then mutated, in turn.
    #[allow(clippy::needless_range_loop)]
    for ri in 0..resources.len() {
        let referrer_org = resources[ri].orig_id();
        let referrer_cur = resources[ri].id();
        let visible = visible_candidates(&resources[ri], &referrer_cur)?;
        for br in &table {
            for fs in br.fields.iter().filter(|fs| fs.matches(&referrer_org)) {
                let ctx = RefCtx {
                    backref: br,
                    field_path: &fs.path,
                    referrer: &resources[ri],
                    referrer_cur: &referrer_cur,
                    candidates: &visible,
                    snapshot: &snapshot,
                    by_name: &by_name,
                };
                let mut updates: Vec<(Vec<usize>, Update)> = Vec::new();
                collect(
                    &resources[ri].node,
                    &fs.path,
                    &mut Vec::new(),
                    &ctx,
                    &mut updates,
                )?;
                for (route, u) in updates {
                    apply_update(&mut resources[ri].node, &route, u);
                }
            }
        }
    }
    Ok(())
}

/// What a candidate referral looked like before references were fixed.
struct Candidate {
    ids: Vec<ResId>,
    cur: ResId,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    name_loc: Loc,
}

impl Candidate {
    fn of(r: &Resource) -> Candidate {
        Candidate {
            // kustomize matches referrals on their *previous* ids only (recorded whenever a
            // transformer renamed, re-kinded or namespaced them): an object whose kind a patch
            // changed is no longer found under its new kind by references to the old one.
            ids: r.prev_ids.clone(),
            cur: r.id(),
            prefixes: r.prefixes.clone(),
            suffixes: r.suffixes.clone(),
            name_loc: r
                .node
                .get_path(&["metadata", "name"])
                .map_or(Loc::NONE, crate::yaml::Node::blame),
        }
    }
}

/// Indexes of objects the referrer may refer to (kustomize's "subset that could be referenced").
/// Which objects a referrer may refer to.
struct Visibility {
    everything: bool,
    namespace: String,
    subject_ns: Vec<String>,
}

impl Visibility {
    fn sees(&self, c: &Candidate) -> bool {
        self.everything
            || is_cluster_scoped(&c.cur)
            || ns_equal(&c.cur.namespace, &self.namespace)
            || self.subject_ns.iter().any(|n| *n == c.cur.namespace)
    }
}

fn visible_candidates(referrer: &Resource, cur: &ResId) -> Result<Visibility, RenderError> {
    if is_cluster_scoped(cur) {
        return Ok(Visibility {
            everything: true,
            namespace: String::new(),
            subject_ns: vec![],
        });
    }
    let mut subject_ns: Vec<String> = Vec::new();
    if cur.kind == "RoleBinding"
        && let Some(subjects) = referrer.node.get("subjects").and_then(|s| s.as_seq())
    {
        for s in subjects {
            if s.str_at(&["kind"]) != Some("ServiceAccount") {
                continue;
            }
            match s.get("namespace") {
                None => {}
                Some(n) => match n.as_str() {
                    Some(ns) => subject_ns.push(ns.to_string()),
                    None => {
                        return Err(RenderError::invalid(
                            format!(
                                "namespace is blank for a ServiceAccount subject of {}",
                                cur.display()
                            ),
                            n.loc,
                        ));
                    }
                },
            }
        }
    }
    Ok(Visibility {
        everything: false,
        namespace: cur.namespace.to_string(),
        subject_ns,
    })
}

struct RefCtx<'a> {
    backref: &'a BackRef,
    /// The field spec's path segments (joined with `/` only for a message).
    field_path: &'a [CompactString],
    referrer: &'a Resource,
    referrer_cur: &'a ResId,
    /// Which objects the referrer can see.
    candidates: &'a Visibility,
    snapshot: &'a [Candidate],
    by_name: &'a crate::source::HashMap<&'a str, Vec<usize>>,
}

enum Update {
    Scalar {
        name: String,
        via: Loc,
    },
    Mapping {
        name: String,
        namespace: Option<String>,
        via: Loc,
    },
}

fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long.ends_with(short)
}

impl RefCtx<'_> {
    /// Visible objects that ever had this name.
    fn named(&self, name: &str) -> Vec<usize> {
        self.by_name
            .get(name)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&i| self.candidates.sees(&self.snapshot[i]))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// kustomize's `selectReferral`: sieve candidates, then break ties.
    fn select(
        &self,
        old_name: &str,
        among: &[usize],
        identical: impl Fn(&[usize]) -> bool,
        at: Loc,
    ) -> Result<Option<usize>, RenderError> {
        let snap = self.snapshot;
        let role_ref_gvk = if matches!(self.field_path, [.., a, b] if a == "roleRef" && b == "name")
        {
            self.referrer.node.get("roleRef").and_then(|rr| {
                Some((
                    rr.get("apiGroup")?.scalar_string()?,
                    rr.get("kind")?.scalar_string()?,
                ))
            })
        } else {
            None
        };
        let mut c: Vec<usize> = among
            .iter()
            .copied()
            .filter(|&i| snap[i].ids.iter().any(|id| id.name == old_name))
            .filter(|&i| snap[i].ids.iter().any(|id| self.backref.selects(id)))
            .filter(|&i| {
                role_ref_gvk.as_ref().is_none_or(|(g, k)| {
                    snap[i]
                        .ids
                        .iter()
                        .any(|id| (g.is_empty() || *g == id.group) && *k == id.kind)
                })
            })
            .filter(|&i| {
                is_cluster_scoped(self.referrer_cur)
                    || is_cluster_scoped(&snap[i].cur)
                    || snap[i].cur.kind == "ServiceAccount"
                    || ns_equal(&self.referrer_cur.namespace, &snap[i].cur.namespace)
            })
            .collect();
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        let rp = &self.referrer.prefixes;
        let rs = &self.referrer.suffixes;
        c.retain(|&i| {
            (rp.is_empty() || snap[i].prefixes.is_empty() || same_ending(rp, &snap[i].prefixes))
                && (rs.is_empty()
                    || snap[i].suffixes.is_empty()
                    || same_ending(rs, &snap[i].suffixes))
        });
        if c.len() > 1 {
            c.retain(|&i| same_ending(rp, &snap[i].prefixes) && same_ending(rs, &snap[i].suffixes));
        }
        match c.len() {
            0 => Ok(None),
            1 => Ok(Some(c[0])),
            _ if identical(&c) => Ok(Some(c[0])),
            _ => Err(RenderError::new(
                RenderErrorKind::Conflict,
                format!(
                    "updating name reference in '{}' field of '{}': found multiple possible referrals: {}",
                    self.field_path.join("/"),
                    self.referrer_cur.display(),
                    c.iter()
                        .map(|&i| snap[i].cur.display())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                at,
            )),
        }
    }
}

/// Walks to the field and records the rewrites (by route of child indexes) without mutating.
fn collect(
    node: &Node,
    path: &[CompactString],
    route: &mut Vec<usize>,
    ctx: &RefCtx,
    out: &mut Vec<(Vec<usize>, Update)>,
) -> Result<(), RenderError> {
    if path.is_empty() {
        return set(node, route, ctx, out);
    }
    match &node.value {
        Value::Seq(items) => {
            for (i, it) in items.iter().enumerate() {
                route.push(i);
                collect(it, path, route, ctx, out)?;
                route.pop();
            }
        }
        Value::Map(m) => {
            let seg = path[0].trim_end_matches("[]");
            if let Some(i) = m.entries.iter().position(|e| e.key == seg) {
                route.push(i);
                collect(&m.entries[i].value, &path[1..], route, ctx, out)?;
                route.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

fn set(
    node: &Node,
    route: &mut Vec<usize>,
    ctx: &RefCtx,
    out: &mut Vec<(Vec<usize>, Update)>,
) -> Result<(), RenderError> {
    match &node.value {
        Value::Str(old) => {
            let all = ctx.named(old);
            let snap = ctx.snapshot;
            let pick = ctx.select(
                old,
                &all,
                |c| c.iter().all(|&i| snap[i].cur.name == snap[c[0]].cur.name),
                node.loc,
            )?;
            if let Some(i) = pick
                && snap[i].cur.name != *old
            {
                out.push((
                    route.clone(),
                    Update::Scalar {
                        name: snap[i].cur.name.to_string(),
                        via: snap[i].name_loc,
                    },
                ));
            }
        }
        Value::Map(m) => {
            let Some(old) = m.get("name").and_then(crate::yaml::Node::scalar_string) else {
                return Ok(());
            };
            let snap = ctx.snapshot;
            let named = ctx.named(&old);
            let among: Vec<usize> = match m
                .get("namespace")
                .and_then(crate::yaml::Node::scalar_string)
            {
                None => named,
                Some(ns) => {
                    let by_orig: Vec<usize> = named
                        .iter()
                        .copied()
                        .filter(|&i| {
                            snap[i]
                                .ids
                                .first()
                                .is_some_and(|id| ns_equal(&id.namespace, &ns))
                        })
                        .collect();
                    if by_orig.is_empty() {
                        named
                            .iter()
                            .copied()
                            .filter(|&i| ns_equal(&snap[i].cur.namespace, &ns))
                            .collect()
                    } else {
                        by_orig
                    }
                }
            };
            let pick = ctx.select(
                &old,
                &among,
                |c| {
                    c.iter().all(|&i| {
                        snap[i].cur.name == snap[c[0]].cur.name
                            && snap[i].cur.namespace == snap[c[0]].cur.namespace
                    })
                },
                node.loc,
            )?;
            if let Some(i) = pick {
                let r = &snap[i].cur;
                if r.name == old && r.namespace.is_empty() {
                    return Ok(());
                }
                out.push((
                    route.clone(),
                    Update::Mapping {
                        name: r.name.to_string(),
                        namespace: (!r.namespace.is_empty()).then(|| r.namespace.to_string()),
                        via: snap[i].name_loc,
                    },
                ));
            }
        }
        Value::Seq(items) => {
            for (i, it) in items.iter().enumerate() {
                if matches!(it.value, Value::Str(_) | Value::Map(_)) {
                    route.push(i);
                    set(it, route, ctx, out)?;
                    route.pop();
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn apply_update(root: &mut Node, route: &[usize], u: Update) {
    let mut cur = root;
    for &i in route {
        cur = match &mut cur.value {
            Value::Seq(items) => &mut items[i],
            Value::Map(m) => &mut m.entries[i].value,
            _ => return,
        };
    }
    match u {
        Update::Scalar { name, via } => {
            *cur = Node::new(Value::Str(name.into()), cur.loc).with_via(via);
        }
        Update::Mapping {
            name,
            namespace,
            via,
        } => {
            let name_loc = cur.get("name").map_or(Loc::NONE, |n| n.loc);
            cur.set(
                "name",
                Node::new(Value::Str(name.into()), name_loc).with_via(via),
            );
            if let Some(ns) = namespace {
                let ns_loc = cur.get("namespace").map_or(Loc::NONE, |n| n.loc);
                cur.set(
                    "namespace",
                    Node::new(Value::Str(ns.into()), ns_loc).with_via(via),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// build.rs reads `fieldspecs/namereference.yaml` with a small line parser; the YAML parser
    /// must read the same table (a double-quoted `\/` once lost its backslash this way).
    #[test]
    fn builtin_table_matches_its_yaml() {
        let parsed = parse(include_str!("fieldspecs/namereference.yaml"));
        assert_eq!(parsed.len(), DEFAULT.len());
        for (p, d) in parsed.iter().zip(DEFAULT) {
            assert_eq!(p, d);
        }
        let ingress = DEFAULT.iter().flat_map(|b| b.fields.iter()).find(|f| {
            f.path
                .iter()
                .any(|s| s == "nginx.ingress.kubernetes.io/auth-secret")
        });
        assert!(ingress.is_some(), "escaped slash kept inside one segment");
    }
}
