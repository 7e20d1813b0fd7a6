//! Routing: which AWS service and operation a request calls, from
//! `X-Amz-Target`. DynamoDB Streams is signed as `dynamodb` but has its own
//! target prefix, so routing goes by target, never by credential scope.

use rampart_dynamodb::Operation;

/// A routed service call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// DynamoDB (`DynamoDB_20120810.<Operation>`).
    DynamoDb(Operation),
}

impl Service {
    /// The SigV4 service name the request must be signed for.
    pub fn signing_name(self) -> &'static str {
        match self {
            Self::DynamoDb(_) => "dynamodb",
        }
    }

    /// Parses an `X-Amz-Target` header value.
    pub fn from_target(target: &str) -> Option<Self> {
        let (prefix, op) = target.split_once('.')?;
        match prefix {
            "DynamoDB_20120810" => Operation::from_name(op).map(Self::DynamoDb),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_route_to_dynamodb_operations() {
        assert_eq!(
            Service::from_target("DynamoDB_20120810.GetItem"),
            Some(Service::DynamoDb(Operation::GetItem))
        );
        assert_eq!(Service::from_target("DynamoDB_20111205.GetItem"), None);
        assert_eq!(Service::from_target("DynamoDB_20120810.Nope"), None);
        assert_eq!(Service::from_target("DynamoDB_20120810"), None);
        assert_eq!(Service::from_target(""), None);
    }
}
