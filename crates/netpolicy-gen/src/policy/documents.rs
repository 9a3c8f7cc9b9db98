//! Splitting a multi-document YAML stream into its documents, each with its index and the
//! line it starts on, so that every finding can name `file:line` and the document index.
//!
//! serde_yaml 0.9 iterates documents but keeps no position for them, and its iterator
//! repeats the first syntax error forever; so the stream is cut here at the document
//! markers and each document is parsed on its own. YAML forbids a `---` or `...` line at
//! column 0 inside any node, so cutting there is exact.

/// One document of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<'a> {
    /// 0-based index, counted as serde_yaml and `yq`'s `documentIndex` count: the comments
    /// before a first `---` are not a document, an empty document between two markers is.
    pub index: usize,
    /// 1-based line of the document's first line (its `---` when it has one).
    pub line: usize,
    /// The document's text, its `---` line included.
    pub text: &'a str,
}

impl Document<'_> {
    /// The line in the whole stream of `line` (1-based) of this document's text.
    pub fn stream_line(&self, line: usize) -> usize {
        self.line + line.saturating_sub(1)
    }
}

/// Cuts `text` into documents.
pub fn split(text: &str) -> Vec<Document<'_>> {
    let mut documents = Vec::new();
    // (start byte, start line, began with `---`)
    let mut current: Option<(usize, usize, bool)> = Some((0, 1, false));
    let mut offset = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let number = number + 1;
        let bare = line.trim_end_matches(['\n', '\r']);
        if is_marker(bare, "---") {
            close(text, current.take(), offset, &mut documents);
            current = Some((offset, number, true));
        } else if is_marker(bare, "...") {
            close(text, current.take(), offset, &mut documents);
            current = Some((offset + line.len(), number + 1, false));
        }
        offset += line.len();
    }
    close(text, current, offset, &mut documents);
    documents
}

/// Ends the document that started at `start`; a document without `---` counts only when it
/// holds content.
fn close<'a>(
    text: &'a str,
    start: Option<(usize, usize, bool)>,
    end: usize,
    out: &mut Vec<Document<'a>>,
) {
    let Some((from, line, marked)) = start else {
        return;
    };
    let body = text.get(from..end).unwrap_or_default();
    if marked || has_content(body) {
        out.push(Document {
            index: out.len(),
            line,
            text: body,
        });
    }
}

/// `---` or `...` alone, or followed by a blank or a tab (`--- !tag`, `--- # c`).
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// True when `body` holds more than blank lines, comments and directives.
fn has_content(body: &str) -> bool {
    body.lines().any(|l| {
        let t = l.trim();
        !(t.is_empty() || t.starts_with('#') || l.starts_with('%'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> Vec<(usize, usize, &str)> {
        split(text)
            .into_iter()
            .map(|d| (d.index, d.line, d.text))
            .collect()
    }

    #[test]
    fn leading_comments_are_not_a_document_but_empty_documents_are() {
        let text = "# c\n---\na: 1\n---\n# only comment\n---\n---\nb: 2\n";
        assert_eq!(
            shape(text),
            vec![
                (0, 2, "---\na: 1\n"),
                (1, 4, "---\n# only comment\n"),
                (2, 6, "---\n"),
                (3, 7, "---\nb: 2\n"),
            ]
        );
    }

    #[test]
    fn a_stream_without_markers_is_one_document() {
        assert_eq!(shape("a: 1\nb: 2"), vec![(0, 1, "a: 1\nb: 2")]);
        assert!(split("").is_empty());
        assert!(split("# nothing\n\n").is_empty());
    }

    #[test]
    fn markers_need_a_blank_after_them_and_column_zero() {
        let text = "a: |\n  ---\n---x: 1\n--- {b: 1}\n";
        assert_eq!(
            shape(text),
            vec![(0, 1, "a: |\n  ---\n---x: 1\n"), (1, 4, "--- {b: 1}\n")]
        );
    }

    #[test]
    fn document_end_markers_close_a_document() {
        let text = "a: 1\n...\n---\nb: 2\n...\n";
        assert_eq!(shape(text), vec![(0, 1, "a: 1\n"), (1, 3, "---\nb: 2\n")]);
    }

    #[test]
    fn the_document_count_matches_serde_yaml() {
        use serde::Deserialize;
        let text = "# c\n---\na: 1\n---\n# only comment\n---\n---\nb: 2\n---\n[1, 2]\n";
        let serde_count = serde_yaml::Deserializer::from_str(text)
            .map(serde_yaml::Value::deserialize)
            .count();
        assert_eq!(split(text).len(), serde_count);
    }
}
