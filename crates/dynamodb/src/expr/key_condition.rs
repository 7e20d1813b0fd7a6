//! Key-condition expressions: a condition restricted to `hash = :v [AND range-condition]`.
//!
//! The structural rules and their texts are dynalite's (`validations/index.js`,
//! `checkExpr`, recorded against DynamoDB); the schema rules ("Query condition missed key
//! schema element", "Query key condition not supported") are moto's and dynalite's.

use super::condition::{begins_with, compare};
use super::{CmpOp, Condition, ConditionKind, ExprError, Operand, Path, Placeholders};
use crate::keys::KeyType;
use crate::value::AttributeValue;

/// The sort-key part of a key condition.
#[derive(Debug, Clone, PartialEq)]
pub enum RangeCondition {
    /// `range = v`
    Eq(AttributeValue),
    /// `range < v`
    Lt(AttributeValue),
    /// `range <= v`
    Le(AttributeValue),
    /// `range > v`
    Gt(AttributeValue),
    /// `range >= v`
    Ge(AttributeValue),
    /// `range BETWEEN low AND high`
    Between(AttributeValue, AttributeValue),
    /// `begins_with(range, prefix)`
    BeginsWith(AttributeValue),
}

impl RangeCondition {
    /// Whether a sort-key value satisfies the condition.
    pub fn matches(&self, v: &AttributeValue) -> bool {
        use std::cmp::Ordering::{Greater, Less};
        let cmp = |x: &AttributeValue| compare(v, x);
        match self {
            RangeCondition::Eq(x) => v == x,
            RangeCondition::Lt(x) => cmp(x) == Some(Less),
            RangeCondition::Le(x) => cmp(x).is_some_and(|o| o != Greater),
            RangeCondition::Gt(x) => cmp(x) == Some(Greater),
            RangeCondition::Ge(x) => cmp(x).is_some_and(|o| o != Less),
            RangeCondition::Between(lo, hi) => {
                cmp(lo).is_some_and(|o| o != Less) && cmp(hi).is_some_and(|o| o != Greater)
            }
            RangeCondition::BeginsWith(p) => begins_with(v, p),
        }
    }

    fn values(&self) -> Vec<&AttributeValue> {
        match self {
            RangeCondition::Eq(x)
            | RangeCondition::Lt(x)
            | RangeCondition::Le(x)
            | RangeCondition::Gt(x)
            | RangeCondition::Ge(x)
            | RangeCondition::BeginsWith(x) => vec![x],
            RangeCondition::Between(a, b) => vec![a, b],
        }
    }
}

/// A Query's key condition: the partition-key value and an optional sort-key condition.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    /// The partition key must equal this value.
    pub hash: AttributeValue,
    /// The sort-key condition, if any.
    pub range: Option<RangeCondition>,
}

fn err(msg: impl Into<String>) -> ExprError {
    ExprError::new(msg)
}

/// One leaf `attribute op values` after the structural checks.
struct Leaf {
    name: String,
    cond: LeafCond,
}

enum LeafCond {
    Cmp(CmpOp, AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

fn mirror(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

fn walk(c: &Condition, out: &mut Vec<Leaf>) -> Result<(), ExprError> {
    let invalid_op = |op: &str| {
        err(format!(
            "Invalid operator used in KeyConditionExpression: {op}"
        ))
    };
    let (operands, leaf_kind): (Vec<&Operand>, &str) = match c {
        Condition::And(members) => {
            for m in members {
                walk(m, out)?;
            }
            return Ok(());
        }
        Condition::Or(..) => return Err(invalid_op("OR")),
        Condition::Not(_) => return Err(invalid_op("NOT")),
        Condition::In(..) => return Err(invalid_op("IN")),
        Condition::Compare(_, CmpOp::Ne, _) => return Err(invalid_op("<>")),
        Condition::AttributeExists(_) => return Err(invalid_op("attribute_exists")),
        Condition::AttributeNotExists(_) => return Err(invalid_op("attribute_not_exists")),
        Condition::AttributeType(..) => return Err(invalid_op("attribute_type")),
        Condition::Contains(..) => return Err(invalid_op("contains")),
        Condition::Compare(a, _, b) => (vec![a, b], "cmp"),
        Condition::Between(a, b, c) => (vec![a, b, c], "BETWEEN"),
        Condition::BeginsWith(a, b) => (vec![a, b], "begins_with"),
    };
    if leaf_kind != "cmp" && !matches!(operands.first(), Some(Operand::Path(_))) {
        return Err(err(format!(
            "Invalid condition in KeyConditionExpression: {leaf_kind} operator must have the key attribute as its first operand"
        )));
    }
    let mut name: Option<(&Path, usize)> = None;
    for (i, o) in operands.iter().enumerate() {
        match o {
            Operand::Path(p) => {
                if name.is_some() {
                    return Err(err(
                        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
                    ));
                }
                if p.elements().len() > 1 {
                    return Err(err(
                        "KeyConditionExpressions cannot have conditions on nested attributes",
                    ));
                }
                name = Some((p, i));
            }
            Operand::Size(_) => {
                return Err(err(
                    "KeyConditionExpressions cannot contain nested operations",
                ));
            }
            Operand::Value(_) => {}
        }
    }
    let Some((path, position)) = name else {
        return Err(err(
            "Invalid condition in KeyConditionExpression: No key attribute specified",
        ));
    };
    let attr = path.top_level().to_owned();
    if out.iter().any(|l| l.name == attr) {
        return Err(err(
            "KeyConditionExpressions must only contain one condition per key",
        ));
    }
    let value = |o: Option<&&Operand>| match o {
        Some(Operand::Value(v)) => Ok(v.clone()),
        _ => Err(err("Query key condition not supported")),
    };
    let cond = match c {
        Condition::Compare(_, op, _) => {
            let (op, v) = if position == 0 {
                (*op, value(operands.get(1))?)
            } else {
                (mirror(*op), value(operands.first())?)
            };
            LeafCond::Cmp(op, v)
        }
        Condition::Between(..) => {
            LeafCond::Between(value(operands.get(1))?, value(operands.get(2))?)
        }
        _ => LeafCond::BeginsWith(value(operands.get(1))?),
    };
    out.push(Leaf { name: attr, cond });
    Ok(())
}

/// Parses a KeyConditionExpression for a table or index with these key attribute names.
pub fn parse_key_condition(
    s: &str,
    p: &mut Placeholders<'_>,
    hash_key: &str,
    range_key: Option<&str>,
) -> Result<KeyCondition, ExprError> {
    let cond = super::parse_condition(s, p, ConditionKind::KeyCondition)?;
    let mut leaves = Vec::new();
    walk(&cond, &mut leaves)?;
    let missed = |k: &str| err(format!("Query condition missed key schema element: {k}"));
    let hash_leaf = leaves
        .iter()
        .find(|l| l.name == hash_key)
        .ok_or_else(|| missed(hash_key))?;
    let hash = match &hash_leaf.cond {
        LeafCond::Cmp(CmpOp::Eq, v) => v.clone(),
        _ => return Err(err("Query key condition not supported")),
    };
    let mut range = None;
    for leaf in leaves.iter().filter(|l| l.name != hash_key) {
        match range_key {
            Some(r) if leaf.name == r => {}
            Some(r) => return Err(missed(r)),
            // Not confirmed against DynamoDB for hash-only tables.
            None => return Err(err("Query key condition not supported")),
        }
        range = Some(match &leaf.cond {
            LeafCond::Cmp(op, v) => match op {
                CmpOp::Eq => RangeCondition::Eq(v.clone()),
                CmpOp::Lt => RangeCondition::Lt(v.clone()),
                CmpOp::Le => RangeCondition::Le(v.clone()),
                CmpOp::Gt => RangeCondition::Gt(v.clone()),
                CmpOp::Ge => RangeCondition::Ge(v.clone()),
                CmpOp::Ne => {
                    return Err(err("Invalid operator used in KeyConditionExpression: <>"));
                }
            },
            LeafCond::Between(a, b) => RangeCondition::Between(a.clone(), b.clone()),
            LeafCond::BeginsWith(v) => RangeCondition::BeginsWith(v.clone()),
        });
    }
    Ok(KeyCondition { hash, range })
}

impl KeyCondition {
    /// The checks that need the key attributes' types: every value has its key's type (text
    /// from DynamoDB's legacy and expression Query), no key value is an empty string or binary,
    /// and `begins_with` is not used on a number key.
    pub fn check_types(
        &self,
        hash: (&str, KeyType),
        range: Option<(&str, KeyType)>,
    ) -> Result<(), ExprError> {
        let mismatch = || {
            err(
                "One or more parameter values were invalid: Condition parameter type does not match schema type",
            )
        };
        let empty = |name: &str| {
            err(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {name}"
            ))
        };
        let check = |name: &str, ty: KeyType, v: &AttributeValue| match (ty, v) {
            (KeyType::S, AttributeValue::S(s)) if s.is_empty() => Err(empty(name)),
            (KeyType::B, AttributeValue::B(b)) if b.is_empty() => Err(empty(name)),
            (KeyType::S, AttributeValue::S(_))
            | (KeyType::N, AttributeValue::N(_))
            | (KeyType::B, AttributeValue::B(_)) => Ok(()),
            _ => Err(mismatch()),
        };
        check(hash.0, hash.1, &self.hash)?;
        if let (Some(rc), Some((name, ty))) = (&self.range, range) {
            if matches!(rc, RangeCondition::BeginsWith(_)) && ty == KeyType::N {
                return Err(err(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
                ));
            }
            for v in rc.values() {
                match (ty, v) {
                    // A begins_with prefix may be empty.
                    (KeyType::S, AttributeValue::S(_)) | (KeyType::B, AttributeValue::B(_))
                        if matches!(rc, RangeCondition::BeginsWith(_)) => {}
                    _ => check(name, ty, v)?,
                }
            }
        }
        Ok(())
    }
}
