//! Legacy parameters convert to the same ASTs and report DynamoDB's texts.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

use std::collections::BTreeMap;

use rampart_dynamodb::expr::RangeCondition;
use rampart_dynamodb::expr::legacy::{
    AttributeValueUpdate, ConditionalOperator, ExpectedAttributeValue, LegacyCondition,
    attribute_updates_to_update, attributes_to_get_to_projection, check_parameter_mix,
    expected_to_condition, filter_to_condition, key_conditions_to_key_condition,
};
use rampart_dynamodb::value::Item;

fn item(json: &str) -> Item {
    serde_json::from_str(json).unwrap()
}

fn expected(json: &str) -> BTreeMap<String, ExpectedAttributeValue> {
    serde_json::from_str(json).unwrap()
}

fn filter(json: &str) -> BTreeMap<String, LegacyCondition> {
    serde_json::from_str(json).unwrap()
}

#[test]
fn expected_converts_to_a_condition() {
    let it = item(r#"{"a":{"S":"x"},"n":{"N":"5"}}"#);
    let holds = |json: &str, op: Option<ConditionalOperator>| {
        expected_to_condition(&expected(json), op)
            .unwrap()
            .unwrap()
            .eval(&it)
            .unwrap()
    };
    assert!(holds(r#"{"a":{"Value":{"S":"x"}}}"#, None));
    assert!(holds(r#"{"b":{"Exists":false}}"#, None));
    assert!(!holds(r#"{"a":{"Exists":false}}"#, None));
    assert!(holds(
        r#"{"n":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"},{"N":"9"}]}}"#,
        None
    ));
    assert!(holds(
        r#"{"a":{"ComparisonOperator":"NULL"},"n":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"1"}]}}"#,
        Some(ConditionalOperator::Or)
    ));
    assert!(!holds(
        r#"{"a":{"ComparisonOperator":"NULL"},"n":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"1"}]}}"#,
        None
    ));
}

#[test]
fn invalid_expected_entries_use_dynamodb_texts() {
    let cases = [
        (
            r#"{"a":{"ComparisonOperator":"EQ"}}"#,
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        (
            r#"{"a":{"ComparisonOperator":"EQ","Exists":true}}"#,
            "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: a",
        ),
        (
            r#"{"a":{}}"#,
            "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a",
        ),
        (
            r#"{"a":{"Exists":true}}"#,
            "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a",
        ),
        (
            r#"{"a":{"Exists":false,"Value":{"S":"x"}}}"#,
            "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a",
        ),
        (
            r#"{"a":{"AttributeValueList":[{"S":"x"}]}}"#,
            "One or more parameter values were invalid: AttributeValueList can only be used with a ComparisonOperator for Attribute: a",
        ),
        (
            r#"{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"9"},{"N":"1"}]}}"#,
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ),
        (
            r#"{"a":{"ComparisonOperator":"IN","AttributeValueList":[{"N":"9"},{"S":"1"}]}}"#,
            "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type",
        ),
    ];
    for (json, msg) in cases {
        assert_eq!(
            expected_to_condition(&expected(json), None)
                .unwrap_err()
                .to_string(),
            msg,
            "{json}"
        );
    }
}

#[test]
fn filters_check_operator_types() {
    assert_eq!(
        filter_to_condition(
            &filter(r#"{"a":{"ComparisonOperator":"LT","AttributeValueList":[{"SS":["x"]}]}}"#),
            None,
            "scanFilter"
        )
        .unwrap_err()
        .to_string(),
        "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS AttributeValue type"
    );
    let c = filter_to_condition(
        &filter(r#"{"a":{"ComparisonOperator":"NOT_CONTAINS","AttributeValueList":[{"S":"q"}]}}"#),
        None,
        "scanFilter",
    )
    .unwrap()
    .unwrap();
    assert!(c.eval(&item(r#"{"a":{"S":"xyz"}}"#)).unwrap());
    // Legacy NOT_CONTAINS is false for a missing attribute, as CONTAINS is.
    assert!(!c.eval(&item(r#"{"b":{"S":"xyz"}}"#)).unwrap());
    // An unknown operator (case counts) is DynamoDB's constraint error, naming the member.
    assert_eq!(
        filter_to_condition(
            &filter(r#"{"a":{"ComparisonOperator":"eq","AttributeValueList":[{"S":"q"}]}}"#),
            None,
            "queryFilter",
        )
        .unwrap_err()
        .to_string(),
        "1 validation error detected: Value 'eq' at 'queryFilter.a.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
    );
}

#[test]
fn key_conditions_convert_and_enforce_the_schema() {
    let k = key_conditions_to_key_condition(
        &filter(r#"{"h":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"x"}]},"r":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"p"}]}}"#),
        "h",
        Some("r"),
    )
    .unwrap();
    assert_eq!(
        k.range,
        Some(RangeCondition::BeginsWith(
            serde_json::from_str(r#"{"S":"p"}"#).unwrap()
        ))
    );
    let err = |json: &str| {
        key_conditions_to_key_condition(&filter(json), "h", Some("r"))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(r#"{"r":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"x"}]}}"#),
        "Query condition missed key schema element: h"
    );
    assert_eq!(
        err(r#"{"h":{"ComparisonOperator":"GT","AttributeValueList":[{"S":"x"}]}}"#),
        "Query key condition not supported"
    );
    assert_eq!(
        err(r#"{"h":{"ComparisonOperator":"EQ"}}"#),
        "The attempted filter operation is not supported for the provided filter argument count"
    );
}

#[test]
fn attribute_updates_convert_to_actions() {
    let updates: BTreeMap<String, AttributeValueUpdate> = serde_json::from_str(
        r#"{"a":{"Value":{"S":"x"}},"b":{"Action":"DELETE"},"c":{"Action":"ADD","Value":{"N":"2"}},"d":{"Action":"DELETE","Value":{"SS":["q"]}}}"#,
    )
    .unwrap();
    let u = attribute_updates_to_update(&updates).unwrap();
    let mut it = item(r#"{"b":{"N":"1"},"c":{"N":"1"},"d":{"SS":["q","r"]}}"#);
    u.apply(&mut it).unwrap();
    assert_eq!(
        it,
        item(r#"{"a":{"S":"x"},"c":{"N":"3"},"d":{"SS":["r"]}}"#)
    );
    let bad: BTreeMap<String, AttributeValueUpdate> =
        serde_json::from_str(r#"{"a":{"Action":"PUT"}}"#).unwrap();
    assert_eq!(
        attribute_updates_to_update(&bad).unwrap_err().to_string(),
        "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"
    );
}

#[test]
fn attributes_to_get_refuses_duplicates() {
    assert_eq!(
        attributes_to_get_to_projection(&["a".into(), "a".into()])
            .unwrap_err()
            .to_string(),
        "One or more parameter values were invalid: Duplicate value in attribute name: a"
    );
    let p = attributes_to_get_to_projection(&["a".into(), "b".into()]).unwrap();
    assert_eq!(
        p.apply(&item(r#"{"a":{"N":"1"},"c":{"N":"2"}}"#)),
        item(r#"{"a":{"N":"1"}}"#)
    );
}

#[test]
fn mixing_legacy_and_expression_parameters_is_refused() {
    assert_eq!(
        check_parameter_mix(
            &[
                ("AttributesToGet", true),
                ("QueryFilter", true),
                ("ConditionalOperator", true),
                ("KeyConditions", false)
            ],
            &[
                ("ProjectionExpression", true),
                ("FilterExpression", true),
                ("KeyConditionExpression", true)
            ],
            false,
            false
        )
        .unwrap_err()
        .to_string(),
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet, QueryFilter, ConditionalOperator} Expression parameters: {ProjectionExpression, FilterExpression, KeyConditionExpression}"
    );
    assert!(
        check_parameter_mix(
            &[("KeyConditions", true)],
            &[
                ("FilterExpression", true),
                ("KeyConditionExpression", false)
            ],
            false,
            false
        )
        .is_ok()
    );
    assert_eq!(
        check_parameter_mix(
            &[("QueryFilter", true)],
            &[
                ("ProjectionExpression", false),
                ("FilterExpression", false),
                ("KeyConditionExpression", false)
            ],
            false,
            true
        )
        .unwrap_err()
        .to_string(),
        "ExpressionAttributeValues can only be specified when using expressions: FilterExpression and KeyConditionExpression are null"
    );
    assert_eq!(
        check_parameter_mix(&[], &[("ProjectionExpression", false)], true, false)
            .unwrap_err()
            .to_string(),
        "ExpressionAttributeNames can only be specified when using expressions"
    );
}
