//! Byte offsets ↔ LSP positions. The protocol counts columns in UTF-16 code units
//! (the default `positionEncoding`), spans in this crate are byte offsets into UTF-8.

use crate::span::Span;
use lsp_types::{Position, Range};

/// Where each line of a text starts, for converting offsets both ways.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset of the first character of each line (the first is 0).
    line_starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    /// The index of `text`. Lines end at `\n` (a `\r` before it counts as a character
    /// of the line, which is how editors count it too: it is never addressed).
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            line_starts,
            len: text.len(),
        }
    }

    /// The position of byte `offset` (clamped to the text, moved back onto a character
    /// boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(self.len).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of `position`. A column past the end of its line gives the end of
    /// the line, a line past the end gives the end of the text, and a column inside a
    /// surrogate pair gives the start of that character.
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let line = position.line as usize;
        let Some(&start) = self.line_starts.get(line) else {
            return text.len();
        };
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(text.len(), |&next| next - 1);
        let line_text = text.get(start..end).unwrap_or("");
        let mut units = 0usize;
        for (i, c) in line_text.char_indices() {
            let next = units + c.len_utf16();
            if next > position.character as usize {
                return start + i;
            }
            units = next;
        }
        end
    }

    /// The range of a byte span.
    pub fn range(&self, text: &str, span: Span) -> Range {
        let start = span.start as usize;
        let end = (span.end as usize).max(start);
        Range::new(self.position(text, start), self.position(text, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        // 'é' is 2 bytes and 1 unit; '𝜅' (U+1D705) is 4 bytes and 2 units.
        let text = "ab\n# é𝜅 x\nlast";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 0), Position::new(0, 0));
        assert_eq!(index.position(text, 3), Position::new(1, 0));
        let x = text.find('x').unwrap();
        assert_eq!(x, 3 + 2 + 2 + 4 + 1);
        assert_eq!(index.position(text, x), Position::new(1, 6));
        assert_eq!(index.offset(text, Position::new(1, 6)), x);
        assert_eq!(index.position(text, text.len()), Position::new(2, 4));
        // Round trip at every character boundary.
        for (offset, _) in text.char_indices() {
            let position = index.position(text, offset);
            assert_eq!(index.offset(text, position), offset, "{position:?}");
        }
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let text = "ab\n𝜅c\n";
        let index = LineIndex::new(text);
        // Past the end of line 0: its end (the newline).
        assert_eq!(index.offset(text, Position::new(0, 99)), 2);
        // Inside the surrogate pair of '𝜅': the start of the character.
        assert_eq!(index.offset(text, Position::new(1, 1)), 3);
        assert_eq!(index.offset(text, Position::new(1, 2)), 7);
        assert_eq!(index.offset(text, Position::new(9, 0)), text.len());
        // An offset inside a character moves back to its start.
        assert_eq!(index.position(text, 4), Position::new(1, 0));
        assert_eq!(index.position(text, 999), Position::new(2, 0));
    }
}
