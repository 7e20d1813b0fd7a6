//! The `Condition` element: every operator, the `...IfExists` forms and the `ForAllValues:` /
//! `ForAnyValue:` set qualifiers, compiled once and evaluated against a [`Context`].
//!
//! Semantics, with their sources (IAM User Guide):
//! - "Condition operators": a key absent from the request makes the condition false, except
//!   for negated operators (`StringNotEquals`, `StringNotLike`, `ArnNotLike`, ...), for which it
//!   is true; `...IfExists` makes an absent key true; `Null` tests presence.
//! - "Creating a condition with multiple keys or values" / "Condition element": several keys in
//!   one block are AND-ed, several values for one key are OR-ed; for a negated operator the
//!   result is the negation of the OR (the key must match none of the values).
//! - "Single-valued vs. multivalued context keys" and "Multivalued context key examples":
//!   `ForAllValues` is true when every request value satisfies the operator, and also when the
//!   key is absent or its value set is empty; `ForAnyValue` is true when at least one request
//!   value satisfies it, and false when the key is absent or empty. With a negated operator
//!   the test is applied per request value (`ForAllValues:StringNotLike` = no request value
//!   matches any policy value).
//! - Without a qualifier, an operator on a multivalued key (one the request context holds as
//!   a list: `aws:TagKeys`, `dynamodb:Attributes`, `dynamodb:LeadingKeys`, a `stringList`
//!   simulation entry) never matches, whatever the values and however many there are, for
//!   negated operators and `...IfExists` too. The guide only says such keys "require a
//!   condition set operator"; AWS's evaluation was observed to treat a bare `StringEquals` on
//!   `dynamodb:Attributes` as never matching, so a `Deny` written that way protects nothing
//!   and an `Allow` grants nothing. Rampart does the same rather than guess a set reading
//!   (which would let an `Allow` grant more than AWS does). An absent key or an empty list
//!   keeps the absent-key rules below.
//!
//! Errors: a policy value or a request value that cannot be read for its operator (a date
//! that is not a date, an IP that is not an address) makes the condition an error, which the
//! evaluator treats fail-closed (an erroring Deny applies, an erroring Allow does not). OR and
//! AND give the same result whatever the order: a true member makes an OR true and a false
//! member makes an AND false even beside an error.
//!
//! INVARIANT: key names are lowercase here and in the [`Context`]; operator names are matched
//! exactly as AWS spells them.

use std::cmp::Ordering;
use std::net::IpAddr;
use std::str::FromStr;

use base64::Engine as _;
use ipnet::IpNet;

use super::context::{ContextValue, Key};
use super::pattern::{ArnPat, LikePat, SplitArn, Template, TextPat, Unresolved, Vars};
use super::slot::Slot;
use super::time::{self, Instant};

/// The base operators (without qualifier or `IfExists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Op {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "StringEquals" => Self::StringEquals,
            "StringNotEquals" => Self::StringNotEquals,
            "StringEqualsIgnoreCase" => Self::StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => Self::StringNotEqualsIgnoreCase,
            "StringLike" => Self::StringLike,
            "StringNotLike" => Self::StringNotLike,
            "NumericEquals" => Self::NumericEquals,
            "NumericNotEquals" => Self::NumericNotEquals,
            "NumericLessThan" => Self::NumericLessThan,
            "NumericLessThanEquals" => Self::NumericLessThanEquals,
            "NumericGreaterThan" => Self::NumericGreaterThan,
            "NumericGreaterThanEquals" => Self::NumericGreaterThanEquals,
            "DateEquals" => Self::DateEquals,
            "DateNotEquals" => Self::DateNotEquals,
            "DateLessThan" => Self::DateLessThan,
            "DateLessThanEquals" => Self::DateLessThanEquals,
            "DateGreaterThan" => Self::DateGreaterThan,
            "DateGreaterThanEquals" => Self::DateGreaterThanEquals,
            "Bool" => Self::Bool,
            "BinaryEquals" => Self::BinaryEquals,
            "IpAddress" => Self::IpAddress,
            "NotIpAddress" => Self::NotIpAddress,
            "ArnEquals" => Self::ArnEquals,
            "ArnLike" => Self::ArnLike,
            "ArnNotEquals" => Self::ArnNotEquals,
            "ArnNotLike" => Self::ArnNotLike,
            "Null" => Self::Null,
            _ => return None,
        })
    }

    /// Negated operators: true when the key is absent, and true when no policy value matches.
    fn negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::NumericNotEquals
                | Self::DateNotEquals
                | Self::NotIpAddress
                | Self::ArnNotEquals
                | Self::ArnNotLike
        )
    }

    /// The ordering a numeric or date comparison accepts (request value compared to policy
    /// value), for the non-negated form.
    fn accepts(self, ord: Ordering) -> bool {
        match self {
            Self::NumericLessThan | Self::DateLessThan => ord == Ordering::Less,
            Self::NumericLessThanEquals | Self::DateLessThanEquals => ord != Ordering::Greater,
            Self::NumericGreaterThan | Self::DateGreaterThan => ord == Ordering::Greater,
            Self::NumericGreaterThanEquals | Self::DateGreaterThanEquals => ord != Ordering::Less,
            // Equals and NotEquals (negated afterwards).
            _ => ord == Ordering::Equal,
        }
    }
}

/// A set qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qualifier {
    None,
    ForAllValues,
    ForAnyValue,
}

/// A parsed operator name: `[ForAllValues:|ForAnyValue:]Base[IfExists]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    pub(crate) op: Op,
    pub(crate) qualifier: Qualifier,
    pub(crate) if_exists: bool,
}

impl Operator {
    /// Parses an operator name; `None` for an unknown one. `IfExists` is allowed on every
    /// operator but `Null` ("Condition operators", `...IfExists`).
    pub(crate) fn parse(name: &str) -> Option<Self> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Qualifier::ForAllValues, r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Qualifier::ForAnyValue, r)
        } else {
            (Qualifier::None, name)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let op = Op::from_name(base)?;
        if op == Op::Null && if_exists {
            return None;
        }
        Some(Self {
            op,
            qualifier,
            if_exists,
        })
    }

    /// Whether the operator compares dates (their values are checked when the policy is
    /// parsed, as IAM's "legacy" parser does).
    pub(crate) fn is_date(&self) -> bool {
        matches!(
            self.op,
            Op::DateEquals
                | Op::DateNotEquals
                | Op::DateLessThan
                | Op::DateLessThanEquals
                | Op::DateGreaterThan
                | Op::DateGreaterThanEquals
        )
    }
}

/// An exact decimal number (no exponent), for the `Numeric*` operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decimal {
    neg: bool,
    /// Integer digits without leading zeros.
    int: String,
    /// Fraction digits without trailing zeros.
    frac: String,
}

impl Decimal {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
            return None;
        }
        let int = int.trim_start_matches('0').to_owned();
        let frac = frac.trim_end_matches('0').to_owned();
        let zero = int.is_empty() && frac.is_empty();
        Some(Self {
            neg: neg && !zero,
            int,
            frac,
        })
    }

    fn cmp_abs(&self, other: &Self) -> Ordering {
        self.int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(&other.int))
            .then_with(|| self.frac.cmp(&other.frac))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_abs(other),
            (true, true) => other.cmp_abs(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One policy value, compiled for its operator. `None` payloads are values the operator
/// cannot read: comparing with them is an evaluation error.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CondValue {
    /// `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`, ..., `Bool`.
    Text(TextPat),
    /// `StringLike`, `StringNotLike`.
    Like(LikePat),
    /// The `Arn*` operators (matched per ARN part).
    Arn(ArnPat),
    Number(Option<Decimal>),
    Date(Option<Instant>),
    Binary(Option<Vec<u8>>),
    Ip(Option<Cidr>),
    Null(Option<bool>),
}

/// One key of one operator block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub(crate) operator: Operator,
    /// The operator as written, for explanations.
    pub(crate) operator_name: String,
    /// The key.
    pub(crate) key: Key,
    /// The key's position in [`Policy::keys`](super::Policy), set when the policy is compiled.
    pub(crate) slot: usize,
    /// Where an evaluation keeps this condition's result when the policy has it in several
    /// statements (written identically: same operator, key and values), set when the policy
    /// is compiled; [`NOT_SHARED`] for a condition written once.
    pub(crate) shared: usize,
    pub(crate) values: Vec<CondValue>,
    /// The values as written, for explanations.
    pub(crate) raw_values: Vec<String>,
}

/// [`Condition::shared`] of a condition written once in its policy.
pub(crate) const NOT_SHARED: usize = usize::MAX;

/// Why a condition could not be decided (borrowed: the evaluator copies what it reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CondError<'a> {
    /// A variable without value: its key.
    Unresolved(&'a Key),
    /// The policy value at this position cannot be read by the operator.
    PolicyValue(usize),
    /// The request value cannot be read by the operator.
    ContextValue(&'a str),
}

impl Condition {
    /// Compiles one key's values. `substitute`: policy variables are on (language version
    /// 2012-10-17).
    pub(crate) fn compile(
        operator: Operator,
        operator_name: &str,
        key: &str,
        raw_values: Vec<String>,
        substitute: bool,
    ) -> Self {
        let values = raw_values
            .iter()
            .map(|raw| compile_value(operator.op, raw, substitute))
            .collect();
        Self {
            operator,
            operator_name: operator_name.to_owned(),
            key: Key::new(key),
            slot: 0,
            shared: NOT_SHARED,
            values,
            raw_values,
        }
    }

    /// What makes two conditions of one policy the same: the operator as written, the key
    /// (case-insensitive) and the values as written. The policy's language version, which
    /// decides whether variables are substituted, is the same for all.
    pub(crate) fn identity(&self) -> (&str, &str, &[String]) {
        (&self.operator_name, self.key.name(), &self.raw_values)
    }

    /// The templates of the policy values (to number their variables).
    pub(crate) fn templates_mut(&mut self) -> impl Iterator<Item = &mut Template> {
        self.values.iter_mut().filter_map(|v| match v {
            CondValue::Text(t) => t.template_mut(),
            CondValue::Like(t) => t.template_mut(),
            CondValue::Arn(t) => t.template_mut(),
            CondValue::Number(_)
            | CondValue::Date(_)
            | CondValue::Binary(_)
            | CondValue::Ip(_)
            | CondValue::Null(_) => None,
        })
    }

    /// Evaluates the condition; `slot` holds the key's value in the request (looked up once
    /// per policy, parsed once per operator family), `vars` serves policy variables.
    pub(crate) fn eval<'a>(
        &'a self,
        slot: &'a Slot<'a>,
        vars: &'a (impl Vars + ?Sized),
    ) -> Result<bool, CondError<'a>> {
        let present = slot.value().map(|v| v.values()).filter(|v| !v.is_empty());
        let Operator {
            op,
            qualifier,
            if_exists,
        } = self.operator;
        if op == Op::Null {
            let is_null = present.is_none();
            return any_of(self.values.iter().enumerate().map(|(i, v)| match v {
                CondValue::Null(Some(b)) => Ok(*b == is_null),
                _ => Err(CondError::PolicyValue(i)),
            }));
        }
        let negated = op.negated();
        let Some(request_values) = present else {
            // Absent key (or an empty value set).
            return Ok(match (qualifier, if_exists) {
                (Qualifier::ForAllValues, _) | (_, true) => true,
                (Qualifier::ForAnyValue, false) => false,
                (Qualifier::None, false) => negated,
            });
        };
        if qualifier == Qualifier::None && matches!(slot.value(), Some(ContextValue::Multi(_))) {
            // A single-valued operator on a multivalued key: never a match (module doc).
            return Ok(false);
        }
        // ForAllValues: every request value must pass; otherwise (ForAnyValue, or the one
        // value of a single-valued key) one suffices.
        let every = qualifier == Qualifier::ForAllValues;
        let q = Quantifier { negated, every };
        let unresolved = |u: Unresolved<'a>| CondError::Unresolved(u.0);
        // One loop per operator family (rather than one loop testing the operator per value),
        // so that each is a small loop of its own.
        match op {
            Op::StringEquals | Op::StringNotEquals => q.over(request_values, |_, v| {
                self.any_value(|i, pv| match pv {
                    CondValue::Text(t) => t.equals(v, vars).map_err(unresolved),
                    _ => Err(CondError::PolicyValue(i)),
                })
            }),
            Op::StringEqualsIgnoreCase | Op::StringNotEqualsIgnoreCase => {
                q.over(request_values, |_, v| {
                    self.any_value(|i, pv| match pv {
                        CondValue::Text(t) => {
                            Ok(eq_ignore_case(&t.get(vars).map_err(unresolved)?, v))
                        }
                        _ => Err(CondError::PolicyValue(i)),
                    })
                })
            }
            Op::Bool => q.over(request_values, |_, v| {
                let b = parse_bool(v).ok_or(CondError::ContextValue(v))?;
                self.any_value(|i, pv| match pv {
                    CondValue::Text(t) => {
                        let p = t.get(vars).map_err(unresolved)?;
                        Ok(parse_bool(&p).ok_or(CondError::PolicyValue(i))? == b)
                    }
                    _ => Err(CondError::PolicyValue(i)),
                })
            }),
            Op::StringLike | Op::StringNotLike => q.over(request_values, |_, v| {
                self.any_value(|i, pv| match pv {
                    CondValue::Like(g) => g.matches(v, vars).map_err(unresolved),
                    _ => Err(CondError::PolicyValue(i)),
                })
            }),
            Op::ArnEquals | Op::ArnLike | Op::ArnNotEquals | Op::ArnNotLike => {
                q.over(request_values, |_, v| {
                    let arn = SplitArn::new(v);
                    self.any_value(|i, pv| match pv {
                        CondValue::Arn(g) => g.matches(&arn, vars).map_err(unresolved),
                        _ => Err(CondError::PolicyValue(i)),
                    })
                })
            }
            Op::NumericEquals
            | Op::NumericNotEquals
            | Op::NumericLessThan
            | Op::NumericLessThanEquals
            | Op::NumericGreaterThan
            | Op::NumericGreaterThanEquals => q.over(request_values, |nth, v| {
                let r = slot.number(nth, v).ok_or(CondError::ContextValue(v))?;
                self.any_value(|i, pv| match pv {
                    CondValue::Number(Some(p)) => Ok(op.accepts((*r).cmp(p))),
                    _ => Err(CondError::PolicyValue(i)),
                })
            }),
            Op::DateEquals
            | Op::DateNotEquals
            | Op::DateLessThan
            | Op::DateLessThanEquals
            | Op::DateGreaterThan
            | Op::DateGreaterThanEquals => q.over(request_values, |nth, v| {
                let r = slot.date(nth, v).ok_or(CondError::ContextValue(v))?;
                self.any_value(|i, pv| match pv {
                    CondValue::Date(Some(p)) => Ok(op.accepts(r.cmp(p))),
                    _ => Err(CondError::PolicyValue(i)),
                })
            }),
            Op::BinaryEquals => q.over(request_values, |nth, v| {
                let r = slot.binary(nth, v).ok_or(CondError::ContextValue(v))?;
                self.any_value(|i, pv| match pv {
                    CondValue::Binary(Some(p)) => Ok(**p == *r),
                    _ => Err(CondError::PolicyValue(i)),
                })
            }),
            Op::IpAddress | Op::NotIpAddress => q.over(request_values, |nth, v| {
                let r = slot.ip(nth, v).ok_or(CondError::ContextValue(v))?;
                self.any_value(|i, pv| match pv {
                    CondValue::Ip(Some(net)) => Ok(net.contains(r)),
                    _ => Err(CondError::PolicyValue(i)),
                })
            }),
            // Handled above: presence only.
            Op::Null => Ok(false),
        }
    }

    /// OR over the policy values, in a plain loop (see [`any_of`] for the rule).
    #[inline]
    fn any_value<'a>(
        &'a self,
        mut test: impl FnMut(usize, &'a CondValue) -> Result<bool, CondError<'a>>,
    ) -> Result<bool, CondError<'a>> {
        let mut err = None;
        for (i, pv) in self.values.iter().enumerate() {
            match test(i, pv) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(e) => {
                    err.get_or_insert(e);
                }
            }
        }
        err.map_or(Ok(false), Err)
    }

    /// The policy value at `i` as written, for explanations.
    pub(crate) fn raw_value(&self, i: usize) -> &str {
        self.raw_values.get(i).map_or("", String::as_str)
    }
}

/// How the request values of a key combine: `negated` operators test "matches none of the
/// policy values"; `every` request value must pass (`ForAllValues`, and a negated operator
/// without qualifier), or at least one.
#[derive(Debug, Clone, Copy)]
struct Quantifier {
    negated: bool,
    every: bool,
}

impl Quantifier {
    /// Combines `matches_any` (whether request value `nth`, `v`, matches at least one policy
    /// value under the base operator) over the request values. The deciding member wins over
    /// errors (see the module doc: the result does not depend on order).
    #[inline]
    fn over<'a>(
        self,
        request_values: &'a [String],
        mut matches_any: impl FnMut(usize, &'a str) -> Result<bool, CondError<'a>>,
    ) -> Result<bool, CondError<'a>> {
        let mut err = None;
        for (nth, v) in request_values.iter().enumerate() {
            match matches_any(nth, v) {
                Ok(m) if (m != self.negated) != self.every => return Ok(!self.every),
                Ok(_) => {}
                Err(e) => {
                    err.get_or_insert(e);
                }
            }
        }
        err.map_or(Ok(self.every), Err)
    }
}

fn compile_value(op: Op, raw: &str, substitute: bool) -> CondValue {
    match op {
        // Variables work with the string, ARN and Bool operators ("Condition operators";
        // "Variables and tags", Condition element), and with no other.
        Op::StringEquals
        | Op::StringNotEquals
        | Op::StringEqualsIgnoreCase
        | Op::StringNotEqualsIgnoreCase
        | Op::Bool => CondValue::Text(TextPat::new(Template::parse(raw, substitute))),
        Op::StringLike | Op::StringNotLike => {
            CondValue::Like(LikePat::new(Template::parse(raw, substitute)))
        }
        Op::ArnEquals | Op::ArnLike | Op::ArnNotEquals | Op::ArnNotLike => {
            CondValue::Arn(ArnPat::new(Template::parse(raw, substitute)))
        }
        Op::NumericEquals
        | Op::NumericNotEquals
        | Op::NumericLessThan
        | Op::NumericLessThanEquals
        | Op::NumericGreaterThan
        | Op::NumericGreaterThanEquals => CondValue::Number(Decimal::parse(raw)),
        Op::DateEquals
        | Op::DateNotEquals
        | Op::DateLessThan
        | Op::DateLessThanEquals
        | Op::DateGreaterThan
        | Op::DateGreaterThanEquals => CondValue::Date(time::parse(raw)),
        Op::BinaryEquals => CondValue::Binary(decode_base64(raw)),
        Op::IpAddress | Op::NotIpAddress => CondValue::Ip(parse_net(raw).map(Cidr::new)),
        Op::Null => CondValue::Null(parse_bool(raw)),
    }
}

/// A CIDR block, or one address (IAM "uses the default prefix value of /32" for an address
/// without prefix; /128 for IPv6).
/// A CIDR block as masks, so that a containment test is an AND and a comparison (the test
/// `IpNet::contains` makes, without its call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    v6: bool,
    /// The network address (host bits clear).
    network: u128,
    mask: u128,
}

impl Cidr {
    fn new(net: IpNet) -> Self {
        match net {
            IpNet::V4(n) => Self {
                v6: false,
                network: u128::from(u32::from(n.network())),
                mask: u128::from(u32::from(n.netmask())),
            },
            IpNet::V6(n) => Self {
                v6: true,
                network: u128::from(n.network()),
                mask: u128::from(n.netmask()),
            },
        }
    }

    /// Whether the block holds `ip` (an address of the other family is not in it).
    fn contains(&self, ip: IpAddr) -> bool {
        let (v6, bits) = match ip {
            IpAddr::V4(a) => (false, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, u128::from(a)),
        };
        v6 == self.v6 && bits & self.mask == self.network
    }
}

fn parse_net(raw: &str) -> Option<IpNet> {
    let raw = raw.trim();
    if let Ok(net) = IpNet::from_str(raw) {
        return Some(net);
    }
    IpAddr::from_str(raw)
        .ok()
        .map(|a| IpNet::from(a.to_canonical()))
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A request value as an address, for the `IpAddress` operators (an IPv4-mapped IPv6 address
/// is the IPv4 address).
pub(crate) fn parse_request_ip(v: &str) -> Option<IpAddr> {
    IpAddr::from_str(v.trim()).ok().map(|a| a.to_canonical())
}

pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    // ASCII letters fold to one ASCII letter each: the same answer without decoding.
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// OR that does not depend on order: any true member makes it true, else any error is the
/// result, else false.
pub(crate) fn any_of<E>(items: impl Iterator<Item = Result<bool, E>>) -> Result<bool, E> {
    let mut err = None;
    for item in items {
        match item {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) => {
                err.get_or_insert(e);
            }
        }
    }
    err.map_or(Ok(false), Err)
}

#[cfg(test)]
mod tests {
    use super::super::context::Context;
    use super::*;

    impl Condition {
        fn eval_in(&self, ctx: &Context) -> Result<bool, String> {
            self.eval(&Slot::new(ctx.get_key(&self.key)), ctx)
                .map_err(|e| format!("{e:?}"))
        }
    }

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        let operator = Operator::parse(op).unwrap();
        Condition::compile(
            operator,
            op,
            key,
            values.iter().map(|s| (*s).to_owned()).collect(),
            true,
        )
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::new();
        for (k, vs) in pairs {
            if vs.len() == 1 {
                c.set(k, vs[0]);
            } else {
                c.set_multi(k, vs.iter().copied());
            }
        }
        c
    }

    #[test]
    fn operator_names_parse_with_qualifiers_and_if_exists() {
        let o = Operator::parse("ForAllValues:StringEqualsIfExists").unwrap();
        assert_eq!(
            (o.op, o.qualifier, o.if_exists),
            (Op::StringEquals, Qualifier::ForAllValues, true)
        );
        assert!(Operator::parse("StringEqualsX").is_none());
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("ForAllValues:ForAnyValue:StringEquals").is_none());
    }

    #[test]
    fn absent_key_is_false_for_positive_and_true_for_negated_operators() {
        let empty = Context::new();
        assert_eq!(
            cond("StringEquals", "k:x", &["a"]).eval_in(&empty),
            Ok(false)
        );
        assert_eq!(
            cond("StringNotEquals", "k:x", &["a"]).eval_in(&empty),
            Ok(true)
        );
        assert_eq!(
            cond("StringNotLike", "k:x", &["a*"]).eval_in(&empty),
            Ok(true)
        );
        assert_eq!(cond("ArnNotLike", "k:x", &["a*"]).eval_in(&empty), Ok(true));
        assert_eq!(
            cond("StringEqualsIfExists", "k:x", &["a"]).eval_in(&empty),
            Ok(true)
        );
        assert_eq!(
            cond("NumericLessThan", "k:x", &["1"]).eval_in(&empty),
            Ok(false)
        );
    }

    #[test]
    fn set_qualifiers_follow_the_documented_empty_and_absent_rules() {
        let empty = Context::new();
        let empty_set = ctx(&[]).clone();
        assert_eq!(
            cond("ForAllValues:StringEquals", "k:x", &["a"]).eval_in(&empty),
            Ok(true)
        );
        assert_eq!(
            cond("ForAnyValue:StringEquals", "k:x", &["a"]).eval_in(&empty),
            Ok(false)
        );
        let mut e = empty_set;
        e.set_multi("k:x", Vec::<String>::new());
        assert_eq!(
            cond("ForAllValues:StringEquals", "k:x", &["a"]).eval_in(&e),
            Ok(true)
        );
        assert_eq!(
            cond("ForAnyValue:StringEquals", "k:x", &["a"]).eval_in(&e),
            Ok(false)
        );
        let c = ctx(&[("k:x", &["a", "b"])]);
        assert_eq!(
            cond("ForAllValues:StringEquals", "k:x", &["a", "b", "c"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("ForAllValues:StringEquals", "k:x", &["a"]).eval_in(&c),
            Ok(false)
        );
        assert_eq!(
            cond("ForAnyValue:StringEquals", "k:x", &["b"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("ForAnyValue:StringNotEquals", "k:x", &["a"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("ForAllValues:StringNotEquals", "k:x", &["a"]).eval_in(&c),
            Ok(false)
        );
    }

    #[test]
    fn an_unqualified_operator_on_a_multivalued_key_never_matches() {
        let mut one = Context::new();
        one.set_multi("dynamodb:attributes", ["ssn"]);
        let two = ctx(&[("dynamodb:attributes", &["ssn", "name"])]);
        for c in [&one, &two] {
            for (op, values) in [
                ("StringEquals", &["ssn", "name"][..]),
                ("StringLike", &["*"][..]),
                ("StringNotEquals", &["other"][..]),
                ("StringNotLike", &["x*"][..]),
                ("StringEqualsIfExists", &["ssn", "name"][..]),
            ] {
                assert_eq!(
                    cond(op, "dynamodb:Attributes", values).eval_in(c),
                    Ok(false),
                    "{op} {values:?} on {c:?}"
                );
            }
            assert_eq!(
                cond("ForAnyValue:StringEquals", "dynamodb:Attributes", &["ssn"]).eval_in(c),
                Ok(true)
            );
            assert_eq!(
                cond("Null", "dynamodb:Attributes", &["false"]).eval_in(c),
                Ok(true)
            );
        }
        // The same operators on a single-valued key compare its value.
        let single = ctx(&[("dynamodb:select", &["ALL_ATTRIBUTES"])]);
        assert_eq!(
            cond("StringEquals", "dynamodb:Select", &["ALL_ATTRIBUTES"]).eval_in(&single),
            Ok(true)
        );
        // An absent key or an empty list keeps the absent-key rules.
        let mut empty = Context::new();
        empty.set_multi("dynamodb:attributes", Vec::<String>::new());
        assert_eq!(
            cond("StringNotEquals", "dynamodb:Attributes", &["ssn"]).eval_in(&empty),
            Ok(true)
        );
        assert_eq!(
            cond("StringEquals", "dynamodb:Attributes", &["ssn"]).eval_in(&empty),
            Ok(false)
        );
    }

    #[test]
    fn negated_operator_with_several_values_is_a_nor() {
        let c = ctx(&[("aws:sourcevpce", &["vpce-2"])]);
        assert_eq!(
            cond("StringNotEquals", "aws:SourceVpce", &["vpce-1", "vpce-2"]).eval_in(&c),
            Ok(false)
        );
        assert_eq!(
            cond("StringNotEquals", "aws:SourceVpce", &["vpce-1", "vpce-3"]).eval_in(&c),
            Ok(true)
        );
    }

    #[test]
    fn numeric_dates_bool_binary_ip_and_null_compare_by_type() {
        let c = ctx(&[
            ("s3:max-keys", &["10"]),
            ("aws:currenttime", &["2020-06-01T00:00:00Z"]),
            ("aws:securetransport", &["false"]),
            ("k:bin", &["QmluYXJ5VmFsdWVJbkJhc2U2NA=="]),
            ("aws:sourceip", &["203.0.113.7"]),
        ]);
        assert_eq!(
            cond("NumericLessThanEquals", "s3:max-keys", &["10"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("NumericLessThan", "s3:max-keys", &["10.0"]).eval_in(&c),
            Ok(false)
        );
        assert_eq!(
            cond("NumericEquals", "s3:max-keys", &["010.00"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("NumericGreaterThan", "s3:max-keys", &["-3"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond(
                "DateGreaterThan",
                "aws:CurrentTime",
                &["2020-01-01T00:00:01Z"]
            )
            .eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("DateLessThan", "aws:CurrentTime", &["1577836801"]).eval_in(&c),
            Ok(false)
        );
        assert_eq!(
            cond("Bool", "aws:SecureTransport", &["false"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("BinaryEquals", "k:bin", &["QmluYXJ5VmFsdWVJbkJhc2U2NA=="]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("IpAddress", "aws:SourceIp", &["203.0.113.7"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond(
                "NotIpAddress",
                "aws:SourceIp",
                &["2001:DB8:1234:5678::/64", "10.0.0.0/8"]
            )
            .eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("Null", "aws:TokenIssueTime", &["true"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("Null", "aws:SourceIp", &["false"]).eval_in(&c),
            Ok(true)
        );
    }

    #[test]
    fn unreadable_values_are_errors_not_answers() {
        let c = ctx(&[("aws:sourceip", &["not-an-ip"]), ("n:x", &["7"])]);
        assert!(
            cond("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"])
                .eval_in(&c)
                .is_err()
        );
        assert!(
            cond("NumericEquals", "n:x", &["seven"])
                .eval_in(&c)
                .is_err()
        );
        // A matching value decides an OR even beside a broken one.
        assert_eq!(
            cond("NumericEquals", "n:x", &["seven", "7"]).eval_in(&c),
            Ok(true)
        );
    }

    #[test]
    fn ignore_case_and_like_and_arn_operators() {
        let c = ctx(&[
            ("k:s", &["ReadOnly"]),
            (
                "aws:principalarn",
                &["arn:aws:iam::123456789012:role/your-emergency-role"],
            ),
        ]);
        assert_eq!(
            cond("StringEqualsIgnoreCase", "k:s", &["readonly"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("StringEquals", "k:s", &["readonly"]).eval_in(&c),
            Ok(false)
        );
        assert_eq!(
            cond(
                "StringNotLike",
                "aws:PrincipalArn",
                &["arn:aws:iam::*:role/your-emergency-role"]
            )
            .eval_in(&c),
            Ok(false)
        );
        assert_eq!(
            cond("ArnLike", "aws:PrincipalArn", &["arn:aws:iam::*:role/*"]).eval_in(&c),
            Ok(true)
        );
        assert_eq!(
            cond("ArnEquals", "aws:PrincipalArn", &["arn:aws:iam::*"]).eval_in(&c),
            Ok(true)
        );
    }

    #[test]
    fn ignore_case_folds_ascii_and_unicode_alike() {
        let general = |a: &str, b: &str| {
            a.chars()
                .flat_map(char::to_lowercase)
                .eq(b.chars().flat_map(char::to_lowercase))
        };
        let words = [
            "ReadOnly", "readonly", "READONLY", "read0nly", "", "Σσ", "σσ", "ς", "K", "\u{212a}",
        ];
        for a in words {
            for b in words {
                assert_eq!(eq_ignore_case(a, b), general(a, b), "{a} {b}");
            }
        }
    }

    #[test]
    fn cidr_containment_is_ipnets() {
        let nets = [
            "10.0.0.0/8",
            "10.1.2.3/8",
            "0.0.0.0/0",
            "192.168.1.1",
            "192.168.1.0/31",
            "::/0",
            "::1",
            "2001:db8::/32",
            "2001:db8::1/127",
            "::ffff:10.0.0.0/104",
        ];
        let ips = [
            "10.1.2.3",
            "11.0.0.1",
            "192.168.1.1",
            "192.168.1.0",
            "192.168.1.2",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "2001:db8::",
            "2001:db8::1",
            "2001:db9::",
            "::ffff:10.1.2.3",
        ];
        for n in nets {
            let net = parse_net(n).unwrap();
            for ip in ips {
                let ip = parse_request_ip(ip).unwrap();
                assert_eq!(Cidr::new(net).contains(ip), net.contains(&ip), "{n} {ip}");
            }
        }
    }

    #[test]
    fn decimals_compare_exactly() {
        let d = |s| Decimal::parse(s).unwrap();
        assert_eq!(d("-0").cmp(&d("0.000")), Ordering::Equal);
        assert!(d("0.5") < d("0.51"));
        assert!(d("-2") < d("-1.5"));
        assert!(d("100") > d("99.999"));
        assert!(d("123456789012345678901234567890") > d("123456789012345678901234567889"));
        assert!(Decimal::parse("1e3").is_none());
        assert!(Decimal::parse(".").is_none());
    }
}
