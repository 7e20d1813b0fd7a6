//! `rampart-bench`: a load generator for any DynamoDB-compatible endpoint, over HTTP or HTTPS
//! (Rampart, DynamoDB itself, DynamoDB Local, dynalite, moto…), and the bare HTTP ceiling it is
//! compared with.
//!
//! What it owns: signing requests with SigV4 ([`sign`]), the workloads and their keyspace
//! ([`workload`], [`keys`]), the closed and open load loops ([`run`]), table preparation
//! ([`prepare`]), the measurements and their report ([`stats`]), the ceiling server
//! ([`ceiling`]), cold-start timing ([`startup`]) and how steady the machine's CPUs are
//! ([`steadiness`]).
//!
//! It talks to servers only over HTTP, like any client: it must not depend on Rampart's
//! server-side crates (`front`, `dynamodb`, `storage`…) so that it measures any endpoint the
//! same way. It borrows only the SigV4 key derivation from `rampart-sigv4` and `Secret` from
//! `rampart-core`. Its dependencies (hyper's client, hdrhistogram, indicatif) stay out of the
//! server binary.
//!
//! INVARIANT: latencies in open-loop runs are measured from each request's intended start, so
//! a server stall shows in the percentiles (no coordinated omission).
//! INVARIANT: warm-up requests are never counted.

pub mod ceiling;
pub mod cli;
pub mod client;
pub mod keys;
pub mod prepare;
pub mod procfs;
pub mod run;
pub mod sign;
pub mod startup;
pub mod stats;
pub mod steadiness;
pub mod workload;
