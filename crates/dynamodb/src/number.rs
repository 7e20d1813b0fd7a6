//! DynamoDB's `N` type: an exact decimal with at most 38 significant digits.
//!
//! This module owns parsing (with DynamoDB's exact error texts), canonical printing, numeric
//! ordering and exact addition/subtraction. It depends on nothing else in the crate.
//!
//! INVARIANT (for every `Number` value that exists):
//! - zero is `{ negative: false, coefficient: 0, exponent: 0 }`;
//! - otherwise `coefficient % 10 != 0` (trailing zeros are folded into `exponent`),
//!   `coefficient < 10^38`, and the scientific exponent (`exponent + digits - 1`) lies in
//!   `-130..=125`, i.e. the magnitude is within AWS's range `1E-130 ..= 9.99…9E+125`.
//!
//! Because the representation is canonical, structural equality is numeric equality
//! (`1.0 == 1`), and `Hash` agrees with `Eq`.
//!
//! Sources for the texts: the developer guide's "Data types" (range and 38 digits), and the
//! validation tests of dynalite (`test/query.js`, "empty/invalid numbers"), which were recorded
//! against DynamoDB.

use std::cmp::Ordering;
use std::fmt;

/// The largest scientific exponent DynamoDB stores (`9.99…9E+125`).
const MAX_SCI_EXPONENT: i64 = 125;
/// The smallest scientific exponent DynamoDB stores (`1E-130`).
const MIN_SCI_EXPONENT: i64 = -130;
/// At most this many significant digits.
pub const MAX_DIGITS: usize = 38;

/// An exact decimal number as DynamoDB stores it. See the module docs for the invariants.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    /// Sign; never set for zero.
    negative: bool,
    /// The significant digits as an integer, without trailing zeros (< 10^38).
    coefficient: u128,
    /// The value is `coefficient * 10^exponent`.
    exponent: i32,
}

/// Why a number was refused. `Display` is DynamoDB's message text for that failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// The empty string.
    #[error("The parameter cannot be converted to a numeric value")]
    Empty,
    /// Not a decimal number (`"b"`, `"NaN"`, `" 1"`, `"0x1"`); carries the input.
    #[error("The parameter cannot be converted to a numeric value: {0}")]
    Syntax(String),
    /// More than 38 significant digits (leading and trailing zeros do not count).
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooManyDigits,
    /// Magnitude above `9.99…9E+125`.
    #[error(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )]
    Overflow,
    /// Non-zero magnitude below `1E-130`.
    #[error(
        "Number underflow. Attempting to store a number with magnitude smaller than supported range"
    )]
    Underflow,
}

impl Number {
    /// Zero.
    pub const ZERO: Number = Number {
        negative: false,
        coefficient: 0,
        exponent: 0,
    };

    /// Parses DynamoDB's (Java `BigDecimal`'s) number syntax: an optional sign, digits with an
    /// optional decimal point (`"1."`, `".5"` are accepted), an optional exponent `e`/`E` with an
    /// optional sign. Whitespace, `NaN`, `Infinity` and hexadecimal are refused.
    ///
    /// Errors are checked in the order DynamoDB reports them: syntax, overflow, underflow, digits.
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        if s.is_empty() {
            return Err(NumberError::Empty);
        }
        let syntax = || NumberError::Syntax(s.to_owned());
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if let Some(&c) = bytes.first()
            && (c == b'+' || c == b'-')
        {
            negative = c == b'-';
            i = 1;
        }
        // Significant digits (leading zeros skipped), and the power of ten of the last digit read.
        let mut digits: Vec<u8> = Vec::new();
        let mut seen_digit = false;
        let mut seen_point = false;
        // Number of digits after the decimal point, to turn the digit string into an exponent.
        let mut fraction_len: i64 = 0;
        while let Some(&c) = bytes.get(i) {
            match c {
                b'0'..=b'9' => {
                    seen_digit = true;
                    if seen_point {
                        fraction_len += 1;
                    }
                    if !(digits.is_empty() && c == b'0') {
                        digits.push(c - b'0');
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return Err(syntax());
        }
        let mut exp_part: i64 = 0;
        if let Some(&c) = bytes.get(i) {
            if c != b'e' && c != b'E' {
                return Err(syntax());
            }
            i += 1;
            let mut exp_negative = false;
            if let Some(&c) = bytes.get(i)
                && (c == b'+' || c == b'-')
            {
                exp_negative = c == b'-';
                i += 1;
            }
            let start = i;
            while let Some(&c) = bytes.get(i) {
                if !c.is_ascii_digit() {
                    return Err(syntax());
                }
                // Saturate: anything this large is out of range anyway.
                exp_part = exp_part
                    .saturating_mul(10)
                    .saturating_add(i64::from(c - b'0'))
                    .min(1_000_000_000_000);
                i += 1;
            }
            if i == start {
                return Err(syntax());
            }
            if exp_negative {
                exp_part = -exp_part;
            }
        }
        // value = 0.digits... : digits * 10^(exp_part - fraction_len)
        let mut exponent = exp_part - fraction_len;
        while digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        if digits.is_empty() {
            return Ok(Number::ZERO);
        }
        Self::from_digits(negative, &digits, exponent)
    }

    /// Builds a number from big-endian significant digits (no leading or trailing zeros,
    /// non-empty) and the exponent of the last digit, checking range and precision.
    fn from_digits(negative: bool, digits: &[u8], exponent: i64) -> Result<Number, NumberError> {
        let len = i64::try_from(digits.len()).unwrap_or(i64::MAX);
        let sci = exponent.saturating_add(len - 1);
        if sci > MAX_SCI_EXPONENT {
            return Err(NumberError::Overflow);
        }
        if sci < MIN_SCI_EXPONENT {
            return Err(NumberError::Underflow);
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::TooManyDigits);
        }
        let coefficient = digits
            .iter()
            .fold(0u128, |acc, &d| acc * 10 + u128::from(d));
        let exponent = i32::try_from(exponent).map_err(|_| NumberError::Overflow)?;
        Ok(Number {
            negative,
            coefficient,
            exponent,
        })
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.coefficient == 0
    }

    /// Whether this is strictly negative.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The number of significant digits (1 for zero), as used by DynamoDB's item-size rule.
    pub fn significant_digits(&self) -> usize {
        if self.coefficient == 0 {
            1
        } else {
            // < 10^38, so at most 38 digits.
            self.coefficient.ilog10() as usize + 1
        }
    }

    /// The scientific exponent `e` of `d.ddd × 10^e` (0 for zero); within `-130..=125`.
    pub fn scientific_exponent(&self) -> i32 {
        if self.coefficient == 0 {
            0
        } else {
            // ilog10 < 38, fits i32.
            self.exponent + self.coefficient.ilog10() as i32
        }
    }

    /// The significant digits, most significant first (`[0]` for zero).
    pub fn digits(&self) -> Vec<u8> {
        self.coefficient
            .to_string()
            .bytes()
            .map(|b| b - b'0')
            .collect()
    }

    /// The negation of this number (zero stays zero).
    pub fn negated(&self) -> Number {
        Number {
            negative: !self.negative && self.coefficient != 0,
            ..self.clone()
        }
    }

    /// Exact `self + other`; errors when the result leaves DynamoDB's range or needs more than
    /// 38 digits. (AWS documents no rounding for `SET a = a + :v` / `ADD`; we refuse instead of
    /// rounding, with the same texts as for stored numbers.)
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        let base = self.exponent.min(other.exponent);
        let a = self.aligned_digits(base);
        let b = other.aligned_digits(base);
        let (negative, mut sum) = if self.negative == other.negative {
            (self.negative, add_magnitudes(&a, &b))
        } else {
            match cmp_magnitudes(&a, &b) {
                Ordering::Equal => return Ok(Number::ZERO),
                Ordering::Greater => (self.negative, sub_magnitudes(&a, &b)),
                Ordering::Less => (other.negative, sub_magnitudes(&b, &a)),
            }
        };
        // `sum` is little-endian; strip trailing (low) zeros into the exponent.
        let mut exponent = i64::from(base);
        let low_zeros = sum.iter().take_while(|&&d| d == 0).count();
        sum.drain(..low_zeros);
        exponent += i64::try_from(low_zeros).unwrap_or(0);
        while sum.last() == Some(&0) {
            sum.pop();
        }
        sum.reverse();
        if sum.is_empty() {
            return Ok(Number::ZERO);
        }
        Self::from_digits(negative, &sum, exponent)
    }

    /// Exact `self - other`; see [`Number::checked_add`].
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.checked_add(&other.negated())
    }

    /// Little-endian decimal digits of the magnitude scaled to `10^base` (`base <= exponent`).
    fn aligned_digits(&self, base: i32) -> Vec<u8> {
        let shift = usize::try_from(i64::from(self.exponent) - i64::from(base)).unwrap_or(0);
        let mut out = vec![0u8; shift];
        let mut c = self.coefficient;
        while c > 0 {
            // c % 10 < 10
            out.push((c % 10) as u8);
            c /= 10;
        }
        out
    }

    /// Compares magnitudes only.
    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match (self.coefficient == 0, other.coefficient == 0) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        self.scientific_exponent()
            .cmp(&other.scientific_exponent())
            .then_with(|| normalized_38(self.coefficient).cmp(&normalized_38(other.coefficient)))
    }
}

/// Scales a non-zero coefficient to exactly 38 digits so that coefficients with the same
/// scientific exponent compare as integers.
fn normalized_38(c: u128) -> u128 {
    let digits = c.ilog10() + 1;
    c * 10u128.pow(38 - digits.min(38))
}

fn cmp_magnitudes(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |v: &[u8]| v.len() - v.iter().rev().take_while(|&&d| d == 0).count();
    let (la, lb) = (trim(a), trim(b));
    la.cmp(&lb)
        .then_with(|| a.iter().take(la).rev().cmp(b.iter().take(lb).rev()))
}

fn add_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let n = a.len().max(b.len());
    let mut out = Vec::with_capacity(n + 1);
    let mut carry = 0u8;
    for i in 0..n {
        let s = a.get(i).copied().unwrap_or(0) + b.get(i).copied().unwrap_or(0) + carry;
        out.push(s % 10);
        carry = s / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    out
}

/// `a - b` for magnitudes with `a >= b`.
fn sub_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i8;
    for (i, &da) in a.iter().enumerate() {
        // Digits are < 10, so the arithmetic fits in i8.
        let mut d = da as i8 - b.get(i).copied().unwrap_or(0) as i8 - borrow;
        if d < 0 {
            d += 10;
            borrow = 1;
        } else {
            borrow = 0;
        }
        out.push(d as u8);
    }
    out
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// DynamoDB returns numbers in plain notation with leading and trailing zeros trimmed:
/// `"1.50"` → `1.5`, `"1e3"` → `1000`, `"-0"` → `0`, `"1e-5"` → `0.00001`, `"1e125"` → a 1
/// followed by 125 zeros (as dynalite does, which mirrors DynamoDB's responses).
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.coefficient == 0 {
            return f.write_str("0");
        }
        let digits = self.coefficient.to_string();
        let mut out = String::with_capacity(digits.len() + 140);
        if self.negative {
            out.push('-');
        }
        if self.exponent >= 0 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n(
                '0',
                self.exponent.unsigned_abs() as usize,
            ));
        } else {
            let frac = self.exponent.unsigned_abs() as usize;
            if frac < digits.len() {
                let (int_part, frac_part) = digits.split_at(digits.len() - frac);
                out.push_str(int_part);
                out.push('.');
                out.push_str(frac_part);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', frac - digits.len()));
                out.push_str(&digits);
            }
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl std::str::FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        let mut coefficient = u128::from(v.unsigned_abs());
        if coefficient == 0 {
            return Number::ZERO;
        }
        let mut exponent = 0;
        while coefficient % 10 == 0 {
            coefficient /= 10;
            exponent += 1;
        }
        Number {
            negative: v < 0,
            coefficient,
            exponent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn canonical_printing_trims_zeros_and_uses_plain_notation() {
        for (input, printed) in [
            ("1", "1"),
            ("1.50", "1.5"),
            ("1e3", "1000"),
            ("-0", "0"),
            ("0.000", "0"),
            ("+7", "7"),
            ("-1.23E-2", "-0.0123"),
            (".5", "0.5"),
            ("5.", "5"),
            ("00012.3400", "12.34"),
            ("1e-5", "0.00001"),
            ("0e999999999999999", "0"),
        ] {
            assert_eq!(n(input).to_string(), printed, "{input}");
        }
        assert_eq!(n("1e125").to_string().len(), 126);
    }

    #[test]
    fn malformed_numbers_report_dynamodb_texts() {
        assert_eq!(
            Number::parse("").unwrap_err().to_string(),
            "The parameter cannot be converted to a numeric value"
        );
        for bad in [
            "b", "NaN", "Infinity", " 1", "1 ", "1e", "e5", ".", "-", "1.2.3", "0x10", "1e+",
        ] {
            assert_eq!(
                Number::parse(bad).unwrap_err().to_string(),
                format!("The parameter cannot be converted to a numeric value: {bad}")
            );
        }
    }

    #[test]
    fn range_and_precision_limits_match_dynamodb() {
        let digits = "Attempting to store more than 38 significant digits in a Number";
        let over = "Number overflow. Attempting to store a number with magnitude larger than supported range";
        let under = "Number underflow. Attempting to store a number with magnitude smaller than supported range";
        for (input, msg) in [
            ("123456789012345678901234567890123456789", digits),
            ("-1.23456789012345678901234567890123456789", digits),
            ("1e126", over),
            ("-1e126", over),
            ("1e-131", under),
            ("-1e-131", under),
            ("1e99999999999999999999999", over),
        ] {
            assert_eq!(
                Number::parse(input).unwrap_err().to_string(),
                msg,
                "{input}"
            );
        }
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert!(Number::parse("1E-130").is_ok());
        assert!(Number::parse("12345678901234567890123456789012345678000000").is_ok());
    }

    #[test]
    fn numbers_compare_numerically() {
        assert_eq!(n("1.0"), n("1"));
        assert!(n("-2") < n("-1"));
        assert!(n("-1") < n("0"));
        assert!(n("0.001") < n("0.01"));
        assert!(n("99") < n("100"));
        assert!(n("-100") < n("-99"));
    }

    #[test]
    fn addition_is_exact_and_refuses_lost_precision() {
        assert_eq!(n("0.1").checked_add(&n("0.2")).unwrap(), n("0.3"));
        assert_eq!(n("5").checked_sub(&n("7")).unwrap(), n("-2"));
        assert_eq!(n("5").checked_sub(&n("5")).unwrap(), Number::ZERO);
        assert_eq!(
            n("1e30").checked_add(&n("1e-30")).unwrap_err(),
            NumberError::TooManyDigits
        );
        assert_eq!(
            n("9e125").checked_add(&n("9e125")).unwrap_err(),
            NumberError::Overflow
        );
    }
}
