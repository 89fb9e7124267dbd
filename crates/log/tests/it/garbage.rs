//! Untrusted bytes from disk never panic: arbitrary files, and valid logs with random damage,
//! are opened and read in full; whatever is served passes the batch checks.

use crate::common;

use std::sync::Arc;

use common::{batch, config};
use memstream_batch::{verify, Limits};
use memstream_log::{FsyncPolicy, LogError, MemoryBackend, Partition, Syncer};
use proptest::prelude::*;

const NAMES: [&str; 6] = [
    "00000000000000000000.log",
    "00000000000000000000.index",
    "00000000000000000000.timeindex",
    "00000000000000000010.log",
    "00000000000000000010.index",
    "00000000000000000010.timeindex",
];

/// Reads every offset of the log; each batch served must verify and start where claimed.
fn read_everything(p: &Partition) {
    let end = p.end_offset();
    let mut offset = p.start_offset();
    while offset < end {
        match p.read(offset, 4096) {
            Ok(f) => {
                assert!(!f.batches.is_empty());
                let first =
                    verify(&f.batches[0], Limits::UNLIMITED).expect("served batches verify");
                assert!(first.base_offset <= offset && offset < first.next_offset());
                let mut next = first.base_offset;
                for b in &f.batches {
                    let h = verify(b, Limits::UNLIMITED).expect("served batches verify");
                    assert_eq!(h.base_offset, next, "served batches are consecutive");
                    next = h.next_offset();
                }
                assert_eq!(f.next_offset, next);
                offset = f.next_offset;
            }
            Err(LogError::Corrupt { .. }) => offset += 1,
            Err(e) => panic!("read {offset}: {e}"),
        }
    }
    for ts in [0, 1, 1_000, 1_050, u64::MAX] {
        let o = p.offset_for_timestamp(ts);
        assert!(o >= p.start_offset() && o <= end);
    }
}

fn open(backend: MemoryBackend) -> Option<Partition> {
    let cfg = config(700, FsyncPolicy::Never);
    let opened = Partition::open_with(Arc::new(backend), cfg, &Syncer::new(1));
    opened.ok().map(|(p, _)| p)
}

proptest! {
    #[test]
    fn arbitrary_files_never_panic(
        files in prop::collection::vec((0..NAMES.len(), prop::collection::vec(any::<u8>(), 0..400)), 0..6)
    ) {
        let backend = MemoryBackend::new();
        for (name, bytes) in &files {
            backend.set_contents(NAMES[*name], bytes);
        }
        if let Some(p) = open(backend) {
            read_everything(&p);
            p.append(batch(1, 1, 0, 0), 0).expect("a recovered log takes appends");
        }
    }

    #[test]
    fn damaged_logs_never_panic_and_serve_only_verified_batches(
        damage in prop::collection::vec((0..NAMES.len(), any::<prop::sample::Index>(), any::<u8>(), any::<bool>()), 1..4)
    ) {
        let backend = MemoryBackend::new();
        {
            let (p, _) = Partition::open_with(
                Arc::new(backend.clone()),
                config(700, FsyncPolicy::Never),
                &Syncer::new(1),
            )
            .unwrap();
            for i in 0..12u8 {
                p.append(batch(1 + u32::from(i % 3), 40, 1_000 + u64::from(i) * 10, i), 0).unwrap();
            }
        }
        let mut names = backend_names(&backend);
        names.sort();
        for (file, at, value, truncate) in damage {
            let Some(name) = names.get(file % names.len()) else { continue };
            let mut bytes = backend.contents(name).unwrap();
            if bytes.is_empty() {
                continue;
            }
            let i = at.index(bytes.len());
            if truncate {
                bytes.truncate(i);
            } else {
                bytes[i] ^= value.max(1);
            }
            backend.set_contents(name, &bytes);
        }
        let p = open(backend).expect("a damaged log still opens");
        read_everything(&p);
    }
}

fn backend_names(backend: &MemoryBackend) -> Vec<String> {
    use memstream_log::Backend;
    backend.list().unwrap()
}
