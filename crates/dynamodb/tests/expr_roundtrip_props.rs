//! Property tests: printing an AST and parsing the text back (with the printed placeholders)
//! gives the same AST, for conditions, updates and projections; and no input string makes a
//! parser panic.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

use proptest::prelude::*;
use rampart_dynamodb::expr::{
    CmpOp, Condition, ConditionKind, Operand, Path, Placeholders, Projection, SetValue,
    UpdateAction, UpdateExpr, UpdateOperand, parse_condition, parse_projection, parse_update,
};
use rampart_dynamodb::number::Number;
use rampart_dynamodb::value::AttributeValue;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_]{0,5}",
        Just("name".to_owned()),
        Just("a.b".to_owned()),
        Just("with space".to_owned()),
    ]
}

fn path() -> impl Strategy<Value = Path> {
    (
        name(),
        proptest::collection::vec(
            prop_oneof![name().prop_map(Ok), (0usize..4).prop_map(Err)],
            0..3,
        ),
    )
        .prop_map(|(first, rest)| {
            rest.into_iter()
                .fold(Path::attribute(first), |p, e| match e {
                    Ok(n) => p.key(n),
                    Err(i) => p.index(i),
                })
        })
}

fn number() -> impl Strategy<Value = AttributeValue> {
    (-1000i64..1000).prop_map(|n| AttributeValue::N(Number::from(n)))
}

fn value() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        "[a-z]{0,4}".prop_map(AttributeValue::S),
        number(),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null),
        proptest::collection::vec(number(), 0..3).prop_map(AttributeValue::L),
    ]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge),
    ]
}

fn leaf() -> impl Strategy<Value = Condition> {
    let left = prop_oneof![
        3 => path().prop_map(Operand::Path),
        1 => path().prop_map(|p| Operand::Size(Box::new(Operand::Path(p)))),
    ];
    prop_oneof![
        // `<`, `<=`, `>`, `>=` with a value that cannot be ordered (BOOL, NULL, a list) is
        // refused when parsed: such comparisons do not print from a valid expression.
        (left, cmp_op(), value())
            .prop_filter("an ordering comparison needs S, N or B", |(_, op, v)| {
                matches!(op, CmpOp::Eq | CmpOp::Ne) || matches!(v.type_name(), "S" | "N" | "B")
            })
            .prop_map(|(l, op, v)| Condition::Compare(l, op, Operand::Value(v))),
        (path(), -100i64..100, 0i64..100).prop_map(|(p, lo, w)| Condition::Between(
            Operand::Path(p),
            Operand::Value(AttributeValue::N(Number::from(lo))),
            Operand::Value(AttributeValue::N(Number::from(lo + w))),
        )),
        (path(), proptest::collection::vec(value(), 1..4)).prop_map(|(p, vs)| Condition::In(
            Operand::Path(p),
            vs.into_iter().map(Operand::Value).collect()
        )),
        path().prop_map(Condition::AttributeExists),
        path().prop_map(Condition::AttributeNotExists),
        (path(), "[a-z]{0,3}").prop_map(|(p, s)| Condition::BeginsWith(
            Operand::Path(p),
            Operand::Value(AttributeValue::S(s))
        )),
        (path(), value())
            .prop_map(|(p, v)| Condition::Contains(Operand::Path(p), Operand::Value(v))),
        path().prop_map(|p| Condition::AttributeType(
            Operand::Path(p),
            Operand::Value(AttributeValue::S("SS".into()))
        )),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Condition::And(vec![a, b])),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Condition::Or(vec![a, b])),
            inner.prop_map(|a| Condition::Not(Box::new(a))),
        ]
    })
}

fn update_operand() -> impl Strategy<Value = UpdateOperand> {
    prop_oneof![
        path().prop_map(UpdateOperand::Path),
        value().prop_map(UpdateOperand::Value),
        (path(), value())
            .prop_map(|(p, v)| UpdateOperand::IfNotExists(p, Box::new(UpdateOperand::Value(v)))),
        path().prop_map(|p| UpdateOperand::ListAppend(
            Box::new(UpdateOperand::Path(p)),
            Box::new(UpdateOperand::Value(AttributeValue::L(vec![])))
        )),
    ]
}

/// Actions on distinct top-level attributes (so no paths overlap), grouped by section.
fn update() -> impl Strategy<Value = UpdateExpr> {
    proptest::collection::vec((0u8..4, update_operand(), number()), 1..6).prop_map(|specs| {
        let mut actions: Vec<(u8, UpdateAction)> = specs
            .into_iter()
            .enumerate()
            .map(|(i, (kind, operand, n))| {
                let target = Path::attribute(format!("t{i}"));
                let action = match kind {
                    0 => UpdateAction::Set(target, SetValue::Operand(operand)),
                    1 => UpdateAction::Set(
                        target,
                        SetValue::Plus(
                            UpdateOperand::Path(Path::attribute("src")),
                            UpdateOperand::Value(n),
                        ),
                    ),
                    2 => UpdateAction::Remove(target.index(1)),
                    _ => UpdateAction::Add(target, n),
                };
                (if kind == 1 { 0 } else { kind }, action)
            })
            .collect();
        actions.sort_by_key(|(k, _)| *k);
        UpdateExpr::new(actions.into_iter().map(|(_, a)| a).collect())
    })
}

proptest! {
    #[test]
    fn printed_conditions_parse_back_to_the_same_condition(c in condition()) {
        let printed = c.to_expression();
        let mut p = Placeholders::new(Some(&printed.names), Some(&printed.values));
        let back = parse_condition(&printed.expression, &mut p, ConditionKind::Condition);
        prop_assert_eq!(back, Ok(c), "{}", printed.expression);
        prop_assert!(p.finish().is_ok());
    }

    #[test]
    fn printed_updates_parse_back_to_the_same_update(u in update()) {
        let printed = u.to_expression();
        let mut p = Placeholders::new(Some(&printed.names), Some(&printed.values));
        let back = parse_update(&printed.expression, &mut p);
        prop_assert_eq!(back, Ok(u), "{}", printed.expression);
        prop_assert!(p.finish().is_ok());
    }

    #[test]
    fn printed_projections_parse_back_to_the_same_projection(
        names in proptest::collection::btree_set(name(), 1..5)
    ) {
        let proj = Projection::from_paths(names.into_iter().map(Path::attribute).collect());
        let printed = proj.to_expression();
        let mut p = Placeholders::new(Some(&printed.names), None);
        prop_assert_eq!(parse_projection(&printed.expression, &mut p), Ok(proj));
    }

    #[test]
    fn parsers_never_panic(s in r"[a-z#:()\[\]0-9,.=<> +\-_]{0,40}|.{0,40}") {
        let mut p = Placeholders::new(None, None);
        let _ = parse_condition(&s, &mut p, ConditionKind::Filter);
        let _ = parse_update(&s, &mut p);
        let _ = parse_projection(&s, &mut p);
    }
}
