//! The DynamoDB operations: names parsed at the edge, typed requests, and the
//! service that executes them.

/// Every DynamoDB operation Rampart answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// CreateTable.
    CreateTable,
    /// DescribeTable.
    DescribeTable,
    /// UpdateTable.
    UpdateTable,
    /// DeleteTable.
    DeleteTable,
    /// ListTables.
    ListTables,
    /// DescribeEndpoints.
    DescribeEndpoints,
    /// DescribeLimits.
    DescribeLimits,
    /// PutItem.
    PutItem,
    /// GetItem.
    GetItem,
    /// UpdateItem.
    UpdateItem,
    /// DeleteItem.
    DeleteItem,
    /// Query.
    Query,
    /// Scan.
    Scan,
    /// BatchGetItem.
    BatchGetItem,
    /// BatchWriteItem.
    BatchWriteItem,
    /// TransactGetItems.
    TransactGetItems,
    /// TransactWriteItems.
    TransactWriteItems,
    /// UpdateTimeToLive.
    UpdateTimeToLive,
    /// DescribeTimeToLive.
    DescribeTimeToLive,
    /// TagResource.
    TagResource,
    /// UntagResource.
    UntagResource,
    /// ListTagsOfResource.
    ListTagsOfResource,
    /// PutResourcePolicy.
    PutResourcePolicy,
    /// GetResourcePolicy.
    GetResourcePolicy,
    /// DeleteResourcePolicy.
    DeleteResourcePolicy,
}

impl Operation {
    /// Every operation, for routing tables and tests.
    pub const ALL: [Operation; 25] = [
        Self::CreateTable,
        Self::DescribeTable,
        Self::UpdateTable,
        Self::DeleteTable,
        Self::ListTables,
        Self::DescribeEndpoints,
        Self::DescribeLimits,
        Self::PutItem,
        Self::GetItem,
        Self::UpdateItem,
        Self::DeleteItem,
        Self::Query,
        Self::Scan,
        Self::BatchGetItem,
        Self::BatchWriteItem,
        Self::TransactGetItems,
        Self::TransactWriteItems,
        Self::UpdateTimeToLive,
        Self::DescribeTimeToLive,
        Self::TagResource,
        Self::UntagResource,
        Self::ListTagsOfResource,
        Self::PutResourcePolicy,
        Self::GetResourcePolicy,
        Self::DeleteResourcePolicy,
    ];

    /// The operation's wire name (the part after `DynamoDB_20120810.`).
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateTable => "CreateTable",
            Self::DescribeTable => "DescribeTable",
            Self::UpdateTable => "UpdateTable",
            Self::DeleteTable => "DeleteTable",
            Self::ListTables => "ListTables",
            Self::DescribeEndpoints => "DescribeEndpoints",
            Self::DescribeLimits => "DescribeLimits",
            Self::PutItem => "PutItem",
            Self::GetItem => "GetItem",
            Self::UpdateItem => "UpdateItem",
            Self::DeleteItem => "DeleteItem",
            Self::Query => "Query",
            Self::Scan => "Scan",
            Self::BatchGetItem => "BatchGetItem",
            Self::BatchWriteItem => "BatchWriteItem",
            Self::TransactGetItems => "TransactGetItems",
            Self::TransactWriteItems => "TransactWriteItems",
            Self::UpdateTimeToLive => "UpdateTimeToLive",
            Self::DescribeTimeToLive => "DescribeTimeToLive",
            Self::TagResource => "TagResource",
            Self::UntagResource => "UntagResource",
            Self::ListTagsOfResource => "ListTagsOfResource",
            Self::PutResourcePolicy => "PutResourcePolicy",
            Self::GetResourcePolicy => "GetResourcePolicy",
            Self::DeleteResourcePolicy => "DeleteResourcePolicy",
        }
    }

    /// Parses a wire name; `None` for anything DynamoDB would call an unknown operation.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The IAM action this operation is authorized as.
    pub fn iam_action(self) -> &'static str {
        match self {
            Self::CreateTable => "dynamodb:CreateTable",
            Self::DescribeTable => "dynamodb:DescribeTable",
            Self::UpdateTable => "dynamodb:UpdateTable",
            Self::DeleteTable => "dynamodb:DeleteTable",
            Self::ListTables => "dynamodb:ListTables",
            Self::DescribeEndpoints => "dynamodb:DescribeEndpoints",
            Self::DescribeLimits => "dynamodb:DescribeLimits",
            Self::PutItem => "dynamodb:PutItem",
            Self::GetItem => "dynamodb:GetItem",
            Self::UpdateItem => "dynamodb:UpdateItem",
            Self::DeleteItem => "dynamodb:DeleteItem",
            Self::Query => "dynamodb:Query",
            Self::Scan => "dynamodb:Scan",
            Self::BatchGetItem => "dynamodb:BatchGetItem",
            Self::BatchWriteItem => "dynamodb:BatchWriteItem",
            Self::TransactGetItems => "dynamodb:TransactGetItems",
            Self::TransactWriteItems => "dynamodb:TransactWriteItems",
            Self::UpdateTimeToLive => "dynamodb:UpdateTimeToLive",
            Self::DescribeTimeToLive => "dynamodb:DescribeTimeToLive",
            Self::TagResource => "dynamodb:TagResource",
            Self::UntagResource => "dynamodb:UntagResource",
            Self::ListTagsOfResource => "dynamodb:ListTagsOfResource",
            Self::PutResourcePolicy => "dynamodb:PutResourcePolicy",
            Self::GetResourcePolicy => "dynamodb:GetResourcePolicy",
            Self::DeleteResourcePolicy => "dynamodb:DeleteResourcePolicy",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_round_trips_through_its_name() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
            assert_eq!(op.iam_action(), format!("dynamodb:{}", op.name()));
        }
        assert_eq!(Operation::from_name("getitem"), None);
        assert_eq!(Operation::from_name(""), None);
    }
}
