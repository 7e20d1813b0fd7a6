//! The conformance suite every [`Engine`](crate::Engine) must pass.
//! Each backend's tests call [`conformance`] once with a fresh engine.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: the first violated expectation must stop the suite with its values"
)]

use std::ops::Bound;
use std::sync::Arc;

use crate::{Batch, Committed, Direction, Engine, Error, KeyRange};

/// Runs every conformance check against a fresh, empty engine.
/// Panics (it is test code) on the first violation.
pub async fn conformance(engine: Arc<dyn Engine>) {
    empty_engine_reads_nothing(&*engine).await;
    put_then_get_returns_value_and_version(&*engine).await;
    batch_is_atomic_when_a_precondition_fails(&*engine).await;
    scans_are_ordered_bytewise_both_ways(&*engine).await;
    range_bounds_are_respected(&*engine).await;
    trees_are_independent_and_droppable(&*engine).await;
    get_many_reads_in_input_order(&*engine).await;
    concurrent_commits_get_distinct_growing_sequence_numbers(engine.clone()).await;
    optimistic_increment_never_loses_an_update(engine.clone()).await;
    fetch_sees_the_value_before_the_ops(&*engine).await;
    concurrent_fetching_puts_each_see_the_previous_one(engine.clone()).await;
}

async fn empty_engine_reads_nothing(e: &dyn Engine) {
    assert_eq!(e.get("ck-empty", b"k").await.unwrap(), None);
    let s = e
        .scan("ck-empty", KeyRange::all(), Direction::Forward, 10)
        .await
        .unwrap();
    assert!(s.is_empty());
}

async fn put_then_get_returns_value_and_version(e: &dyn Engine) {
    let mut b = Batch::new();
    b.put("ck-put", b"a".to_vec(), b"1".to_vec());
    let seq = e.commit(b).await.unwrap();
    let got = e.get("ck-put", b"a").await.unwrap().unwrap();
    assert_eq!(got.value, b"1");
    assert_eq!(got.version, seq);

    // A later overwrite gets a larger version.
    let mut b = Batch::new();
    b.put("ck-put", b"a".to_vec(), b"2".to_vec());
    let seq2 = e.commit(b).await.unwrap();
    assert!(seq2 > seq);
    let got = e.get("ck-put", b"a").await.unwrap().unwrap();
    assert_eq!((got.value.as_slice(), got.version), (&b"2"[..], seq2));

    // Delete removes; deleting again is fine.
    let mut b = Batch::new();
    b.delete("ck-put", b"a".to_vec())
        .delete("ck-put", b"a".to_vec());
    e.commit(b).await.unwrap();
    assert_eq!(e.get("ck-put", b"a").await.unwrap(), None);

    // Empty values and empty keys round-trip.
    let mut b = Batch::new();
    b.put("ck-put", Vec::new(), Vec::new());
    e.commit(b).await.unwrap();
    assert_eq!(e.get("ck-put", b"").await.unwrap().unwrap().value, b"");
}

async fn batch_is_atomic_when_a_precondition_fails(e: &dyn Engine) {
    let mut b = Batch::new();
    b.put("ck-atomic", b"x".to_vec(), b"old".to_vec());
    let v = e.commit(b).await.unwrap();

    // Second precondition fails: neither put may land.
    let mut b = Batch::new();
    b.expect("ck-atomic", b"x".to_vec(), Some(v))
        .expect("ck-atomic", b"y".to_vec(), Some(v))
        .put("ck-atomic", b"x".to_vec(), b"new".to_vec())
        .put("ck-atomic", b"z".to_vec(), b"new".to_vec());
    match e.commit(b).await {
        Err(Error::Conflict { index }) => assert_eq!(index, 1),
        other => panic!("expected conflict at 1, got {other:?}"),
    }
    assert_eq!(
        e.get("ck-atomic", b"x").await.unwrap().unwrap().value,
        b"old"
    );
    assert_eq!(e.get("ck-atomic", b"z").await.unwrap(), None);

    // "Must be absent" fails on a present key and passes on an absent one.
    let mut b = Batch::new();
    b.expect("ck-atomic", b"x".to_vec(), None);
    assert!(matches!(
        e.commit(b).await,
        Err(Error::Conflict { index: 0 })
    ));
    let mut b = Batch::new();
    b.expect("ck-atomic", b"y".to_vec(), None)
        .expect("ck-atomic", b"x".to_vec(), Some(v))
        .put("ck-atomic", b"y".to_vec(), b"fresh".to_vec());
    e.commit(b).await.unwrap();
    assert_eq!(
        e.get("ck-atomic", b"y").await.unwrap().unwrap().value,
        b"fresh"
    );

    // A stale version fails.
    let mut b = Batch::new();
    b.expect("ck-atomic", b"x".to_vec(), Some(v + 1_000_000));
    assert!(matches!(
        e.commit(b).await,
        Err(Error::Conflict { index: 0 })
    ));
}

async fn scans_are_ordered_bytewise_both_ways(e: &dyn Engine) {
    let keys: Vec<Vec<u8>> = vec![
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x01],
        vec![0x7f],
        vec![0x80],
        vec![0xff],
        vec![0xff, 0x00],
        b"abc".to_vec(),
        b"ab".to_vec(),
    ];
    let mut b = Batch::new();
    for k in &keys {
        b.put("ck-order", k.clone(), k.clone());
    }
    e.commit(b).await.unwrap();
    let mut sorted = keys.clone();
    sorted.sort();
    let fwd: Vec<_> = e
        .scan("ck-order", KeyRange::all(), Direction::Forward, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(fwd, sorted);
    let rev: Vec<_> = e
        .scan("ck-order", KeyRange::all(), Direction::Reverse, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut want = sorted.clone();
    want.reverse();
    assert_eq!(rev, want);
    // Limit takes from the scan's start.
    let lim = e
        .scan("ck-order", KeyRange::all(), Direction::Reverse, 2)
        .await
        .unwrap();
    assert_eq!(lim.len(), 2);
    assert_eq!(lim[0].0, vec![0xff, 0x00]);
}

async fn range_bounds_are_respected(e: &dyn Engine) {
    let mut b = Batch::new();
    for i in 0u8..10 {
        b.put("ck-range", vec![b'p', i], vec![i]);
    }
    b.put("ck-range", b"q".to_vec(), b"q".to_vec());
    b.put("ck-range", b"o".to_vec(), b"o".to_vec());
    e.commit(b).await.unwrap();
    let got = e
        .scan("ck-range", KeyRange::prefix(b"p"), Direction::Forward, 100)
        .await
        .unwrap();
    assert_eq!(got.len(), 10);
    let r = KeyRange {
        start: Bound::Excluded(vec![b'p', 2]),
        end: Bound::Included(vec![b'p', 5]),
    };
    let got: Vec<u8> = e
        .scan("ck-range", r.clone(), Direction::Forward, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, v)| v.value[0])
        .collect();
    assert_eq!(got, vec![3, 4, 5]);
    let got: Vec<u8> = e
        .scan("ck-range", r, Direction::Reverse, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, v)| v.value[0])
        .collect();
    assert_eq!(got, vec![5, 4, 3]);
    // An inverted range is empty, not an error.
    let inv = KeyRange {
        start: Bound::Included(vec![b'p', 7]),
        end: Bound::Excluded(vec![b'p', 1]),
    };
    assert!(
        e.scan("ck-range", inv, Direction::Forward, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn trees_are_independent_and_droppable(e: &dyn Engine) {
    let mut b = Batch::new();
    b.put("ck-t1", b"k".to_vec(), b"1".to_vec())
        .put("ck-t2", b"k".to_vec(), b"2".to_vec())
        .put("ck-t1", b"j".to_vec(), b"1".to_vec());
    e.commit(b).await.unwrap();
    assert_eq!(e.get("ck-t2", b"k").await.unwrap().unwrap().value, b"2");
    let mut b = Batch::new();
    b.ops.push(crate::Op::DropTree {
        tree: "ck-t1".into(),
    });
    e.commit(b).await.unwrap();
    assert_eq!(e.get("ck-t1", b"k").await.unwrap(), None);
    assert!(
        e.scan("ck-t1", KeyRange::all(), Direction::Forward, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(e.get("ck-t2", b"k").await.unwrap().unwrap().value, b"2");
}

async fn get_many_reads_in_input_order(e: &dyn Engine) {
    let mut b = Batch::new();
    b.put("ck-many", b"a".to_vec(), b"A".to_vec())
        .put("ck-many2", b"b".to_vec(), b"B".to_vec());
    e.commit(b).await.unwrap();
    let got = e
        .get_many(&[
            ("ck-many2".into(), b"b".to_vec()),
            ("ck-many".into(), b"zz".to_vec()),
            ("ck-many".into(), b"a".to_vec()),
        ])
        .await
        .unwrap();
    let vals: Vec<Option<Vec<u8>>> = got.into_iter().map(|v| v.map(|v| v.value)).collect();
    assert_eq!(vals, vec![Some(b"B".to_vec()), None, Some(b"A".to_vec())]);
}

async fn concurrent_commits_get_distinct_growing_sequence_numbers(e: Arc<dyn Engine>) {
    let mut handles = Vec::new();
    for w in 0u8..8 {
        let e = e.clone();
        handles.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0u8..20 {
                let mut b = Batch::new();
                b.put("ck-conc", vec![w, i], vec![w, i]);
                seqs.push(e.commit(b).await.unwrap());
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        let seqs = h.await.unwrap();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        all.extend(seqs);
    }
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "sequence numbers must be distinct");
    let rows = e
        .scan("ck-conc", KeyRange::all(), Direction::Forward, 1000)
        .await
        .unwrap();
    assert_eq!(rows.len(), 160);
}

async fn optimistic_increment_never_loses_an_update(e: Arc<dyn Engine>) {
    let mut handles = Vec::new();
    for _ in 0..4 {
        let e = e.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..25 {
                loop {
                    let cur = e.get("ck-counter", b"n").await.unwrap();
                    let (n, expected) = match &cur {
                        Some(v) => (
                            u64::from_be_bytes(v.value.clone().try_into().unwrap()),
                            Some(v.version),
                        ),
                        None => (0, None),
                    };
                    let mut b = Batch::new();
                    b.expect("ck-counter", b"n".to_vec(), expected).put(
                        "ck-counter",
                        b"n".to_vec(),
                        (n + 1).to_be_bytes().to_vec(),
                    );
                    match e.commit(b).await {
                        Ok(_) => break,
                        Err(Error::Conflict { .. }) => continue,
                        Err(other) => panic!("{other}"),
                    }
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let v = e.get("ck-counter", b"n").await.unwrap().unwrap();
    assert_eq!(u64::from_be_bytes(v.value.try_into().unwrap()), 100);
}

async fn fetch_sees_the_value_before_the_ops(e: &dyn Engine) {
    // Absent keys fetch as None; the ops of the same batch are not visible.
    let mut b = Batch::new();
    b.fetch("ck-fetch", b"a".to_vec())
        .put("ck-fetch", b"a".to_vec(), b"1".to_vec())
        .fetch("ck-fetch", b"missing".to_vec());
    let c1 = e.commit_fetching(b).await.unwrap();
    assert_eq!(c1.fetched, vec![None, None]);

    // The overwrite fetches the first value with its version, in fetch order.
    let mut b = Batch::new();
    b.put("ck-fetch", b"b".to_vec(), b"x".to_vec())
        .put("ck-fetch", b"a".to_vec(), b"2".to_vec())
        .fetch("ck-fetch", b"b".to_vec())
        .fetch("ck-fetch", b"a".to_vec());
    let c2 = e.commit_fetching(b).await.unwrap();
    assert!(c2.seq > c1.seq);
    assert_eq!(c2.fetched.len(), 2);
    assert_eq!(c2.fetched[0], None);
    let a = c2.fetched[1].clone().unwrap();
    assert_eq!((a.value.as_slice(), a.version), (&b"1"[..], c1.seq));

    // A failed precondition writes nothing and returns no values.
    let mut b = Batch::new();
    b.expect("ck-fetch", b"a".to_vec(), Some(c1.seq))
        .fetch("ck-fetch", b"a".to_vec())
        .delete("ck-fetch", b"a".to_vec());
    assert!(matches!(
        e.commit_fetching(b).await,
        Err(Error::Conflict { index: 0 })
    ));
    assert_eq!(e.get("ck-fetch", b"a").await.unwrap().unwrap().value, b"2");

    // A delete fetches what it removed; `commit` works on fetching batches.
    let mut b = Batch::new();
    b.fetch("ck-fetch", b"a".to_vec())
        .delete("ck-fetch", b"a".to_vec());
    let c3 = e.commit_fetching(b).await.unwrap();
    assert_eq!(c3.fetched[0].as_ref().unwrap().value, b"2");
    let mut b = Batch::new();
    b.fetch("ck-fetch", b"b".to_vec());
    assert!(e.commit(b).await.unwrap() > c3.seq);
}

/// Blind puts that fetch the old value, from many tasks at once: each must
/// see exactly the value the previous commit left, so the fetched values
/// form one chain through every put (no put sees a value twice, none is
/// skipped).
async fn concurrent_fetching_puts_each_see_the_previous_one(e: Arc<dyn Engine>) {
    const TASKS: usize = 8;
    const PUTS: usize = 25;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let e = e.clone();
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for i in 0..PUTS {
                let mut b = Batch::new();
                b.fetch("ck-chain", b"k".to_vec()).put(
                    "ck-chain",
                    b"k".to_vec(),
                    format!("{t}-{i}").into_bytes(),
                );
                let Committed { seq, fetched } = e.commit_fetching(b).await.unwrap();
                let before = fetched.into_iter().next().unwrap();
                seen.push((seq, before.map(|v| (v.value, v.version))));
            }
            (t, seen)
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        let (t, seen) = h.await.unwrap();
        for (i, (seq, before)) in seen.into_iter().enumerate() {
            all.push((seq, format!("{t}-{i}").into_bytes(), before));
        }
    }
    all.sort_by_key(|(seq, _, _)| *seq);
    assert_eq!(all[0].2, None, "the first put sees nothing");
    for w in all.windows(2) {
        let (prev_seq, prev_value, _) = &w[0];
        let (_, _, before) = &w[1];
        assert_eq!(
            before.as_ref(),
            Some(&(prev_value.clone(), *prev_seq)),
            "each put sees exactly the previous commit's value"
        );
    }
}
