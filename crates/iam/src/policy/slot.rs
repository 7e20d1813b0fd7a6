//! One condition key's request value within one evaluation, with what the operators read from
//! it computed once: a policy of 100 statements that each test `aws:SourceIp` parses the
//! address once, not 100 times.
//!
//! The evaluator looks up each of a policy's keys once (its slot, see
//! [`Policy::keys`](super::Policy)) and wraps the value in a [`Slot`]; conditions read the typed
//! forms through it. Each form is computed on first use (a statement whose action does not
//! match never pays for its conditions) and kept for the rest of the policy's evaluation.
//!
//! INVARIANT: a memoized form is exactly what parsing the value again would give: the memo
//! changes the cost, never a result. Only the first request value is memoized (the one value of
//! a single-valued key); the others of a multivalued key are parsed where they are compared.
//! INVARIANT: pure: the memo lives in the evaluation's stack frame, never beyond it.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::net::IpAddr;

use super::condition::{Decimal, decode_base64, parse_request_ip};
use super::context::ContextValue;
use super::time::{self, Instant};

/// A key's value in the request, and its typed forms once computed.
#[derive(Debug, Default)]
pub(crate) struct Slot<'c> {
    value: Option<&'c ContextValue>,
    ip: OnceCell<Option<IpAddr>>,
    date: OnceCell<Option<Instant>>,
    number: OnceCell<Option<Decimal>>,
    binary: OnceCell<Option<Vec<u8>>>,
}

impl<'c> Slot<'c> {
    pub(crate) fn new(value: Option<&'c ContextValue>) -> Self {
        Self {
            value,
            ..Self::default()
        }
    }

    /// The value as the request gives it.
    pub(crate) fn value(&self) -> Option<&'c ContextValue> {
        self.value
    }

    /// The value of a single-valued key, as a policy variable sees it (a multivalued key is
    /// never a variable's value: IAM User Guide, "Single-valued vs. multivalued context keys").
    pub(crate) fn single(&self) -> Option<&'c str> {
        match self.value {
            Some(ContextValue::Single(v)) => Some(v),
            _ => None,
        }
    }

    /// Request value `i` (which is `v`) as an IP address.
    pub(crate) fn ip(&self, i: usize, v: &str) -> Option<IpAddr> {
        if i == 0 {
            *self.ip.get_or_init(|| parse_request_ip(v))
        } else {
            parse_request_ip(v)
        }
    }

    /// Request value `i` (which is `v`) as a date.
    pub(crate) fn date(&self, i: usize, v: &str) -> Option<Instant> {
        if i == 0 {
            *self.date.get_or_init(|| time::parse(v))
        } else {
            time::parse(v)
        }
    }

    /// Request value `i` (which is `v`) as a number.
    pub(crate) fn number(&self, i: usize, v: &str) -> Option<Cow<'_, Decimal>> {
        if i == 0 {
            self.number
                .get_or_init(|| Decimal::parse(v))
                .as_ref()
                .map(Cow::Borrowed)
        } else {
            Decimal::parse(v).map(Cow::Owned)
        }
    }

    /// Request value `i` (which is `v`) decoded from base64.
    pub(crate) fn binary(&self, i: usize, v: &str) -> Option<Cow<'_, [u8]>> {
        if i == 0 {
            self.binary
                .get_or_init(|| decode_base64(v))
                .as_deref()
                .map(Cow::Borrowed)
        } else {
            decode_base64(v).map(Cow::Owned)
        }
    }
}
