//! Tokens of the `.pde` language (logos) and the adapter that feeds them to the
//! LALRPOP parser.
//!
//! The adapter owns everything about newlines and brackets: it drops newlines
//! that cannot end a statement (inside brackets, after a binary operator, `,`,
//! `=` or `:`), collapses repeated ones, always ends the input with a newline,
//! and checks bracket balance and nesting depth. Lexical mistakes (unknown
//! characters, unterminated strings, numbers out of range, unbalanced or too
//! deeply nested brackets) become [`Diagnostic`]s here; the parser then sees a
//! [`Token::Poison`] token, which no grammar rule accepts, so it resynchronises
//! at the next newline without reporting the same mistake twice.

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use logos::Logos;

/// Deepest allowed nesting of brackets, and of unary minus / `^` chains, so that
/// recursive passes over the AST can never overflow the stack.
pub const MAX_DEPTH: usize = 256;

/// One token. `Newline` and `Poison` are also produced by the adapter itself.
#[derive(Logos, Debug, Clone, Copy, PartialEq)]
#[logos(skip r"[ \t\r\f]+")]
#[logos(skip(r"#[^\n]*", allow_greedy = true))]
pub enum Token<'s> {
    #[token("space")]
    /// Keyword `space`.
    Space,
    #[token("time")]
    /// Keyword `time`.
    Time,
    #[token("field")]
    /// Keyword `field`.
    Field,
    #[token("const")]
    /// Keyword `const`.
    Const,
    #[token("param")]
    /// Keyword `param`.
    Param,
    #[token("let")]
    /// Keyword `let`.
    Let,
    #[token("data")]
    /// Keyword `data`.
    Data,
    #[token("from")]
    /// Keyword `from`.
    From,
    #[token("periodic")]
    /// Keyword `periodic`.
    Periodic,
    #[token("exact")]
    /// Keyword `exact`.
    Exact,
    #[token("shape")]
    /// Keyword `shape`.
    Shape,
    #[token("model")]
    /// Keyword `model`.
    Model,
    #[token("sample")]
    /// Keyword `sample`.
    Sample,
    #[token("solve")]
    /// Keyword `solve`.
    Solve,
    #[token("on")]
    /// Keyword `on`.
    On,
    #[token("in")]
    /// Keyword `in`.
    In,
    #[token("weight")]
    /// Keyword `weight`.
    Weight,
    #[token("every")]
    /// Keyword `every`.
    Every,
    #[token("of")]
    /// Keyword `of` (`on boundary of hole`).
    Of,
    #[token("as")]
    /// Keyword `as` (`data k from "k.csv" as grid`).
    As,
    #[token("where")]
    /// Keyword `where` (`on boundary where x = 1`).
    Where,
    #[token("and")]
    /// Keyword `and` (`on boundary where x = 1 and y > 0`).
    And,

    #[regex("[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    /// An identifier.
    Ident(&'s str),
    #[regex(r"([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", |lex| lex.slice())]
    /// A number literal, as written.
    Number(&'s str),
    /// A string with its quotes.
    #[regex(r#""[^"\n]*""#, |lex| lex.slice())]
    Str(&'s str),
    /// A string missing its closing quote (the adapter reports it and passes on a `Str`).
    #[regex(r#""[^"\n]*"#, |lex| lex.slice())]
    UnterminatedStr(&'s str),
    /// `'...'`: not a string in this language (reported by the adapter).
    #[regex(r#"'[^'\n]*'"#, |lex| lex.slice())]
    SingleQuoted(&'s str),

    #[token("\n")]
    /// End of a line (items are line-based).
    Newline,
    #[token("(")]
    /// `(`.
    LParen,
    #[token(")")]
    /// `)`.
    RParen,
    #[token("[")]
    /// `[`.
    LBracket,
    #[token("]")]
    /// `]`.
    RBracket,
    #[token(",")]
    /// `,`.
    Comma,
    #[token("=")]
    /// `=`.
    Eq,
    #[token("+")]
    /// `+`.
    Plus,
    #[token("-")]
    /// `-`.
    Minus,
    #[token("*")]
    /// `*`.
    Star,
    #[token("/")]
    /// `/`.
    Slash,
    #[token("^")]
    /// `^`.
    Caret,
    #[token("&")]
    /// `&`.
    Amp,
    #[token(":")]
    /// `:`.
    Colon,
    #[token(".")]
    /// `.`.
    Dot,
    #[token("<")]
    /// `<`.
    Less,
    #[token("<=")]
    /// `<=`.
    LessEq,
    #[token(">")]
    /// `>`.
    Greater,
    #[token(">=")]
    /// `>=`.
    GreaterEq,

    /// Stands where the adapter already reported an error; no rule accepts it.
    Poison,
}

impl Token<'_> {
    /// Tokens that can only begin a statement (never appear inside an expression).
    pub fn starts_statement(self) -> bool {
        matches!(
            self,
            Token::Space
                | Token::Time
                | Token::Field
                | Token::Const
                | Token::Param
                | Token::Let
                | Token::Data
                | Token::Periodic
                | Token::Exact
                | Token::Shape
                | Token::Model
                | Token::Sample
                | Token::Solve
        )
    }

    /// Reserved words.
    pub fn is_keyword(self) -> bool {
        self.starts_statement()
            || matches!(
                self,
                Token::From
                    | Token::On
                    | Token::In
                    | Token::Weight
                    | Token::Every
                    | Token::Of
                    | Token::As
                    | Token::Where
                    | Token::And
            )
    }

    /// The comparison operators `<`, `<=`, `>`, `>=`.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            Token::Less | Token::LessEq | Token::Greater | Token::GreaterEq
        )
    }

    /// After these a statement cannot end, so a following newline is dropped.
    fn continues_line(self) -> bool {
        matches!(
            self,
            Token::Comma
                | Token::Eq
                | Token::Plus
                | Token::Minus
                | Token::Star
                | Token::Slash
                | Token::Caret
                | Token::Amp
                | Token::Colon
                | Token::LParen
                | Token::LBracket
                | Token::Where
                | Token::And
        ) || self.is_comparison()
    }

    /// Tokens that can end an operand.
    fn ends_operand(self) -> bool {
        matches!(
            self,
            Token::Ident(_) | Token::Number(_) | Token::Str(_) | Token::RParen | Token::RBracket
        )
    }

    /// Binary operators that bind looser than unary minus and `^`: seeing one
    /// lets the parser reduce a pending chain of `-` and `^`.
    fn resets_chain(self) -> bool {
        matches!(
            self,
            Token::Plus
                | Token::Star
                | Token::Slash
                | Token::Amp
                | Token::Comma
                | Token::Eq
                | Token::Colon
        ) || self.is_comparison()
            || self.starts_statement()
            || matches!(
                self,
                Token::On
                    | Token::In
                    | Token::From
                    | Token::Weight
                    | Token::Every
                    | Token::Of
                    | Token::As
                    | Token::Where
                    | Token::And
            )
    }
}

/// The adapter never fails: every lexical problem becomes a diagnostic plus a
/// [`Token::Poison`]. This type has no values.
#[derive(Debug, Clone, PartialEq)]
pub enum LexError {}

impl std::fmt::Display for LexError {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

/// A spanned token as LALRPOP expects it.
pub type Spanned<'s> = (usize, Token<'s>, usize);

type Raw<'s> = (Result<Token<'s>, ()>, std::ops::Range<usize>);

/// An open bracket: which one and where.
#[derive(Debug, Clone, Copy)]
struct Open {
    close: Token<'static>,
    open_char: char,
    start: usize,
}

/// Turns source text into the token stream the parser reads, collecting
/// lexical diagnostics on the way (see the module docs).
pub struct Lexer<'s> {
    source: &'s str,
    raw: Vec<Raw<'s>>,
    next_raw: usize,
    pending: std::collections::VecDeque<Spanned<'s>>,
    open: Vec<Open>,
    /// Pending unary-minus and `^` tokens per bracket level (not yet reducible).
    chain: Vec<usize>,
    chain_total: usize,
    last: Option<Token<'s>>,
    /// Inside a statement that is too deeply nested: tokens are dropped until it ends.
    skipping: bool,
    finished: bool,
    diagnostics: Vec<Diagnostic>,
    statement_starts: Vec<(usize, Token<'s>)>,
    unclosed: Vec<(usize, usize)>,
}

impl<'s> Lexer<'s> {
    /// A lexer over `source`.
    pub fn new(source: &'s str) -> Self {
        let raw: Vec<Raw<'s>> = Token::lexer(source).spanned().collect();
        Lexer {
            source,
            raw,
            next_raw: 0,
            pending: Default::default(),
            open: Vec::new(),
            chain: vec![0],
            chain_total: 0,
            last: None,
            skipping: false,
            finished: false,
            diagnostics: Vec::new(),
            statement_starts: Vec::new(),
            unclosed: Vec::new(),
        }
    }

    /// The diagnostics found so far (all of them once the iterator is exhausted).
    pub fn take_diagnostics(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.diagnostics)
    }

    /// Offsets and first tokens of the statements emitted so far (for help texts).
    pub fn statement_starts(&self) -> &[(usize, Token<'s>)] {
        &self.statement_starts
    }

    /// Byte ranges from an unclosed bracket to where its statement ended; a
    /// parser error inside one is a consequence of the missing bracket.
    pub fn unclosed_ranges(&self) -> &[(usize, usize)] {
        &self.unclosed
    }

    fn emit(&mut self, start: usize, token: Token<'s>, end: usize) {
        if token != Token::Newline && token != Token::Poison && self.at_statement_start() {
            self.statement_starts.push((start, token));
        }
        self.last = Some(token);
        self.pending.push_back((start, token, end));
    }

    fn at_statement_start(&self) -> bool {
        matches!(self.last, None | Some(Token::Newline))
    }

    fn end_statement(&mut self, at: usize) {
        self.open.clear();
        self.chain.clear();
        self.chain.push(0);
        self.chain_total = 0;
        self.skipping = false;
        if !self.at_statement_start() {
            self.emit(at, Token::Newline, (at + 1).min(self.source.len()).max(at));
        }
    }

    /// The next raw token that is not a newline: `None` at end of input,
    /// `Some(None)` for an invalid character.
    fn peek_past_newlines(&self) -> Option<Option<Token<'s>>> {
        self.raw[self.next_raw..]
            .iter()
            .find(|(token, _)| *token != Ok(Token::Newline))
            .map(|(token, _)| token.ok())
    }

    /// Reports the brackets still open where a statement ends.
    fn report_unclosed(&mut self, at: usize, at_eof: bool) {
        let Some(innermost) = self.open.last().copied() else {
            return;
        };
        let count = self.open.len();
        self.unclosed.push((self.open[0].start, at));
        let message = if count == 1 {
            format!("unclosed `{}`", innermost.open_char)
        } else {
            format!("{count} unclosed brackets")
        };
        let closers: String = self
            .open
            .iter()
            .rev()
            .map(|o| if o.open_char == '(' { ')' } else { ']' })
            .take(8)
            .collect();
        let mut diagnostic = Diagnostic::error("E0005", message);
        for open in self.open.iter().rev().take(3) {
            let span = Span::new(open.start, open.start + 1);
            diagnostic =
                diagnostic.with_label(span, format!("this `{}` is never closed", open.open_char));
        }
        let where_ = if at_eof { "file" } else { "line" };
        diagnostic = diagnostic
            .with_label(Span::new(at, at), format!("the {where_} ends here"))
            .with_help(format!(
                "add `{closers}` before the end of the {where_}, or break the line after an operator or `,`"
            ));
        self.diagnostics.push(diagnostic);
    }

    fn enter_skip(&mut self, start: usize, end: usize, what: &str) {
        self.diagnostics.push(
            Diagnostic::error("E0007", format!("{what} nested too deeply"))
                .with_label(
                    Span::new(start, end),
                    format!("more than {MAX_DEPTH} levels deep here"),
                )
                .with_help("split the expression with `let` definitions"),
        );
        self.emit(start, Token::Poison, end);
        self.skipping = true;
    }

    fn handle_newline(&mut self, start: usize) {
        if self.at_statement_start() {
            return;
        }
        let Some(next) = self.peek_past_newlines() else {
            // Only newlines and comments remain: the end of input ends the statement.
            return;
        };
        let next_starts_statement = next.is_some_and(Token::starts_statement);
        if self.skipping {
            if self.open.is_empty() || next_starts_statement {
                self.end_statement(start);
            }
            return;
        }
        let last = self.last.unwrap_or(Token::Newline);
        if last.continues_line() && !next_starts_statement {
            return;
        }
        if self.open.is_empty() {
            self.end_statement(start);
            return;
        }
        let next_continues = matches!(
            next,
            Some(
                Token::RParen
                    | Token::RBracket
                    | Token::Comma
                    | Token::Plus
                    | Token::Minus
                    | Token::Star
                    | Token::Slash
                    | Token::Caret
                    | Token::Amp
                    | Token::Eq
                    | Token::Colon
                    | Token::Dot
                    | Token::Less
                    | Token::LessEq
                    | Token::Greater
                    | Token::GreaterEq
            )
        );
        // A newline inside brackets continues the statement, unless the next
        // line cannot possibly continue it: a bracket was left open.
        let unclosed = next_starts_statement || (last.ends_operand() && !next_continues);
        if unclosed {
            self.report_unclosed(start, false);
            self.emit(start, Token::Poison, start);
            self.end_statement(start);
        }
    }

    fn handle_token(&mut self, token: Token<'s>, start: usize, end: usize) {
        match token {
            Token::LParen | Token::LBracket => {
                let (close, open_char) = if token == Token::LParen {
                    (Token::RParen, '(')
                } else {
                    (Token::RBracket, '[')
                };
                self.open.push(Open {
                    close,
                    open_char,
                    start,
                });
                self.chain.push(0);
                if self.skipping {
                    return;
                }
                if self.open.len() + self.chain_total > MAX_DEPTH {
                    self.enter_skip(start, end, "brackets");
                    return;
                }
            }
            Token::RParen | Token::RBracket => {
                let close_char = if token == Token::RParen { ')' } else { ']' };
                match self.open.last().copied() {
                    None => {
                        if !self.skipping {
                            let open_char = if close_char == ')' { '(' } else { '[' };
                            self.diagnostics.push(
                                Diagnostic::error("E0005", format!("unmatched `{close_char}`"))
                                    .with_label(
                                        Span::new(start, end),
                                        format!("no `{open_char}` is open here"),
                                    )
                                    .with_help(format!(
                                        "remove this `{close_char}` or add the missing `{open_char}` before it"
                                    )),
                            );
                            self.emit(start, Token::Poison, end);
                        }
                        return;
                    }
                    Some(open) => {
                        self.open.pop();
                        if let Some(pending) = self.chain.pop() {
                            self.chain_total -= pending;
                        }
                        if self.chain.is_empty() {
                            self.chain.push(0);
                        }
                        if self.skipping {
                            return;
                        }
                        let encloser = self.open.last().copied();
                        if open.close != token && encloser.is_some_and(|e| e.close == token) {
                            // `f([1, 2)`: the inner bracket was left open and this
                            // closer belongs to the enclosing one.
                            self.open.pop();
                            if let Some(pending) = self.chain.pop() {
                                self.chain_total -= pending;
                            }
                            if self.chain.is_empty() {
                                self.chain.push(0);
                            }
                            self.unclosed.push((open.start, start));
                            let expected = if open.open_char == '(' { ')' } else { ']' };
                            self.diagnostics.push(
                                Diagnostic::error(
                                    "E0005",
                                    format!("unclosed `{}`", open.open_char),
                                )
                                .with_label(
                                    Span::new(open.start, open.start + 1),
                                    format!("this `{}` is never closed", open.open_char),
                                )
                                .with_label(
                                    Span::new(start, end),
                                    format!("this `{close_char}` closes the enclosing bracket"),
                                )
                                .with_help(format!("add `{expected}` before this `{close_char}`")),
                            );
                            self.emit(start, Token::Poison, end);
                            return;
                        }
                        if open.close != token {
                            let expected = if open.open_char == '(' { ')' } else { ']' };
                            self.diagnostics.push(
                                Diagnostic::error("E0005", format!("mismatched `{close_char}`"))
                                    .with_label(
                                        Span::new(start, end),
                                        format!("expected `{expected}` here"),
                                    )
                                    .with_label(
                                        Span::new(open.start, open.start + 1),
                                        format!("to close this `{}`", open.open_char),
                                    )
                                    .with_help(format!("replace `{close_char}` with `{expected}`")),
                            );
                            self.emit(start, Token::Poison, end);
                            return;
                        }
                    }
                }
            }
            _ => {}
        }
        if self.skipping {
            return;
        }
        let prefix_minus = token == Token::Minus && !self.last.is_some_and(Token::ends_operand);
        if prefix_minus || token == Token::Caret {
            if let Some(level) = self.chain.last_mut() {
                *level += 1;
            }
            self.chain_total += 1;
            if self.open.len() + self.chain_total > MAX_DEPTH {
                self.enter_skip(start, end, "expression");
                return;
            }
        } else if token == Token::Minus || token.resets_chain() {
            if let Some(level) = self.chain.last_mut() {
                self.chain_total -= *level;
                *level = 0;
            }
        }
        self.emit(start, token, end);
    }

    fn lex_error(&mut self, start: usize, end: usize) {
        let text = self.source.get(start..end).unwrap_or("");
        let first = text.chars().next();
        let message = match first {
            Some(c) if c.is_control() || c.is_whitespace() => {
                format!("unexpected character U+{:04X}", c as u32)
            }
            Some(_) if text.chars().nth(1).is_some() => {
                let shown: String = text.chars().take(20).collect();
                let more = if shown.len() < text.len() { "…" } else { "" };
                format!("unexpected characters `{shown}{more}`")
            }
            Some(c) => format!("unexpected character `{c}`"),
            None => "unexpected character".to_string(),
        };
        let help = match first {
            Some('\'') => "strings are written with double quotes: `\"file.csv\"`",
            Some('\u{2212}') => "use the ASCII minus sign `-`",
            Some('{' | '}') => "use `(` and `)` to group expressions",
            Some(';') => "statements end at the end of the line; no `;` is needed",
            _ => "only letters, digits, `_`, `\"` and `( ) [ ] , = + - * / ^ & : .` may appear outside comments",
        };
        self.diagnostics.push(
            Diagnostic::error("E0003", message)
                .with_label(Span::new(start, end), "not a valid token")
                .with_help(help),
        );
        if !self.skipping {
            self.emit(start, Token::Poison, end);
        }
    }

    fn finish(&mut self) {
        let len = self.source.len();
        if !self.skipping && !self.open.is_empty() {
            self.report_unclosed(len, true);
            self.emit(len, Token::Poison, len);
        }
        if !self.at_statement_start() {
            // Zero-width at the very end: the parser treats it as end of file.
            self.emit(len, Token::Newline, len);
        }
        self.finished = true;
    }

    /// Extends a byte range to whole characters (logos may split a UTF-8 sequence on error).
    fn char_range(&self, range: std::ops::Range<usize>) -> (usize, usize) {
        let mut start = range.start.min(self.source.len());
        let mut end = range.end.min(self.source.len()).max(start);
        while !self.source.is_char_boundary(start) {
            start -= 1;
        }
        while !self.source.is_char_boundary(end) {
            end += 1;
        }
        (start, end)
    }

    fn step(&mut self) {
        let Some((token, range)) = self.raw.get(self.next_raw).cloned() else {
            self.finish();
            return;
        };
        self.next_raw += 1;
        let (start, end) = self.char_range(range);
        match token {
            Err(()) => {
                // A run of invalid characters is one mistake.
                let mut end = end;
                while let Some((Err(()), next)) = self.raw.get(self.next_raw) {
                    if next.start > end {
                        break;
                    }
                    end = self.char_range(next.clone()).1;
                    self.next_raw += 1;
                }
                self.lex_error(start, end)
            }
            Ok(Token::Newline) => self.handle_newline(start),
            Ok(Token::UnterminatedStr(text)) => {
                self.diagnostics.push(
                    Diagnostic::error("E0004", "unterminated string")
                        .with_label(Span::new(start, end), "this string has no closing `\"`")
                        .with_help("close the string with `\"` on the same line"),
                );
                self.handle_token(Token::Str(text), start, end);
            }
            Ok(Token::SingleQuoted(_)) => {
                self.diagnostics.push(
                    Diagnostic::error("E0003", "single-quoted string")
                        .with_label(Span::new(start, end), "not a valid token")
                        .with_help("strings are written with double quotes: `\"file.csv\"`"),
                );
                if !self.skipping {
                    self.emit(start, Token::Poison, end);
                }
            }
            Ok(Token::Number(text)) => {
                let finite = text.parse::<f64>().is_ok_and(f64::is_finite);
                if !finite && !self.skipping {
                    self.diagnostics.push(
                        Diagnostic::error("E0006", format!("number `{text}` is out of range"))
                            .with_label(Span::new(start, end), "too large for a 64-bit float")
                            .with_help("numbers must stay below about 1.8e308"),
                    );
                }
                self.handle_token(Token::Number(text), start, end);
            }
            Ok(token) => self.handle_token(token, start, end),
        }
    }
}

impl<'s> Iterator for Lexer<'s> {
    type Item = Result<Spanned<'s>, LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(token) = self.pending.pop_front() {
                return Some(Ok(token));
            }
            if self.finished {
                return None;
            }
            self.step();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(source: &str) -> Vec<Token<'_>> {
        Lexer::new(source)
            .map(|token| match token {
                Ok((_, token, _)) => token,
                Err(never) => match never {},
            })
            .collect()
    }

    fn codes(source: &str) -> Vec<&'static str> {
        let mut lexer = Lexer::new(source);
        lexer.by_ref().for_each(drop);
        lexer.take_diagnostics().iter().map(|d| d.code).collect()
    }

    #[test]
    fn keywords_identifiers_numbers_strings() {
        use Token::*;
        assert_eq!(
            tokens("space spaces interior_1 _x on weight every"),
            [
                Space,
                Ident("spaces"),
                Ident("interior_1"),
                Ident("_x"),
                On,
                Weight,
                Every,
                Newline
            ]
        );
        assert_eq!(
            tokens("3 0.25 .5 1e-3 2.5E+4 7."),
            [
                Number("3"),
                Number("0.25"),
                Number(".5"),
                Number("1e-3"),
                Number("2.5E+4"),
                Number("7."),
                Newline
            ]
        );
        assert_eq!(
            tokens("obs.u \"a#b.csv\" # comment \"x\""),
            [Ident("obs"), Dot, Ident("u"), Str("\"a#b.csv\""), Newline]
        );
    }

    #[test]
    fn newlines_are_dropped_where_a_statement_continues() {
        use Token::*;
        let source = "\n\na +\n b\n\n\nc(\n1,\n2\n)\n[x]  # trailing\n\n";
        assert_eq!(
            tokens(source),
            [
                Ident("a"),
                Plus,
                Ident("b"),
                Newline,
                Ident("c"),
                LParen,
                Number("1"),
                Comma,
                Number("2"),
                RParen,
                Newline,
                LBracket,
                Ident("x"),
                RBracket,
                Newline
            ]
        );
        // Without a final newline one is added, zero-width at the end.
        let source = "field u";
        let last = Lexer::new(source).last().and_then(Result::ok);
        assert_eq!(last, Some((7, Token::Newline, 7)));
        assert!(tokens("").is_empty());
        assert!(tokens("# only a comment\n\n").is_empty());
    }

    #[test]
    fn operator_before_a_statement_keyword_does_not_swallow_it() {
        use Token::*;
        assert_eq!(
            tokens("a = 1 +\nfield u"),
            [
                Ident("a"),
                Eq,
                Number("1"),
                Plus,
                Newline,
                Field,
                Ident("u"),
                Newline
            ]
        );
    }

    #[test]
    fn stray_closers_do_not_unbalance_later_lines() {
        assert_eq!(codes("u = 1)\nv = (2)\nw = [3]\n"), ["E0005"]);
        assert_eq!(codes("]])\n(x)\n"), ["E0005", "E0005", "E0005"]);
        // A closer that belongs to the enclosing bracket closes both: one report.
        assert_eq!(codes("m = f([1, 2)\nv = (2)\n"), ["E0005"]);
        assert_eq!(codes("m = f(1]\n"), ["E0005"]);
        // The closer is replaced by a poison token, which the parser cannot accept.
        assert_eq!(tokens(")")[0], Token::Poison);
    }

    #[test]
    fn lexical_errors() {
        assert_eq!(codes("u = 1 @@@ 2\n"), ["E0003"]);
        assert_eq!(codes("x = é\n"), ["E0003"]);
        assert_eq!(codes("data d from 'd.csv'\n"), ["E0003"]);
        assert_eq!(codes("data d from \"open\nfield u\n"), ["E0004"]);
        assert_eq!(tokens("\"open")[0], Token::Str("\"open"));
        assert_eq!(codes("c = 1e999 + 1e308\n"), ["E0006"]);
        assert_eq!(codes("c = (1 + \n2\n"), ["E0005"]);
        let deep = format!("c = {}", "(".repeat(MAX_DEPTH + 1));
        assert_eq!(codes(&deep), ["E0007"]);
        let fine = format!("c = {}1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(codes(&fine).is_empty());
    }
}
