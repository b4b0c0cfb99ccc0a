//! Syntax: source text → tokens (logos) → AST (LALRPOP, `grammar/pde.lalrpop`).
//!
//! Syntax knows nothing of coordinates, fields or tensors; it only builds a
//! spanned [`ast::File`] and reports what it could not parse. It recovers at
//! statement level: a statement that fails becomes [`ast::ItemKind::Error`]
//! and parsing goes on at the next line, so every independent syntax error of
//! a file is reported in one run.
//!
//! Codes: `E0001` unexpected token, `E0002` unexpected end of file, `E0003`
//! invalid character, `E0004` unterminated string, `E0005` unbalanced bracket,
//! `E0006` number out of range, `E0007` nesting too deep.

pub mod ast;
pub mod lexer;

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use lexer::{LexError, Lexer, Token};

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        unused_qualifications,
        unused_parens,
        unused_imports
    )]
    grammar,
    "/pde.rs"
);

/// Parses a whole `.pde` source. Always returns a File (statements that failed are ItemKind::Error)
/// and every syntax diagnostic found (recovery: independent errors are all reported).
pub fn parse(source: &str) -> (ast::File, Vec<Diagnostic>) {
    let mut lexer = Lexer::new(source);
    let mut ctx = build::Ctx::default();
    let result = grammar::FileParser::new().parse(&mut ctx, &mut lexer);
    let mut diagnostics = lexer.take_diagnostics();
    let starts = lexer.statement_starts().to_vec();
    diagnostics.append(&mut ctx.diagnostics);
    let unclosed = lexer.unclosed_ranges().to_vec();
    let after_unclosed_bracket = |diagnostic: &Diagnostic| {
        let at = diagnostic.span().map_or(0, |s| s.start as usize);
        unclosed.iter().any(|&(open, end)| open < at && at <= end)
    };
    for recovery in ctx.recoveries {
        diagnostics.extend(
            parse_error(source, &starts, recovery.error).filter(|d| !after_unclosed_bracket(d)),
        );
    }
    let file = match result {
        Ok(file) => file,
        Err(error) => {
            diagnostics.extend(parse_error(source, &starts, error));
            ast::File::default()
        }
    };
    let has_error_item = file
        .items
        .iter()
        .any(|item| item.kind == ast::ItemKind::Error);
    if has_error_item && diagnostics.is_empty() {
        // Every error path reports; this keeps the contract even if one did not.
        diagnostics.push(
            Diagnostic::error("E0001", "invalid statement")
                .with_label(Span::new(0, 0), "could not parse this file"),
        );
    }
    diagnostics.sort_by_key(|d| d.span().map(|s| s.start));
    (file, diagnostics)
}

type ParseError<'s> = lalrpop_util::ParseError<usize, Token<'s>, LexError>;

/// Turns a parser error into a diagnostic; `None` when the lexer already
/// reported the offending [`Token::Poison`].
fn parse_error(
    source: &str,
    starts: &[(usize, Token<'_>)],
    error: ParseError<'_>,
) -> Option<Diagnostic> {
    use lalrpop_util::ParseError as E;
    let (start, token, end, expected) = match error {
        E::UnrecognizedToken {
            token: (start, token, end),
            expected,
        } => (start, Some(token), end, expected),
        E::UnrecognizedEof { location, expected } => (location, None, location, expected),
        E::ExtraToken {
            token: (start, token, end),
        } => (start, Some(token), end, Vec::new()),
        E::InvalidToken { location } => {
            return Some(
                Diagnostic::error("E0003", "invalid token")
                    .with_label(Span::new(location, location), "not a valid token"),
            )
        }
        E::User { error } => match error {},
    };
    if token == Some(Token::Poison) {
        return None;
    }
    let expected = describe_expected(&expected);
    let statement = starts
        .iter()
        .rev()
        .find(|(offset, _)| *offset <= start)
        .map(|(_, token)| *token);
    let at_eof = token.is_none() || (token == Some(Token::Newline) && start == source.len());
    let mut diagnostic = if at_eof {
        let trimmed = source.trim_end().len();
        let last_char = source[..trimmed]
            .chars()
            .next_back()
            .map_or(0, char::len_utf8);
        Diagnostic::error("E0002", "unexpected end of file").with_label(
            Span::new(trimmed - last_char, trimmed),
            expected_label(&expected, "after this"),
        )
    } else if token == Some(Token::Newline) {
        Diagnostic::error("E0001", "unexpected end of line")
            .with_label(Span::new(start, end), expected_label(&expected, "here"))
    } else {
        let text = source.get(start..end).unwrap_or("");
        let mut shown: String = text.chars().take(40).collect();
        if shown.len() < text.len() {
            shown.push('…');
        }
        Diagnostic::error("E0001", format!("unexpected `{shown}`"))
            .with_label(Span::new(start, end), expected_label(&expected, "here"))
    };
    let power = token == Some(Token::Star) && source[..start].trim_end().ends_with('*');
    let keyword = token.is_some_and(Token::is_keyword);
    let help = if power {
        Some("powers are written with `^`: `x^2`".to_string())
    } else if keyword && expected.iter().any(|e| e == "number") {
        let word = source.get(start..end).unwrap_or("");
        Some(format!("an expression is missing before `{word}`"))
    } else if keyword && expected.iter().any(|e| e == "identifier") {
        let word = source.get(start..end).unwrap_or("");
        Some(format!(
            "`{word}` is a reserved word and cannot be used as a name"
        ))
    } else {
        help_for(statement, &expected).map(str::to_string)
    };
    if let Some(help) = help {
        diagnostic = diagnostic.with_help(help);
    }
    Some(diagnostic)
}

/// Readable, sorted, deduplicated names of the expected terminals.
fn describe_expected(expected: &[String]) -> Vec<String> {
    let mut names: Vec<String> = expected
        .iter()
        .map(|raw| raw.trim_matches('"'))
        .filter(|name| *name != "poison")
        .map(|name| match name {
            "identifier" | "number" | "string" => name.to_string(),
            "newline" => "end of line".to_string(),
            _ => format!("`{name}`"),
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn expected_label(expected: &[String], fallback: &str) -> String {
    match expected {
        [] => format!("unexpected {fallback}"),
        [one] => format!("expected {one}"),
        many => format!("expected one of {}", many.join(", ")),
    }
}

/// A one-line reminder of the form of the statement being parsed.
fn help_for(statement: Option<Token<'_>>, expected: &[String]) -> Option<&'static str> {
    let expects = |name: &str| expected.iter().any(|e| e == name);
    Some(match statement? {
        Token::Space => "write `space x in [a, b]` or `space (x, y) in disk((0, 0), 1)`",
        Token::Time => "write `time t in [t0, t1]`",
        Token::Field => "write `field u` or `field u, v, p`",
        Token::Const => "write `const name = value`",
        Token::Param => "write `param name = initial value`",
        Token::Let => "write `let name = expression`",
        Token::Data => "write `data name from \"file.csv\"`",
        Token::Periodic => "write `periodic x` or `periodic x, y`",
        Token::Exact => "write `exact u = expression` or `exact u from \"ref.csv\"`",
        Token::Shape => "write `shape name = disk((0, 0), 1)` (any shape expression)",
        Token::Model => "write `model mlp(layers = [32, 32], activation = tanh)`",
        Token::Sample => "write `key = value` pairs separated by `,`: `sample interior = 1000, boundary = 200`",
        Token::Solve => "write `key = value` pairs separated by `,`: `solve optimizer = engd, iterations = 1000`",
        _ if expects("`on`") => "every equation needs a region: `... on interior`",
        _ if expects("`where`") => {
            "after the region only `where` conditions (on `boundary`) and `weight w` may follow"
        }
        _ if expects("`weight`") => "after the region only `weight w` may follow",
        _ if expects("`=`") => "an equation is written `lhs = rhs on region`",
        _ => return None,
    })
}

/// Helpers called from the grammar's actions.
pub(crate) mod build {
    use super::ast::{Arg, BinOp, Expr, ExprKind, Ident, StrLit};
    use super::lexer::{LexError, Token, MAX_DEPTH};
    use crate::diagnostic::Diagnostic;
    use crate::span::Span;
    use lalrpop_util::ErrorRecovery;

    /// What the actions collect besides the AST.
    #[derive(Default)]
    pub struct Ctx<'s> {
        pub recoveries: Vec<ErrorRecovery<usize, Token<'s>, LexError>>,
        pub diagnostics: Vec<Diagnostic>,
    }

    /// An expression under construction with the depth of its tree. A tree
    /// deeper than [`MAX_DEPTH`] is replaced by one `Error` node (`too_deep`),
    /// so no later recursive pass can overflow the stack.
    pub struct Node {
        pub expr: Expr,
        depth: usize,
        too_deep: bool,
    }

    impl Node {
        pub fn leaf(kind: ExprKind, start: usize, end: usize) -> Node {
            Node {
                expr: Expr::new(kind, Span::new(start, end)),
                depth: 1,
                too_deep: false,
            }
        }
    }

    fn combine<'a>(
        ctx: &mut Ctx<'_>,
        children: impl Iterator<Item = &'a Node>,
        start: usize,
        end: usize,
    ) -> Result<usize, Node> {
        let mut depth = 0;
        for child in children {
            if child.too_deep {
                return Err(too_deep(start, end));
            }
            depth = depth.max(child.depth);
        }
        if depth + 1 > MAX_DEPTH {
            ctx.diagnostics.push(
                Diagnostic::error("E0007", "expression nested too deeply")
                    .with_label(
                        Span::new(start, end),
                        format!("this expression is more than {MAX_DEPTH} levels deep"),
                    )
                    .with_help("split the expression with `let` definitions"),
            );
            return Err(too_deep(start, end));
        }
        Ok(depth + 1)
    }

    fn too_deep(start: usize, end: usize) -> Node {
        Node {
            expr: Expr::new(ExprKind::Error, Span::new(start, end)),
            depth: 1,
            too_deep: true,
        }
    }

    pub fn binary(
        ctx: &mut Ctx<'_>,
        op: BinOp,
        lhs: Node,
        rhs: Node,
        start: usize,
        end: usize,
    ) -> Node {
        match combine(ctx, [&lhs, &rhs].into_iter(), start, end) {
            Ok(depth) => Node {
                expr: Expr::new(
                    ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs.expr),
                        rhs: Box::new(rhs.expr),
                    },
                    Span::new(start, end),
                ),
                depth,
                too_deep: false,
            },
            Err(node) => node,
        }
    }

    pub fn neg(ctx: &mut Ctx<'_>, operand: Node, start: usize, end: usize) -> Node {
        match combine(ctx, std::iter::once(&operand), start, end) {
            Ok(depth) => Node {
                expr: Expr::new(ExprKind::Neg(Box::new(operand.expr)), Span::new(start, end)),
                depth,
                too_deep: false,
            },
            Err(node) => node,
        }
    }

    pub fn call(
        ctx: &mut Ctx<'_>,
        func: Ident,
        args: Vec<(Option<Ident>, Node)>,
        start: usize,
        end: usize,
    ) -> Node {
        match combine(ctx, args.iter().map(|(_, node)| node), start, end) {
            Ok(depth) => {
                let args = args
                    .into_iter()
                    .map(|(name, node)| Arg {
                        name,
                        value: node.expr,
                    })
                    .collect();
                Node {
                    expr: Expr::new(ExprKind::Call { func, args }, Span::new(start, end)),
                    depth,
                    too_deep: false,
                }
            }
            Err(node) => node,
        }
    }

    /// A list `[a, b]` or, with `tuple`, a point `(a, b)`.
    pub fn list(
        ctx: &mut Ctx<'_>,
        items: Vec<Node>,
        tuple: bool,
        start: usize,
        end: usize,
    ) -> Node {
        match combine(ctx, items.iter(), start, end) {
            Ok(depth) => {
                let items: Vec<Expr> = items.into_iter().map(|node| node.expr).collect();
                let kind = if tuple {
                    ExprKind::Tuple(items)
                } else {
                    ExprKind::List(items)
                };
                Node {
                    expr: Expr::new(kind, Span::new(start, end)),
                    depth,
                    too_deep: false,
                }
            }
            Err(node) => node,
        }
    }

    /// A number literal; one that does not fit an f64 (already reported by
    /// the lexer as E0006) becomes an `Error` node rather than infinity.
    pub fn number(text: &str, start: usize, end: usize) -> Node {
        let kind = match text.parse::<f64>() {
            Ok(value) if value.is_finite() => ExprKind::Number {
                value,
                text: text.to_string(),
            },
            _ => ExprKind::Error,
        };
        Node::leaf(kind, start, end)
    }

    /// A string literal without its quotes (an unterminated one has only the opening quote).
    pub fn string(text: &str, start: usize, end: usize) -> StrLit {
        let inner = text.strip_prefix('"').unwrap_or(text);
        let inner = inner.strip_suffix('"').unwrap_or(inner);
        StrLit {
            value: inner.to_string(),
            span: Span::new(start, end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ast::*;
    use super::*;

    const HEAT: &str = "# 1D heat equation
time  t in [0, 1]
space x in [0, 1]
field u
const kappa = 0.25

dt(u) - kappa*dxx(u) = 0      on interior
u = sin(pi*x)                 on initial
u = 0                         on x = 0
u = 0                         on x = 1

exact u = exp(-pi^2*kappa*t)*sin(pi*x)

model  mlp(layers = [64], activation = tanh)
sample interior = 900, boundary = 120, initial = 60
solve  optimizer = engd, iterations = 1000
";

    /// Parses and returns items and (code, line, column) of each diagnostic.
    fn check(source: &str) -> (Vec<Item>, Vec<(&'static str, usize, usize)>) {
        let (file, diagnostics) = parse(source);
        let located = diagnostics
            .iter()
            .map(|d| {
                let (line, col) = d.line_col(source).expect("every diagnostic has a span");
                (d.code, line, col)
            })
            .collect();
        (file.items, located)
    }

    fn expr_of(item: &Item) -> &Expr {
        match &item.kind {
            ItemKind::Const { value, .. } | ItemKind::Let { value, .. } => value,
            ItemKind::Equation { lhs, .. } => lhs,
            other => panic!("not an expression item: {other:?}"),
        }
    }

    /// A compact prefix rendering of an expression, for precedence checks.
    fn show(expr: &Expr) -> String {
        match &expr.kind {
            ExprKind::Number { text, .. } => text.clone(),
            ExprKind::Name(name) => name.clone(),
            ExprKind::Neg(inner) => format!("(neg {})", show(inner)),
            ExprKind::Binary { op, lhs, rhs } => {
                format!("({} {} {})", op.symbol(), show(lhs), show(rhs))
            }
            ExprKind::Call { func, args } => {
                let args: Vec<String> = args
                    .iter()
                    .map(|arg| match &arg.name {
                        Some(name) => format!("{}={}", name.name, show(&arg.value)),
                        None => show(&arg.value),
                    })
                    .collect();
                format!("{}({})", func.name, args.join(" "))
            }
            ExprKind::List(items) => {
                format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(" "))
            }
            ExprKind::Tuple(items) => {
                format!("<{}>", items.iter().map(show).collect::<Vec<_>>().join(" "))
            }
            ExprKind::Member { base, member } => format!("{}.{}", base.name, member.name),
            ExprKind::Error => "ERR".to_string(),
        }
    }

    fn parse_expr(text: &str) -> String {
        let source = format!("let e = {text}\n");
        let (items, diagnostics) = check(&source);
        assert!(diagnostics.is_empty(), "{text}: {diagnostics:?}");
        assert_eq!(items.len(), 1);
        show(expr_of(&items[0]))
    }

    #[test]
    fn complete_example_parses() {
        let (items, diagnostics) = check(HEAT);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(items.len(), 12);
        assert!(matches!(&items[0].kind, ItemKind::Time { coord, .. } if coord.name == "t"));
        match &items[3].kind {
            ItemKind::Const { name, value } => {
                assert_eq!(name.name, "kappa");
                assert_eq!(
                    value.kind,
                    ExprKind::Number {
                        value: 0.25,
                        text: "0.25".into()
                    }
                );
            }
            other => panic!("{other:?}"),
        }
        match &items[4].kind {
            ItemKind::Equation {
                lhs,
                rhs,
                region,
                weight,
            } => {
                assert_eq!(show(lhs), "(- dt(u) (* kappa dxx(u)))");
                assert_eq!(show(rhs), "0");
                assert!(matches!(&region.kind, RegionKind::Named(i) if i.name == "interior"));
                assert!(weight.is_none());
                // Spans are byte offsets of the text they cover.
                assert_eq!(&HEAT[lhs.span.range()], "dt(u) - kappa*dxx(u)");
                assert_eq!(
                    &HEAT[items[4].span.range()],
                    "dt(u) - kappa*dxx(u) = 0      on interior"
                );
            }
            other => panic!("{other:?}"),
        }
        match &items[7].kind {
            ItemKind::Equation { region, .. } => match &region.kind {
                RegionKind::Face { coord, value } => {
                    assert_eq!(coord.name, "x");
                    assert_eq!(show(value), "1");
                    assert_eq!(&HEAT[region.span.range()], "x = 1");
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        match &items[8].kind {
            ItemKind::Exact {
                field,
                source: ExactSource::Expr(value),
            } => {
                assert_eq!(field.name, "u");
                assert_eq!(
                    show(value),
                    "(* exp((* (* (neg (^ pi 2)) kappa) t)) sin((* pi x)))"
                );
            }
            other => panic!("{other:?}"),
        }
        match &items[9].kind {
            ItemKind::Model { value } => {
                assert_eq!(show(value), "mlp(layers=[64] activation=tanh)")
            }
            other => panic!("{other:?}"),
        }
        match &items[10].kind {
            ItemKind::Sample { entries } => {
                let keys: Vec<&str> = entries.iter().map(|e| e.key.name.as_str()).collect();
                assert_eq!(keys, ["interior", "boundary", "initial"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&items[11].kind, ItemKind::Solve { entries } if entries.len() == 2));
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(parse_expr("-x^2"), "(neg (^ x 2))");
        assert_eq!(parse_expr("2*pi*x"), "(* (* 2 pi) x)");
        assert_eq!(parse_expr("a^b^c"), "(^ a (^ b c))");
        assert_eq!(parse_expr("2^-1"), "(^ 2 (neg 1))");
        assert_eq!(parse_expr("a - b - c"), "(- (- a b) c)");
        assert_eq!(parse_expr("a + b * c / d"), "(+ a (/ (* b c) d))");
        assert_eq!(parse_expr("-a * b"), "(* (neg a) b)");
        assert_eq!(parse_expr("(a + b) * c"), "(* (+ a b) c)");
        assert_eq!(parse_expr("a + b & c - d"), "(& (+ a b) (- c d))");
        assert_eq!(parse_expr("obs.u - u"), "(- obs.u u)");
        assert_eq!(parse_expr("d(u, x1, x1)"), "d(u x1 x1)");
        assert_eq!(
            parse_expr("mlp(layers = [20, 20], shared)"),
            "mlp(layers=[20 20] shared)"
        );
        assert_eq!(parse_expr(".5 + 1e-3 + 2.5E+4"), "(+ (+ .5 1e-3) 2.5E+4)");
    }

    #[test]
    fn comparisons_bind_loosest_and_do_not_chain() {
        assert_eq!(
            parse_expr("if(x + 1 <= 2*y, -u, u^2)"),
            "if((<= (+ x 1) (* 2 y)) (neg u) (^ u 2))"
        );
        assert_eq!(parse_expr("a<b"), "(< a b)");
        assert_eq!(parse_expr("a > -b"), "(> a (neg b))");
        assert_eq!(parse_expr("(a >= b)"), "(>= a b)");
        // A comparison may continue on the next line, like any binary operator.
        assert_eq!(parse_expr("if(a <\n b, 1, 2)"), "if((< a b) 1 2)");
        let (_, diagnostics) = check("let e = a < b < c\n");
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(diagnostics[0].0, "E0001");
        let (_, diagnostics) = check("let e = a <= b\nlet f = a >=\n  b\n");
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
    }

    #[test]
    fn shape_algebra() {
        let source = "space (x, y) in disk((0,0),1) - box([0,1],[0,1])\n";
        let (items, diagnostics) = check(source);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        match &items[0].kind {
            ItemKind::Space { coords, domain } => {
                let names: Vec<&str> = coords.iter().map(|c| c.name.as_str()).collect();
                assert_eq!(names, ["x", "y"]);
                assert_eq!(show(domain), "(- disk(<0 0> 1) box([0 1] [0 1]))");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_expr("ball((0, 0, 0), 1) + box([0, 1], [0, 1], [0, 2]) & disk((1, 1), (2))"),
            "(& (+ ball(<0 0 0> 1) box([0 1] [0 1] [0 2])) disk(<1 1> 2))"
        );
    }

    #[test]
    fn named_shapes_and_boundary_pieces_parse() {
        let source = "shape hole = disk((0, 0), 0.3)\nspace (x, y) in box([-1, 1], [-1, 1]) - hole\ndn(u) = 1 on boundary of hole weight 2\n";
        let (items, diagnostics) = check(source);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        match &items[0].kind {
            ItemKind::Shape { name, value } => {
                assert_eq!(name.name, "hole");
                assert_eq!(show(value), "disk(<0 0> 0.3)");
            }
            other => panic!("{other:?}"),
        }
        match &items[1].kind {
            ItemKind::Space { domain, .. } => {
                assert_eq!(show(domain), "(- box([(neg 1) 1] [(neg 1) 1]) hole)")
            }
            other => panic!("{other:?}"),
        }
        match &items[2].kind {
            ItemKind::Equation {
                region,
                weight: Some(weight),
                ..
            } => {
                match &region.kind {
                    RegionKind::BoundaryOf { word, shape } => {
                        assert_eq!(
                            (word.name.as_str(), shape.name.as_str()),
                            ("boundary", "hole")
                        );
                        assert_eq!(&source[shape.span.range()], "hole");
                    }
                    other => panic!("{other:?}"),
                }
                assert_eq!(&source[region.span.range()], "boundary of hole");
                assert_eq!(show(weight), "2");
            }
            other => panic!("{other:?}"),
        }
        // `shape` and `of` are reserved words.
        let (_, diagnostics) = check("field shape\n");
        assert_eq!(diagnostics.len(), 1);
        let (_, diagnostics) = check("u = 0 on boundary of\n");
        assert_eq!(diagnostics.len(), 1);
    }

    #[test]
    fn where_conditions_parse() {
        let source = "u = 0 on boundary of hole where x = 1 and 2*y < -0.5 weight 2\nv = 1 on boundary where\n    y >= 1.5\n";
        let (items, diagnostics) = check(source);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let ItemKind::Equation {
            region,
            weight: Some(weight),
            ..
        } = &items[0].kind
        else {
            panic!("{:?}", items[0].kind)
        };
        assert_eq!(
            &source[region.span.range()],
            "boundary of hole where x = 1 and 2*y < -0.5"
        );
        assert_eq!(show(weight), "2");
        let RegionKind::Where { base, conditions } = &region.kind else {
            panic!("{region:?}")
        };
        assert!(matches!(base.kind, RegionKind::BoundaryOf { .. }));
        let shown: Vec<String> = conditions
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} @{}",
                    show(&c.lhs),
                    c.relation.symbol(),
                    show(&c.rhs),
                    &source[c.span.range()]
                )
            })
            .collect();
        assert_eq!(shown, ["x = 1 @x = 1", "(* 2 y) < (neg 0.5) @2*y < -0.5"]);
        // The line goes on after `where` (and after `and`).
        let ItemKind::Equation { region, .. } = &items[1].kind else {
            panic!()
        };
        assert!(
            matches!(&region.kind, RegionKind::Where { conditions, .. } if conditions.len() == 1)
        );
        // `where` and `and` are reserved words; a condition needs a comparison.
        for bad in [
            "field where\n",
            "const and = 1\n",
            "u = 0 on boundary where x\n",
        ] {
            let (_, diagnostics) = check(bad);
            assert_eq!(diagnostics.len(), 1, "{bad}: {diagnostics:?}");
        }
    }

    #[test]
    fn every_statement_form() {
        let source = r#"space x in [0, 1]
param c = 1.5
data obs from "obs.csv"
periodic x, y
exact u from "ref.csv"
field u, v, p
u = 0 on boundary weight 10
u - obs.u = 0 on obs weight = 2
sample interior = 100, x = 0 : 50, resample = every 10, sampler = halton
"#;
        let (items, diagnostics) = check(source);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(items.len(), 9);
        assert!(matches!(&items[1].kind, ItemKind::Param { name, .. } if name.name == "c"));
        match &items[2].kind {
            ItemKind::Data { name, path, kind } => {
                assert!(kind.is_none());
                assert_eq!(name.name, "obs");
                assert_eq!(path.value, "obs.csv");
                assert_eq!(&source[path.span.range()], "\"obs.csv\"");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&items[3].kind, ItemKind::Periodic { coords } if coords.len() == 2));
        assert!(
            matches!(&items[4].kind, ItemKind::Exact { source: ExactSource::File(f), .. } if f.value == "ref.csv")
        );
        assert!(matches!(&items[5].kind, ItemKind::Field { names, .. } if names.len() == 3));
        match &items[6].kind {
            ItemKind::Equation {
                region,
                weight: Some(weight),
                ..
            } => {
                assert!(matches!(&region.kind, RegionKind::Named(i) if i.name == "boundary"));
                assert_eq!(show(weight), "10");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            &items[7].kind,
            ItemKind::Equation {
                weight: Some(_),
                ..
            }
        ));
        match &items[8].kind {
            ItemKind::Sample { entries } => {
                assert_eq!(entries.len(), 4);
                assert_eq!(entries[1].key.name, "x");
                assert_eq!(entries[1].count.as_ref().map(show).as_deref(), Some("50"));
                assert!(matches!(&entries[2].value, ConfigValue::Every(e) if show(e) == "10"));
                assert!(matches!(&entries[3].value, ConfigValue::Expr(e) if show(e) == "halton"));
                assert_eq!(&source[entries[1].span.range()], "x = 0 : 50");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn newlines_continue_statements() {
        let source = "\n\n# comment only\nconst a = 1 +\n  2\nlet b = f(a,\n  a)\nmodel mlp(\n  layers = [20,\n    20,\n  ],\n  activation = tanh\n)\n\n\nfield u";
        let (items, diagnostics) = check(source);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(items.len(), 4);
        assert_eq!(show(expr_of(&items[0])), "(+ 1 2)");
        assert_eq!(show(expr_of(&items[1])), "f(a a)");
        assert!(
            matches!(&items[2].kind, ItemKind::Model { value } if show(value) == "mlp(layers=[20 20] activation=tanh)")
        );
        assert!(matches!(&items[3].kind, ItemKind::Field { .. }));
        assert!(check("").0.is_empty() && check("").1.is_empty());
        assert!(check("# nothing\n\n   # here").1.is_empty());
        assert!(check("field u\r\nfield v\r\n").1.is_empty());
    }

    #[test]
    fn independent_errors_are_all_reported() {
        let source = "field u\nconst k 0.25\nu = 0\nspace x in [0, 1]\nu = = 1 on interior\nu = 1 on x = 0 weight 10\nsolve optimizer engd\n";
        let (items, diagnostics) = check(source);
        assert_eq!(
            diagnostics,
            [
                ("E0001", 2, 9),
                ("E0001", 3, 6),
                ("E0001", 5, 5),
                ("E0001", 7, 17)
            ]
        );
        let errors = items.iter().filter(|i| i.kind == ItemKind::Error).count();
        assert_eq!(errors, 4);
        assert_eq!(items.len(), 7);
        let (_, full) = parse(source);
        assert_eq!(full[0].help.as_deref(), Some("write `const name = value`"));
        assert_eq!(
            full[1].help.as_deref(),
            Some("every equation needs a region: `... on interior`")
        );
        assert!(
            full[0].labels[0].message.contains("expected `=`"),
            "{:?}",
            full[0]
        );
    }

    #[test]
    fn each_error_code() {
        // E0001 with readable expected tokens.
        let (_, d) = parse("u = (1, ) on interior\n");
        assert_eq!(d[0].code, "E0001");
        assert_eq!(d[0].message, "unexpected `)`");
        let label = &d[0].labels[0].message;
        assert!(
            label.contains("identifier") && label.contains("number"),
            "{label}"
        );
        // E0002 at end of file, labelling the last character.
        let source = "field u\nu = 1 +";
        let (_, d) = parse(source);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "E0002");
        assert_eq!(d[0].span(), Some(Span::new(source.len() - 1, source.len())));
        // E0003, E0004, E0006.
        assert_eq!(check("u = 1 $ 2 on interior\n").1, [("E0003", 1, 7)]);
        assert_eq!(
            check("field u\ndata d from \"x.csv\nfield v").1,
            [("E0004", 2, 13)]
        );
        let (items, d) = check("const big = 1e999\n");
        assert_eq!(d, [("E0006", 1, 13)]);
        assert!(
            matches!(&items[0].kind, ItemKind::Const { value, .. } if value.kind == ExprKind::Error)
        );
        // E0005: unclosed at end of line and of file, unmatched, mismatched.
        let source = "u = sin(x on interior\nfield v\nu = (1 + 2\n";
        let (items, d) = check(source);
        assert_eq!(d, [("E0005", 1, 8), ("E0005", 3, 5)]);
        assert!(matches!(&items[1].kind, ItemKind::Field { .. }));
        assert_eq!(check("u = 1) on interior\n").1, [("E0005", 1, 6)]);
        assert_eq!(check("u = f(1] on interior\n").1, [("E0005", 1, 8)]);
        let source = "model mlp(layers = [64, activation = tanh)\nfield u\n";
        let (items, d) = check(source);
        assert_eq!(d, [("E0005", 1, 20)]);
        assert!(matches!(&items[1].kind, ItemKind::Field { .. }));
        // E0007: brackets and operator chains.
        let deep = format!("u = {}1{} on interior\n", "(".repeat(300), ")".repeat(300));
        assert_eq!(check(&deep).1, [("E0007", 1, 261)]);
        let minus = format!("const a = {}x\nfield u\n", "-".repeat(300));
        let (items, d) = check(&minus);
        assert_eq!(d.iter().map(|d| d.0).collect::<Vec<_>>(), ["E0007"]);
        assert!(matches!(&items[1].kind, ItemKind::Field { .. }));
        let sum = format!("const a = 1{}\n", "+1".repeat(300));
        assert_eq!(
            check(&sum).1.iter().map(|d| d.0).collect::<Vec<_>>(),
            ["E0007"]
        );
    }
}
