//! The legacy (pre-expression) request parameters, converted to the expression ASTs:
//! `Expected` (+ `ConditionalOperator`) → [`Condition`], `QueryFilter`/`ScanFilter` →
//! [`Condition`], `KeyConditions` → [`KeyCondition`], `AttributeUpdates` → [`UpdateExpr`],
//! `AttributesToGet` → [`Projection`]; and the check that a request does not mix legacy and
//! expression parameters.
//!
//! Texts are dynalite's (`validations/index.js`: `validateAttributeConditions`,
//! `validateConditions`, `validateExpressionParams`; `test/query.js`), recorded against DynamoDB,
//! except where a comment says otherwise.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::condition::compare;
use super::{
    CmpOp, Condition, ExprError, KeyCondition, Operand, Path, Projection, RangeCondition, SetValue,
    UpdateAction, UpdateExpr, UpdateOperand,
};
use crate::validate::enum_violation;
use crate::value::AttributeValue;

/// A legacy comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonOperator {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less or equal.
    Le,
    /// Less.
    Lt,
    /// Greater or equal.
    Ge,
    /// Greater.
    Gt,
    /// The attribute exists.
    NotNull,
    /// The attribute does not exist.
    Null,
    /// Substring or set member.
    Contains,
    /// Not a substring or set member.
    NotContains,
    /// Prefix.
    BeginsWith,
    /// One of the values.
    In,
    /// Between two values, inclusive.
    Between,
}

/// Every operator, in the order DynamoDB lists them in its constraint message.
const OPERATORS: [ComparisonOperator; 13] = [
    ComparisonOperator::In,
    ComparisonOperator::Null,
    ComparisonOperator::Between,
    ComparisonOperator::Lt,
    ComparisonOperator::NotContains,
    ComparisonOperator::Eq,
    ComparisonOperator::Gt,
    ComparisonOperator::NotNull,
    ComparisonOperator::Ne,
    ComparisonOperator::Le,
    ComparisonOperator::BeginsWith,
    ComparisonOperator::Ge,
    ComparisonOperator::Contains,
];

/// A `ComparisonOperator` member as sent: one of the thirteen (exact case), or any other
/// string, which is refused with DynamoDB's constraint text when the condition is converted
/// (as a ValidationException naming it, not a SerializationException).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorField {
    /// A known operator.
    Known(ComparisonOperator),
    /// Anything else.
    Unknown(String),
}

impl<'de> Deserialize<'de> for OperatorField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(match OPERATORS.iter().find(|o| o.name() == name) {
            Some(o) => OperatorField::Known(*o),
            None => OperatorField::Unknown(name),
        })
    }
}

impl OperatorField {
    /// The operator, if it is one.
    pub fn known(&self) -> Option<ComparisonOperator> {
        match self {
            OperatorField::Known(o) => Some(*o),
            OperatorField::Unknown(_) => None,
        }
    }

    /// The operator, or DynamoDB's constraint error for the member at `at` (e.g.
    /// `keyConditions.c.member.comparisonOperator`).
    pub fn resolve(&self, at: &str) -> Result<ComparisonOperator, ExprError> {
        match self {
            OperatorField::Known(o) => Ok(*o),
            OperatorField::Unknown(name) => {
                let set: Vec<&str> = OPERATORS.iter().map(|o| o.name()).collect();
                Err(ExprError::new(enum_violation(name, at, &set)))
            }
        }
    }
}

impl ComparisonOperator {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            ComparisonOperator::Eq => "EQ",
            ComparisonOperator::Ne => "NE",
            ComparisonOperator::Le => "LE",
            ComparisonOperator::Lt => "LT",
            ComparisonOperator::Ge => "GE",
            ComparisonOperator::Gt => "GT",
            ComparisonOperator::NotNull => "NOT_NULL",
            ComparisonOperator::Null => "NULL",
            ComparisonOperator::Contains => "CONTAINS",
            ComparisonOperator::NotContains => "NOT_CONTAINS",
            ComparisonOperator::BeginsWith => "BEGINS_WITH",
            ComparisonOperator::In => "IN",
            ComparisonOperator::Between => "BETWEEN",
        }
    }

    fn arity_ok(self, n: usize) -> bool {
        use ComparisonOperator as C;
        match self {
            C::NotNull | C::Null => n == 0,
            C::In => n > 0,
            C::Between => n == 2,
            _ => n == 1,
        }
    }

    /// The AttributeValue types the operator accepts (dynalite's `validateConditions`).
    fn accepts(self, t: &str) -> bool {
        use ComparisonOperator as C;
        match self {
            // The API reference lists scalars and sets only, but DynamoDB compares lists,
            // maps and booleans too (observed, recorded by ScyllaDB's Alternator tests).
            C::Eq | C::Ne => true,
            C::BeginsWith => matches!(t, "S" | "B"),
            C::NotNull | C::Null => true,
            _ => matches!(t, "S" | "N" | "B"),
        }
    }
}

/// `ConditionalOperator`: how several legacy conditions combine (default AND).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConditionalOperator {
    /// All must hold.
    And,
    /// One must hold.
    Or,
}

/// One entry of `Expected`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExpectedAttributeValue {
    /// The value the attribute must equal (with `Exists` true or absent).
    pub value: Option<AttributeValue>,
    /// Whether the attribute must exist.
    pub exists: Option<bool>,
    /// The comparison (newer form).
    pub comparison_operator: Option<OperatorField>,
    /// The comparison's operands.
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// One entry of `KeyConditions`, `QueryFilter` or `ScanFilter`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LegacyCondition {
    /// The comparison.
    pub comparison_operator: OperatorField,
    /// Its operands.
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// `AttributeUpdates` action (default PUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeAction {
    /// Add to a number or set.
    Add,
    /// Replace the value.
    Put,
    /// Remove the attribute, or members of a set.
    Delete,
}

/// One entry of `AttributeUpdates`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeValueUpdate {
    /// The operand.
    pub value: Option<AttributeValue>,
    /// The action (PUT when absent): `ADD`, `PUT` or `DELETE`, checked by
    /// [`attribute_updates_to_update`] (another value is a ValidationException naming it, not a
    /// SerializationException).
    pub action: Option<String>,
}

impl AttributeAction {
    fn parse(attr: &str, action: &str) -> Result<Self, ExprError> {
        match action {
            "ADD" => Ok(Self::Add),
            "PUT" => Ok(Self::Put),
            "DELETE" => Ok(Self::Delete),
            other => Err(ExprError::new(enum_violation(
                other,
                &format!("attributeUpdates.{attr}.member.action"),
                &["ADD", "PUT", "DELETE"],
            ))),
        }
    }
}

fn invalid(detail: impl std::fmt::Display) -> ExprError {
    ExprError::new(format!(
        "One or more parameter values were invalid: {detail}"
    ))
}

/// Shared checks on an operator and its values (`validateConditions`).
fn check_operands(op: ComparisonOperator, values: &[AttributeValue]) -> Result<(), ExprError> {
    if !op.arity_ok(values.len()) {
        return Err(invalid(format!(
            "Invalid number of argument(s) for the {} ComparisonOperator",
            op.name()
        )));
    }
    if let Some(first) = values.first()
        && values.iter().any(|v| v.type_name() != first.type_name())
    {
        return Err(invalid(
            "AttributeValues inside AttributeValueList must be of same type",
        ));
    }
    if let Some(v) = values.iter().find(|v| !op.accepts(v.type_name())) {
        return Err(invalid(format!(
            "ComparisonOperator {} is not valid for {} AttributeValue type",
            op.name(),
            v.type_name()
        )));
    }
    if let (ComparisonOperator::Between, [lo, hi]) = (op, values)
        && compare(lo, hi) == Some(std::cmp::Ordering::Greater)
    {
        return Err(ExprError::new(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ));
    }
    Ok(())
}

/// The condition `attr OP values`.
fn to_condition(attr: &str, op: ComparisonOperator, values: &[AttributeValue]) -> Condition {
    use ComparisonOperator as C;
    let path = || Path::attribute(attr);
    let lhs = || Operand::Path(path());
    let v = |i: usize| Operand::Value(values.get(i).cloned().unwrap_or(AttributeValue::Null));
    let cmp = |o: CmpOp| Condition::Compare(lhs(), o, v(0));
    match op {
        C::Eq => cmp(CmpOp::Eq),
        C::Ne => cmp(CmpOp::Ne),
        C::Le => cmp(CmpOp::Le),
        C::Lt => cmp(CmpOp::Lt),
        C::Ge => cmp(CmpOp::Ge),
        C::Gt => cmp(CmpOp::Gt),
        C::NotNull => Condition::AttributeExists(path()),
        C::Null => Condition::AttributeNotExists(path()),
        C::Contains => Condition::Contains(lhs(), v(0)),
        // AWS quirk: NOT_CONTAINS is false for a missing attribute, as CONTAINS is (while NE
        // is true): observed, recorded by ScyllaDB's Alternator tests.
        C::NotContains => Condition::And(vec![
            Condition::AttributeExists(path()),
            Condition::Not(Box::new(Condition::Contains(lhs(), v(0)))),
        ]),
        C::BeginsWith => Condition::BeginsWith(lhs(), v(0)),
        C::In => Condition::In(lhs(), values.iter().cloned().map(Operand::Value).collect()),
        C::Between => Condition::Between(lhs(), v(0), v(1)),
    }
}

/// One condition of all the parts: one n-ary node, however many parts (a legacy map may hold
/// thousands, and a nested chain of that depth would exhaust the stack of whatever walks it).
fn combine(mut parts: Vec<Condition>, op: Option<ConditionalOperator>) -> Option<Condition> {
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ if op == Some(ConditionalOperator::Or) => Some(Condition::Or(parts)),
        _ => Some(Condition::And(parts)),
    }
}

/// `Expected` (+ `ConditionalOperator`) as a condition; `None` for an empty map.
pub fn expected_to_condition(
    expected: &BTreeMap<String, ExpectedAttributeValue>,
    op: Option<ConditionalOperator>,
) -> Result<Option<Condition>, ExprError> {
    let mut parts = Vec::new();
    for (attr, e) in expected {
        if let Some(field) = &e.comparison_operator {
            let cop = field.resolve(&format!("expected.{attr}.member.comparisonOperator"))?;
            if e.exists.is_some() {
                return Err(invalid(format!(
                    "Exists and ComparisonOperator cannot be used together for Attribute: {attr}"
                )));
            }
            if e.value.is_some() && e.attribute_value_list.is_some() {
                return Err(invalid(format!(
                    "Value and AttributeValueList cannot be used together for Attribute: {attr}"
                )));
            }
            let values: Vec<AttributeValue> = match (&e.attribute_value_list, &e.value) {
                (Some(list), _) => list.clone(),
                (None, Some(v)) => vec![v.clone()],
                (None, None) => Vec::new(),
            };
            check_operands(cop, &values)?;
            parts.push(to_condition(attr, cop, &values));
        } else if e.attribute_value_list.is_some() {
            return Err(invalid(format!(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: {attr}"
            )));
        } else {
            let exists = e.exists.unwrap_or(true);
            match (&e.value, exists) {
                (None, true) => {
                    let shown = e.exists.map_or("null".to_owned(), |b| b.to_string());
                    return Err(invalid(format!(
                        "Value must be provided when Exists is {shown} for Attribute: {attr}"
                    )));
                }
                (Some(_), false) => {
                    return Err(invalid(format!(
                        "Value cannot be used when Exists is false for Attribute: {attr}"
                    )));
                }
                (Some(v), true) => parts.push(Condition::Compare(
                    Operand::Path(Path::attribute(attr)),
                    CmpOp::Eq,
                    Operand::Value(v.clone()),
                )),
                (None, false) => parts.push(Condition::AttributeNotExists(Path::attribute(attr))),
            }
        }
    }
    Ok(combine(parts, op))
}

/// `QueryFilter` / `ScanFilter` (+ `ConditionalOperator`) as a condition; `None` when empty.
/// `member` names the map in errors: `queryFilter` or `scanFilter`.
pub fn filter_to_condition(
    filter: &BTreeMap<String, LegacyCondition>,
    op: Option<ConditionalOperator>,
    member: &str,
) -> Result<Option<Condition>, ExprError> {
    let mut parts = Vec::new();
    for (attr, c) in filter {
        let cop = c
            .comparison_operator
            .resolve(&format!("{member}.{attr}.member.comparisonOperator"))?;
        let values = c.attribute_value_list.clone().unwrap_or_default();
        check_operands(cop, &values)?;
        parts.push(to_condition(attr, cop, &values));
    }
    Ok(combine(parts, op))
}

/// `KeyConditions` as a key condition for a table or index with these key names.
pub fn key_conditions_to_key_condition(
    conditions: &BTreeMap<String, LegacyCondition>,
    hash_key: &str,
    range_key: Option<&str>,
) -> Result<KeyCondition, ExprError> {
    let mut ops = BTreeMap::new();
    for (attr, c) in conditions {
        let op = c
            .comparison_operator
            .resolve(&format!("keyConditions.{attr}.member.comparisonOperator"))?;
        ops.insert(attr.as_str(), op);
    }
    for (attr, c) in conditions {
        let values = c.attribute_value_list.as_deref().unwrap_or(&[]);
        if !ops
            .get(attr.as_str())
            .is_some_and(|o| o.arity_ok(values.len()))
        {
            return Err(ExprError::new(
                "The attempted filter operation is not supported for the provided filter argument count",
            ));
        }
    }
    if conditions.is_empty() || conditions.len() > 2 {
        return Err(ExprError::new("Conditions can be of length 1 or 2 only"));
    }
    // The operand types, as for filters ("ComparisonOperator BEGINS_WITH is not valid for N
    // AttributeValue type"), before the key-specific rules below.
    for (attr, c) in conditions {
        if let Some(op) = ops.get(attr.as_str()) {
            check_operands(*op, c.attribute_value_list.as_deref().unwrap_or(&[]))?;
        }
    }
    let op_of = |attr: &str| ops.get(attr).copied();
    let missed =
        |k: &str| ExprError::new(format!("Query condition missed key schema element: {k}"));
    let unsupported = || ExprError::new("Query key condition not supported");
    let hash_cond = conditions.get(hash_key).ok_or_else(|| missed(hash_key))?;
    let hash = match (op_of(hash_key), hash_cond.attribute_value_list.as_deref()) {
        (Some(ComparisonOperator::Eq), Some([v])) => v.clone(),
        _ => return Err(unsupported()),
    };
    let mut range = None;
    for (attr, c) in conditions.iter().filter(|(a, _)| a.as_str() != hash_key) {
        if Some(attr.as_str()) != range_key {
            return Err(missed(range_key.unwrap_or(hash_key)));
        }
        use ComparisonOperator as C;
        let vals = c.attribute_value_list.as_deref().unwrap_or(&[]);
        let first = || vals.first().cloned().ok_or_else(unsupported);
        let Some(op) = op_of(attr) else {
            return Err(unsupported());
        };
        range = Some(match op {
            C::Eq => RangeCondition::Eq(first()?),
            C::Lt => RangeCondition::Lt(first()?),
            C::Le => RangeCondition::Le(first()?),
            C::Gt => RangeCondition::Gt(first()?),
            C::Ge => RangeCondition::Ge(first()?),
            C::BeginsWith => RangeCondition::BeginsWith(first()?),
            C::Between => match vals {
                [lo, hi] => RangeCondition::Between(lo.clone(), hi.clone()),
                _ => return Err(unsupported()),
            },
            _ => return Err(unsupported()),
        });
    }
    Ok(KeyCondition { hash, range })
}

/// `AttributeUpdates` as an update expression.
pub fn attribute_updates_to_update(
    updates: &BTreeMap<String, AttributeValueUpdate>,
) -> Result<UpdateExpr, ExprError> {
    let mut actions = Vec::new();
    for (attr, u) in updates {
        let path = Path::attribute(attr);
        let action = match &u.action {
            Some(a) => AttributeAction::parse(attr, a)?,
            None => AttributeAction::Put,
        };
        let action = match (action, &u.value) {
            (AttributeAction::Put, Some(v)) => {
                UpdateAction::Set(path, SetValue::Operand(UpdateOperand::Value(v.clone())))
            }
            (AttributeAction::Delete, None) => UpdateAction::Remove(path),
            (AttributeAction::Delete, Some(v)) if v.is_set() => {
                UpdateAction::Delete(path, v.clone())
            }
            // AWS quirk: ADD also appends a list to a list (undocumented; observed, recorded
            // by ScyllaDB's Alternator tests).
            (AttributeAction::Add, Some(v))
                if v.is_set() || matches!(v, AttributeValue::N(_) | AttributeValue::L(_)) =>
            {
                UpdateAction::Add(path, v.clone())
            }
            (AttributeAction::Put | AttributeAction::Add, None) => {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified",
                ));
            }
            // Not confirmed against DynamoDB: the wording of these two refusals.
            (AttributeAction::Delete, Some(v)) => {
                return Err(invalid(format!(
                    "DELETE action with value is not supported for the type {}",
                    v.type_name()
                )));
            }
            (AttributeAction::Add, Some(v)) => {
                return Err(invalid(format!(
                    "ADD action is not supported for the type {}",
                    v.type_name()
                )));
            }
        };
        actions.push(action);
    }
    Ok(UpdateExpr::from_attribute_updates(actions))
}

/// `AttributesToGet` as a projection.
pub fn attributes_to_get_to_projection(names: &[String]) -> Result<Projection, ExprError> {
    let mut seen = BTreeSet::new();
    for n in names {
        if !seen.insert(n.as_str()) {
            return Err(invalid(format!("Duplicate value in attribute name: {n}")));
        }
    }
    Ok(Projection::from_paths(
        names.iter().map(Path::attribute).collect(),
    ))
}

/// The check every request with both kinds of parameters runs first. `non_expression` and
/// `expression` list each parameter's name and whether the request has it, in the order the
/// operation names them (e.g. Query: `[AttributesToGet, QueryFilter, ConditionalOperator,
/// KeyConditions]` and `[ProjectionExpression, FilterExpression, KeyConditionExpression]`).
/// `KeyConditions` alone does not count as mixing when there is no `KeyConditionExpression`.
pub fn check_parameter_mix(
    non_expression: &[(&str, bool)],
    expression: &[(&str, bool)],
    has_attribute_names: bool,
    has_attribute_values: bool,
) -> Result<(), ExprError> {
    let present = |list: &[(&str, bool)]| -> Vec<String> {
        list.iter()
            .filter(|(_, p)| *p)
            .map(|(n, _)| (*n).to_owned())
            .collect()
    };
    let exprs = present(expression);
    if !exprs.is_empty() {
        let has_kce = exprs.iter().any(|e| e == "KeyConditionExpression");
        let legacy: Vec<String> = present(non_expression)
            .into_iter()
            .filter(|n| has_kce || n != "KeyConditions")
            .collect();
        if !legacy.is_empty() {
            return Err(ExprError::new(format!(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
                legacy.join(", "),
                exprs.join(", ")
            )));
        }
    }
    if has_attribute_names && exprs.is_empty() {
        return Err(ExprError::new(
            "ExpressionAttributeNames can only be specified when using expressions",
        ));
    }
    let value_exprs: Vec<&str> = expression
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| *n != "ProjectionExpression")
        .collect();
    let any_value_expr = expression
        .iter()
        .any(|(n, p)| *p && *n != "ProjectionExpression");
    if has_attribute_values && !value_exprs.is_empty() && !any_value_expr {
        return Err(ExprError::new(format!(
            "ExpressionAttributeValues can only be specified when using expressions: {} {} null",
            value_exprs.join(" and "),
            if value_exprs.len() > 1 { "are" } else { "is" }
        )));
    }
    Ok(())
}
