//! Tokenizer and recursive-descent parser from expression text to *raw* syntax trees:
//! placeholders unresolved, functions not yet checked. Only syntax errors are raised here; the
//! semantic checks (and their priority order) live with each expression kind.
//!
//! Syntax errors use DynamoDB's shape `Syntax error; token: "<tok>", near: "<near>"`, where
//! `near` runs from the start of the token before the offending one to the end of the token
//! after it, whitespace included (for `<EOF>`: from the previous token to the end of the text).
//! Source: moto's `raise_unexpected_token` (whose tests are recorded against DynamoDB) and
//! captures such as `token: "/", near: "numx / :v"`, `token: "<EOF>", near: "= "`,
//! `token: "_", near: "AND __"`.
//!
//! INVARIANT: nesting deeper than [`MAX_DEPTH`] is refused as a syntax error, and a chain of
//! `AND`s or `OR`s is one node with a list of members (not a left-deep tree), so no input can
//! exhaust the stack of the parser or of anything that walks the tree.
//!
//! A condition with more than [`MAX_OPERATORS`] operators is refused as DynamoDB refuses it:
//! `The expression contains too many operators; operator count: 301` (DynamoDB's text, recorded
//! by ScyllaDB's Alternator tests, which also record what counts: comparators, `BETWEEN`, `IN`,
//! `AND`, `OR` and `NOT`; parentheses and function calls do not).

/// Deepest nesting of parentheses / function calls / NOT accepted. DynamoDB accepts
/// `a<b OR (a<b OR (… 149 levels …))` (299 operators, recorded by ScyllaDB's Alternator tests);
/// deeper nesting needs more than 300 operators or redundant parentheses, which it refuses.
///
/// INVARIANT: parsing, checking, evaluating and dropping a condition nested this deep fits in
/// [`WORKER_STACK`] (measured: 400 levels of parentheses, and 149 of `a<b OR (…)`, in an
/// unoptimized build; 2 MiB held 100 there).
pub(crate) const MAX_DEPTH: usize = 400;

/// The stack the threads that handle requests need (the server's runtime gives its worker and
/// blocking threads this much; see [`MAX_DEPTH`]).
pub const WORKER_STACK: usize = 8 << 20;

/// Most operators one condition may hold (DynamoDB's documented limit).
pub(crate) const MAX_OPERATORS: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// `[A-Za-z][A-Za-z0-9_]*`: attribute names, keywords, function names.
    Ident,
    /// `#` followed by `[A-Za-z0-9_]*`.
    NameRef,
    /// `:` followed by `[A-Za-z0-9_]*`.
    ValueRef,
    /// `[0-9]+` (list indexes).
    Int,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    /// Any other single character.
    Other,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

pub(crate) fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
            continue;
        }
        let start = i;
        let word_end = |mut j: usize| {
            while bytes.get(j).is_some_and(|&b| is_word(b)) {
                j += 1;
            }
            j
        };
        let (kind, end) = match c {
            b'a'..=b'z' | b'A'..=b'Z' => (Tok::Ident, word_end(i + 1)),
            b'#' => (Tok::NameRef, word_end(i + 1)),
            b':' => (Tok::ValueRef, word_end(i + 1)),
            b'0'..=b'9' => {
                let mut j = i + 1;
                while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
                (Tok::Int, j)
            }
            b'(' => (Tok::LParen, i + 1),
            b')' => (Tok::RParen, i + 1),
            b'[' => (Tok::LBracket, i + 1),
            b']' => (Tok::RBracket, i + 1),
            b',' => (Tok::Comma, i + 1),
            b'.' => (Tok::Dot, i + 1),
            b'=' => (Tok::Eq, i + 1),
            b'+' => (Tok::Plus, i + 1),
            b'-' => (Tok::Minus, i + 1),
            b'<' => match bytes.get(i + 1) {
                Some(b'>') => (Tok::Ne, i + 2),
                Some(b'=') => (Tok::Le, i + 2),
                _ => (Tok::Lt, i + 1),
            },
            b'>' => match bytes.get(i + 1) {
                Some(b'=') => (Tok::Ge, i + 2),
                _ => (Tok::Gt, i + 1),
            },
            _ => {
                // One whole character, even if multi-byte.
                let len = src
                    .get(i..)
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                (Tok::Other, i + len)
            }
        };
        out.push(Token { kind, start, end });
        i = end;
    }
    out
}

/// A path as written: names, `#placeholders` and indexes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawElem {
    Ident(String),
    NameRef(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawOperand {
    Path(Vec<RawElem>),
    ValueRef(String),
    Call(String, Vec<RawOperand>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawCmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl RawCmp {
    pub fn text(self) -> &'static str {
        match self {
            RawCmp::Eq => "=",
            RawCmp::Ne => "<>",
            RawCmp::Lt => "<",
            RawCmp::Le => "<=",
            RawCmp::Gt => ">",
            RawCmp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawCond {
    Cmp(RawOperand, RawCmp, RawOperand),
    Between(RawOperand, RawOperand, RawOperand),
    In(RawOperand, Vec<RawOperand>),
    /// Two or more members.
    And(Vec<RawCond>),
    /// Two or more members.
    Or(Vec<RawCond>),
    Not(Box<RawCond>),
    /// A function call used as a condition (`attribute_exists(a)`, or a misused `size(a)`).
    Call(String, Vec<RawOperand>),
}

/// The right-hand side of a SET action.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawSetValue {
    Operand(RawOperand),
    Plus(RawOperand, RawOperand),
    Minus(RawOperand, RawOperand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Set,
    Remove,
    Add,
    Delete,
}

impl Section {
    pub fn keyword(self) -> &'static str {
        match self {
            Section::Set => "SET",
            Section::Remove => "REMOVE",
            Section::Add => "ADD",
            Section::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawAction {
    Set(Vec<RawElem>, RawSetValue),
    Remove(Vec<RawElem>),
    Add(Vec<RawElem>, String),
    Delete(Vec<RawElem>, String),
}

/// What the raw parse of a condition found besides the tree: facts the semantic pass reports
/// in DynamoDB's priority order.
#[derive(Debug, Default)]
pub(crate) struct ParseNotes {
    /// `((x))` was written somewhere.
    pub redundant_parens: bool,
    /// A section keyword (`SET`, …) appeared twice: the first repeated one.
    pub repeated_section: Option<Section>,
}

/// A syntax error's message body (`Syntax error; token: …, near: …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError(pub String);

/// Which keywords cannot be path names in this kind of expression.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grammar {
    Condition,
    Update,
    Projection,
}

const CONDITION_KEYWORDS: [&str; 5] = ["AND", "OR", "NOT", "BETWEEN", "IN"];
const UPDATE_KEYWORDS: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];

pub(crate) struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Operators seen so far (see [`MAX_OPERATORS`]).
    operators: usize,
    grammar: Grammar,
    pub notes: ParseNotes,
}

/// Either a condition or an operand: what a parenthesised group turned out to be.
enum Node {
    Cond(RawCond),
    Operand(RawOperand),
}

impl<'s> Parser<'s> {
    fn new(src: &'s str, grammar: Grammar) -> Self {
        Parser {
            src,
            tokens: tokenize(src),
            pos: 0,
            depth: 0,
            operators: 0,
            grammar,
            notes: ParseNotes::default(),
        }
    }

    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.pos).copied()
    }

    fn peek_kind(&self) -> Option<Tok> {
        self.peek().map(|t| t.kind)
    }

    fn text(&self, t: Token) -> &'s str {
        self.src.get(t.start..t.end).unwrap_or("")
    }

    fn is_keyword(&self, t: Token, kw: &str) -> bool {
        t.kind == Tok::Ident && self.text(t).eq_ignore_ascii_case(kw)
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| self.is_keyword(t, kw))
    }

    fn advance(&mut self) -> Option<Token> {
        let t = self.peek();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// The syntax error at the current position.
    fn error(&self) -> SyntaxError {
        let problem = self.peek();
        let prev = self.pos.checked_sub(1).and_then(|i| self.tokens.get(i));
        let (token, near) = match problem {
            None => {
                let start = prev.map_or(self.src.len(), |p| p.start);
                ("<EOF>", self.src.get(start..).unwrap_or(""))
            }
            Some(t) => {
                let start = prev.map_or(t.start, |p| p.start);
                let end = self.tokens.get(self.pos + 1).map_or(t.end, |n| n.end);
                (self.text(t), self.src.get(start..end).unwrap_or(""))
            }
        };
        SyntaxError(format!(
            "Syntax error; token: \"{token}\", near: \"{near}\""
        ))
    }

    fn expect(&mut self, kind: Tok) -> Result<Token, SyntaxError> {
        match self.peek() {
            Some(t) if t.kind == kind => {
                self.pos += 1;
                Ok(t)
            }
            _ => Err(self.error()),
        }
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(self.error())
        } else {
            Ok(())
        }
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Counts one operator of a condition; past [`MAX_OPERATORS`], DynamoDB's refusal.
    fn operator(&mut self) -> Result<(), SyntaxError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            Err(SyntaxError(format!(
                "The expression contains too many operators; operator count: {}",
                self.operators
            )))
        } else {
            Ok(())
        }
    }

    fn finish(&self) -> Result<(), SyntaxError> {
        if self.pos < self.tokens.len() {
            Err(self.error())
        } else {
            Ok(())
        }
    }

    // ---- operands ------------------------------------------------------------------------

    fn is_reserved_keyword(&self, t: Token) -> bool {
        let words: &[&str] = match self.grammar {
            Grammar::Condition => &CONDITION_KEYWORDS,
            Grammar::Update => &UPDATE_KEYWORDS,
            Grammar::Projection => &[],
        };
        words.iter().any(|w| self.is_keyword(t, w))
    }

    /// A document path starting at the current token.
    fn path(&mut self) -> Result<Vec<RawElem>, SyntaxError> {
        let mut elems = vec![self.path_name()?];
        loop {
            match self.peek_kind() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    elems.push(self.path_name()?);
                }
                Some(Tok::LBracket) => {
                    self.pos += 1;
                    let t = self
                        .peek()
                        .filter(|t| t.kind == Tok::Int)
                        .ok_or_else(|| self.error())?;
                    let index = self.text(t).parse::<usize>().map_err(|_| self.error())?;
                    self.pos += 1;
                    self.expect(Tok::RBracket)?;
                    elems.push(RawElem::Index(index));
                }
                _ => return Ok(elems),
            }
        }
    }

    fn path_name(&mut self) -> Result<RawElem, SyntaxError> {
        match self.peek() {
            Some(t) if t.kind == Tok::Ident && !self.is_reserved_keyword(t) => {
                self.pos += 1;
                Ok(RawElem::Ident(self.text(t).to_owned()))
            }
            Some(t) if t.kind == Tok::NameRef => {
                self.pos += 1;
                Ok(RawElem::NameRef(self.text(t).to_owned()))
            }
            _ => Err(self.error()),
        }
    }

    /// A path, a `:value`, or a function call.
    fn operand(&mut self) -> Result<RawOperand, SyntaxError> {
        let t = self.peek().ok_or_else(|| self.error())?;
        match t.kind {
            Tok::ValueRef => {
                self.pos += 1;
                Ok(RawOperand::ValueRef(self.text(t).to_owned()))
            }
            Tok::Ident
                if self
                    .tokens
                    .get(self.pos + 1)
                    .is_some_and(|n| n.kind == Tok::LParen)
                    && !self.is_reserved_keyword(t) =>
            {
                self.pos += 2;
                self.enter()?;
                let args = self.operand_list()?;
                self.expect(Tok::RParen)?;
                self.leave();
                Ok(RawOperand::Call(self.text(t).to_owned(), args))
            }
            Tok::Ident | Tok::NameRef => Ok(RawOperand::Path(self.path()?)),
            _ => Err(self.error()),
        }
    }

    /// An operand, possibly in (non-redundant) parentheses.
    fn operand_parens(&mut self) -> Result<RawOperand, SyntaxError> {
        if self.peek_kind() == Some(Tok::LParen) {
            self.pos += 1;
            self.enter()?;
            if self.peek_kind() == Some(Tok::LParen) {
                let inner_start = self.pos;
                let op = self.operand_parens()?;
                // `((x))`: the inner group closed right before our `)`.
                if self.tokens.get(inner_start).is_some() && self.peek_kind() == Some(Tok::RParen) {
                    self.notes.redundant_parens = true;
                }
                self.expect(Tok::RParen)?;
                self.leave();
                return Ok(op);
            }
            let op = self.operand()?;
            self.expect(Tok::RParen)?;
            self.leave();
            Ok(op)
        } else {
            self.operand()
        }
    }

    fn operand_list(&mut self) -> Result<Vec<RawOperand>, SyntaxError> {
        let mut out = vec![self.operand_parens()?];
        while self.peek_kind() == Some(Tok::Comma) {
            self.pos += 1;
            out.push(self.operand_parens()?);
        }
        Ok(out)
    }

    // ---- conditions ----------------------------------------------------------------------

    fn or(&mut self) -> Result<(Node, bool), SyntaxError> {
        let (first, wrapped) = self.and()?;
        if !self.peek_keyword("OR") {
            return Ok((first, wrapped));
        }
        let mut members = vec![self.as_cond(first)?];
        while self.peek_keyword("OR") {
            self.operator()?;
            self.pos += 1;
            let (next, _) = self.and()?;
            members.push(self.as_cond(next)?);
        }
        Ok((Node::Cond(RawCond::Or(members)), false))
    }

    fn and(&mut self) -> Result<(Node, bool), SyntaxError> {
        let (first, wrapped) = self.not()?;
        if !self.peek_keyword("AND") {
            return Ok((first, wrapped));
        }
        let mut members = vec![self.as_cond(first)?];
        while self.peek_keyword("AND") {
            self.operator()?;
            self.pos += 1;
            let (next, _) = self.not()?;
            members.push(self.as_cond(next)?);
        }
        Ok((Node::Cond(RawCond::And(members)), false))
    }

    fn not(&mut self) -> Result<(Node, bool), SyntaxError> {
        if self.peek_keyword("NOT") {
            self.operator()?;
            self.pos += 1;
            self.enter()?;
            let (inner, _) = self.not()?;
            let cond = self.as_cond(inner)?;
            self.leave();
            return Ok((Node::Cond(RawCond::Not(Box::new(cond))), false));
        }
        self.primary()
    }

    /// An operand can only stand where a condition is expected if it is a function call.
    fn as_cond(&self, node: Node) -> Result<RawCond, SyntaxError> {
        match node {
            Node::Cond(c) => Ok(c),
            Node::Operand(RawOperand::Call(name, args)) => Ok(RawCond::Call(name, args)),
            Node::Operand(_) => Err(self.error()),
        }
    }

    /// A comparison, BETWEEN, IN, function condition, or parenthesised group. Returns whether
    /// the result is exactly one parenthesised group (for the redundant-parentheses check).
    fn primary(&mut self) -> Result<(Node, bool), SyntaxError> {
        let (node, wrapped) = if self.peek_kind() == Some(Tok::LParen) {
            self.pos += 1;
            self.enter()?;
            let (inner, inner_wrapped) = self.or()?;
            self.expect(Tok::RParen)?;
            self.leave();
            if inner_wrapped {
                self.notes.redundant_parens = true;
            }
            (inner, true)
        } else {
            (Node::Operand(self.operand()?), false)
        };
        let op = match node {
            Node::Cond(c) => return Ok((Node::Cond(c), wrapped)),
            Node::Operand(op) => op,
        };
        let cmp = match self.peek_kind() {
            Some(Tok::Eq) => Some(RawCmp::Eq),
            Some(Tok::Ne) => Some(RawCmp::Ne),
            Some(Tok::Lt) => Some(RawCmp::Lt),
            Some(Tok::Le) => Some(RawCmp::Le),
            Some(Tok::Gt) => Some(RawCmp::Gt),
            Some(Tok::Ge) => Some(RawCmp::Ge),
            _ => None,
        };
        if let Some(cmp) = cmp {
            self.operator()?;
            self.pos += 1;
            let right = self.operand_parens()?;
            return Ok((Node::Cond(RawCond::Cmp(op, cmp, right)), false));
        }
        if self.peek_keyword("BETWEEN") {
            self.operator()?;
            self.pos += 1;
            let low = self.operand_parens()?;
            if !self.peek_keyword("AND") {
                return Err(self.error());
            }
            self.pos += 1;
            let high = self.operand_parens()?;
            return Ok((Node::Cond(RawCond::Between(op, low, high)), false));
        }
        if self.peek_keyword("IN") {
            self.operator()?;
            self.pos += 1;
            self.expect(Tok::LParen)?;
            let list = self.operand_list()?;
            self.expect(Tok::RParen)?;
            return Ok((Node::Cond(RawCond::In(op, list)), false));
        }
        if let RawOperand::Call(..) = op {
            return Ok((Node::Operand(op), wrapped));
        }
        // A bare path or value: only valid as `(operand)` followed by a comparator, which the
        // enclosing group handles; anything else is a syntax error here.
        if wrapped || self.peek_kind() == Some(Tok::RParen) {
            Ok((Node::Operand(op), wrapped))
        } else {
            Err(self.error())
        }
    }

    // ---- update --------------------------------------------------------------------------

    fn section(&self) -> Option<Section> {
        let t = self.peek()?;
        [Section::Set, Section::Remove, Section::Add, Section::Delete]
            .into_iter()
            .find(|s| self.is_keyword(t, s.keyword()))
    }

    fn set_value(&mut self) -> Result<RawSetValue, SyntaxError> {
        if self.peek_kind() == Some(Tok::LParen) {
            // `(a + b)` or `(a)`: a group around the whole value.
            let save = self.pos;
            self.pos += 1;
            self.enter()?;
            let inner = self.set_value_inner();
            if let Ok(v) = inner
                && self.peek_kind() == Some(Tok::RParen)
            {
                self.pos += 1;
                self.leave();
                return Ok(v);
            }
            self.leave();
            self.pos = save;
        }
        self.set_value_inner()
    }

    fn set_value_inner(&mut self) -> Result<RawSetValue, SyntaxError> {
        let left = self.operand_parens()?;
        match self.peek_kind() {
            Some(Tok::Plus) => {
                self.pos += 1;
                Ok(RawSetValue::Plus(left, self.operand_parens()?))
            }
            Some(Tok::Minus) => {
                self.pos += 1;
                Ok(RawSetValue::Minus(left, self.operand_parens()?))
            }
            _ => Ok(RawSetValue::Operand(left)),
        }
    }

    fn value_ref(&mut self) -> Result<String, SyntaxError> {
        let t = self.expect(Tok::ValueRef)?;
        Ok(self.text(t).to_owned())
    }
}

/// Parses a condition (ConditionExpression, FilterExpression, KeyConditionExpression).
pub(crate) fn parse_condition(src: &str) -> Result<(RawCond, ParseNotes), SyntaxError> {
    let mut p = Parser::new(src, Grammar::Condition);
    let (node, _) = p.or()?;
    let cond = p.as_cond(node)?;
    p.finish()?;
    Ok((cond, p.notes))
}

/// Parses an UpdateExpression into its actions, in source order.
pub(crate) fn parse_update(src: &str) -> Result<(Vec<RawAction>, ParseNotes), SyntaxError> {
    let mut p = Parser::new(src, Grammar::Update);
    let mut actions = Vec::new();
    let mut seen: Vec<Section> = Vec::new();
    loop {
        let section = p.section().ok_or_else(|| p.error())?;
        p.pos += 1;
        if seen.contains(&section) {
            if p.notes.repeated_section.is_none() {
                p.notes.repeated_section = Some(section);
            }
        } else {
            seen.push(section);
        }
        loop {
            let path = p.path()?;
            let action = match section {
                Section::Set => {
                    p.expect(Tok::Eq)?;
                    RawAction::Set(path, p.set_value()?)
                }
                Section::Remove => RawAction::Remove(path),
                Section::Add => RawAction::Add(path, p.value_ref()?),
                Section::Delete => RawAction::Delete(path, p.value_ref()?),
            };
            actions.push(action);
            if p.peek_kind() == Some(Tok::Comma) {
                p.pos += 1;
            } else {
                break;
            }
        }
        if p.peek().is_none() {
            break;
        }
    }
    Ok((actions, p.notes))
}

/// Parses a ProjectionExpression into its paths.
pub(crate) fn parse_projection(src: &str) -> Result<Vec<Vec<RawElem>>, SyntaxError> {
    let mut p = Parser::new(src, Grammar::Projection);
    let mut out = vec![p.path()?];
    while p.peek_kind() == Some(Tok::Comma) {
        p.advance();
        out.push(p.path()?);
    }
    p.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        parse_condition(src).unwrap_err().0
    }

    #[test]
    fn syntax_errors_name_the_token_and_its_neighbours() {
        assert_eq!(err("foo"), r#"Syntax error; token: "<EOF>", near: "foo""#);
        assert_eq!(err("a = "), r#"Syntax error; token: "<EOF>", near: "= ""#);
        assert_eq!(
            err("a = :v AND __x = :w"),
            r#"Syntax error; token: "_", near: "AND __""#
        );
        assert_eq!(err("a == :v"), r#"Syntax error; token: "=", near: "== :v""#);
        assert_eq!(
            err("a AND b"),
            r#"Syntax error; token: "AND", near: "a AND b""#
        );
    }

    #[test]
    fn update_syntax_errors_match_recorded_ones() {
        let e = |s: &str| parse_update(s).unwrap_err().0;
        assert_eq!(
            e("SET MyStr = my Num"),
            r#"Syntax error; token: "Num", near: "my Num""#
        );
        assert_eq!(
            e("SET a = numx / :v"),
            r#"Syntax error; token: "/", near: "numx / :v""#
        );
        assert_eq!(
            e("SET a = b +"),
            r#"Syntax error; token: "<EOF>", near: "+""#
        );
        assert_eq!(e("SET"), r#"Syntax error; token: "<EOF>", near: "SET""#);
    }

    #[test]
    fn deep_nesting_is_a_syntax_error_not_a_crash() {
        // On a thread with the stack a request handler has.
        std::thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn(|| {
                let deep = format!("{}a = :v{}", "(".repeat(5000), ")".repeat(5000));
                assert!(err(&deep).starts_with("Syntax error"));
                let not = format!("{}a = :v", "NOT ".repeat(250));
                assert!(parse_condition(&not).is_ok());
                let calls = format!("{}a{}", "size(".repeat(5000), ")".repeat(5000));
                assert!(err(&calls).starts_with("Syntax error"));
                let ok = format!("a < b{}{}", " OR (a < b".repeat(149), ")".repeat(149));
                assert!(parse_condition(&ok).is_ok());
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn a_chain_is_one_node_and_more_than_300_operators_are_refused() {
        // 149 ORs and 150 comparisons: 299 operators, accepted, one node of 150 members.
        let ok = format!("a < b{}", " OR a < b".repeat(149));
        match parse_condition(&ok) {
            Ok((RawCond::Or(members), _)) => assert_eq!(members.len(), 150),
            other => panic!("unexpected {other:?}"),
        }
        // Parentheses are not operators: 40 levels of `OR (a < b`, 81 operators, accepted.
        let nested = format!("a < b{}{}", " OR (a < b".repeat(40), ")".repeat(40));
        assert!(parse_condition(&nested).is_ok());
        let over = format!("a < b{}", " AND a < b".repeat(150));
        assert_eq!(
            err(&over),
            "The expression contains too many operators; operator count: 301"
        );
        let nots = format!("{}a < b", "NOT ".repeat(40));
        assert!(parse_condition(&nots).is_ok());
        let between = format!("a BETWEEN b AND c{}", " AND a IN (b, c)".repeat(150));
        assert!(err(&between).ends_with("operator count: 301"));
    }
}
