//! How tables and indexes map onto storage trees and keys.
//!
//! - Catalog: tree `ddb/catalog`, key `account \0 table-name`, value the
//!   table's JSON metadata.
//! - Items: tree `t/<table-id>`, key `h8(pk) ‖ enc(pk) ‖ enc(sk)?`, value the
//!   item. `h8` is the first 8 bytes of SHA-256 of `enc(pk)`: items of one
//!   partition are contiguous and ordered by sort key (Query), partitions are
//!   spread in hash order (Scan's order, and parallel-scan segments are hash
//!   ranges), as on DynamoDB.
//! - Indexes: tree `t/<table-id>/i/<index>`, key `h8(ipk) ‖ enc(ipk) ‖
//!   enc(isk)? ‖ enc(pk) ‖ enc(sk)?`, value the projected item. Items without
//!   the index key attributes are absent (sparse indexes).
//!
//! `enc` is `keys::encode_key_value`: order-preserving and self-delimiting, so
//! concatenations compare correctly. Every tree of a table starts with
//! `t/<table-id>`, so a backend can give each table a file (and a key) of its own.

use sha2::{Digest, Sha256};

use crate::catalog::{IndexMeta, KeySchema, TableMeta};
use crate::keys::encode_key_value;
use crate::value::{AttributeValue, Item};

/// The catalog tree.
pub const CATALOG_TREE: &str = "ddb/catalog";
/// Idempotency records of TransactWriteItems.
pub const TOKENS_TREE: &str = "ddb/txn-tokens";

/// The catalog key of a table.
pub fn catalog_key(account: &str, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(account.len() + 1 + name.len());
    k.extend_from_slice(account.as_bytes());
    k.push(0);
    k.extend_from_slice(name.as_bytes());
    k
}

/// The items tree of a table.
pub fn item_tree(meta: &TableMeta) -> String {
    format!("t/{}", meta.id)
}

/// The tree of one secondary index.
pub fn index_tree(meta: &TableMeta, index: &str) -> String {
    format!("t/{}/i/{}", meta.id, index)
}

/// The hash prefix of a partition: 8 bytes of SHA-256 over the encoded key.
pub fn hash8(encoded_pk: &[u8]) -> [u8; 8] {
    let digest = Sha256::digest(encoded_pk);
    let mut out = [0u8; 8];
    for (o, d) in out.iter_mut().zip(digest.iter()) {
        *o = *d;
    }
    out
}

/// `h8(pk) ‖ enc(pk)`: the prefix shared by every entry of a partition.
pub fn partition_prefix(pk: &AttributeValue) -> Option<Vec<u8>> {
    let enc = encode_key_value(pk)?;
    let mut k = Vec::with_capacity(8 + enc.len());
    k.extend_from_slice(&hash8(&enc));
    k.extend_from_slice(&enc);
    Some(k)
}

/// The storage key of an item under `schema`, or `None` if a key attribute
/// is missing or not a key type.
pub fn key_for(schema: &KeySchema, item: &Item) -> Option<Vec<u8>> {
    let mut k = partition_prefix(item.get(&schema.hash.name)?)?;
    if let Some(r) = &schema.range {
        k.extend_from_slice(&encode_key_value(item.get(&r.name)?)?);
    }
    Some(k)
}

/// The index entry key of an item, or `None` when the item is not in the
/// index (an index key attribute is absent or of the wrong type).
pub fn index_key_for(table: &KeySchema, index: &IndexMeta, item: &Item) -> Option<Vec<u8>> {
    let ih = item.get(&index.key.hash.name)?;
    if !index.key.hash.ty.matches(ih) {
        return None;
    }
    let mut k = partition_prefix(ih)?;
    if let Some(r) = &index.key.range {
        let v = item.get(&r.name)?;
        if !r.ty.matches(v) {
            return None;
        }
        k.extend_from_slice(&encode_key_value(v)?);
    }
    k.extend_from_slice(&encode_key_value(item.get(&table.hash.name)?)?);
    if let Some(r) = &table.range {
        k.extend_from_slice(&encode_key_value(item.get(&r.name)?)?);
    }
    Some(k)
}

/// The attributes of `item` an index stores.
pub fn project_for_index(table: &KeySchema, index: &IndexMeta, item: &Item) -> Item {
    item.iter()
        .filter(|(name, _)| index.projects(table, name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The start of the hash range of parallel-scan segment `segment` of `total`.
pub fn segment_start(segment: u64, total: u64) -> Option<[u8; 8]> {
    if segment == 0 {
        return None;
    }
    let start = ((u128::from(segment) << 64) / u128::from(total.max(1))) as u64;
    Some(start.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{KeyAttr, KeyType};

    fn s(x: &str) -> AttributeValue {
        AttributeValue::S(x.into())
    }

    #[test]
    fn items_of_one_partition_share_a_prefix_and_sort_by_range_key() {
        let schema = KeySchema {
            hash: KeyAttr {
                name: "pk".into(),
                ty: KeyType::S,
            },
            range: Some(KeyAttr {
                name: "sk".into(),
                ty: KeyType::S,
            }),
        };
        let item =
            |pk: &str, sk: &str| -> Item { [("pk".into(), s(pk)), ("sk".into(), s(sk))].into() };
        let a = key_for(&schema, &item("p", "a")).unwrap();
        let b = key_for(&schema, &item("p", "b")).unwrap();
        let prefix = partition_prefix(&s("p")).unwrap();
        assert!(a.starts_with(&prefix) && b.starts_with(&prefix));
        assert!(a < b);
        assert!(key_for(&schema, &[("pk".into(), s("p"))].into()).is_none());
    }

    #[test]
    fn segments_split_the_hash_space_in_order() {
        assert_eq!(segment_start(0, 4), None);
        assert_eq!(segment_start(2, 4), Some([0x80, 0, 0, 0, 0, 0, 0, 0]));
        assert!(segment_start(1, 3) < segment_start(2, 3));
    }
}
