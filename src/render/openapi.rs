//! Which OpenAPI schema a build's strategic merges see.
//!
//! Design. kustomize keeps the schema in a process-wide global (kyaml's `openapi` package): the
//! top-level kustomization resets it, and then the first kustomization *below* it that names
//! `openapi: {path}` sets it — before its own resources load — and later ones are ignored. A
//! custom schema *replaces* the built-in Kubernetes schema unless kyaml had already consulted the
//! built-in one, which it does at the first strategic merge and at the first resource of a kind
//! its precomputed scope table does not know (a custom resource); after that the custom
//! definitions are added to the built-in ones. The trap this reproduces: an overlay whose
//! `openapi` file describes only its custom resources makes every strategic-merge patch on a
//! Deployment *replace* `containers` instead of merging by name.
//!
//! kustodian renders many overlays in one process and memoizes bases, so the global becomes
//! [`SchemaState`], threaded through one top-level build in kustomize's load order: a base's
//! build depends on the state it starts from, and the memo key says so (see
//! [`SchemaState::memo_suffix`]).

use std::sync::Arc;

use super::resource::ResId;

/// A custom schema (`openapi: {path}`).
#[derive(Debug)]
pub(crate) struct CustomSchema {
    /// Repo-relative path of the schema file.
    pub(crate) path: String,
    pub(crate) doc: serde_json::Value,
    /// kyaml had consulted its built-in schema before this one was set, so built-in kinds keep
    /// their merge keys.
    pub(crate) with_builtin: bool,
}

impl CustomSchema {
    /// The definition whose `x-kubernetes-group-version-kind` names the resource's type.
    pub(crate) fn root_for(&self, id: &ResId) -> Option<&serde_json::Value> {
        self.doc
            .get("definitions")?
            .as_object()?
            .values()
            .find(|d| {
                d.get("x-kubernetes-group-version-kind")
                    .and_then(|g| g.as_array())
                    .is_some_and(|gs| {
                        gs.iter().any(|g| {
                            g["kind"] == id.kind.as_str()
                                && g["version"] == id.version.as_str()
                                && (g["group"] == id.group.as_str() || g["group"] == "")
                        })
                    })
            })
    }
}

/// The schema state at one point of a top-level build.
#[derive(Clone, Debug, Default)]
pub(crate) struct SchemaState {
    /// The custom schema in effect, once a kustomization has set one.
    pub(crate) custom: Option<Arc<CustomSchema>>,
    /// kyaml has consulted its built-in schema (a strategic merge ran, or a resource of a kind
    /// outside the built-in API groups was loaded) while no custom schema was set.
    pub(crate) touched: bool,
    /// This build (memoized from an untouched start) set a custom schema while untouched, so
    /// its result differs when it starts touched: the memo keeps a second entry for that start.
    pub(crate) sensitive: bool,
}

impl SchemaState {
    /// Whether built-in kinds' lists merge by their Kubernetes merge keys.
    pub(crate) fn builtin_known(&self) -> bool {
        self.custom.as_ref().is_none_or(|c| c.with_builtin)
    }

    /// Records that kyaml would consult its built-in schema now.
    pub(crate) fn touch(&mut self) {
        if self.custom.is_none() {
            self.touched = true;
        }
    }

    /// Sets a kustomization's custom schema, unless one is already in effect (kustomize's
    /// `SetSchema(…, reset=false)`; the top level starts from an empty state, which is the
    /// same as its reset).
    pub(crate) fn set_custom(&mut self, path: String, doc: serde_json::Value) {
        if self.custom.is_some() {
            return;
        }
        if !self.touched {
            self.sensitive = true;
        }
        self.custom = Some(Arc::new(CustomSchema {
            path,
            doc,
            with_builtin: self.touched,
        }));
    }

    /// Folds in the state a sub-build ended in (it started from `self`).
    pub(crate) fn after_sub(&mut self, sub: &SchemaState) {
        if self.custom.is_none() {
            if sub.sensitive && !self.touched {
                self.sensitive = true;
            }
            self.custom = sub.custom.clone();
        }
        self.touched |= sub.touched;
    }

    /// The state a memoized sub-build starts from: the custom schema in effect, untouched, not
    /// yet sensitive (the caller asks for the touched variant when the result is sensitive).
    pub(crate) fn entry(&self, touched: bool) -> SchemaState {
        SchemaState {
            custom: self.custom.clone(),
            touched: touched && self.custom.is_none(),
            sensitive: false,
        }
    }

    /// What a memoized build's key adds for this starting state (`""` for the usual start: no
    /// custom schema, untouched).
    pub(crate) fn memo_suffix(&self) -> String {
        let mut s = String::new();
        if let Some(c) = &self.custom {
            s.push_str("\0openapi:");
            s.push_str(&c.path);
            if c.with_builtin {
                s.push_str("+builtin");
            }
        }
        if self.touched {
            s.push_str("\0touched");
        }
        s
    }
}
