//! Wildcard patterns (`*` any run of characters, `?` exactly one character) and policy-variable
//! templates (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, `${*}`).
//!
//! A pattern is compiled once, when the policy is parsed, into a list of [`Tok`]; matching walks
//! the text once with a single backtracking point (the classic greedy-star algorithm), so it is
//! linear in practice and never recursive.
//!
//! INVARIANT: text that reaches a pattern through a policy variable or an escape (`${*}`, `${?}`,
//! `${$}`) is always literal: a `*` in a user name never becomes a wildcard.
//! INVARIANT: `?` consumes one whole character (UTF-8 aware), never half of one.

use std::borrow::Cow;

use super::context::{Context, Key};
use super::slot::Slot;

/// One compiled pattern element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A literal byte of UTF-8 text.
    Byte(u8),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, possibly empty.
    Star,
}

/// Compiles `text` with `*` and `?` as wildcards.
pub(crate) fn compile_glob(text: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(text.len());
    push_glob(&mut out, text);
    out
}

fn push_glob(out: &mut Vec<Tok>, text: &str) {
    for b in text.bytes() {
        out.push(match b {
            b'*' => Tok::Star,
            b'?' => Tok::One,
            other => Tok::Byte(other),
        });
    }
}

fn push_literal(out: &mut Vec<Tok>, text: &str) {
    out.extend(text.bytes().map(Tok::Byte));
}

/// Length of the UTF-8 sequence that starts with `lead` (1 for a stray continuation byte, so
/// that matching always makes progress).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Whether `text` matches the whole of `pat`.
pub(crate) fn glob(pat: &[Tok], text: &str) -> bool {
    let t = text.as_bytes();
    let (mut p, mut i) = (0usize, 0usize);
    // Where to resume after the last `*`: (pattern index after it, text index it was tried at).
    let mut resume: Option<(usize, usize)> = None;
    while let Some(&byte) = t.get(i) {
        match pat.get(p) {
            Some(Tok::Byte(b)) if *b == byte => {
                p += 1;
                i += 1;
                continue;
            }
            Some(Tok::One) => {
                p += 1;
                i += utf8_len(byte);
                continue;
            }
            Some(Tok::Star) => {
                p += 1;
                resume = Some((p, i));
                continue;
            }
            _ => {}
        }
        match resume {
            Some((rp, ri)) => {
                // Let the star swallow one more character and retry.
                let next = ri + t.get(ri).map_or(1, |b| utf8_len(*b));
                resume = Some((rp, next));
                p = rp;
                i = next;
            }
            None => return false,
        }
    }
    // `?` may have stepped past the end on a truncated sequence: that is not a match.
    if i > t.len() {
        return false;
    }
    while let Some(Tok::Star) = pat.get(p) {
        p += 1;
    }
    p == pat.len()
}

/// ARN matching in one pass over tokens, without compiling them (patterns resolved per
/// request); [`ArnMatcher`] must agree with it.
pub(crate) fn arn_glob(pat: &[Tok], text: &str) -> bool {
    let is_colon = |t: &Tok| *t == Tok::Byte(b':');
    let parts = pat.splitn(6, is_colon).count();
    let mut rest = text;
    for (n, seg) in pat.splitn(6, is_colon).enumerate() {
        if n + 1 == parts {
            return glob(seg, rest);
        }
        match rest.split_once(':') {
            Some((head, tail)) => {
                if !glob(seg, head) {
                    return false;
                }
                rest = tail;
            }
            None => return false,
        }
    }
    false
}

/// A compiled pattern, with fast paths for the shapes policies mostly use: `*`, a literal,
/// and a literal followed by one `*` (`dynamodb:Get*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Matcher {
    /// `*`.
    Any,
    /// No wildcard.
    Exact(String),
    /// A literal then a single trailing `*`.
    Prefix(String),
    /// Anything else.
    Glob(Vec<Tok>),
}

impl Matcher {
    pub(crate) fn new(toks: &[Tok]) -> Self {
        let literal = |ts: &[Tok]| -> Option<String> {
            let bytes: Option<Vec<u8>> = ts
                .iter()
                .map(|t| match t {
                    Tok::Byte(b) => Some(*b),
                    _ => None,
                })
                .collect();
            bytes.and_then(|b| String::from_utf8(b).ok())
        };
        match toks {
            [Tok::Star] => Self::Any,
            [head @ .., Tok::Star] => match literal(head) {
                Some(prefix) => Self::Prefix(prefix),
                None => Self::Glob(toks.to_vec()),
            },
            _ => match literal(toks) {
                Some(exact) => Self::Exact(exact),
                None => Self::Glob(toks.to_vec()),
            },
        }
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(e) => e == text,
            Self::Prefix(p) => text.starts_with(p.as_str()),
            Self::Glob(g) => glob(g, text),
        }
    }
}

/// An ARN split once into its (at most six) colon-separated parts; the sixth part keeps any
/// further colons.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SplitArn<'a> {
    text: &'a str,
    /// Byte offset where each part starts.
    starts: [usize; 6],
    /// How many parts (1 to 6).
    parts: usize,
}

impl<'a> SplitArn<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = [0usize; 6];
        let mut parts = 1;
        // A byte loop: ARNs are short, and `match_indices` costs more to set up than this.
        for (i, b) in text.bytes().enumerate() {
            if b != b':' {
                continue;
            }
            match starts.get_mut(parts) {
                Some(slot) => *slot = i + 1,
                None => break,
            }
            parts += 1;
        }
        Self {
            text,
            starts,
            parts,
        }
    }

    /// Part `i` alone (it must not be the last part, which [`Self::rest`] gives).
    fn part(&self, i: usize) -> Option<&'a str> {
        let start = *self.starts.get(i)?;
        let end = *self.starts.get(i + 1)?;
        self.text.get(start..end.checked_sub(1)?)
    }

    /// Part `i` and everything after it.
    fn rest(&self, i: usize) -> Option<&'a str> {
        self.text.get(*self.starts.get(i)?..)
    }
}

/// An ARN pattern compiled part by part, matched as the `Arn*` condition operators and the `Resource` element do it: the six
/// colon-separated parts (`arn:partition:service:region:account:resource`) are matched one by
/// one, so a wildcard never crosses a colon, except in the last part of the pattern, which
/// takes the rest of the ARN (resource ids may contain colons).
///
/// Source: IAM User Guide, "IAM JSON policy elements: Condition operators", ARN condition
/// operators ("Each of the six colon-delimited components of the ARN is checked separately").
/// A pattern with fewer than six parts (`arn:aws:dynamodb:*`) matches its last part against the
/// rest of the ARN: AWS does not document this case; it keeps such patterns meaningful.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArnMatcher {
    /// One to six parts; the last takes the rest of the ARN.
    parts: Vec<Matcher>,
    /// The leading parts that are literal (not the last), joined, each with its colon
    /// (`arn:aws:dynamodb:us-east-1:111122223333:`): an ARN that starts with this text has
    /// exactly these parts, since a literal part holds no colon. Compared in one go.
    head: String,
    /// How many parts `head` covers.
    head_parts: usize,
    /// When `head` covers every part but the last, and the last is `*`, a literal, or a
    /// literal then `*` (`arn:aws:dynamodb:us-east-1:111122223333:table/Books*`): the whole
    /// pattern as one text, and whether it is a prefix. The ARN then matches if it starts with
    /// (or is) that text: the head's colons are the ARN's first ones, so its parts line up.
    whole: Option<(String, bool)>,
}

impl ArnMatcher {
    pub(crate) fn new(toks: &[Tok]) -> Self {
        let parts: Vec<Matcher> = toks
            .splitn(6, |t| *t == Tok::Byte(b':'))
            .map(Matcher::new)
            .collect();
        let mut head = String::new();
        let mut head_parts = 0;
        for m in parts.iter().take(parts.len().saturating_sub(1)) {
            let Matcher::Exact(e) = m else { break };
            head.push_str(e);
            head.push(':');
            head_parts += 1;
        }
        let whole = match parts.last() {
            _ if head_parts + 1 != parts.len() => None,
            Some(Matcher::Any) => Some((head.clone(), true)),
            Some(Matcher::Prefix(p)) => Some((format!("{head}{p}"), true)),
            Some(Matcher::Exact(e)) => Some((format!("{head}{e}"), false)),
            Some(Matcher::Glob(_)) | None => None,
        };
        Self {
            parts,
            head,
            head_parts,
            whole,
        }
    }

    pub(crate) fn matches(&self, arn: &SplitArn<'_>) -> bool {
        match &self.whole {
            Some((text, true)) => return arn.text.starts_with(text.as_str()),
            Some((text, false)) => return arn.text == text,
            None => {}
        }
        let k = self.parts.len();
        if k == 0 || arn.parts < k {
            return false;
        }
        // The resource part first: it is the one that differs most between ARNs.
        let last = k - 1;
        let resource_part = match self.parts.get(last) {
            Some(Matcher::Any) => true,
            Some(m) => arn.rest(last).is_some_and(|t| m.matches(t)),
            None => false,
        };
        resource_part
            && (self.head_parts..last).all(|i| match self.parts.get(i) {
                Some(Matcher::Any) => true,
                Some(m) => arn.part(i).is_some_and(|t| m.matches(t)),
                None => false,
            })
            && arn.text.starts_with(self.head.as_str())
    }
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Policy text: `*` and `?` are wildcards where the template is used as a pattern.
    Text(String),
    /// Text that is always literal: escapes (`${*}`, `${?}`, `${$}`).
    Literal(String),
    /// A policy variable: the request-context key (lowercase) and its default.
    Var {
        /// The context key (key names are case-insensitive).
        key: Key,
        /// The default given as `${key, 'default'}`.
        default: Option<String>,
        /// The key's position in [`Policy::keys`](super::Policy), set when the policy is
        /// compiled: evaluation reads the variable's value there, without a search.
        slot: usize,
    },
}

/// Where policy variables get their values.
pub(crate) trait Vars {
    /// The value of the single-valued key `key`, which is at `slot` in the policy's keys.
    fn var(&self, key: &Key, slot: usize) -> Option<&str>;
}

/// By name: for templates used outside a compiled policy (tests).
impl Vars for Context {
    fn var(&self, key: &Key, _slot: usize) -> Option<&str> {
        self.single_key(key)
    }
}

/// By position: an evaluation's slots, the policy's keys looked up once.
impl Vars for [Slot<'_>] {
    fn var(&self, _key: &Key, slot: usize) -> Option<&str> {
        // INVARIANT: the policy compiler gave every variable the slot of its key.
        self.get(slot).and_then(Slot::single)
    }
}

/// Tokens of a resolved pattern that fit on the stack; longer ones are built in a vector.
const STACK_TOKENS: usize = 160;

/// A string from a policy that may contain policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
}

/// A variable with no value in the request context and no default: its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unresolved<'p>(pub(crate) &'p Key);

impl Template {
    /// Parses `raw`. With `substitute` false (policy language 2008-10-17, or an element where
    /// AWS does not substitute), `${...}` is plain text.
    ///
    /// Source: IAM User Guide, "IAM policy elements: Variables and tags": variables need
    /// `"Version": "2012-10-17"`; without it "variables like `${aws:username}` are treated as
    /// literal strings in the policy".
    pub(crate) fn parse(raw: &str, substitute: bool) -> Self {
        let mut pieces = Vec::new();
        if substitute {
            parse_into(&mut pieces, raw);
        } else if !raw.is_empty() {
            pieces.push(Piece::Text(raw.to_owned()));
        }
        Self { pieces }
    }

    /// Parses a `Resource` ARN: variables are substituted only after the fifth colon.
    ///
    /// Source: IAM User Guide, "Variables and tags", Resource element: "You can use a policy
    /// variable in the Resource element, but only in the resource portion of the ARN. This
    /// portion of the ARN appears after the fifth colon (:)."
    pub(crate) fn parse_resource(raw: &str, substitute: bool) -> Self {
        if !substitute {
            return Self::parse(raw, false);
        }
        let split = raw.match_indices(':').nth(4).map(|(i, _)| i + 1);
        match split.and_then(|at| raw.split_at_checked(at)) {
            Some((head, tail)) => {
                let mut pieces = vec![Piece::Text(head.to_owned())];
                parse_into(&mut pieces, tail);
                Self { pieces }
            }
            None => Self::parse(raw, false),
        }
    }

    /// The variables this template needs, with whether each has a default.
    pub(crate) fn vars(&self) -> impl Iterator<Item = (&Key, bool)> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var { key, default, .. } => Some((key, default.is_some())),
            _ => None,
        })
    }

    /// The variables' slots, for the policy compiler to set.
    pub(crate) fn var_slots_mut(&mut self) -> impl Iterator<Item = (&Key, &mut usize)> {
        self.pieces.iter_mut().filter_map(|p| match p {
            Piece::Var { key, slot, .. } => Some((&*key, slot)),
            _ => None,
        })
    }

    fn has_vars(&self) -> bool {
        self.vars().next().is_some()
    }

    /// Each piece's text, variables replaced from `vars`; an unresolved variable is an error
    /// whatever the other pieces.
    fn texts<'s>(
        &'s self,
        vars: &'s (impl Vars + ?Sized),
    ) -> impl Iterator<Item = Result<(&'s str, bool), Unresolved<'s>>> {
        self.pieces.iter().map(|piece| match piece {
            Piece::Text(s) => Ok((s.as_str(), true)),
            Piece::Literal(s) => Ok((s.as_str(), false)),
            Piece::Var { key, default, slot } => {
                lookup(vars, key, *slot, default.as_deref()).map(|v| (v, false))
            }
        })
    }

    /// The text, with variables replaced from `vars`.
    pub(crate) fn resolve<'s>(
        &'s self,
        vars: &'s (impl Vars + ?Sized),
    ) -> Result<String, Unresolved<'s>> {
        let mut out = String::new();
        for piece in self.texts(vars) {
            out.push_str(piece?.0);
        }
        Ok(out)
    }

    /// Whether the text, with variables replaced from `vars`, is `v`: compared piece by piece,
    /// without building it.
    pub(crate) fn equals<'s>(
        &'s self,
        v: &str,
        vars: &'s (impl Vars + ?Sized),
    ) -> Result<bool, Unresolved<'s>> {
        let mut rest = Some(v);
        for piece in self.texts(vars) {
            // Every variable is resolved even after a mismatch: an unresolved one is an error.
            let (text, _) = piece?;
            rest = rest.and_then(|r| r.strip_prefix(text));
        }
        Ok(rest == Some(""))
    }

    /// Whether `v` starts with the text, with variables replaced from `vars` and the final
    /// `*` of the last piece dropped: matching a [`Shape::Prefix`] pattern.
    fn starts<'s>(
        &'s self,
        v: &str,
        vars: &'s (impl Vars + ?Sized),
    ) -> Result<bool, Unresolved<'s>> {
        let mut rest = Some(v);
        let last = self.pieces.len().saturating_sub(1);
        for (i, piece) in self.texts(vars).enumerate() {
            let (text, wild) = piece?;
            let text = match text.strip_suffix('*') {
                Some(head) if wild && i == last => head,
                _ => text,
            };
            rest = rest.and_then(|r| r.strip_prefix(text));
        }
        Ok(rest.is_some())
    }

    /// The pattern, with variables replaced (as literal text) from `vars`.
    pub(crate) fn resolve_glob<'s>(
        &'s self,
        vars: &'s (impl Vars + ?Sized),
    ) -> Result<Vec<Tok>, Unresolved<'s>> {
        let mut out = Vec::new();
        for piece in self.texts(vars) {
            match piece? {
                (s, true) => push_glob(&mut out, s),
                (s, false) => push_literal(&mut out, s),
            }
        }
        Ok(out)
    }

    /// `f` of the pattern with variables replaced (as literal text) from `vars`, built on the
    /// stack when it fits (a per-request pattern then costs no allocation).
    pub(crate) fn with_glob<'s, R>(
        &'s self,
        vars: &'s (impl Vars + ?Sized),
        f: impl FnOnce(&[Tok]) -> R,
    ) -> Result<R, Unresolved<'s>> {
        let mut buf = [Tok::Star; STACK_TOKENS];
        let mut len = 0usize;
        let mut fits = true;
        for piece in self.texts(vars) {
            let (text, wild) = piece?;
            if !fits {
                continue;
            }
            let mut toks = text.bytes().map(|b| match b {
                b'*' if wild => Tok::Star,
                b'?' if wild => Tok::One,
                other => Tok::Byte(other),
            });
            for (slot, tok) in buf.iter_mut().skip(len).zip(&mut toks) {
                *slot = tok;
                len += 1;
            }
            if toks.next().is_some() {
                fits = false;
            }
        }
        match buf.get(..len) {
            Some(toks) if fits => Ok(f(toks)),
            _ => Ok(f(&self.resolve_glob(vars)?)),
        }
    }
}

fn lookup<'v>(
    vars: &'v (impl Vars + ?Sized),
    key: &'v Key,
    slot: usize,
    default: Option<&'v str>,
) -> Result<&'v str, Unresolved<'v>> {
    // Only single-valued keys can be variables (IAM User Guide, "Single-valued vs. multivalued
    // context keys": "you cannot use a multivalued context key as a policy variable").
    match vars.var(key, slot).or(default) {
        Some(v) => Ok(v),
        None => Err(Unresolved(key)),
    }
}

fn parse_into(pieces: &mut Vec<Piece>, raw: &str) {
    let mut text = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        let (before, after) = rest.split_at(start);
        text.push_str(before);
        let inner_and_more = after.get(2..).unwrap_or("");
        let Some(end) = inner_and_more.find('}') else {
            // No closing brace: the rest is plain text.
            text.push_str(after);
            rest = "";
            break;
        };
        let (inner, more) = inner_and_more.split_at(end);
        rest = more.get(1..).unwrap_or("");
        match parse_var(inner) {
            Some(piece) => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(piece);
            }
            None => {
                // Not a variable: keep it as it was written.
                text.push_str("${");
                text.push_str(inner);
                text.push('}');
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
}

/// `*`, `?`, `$` (escapes), `key` or `key, 'default'`.
fn parse_var(inner: &str) -> Option<Piece> {
    match inner {
        "*" | "?" | "$" => return Some(Piece::Literal(inner.to_owned())),
        _ => {}
    }
    let (name, default) = match inner.split_once(',') {
        Some((name, default)) => {
            let d = default.trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (name, Some(d.to_owned()))
        }
        None => (inner, None),
    };
    let name = name.trim();
    if name.is_empty() || name.contains(['{', '$', '\'']) {
        return None;
    }
    Some(Piece::Var {
        key: Key::new(name),
        default,
        slot: 0,
    })
}

/// A string compared for equality, fixed at parse time when it has no variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextPat {
    /// No variables.
    Fixed(String),
    /// Resolved per request.
    Dynamic(Template),
}

impl TextPat {
    pub(crate) fn new(t: Template) -> Self {
        if t.has_vars() {
            Self::Dynamic(t)
        } else {
            // Without variables, resolution cannot fail and needs no context.
            let mut s = String::new();
            for p in &t.pieces {
                if let Piece::Text(x) | Piece::Literal(x) = p {
                    s.push_str(x);
                }
            }
            Self::Fixed(s)
        }
    }

    pub(crate) fn get<'s>(
        &'s self,
        vars: &'s (impl Vars + ?Sized),
    ) -> Result<Cow<'s, str>, Unresolved<'s>> {
        match self {
            Self::Fixed(s) => Ok(Cow::Borrowed(s)),
            // A value that is one variable needs no copy.
            Self::Dynamic(Template { pieces }) if pieces.len() == 1 => match pieces.first() {
                Some(Piece::Var { key, default, slot }) => {
                    lookup(vars, key, *slot, default.as_deref()).map(Cow::Borrowed)
                }
                _ => Ok(Cow::Borrowed("")),
            },
            Self::Dynamic(t) => t.resolve(vars).map(Cow::Owned),
        }
    }

    /// Whether the value is `v` (case-sensitive), without copying it.
    pub(crate) fn equals<'s>(
        &'s self,
        v: &str,
        vars: &'s (impl Vars + ?Sized),
    ) -> Result<bool, Unresolved<'s>> {
        match self {
            Self::Fixed(s) => Ok(s == v),
            Self::Dynamic(t) => t.equals(v, vars),
        }
    }

    pub(crate) fn template_mut(&mut self) -> Option<&mut Template> {
        match self {
            Self::Fixed(_) => None,
            Self::Dynamic(t) => Some(t),
        }
    }
}

/// A wildcard pattern (`StringLike`), compiled at parse time when it has no variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LikePat {
    /// No variables.
    Fixed(Matcher),
    /// Resolved per request.
    Dynamic(Template, Shape),
}

/// Where the wildcards of a template are, which decides how it is matched once resolved (its
/// variables and escapes are always literal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No wildcard: piece-by-piece equality.
    Exact,
    /// One `*`, at the very end: piece-by-piece prefix (`${aws:username}-*`).
    Prefix,
    /// Anything else: the resolved pattern, globbed.
    Glob,
}

impl LikePat {
    pub(crate) fn new(t: Template) -> Self {
        if !t.has_vars() {
            return Self::Fixed(Matcher::new(&fixed_tokens(&t)));
        }
        let wild = |s: &str| s.bytes().filter(|b| matches!(b, b'*' | b'?')).count();
        let wildcards: usize = t
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Text(s) => wild(s),
                Piece::Literal(_) | Piece::Var { .. } => 0,
            })
            .sum();
        let shape = match (wildcards, t.pieces.last()) {
            (0, _) => Shape::Exact,
            (1, Some(Piece::Text(last))) if last.ends_with('*') => Shape::Prefix,
            _ => Shape::Glob,
        };
        Self::Dynamic(t, shape)
    }

    /// Whether `text` matches; `Err` if a variable cannot be resolved.
    pub(crate) fn matches<'s>(
        &'s self,
        text: &str,
        vars: &'s (impl Vars + ?Sized),
    ) -> Result<bool, Unresolved<'s>> {
        match self {
            Self::Fixed(m) => Ok(m.matches(text)),
            Self::Dynamic(t, Shape::Exact) => t.equals(text, vars),
            Self::Dynamic(t, Shape::Prefix) => t.starts(text, vars),
            Self::Dynamic(t, Shape::Glob) => t.with_glob(vars, |toks| glob(toks, text)),
        }
    }

    pub(crate) fn template_mut(&mut self) -> Option<&mut Template> {
        match self {
            Self::Fixed(_) => None,
            Self::Dynamic(t, _) => Some(t),
        }
    }
}

/// An ARN pattern (`Resource`, `Arn*` operators), compiled part by part at parse time when it
/// has no variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArnPat {
    /// No variables.
    Fixed(ArnMatcher),
    /// Resolved per request.
    Dynamic(Template),
}

impl ArnPat {
    pub(crate) fn new(t: Template) -> Self {
        if t.has_vars() {
            Self::Dynamic(t)
        } else {
            Self::Fixed(ArnMatcher::new(&fixed_tokens(&t)))
        }
    }

    /// Whether `arn` matches; `Err` if a variable cannot be resolved.
    pub(crate) fn matches<'s>(
        &'s self,
        arn: &SplitArn<'_>,
        vars: &'s (impl Vars + ?Sized),
    ) -> Result<bool, Unresolved<'s>> {
        match self {
            Self::Fixed(m) => Ok(m.matches(arn)),
            // Same result as compiling the resolved pattern (tested), without compiling it.
            Self::Dynamic(t) => t.with_glob(vars, |toks| arn_glob(toks, arn.text)),
        }
    }

    pub(crate) fn template_mut(&mut self) -> Option<&mut Template> {
        match self {
            Self::Fixed(_) => None,
            Self::Dynamic(t) => Some(t),
        }
    }

    pub(crate) fn template_vars(&self) -> Vec<(Key, bool)> {
        match self {
            Self::Fixed(_) => Vec::new(),
            Self::Dynamic(t) => t.vars().map(|(k, d)| (k.clone(), d)).collect(),
        }
    }
}

/// The tokens of a template without variables.
fn fixed_tokens(t: &Template) -> Vec<Tok> {
    let mut out = Vec::new();
    for p in &t.pieces {
        match p {
            Piece::Text(s) => push_glob(&mut out, s),
            Piece::Literal(s) => push_literal(&mut out, s),
            Piece::Var { .. } => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        glob(&compile_glob(p), t)
    }

    #[test]
    fn star_and_question_mark_match_as_documented() {
        assert!(m("dynamodb:get*", "dynamodb:getitem"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a?c", "aéc"), "? consumes a whole character");
        assert!(!m("a??c", "aéc"));
        assert!(m("*log*", "carlossalazar-logs"));
        assert!(!m("abc", "abcd"));
        assert!(m("**", "x"));
    }

    #[test]
    fn arn_wildcards_do_not_cross_colons_except_in_the_last_part() {
        let p = compile_glob("arn:aws:someservice:*:111122223333:finance/*");
        // The IAM User Guide's own example: StringLike matches, ArnLike does not.
        let v = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
        assert!(glob(&p, v));
        assert!(!arn_glob(&p, v));
        assert!(arn_glob(
            &p,
            "arn:aws:someservice:us-east-2:111122223333:finance/a:b"
        ));
        assert!(arn_glob(
            &compile_glob("arn:aws:dynamodb:*"),
            "arn:aws:dynamodb:r:1:table/t"
        ));
        assert!(!arn_glob(&compile_glob("arn:aws:s3:::b"), "arn:aws:s3"));
    }

    #[test]
    fn compiled_arn_matcher_agrees_with_the_reference() {
        let pats = [
            "arn:aws:*",
            "arn:aws:dynamodb:*:*:table/*",
            "arn:aws:dynamodb:us-east-1:1:table/T",
            "arn:aws:dynamodb:us-east-1:1:table/*",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::1:*",
            "arn:aws",
            "arn",
            "ab*",
            "abc",
            "a:b:c:d:e:f:g:h",
            "arn:aws:dynamodb:us-east-1:1:table/T:x*",
            "arn:aws:s3:::b*",
            "*",
            "arn:*:iam::1:role/?x",
            "a:b:c:d:e:f:g*",
        ];
        let texts = [
            "arn:aws:dynamodb:us-east-1:1:table/T",
            "arn:aws:dynamodb:us-east-1:1:table/T:x",
            "arn:aws:dynamodb:us-east-1:1",
            "arn:aws:iam::1:",
            "abc",
            "abcd",
            "arn:aws:dynamodb:us-east-1:1:table/T:xy",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::1:role/ax",
            "a:b:c:d:e:f:g:h",
            "",
            "arn",
            "arn:aws",
        ];
        for p in pats {
            for t in texts {
                let toks = compile_glob(p);
                assert_eq!(
                    ArnMatcher::new(&toks).matches(&SplitArn::new(t)),
                    arn_glob(&toks, t),
                    "{p} {t}"
                );
            }
        }
    }

    #[test]
    fn fast_paths_agree_with_the_general_matcher() {
        for p in ["*", "abc", "ab*", "a*c", "a?c", "", "**", "*b"] {
            let m = Matcher::new(&compile_glob(p));
            for t in ["", "abc", "ab", "abcd", "xbc", "b", "a c"] {
                assert_eq!(m.matches(t), glob(&compile_glob(p), t), "{p} {t}");
            }
        }
        let a = ArnMatcher::new(&compile_glob("arn:aws:dynamodb:*:*:table/*"));
        assert!(a.matches(&SplitArn::new("arn:aws:dynamodb:us-east-1:1:table/T")));
        assert!(!a.matches(&SplitArn::new("arn:aws:dynamodb:us-east-1:1:stream/T")));
        assert!(!a.matches(&SplitArn::new("arn:aws:dynamodb")));
        let short = ArnMatcher::new(&compile_glob("arn:aws:s3:::b/*"));
        assert!(short.matches(&SplitArn::new("arn:aws:s3:::b/k:with:colons")));
    }

    #[test]
    fn template_fast_paths_agree_with_the_resolved_glob() {
        let templates = [
            "${aws:username}-*",
            "${aws:username}",
            "home/${aws:username}/${*}",
            "${aws:username}?*",
            "*${aws:username}",
            "pre${aws:username}*",
            "${aws:username}*x",
            "${aws:username}**",
            "${*}${aws:username}*",
            "a${?}${aws:username}-*",
            "${aws:username}${*}",
            "${aws:username}${k:s}*",
            "${aws:nope, 'd'}*",
            "arn:aws:dynamodb:*:*:table/${aws:username}*",
        ];
        let names = ["alice", "a*", "*", "?", "", "a:b"];
        let texts = [
            "alice-1",
            "alice-",
            "alice",
            "a*-x",
            "a*",
            "*-",
            "-",
            "",
            "prealice",
            "x",
            "home/alice/*",
            "home/alice/x",
            "alicexyz",
            "a?alice-1",
            "*alice",
            "alice*x",
            "arn:aws:dynamodb:r:1:table/alice",
            "arn:aws:dynamodb:r:1:table/a:b:c",
        ];
        for t in templates {
            for name in names {
                let mut ctx = Context::new();
                ctx.set("aws:username", name);
                ctx.set("k:s", "S");
                let template = Template::parse(t, true);
                let toks = template.resolve_glob(&ctx).unwrap();
                let like = LikePat::new(template.clone());
                let arn = ArnPat::new(template.clone());
                for text in texts {
                    let expected = glob(&toks, text);
                    assert_eq!(like.matches(text, &ctx), Ok(expected), "{t} {name} {text}");
                    assert_eq!(
                        template.with_glob(&ctx, |g| glob(g, text)),
                        Ok(expected),
                        "{t} {name} {text}"
                    );
                    assert_eq!(
                        arn.matches(&SplitArn::new(text), &ctx),
                        Ok(ArnMatcher::new(&toks).matches(&SplitArn::new(text))),
                        "{t} {name} {text}"
                    );
                }
                let text = TextPat::new(template.clone());
                for v in texts {
                    let resolved = template.resolve(&ctx).unwrap();
                    assert_eq!(text.equals(v, &ctx), Ok(resolved == v), "{t} {name} {v}");
                }
            }
        }
        // An unresolved variable is an error whatever the text.
        let ctx = Context::new();
        for t in templates.iter().filter(|t| t.contains("aws:username")) {
            let template = Template::parse(t, true);
            assert!(
                LikePat::new(template.clone()).matches("x", &ctx).is_err(),
                "{t}"
            );
            assert!(TextPat::new(template).equals("x", &ctx).is_err(), "{t}");
        }
    }

    #[test]
    fn long_resolved_patterns_fall_back_to_the_heap() {
        let mut ctx = Context::new();
        let long = "x".repeat(STACK_TOKENS + 7);
        ctx.set("aws:username", long.as_str());
        let t = Template::parse("*${aws:username}?", true);
        let text = format!("ab{long}c");
        assert_eq!(t.with_glob(&ctx, |g| glob(g, &text)), Ok(true));
        assert_eq!(t.with_glob(&ctx, |g| glob(g, &long)), Ok(false));
    }

    #[test]
    fn variables_escapes_and_defaults_parse() {
        let t = Template::parse("home/${aws:username}/${*}${?}${$}x", true);
        assert_eq!(
            t.pieces,
            vec![
                Piece::Text("home/".into()),
                Piece::Var {
                    key: Key::new("aws:username"),
                    default: None,
                    slot: 0,
                },
                Piece::Text("/".into()),
                Piece::Literal("*".into()),
                Piece::Literal("?".into()),
                Piece::Literal("$".into()),
                Piece::Text("x".into()),
            ]
        );
        let d = Template::parse("${aws:userid, 'anonymous'}", true);
        assert_eq!(
            d.pieces,
            vec![Piece::Var {
                key: Key::new("aws:userid"),
                default: Some("anonymous".into()),
                slot: 0,
            }]
        );
        let legacy = Template::parse("${aws:username}", false);
        assert_eq!(legacy.pieces, vec![Piece::Text("${aws:username}".into())]);
    }

    #[test]
    fn resource_variables_are_substituted_only_after_the_fifth_colon() {
        let t = Template::parse_resource("arn:aws:s3:${aws:username}::b/${aws:username}", true);
        assert_eq!(t.vars().count(), 1);
        assert_eq!(
            t.pieces.first(),
            Some(&Piece::Text("arn:aws:s3:${aws:username}:".into())),
            "colons are counted as written; the variable before the fifth stays text"
        );
    }

    #[test]
    fn substituted_values_are_literal_in_patterns() {
        let mut ctx = Context::new();
        ctx.set("aws:username", "a*");
        let g = LikePat::new(Template::parse("home/${aws:username}", true));
        assert_eq!(g.matches("home/a*", &ctx), Ok(true));
        assert_eq!(g.matches("home/abc", &ctx), Ok(false));
        let esc = LikePat::new(Template::parse("x${*}", true));
        assert_eq!(esc.matches("x*", &ctx), Ok(true));
        assert_eq!(esc.matches("xy", &ctx), Ok(false));
    }
}
