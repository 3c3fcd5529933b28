//! Duplicate mapping keys in a YAML file.
//!
//! kustomize (go-yaml v3) silently keeps the later of two equal keys, while `kubectl` and the API
//! server reject the document, so a duplicate is a latent failure that rendering hides. The YAML
//! parser already sees every key with its span while it builds the node tree (it has to, to let
//! the later one win), so this reuses that single pass rather than walking the events a second
//! time; the answer is each duplicate with both locations, for a finding that names both lines.

use crate::source::{FileId, Loc};

/// Every duplicate key in `text`: `(second occurrence, first occurrence, key)`, in file order.
/// A file that does not parse has no duplicates to report here (the parse error is reported by
/// whoever renders it).
pub fn find_duplicate_keys(text: &str, file: FileId) -> Vec<(Loc, Loc, String)> {
    crate::yaml::parse::parse_documents_with_duplicates(text, file)
        .map(|(_, dups)| {
            dups.into_iter()
                .map(|d| (d.second, d.first, d.key))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;

    #[test]
    fn both_lines_of_each_duplicate() {
        let text = "a: 1\nb:\n  c: 2\n  c: 3\na: 4\n---\nx: [ {k: 1, k: 2} ]\n";
        let sources = Sources::default();
        let id = sources.add("f.yaml", text.into());
        let got: Vec<(u32, u32, String)> = find_duplicate_keys(text, id)
            .into_iter()
            .map(|(second, first, key)| {
                let line = |l| sources.position(l).map_or(0, |p| p.line);
                (line(second), line(first), key)
            })
            .collect();
        assert!(got.contains(&(4, 3, "c".to_string())), "{got:?}");
        assert!(got.contains(&(5, 1, "a".to_string())), "{got:?}");
        assert!(got.contains(&(7, 7, "k".to_string())), "{got:?}");
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(find_duplicate_keys("a: [", id).is_empty());
    }
}
