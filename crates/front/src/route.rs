//! Routing: which AWS service and operation a request calls. JSON services
//! route by `X-Amz-Target`; Query services (IAM, STS) by the `Version`
//! parameter, then `Action`. DynamoDB Streams is signed as `dynamodb` but has
//! its own target prefix, so routing never goes by credential scope.

use rampart_dynamodb::Operation;

/// A Query-protocol service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryService {
    /// IAM (`Version=2010-05-08`).
    Iam,
    /// STS (`Version=2011-06-15`).
    Sts,
}

impl QueryService {
    /// The service for a `Version` parameter.
    pub fn from_version(v: Option<&str>) -> Option<Self> {
        match v {
            Some("2010-05-08") => Some(Self::Iam),
            Some("2011-06-15") => Some(Self::Sts),
            _ => None,
        }
    }

    /// The XML namespace of its responses.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
            Self::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
        }
    }
}

/// A routed service call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// DynamoDB (`DynamoDB_20120810.<Operation>`).
    DynamoDb(Operation),
    /// IAM or STS.
    Query(QueryService),
    /// AWS Organizations (`AWSOrganizationsV20161128.<Operation>`, JSON 1.1).
    Organizations,
}

impl Service {
    /// The SigV4 service name the request must be signed for.
    pub fn signing_name(self) -> &'static str {
        match self {
            Self::DynamoDb(_) => "dynamodb",
            Self::Query(QueryService::Iam) => "iam",
            Self::Query(QueryService::Sts) => "sts",
            Self::Organizations => "organizations",
        }
    }

    /// Whether AWS also accepts the global signing region (us-east-1).
    pub fn is_global(self) -> bool {
        matches!(self, Self::Query(_) | Self::Organizations)
    }

    /// Parses an `X-Amz-Target` header value.
    pub fn from_target(target: &str) -> Option<Self> {
        let (prefix, op) = target.split_once('.')?;
        match prefix {
            "DynamoDB_20120810" => Operation::from_name(op).map(Self::DynamoDb),
            "AWSOrganizationsV20161128" if !op.is_empty() => Some(Self::Organizations),
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

    #[test]
    fn query_versions_route_to_iam_and_sts() {
        assert_eq!(
            QueryService::from_version(Some("2010-05-08")),
            Some(QueryService::Iam)
        );
        assert_eq!(
            QueryService::from_version(Some("2011-06-15")),
            Some(QueryService::Sts)
        );
        assert_eq!(QueryService::from_version(None), None);
    }
}
