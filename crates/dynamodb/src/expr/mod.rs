//! DynamoDB's expression language: condition, filter, key-condition, update and projection
//! expressions, from text to AST to evaluation, with DynamoDB's exact `ValidationException`
//! texts. The legacy parameters (`Expected`, `AttributeUpdates`, `KeyConditions`,
//! `QueryFilter`/`ScanFilter`, `AttributesToGet`) convert to the same ASTs in [`legacy`].
//!
//! This module owns parsing and evaluation only; it reads items but never stores them, and
//! depends only on [`crate::value`], [`crate::number`] and [`crate::keys`].
//!
//! How a request uses it: build one [`Placeholders`] from the request's
//! `ExpressionAttributeNames`/`ExpressionAttributeValues`, parse every expression of the request
//! through it (DynamoDB's order: update, condition, key condition, filter, projection), then call
//! [`Placeholders::finish`], which reports names or values that no expression used.
//!
//! INVARIANTS:
//! - every error's `Display` is the complete AWS message (`Invalid UpdateExpression: …`);
//! - parsing never panics and never recurses deeper than a fixed bound, whatever the input;
//! - an expression longer than [`MAX_EXPRESSION_SIZE`] bytes is refused before it is parsed;
//! - for every AST `a`, parsing `a.to_expression()` with its placeholders gives back `a`.
//!
//! Sources for texts and rules (recorded against DynamoDB): dynalite's grammars
//! (`db/*.pegjs`) and validation tests, moto's expression parser and tests, and the developer
//! guide ("Condition and filter expressions, operators, and functions", "Update expressions",
//! "Reserved words", "Constraints").

mod condition;
mod key_condition;
pub mod legacy;
mod projection;
pub mod reserved;
mod syntax;

pub use syntax::WORKER_STACK;
mod update;

use std::collections::{BTreeSet, HashMap};
use std::fmt;

pub use condition::{CmpOp, Condition, Operand, parse_condition};
pub use key_condition::{KeyCondition, RangeCondition, parse_key_condition};
pub use projection::{Projection, parse_projection};
pub use update::{SetValue, UpdateAction, UpdateExpr, UpdateOperand, parse_update};

use crate::value::{AttributeValue, Item};
use syntax::RawElem;

/// DynamoDB's limit on the length of one expression string, in bytes.
pub const MAX_EXPRESSION_SIZE: usize = 4096;

/// The longest `#name` or `:value` placeholder DynamoDB accepts, in bytes.
pub const MAX_PLACEHOLDER_LEN: usize = 255;

/// An expression error. `Display` is the full AWS `ValidationException` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExprError(String);

impl ExprError {
    /// An error with exactly this message.
    pub fn new(message: impl Into<String>) -> Self {
        ExprError(message.into())
    }

    /// The message, as AWS words it.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// Which request parameter a condition came from; it names the parameter in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKind {
    /// `ConditionExpression` (PutItem, UpdateItem, DeleteItem, transactions).
    Condition,
    /// `FilterExpression` (Query, Scan).
    Filter,
    /// `KeyConditionExpression` (Query).
    KeyCondition,
}

/// Every expression parameter, for the `Invalid <Parameter>: ` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExprKind {
    Condition,
    Filter,
    KeyCondition,
    Update,
    Projection,
}

impl From<ConditionKind> for ExprKind {
    fn from(k: ConditionKind) -> Self {
        match k {
            ConditionKind::Condition => ExprKind::Condition,
            ConditionKind::Filter => ExprKind::Filter,
            ConditionKind::KeyCondition => ExprKind::KeyCondition,
        }
    }
}

impl ExprKind {
    fn label(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Update => "UpdateExpression",
            ExprKind::Projection => "ProjectionExpression",
        }
    }

    /// `Invalid <Parameter>: <detail>`.
    pub(crate) fn error(self, detail: impl fmt::Display) -> ExprError {
        ExprError(format!("Invalid {}: {detail}", self.label()))
    }

    /// The checks every expression text passes before it is parsed.
    pub(crate) fn check_text(self, s: &str) -> Result<(), ExprError> {
        if s.is_empty() {
            return Err(self.error("The expression can not be empty;"));
        }
        if s.len() > MAX_EXPRESSION_SIZE {
            // Seen from DynamoDB: "Invalid FilterExpression: Expression size has exceeded the
            // maximum allowed size; expression size: 5872"; Condition too, but Projection,
            // KeyCondition and Update expressions end at "size;" (recorded by a test suite run
            // against DynamoDB).
            let size = match self {
                ExprKind::Condition | ExprKind::Filter => format!(" expression size: {}", s.len()),
                ExprKind::KeyCondition | ExprKind::Update | ExprKind::Projection => String::new(),
            };
            return Err(self.error(format!(
                "Expression size has exceeded the maximum allowed size;{size}"
            )));
        }
        Ok(())
    }
}

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElement {
    /// A map key (or, first, a top-level attribute name).
    Name(String),
    /// A list index.
    Index(usize),
}

/// A document path such as `a.b[2].c`, with placeholders already substituted.
///
/// INVARIANT: non-empty, and the first element is a [`PathElement::Name`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    elements: Vec<PathElement>,
}

impl Path {
    /// The path to a top-level attribute.
    pub fn attribute(name: impl Into<String>) -> Self {
        Path {
            elements: vec![PathElement::Name(name.into())],
        }
    }

    /// This path extended by a map key.
    pub fn key(mut self, name: impl Into<String>) -> Self {
        self.elements.push(PathElement::Name(name.into()));
        self
    }

    /// This path extended by a list index.
    pub fn index(mut self, i: usize) -> Self {
        self.elements.push(PathElement::Index(i));
        self
    }

    /// The steps.
    pub fn elements(&self) -> &[PathElement] {
        &self.elements
    }

    /// The top-level attribute the path starts at.
    pub fn top_level(&self) -> &str {
        match self.elements.first() {
            Some(PathElement::Name(n)) => n,
            _ => "",
        }
    }

    /// The value at this path in `item`, if every step exists.
    pub fn resolve<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let (first, rest) = self.elements.split_first()?;
        let mut cur = match first {
            PathElement::Name(n) => item.get(n)?,
            PathElement::Index(_) => return None,
        };
        for step in rest {
            cur = step_into(cur, step)?;
        }
        Some(cur)
    }

    /// AWS's rendering in error messages: `[a, b, [2]]`.
    pub(crate) fn aws_list(&self) -> String {
        let parts: Vec<String> = self
            .elements
            .iter()
            .map(|e| match e {
                PathElement::Name(n) => n.clone(),
                PathElement::Index(i) => format!("[{i}]"),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }

    fn from_elements(elements: Vec<PathElement>) -> Option<Path> {
        matches!(elements.first(), Some(PathElement::Name(_))).then_some(Path { elements })
    }
}

pub(crate) fn step_into<'a>(
    v: &'a AttributeValue,
    step: &PathElement,
) -> Option<&'a AttributeValue> {
    match (v, step) {
        (AttributeValue::M(m), PathElement::Name(n)) => m.get(n),
        (AttributeValue::L(l), PathElement::Index(i)) => l.get(*i),
        _ => None,
    }
}

/// `a.b[2]` with the names as they are (not necessarily valid expression text).
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.elements.iter().enumerate() {
            match e {
                PathElement::Name(n) if i == 0 => f.write_str(n)?,
                PathElement::Name(n) => write!(f, ".{n}")?,
                PathElement::Index(ix) => write!(f, "[{ix}]")?,
            }
        }
        Ok(())
    }
}

/// The `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request, and which of
/// them the request's expressions used.
#[derive(Debug)]
pub struct Placeholders<'a> {
    names: Option<&'a HashMap<String, String>>,
    values: Option<&'a HashMap<String, AttributeValue>>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl<'a> Placeholders<'a> {
    /// Placeholders from the request's maps (absent maps are `None`).
    pub fn new(
        names: Option<&'a HashMap<String, String>>,
        values: Option<&'a HashMap<String, AttributeValue>>,
    ) -> Self {
        Placeholders {
            names,
            values,
            used_names: BTreeSet::new(),
            used_values: BTreeSet::new(),
        }
    }

    /// DynamoDB's checks on the maps themselves, done before any expression is parsed
    /// (keys at most [`MAX_PLACEHOLDER_LEN`] bytes, names not empty):
    /// non-empty when present, and keys of the form `#[0-9A-Za-z_]+` / `:[0-9A-Za-z_]+`.
    /// (Source: dynalite `validations/index.js`, `validateExpressions`.)
    pub fn check_keys(&self) -> Result<(), ExprError> {
        let well_formed = |key: &str, sigil: char| {
            key.strip_prefix(sigil).is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
        };
        if let Some(names) = self.names {
            if names.is_empty() {
                return Err(ExprError::new("ExpressionAttributeNames must not be empty"));
            }
            let mut keys: Vec<&String> = names.keys().collect();
            keys.sort();
            for k in keys {
                // Length before syntax; texts recorded against DynamoDB by a test suite.
                if k.len() > MAX_PLACEHOLDER_LEN {
                    return Err(ExprError::new(format!(
                        "ExpressionAttributeNames contains invalid key: The expression attribute map contains a key that is too long; size of key: {}",
                        k.len()
                    )));
                }
                if !well_formed(k, '#') {
                    return Err(ExprError::new(format!(
                        "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                    )));
                }
                if names.get(k).is_some_and(String::is_empty) {
                    return Err(ExprError::new(format!(
                        "ExpressionAttributeNames contains invalid value: Empty attribute name for key {k}"
                    )));
                }
            }
        }
        if let Some(values) = self.values {
            if values.is_empty() {
                return Err(ExprError::new(
                    "ExpressionAttributeValues must not be empty",
                ));
            }
            let mut keys: Vec<&String> = values.keys().collect();
            keys.sort();
            // Unlike the names' text, this one ends at "too long;" (recorded against DynamoDB).
            if keys.iter().any(|k| k.len() > MAX_PLACEHOLDER_LEN) {
                return Err(ExprError::new(
                    "ExpressionAttributeValues contains invalid key: The expression attribute map contains a key that is too long;",
                ));
            }
            if let Some(k) = keys.into_iter().find(|k| !well_formed(k, ':')) {
                return Err(ExprError::new(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        Ok(())
    }

    /// The attribute name behind `#placeholder`, marking it used.
    pub(crate) fn name(&mut self, placeholder: &str) -> Option<String> {
        let v = self.names?.get(placeholder)?.clone();
        self.used_names.insert(placeholder.to_owned());
        Some(v)
    }

    /// The value behind `:placeholder`, marking it used.
    pub(crate) fn value(&mut self, placeholder: &str) -> Option<AttributeValue> {
        let v = self.values?.get(placeholder)?.clone();
        self.used_values.insert(placeholder.to_owned());
        Some(v)
    }

    /// After every expression of the request is parsed: names, then values, that no expression
    /// used are an error. Keys are listed sorted.
    pub fn finish(self) -> Result<(), ExprError> {
        fn unused<'k>(
            all: impl Iterator<Item = &'k String>,
            used: &BTreeSet<String>,
        ) -> Vec<&'k str> {
            let mut keys: Vec<&str> = all
                .filter(|k| !used.contains(k.as_str()))
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            keys
        }
        if let Some(names) = self.names {
            let keys = unused(names.keys(), &self.used_names);
            if !keys.is_empty() {
                return Err(ExprError::new(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    keys.join(", ")
                )));
            }
        }
        if let Some(values) = self.values {
            let keys = unused(values.keys(), &self.used_values);
            if !keys.is_empty() {
                return Err(ExprError::new(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    keys.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// An expression printed back to text, with the placeholders it needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Printed {
    /// The expression text, using only `#nN` and `:vN` placeholders.
    pub expression: String,
    /// `ExpressionAttributeNames` for it.
    pub names: HashMap<String, String>,
    /// `ExpressionAttributeValues` for it.
    pub values: HashMap<String, AttributeValue>,
}

/// Builds [`Printed`] output: every name becomes `#nN`, every value `:vN`.
#[derive(Default)]
pub(crate) struct Printer {
    out: Printed,
    name_ids: HashMap<String, String>,
}

impl Printer {
    pub(crate) fn name(&mut self, n: &str) -> String {
        if let Some(id) = self.name_ids.get(n) {
            return id.clone();
        }
        let id = format!("#n{}", self.name_ids.len());
        self.name_ids.insert(n.to_owned(), id.clone());
        self.out.names.insert(id.clone(), n.to_owned());
        id
    }

    pub(crate) fn value(&mut self, v: &AttributeValue) -> String {
        let id = format!(":v{}", self.out.values.len());
        self.out.values.insert(id.clone(), v.clone());
        id
    }

    pub(crate) fn path(&mut self, p: &Path) -> String {
        let mut s = String::new();
        for (i, e) in p.elements.iter().enumerate() {
            match e {
                PathElement::Name(n) => {
                    if i > 0 {
                        s.push('.');
                    }
                    s.push_str(&self.name(n));
                }
                PathElement::Index(ix) => s.push_str(&format!("[{ix}]")),
            }
        }
        s
    }

    pub(crate) fn finish(mut self, expression: String) -> Printed {
        self.out.expression = expression;
        self.out
    }
}

/// Collects semantic errors and keeps the one DynamoDB reports: lowest priority class first,
/// then the first found.
#[derive(Default)]
pub(crate) struct Found {
    best: Option<(u8, String)>,
}

impl Found {
    pub(crate) fn add(&mut self, priority: u8, msg: impl Into<String>) {
        if self.best.as_ref().is_none_or(|(p, _)| priority < *p) {
            self.best = Some((priority, msg.into()));
        }
    }

    pub(crate) fn into_error(self, kind: ExprKind) -> Option<ExprError> {
        self.best.map(|(_, m)| kind.error(m))
    }
}

/// Priority classes shared by the semantic passes (lower is reported first).
pub(crate) mod prio {
    /// Update expressions report reserved words before anything else.
    pub const UPDATE_RESERVED: u8 = 0;
    pub const PARENS: u8 = 1;
    pub const UNKNOWN_FUNCTION: u8 = 2;
    pub const MISUSED_FUNCTION: u8 = 3;
    pub const RESERVED: u8 = 4;
    pub const SECTION: u8 = 5;
    pub const UNDEFINED: u8 = 6;
    pub const OVERLAP: u8 = 7;
    pub const CONFLICT: u8 = 8;
    pub const OPERAND_COUNT: u8 = 9;
    pub const DISTINCT: u8 = 10;
    pub const TYPE: u8 = 11;
}

/// Resolves a raw path: reserved words and undefined `#names` are recorded in `found`.
pub(crate) fn resolve_path(
    raw: &[RawElem],
    p: &mut Placeholders<'_>,
    found: &mut Found,
    reserved_priority: u8,
) -> Option<Path> {
    let mut elements = Vec::with_capacity(raw.len());
    let mut ok = true;
    // Observed on DynamoDB (ScyllaDB's Alternator tests): 32 levels, the attribute included.
    if raw.len() > crate::value::MAX_NESTING_DEPTH {
        found.add(
            prio::UNDEFINED,
            format!(
                "The document path has too many nesting levels; nesting levels: {}",
                raw.len()
            ),
        );
        ok = false;
    }
    for e in raw {
        match e {
            RawElem::Ident(n) => {
                if reserved::is_reserved(n) {
                    found.add(
                        reserved_priority,
                        format!("Attribute name is a reserved keyword; reserved keyword: {n}"),
                    );
                }
                elements.push(PathElement::Name(n.clone()));
            }
            RawElem::NameRef(r) => match p.name(r) {
                Some(n) => elements.push(PathElement::Name(n)),
                None => {
                    found.add(
                        prio::UNDEFINED,
                        format!(
                            "An expression attribute name used in the document path is not defined; attribute name: {r}"
                        ),
                    );
                    ok = false;
                }
            },
            RawElem::Index(i) => elements.push(PathElement::Index(*i)),
        }
    }
    if ok {
        Path::from_elements(elements)
    } else {
        None
    }
}

/// Resolves a `:value`, recording an undefined one in `found`.
pub(crate) fn resolve_value(
    r: &str,
    p: &mut Placeholders<'_>,
    found: &mut Found,
) -> Option<AttributeValue> {
    let v = p.value(r);
    if v.is_none() {
        found.add(
            prio::UNDEFINED,
            format!(
                "An expression attribute value used in expression is not defined; attribute value: {r}"
            ),
        );
    }
    v
}

/// DynamoDB's check that no two paths of one expression overlap (one is a prefix of the other)
/// or conflict (one indexes a list where the other names a map key).
pub(crate) fn check_overlaps(paths: &[&Path], found: &mut Found) {
    for (j, b) in paths.iter().enumerate() {
        for a in paths.iter().take(j) {
            let mut diverged = false;
            for (x, y) in a.elements.iter().zip(b.elements.iter()) {
                let same_kind = matches!(
                    (x, y),
                    (PathElement::Name(_), PathElement::Name(_))
                        | (PathElement::Index(_), PathElement::Index(_))
                );
                if !same_kind {
                    found.add(
                        prio::CONFLICT,
                        format!(
                            "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                            a.aws_list(),
                            b.aws_list()
                        ),
                    );
                    diverged = true;
                    break;
                }
                if x != y {
                    diverged = true;
                    break;
                }
            }
            if !diverged {
                found.add(
                    prio::OVERLAP,
                    format!(
                        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                        a.aws_list(),
                        b.aws_list()
                    ),
                );
            }
        }
    }
}

/// The operand type DynamoDB names in type errors for a literal value: `{S:abc}` style
/// rendering of a scalar (used by BETWEEN errors).
pub(crate) fn value_brief(v: &AttributeValue) -> String {
    use base64::Engine as _;
    let body = match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        AttributeValue::B(b) => base64::engine::general_purpose::STANDARD.encode(b),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null => "true".to_owned(),
        other => serde_json::to_string(other).unwrap_or_default(),
    };
    format!("{{{}:{body}}}", v.type_name())
}
