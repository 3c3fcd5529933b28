//! The syntax of field-spec paths, in a file of its own so that build.rs can include it too
//! (`#[path]`): the tables compiled into the binary are split exactly as the tables a
//! kustomization's `configurations:` brings are split at run time.

/// Splits `a/b[]/c` into segments, honouring `\/` escapes (annotation keys with slashes);
/// empty segments are dropped.
pub(crate) fn split_path<S: From<String>>(path: &str) -> Vec<S> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                cur.push('/');
                chars.next();
            }
            '/' => {
                if !cur.is_empty() {
                    out.push(S::from(std::mem::take(&mut cur)));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(S::from(cur));
    }
    out
}
