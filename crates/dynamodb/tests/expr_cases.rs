//! Table-driven cases for the expression language: (expression, item, expected result or
//! exact AWS error text).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns"
)]

use std::collections::{BTreeMap, HashMap};

use rampart_dynamodb::expr::{
    ConditionKind, KeyCondition, Placeholders, RangeCondition, parse_condition,
    parse_key_condition, parse_projection, parse_update,
};
use rampart_dynamodb::keys::KeyType;
use rampart_dynamodb::value::{AttributeValue, Item};

fn av(json: &str) -> AttributeValue {
    serde_json::from_str(json).unwrap()
}

fn item(json: &str) -> Item {
    serde_json::from_str(json).unwrap()
}

fn values() -> HashMap<String, AttributeValue> {
    [
        (":s", r#"{"S":"abc"}"#),
        (":a", r#"{"S":"a"}"#),
        (":z", r#"{"S":"z"}"#),
        (":n1", r#"{"N":"1"}"#),
        (":n2", r#"{"N":"2"}"#),
        (":n5", r#"{"N":"5"}"#),
        (":n10", r#"{"N":"10"}"#),
        (":t", r#"{"BOOL":true}"#),
        (":ss", r#"{"SS":["x","y"]}"#),
        (":ns", r#"{"NS":["1","3"]}"#),
        (":l", r#"{"L":[{"S":"q"}]}"#),
        (":tS", r#"{"S":"S"}"#),
        (":tBad", r#"{"S":"STRING"}"#),
        (":null", r#"{"NULL":true}"#),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), av(v)))
    .collect()
}

fn names() -> HashMap<String, String> {
    [("#n", "name"), ("#dot", "a.b"), ("#s", "status")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

const ITEM: &str = r#"{
  "id": {"S":"abc"}, "n": {"N":"5"}, "name": {"S":"héllo"}, "a.b": {"N":"1"},
  "ss": {"SS":["x","y","z"]}, "ns": {"NS":["1","2","3"]}, "b": {"B":"AQID"},
  "l": {"L":[{"S":"q"},{"N":"2"},{"M":{"c":{"S":"deep"}}}]},
  "m": {"M":{"k":{"S":"v"},"n":{"N":"10"}}}, "t": {"BOOL":true}, "nul": {"NULL":true}
}"#;

fn cond(expr: &str) -> Result<bool, String> {
    let (n, v) = (names(), values());
    let mut p = Placeholders::new(Some(&n), Some(&v));
    let c = parse_condition(expr, &mut p, ConditionKind::Condition).map_err(|e| e.to_string())?;
    c.eval(&item(ITEM)).map_err(|e| e.to_string())
}

#[test]
fn conditions_evaluate_like_dynamodb() {
    let cases: &[(&str, bool)] = &[
        ("id = :s", true),
        ("id <> :s", false),
        ("id = :n1", false),
        ("id <> :n1", true),
        ("absent <> :s", true),
        ("absent = :s", false),
        ("n > :n2", true),
        ("n >= :n5 AND n <= :n5", true),
        ("n < :s", false),
        ("n BETWEEN :n1 AND :n10", true),
        ("id BETWEEN :a AND :z", true),
        ("n BETWEEN :a AND :z", false),
        ("n IN (:n1, :n2, :n5)", true),
        ("n IN (:n1, :n2)", false),
        ("NOT n = :n5", false),
        ("n = :n1 OR n = :n5 AND id = :s", true),
        ("(n = :n1 OR n = :n5) AND id = :a", false),
        ("NOT (n = :n1) AND NOT n = :n2", true),
        ("attribute_exists(m.k)", true),
        ("attribute_exists(m.nope)", false),
        ("attribute_not_exists(nope)", true),
        ("attribute_exists(l[2].c)", true),
        ("attribute_exists(l[3])", false),
        ("attribute_type(n, :tS)", false),
        ("attribute_type(id, :tS)", true),
        ("begins_with(id, :a)", true),
        ("begins_with(id, :z)", false),
        ("begins_with(n, :a)", false),
        ("contains(id, :s)", true),
        ("contains(ss, :a)", false),
        ("contains(l, :s)", false),
        ("contains(ns, :n2)", true),
        ("size(#n) = :n5", true),
        ("size(ss) = :n1", false),
        ("size(l) > :n2", true),
        ("size(m) = :n2", true),
        ("size(b) BETWEEN :n1 AND :n5", true),
        ("size(n) > :n1", false),
        ("#dot = :n1", true),
        ("m.n = :n10", true),
        ("l[1] = :n2", true),
        ("ss = :ss", false),
        ("t = :t", true),
        ("nul = :null", true),
        ("(n) = :n5", true),
        ("n = m.n", false),
        ("m.n > n", true),
    ];
    for (expr, expected) in cases {
        assert_eq!(cond(expr), Ok(*expected), "{expr}");
    }
}

#[test]
fn sets_compare_as_sets() {
    let mut v = values();
    v.insert(":ss2".into(), av(r#"{"SS":["z","y","x"]}"#));
    let n = names();
    let mut p = Placeholders::new(Some(&n), Some(&v));
    let c = parse_condition("ss = :ss2", &mut p, ConditionKind::Condition).unwrap();
    assert!(c.eval(&item(ITEM)).unwrap());
}

#[test]
fn condition_errors_use_dynamodb_texts() {
    let cases: &[(&str, &str)] = &[
        (
            "",
            "Invalid ConditionExpression: The expression can not be empty;",
        ),
        (
            "a =",
            r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "=""#,
        ),
        (
            "foo",
            r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "foo""#,
        ),
        (
            "name = :s",
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name",
        ),
        (
            "a = :nope",
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope",
        ),
        (
            "#x = :s",
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x",
        ),
        (
            "foo(a)",
            "Invalid ConditionExpression: Invalid function name; function: foo",
        ),
        (
            "attribute_exists(a, b)",
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2",
        ),
        (
            "((a = :s))",
            "Invalid ConditionExpression: The expression has redundant parentheses;",
        ),
        (
            "a = a",
            "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]",
        ),
        (
            "size(a)",
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "attribute_exists(a) = :t",
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists",
        ),
        (
            "list_append(a, :l) = :l",
            "Invalid ConditionExpression: The function is not allowed in a condition expression; function: list_append",
        ),
        (
            "attribute_exists(:s)",
            "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "begins_with(a, :n1)",
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        ),
        (
            "size(:n1) = :n1",
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: N",
        ),
        (
            "attribute_type(a, :tBad)",
            "Invalid ConditionExpression: Invalid attribute type name found; type: STRING, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        (
            "attribute_type(a, :n1)",
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N",
        ),
        (
            "a BETWEEN :n1 AND :s",
            "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:abc}",
        ),
        (
            "a BETWEEN :n2 AND :n1",
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}",
        ),
        // priority: redundant parentheses before an unknown function before a reserved word
        (
            "((name = :s)) AND foo(a)",
            "Invalid ConditionExpression: The expression has redundant parentheses;",
        ),
        (
            "name = :s AND foo(a)",
            "Invalid ConditionExpression: Invalid function name; function: foo",
        ),
        (
            "name = :nope",
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name",
        ),
    ];
    for (expr, msg) in cases {
        assert_eq!(cond(expr), Err((*msg).to_owned()), "{expr}");
    }
    let long = format!("a = :s{}", " ".repeat(4100));
    assert_eq!(
        cond(&long),
        Err("Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4106".to_owned())
    );
}

#[test]
fn unused_placeholders_are_reported_after_all_expressions() {
    let n = names();
    let v = values();
    let mut p = Placeholders::new(Some(&n), Some(&v));
    parse_condition("#n = :s", &mut p, ConditionKind::Condition).unwrap();
    assert_eq!(
        p.finish().unwrap_err().to_string(),
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#dot, #s}"
    );
    let v: HashMap<String, AttributeValue> = [
        (":a".to_owned(), av(r#"{"S":"a"}"#)),
        (":b".to_owned(), av(r#"{"S":"b"}"#)),
    ]
    .into();
    let mut p = Placeholders::new(None, Some(&v));
    parse_condition("x = :a", &mut p, ConditionKind::Filter).unwrap();
    assert_eq!(
        p.finish().unwrap_err().to_string(),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"
    );
}

#[test]
fn placeholder_maps_are_checked_before_parsing() {
    let bad: HashMap<String, String> = [("n".to_owned(), "x".to_owned())].into();
    assert_eq!(
        Placeholders::new(Some(&bad), None)
            .check_keys()
            .unwrap_err()
            .to_string(),
        r#"ExpressionAttributeNames contains invalid key: Syntax error; key: "n""#
    );
    let empty: HashMap<String, AttributeValue> = HashMap::new();
    assert_eq!(
        Placeholders::new(None, Some(&empty))
            .check_keys()
            .unwrap_err()
            .to_string(),
        "ExpressionAttributeValues must not be empty"
    );
}

fn update(expr: &str, start: &str) -> Result<Item, String> {
    let (n, v) = (names(), values());
    let mut p = Placeholders::new(Some(&n), Some(&v));
    let u = parse_update(expr, &mut p).map_err(|e| e.to_string())?;
    let mut it = item(start);
    u.apply(&mut it).map_err(|e| e.to_string())?;
    Ok(it)
}

#[test]
fn updates_apply_like_dynamodb() {
    let cases: &[(&str, &str, &str)] = &[
        ("SET a = :s", "{}", r#"{"a":{"S":"abc"}}"#),
        (
            "SET a = a + :n1",
            r#"{"a":{"N":"5"}}"#,
            r#"{"a":{"N":"6"}}"#,
        ),
        (
            "SET a = :n1 - a",
            r#"{"a":{"N":"5"}}"#,
            r#"{"a":{"N":"-4"}}"#,
        ),
        ("SET a = if_not_exists(a, :n1)", "{}", r#"{"a":{"N":"1"}}"#),
        (
            "SET a = if_not_exists(a, :n1) + :n2",
            r#"{"a":{"N":"5"}}"#,
            r#"{"a":{"N":"7"}}"#,
        ),
        (
            "SET l = list_append(l, :l)",
            r#"{"l":{"L":[{"N":"1"}]}}"#,
            r#"{"l":{"L":[{"N":"1"},{"S":"q"}]}}"#,
        ),
        (
            "SET l = list_append(:l, l)",
            r#"{"l":{"L":[{"N":"1"}]}}"#,
            r#"{"l":{"L":[{"S":"q"},{"N":"1"}]}}"#,
        ),
        (
            "SET l[5] = :n1",
            r#"{"l":{"L":[{"N":"0"}]}}"#,
            r#"{"l":{"L":[{"N":"0"},{"N":"1"}]}}"#,
        ),
        (
            "SET m.k = :n1",
            r#"{"m":{"M":{}}}"#,
            r#"{"m":{"M":{"k":{"N":"1"}}}}"#,
        ),
        (
            "SET x = y, y = x",
            r#"{"x":{"N":"1"},"y":{"N":"2"}}"#,
            r#"{"x":{"N":"2"},"y":{"N":"1"}}"#,
        ),
        (
            "REMOVE a, l[0], l[2]",
            r#"{"a":{"N":"1"},"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"}]}}"#,
            r#"{"l":{"L":[{"N":"1"},{"N":"3"}]}}"#,
        ),
        (
            "REMOVE nope, l[9]",
            r#"{"l":{"L":[{"N":"0"}]}}"#,
            r#"{"l":{"L":[{"N":"0"}]}}"#,
        ),
        ("ADD c :n2", "{}", r#"{"c":{"N":"2"}}"#),
        ("ADD c :n2", r#"{"c":{"N":"-2"}}"#, r#"{"c":{"N":"0"}}"#),
        (
            "ADD s :ss",
            r#"{"s":{"SS":["w","x"]}}"#,
            r#"{"s":{"SS":["w","x","y"]}}"#,
        ),
        (
            "DELETE s :ss",
            r#"{"s":{"SS":["w","x"]}}"#,
            r#"{"s":{"SS":["w"]}}"#,
        ),
        ("DELETE s :ss", r#"{"s":{"SS":["x","y"]}}"#, "{}"),
        ("DELETE s :ss", "{}", "{}"),
        (
            "set a = :s remove b",
            r#"{"b":{"N":"1"}}"#,
            r#"{"a":{"S":"abc"}}"#,
        ),
        ("SET #s = :s", "{}", r#"{"status":{"S":"abc"}}"#),
    ];
    for (expr, start, expected) in cases {
        assert_eq!(update(expr, start), Ok(item(expected)), "{expr} on {start}");
    }
}

#[test]
fn update_errors_use_dynamodb_texts() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "SET a = :s SET b = :s",
            "{}",
            r#"Invalid UpdateExpression: The "SET" section can only be used once in an update expression;"#,
        ),
        (
            "SET name = :s",
            "{}",
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name",
        ),
        (
            "SET a = :s, a.b = :s",
            "{}",
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]",
        ),
        (
            "SET a.b = :s REMOVE a[1]",
            "{}",
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]",
        ),
        (
            "SET a = :s + :n1",
            "{}",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S",
        ),
        (
            "SET a = list_append(a, :s)",
            "{}",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S",
        ),
        (
            "SET a = if_not_exists(:s, a)",
            "{}",
            "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists",
        ),
        (
            "SET a = size(b)",
            "{}",
            "Invalid UpdateExpression: The function is not allowed in an update expression; function: size",
        ),
        (
            "SET a = foo(b)",
            "{}",
            "Invalid UpdateExpression: Invalid function name; function: foo",
        ),
        (
            "ADD a :s",
            "{}",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING",
        ),
        (
            "DELETE a :n1",
            "{}",
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER",
        ),
        (
            "SET MyStr = my Num",
            "{}",
            r#"Invalid UpdateExpression: Syntax error; token: "Num", near: "my Num""#,
        ),
        (
            "SET a = b + c + d",
            "{}",
            r#"Invalid UpdateExpression: Syntax error; token: "+", near: "c + d""#,
        ),
        (
            "SET a = nope + :n1",
            "{}",
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET a = b + :n1",
            r#"{"b":{"S":"x"}}"#,
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET a.b.c = :s",
            r#"{"a":{"M":{}}}"#,
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET s[1] = :s",
            r#"{"s":{"S":"x"}}"#,
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "ADD s :ns",
            r#"{"s":{"SS":["x"]}}"#,
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET a = a + a",
            r#"{"a":{"N":"9E+125"}}"#,
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
    ];
    for (expr, start, msg) in cases {
        assert_eq!(update(expr, start), Err((*msg).to_owned()), "{expr}");
    }
}

#[test]
fn update_reports_paths_and_attributes() {
    let v = values();
    let mut p = Placeholders::new(None, Some(&v));
    let u = parse_update("SET a.b = c, d = :s REMOVE e ADD f :n1", &mut p).unwrap();
    assert!(u.touches("a") && u.touches("f") && !u.touches("c"));
    let attrs: Vec<String> = u.top_level_attributes().into_iter().collect();
    assert_eq!(attrs, ["a", "c", "d", "e", "f"]);
    let mut it = item(r#"{"a":{"M":{}},"c":{"N":"1"}}"#);
    let paths = u.apply(&mut it).unwrap();
    let shown: Vec<String> = paths.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["a.b", "d", "e", "f"]);
}

#[test]
fn projections_keep_only_the_named_paths() {
    let n = names();
    let mut p = Placeholders::new(Some(&n), None);
    let proj = parse_projection("id, m.k, l[2].c, l[0], #dot, nope", &mut p).unwrap();
    let out = proj.apply(&item(ITEM));
    let expected = item(
        r#"{"id":{"S":"abc"},"m":{"M":{"k":{"S":"v"}}},"l":{"L":[{"S":"q"},{"M":{"c":{"S":"deep"}}}]},"a.b":{"N":"1"}}"#,
    );
    assert_eq!(out, expected);
    let mut p = Placeholders::new(None, None);
    assert_eq!(
        parse_projection("a, a.b", &mut p).unwrap_err().to_string(),
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
    );
    assert_eq!(
        parse_projection("a,", &mut p).unwrap_err().to_string(),
        r#"Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ",""#
    );
    assert_eq!(
        parse_projection("comment", &mut p).unwrap_err().to_string(),
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: comment"
    );
}

fn key(expr: &str) -> Result<KeyCondition, String> {
    let v = values();
    let mut p = Placeholders::new(None, Some(&v));
    parse_key_condition(expr, &mut p, "id", Some("rk")).map_err(|e| e.to_string())
}

#[test]
fn key_conditions_split_into_hash_and_range() {
    let k = key("id = :s AND rk BETWEEN :a AND :z").unwrap();
    assert_eq!(k.hash, av(r#"{"S":"abc"}"#));
    assert_eq!(
        k.range,
        Some(RangeCondition::Between(
            av(r#"{"S":"a"}"#),
            av(r#"{"S":"z"}"#)
        ))
    );
    let k = key(":n1 < rk AND id = :s").unwrap();
    assert_eq!(k.range, Some(RangeCondition::Gt(av(r#"{"N":"1"}"#))));
    let k = key("begins_with(rk, :a) AND id = :s").unwrap();
    assert_eq!(
        k.range,
        Some(RangeCondition::BeginsWith(av(r#"{"S":"a"}"#)))
    );
    assert!(k.range.as_ref().unwrap().matches(&av(r#"{"S":"abc"}"#)));
    assert_eq!(key("id = :s").unwrap().range, None);
    assert!(
        k.check_types(("id", KeyType::S), Some(("rk", KeyType::S)))
            .is_ok()
    );
    assert_eq!(
        k.check_types(("id", KeyType::N), Some(("rk", KeyType::S)))
            .unwrap_err()
            .to_string(),
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    );
}

#[test]
fn key_condition_errors_use_dynamodb_texts() {
    let cases: &[(&str, &str)] = &[
        ("rk = :s", "Query condition missed key schema element: id"),
        ("id > :s", "Query key condition not supported"),
        (
            "id = :s AND x = :a",
            "Query condition missed key schema element: rk",
        ),
        (
            "id = :s OR rk = :a",
            "Invalid operator used in KeyConditionExpression: OR",
        ),
        (
            "id = :s AND NOT rk = :a",
            "Invalid operator used in KeyConditionExpression: NOT",
        ),
        (
            "id IN (:s)",
            "Invalid operator used in KeyConditionExpression: IN",
        ),
        (
            "id <> :s",
            "Invalid operator used in KeyConditionExpression: <>",
        ),
        (
            "attribute_exists(id)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        (
            "id = :s AND size(rk) = :n1",
            "KeyConditionExpressions cannot contain nested operations",
        ),
        (
            "id = :s AND id = :a",
            "KeyConditionExpressions must only contain one condition per key",
        ),
        (
            "id = rk",
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
        ),
        (
            "id.x = :s",
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
        (
            ":s = :a",
            "Invalid condition in KeyConditionExpression: No key attribute specified",
        ),
        (
            "begins_with(:a, rk)",
            "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand",
        ),
        (
            "id = ",
            r#"Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "= ""#,
        ),
    ];
    for (expr, msg) in cases {
        assert_eq!(key(expr).map(|_| ()), Err((*msg).to_owned()), "{expr}");
    }
}

#[test]
fn printed_expressions_parse_back_to_the_same_ast() {
    let (n, v) = (names(), values());
    for expr in [
        "NOT (a = :s OR b.c[1] <> :n1) AND size(d) BETWEEN :n1 AND :n2",
        "a IN (:s, :a, :z) OR begins_with(#n, :a) OR contains(ss, :a)",
        "attribute_type(x, :tS) AND attribute_not_exists(y[0].z)",
    ] {
        let mut p = Placeholders::new(Some(&n), Some(&v));
        let c = parse_condition(expr, &mut p, ConditionKind::Filter).unwrap();
        let printed = c.to_expression();
        let mut p2 = Placeholders::new(Some(&printed.names), Some(&printed.values));
        let back = parse_condition(&printed.expression, &mut p2, ConditionKind::Filter).unwrap();
        assert_eq!(back, c, "{}", printed.expression);
        p2.finish().unwrap();
    }
    let mut p = Placeholders::new(Some(&n), Some(&v));
    let u = parse_update(
        "REMOVE x[1] SET a = if_not_exists(a, :n1) + :n2, b = list_append(b, :l) ADD c :ns DELETE d :ss",
        &mut p,
    )
    .unwrap();
    let printed = u.to_expression();
    let mut p2 = Placeholders::new(Some(&printed.names), Some(&printed.values));
    assert_eq!(parse_update(&printed.expression, &mut p2).unwrap(), u);
    let _unused: BTreeMap<(), ()> = BTreeMap::new();
}
