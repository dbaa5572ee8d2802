//! Counting removed lines by kind, so one change line can say "3 lines" instead of three.

/// Counts per kind, in order of first appearance.
#[derive(Debug, Default)]
pub struct Tally {
    entries: Vec<(String, usize)>,
}

impl Tally {
    /// Counts one more of `kind`.
    pub fn add(&mut self, kind: &str) {
        match self.entries.iter_mut().find(|(known, _)| known == kind) {
            Some((_, count)) => *count += 1,
            None => self.entries.push((kind.to_owned(), 1)),
        }
    }

    /// The kinds and their counts, in order of first appearance.
    pub fn entries(&self) -> impl Iterator<Item = (&str, usize)> {
        self.entries
            .iter()
            .map(|(kind, count)| (kind.as_str(), *count))
    }

    /// The kinds, comma-separated, in order of first appearance.
    pub fn kinds(&self) -> String {
        let kinds: Vec<&str> = self.entries().map(|(kind, _)| kind).collect();
        kinds.join(", ")
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
