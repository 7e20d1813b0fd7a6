//! DynamoDB: its data model (attribute values, numbers, key encoding), its
//! expression language, the table catalog and every data-plane operation,
//! written over the `storage` trait.
//!
//! Must not depend on HTTP crates, `front`, or any storage backend: it sees a
//! `&RequestContext` and typed input, and writes through `rampart_storage::Engine`.
//! INVARIANT: an item, its index entries and its change record are written in
//! one storage batch.

pub mod expr;
pub mod keys;
pub mod number;
pub mod value;

pub mod authz_keys;

mod background;
mod batch;
pub mod catalog;
pub mod error;
pub mod items;
pub mod layout;
pub mod model;
pub mod ops;
mod read;
pub mod resource_policy;
mod service;
mod stats;
pub mod stored_size;
mod tables;
mod txn;
pub mod validate;

pub use authz_keys::{KeyValue, Keys};
pub use error::DynamoError;
pub use ops::Operation;
pub use rampart_storage::Error as StorageError;
pub use resource_policy::PolicyValidator;
pub use service::{AuthzRequest, Call, DynamoDb, Table};
