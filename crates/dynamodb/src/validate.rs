//! DynamoDB's request-constraint errors: "N validation error(s) detected:
//! Value '…' at '…' failed to satisfy constraint: …", collected across the
//! request and reported together, as DynamoDB's front end does.

use crate::error::DynamoError;

/// Collects constraint violations of one request.
#[derive(Debug, Default)]
pub struct Validator {
    /// The violations, in the order found.
    errors: Vec<String>,
}

/// How DynamoDB quotes a value in a constraint message.
fn quoted(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("'{v}'"),
        None => "null".into(),
    }
}

impl Validator {
    /// A validator with no errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation in DynamoDB's words.
    pub fn fail(&mut self, value: Option<&str>, at: &str, constraint: &str) {
        self.errors.push(format!(
            "Value {} at '{at}' failed to satisfy constraint: {constraint}",
            quoted(value)
        ));
    }

    /// `Member must not be null`.
    pub fn not_null<T>(&mut self, v: &Option<T>, at: &str) -> bool {
        if v.is_none() {
            self.fail(None, at, "Member must not be null");
            false
        } else {
            true
        }
    }

    /// Length and pattern of a table or index name: 3..=255 of `[a-zA-Z0-9_.-]`.
    pub fn name(&mut self, v: Option<&str>, at: &str, min: usize) {
        let Some(s) = v else {
            self.fail(None, at, "Member must not be null");
            return;
        };
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
        {
            self.fail(
                Some(s),
                at,
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            );
        }
        self.length(s, at, min, 255);
    }

    /// Length bounds on a string, counted in characters.
    pub fn length(&mut self, s: &str, at: &str, min: usize, max: usize) {
        let n = s.chars().count();
        if n < min {
            self.fail(
                Some(s),
                at,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if n > max {
            self.fail(
                Some(s),
                at,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Numeric bounds.
    pub fn range(&mut self, v: i64, at: &str, min: Option<i64>, max: Option<i64>) {
        if let Some(min) = min.filter(|m| v < *m) {
            self.fail(
                Some(&v.to_string()),
                at,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = max.filter(|m| v > *m) {
            self.fail(
                Some(&v.to_string()),
                at,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// Membership in an enum value set.
    pub fn one_of(&mut self, v: Option<&str>, at: &str, allowed: &[&str]) {
        if let Some(s) = v
            && !allowed.contains(&s)
        {
            self.fail(
                Some(s),
                at,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// Collection size bounds.
    pub fn count(&mut self, n: usize, shown: &str, at: &str, min: usize, max: usize) {
        if n < min {
            self.fail(
                Some(shown),
                at,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if n > max {
            self.fail(
                Some(shown),
                at,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Whether nothing failed so far.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok` or the combined `ValidationException`.
    pub fn finish(self) -> Result<(), DynamoError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(DynamoError::Validation(format!(
                "1 validation error detected: {}",
                self.errors.concat()
            ))),
            n => Err(DynamoError::Validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}

/// The whole message of one enum violation, "1 validation error detected: Value 'X' at 'at'
/// failed to satisfy constraint: Member must satisfy enum value set: [...]", for a member
/// checked after the request's constraints (the legacy maps' operators and actions).
pub fn enum_violation(value: &str, at: &str, allowed: &[&str]) -> String {
    let mut v = Validator::new();
    v.one_of(Some(value), at, allowed);
    match v.finish() {
        Err(e) => e.to_string(),
        Ok(()) => format!("{value} is one of [{}]", allowed.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_violations_are_reported_together() {
        let mut v = Validator::new();
        v.name(Some("a;"), "tableName", 3);
        v.range(0, "limit", Some(1), None);
        let e = v.finish().unwrap_err().to_string();
        assert_eq!(
            e,
            "3 validation errors detected: Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
    }

    #[test]
    fn null_is_reported_unquoted() {
        let mut v = Validator::new();
        v.not_null::<String>(&None, "tableName");
        assert_eq!(
            v.finish().unwrap_err().to_string(),
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
        );
    }
}
