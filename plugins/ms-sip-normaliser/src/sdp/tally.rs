//! Counting removed lines by kind, so one change line can say "3 lines" instead of three.

use std::borrow::Cow;

/// Counts per kind, in order of first appearance.
#[derive(Debug, Default)]
pub struct Tally {
    entries: Vec<(Cow<'static, str>, usize)>,
}

impl Tally {
    /// Counts one more of `kind` (copied only when it is new and not `'static`).
    pub fn add(&mut self, kind: impl Into<Cow<'static, str>>) {
        let kind = kind.into();
        match self.entries.iter_mut().find(|(known, _)| *known == kind) {
            Some((_, count)) => *count += 1,
            None => self.entries.push((kind, 1)),
        }
    }

    /// The kinds and their counts, in order of first appearance.
    pub fn entries(&self) -> impl Iterator<Item = (&str, usize)> {
        self.entries
            .iter()
            .map(|(kind, count)| (kind.as_ref(), *count))
    }

    /// The kinds, comma-separated, in order of first appearance.
    pub fn kinds(&self) -> String {
        let mut kinds = String::new();
        for (index, (kind, _)) in self.entries().enumerate() {
            if index > 0 {
                kinds.push_str(", ");
            }
            kinds.push_str(kind);
        }
        kinds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_order_of_first_appearance() {
        let mut tally = Tally::default();
        for kind in ["a=x-caps", "a=label", "a=x-caps"] {
            tally.add(kind);
        }
        let entries: Vec<_> = tally.entries().collect();
        assert_eq!(entries, vec![("a=x-caps", 2), ("a=label", 1)]);
        assert_eq!(tally.kinds(), "a=x-caps, a=label");
    }
}
