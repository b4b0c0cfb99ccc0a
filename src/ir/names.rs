//! "Did you mean" suggestions by edit distance, for unknown names and keys.

/// Edit distance between two strings, counted in characters: insertions,
/// deletions, substitutions and swaps of two adjacent characters (the
/// optimal-string-alignment variant of Damerau–Levenshtein), since a swapped
/// pair (`sni` for `sin`) is the commonest typo.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rolling rows: i-2, i-1, i.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 0..a.len() {
        cur[0] = i + 1;
        for j in 0..b.len() {
            let substitution = prev[j] + usize::from(a[i] != b[j]);
            let mut best = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                best = best.min(before[j - 1] + 1);
            }
            cur[j + 1] = best;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `name`, if it is close enough to be a plausible
/// typo: a case-only difference, or at most a third of the name's length
/// (at least one edit) while fewer edits than the name has characters, so some
/// of what was written survives (a one-letter name is never "corrected" into
/// another one-letter name: `a` is no typo of `t`). Ties go to the earliest
/// candidate.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = name.chars().count();
    let limit = (length / 3).max(1).min(length.saturating_sub(1));
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        let d = if cand.eq_ignore_ascii_case(name) {
            0
        } else {
            edit_distance(name, cand)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// `"did you mean `x`?"` for the closest candidate, if any.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    suggest(name, candidates).map(|s| format!("did you mean `{s}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("u", "v"), 1);
        assert_eq!(edit_distance("kappa", "kapa"), 1);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("é", "e"), 1);
        assert_eq!(edit_distance("sni", "sin"), 1);
        assert_eq!(edit_distance("tahn", "tanh"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }

    #[test]
    fn suggestion_is_the_nearest_plausible_name() {
        let names = ["kappa", "u", "x", "sin"];
        assert_eq!(suggest("kapa", names), Some("kappa"));
        assert_eq!(suggest("sni", names), Some("sin"));
        // One letter replaced by another is a different name, not a typo.
        assert_eq!(suggest("v", names), None);
        assert_eq!(suggest("a", ["t", "x", "u"]), None);
        assert_eq!(suggest("U", names), Some("u"));
        assert_eq!(suggest("kk", ["k"]), Some("k"));
        assert_eq!(suggest("dy", ["dt"]), Some("dt"));
        assert_eq!(suggest("Kappa", names), Some("kappa"));
        assert_eq!(suggest("temperature", names), None);
        assert_eq!(
            did_you_mean("interor", ["interior", "boundary"]).as_deref(),
            Some("did you mean `interior`?")
        );
    }
}
