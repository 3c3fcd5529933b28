//! Matching the items of keyed lists: kyaml's element matchers and setters.
//!
//! Design. A keyed list's items are told apart by the tuple of their key values (a scalar's own
//! text for a list of scalars merged as a set). These functions compute and compare those
//! tuples and set items into a list the way kyaml's `ElementMatcher`, `ElementSetter`,
//! `validateKeys` and `mergeValues` do, oddities included, since what they do is what gets
//! deployed. They only read and rearrange items; the walk that merges them is `merge.rs`.

use crate::yaml::{Node, Value};

/// An item's values of the keys (kyaml's `ElementValuesList`; a scalar's own value for `[""]`).
pub(super) fn item_values(n: &Node, keys: &[&str]) -> Vec<String> {
    if keys.first().is_some_and(|k| k.is_empty()) {
        return vec![raw_value(n)];
    }
    key_values(n, keys)
}

/// What kyaml compares a node by: a scalar's text, `""` for collections.
pub(super) fn raw_value(n: &Node) -> String {
    match n.value {
        Value::Map(_) | Value::Seq(_) => String::new(),
        _ => n.scalar_string().unwrap_or_default(),
    }
}

pub(super) fn describe(keys: &[&str], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| {
            if k.is_empty() {
                v.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// kyaml's `ElementMatcher` with values: the first item whose keys have exactly these values.
pub(super) fn find_item(list: &[Node], keys: &[&str], values: &[String]) -> Option<usize> {
    if keys.first().is_none_or(|k| k.is_empty()) {
        let want = values.first().map_or("", String::as_str);
        return list.iter().position(|n| raw_value(n) == want);
    }
    list.iter().position(|n| {
        n.as_map().is_some()
            && keys
                .iter()
                .zip(values)
                .all(|(k, v)| field_matches_exact(n, k, v))
    })
}

/// kyaml's `mergeValues`: tuples that agree wherever both have a value become one.
pub(super) fn merge_values(tuples: &mut [Vec<String>]) {
    let agree = |a: &[String], b: &[String]| -> Option<Vec<String>> {
        let mut common = false;
        let mut out = Vec::with_capacity(a.len());
        for (x, y) in a.iter().zip(b) {
            if x == y {
                common = true;
                out.push(x.clone());
            } else if !x.is_empty() && !y.is_empty() {
                return None;
            } else {
                out.push(if x.is_empty() { y.clone() } else { x.clone() });
            }
        }
        common.then_some(out)
    };
    for i in 0..tuples.len() {
        let first = tuples[i].clone();
        for j in 0..tuples.len() {
            if let Some(m) = agree(&first, &tuples[j].clone()) {
                tuples[i] = m.clone();
                tuples[j] = m;
            }
        }
    }
}

/// An item's values of the keys, `""` where it has none (kyaml's `ElementValuesList`).
pub(super) fn key_values(n: &Node, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            n.get(k)
                .filter(|v| !matches!(v.value, Value::Null | Value::Seq(_) | Value::Map(_)))
                .and_then(crate::yaml::Node::scalar_string)
                .unwrap_or_default()
        })
        .collect()
}

/// kyaml's `FieldMatcher` on an item: the key is there and, unless `value` is empty, has it.
fn field_matches(n: &Node, key: &str, value: &str) -> bool {
    match n.get(key) {
        None => false,
        Some(_) if value.is_empty() => true,
        Some(v) => v.scalar_string().as_deref() == Some(value),
    }
}

/// kyaml's `ElementSetter`: drops null and empty items; replaces every item matching the keys
/// and values with `element` (drops them when `None`), or appends `element` when none matched.
/// A value missing at index `j` reuses the previous key's verdict, as kyaml's loop does.
pub(super) fn element_setter(
    list: &mut Vec<Node>,
    element: Option<&Node>,
    keys: &[&str],
    values: &[String],
) {
    let mapping_setter = keys.first().is_some_and(|k| !k.is_empty())
        && values.first().is_some_and(|v| !v.is_empty());
    let mut out = Vec::with_capacity(list.len() + 1);
    let mut matched = false;
    for item in list.drain(..) {
        if item.is_null() || item.as_map().is_some_and(crate::yaml::Mapping::is_empty) {
            continue;
        }
        if item.as_map().is_none() && mapping_setter {
            out.push(item);
            continue;
        }
        let mut ok = false;
        let mut found = true;
        for (j, k) in keys.iter().enumerate() {
            if let Some(v) = values.get(j) {
                ok = if k.is_empty() {
                    item.as_map().is_none() && item.as_seq().is_none() && raw_value(&item) == *v
                } else {
                    item.as_map().is_some() && field_matches(&item, k, v)
                };
            }
            if !ok {
                found = false;
                break;
            }
        }
        if !found {
            if !values.is_empty() {
                out.push(item);
            }
            continue;
        }
        matched = true;
        if let Some(e) = element {
            out.push(e.clone());
        }
    }
    if let Some(e) = element
        && !matched
    {
        out.push(e.clone());
    }
    *list = out;
}

/// kyaml's `validateKeys`: the keys some tuple has a value for (all keys when none has any), and
/// this tuple's values of them.
pub(super) fn valid_keys<'k>(
    all: &[Vec<String>],
    values: &[String],
    keys: &[&'k str],
) -> (Vec<&'k str>, Vec<String>) {
    let used: Vec<bool> = (0..keys.len())
        .map(|i| all.iter().any(|t| t.get(i).is_some_and(|v| !v.is_empty())))
        .collect();
    if !used.iter().any(|u| *u) {
        return (keys.to_vec(), values.to_vec());
    }
    let vk = keys.iter().zip(&used).filter(|(_, u)| **u).map(|(k, _)| *k);
    let vv = values
        .iter()
        .zip(&used)
        .filter(|(_, u)| **u)
        .map(|(v, _)| v.clone());
    (vk.collect(), vv.collect())
}

/// kyaml's `MatchField`: the key is there with exactly this value (an empty value included).
fn field_matches_exact(n: &Node, key: &str, value: &str) -> bool {
    n.get(key)
        .is_some_and(|v| v.scalar_string().unwrap_or_default() == value)
}
