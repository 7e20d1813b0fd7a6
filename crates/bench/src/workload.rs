//! The workloads: which operations a run sends, in what proportion, and the DynamoDB JSON of
//! each request.
//!
//! The keyspace is `n` items numbered `0..n`. Item `i` has the partition key
//! `pk = "user" + i / q` and the sort key `sk = i % q`, where `q` is the partition size
//! (`--query-items`), so a Query of one partition key returns `q` items. Every item carries a
//! counter `c` (for UpdateItem's condition) and a payload `d` sized so the item is about
//! `--item-size` bytes.
//!
//! INVARIANT: every body built here is valid JSON: table names are checked against DynamoDB's
//! pattern by [`check_table_name`] and keys and payloads are ASCII letters and digits.

use std::fmt;

use crate::keys::{KeyChooser, Rng};

/// What a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// GetItem of one key.
    GetItem,
    /// PutItem of a whole item over an existing key.
    PutItem,
    /// UpdateItem of the payload and counter, conditional on the item existing.
    UpdateItem,
    /// Query of one partition key, returning `--query-items` items.
    Query,
    /// BatchWriteItem of `--batch-size` PutRequests on distinct keys.
    BatchWrite,
    /// YCSB workload A: 50% GetItem, 50% UpdateItem.
    YcsbA,
    /// YCSB workload B: 95% GetItem, 5% UpdateItem.
    YcsbB,
    /// YCSB workload C: 100% GetItem.
    YcsbC,
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Workload::GetItem => "get-item",
            Workload::PutItem => "put-item",
            Workload::UpdateItem => "update-item",
            Workload::Query => "query",
            Workload::BatchWrite => "batch-write",
            Workload::YcsbA => "ycsb-a",
            Workload::YcsbB => "ycsb-b",
            Workload::YcsbC => "ycsb-c",
        })
    }
}

/// One DynamoDB operation the tool sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// `GetItem`.
    GetItem,
    /// `PutItem`.
    PutItem,
    /// `UpdateItem`.
    UpdateItem,
    /// `Query`.
    Query,
    /// `BatchWriteItem`.
    BatchWriteItem,
    /// `CreateTable` (preparation only).
    CreateTable,
    /// `DescribeTable` (preparation only).
    DescribeTable,
}

impl Op {
    /// The operation's name, as in `X-Amz-Target`.
    pub fn name(self) -> &'static str {
        match self {
            Op::GetItem => "GetItem",
            Op::PutItem => "PutItem",
            Op::UpdateItem => "UpdateItem",
            Op::Query => "Query",
            Op::BatchWriteItem => "BatchWriteItem",
            Op::CreateTable => "CreateTable",
            Op::DescribeTable => "DescribeTable",
        }
    }

    /// The `X-Amz-Target` header value.
    pub fn target(self) -> &'static str {
        match self {
            Op::GetItem => "DynamoDB_20120810.GetItem",
            Op::PutItem => "DynamoDB_20120810.PutItem",
            Op::UpdateItem => "DynamoDB_20120810.UpdateItem",
            Op::Query => "DynamoDB_20120810.Query",
            Op::BatchWriteItem => "DynamoDB_20120810.BatchWriteItem",
            Op::CreateTable => "DynamoDB_20120810.CreateTable",
            Op::DescribeTable => "DynamoDB_20120810.DescribeTable",
        }
    }
}

impl Workload {
    /// The operation of the next request, drawn with the workload's proportions.
    pub fn pick(self, rng: &mut Rng) -> Op {
        let read_percent = match self {
            Workload::GetItem | Workload::YcsbC => return Op::GetItem,
            Workload::PutItem => return Op::PutItem,
            Workload::UpdateItem => return Op::UpdateItem,
            Workload::Query => return Op::Query,
            Workload::BatchWrite => return Op::BatchWriteItem,
            Workload::YcsbA => 50,
            Workload::YcsbB => 95,
        };
        if rng.below(100) < read_percent {
            Op::GetItem
        } else {
            Op::UpdateItem
        }
    }
}

/// DynamoDB's rule for table names: 3 to 255 of `[a-zA-Z0-9_.-]`.
pub fn check_table_name(name: &str) -> Result<(), String> {
    let ok = (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "table name {name:?} must be 3 to 255 characters of letters, digits, '_', '.' and '-'"
        ))
    }
}

/// The shape of the data: table, keyspace, item size, partition size.
#[derive(Debug, Clone)]
pub struct Keyspace {
    /// The table's name (checked by [`check_table_name`]).
    pub table: String,
    /// How many items.
    pub items: u64,
    /// Items per partition key (what a Query returns).
    pub partition_size: u64,
    /// The payload attribute's length, in bytes.
    pub payload_len: usize,
}

/// Bytes an item has besides its payload: attribute names, keys and counter.
const ITEM_OVERHEAD: usize = 40;

impl Keyspace {
    /// A keyspace whose items are about `item_size` bytes.
    pub fn new(table: String, items: u64, partition_size: u64, item_size: usize) -> Self {
        Self {
            table,
            items,
            partition_size: partition_size.max(1),
            payload_len: item_size.saturating_sub(ITEM_OVERHEAD).max(1),
        }
    }

    fn key_json(&self, i: u64) -> String {
        format!(
            r#"{{"pk":{{"S":"user{:010}"}},"sk":{{"S":"{:06}"}}}}"#,
            i / self.partition_size,
            i % self.partition_size
        )
    }

    fn item_json(&self, i: u64, payload: &str) -> String {
        format!(
            r#"{{"pk":{{"S":"user{:010}"}},"sk":{{"S":"{:06}"}},"c":{{"N":"0"}},"d":{{"S":"{payload}"}}}}"#,
            i / self.partition_size,
            i % self.partition_size
        )
    }

    /// The CreateTable request (on-demand billing).
    pub fn create_table(&self) -> String {
        format!(
            r#"{{"TableName":"{}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"sk","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}},{{"AttributeName":"sk","KeyType":"RANGE"}}],"BillingMode":"PAY_PER_REQUEST"}}"#,
            self.table
        )
    }

    /// The DescribeTable request.
    pub fn describe_table(&self) -> String {
        format!(r#"{{"TableName":"{}"}}"#, self.table)
    }

    /// GetItem of item `i`.
    pub fn get_item(&self, i: u64) -> String {
        format!(
            r#"{{"TableName":"{}","Key":{}}}"#,
            self.table,
            self.key_json(i)
        )
    }

    /// PutItem of item `i`.
    pub fn put_item(&self, i: u64, payload: &str) -> String {
        format!(
            r#"{{"TableName":"{}","Item":{}}}"#,
            self.table,
            self.item_json(i, payload)
        )
    }

    /// UpdateItem of item `i`: sets the payload and increments the counter, on condition that
    /// the counter exists (true of every prepared item).
    pub fn update_item(&self, i: u64, payload: &str) -> String {
        format!(
            r##"{{"TableName":"{}","Key":{},"UpdateExpression":"SET #d = :d, #c = #c + :one","ConditionExpression":"attribute_exists(#c)","ExpressionAttributeNames":{{"#d":"d","#c":"c"}},"ExpressionAttributeValues":{{":d":{{"S":"{payload}"}},":one":{{"N":"1"}}}}}}"##,
            self.table,
            self.key_json(i)
        )
    }

    /// Query of the partition holding item `i`, returning at most `partition_size` items.
    pub fn query(&self, i: u64) -> String {
        format!(
            r#"{{"TableName":"{}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"user{:010}"}}}},"Limit":{}}}"#,
            self.table,
            i / self.partition_size,
            self.partition_size
        )
    }

    /// BatchWriteItem putting the items `indexes` (which must be distinct).
    pub fn batch_write(&self, indexes: &[u64], payload: &str) -> String {
        let puts: Vec<String> = indexes
            .iter()
            .map(|&i| {
                format!(
                    r#"{{"PutRequest":{{"Item":{}}}}}"#,
                    self.item_json(i, payload)
                )
            })
            .collect();
        format!(
            r#"{{"RequestItems":{{"{}":[{}]}}}}"#,
            self.table,
            puts.join(",")
        )
    }

    /// `count` distinct item indexes drawn with `chooser` (fewer if the keyspace is smaller).
    pub fn distinct_keys(&self, chooser: &KeyChooser, rng: &mut Rng, count: usize) -> Vec<u64> {
        let count = count.min(usize::try_from(self.items).unwrap_or(usize::MAX));
        let mut out: Vec<u64> = Vec::with_capacity(count);
        let mut tries = 0;
        while out.len() < count {
            let k = chooser.next(rng);
            tries += 1;
            if !out.contains(&k) {
                out.push(k);
            } else if tries > count * 100 {
                // A very skewed chooser over a tiny keyspace: fill with neighbours.
                let next = (0..self.items).find(|c| !out.contains(c));
                match next {
                    Some(c) => out.push(c),
                    None => break,
                }
            }
        }
        out
    }
}

/// A payload of `len` ASCII letters and digits drawn from `rng`.
pub fn payload(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| {
            let i = usize::try_from(rng.below(ALPHABET.len() as u64)).unwrap_or(0);
            char::from(ALPHABET.get(i).copied().unwrap_or(b'x'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Distribution;

    fn ks() -> Keyspace {
        Keyspace::new("bench".into(), 100, 10, 100)
    }

    fn parse(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn every_request_body_is_valid_dynamodb_json() {
        let k = ks();
        let p = payload(&mut Rng::new(1), k.payload_len);
        let get = parse(&k.get_item(23));
        assert_eq!(get["Key"]["pk"]["S"], "user0000000002");
        assert_eq!(get["Key"]["sk"]["S"], "000003");
        let put = parse(&k.put_item(23, &p));
        assert_eq!(put["Item"]["d"]["S"].as_str().unwrap().len(), 60);
        let upd = parse(&k.update_item(5, &p));
        assert_eq!(upd["ConditionExpression"], "attribute_exists(#c)");
        let q = parse(&k.query(57));
        assert_eq!(q["ExpressionAttributeValues"][":p"]["S"], "user0000000005");
        assert_eq!(q["Limit"], 10);
        let b = parse(&k.batch_write(&[1, 2, 3], &p));
        assert_eq!(b["RequestItems"]["bench"].as_array().unwrap().len(), 3);
        parse(&k.create_table());
        parse(&k.describe_table());
    }

    #[test]
    fn item_size_is_close_to_the_requested_size() {
        let k = Keyspace::new("bench".into(), 10, 10, 1000);
        let p = payload(&mut Rng::new(1), k.payload_len);
        let item = parse(&k.put_item(3, &p))["Item"].clone();
        // DynamoDB's size: attribute names plus values.
        let size: usize = item
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, v)| {
                name.len()
                    + v.as_object()
                        .unwrap()
                        .values()
                        .next()
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .len()
            })
            .sum();
        assert!((900..=1000).contains(&size), "{size}");
    }

    #[test]
    fn mixes_follow_their_proportions() {
        let mut rng = Rng::new(5);
        let reads = (0..10_000)
            .filter(|_| Workload::YcsbB.pick(&mut rng) == Op::GetItem)
            .count();
        assert!((9_300..9_700).contains(&reads), "{reads}");
        let reads = (0..10_000)
            .filter(|_| Workload::YcsbA.pick(&mut rng) == Op::GetItem)
            .count();
        assert!((4_700..5_300).contains(&reads), "{reads}");
        assert!((0..100).all(|_| Workload::YcsbC.pick(&mut rng) == Op::GetItem));
    }

    #[test]
    fn batch_keys_are_distinct_even_on_a_tiny_skewed_keyspace() {
        let k = Keyspace::new("bench".into(), 30, 10, 100);
        let chooser = KeyChooser::new(Distribution::Zipfian, 30);
        let mut rng = Rng::new(11);
        let keys = k.distinct_keys(&chooser, &mut rng, 25);
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 25);
        let small = Keyspace::new("bench".into(), 3, 10, 100);
        let tiny = KeyChooser::new(Distribution::Zipfian, 3);
        assert_eq!(small.distinct_keys(&tiny, &mut rng, 25).len(), 3);
    }

    #[test]
    fn table_names_follow_dynamodbs_pattern() {
        assert!(check_table_name("bench-1.x_y").is_ok());
        assert!(check_table_name("ab").is_err());
        assert!(check_table_name("has space").is_err());
        assert!(check_table_name("quote\"").is_err());
    }
}
