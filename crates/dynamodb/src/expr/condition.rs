//! Condition and filter expressions: AST, semantic checks, evaluation and printing.
//!
//! Evaluation follows the developer guide ("Comparison operator and function reference"):
//! comparisons between different types are false (and `<>` between different types or with a
//! missing side is true); `<`, `<=`, `>`, `>=` and BETWEEN order only S (bytewise), N and B;
//! sets compare as sets; `size` counts UTF-16 code units of a string (verified against DynamoDB
//! by ExtendDB, PR #67), bytes of a binary, members of a set, list or map.

use std::collections::BTreeSet;
use std::fmt;

use super::syntax::{self, RawCmp, RawCond, RawOperand};
use super::{
    ConditionKind, ExprError, ExprKind, Found, Path, Placeholders, Printed, Printer, prio,
    resolve_path, resolve_value, value_brief,
};
use crate::value::{AttributeValue, Item};

/// The most operands `IN` takes (developer guide, "Constraints": "up to 100 values").
pub const MAX_IN_OPERANDS: usize = 100;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub fn text(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

impl From<RawCmp> for CmpOp {
    fn from(c: RawCmp) -> Self {
        match c {
            RawCmp::Eq => CmpOp::Eq,
            RawCmp::Ne => CmpOp::Ne,
            RawCmp::Lt => CmpOp::Lt,
            RawCmp::Le => CmpOp::Le,
            RawCmp::Gt => CmpOp::Gt,
            RawCmp::Ge => CmpOp::Ge,
        }
    }
}

/// Something a condition compares: an attribute, a literal, or `size(…)` of one.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// The value at a document path (absent if the path does not exist).
    Path(Path),
    /// An `ExpressionAttributeValues` value.
    Value(AttributeValue),
    /// `size(operand)`, a number.
    Size(Box<Operand>),
}

/// A condition expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `left op right`.
    Compare(Operand, CmpOp, Operand),
    /// `operand BETWEEN low AND high`.
    Between(Operand, Operand, Operand),
    /// `operand IN (list…)`.
    In(Operand, Vec<Operand>),
    /// `a AND b AND …`: two or more members (a chain is one node, so that walking it never
    /// recurses once per member).
    And(Vec<Condition>),
    /// `a OR b OR …`: two or more members.
    Or(Vec<Condition>),
    /// `NOT a`.
    Not(Box<Condition>),
    /// `attribute_exists(path)`.
    AttributeExists(Path),
    /// `attribute_not_exists(path)`.
    AttributeNotExists(Path),
    /// `attribute_type(operand, type)`; the type operand is an S value naming a type.
    AttributeType(Operand, Operand),
    /// `begins_with(operand, prefix)`.
    BeginsWith(Operand, Operand),
    /// `contains(operand, operand)`.
    Contains(Operand, Operand),
}

const CONDITION_FUNCTIONS: [(&str, usize); 6] = [
    ("attribute_exists", 1),
    ("attribute_not_exists", 1),
    ("attribute_type", 2),
    ("begins_with", 2),
    ("contains", 2),
    ("size", 1),
];
const UPDATE_FUNCTIONS: [&str; 2] = ["if_not_exists", "list_append"];
const TYPE_NAMES: [&str; 10] = ["S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M"];

/// Parses a condition (ConditionExpression, FilterExpression or KeyConditionExpression).
pub fn parse_condition(
    s: &str,
    p: &mut Placeholders<'_>,
    kind: ConditionKind,
) -> Result<Condition, ExprError> {
    let kind = ExprKind::from(kind);
    kind.check_text(s)?;
    let (raw, notes) = syntax::parse_condition(s).map_err(|e| kind.error(e.0))?;
    let mut cx = Cx {
        p,
        found: Found::default(),
    };
    if notes.redundant_parens {
        cx.found
            .add(prio::PARENS, "The expression has redundant parentheses;");
    }
    let cond = cx.cond(&raw);
    if let Some(e) = cx.found.into_error(kind) {
        return Err(e);
    }
    cond.ok_or_else(|| kind.error("The expression could not be resolved;"))
}

struct Cx<'p, 'a> {
    p: &'p mut Placeholders<'a>,
    found: Found,
}

/// The type a resolved operand is known to have at parse time (literals and `size`).
fn static_type(o: &Operand) -> Option<&'static str> {
    match o {
        Operand::Value(v) => Some(v.type_name()),
        Operand::Size(_) => Some("N"),
        Operand::Path(_) => None,
    }
}

impl Cx<'_, '_> {
    /// The members of an AND or OR chain. Every member is checked (its errors found) before
    /// any failure is returned.
    fn members(&mut self, raw: &[RawCond]) -> Option<Vec<Condition>> {
        let members: Vec<Option<Condition>> = raw.iter().map(|m| self.cond(m)).collect();
        members.into_iter().collect()
    }

    fn cond(&mut self, raw: &RawCond) -> Option<Condition> {
        match raw {
            RawCond::And(members) => Some(Condition::And(self.members(members)?)),
            RawCond::Or(members) => Some(Condition::Or(self.members(members)?)),
            RawCond::Not(a) => Some(Condition::Not(Box::new(self.cond(a)?))),
            RawCond::Cmp(l, op, r) => {
                let (l, r) = (self.operand(l), self.operand(r));
                let (l, r) = (l?, r?);
                self.distinct(op.text(), &l, &r);
                if !matches!(op, RawCmp::Eq | RawCmp::Ne) {
                    self.ordered_operands(op.text(), [&l, &r]);
                }
                Some(Condition::Compare(l, (*op).into(), r))
            }
            RawCond::Between(x, lo, hi) => {
                let (x, lo, hi) = (self.operand(x), self.operand(lo), self.operand(hi));
                let (x, lo, hi) = (x?, lo?, hi?);
                if self.ordered_operands("BETWEEN", [&x, &lo, &hi]) {
                    self.between_bounds(&lo, &hi);
                }
                Some(Condition::Between(x, lo, hi))
            }
            RawCond::In(x, list) => {
                let x = self.operand(x);
                let list: Vec<Option<Operand>> = list.iter().map(|o| self.operand(o)).collect();
                if list.len() > MAX_IN_OPERANDS {
                    // Not confirmed against DynamoDB: the limit is documented, its text is not.
                    self.found.add(
                        prio::OPERAND_COUNT,
                        format!(
                            "Incorrect number of operands for operator or function; operator or function: IN, number of operands: {}",
                            list.len() + 1
                        ),
                    );
                }
                let list: Option<Vec<Operand>> = list.into_iter().collect();
                Some(Condition::In(x?, list?))
            }
            RawCond::Call(name, args) => self.function_condition(name, args),
        }
    }

    fn distinct(&mut self, op: &str, a: &Operand, b: &Operand) {
        if let (Operand::Path(x), Operand::Path(y)) = (a, b)
            && x == y
        {
            self.found.add(
                prio::DISTINCT,
                format!(
                    "The first operand must be distinct from the remaining operands for this operator or function; operator: {op}, first operand: {}",
                    x.aws_list()
                ),
            );
        }
    }

    /// `<`, `<=`, `>`, `>=` and BETWEEN order strings, numbers and binaries only. An operand
    /// whose type is known here (a value, `size`) and is another type makes the expression
    /// invalid, where a stored attribute of another type only makes the comparison false.
    /// Returns whether every operand may be ordered.
    fn ordered_operands<const N: usize>(&mut self, op: &str, operands: [&Operand; N]) -> bool {
        for o in operands {
            if let Some(t) = static_type(o)
                && !matches!(t, "S" | "N" | "B")
            {
                self.operand_type(op, t);
                return false;
            }
        }
        true
    }

    fn between_bounds(&mut self, lo: &Operand, hi: &Operand) {
        let (Operand::Value(l), Operand::Value(h)) = (lo, hi) else {
            return;
        };
        let detail = || {
            format!(
                "lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                value_brief(l),
                value_brief(h)
            )
        };
        if l.type_name() != h.type_name() {
            self.found.add(
                prio::TYPE,
                format!(
                    "The BETWEEN operator requires same data type for lower and upper bounds; {}",
                    detail()
                ),
            );
        } else if compare(l, h) == Some(std::cmp::Ordering::Greater) {
            self.found.add(
                prio::TYPE,
                format!(
                    "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; {}",
                    detail()
                ),
            );
        }
    }

    /// An operand in a comparison, BETWEEN, IN, or function argument: only `size` may be a
    /// function here.
    fn operand(&mut self, raw: &RawOperand) -> Option<Operand> {
        match raw {
            RawOperand::Path(elems) => {
                resolve_path(elems, self.p, &mut self.found, prio::RESERVED).map(Operand::Path)
            }
            RawOperand::ValueRef(r) => {
                resolve_value(r, self.p, &mut self.found).map(Operand::Value)
            }
            RawOperand::Call(name, args) => {
                if name == "size" {
                    let args: Vec<Option<Operand>> = args.iter().map(|a| self.operand(a)).collect();
                    if args.len() != 1 {
                        self.operand_count(name, args.len());
                        return None;
                    }
                    let arg = args.into_iter().next().flatten()?;
                    if let Some(t @ ("N" | "BOOL" | "NULL")) = static_type(&arg) {
                        self.operand_type(name, t);
                    }
                    Some(Operand::Size(Box::new(arg)))
                } else {
                    if !self.known_function(name) {
                        return None;
                    }
                    self.found.add(
                        prio::MISUSED_FUNCTION,
                        format!(
                            "The function is not allowed to be used this way in an expression; function: {name}"
                        ),
                    );
                    for a in args {
                        self.operand(a);
                    }
                    None
                }
            }
        }
    }

    /// Records an unknown or update-only function; true if it is a condition function.
    fn known_function(&mut self, name: &str) -> bool {
        if CONDITION_FUNCTIONS.iter().any(|(n, _)| *n == name) {
            return true;
        }
        if UPDATE_FUNCTIONS.contains(&name) {
            self.found.add(
                prio::UNKNOWN_FUNCTION,
                format!("The function is not allowed in a condition expression; function: {name}"),
            );
        } else {
            self.found.add(
                prio::UNKNOWN_FUNCTION,
                format!("Invalid function name; function: {name}"),
            );
        }
        false
    }

    fn operand_count(&mut self, name: &str, n: usize) {
        self.found.add(
            prio::OPERAND_COUNT,
            format!(
                "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {n}"
            ),
        );
    }

    fn operand_type(&mut self, name: &str, t: &str) {
        self.found.add(
            prio::TYPE,
            format!(
                "Incorrect operand type for operator or function; operator or function: {name}, operand type: {t}"
            ),
        );
    }

    fn function_condition(&mut self, name: &str, raw_args: &[RawOperand]) -> Option<Condition> {
        if !self.known_function(name) {
            for a in raw_args {
                self.operand(a);
            }
            return None;
        }
        if name == "size" {
            self.found.add(
                prio::MISUSED_FUNCTION,
                "The function is not allowed to be used this way in an expression; function: size",
            );
            return None;
        }
        let args: Vec<Option<Operand>> = raw_args.iter().map(|a| self.operand(a)).collect();
        let arity = CONDITION_FUNCTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, a)| *a);
        if args.len() != arity {
            self.operand_count(name, args.len());
            return None;
        }
        let args: Vec<Operand> = args.into_iter().collect::<Option<_>>()?;
        let mut it = args.into_iter();
        let first = it.next()?;
        let second = it.next();
        if let Some(second) = &second {
            self.distinct(name, &first, second);
        }
        match (name, second) {
            ("attribute_exists" | "attribute_not_exists", None) => {
                let Operand::Path(path) = first else {
                    self.found.add(
                        prio::TYPE,
                        format!(
                            "Operator or function requires a document path; operator or function: {name}"
                        ),
                    );
                    return None;
                };
                Some(if name == "attribute_exists" {
                    Condition::AttributeExists(path)
                } else {
                    Condition::AttributeNotExists(path)
                })
            }
            ("attribute_type", Some(t)) => {
                match &t {
                    Operand::Value(AttributeValue::S(s)) => {
                        if !TYPE_NAMES.contains(&s.as_str()) {
                            self.found.add(
                                prio::TYPE,
                                format!(
                                    "Invalid attribute type name found; type: {s}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                                ),
                            );
                        }
                    }
                    other => {
                        let t = static_type(other).unwrap_or("{NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
                        self.operand_type(name, t);
                    }
                }
                Some(Condition::AttributeType(first, t))
            }
            ("begins_with", Some(prefix)) => {
                for o in [&first, &prefix] {
                    if let Some(t) = static_type(o).filter(|t| *t != "S" && *t != "B") {
                        self.operand_type(name, t);
                        break;
                    }
                }
                Some(Condition::BeginsWith(first, prefix))
            }
            ("contains", Some(x)) => Some(Condition::Contains(first, x)),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/// DynamoDB's order for two values of the same orderable type (S, N, B); `None` otherwise.
pub(crate) fn compare(a: &AttributeValue, b: &AttributeValue) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// `size()` of a value, if its type has one.
pub(crate) fn size_of(v: &AttributeValue) -> Option<usize> {
    match v {
        AttributeValue::S(s) => Some(s.encode_utf16().count()),
        AttributeValue::B(b) => Some(b.len()),
        AttributeValue::Ss(x) => Some(x.len()),
        AttributeValue::Ns(x) => Some(x.len()),
        AttributeValue::Bs(x) => Some(x.len()),
        AttributeValue::L(x) => Some(x.len()),
        AttributeValue::M(x) => Some(x.len()),
        _ => None,
    }
}

/// `contains(haystack, needle)`.
pub(crate) fn contains(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (haystack, needle) {
        (V::S(h), V::S(n)) => h.contains(n.as_str()),
        (V::B(h), V::B(n)) => n.is_empty() || h.windows(n.len()).any(|w| w == n.as_slice()),
        (V::Ss(h), V::S(n)) => h.contains(n),
        (V::Ns(h), V::N(n)) => h.contains(n),
        (V::Bs(h), V::B(n)) => h.contains(n),
        (V::L(h), n) => h.contains(n),
        _ => false,
    }
}

/// `begins_with(value, prefix)`.
pub(crate) fn begins_with(value: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (value, prefix) {
        (AttributeValue::S(v), AttributeValue::S(p)) => v.starts_with(p.as_str()),
        (AttributeValue::B(v), AttributeValue::B(p)) => v.starts_with(p),
        _ => false,
    }
}

impl Operand {
    /// The operand's value for `item`; `None` when a path does not exist (or `size` of a type
    /// without a size).
    pub fn value(&self, item: &Item) -> Option<AttributeValue> {
        match self {
            Operand::Path(p) => p.resolve(item).cloned(),
            Operand::Value(v) => Some(v.clone()),
            Operand::Size(o) => {
                let n = size_of(&o.value(item)?)?;
                let n = i64::try_from(n).ok()?;
                Some(AttributeValue::N(crate::number::Number::from(n)))
            }
        }
    }

    fn collect_attributes(&self, out: &mut BTreeSet<String>) {
        match self {
            Operand::Path(p) => {
                out.insert(p.top_level().to_owned());
            }
            Operand::Value(_) => {}
            Operand::Size(o) => o.collect_attributes(out),
        }
    }

    fn print(&self, pr: &mut Printer) -> String {
        match self {
            Operand::Path(p) => pr.path(p),
            Operand::Value(v) => pr.value(v),
            Operand::Size(o) => format!("size({})", o.print(pr)),
        }
    }
}

impl Condition {
    /// Evaluates the condition against `item` (an absent item is the empty item).
    pub fn eval(&self, item: &Item) -> Result<bool, ExprError> {
        Ok(self.holds(item))
    }

    fn holds(&self, item: &Item) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Condition::Compare(l, op, r) => {
                let (l, r) = (l.value(item), r.value(item));
                match (op, l, r) {
                    (CmpOp::Eq, Some(l), Some(r)) => l == r,
                    (CmpOp::Ne, Some(l), Some(r)) => l != r,
                    (CmpOp::Ne, _, _) => true,
                    (CmpOp::Eq, _, _) => false,
                    (op, Some(l), Some(r)) => match compare(&l, &r) {
                        Some(o) => match op {
                            CmpOp::Lt => o == Less,
                            CmpOp::Le => o != Greater,
                            CmpOp::Gt => o == Greater,
                            CmpOp::Ge => o != Less,
                            CmpOp::Eq => o == Equal,
                            CmpOp::Ne => o != Equal,
                        },
                        None => false,
                    },
                    _ => false,
                }
            }
            Condition::Between(x, lo, hi) => {
                match (x.value(item), lo.value(item), hi.value(item)) {
                    (Some(x), Some(lo), Some(hi)) => {
                        compare(&x, &lo).is_some_and(|o| o != Less)
                            && compare(&x, &hi).is_some_and(|o| o != Greater)
                    }
                    _ => false,
                }
            }
            Condition::In(x, list) => match x.value(item) {
                Some(x) => list.iter().any(|o| o.value(item).is_some_and(|v| v == x)),
                None => false,
            },
            Condition::And(members) => members.iter().all(|m| m.holds(item)),
            Condition::Or(members) => members.iter().any(|m| m.holds(item)),
            Condition::Not(a) => !a.holds(item),
            Condition::AttributeExists(p) => p.resolve(item).is_some(),
            Condition::AttributeNotExists(p) => p.resolve(item).is_none(),
            Condition::AttributeType(x, t) => match (x.value(item), t.value(item)) {
                (Some(v), Some(AttributeValue::S(t))) => v.type_name() == t,
                _ => false,
            },
            Condition::BeginsWith(x, p) => match (x.value(item), p.value(item)) {
                (Some(v), Some(p)) => begins_with(&v, &p),
                _ => false,
            },
            Condition::Contains(x, n) => match (x.value(item), n.value(item)) {
                (Some(h), Some(n)) => contains(&h, &n),
                _ => false,
            },
        }
    }

    /// The top-level attribute names the condition reads.
    pub fn top_level_attributes(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut BTreeSet<String>) {
        match self {
            Condition::Compare(a, _, b)
            | Condition::AttributeType(a, b)
            | Condition::BeginsWith(a, b)
            | Condition::Contains(a, b) => {
                a.collect_attributes(out);
                b.collect_attributes(out);
            }
            Condition::Between(a, b, c) => {
                for o in [a, b, c] {
                    o.collect_attributes(out);
                }
            }
            Condition::In(a, list) => {
                a.collect_attributes(out);
                for o in list {
                    o.collect_attributes(out);
                }
            }
            Condition::And(members) | Condition::Or(members) => {
                for m in members {
                    m.collect(out);
                }
            }
            Condition::Not(a) => a.collect(out),
            Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => {
                out.insert(p.top_level().to_owned());
            }
        }
    }

    /// The condition as expression text with `#nN`/`:vN` placeholders; parsing it back with
    /// those placeholders gives an equal condition.
    pub fn to_expression(&self) -> Printed {
        let mut pr = Printer::default();
        let text = self.print(&mut pr);
        pr.finish(text)
    }

    fn print(&self, pr: &mut Printer) -> String {
        let group = |c: &Condition, pr: &mut Printer| match c {
            Condition::And(..) | Condition::Or(..) | Condition::Not(..) => {
                format!("({})", c.print(pr))
            }
            _ => c.print(pr),
        };
        match self {
            Condition::Compare(l, op, r) => {
                let l = l.print(pr);
                format!("{l} {} {}", op.text(), r.print(pr))
            }
            Condition::Between(x, lo, hi) => {
                let x = x.print(pr);
                let lo = lo.print(pr);
                format!("{x} BETWEEN {lo} AND {}", hi.print(pr))
            }
            Condition::In(x, list) => {
                let x = x.print(pr);
                let items: Vec<String> = list.iter().map(|o| o.print(pr)).collect();
                format!("{x} IN ({})", items.join(", "))
            }
            Condition::And(members) | Condition::Or(members) => {
                let separator = if matches!(self, Condition::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let parts: Vec<String> = members.iter().map(|m| group(m, pr)).collect();
                parts.join(separator)
            }
            Condition::Not(a) => format!("NOT {}", group(a, pr)),
            Condition::AttributeExists(p) => format!("attribute_exists({})", pr.path(p)),
            Condition::AttributeNotExists(p) => format!("attribute_not_exists({})", pr.path(p)),
            Condition::AttributeType(a, b) => {
                let a = a.print(pr);
                format!("attribute_type({a}, {})", b.print(pr))
            }
            Condition::BeginsWith(a, b) => {
                let a = a.print(pr);
                format!("begins_with({a}, {})", b.print(pr))
            }
            Condition::Contains(a, b) => {
                let a = a.print(pr);
                format!("contains({a}, {})", b.print(pr))
            }
        }
    }
}

/// The expression text with placeholders (see [`Condition::to_expression`]).
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_expression().expression)
    }
}
