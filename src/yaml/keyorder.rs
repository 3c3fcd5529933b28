//! The order in which `kustomize build` prints mapping keys.
//!
//! kustomize prints through go-yaml v2, which sorts map keys with a "natural" order rather than
//! byte order: numbers compare by value, runs of digits compare numerically (`a2` < `a10`), and at
//! the first differing character a non-letter sorts before a letter (`A_F` < `AN`) unless the
//! characters before it were digits, in which case the letter comes first. Observed with the
//! reference kustomize; implemented here from that description.

use std::cmp::Ordering;

/// Compares two keys the way the printed output orders them.
pub fn compare_keys(a: &str, b: &str) -> Ordering {
    if less(a, b) {
        Ordering::Less
    } else if less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn less(a: &str, b: &str) -> bool {
    // Keys are strings by the time they are printed (Go's map[string]interface{}), so the
    // numeric-key branch of go-yaml's order never applies.
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            digits = ar[i].is_ascii_digit();
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .saturating_mul(10)
                .saturating_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .saturating_mul(10)
                .saturating_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| compare_keys(a, b));
        v
    }

    #[test]
    fn non_letters_before_letters() {
        // Observed: kustomize prints A_F, AN, a, b in this order.
        assert_eq!(sorted(&["b", "a", "AN", "A_F"]), ["A_F", "AN", "a", "b"]);
    }

    #[test]
    fn digit_runs_compare_numerically() {
        assert_eq!(sorted(&["a10", "a2", "a1"]), ["a1", "a2", "a10"]);
        assert_eq!(
            sorted(&["apiVersion", "kind", "metadata", "data"]),
            ["apiVersion", "data", "kind", "metadata"]
        );
    }
}
