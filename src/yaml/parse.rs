//! Events to nodes.
//!
//! granit-parser gives exact byte spans for every event; this module folds them into [`Node`]s,
//! resolving scalars (see [`super::resolve`]), expanding aliases and `<<` merge keys (kustomize
//! prints documents with aliases expanded), and letting a later duplicate key win, as go-yaml v3
//! (and so kustomize) does.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle};

use super::duplicates::{DuplicateKey, insert_last_wins, position};
use super::resolve::{resolve_plain, resolve_tagged};
use super::{Key, Mapping, Node, Value};
use crate::source::{FileId, Loc};

/// A YAML syntax or structure error at a location.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Where the error is (for a duplicate key, its second occurrence).
    pub loc: Loc,
    /// What is wrong, one sentence (the error's `Display`).
    pub message: String,
    /// A second location (e.g. the first definition of a duplicate key).
    pub(crate) related: Option<Loc>,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        loc: Loc,
        anchor: usize,
        /// Nodes made before this collection opened (its size is the difference at its end).
        before: usize,
    },
    Map {
        map: Mapping,
        loc: Loc,
        anchor: usize,
        pending_key: Option<(Key, Loc)>,
        merges: Vec<(Node, Loc)>,
        before: usize,
    },
}

/// What one file has cost so far, against the budgets of [`crate::limits`]: the general
/// parser does not recurse, so only these bound what a hostile file can make it build
/// (a "billion laughs" of nested aliases is a few hundred bytes).
struct Budget {
    limits: crate::limits::Limits,
    nodes: usize,
    alias_nodes: usize,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            limits: crate::limits::get(),
            nodes: 0,
            alias_nodes: 0,
        }
    }

    fn over(name: &'static str, limit: usize, what: &str, loc: Loc) -> ParseError {
        ParseError {
            loc,
            message: crate::limits::Exceeded::new(name, limit, what).to_string(),
            related: None,
        }
    }

    /// `n` more nodes, `aliased` of them copies made by expanding an alias.
    fn add(&mut self, n: usize, aliased: bool, loc: Loc) -> Result<(), ParseError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.nodes {
            return Err(Budget::over(
                "nodes",
                self.limits.nodes,
                "YAML nodes in this file, aliases expanded",
                loc,
            ));
        }
        if aliased {
            self.alias_nodes = self.alias_nodes.saturating_add(n);
            if self.alias_nodes > self.limits.alias_nodes {
                return Err(Budget::over(
                    "alias-nodes",
                    self.limits.alias_nodes,
                    "YAML nodes made by expanding aliases in this file",
                    loc,
                ));
            }
        }
        Ok(())
    }
}

/// Parses a multi-document stream. Every document is returned (an empty document is `Value::Null`).
pub fn parse_documents(text: &str, file: FileId) -> Result<Vec<Node>, ParseError> {
    parse_documents_with_duplicates(text, file).map(|(docs, _)| docs)
}

/// Like [`parse_documents`], also returning every duplicate key (the later one wins, as in
/// kustomize; the API server and `kubectl` reject such documents, so checks report them).
pub fn parse_documents_with_duplicates(
    text: &str,
    file: FileId,
) -> Result<(Vec<Node>, Vec<DuplicateKey>), ParseError> {
    if let Some(pieces) = super::fast::parse_pieces(text, file)
        && let Some((docs, dups, nodes)) = splice(text, file, pieces)
        && within_budget(docs.len(), nodes)
    {
        // The count kept while parsing is the trees' size (debug builds check on every file).
        debug_assert_eq!(
            nodes,
            docs.iter().map(|d| super::measure(d).0).sum::<usize>()
        );
        let fast = (docs, dups);
        #[cfg(debug_assertions)]
        assert_same_as_general(text, file, &fast);
        return Ok(fast);
    }
    parse_general(text, file)
}

/// The fast path's documents, with those it declined parsed by the general parser from their
/// own text (spans moved to the file's offsets; one budget across them), and how many nodes
/// their trees have. `None` when a declined document does not parse on its own: the whole file
/// then goes to the general parser, which reports the error as it would have.
fn splice(
    text: &str,
    file: FileId,
    pieces: Vec<super::fast::Piece>,
) -> Option<(Vec<Node>, Vec<DuplicateKey>, usize)> {
    use super::fast::Piece;
    let (mut docs, mut dups) = (Vec::with_capacity(pieces.len()), Vec::new());
    let mut budget = Budget::new();
    let mut nodes = 0usize;
    for piece in pieces {
        match piece {
            Piece::Parsed(node, d, n) => {
                nodes = nodes.saturating_add(n);
                docs.push(node);
                dups.extend(d);
            }
            Piece::Declined(range) => {
                let (mut got, d) =
                    parse_general_budgeted(&text[range.clone()], file, &mut budget).ok()?;
                if got.len() != 1 {
                    return None;
                }
                let off = range.start as u32;
                let mut node = got.pop()?;
                shift(&mut node, off);
                nodes = nodes.saturating_add(super::measure(&node).0);
                docs.push(node);
                dups.extend(d.into_iter().map(|mut k| {
                    k.first = moved(k.first, off);
                    k.second = moved(k.second, off);
                    k
                }));
            }
        }
    }
    Some((docs, dups, nodes))
}

/// A span of a freshly parsed slice, moved by the slice's offset. Every span of such a tree is
/// a position in the text, whatever file id it carries (`FileId::NONE` for text of no file).
fn moved(loc: Loc, off: u32) -> Loc {
    Loc {
        start: loc.start + off,
        end: loc.end + off,
        ..loc
    }
}

/// Moves every span of a tree parsed from a slice of a file by the slice's offset.
fn shift(n: &mut Node, off: u32) {
    n.loc = moved(n.loc, off);
    match &mut n.value {
        Value::Seq(items) => items.iter_mut().for_each(|i| shift(i, off)),
        Value::Map(m) => m.entries.iter_mut().for_each(|e| {
            e.key_loc = moved(e.key_loc, off);
            shift(&mut e.value, off);
        }),
        _ => {}
    }
}

/// Whether what the fast path built (`documents` trees of `nodes` nodes in all) keeps to the
/// `nodes` and `documents` budgets (it has no aliases, and nests no deeper than the general
/// parser allows). Past them the general parser parses the file again, to report the budget at
/// the place it is hit.
fn within_budget(documents: usize, nodes: usize) -> bool {
    let limits = crate::limits::get();
    documents <= limits.documents && nodes.saturating_add(documents) <= limits.nodes
}

/// Debug builds (every test) check the fast path against the general parser on every file.
#[cfg(debug_assertions)]
fn assert_same_as_general(text: &str, file: FileId, fast: &(Vec<Node>, Vec<DuplicateKey>)) {
    let general = parse_general(text, file).unwrap_or_else(|e| {
        panic!("fast YAML path accepted what the general parser rejects ({e}):\n{text}")
    });
    let same = general.0.len() == fast.0.len()
        && general
            .0
            .iter()
            .zip(&fast.0)
            .all(|(g, f)| super::fast::same_tree(g, f))
        && general.1 == fast.1;
    assert!(
        same,
        "fast YAML path differs from the general parser on:\n{text}\n--- general:\n{general:#?}\n--- fast:\n{fast:#?}"
    );
}

/// The general parser: granit-parser events folded into nodes.
pub fn parse_general(
    text: &str,
    file: FileId,
) -> Result<(Vec<Node>, Vec<DuplicateKey>), ParseError> {
    parse_general_budgeted(text, file, &mut Budget::new())
}

/// [`parse_general`] counting against a budget shared with other parts of the same file.
fn parse_general_budgeted(
    text: &str,
    file: FileId,
    budget: &mut Budget,
) -> Result<(Vec<Node>, Vec<DuplicateKey>), ParseError> {
    let mut duplicates = Vec::new();
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Anchored nodes and their sizes (in nodes).
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut in_doc = false;
    let limits = budget.limits;
    // granit's own nesting guards stay above the `depth` budget, which is checked below with a
    // message that names it.
    let guard = limits.depth.saturating_mul(2).saturating_add(8);
    let mut options = granit_parser::Options::default();
    options.flow_nesting_limit = guard;
    options.block_nesting_limit = guard;
    let parser = Parser::new_from_str_with_options(text, options);
    for item in parser {
        let (ev, span) = item.map_err(|e| scan_error(&e, file, limits.depth))?;
        let s = span.start.byte_offset().unwrap_or(0);
        let e = span.end.byte_offset().unwrap_or(s);
        let loc = Loc::new(file, s, e);
        let node = match ev {
            Event::StreamStart | Event::StreamEnd => continue,
            Event::DocumentStart(..) => {
                if docs.len() >= limits.documents {
                    return Err(Budget::over(
                        "documents",
                        limits.documents,
                        "YAML documents in this file",
                        loc,
                    ));
                }
                budget.add(1, false, loc)?;
                in_doc = true;
                root = None;
                anchors.clear();
                continue;
            }
            Event::DocumentEnd => {
                if in_doc {
                    docs.push(root.take().unwrap_or_else(|| Node::new(Value::Null, loc)));
                }
                in_doc = false;
                continue;
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some((n, size)) => {
                    // Counted before it is copied: a bomb stops here, not out of memory.
                    budget.add(*size, true, loc)?;
                    let mut n = n.clone();
                    n.loc = loc;
                    n
                }
                None => {
                    return Err(ParseError {
                        loc,
                        message: "unknown anchor referenced by alias".into(),
                        related: None,
                    });
                }
            },
            Event::Scalar(v, style, anchor, tag) => {
                let value = scalar_value(v, style, tag.as_deref(), text, e);
                budget.add(1, false, loc)?;
                let n = Node::new(value, loc);
                if anchor != 0 {
                    anchors.insert(anchor, (n.clone(), 1));
                }
                n
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _)
                if stack.len() >= limits.depth =>
            {
                let _ = anchor;
                return Err(Budget::over(
                    "depth",
                    limits.depth,
                    "YAML collections nested in one document",
                    loc,
                ));
            }
            Event::SequenceStart(_, anchor, _) => {
                stack.push(Frame::Seq {
                    items: Vec::new(),
                    loc,
                    anchor,
                    before: budget.nodes,
                });
                continue;
            }
            Event::MappingStart(_, anchor, _) => {
                stack.push(Frame::Map {
                    map: Mapping::default(),
                    loc,
                    anchor,
                    pending_key: None,
                    merges: Vec::new(),
                    before: budget.nodes,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = stack.pop().expect("the parser balances collections");
                close(frame, budget, &mut anchors)?
            }
            _ => continue, // comments, anchor metadata
        };
        attach(&mut stack, &mut root, node, text, &mut duplicates)?;
    }
    Ok((docs, duplicates))
}
/// A scanner error as a parse error at its offset; running into granit's nesting guard is the
/// `depth` budget (its scanner counts flow nesting ahead of the events the parser checks).
fn scan_error(e: &granit_parser::ScanError, file: FileId, depth: usize) -> ParseError {
    let off = e.marker().byte_offset().unwrap_or(0);
    let loc = Loc::new(file, off, off);
    if matches!(e.kind(), granit_parser::ErrorKind::RecursionLimitExceeded) {
        return Budget::over(
            "depth",
            depth,
            "YAML collections nested in one document",
            loc,
        );
    }
    ParseError {
        loc,
        message: e.info(),
        related: None,
    }
}

/// The node a collection's end event closes (an anchored one remembered with its size).
fn close(
    frame: Frame,
    budget: &mut Budget,
    anchors: &mut HashMap<usize, (Node, usize)>,
) -> Result<Node, ParseError> {
    let (value, l, anchor, before) = match frame {
        Frame::Seq {
            items,
            loc,
            anchor,
            before,
        } => (Value::Seq(items), loc, anchor, before),
        Frame::Map {
            mut map,
            loc,
            anchor,
            merges,
            before,
            ..
        } => {
            merge_keys(&mut map, merges)?;
            (Value::Map(map), loc, anchor, before)
        }
    };
    budget.add(1, false, l)?;
    let n = Node::new(value, l);
    if anchor != 0 {
        anchors.insert(anchor, (n.clone(), budget.nodes - before));
    }
    Ok(n)
}

/// A scalar event's value: resolved by its tag, or as plain or quoted text.
fn scalar_value(
    v: std::borrow::Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&granit_parser::Tag>,
    text: &str,
    end: usize,
) -> Value {
    let plain = style == ScalarStyle::Plain;
    let value = match tag {
        Some(t) if t.is_yaml_core_schema() => resolve_tagged(&v, t.suffix(), plain),
        // A local/custom tag: keep the scalar as a string unless plain.
        Some(_) if plain => resolve_plain(&v),
        Some(_) => Value::Str(v.into()),
        None if plain => resolve_plain(&v),
        None => Value::Str(v.into()),
    };
    unterminated_block_fix(value, style, text, end)
}

/// Attaches a completed node to its parent: the document root, a list's next item, or a
/// mapping's pending key (or, with none pending, the node is the next key).
fn attach(
    stack: &mut [Frame],
    root: &mut Option<Node>,
    node: Node,
    text: &str,
    duplicates: &mut Vec<DuplicateKey>,
) -> Result<(), ParseError> {
    match stack.last_mut() {
        None => *root = Some(node),
        Some(Frame::Seq { items, .. }) => items.push(node),
        Some(Frame::Map {
            map,
            pending_key,
            merges,
            ..
        }) => match pending_key.take() {
            None => {
                let key = match &node.value {
                    Value::Seq(_) | Value::Map(_) => {
                        return Err(ParseError {
                            loc: node.loc,
                            message: "mapping keys must be scalars".into(),
                            related: None,
                        });
                    }
                    // `~: x` keeps its text as the key.
                    Value::Null => Key::from(
                        text.get(node.loc.start as usize..node.loc.end as usize)
                            .unwrap_or(""),
                    ),
                    Value::Str(s) => Key::from(s.as_str()),
                    _ => Key::from(node.scalar_string().unwrap_or_default()),
                };
                *pending_key = Some((key, node.loc));
            }
            Some((key, key_loc)) => {
                if key == "<<" {
                    merges.push((node, key_loc));
                } else {
                    let prev = position(&map.entries, &key);
                    insert_last_wins(&mut map.entries, prev, key, key_loc, node, duplicates);
                }
            }
        },
    }
    Ok(())
}

/// `<<` merge keys: keys already present win; earlier merge sources win over later. The value
/// must be a mapping or a sequence of mappings (go-yaml, and so kustomize, refuses anything else).
fn merge_keys(map: &mut Mapping, merges: Vec<(Node, Loc)>) -> Result<(), ParseError> {
    for (m, key_loc) in merges {
        let loc = m.loc;
        let sources: Vec<Node> = match m.value {
            Value::Map(_) => vec![m],
            Value::Seq(items) => items,
            _ => vec![m],
        };
        for src in sources {
            let Value::Map(sm) = src.value else {
                return Err(ParseError {
                    loc: if src.loc.is_some() { src.loc } else { loc },
                    message: "map merge requires map or sequence of maps as the value".into(),
                    related: Some(key_loc),
                });
            };
            for e in sm.entries {
                if !map.contains_key(&e.key) {
                    map.entries.push(e);
                }
            }
        }
    }
    Ok(())
}

/// A literal or folded block scalar that ends the text without a final line break has no line
/// break to keep: `|` and `|+` then end without the newline granit adds (go-yaml, and so
/// kustomize, print such a value as `|-`; it happens to every inline patch, which kustomize trims).
fn unterminated_block_fix(value: Value, style: ScalarStyle, text: &str, end: usize) -> Value {
    let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
    // Only when the text's last line has content: granit counts a final blank line right.
    let last_line = &text[text.rfind('\n').map_or(0, |i| i + 1)..];
    let at_eof =
        !last_line.trim().is_empty() && text.get(end..).is_some_and(|rest| rest.trim().is_empty());
    match value {
        Value::Str(mut s) if block && at_eof && s.ends_with('\n') => {
            s.pop();
            Value::Str(s)
        }
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Vec<Node> {
        parse_documents(s, FileId(0)).unwrap()
    }

    #[test]
    fn spans_point_at_values() {
        let src = "a:\n  b: \"1.25\"  # bumped\n";
        let d = parse(src);
        let n = d[0].get_path(&["a", "b"]).unwrap();
        assert_eq!(n.as_str(), Some("1.25"));
        assert_eq!(&src[n.loc.start as usize..n.loc.end as usize], "\"1.25\"");
    }

    #[test]
    fn block_scalar_at_end_of_text_has_no_line_break_to_keep() {
        let v = |src: &str| {
            let general = parse_general(src, FileId(0)).unwrap().0;
            let fast = parse(src);
            let a = general[0].get("a").unwrap().as_str().unwrap().to_string();
            assert_eq!(
                fast[0].get("a").unwrap().as_str(),
                Some(a.as_str()),
                "{src:?}"
            );
            a
        };
        assert_eq!(v("a: |\n  x\n  y"), "x\ny");
        assert_eq!(v("a: |\n  x\n  y\n"), "x\ny\n");
        assert_eq!(v("a: |+\n  x"), "x");
        assert_eq!(v("a: |+\n  x\n\n"), "x\n\n");
        assert_eq!(v("a: >\n  x\n  y"), "x y");
        assert_eq!(v("a: |-\n  x\n"), "x");
    }

    #[test]
    fn multi_docs_and_empty() {
        let d = parse("a: 1\n---\n---\nb: 2\n");
        assert_eq!(d.len(), 3);
        assert!(d[1].is_null());
    }

    #[test]
    fn aliases_and_merge_keys() {
        let d = parse("x: &l {a: 1, b: 2}\ny:\n  <<: *l\n  b: 3\n");
        let y = d[0].get("y").unwrap();
        assert_eq!(y.get("a").unwrap().as_i64(), Some(1));
        assert_eq!(y.get("b").unwrap().as_i64(), Some(3));
    }

    #[test]
    fn duplicate_keys_last_wins_like_kustomize() {
        let d = parse("a: 1\nb: 2\na: 3\n");
        assert_eq!(d[0].get("a").unwrap().as_i64(), Some(3));
        assert_eq!(d[0].as_map().unwrap().len(), 2);
    }

    #[test]
    fn syntax_error_has_location() {
        let err = parse_documents("a: [1, 2\nb: 3\n", FileId(0)).unwrap_err();
        assert!(err.loc.start > 0);
    }
}
