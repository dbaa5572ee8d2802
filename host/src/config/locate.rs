//! Map a dotted setting path (`chain[1].config.routes[0].port`) to its line and column in the file.

use toml_edit::{ImDocument, Item, Table, Value};

/// 1-based line and column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Step::Index(i));
            }
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    Table(&'a Table),
    Value(&'a Value),
}

impl<'a> Node<'a> {
    fn span(self) -> Option<std::ops::Range<usize>> {
        match self {
            Node::Item(i) => i.span(),
            Node::Table(t) => t.span(),
            Node::Value(v) => v.span(),
        }
    }

    /// The child under `step`, and the span of its key (for keyed steps).
    fn child(self, step: &Step<'_>) -> Option<(Node<'a>, Option<std::ops::Range<usize>>)> {
        match (self, step) {
            (Node::Item(Item::Table(t)), Step::Key(k)) | (Node::Table(t), Step::Key(k)) => {
                let (key, item) = t.get_key_value(k)?;
                Some((Node::Item(item), key.span()))
            }
            (Node::Item(Item::Value(v)), s) => Node::Value(v).child(s),
            (Node::Value(Value::InlineTable(t)), Step::Key(k)) => {
                let (key, item) = t.get_key_value(k)?;
                Some((Node::Item(item), key.span()))
            }
            (Node::Item(Item::ArrayOfTables(a)), Step::Index(i)) => {
                Some((Node::Table(a.get(*i)?), None))
            }
            (Node::Value(Value::Array(a)), Step::Index(i)) => Some((Node::Value(a.get(*i)?), None)),
            _ => None,
        }
    }
}

/// Byte span of the deepest part of `path` that exists in the document: the value when the whole path
/// exists, else the nearest enclosing key or table (so an unknown or absent field still points at its
/// table).
pub fn locate_path(text: &str, path: &str) -> Option<std::ops::Range<usize>> {
    let doc = ImDocument::parse(text).ok()?;
    let mut node = Node::Item(doc.as_item());
    let mut best = None;
    for step in steps(path) {
        match node.child(&step) {
            Some((child, key_span)) => {
                best = key_span.or_else(|| child.span()).or(best);
                node = child;
            }
            None => break,
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[admin]\nlisten = \"127.0.0.1:9060\"\n\n[[chain]]\nplugin = \"a.so\"\n\n[[chain]]\nplugin = \"b.so\"\n[chain.config]\nport = 99999\nroutes = [{ destination = 1 }]\n";

    fn line_of(path: &str) -> usize {
        line_col(TEXT, locate_path(TEXT, path).unwrap().start).0
    }

    #[test]
    fn finds_nested_settings() {
        assert_eq!(line_of("admin.listen"), 2);
        assert_eq!(line_of("chain[1].plugin"), 8);
        assert_eq!(line_of("chain[1].config.port"), 10);
        assert_eq!(line_of("chain[1].config.routes[0].destination"), 11);
    }

    #[test]
    fn missing_leaf_points_at_parent() {
        assert_eq!(line_of("chain[1].config.missing"), 9);
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
