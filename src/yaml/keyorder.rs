//! The order in which `kustomize build` prints mapping keys.
//!
//! kustomize prints through go-yaml v2, which sorts map keys with a "natural" order rather than
//! byte order: numbers compare by value, runs of digits compare numerically (`a2` < `a10`), and at
//! the first differing character a non-letter sorts before a letter (`A_F` < `AN`) unless the
//! characters before it were digits, in which case the letter comes first. Observed with the
//! reference kustomize; implemented here from that description.

use std::cmp::Ordering;

/// Compares two keys the way the printed output orders them.
pub(crate) fn compare_keys(a: &str, b: &str) -> Ordering {
    if less(a, b) {
        Ordering::Less
    } else if less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// Whether `a` prints before `b`. Keys are almost always ASCII: those compare as bytes, without
/// decoding (the emitter asks this of every adjacent pair of every mapping it prints).
pub(crate) fn less(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        less_in(a.as_bytes(), b.as_bytes())
    } else {
        let ar: Vec<char> = a.chars().collect();
        let br: Vec<char> = b.chars().collect();
        less_in(&ar, &br)
    }
}

/// A character of a key: a byte of an ASCII key, else a `char`.
trait KeyChar: Copy + PartialOrd {
    fn is_letter(self) -> bool;
    fn digit(self) -> Option<i64>;
}

impl KeyChar for u8 {
    fn is_letter(self) -> bool {
        self.is_ascii_alphabetic()
    }
    fn digit(self) -> Option<i64> {
        self.is_ascii_digit().then(|| i64::from(self - b'0'))
    }
}

impl KeyChar for char {
    fn is_letter(self) -> bool {
        self.is_alphabetic()
    }
    fn digit(self) -> Option<i64> {
        self.is_ascii_digit().then(|| self as i64 - '0' as i64)
    }
}

fn less_in<C: KeyChar>(ar: &[C], br: &[C]) -> bool {
    let mut digits = false;
    let n = ar.len().min(br.len());
    let zero = |c: C| c.digit() == Some(0);
    for i in 0..n {
        if ar[i] == br[i] {
            digits = ar[i].digit().is_some();
            continue;
        }
        let al = ar[i].is_letter();
        let bl = br[i].is_letter();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if zero(ar[i]) || zero(br[i]) {
            let mut j = i;
            while j > 0 && ar[j - 1].digit().is_some() {
                j -= 1;
                if !zero(ar[j]) {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while let Some(d) = ar.get(ai).and_then(|c| c.digit()) {
            an = an.saturating_mul(10).saturating_add(d);
            ai += 1;
        }
        let mut bi = i;
        while let Some(d) = br.get(bi).and_then(|c| c.digit()) {
            bn = bn.saturating_mul(10).saturating_add(d);
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
        let mut v: Vec<String> = keys.iter().map(std::string::ToString::to_string).collect();
        v.sort_by(|a, b| compare_keys(a, b));
        v
    }

    #[test]
    fn non_letters_before_letters() {
        // Observed: kustomize prints A_F, AN, a, b in this order.
        assert_eq!(sorted(&["b", "a", "AN", "A_F"]), ["A_F", "AN", "a", "b"]);
    }

    #[test]
    fn ascii_and_unicode_keys_order_alike() {
        // The byte comparison of ASCII keys and the char comparison agree where both apply.
        let keys = [
            "a10", "a2", "A_F", "AN", "x0y", "x00y", "b1c", "é", "ä1", "a", "", "0", "00",
        ];
        for a in keys {
            for b in keys {
                let (ac, bc): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                assert_eq!(less(a, b), less_in(&ac, &bc), "{a} < {b}");
            }
        }
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
