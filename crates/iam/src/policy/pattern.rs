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

/// The reference ARN matcher, one pass over tokens: [`ArnMatcher`] must agree with it.
#[cfg(test)]
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
}

impl ArnMatcher {
    pub(crate) fn new(toks: &[Tok]) -> Self {
        Self {
            parts: toks
                .splitn(6, |t| *t == Tok::Byte(b':'))
                .map(Matcher::new)
                .collect(),
        }
    }

    pub(crate) fn matches(&self, arn: &SplitArn<'_>) -> bool {
        let k = self.parts.len();
        if k == 0 || arn.parts < k {
            return false;
        }
        // The resource part first: it is the one that differs most between ARNs.
        self.parts.iter().enumerate().rev().all(|(i, m)| {
            if *m == Matcher::Any {
                return true;
            }
            let text = if i + 1 == k { arn.rest(i) } else { arn.part(i) };
            text.is_some_and(|t| m.matches(t))
        })
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
    },
}

/// A string from a policy that may contain policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
}

/// A variable with no value in the request context and no default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unresolved(pub(crate) String);

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
            Piece::Var { key, default } => Some((key, default.is_some())),
            _ => None,
        })
    }

    fn has_vars(&self) -> bool {
        self.vars().next().is_some()
    }

    /// The text, with variables replaced from `ctx`.
    pub(crate) fn resolve(&self, ctx: &Context) -> Result<String, Unresolved> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(s) | Piece::Literal(s) => out.push_str(s),
                Piece::Var { key, default } => out.push_str(lookup(ctx, key, default.as_deref())?),
            }
        }
        Ok(out)
    }

    /// The pattern, with variables replaced (as literal text) from `ctx`.
    pub(crate) fn resolve_glob(&self, ctx: &Context) -> Result<Vec<Tok>, Unresolved> {
        let mut out = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(s) => push_glob(&mut out, s),
                Piece::Literal(s) => push_literal(&mut out, s),
                Piece::Var { key, default } => {
                    push_literal(&mut out, lookup(ctx, key, default.as_deref())?);
                }
            }
        }
        Ok(out)
    }
}

fn lookup<'c>(
    ctx: &'c Context,
    key: &Key,
    default: Option<&'c str>,
) -> Result<&'c str, Unresolved> {
    // Only single-valued keys can be variables (IAM User Guide, "Single-valued vs. multivalued
    // context keys": "you cannot use a multivalued context key as a policy variable").
    match ctx.single_key(key).or(default) {
        Some(v) => Ok(v),
        None => Err(Unresolved(key.name().to_owned())),
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

    pub(crate) fn get<'s>(&'s self, ctx: &'s Context) -> Result<Cow<'s, str>, Unresolved> {
        match self {
            Self::Fixed(s) => Ok(Cow::Borrowed(s)),
            // A value that is one variable needs no copy.
            Self::Dynamic(Template { pieces }) if pieces.len() == 1 => match pieces.first() {
                Some(Piece::Var { key, default }) => {
                    lookup(ctx, key, default.as_deref()).map(Cow::Borrowed)
                }
                _ => Ok(Cow::Borrowed("")),
            },
            Self::Dynamic(t) => t.resolve(ctx).map(Cow::Owned),
        }
    }
}

/// A wildcard pattern (`StringLike`), compiled at parse time when it has no variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LikePat {
    /// No variables.
    Fixed(Matcher),
    /// Resolved per request.
    Dynamic(Template),
}

impl LikePat {
    pub(crate) fn new(t: Template) -> Self {
        if t.has_vars() {
            Self::Dynamic(t)
        } else {
            Self::Fixed(Matcher::new(&fixed_tokens(&t)))
        }
    }

    /// Whether `text` matches; `Err` if a variable cannot be resolved.
    pub(crate) fn matches(&self, text: &str, ctx: &Context) -> Result<bool, Unresolved> {
        match self {
            Self::Fixed(m) => Ok(m.matches(text)),
            Self::Dynamic(t) => Ok(glob(&t.resolve_glob(ctx)?, text)),
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
    pub(crate) fn matches(&self, arn: &SplitArn<'_>, ctx: &Context) -> Result<bool, Unresolved> {
        match self {
            Self::Fixed(m) => Ok(m.matches(arn)),
            Self::Dynamic(t) => Ok(ArnMatcher::new(&t.resolve_glob(ctx)?).matches(arn)),
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
            "arn:aws:s3:::b*",
            "*",
            "arn:*:iam::1:role/?x",
            "a:b:c:d:e:f:g*",
        ];
        let texts = [
            "arn:aws:dynamodb:us-east-1:1:table/T",
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
    fn variables_escapes_and_defaults_parse() {
        let t = Template::parse("home/${aws:username}/${*}${?}${$}x", true);
        assert_eq!(
            t.pieces,
            vec![
                Piece::Text("home/".into()),
                Piece::Var {
                    key: Key::new("aws:username"),
                    default: None
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
                default: Some("anonymous".into())
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
