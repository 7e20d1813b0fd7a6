//! Property tests for `Number`: parse/print round trip, ordering and exact arithmetic against a
//! big-decimal oracle (`bigdecimal`).
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

use std::str::FromStr;

use bigdecimal::BigDecimal;
use proptest::prelude::*;
use rampart_dynamodb::number::{Number, NumberError};

/// Decimal strings in many spellings: sign, leading/trailing zeros, point, exponent.
fn number_text() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(""), Just("-"), Just("+")],
        "0{0,3}[0-9]{1,20}",
        proptest::option::of("[0-9]{0,20}"),
        proptest::option::of((prop_oneof![Just("e"), Just("E")], -140i32..140)),
    )
        .prop_map(|(sign, int, frac, exp)| {
            let mut s = format!("{sign}{int}");
            if let Some(f) = frac {
                s.push('.');
                s.push_str(&f);
            }
            if let Some((e, x)) = exp {
                s.push_str(&format!("{e}{x}"));
            }
            s
        })
}

/// Numbers that DynamoDB accepts.
fn valid_number() -> impl Strategy<Value = Number> {
    number_text().prop_filter_map("in range", |s| Number::parse(&s).ok())
}

fn oracle(n: &Number) -> BigDecimal {
    BigDecimal::from_str(&n.to_string()).unwrap()
}

proptest! {
    #[test]
    fn printed_numbers_parse_back_to_the_same_number(s in number_text()) {
        if let Ok(n) = Number::parse(&s) {
            let printed = n.to_string();
            prop_assert_eq!(Number::parse(&printed).unwrap(), n.clone());
            // and the printed value is the same decimal as the input
            prop_assert_eq!(BigDecimal::from_str(&printed).unwrap(), BigDecimal::from_str(&s.replace('+', "")).unwrap());
        }
    }

    #[test]
    fn parse_accepts_exactly_the_in_range_numbers_of_at_most_38_digits(s in number_text()) {
        let exact = BigDecimal::from_str(&s.replace('+', "")).unwrap().normalized();
        let result = Number::parse(&s);
        if exact == 0 {
            prop_assert!(result.is_ok());
            return Ok(());
        }
        let (digits, scale) = exact.abs().as_bigint_and_exponent();
        let ndigits = digits.to_string().len() as i64;
        let sci = ndigits - 1 - scale;
        match result {
            Ok(_) => prop_assert!((-130..=125).contains(&sci) && ndigits <= 38),
            Err(NumberError::Overflow) => prop_assert!(sci > 125),
            Err(NumberError::Underflow) => prop_assert!(sci < -130),
            Err(NumberError::TooManyDigits) => prop_assert!(ndigits > 38),
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn ordering_agrees_with_the_oracle(a in valid_number(), b in valid_number()) {
        prop_assert_eq!(a.cmp(&b), oracle(&a).cmp(&oracle(&b)));
        prop_assert_eq!(a == b, oracle(&a) == oracle(&b));
    }

    #[test]
    fn addition_and_subtraction_agree_with_the_oracle(a in valid_number(), b in valid_number()) {
        for (result, exact) in [
            (a.checked_add(&b), oracle(&a) + oracle(&b)),
            (a.checked_sub(&b), oracle(&a) - oracle(&b)),
        ] {
            match result {
                Ok(n) => prop_assert_eq!(oracle(&n), exact),
                // whatever was refused must really be out of range or too precise
                Err(_) => prop_assert!(matches!(
                    Number::parse(&exact.normalized().to_string()),
                    Err(NumberError::Overflow | NumberError::Underflow | NumberError::TooManyDigits)
                )),
            }
        }
    }
}
