//! The validator on the hand-built test DB and on hostile patches of it; each asserts the exact
//! problem (and bucket) reported.

use super::testdb::*;
use super::{validate_bolt, BoltProblem, BoltSummary, DbLimits, TrivyError};
use crate::{ElementPart, MetaProblem, PageKind, PageRef, REQUIRED_BUCKETS};

fn run_with(bytes: &[u8], limits: &DbLimits) -> Result<BoltSummary, TrivyError> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("trivy.db");
    std::fs::write(&p, bytes).unwrap();
    validate_bolt(&p, &REQUIRED_BUCKETS, limits)
}

/// The problem and bucket of a refusal (panics on success or another error kind).
fn problem(bytes: &[u8]) -> (BoltProblem, String) {
    problem_with(bytes, &DbLimits::default())
}

fn problem_with(bytes: &[u8], limits: &DbLimits) -> (BoltProblem, String) {
    match run_with(bytes, limits) {
        Err(TrivyError::InvalidBolt {
            bucket, problem, ..
        }) => (problem, bucket.as_str().to_owned()),
        other => panic!("expected InvalidBolt, got {other:?}"),
    }
}

fn patched(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut b = build();
    edit(&mut b);
    b
}

#[test]
fn the_test_db_is_valid() {
    let s = run_with(&build(), &DbLimits::default()).unwrap();
    assert_eq!(s.page_size, 4096);
    assert_eq!(s.txid, 3);
    // freelist 2; tree 3, 4, 5, 6, 7 + overflow 8.
    assert_eq!(s.pages, 7);
    // 2 (branch) + 2 + 1 inline (page 4) + 1 (page 5) + 1 + 1 inline (page 6) + 1 (page 7).
    assert_eq!(s.elements, 9);
    assert_eq!(s.root_buckets, ["data-source", "npm::OUK", "vulnerability"]);
}

#[test]
fn root_page_far_beyond_the_file() {
    let b = patched(|b| patch_both_u64(b, META_ROOT, 1 << 28));
    assert_eq!(
        problem(&b),
        (
            BoltProblem::BeyondHighWaterMark {
                pgid: 1 << 28,
                hwm: HWM
            },
            String::new()
        )
    );
}

#[test]
fn root_page_is_a_meta_page() {
    let b = patched(|b| patch_both_u64(b, META_ROOT, 0));
    assert_eq!(problem(&b).0, BoltProblem::MetaPageReferenced { pgid: 0 });
}

#[test]
fn high_water_mark_beyond_the_file() {
    // A page inside the high-water mark but past the end of the file.
    let b = patched(|b| {
        patch_both_u64(b, META_HWM, 1 << 40);
        patch_both_u64(b, META_ROOT, 1 << 30);
    });
    assert_eq!(
        problem(&b).0,
        BoltProblem::PageOutsideFile { pgid: 1 << 30 }
    );
}

#[test]
fn leaf_element_pos_out_of_page() {
    let b = patched(|b| set_u32(b, elem(4, 0) + 4, 0x7fff_ffff));
    assert_eq!(
        problem(&b),
        (
            BoltProblem::ElementOutOfPage {
                at: PageRef::Page(4),
                index: 0,
                part: ElementPart::Key
            },
            String::new()
        )
    );
}

#[test]
fn leaf_ksize_out_of_page() {
    let b = patched(|b| set_u32(b, elem(4, 0) + 8, 0x7fff_ffff));
    assert_eq!(
        problem(&b).0,
        BoltProblem::ElementOutOfPage {
            at: PageRef::Page(4),
            index: 0,
            part: ElementPart::Key
        }
    );
}

#[test]
fn leaf_vsize_out_of_page_even_with_overflow() {
    let b = patched(|b| set_u32(b, elem(7, 0) + 12, u32::MAX));
    assert_eq!(
        problem(&b),
        (
            BoltProblem::ElementOutOfPage {
                at: PageRef::Page(7),
                index: 0,
                part: ElementPart::Value
            },
            "vulnerability".to_owned()
        )
    );
}

#[test]
fn branch_key_out_of_page() {
    let b = patched(|b| set_u32(b, elem(3, 1) + 4, 0x7fff_ffff));
    assert_eq!(
        problem(&b).0,
        BoltProblem::ElementOutOfPage {
            at: PageRef::Page(3),
            index: 1,
            part: ElementPart::Key
        }
    );
}

#[test]
fn branch_page_whose_child_is_itself() {
    let b = patched(|b| set_u64(b, elem(3, 1) + 8, 3));
    assert_eq!(problem(&b).0, BoltProblem::PageReachedTwice { pgid: 3 });
}

#[test]
fn two_branch_elements_sharing_a_child() {
    let b = patched(|b| set_u64(b, elem(3, 1) + 8, 4));
    assert_eq!(problem(&b).0, BoltProblem::PageReachedTwice { pgid: 4 });
}

#[test]
fn bucket_root_shared_with_the_root_tree() {
    // npm::OUK's root is page 5, which the root branch also names.
    let b = patched(|b| {
        let value = elem(4, 1);
        let pos = get_u32(b, value + 4) as usize;
        let ksize = get_u32(b, value + 8) as usize;
        set_u64(b, value + pos + ksize, 5);
    });
    assert_eq!(problem(&b).0, BoltProblem::PageReachedTwice { pgid: 5 });
}

#[test]
fn sub_bucket_root_far_outside_the_file() {
    let b = patched(|b| {
        let value = elem(4, 1);
        let pos = get_u32(b, value + 4) as usize;
        let ksize = get_u32(b, value + 8) as usize;
        set_u64(b, value + pos + ksize, 1 << 40);
    });
    assert_eq!(
        problem(&b),
        (
            BoltProblem::BeyondHighWaterMark {
                pgid: 1 << 40,
                hwm: HWM
            },
            "npm::OUK".to_owned()
        )
    );
}

#[test]
fn inline_bucket_value_truncated() {
    // data-source's value: 16-byte bucket header + 16-byte page header + half an element.
    let b = patched(|b| set_u32(b, elem(4, 0) + 12, 40));
    assert_eq!(
        problem(&b),
        (
            BoltProblem::ElementsOverflowPage {
                at: PageRef::Inline { page: 4, index: 0 },
                count: 1
            },
            "data-source".to_owned()
        )
    );
    let b = patched(|b| set_u32(b, elem(4, 0) + 12, 8));
    assert_eq!(
        problem(&b).0,
        BoltProblem::BucketValueTooShort {
            at: PageRef::Page(4),
            index: 0
        }
    );
}

#[test]
fn overflow_past_the_end_of_the_file() {
    let b = patched(|b| set_u32(b, 7 * PS + 12, 1000));
    assert_eq!(
        problem(&b).0,
        BoltProblem::OverflowOutOfRange {
            pgid: 7,
            overflow: 1000
        }
    );
    let b = patched(|b| set_u32(b, 7 * PS + 12, u32::MAX));
    assert_eq!(
        problem(&b).0,
        BoltProblem::OverflowOutOfRange {
            pgid: 7,
            overflow: u32::MAX
        }
    );
}

#[test]
fn checksum_valid_meta_with_page_size_zero_or_odd() {
    for size in [0u32, 4097, 256, 1 << 20] {
        let mut b = build();
        patch_meta_u32(&mut b, 0, META_PAGE_SIZE, size);
        assert_eq!(problem(&b).0, BoltProblem::BadPageSize { meta: 0, size });
    }
}

#[test]
fn meta_pages_disagreeing_on_page_size() {
    let mut b = build();
    patch_meta_u32(&mut b, 1, META_PAGE_SIZE, 8192);
    assert_eq!(
        problem(&b).0,
        BoltProblem::PageSizeMismatch {
            first: 4096,
            second: 8192
        }
    );
}

#[test]
fn invalid_newer_meta_falls_back_to_the_older_one() {
    // Meta 1 (txid 3) gets a bad root but no new checksum: Go ignores it, and so do we.
    let mut b = build();
    set_u64(&mut b, PS + META + META_ROOT, 1 << 28);
    assert_eq!(run_with(&b, &DbLimits::default()).unwrap().txid, 2);
    // Both broken: refused, saying why for each.
    b[META] ^= 0xff;
    assert_eq!(
        problem(&b).0,
        BoltProblem::NoValidMeta {
            meta0: MetaProblem::BadMagic,
            meta1: MetaProblem::BadChecksum
        }
    );
}

#[test]
fn meta_1_alone_is_found_by_probing() {
    let mut b = build();
    b[META] ^= 0xff;
    assert_eq!(run_with(&b, &DbLimits::default()).unwrap().txid, 3);
}

#[test]
fn freelist_count_huge() {
    let b = patched(|b| {
        set_u16(b, 2 * PS + 10, 0xffff);
        set_u64(b, 2 * PS + 16, 1 << 60);
    });
    assert_eq!(
        problem(&b).0,
        BoltProblem::FreelistOverflowsPage {
            pgid: 2,
            count: 1 << 60
        }
    );
    let b = patched(|b| set_u16(b, 2 * PS + 10, 1000));
    assert_eq!(
        problem(&b).0,
        BoltProblem::FreelistOverflowsPage {
            pgid: 2,
            count: 1000
        }
    );
}

#[test]
fn free_page_in_use_or_out_of_range() {
    let b = patched(|b| set_u64(b, 2 * PS + 16, 4));
    assert_eq!(problem(&b).0, BoltProblem::FreePageInUse { id: 4 });
    let b = patched(|b| set_u64(b, 2 * PS + 16, 20));
    assert_eq!(
        problem(&b).0,
        BoltProblem::FreePageOutOfRange { id: 20, hwm: HWM }
    );
    // The tree pointing at the freelist page.
    let b = patched(|b| set_u64(b, elem(3, 1) + 8, 2));
    assert_eq!(problem(&b).0, BoltProblem::PageReachedTwice { pgid: 2 });
}

#[test]
fn truncated_file() {
    let b = build();
    assert_eq!(
        problem(&b[..5 * PS]).0,
        BoltProblem::PageOutsideFile { pgid: 5 }
    );
    // Cut inside the overflow run.
    assert_eq!(
        problem(&b[..8 * PS + 100]).0,
        BoltProblem::OverflowOutOfRange {
            pgid: 7,
            overflow: 1
        }
    );
    // Meta 0 complete, nothing else.
    assert_eq!(
        problem(&b[..100]).0,
        BoltProblem::PageOutsideFile { pgid: 2 }
    );
    assert_eq!(
        problem(&b[..40]).0,
        BoltProblem::NoValidMeta {
            meta0: MetaProblem::Short,
            meta1: MetaProblem::Short
        }
    );
    assert_eq!(
        problem(&[]).0,
        BoltProblem::NoValidMeta {
            meta0: MetaProblem::Short,
            meta1: MetaProblem::Short
        }
    );
}

#[test]
fn unsorted_and_duplicate_keys() {
    // "npm::OUK" → "apm::OUK", which sorts before "data-source".
    let b = patched(|b| {
        let e = elem(4, 1);
        let pos = get_u32(b, e + 4) as usize;
        b[e + pos] = b'a';
    });
    assert_eq!(
        problem(&b).0,
        BoltProblem::KeysNotSorted {
            at: PageRef::Page(4),
            index: 1
        }
    );
    // Branch with the same key twice.
    let b = patched(|b| {
        let e = elem(3, 1);
        set_u32(b, e + 4, 11); // branch ksize of "vulnerability" → 11 ...
        let pos = get_u32(b, e) as usize;
        b[e + pos..e + pos + 11].copy_from_slice(b"data-source"); // ... spelling "data-source"
    });
    assert_eq!(
        problem(&b).0,
        BoltProblem::KeysNotSorted {
            at: PageRef::Page(3),
            index: 1
        }
    );
}

#[test]
fn page_flags_must_fit_their_use() {
    let b = patched(|b| set_u16(b, 5 * PS + 8, FREELIST_FLAG));
    assert_eq!(
        problem(&b).0,
        BoltProblem::UnexpectedPageType {
            at: PageRef::Page(5),
            flags: FREELIST_FLAG,
            expected: PageKind::Tree
        }
    );
    let b = patched(|b| set_u16(b, 5 * PS + 8, BRANCH_FLAG | LEAF_FLAG));
    assert!(matches!(
        problem(&b).0,
        BoltProblem::UnexpectedPageType { .. }
    ));
    // An element flag other than "bucket".
    let b = patched(|b| set_u32(b, elem(7, 0), 4));
    assert_eq!(
        problem(&b).0,
        BoltProblem::BadElementFlags {
            at: PageRef::Page(7),
            index: 0,
            flags: 4
        }
    );
    // A plain value among the root buckets.
    let b = patched(|b| set_u32(b, elem(5, 0), 0));
    assert_eq!(
        problem(&b).0,
        BoltProblem::RootValueNotBucket {
            at: PageRef::Page(5),
            index: 0
        }
    );
    // A page whose header names another page.
    let b = patched(|b| set_u64(b, 6 * PS, 9));
    assert_eq!(
        problem(&b),
        (
            BoltProblem::PageIdMismatch { pgid: 6, found: 9 },
            "npm::OUK".to_owned()
        )
    );
    // An empty branch.
    let b = patched(|b| set_u16(b, 3 * PS + 10, 0));
    assert_eq!(
        problem(&b).0,
        BoltProblem::EmptyBranch {
            at: PageRef::Page(3)
        }
    );
}

#[test]
fn element_count_that_does_not_fit() {
    let b = patched(|b| set_u16(b, 6 * PS + 10, 0xffff));
    assert_eq!(
        problem(&b).0,
        BoltProblem::ElementsOverflowPage {
            at: PageRef::Page(6),
            count: 0xffff
        }
    );
}

#[test]
fn a_required_bucket_is_missing() {
    let b = patched(|b| {
        let e = elem(5, 0);
        let pos = get_u32(b, e + 4) as usize;
        b[e + pos] = b'w'; // "vulnerability" → "wulnerability"
    });
    assert_eq!(
        problem(&b).0,
        BoltProblem::MissingBucket {
            name: "vulnerability"
        }
    );
}

#[test]
fn limits_bound_depth_work_and_page_size() {
    let l = DbLimits {
        max_tree_depth: 1,
        ..DbLimits::default()
    };
    assert_eq!(
        problem_with(&build(), &l).0,
        BoltProblem::TreeTooDeep { pgid: 5, depth: 2 }
    );
    let l = DbLimits {
        max_bucket_depth: 1,
        ..DbLimits::default()
    };
    assert_eq!(
        problem_with(&build(), &l),
        (
            BoltProblem::BucketsTooDeep { depth: 2 },
            "npm::OUK".to_owned()
        )
    );
    let l = DbLimits {
        max_elements: 3,
        ..DbLimits::default()
    };
    assert_eq!(
        problem_with(&build(), &l).0,
        BoltProblem::TooManyElements { limit: 3 }
    );
    let l = DbLimits {
        max_pending_pages: 1,
        ..DbLimits::default()
    };
    assert!(matches!(
        problem_with(&build(), &l).0,
        BoltProblem::TooManyPending { limit: 1 }
    ));
    let l = DbLimits {
        max_page_span_bytes: 4096,
        ..DbLimits::default()
    };
    assert_eq!(
        problem_with(&build(), &l).0,
        BoltProblem::PageTooLarge {
            pgid: 7,
            bytes: 8192
        }
    );
    let l = DbLimits {
        max_db_bytes: 4096,
        ..DbLimits::default()
    };
    assert_eq!(
        problem_with(&build(), &l).0,
        BoltProblem::FileTooLarge {
            len: (PAGES * PS) as u64
        }
    );
}

#[test]
fn sub_bucket_inside_an_inline_bucket() {
    // Mark lodash's inline value as a bucket.
    let b = patched(|b| {
        let e = elem(6, 0);
        let pos = get_u32(b, e + 4) as usize;
        let ksize = get_u32(b, e + 8) as usize;
        let inline_elem = e + pos + ksize + 16 + 16;
        set_u32(b, inline_elem, 1);
    });
    assert_eq!(
        problem(&b),
        (
            BoltProblem::SubBucketInInlineBucket {
                at: PageRef::Inline { page: 6, index: 0 },
                index: 0
            },
            "npm::OUK/lodash".to_owned()
        )
    );
}

#[test]
fn every_single_byte_flip_is_refused_or_accepted_without_panic() {
    // Not a fuzzer: a deterministic sweep over the structural bytes of every page, so that no
    // offset we compute can panic. Values are not checked (a flipped JSON byte is still valid).
    let base = build();
    let mut refused = 0;
    for page in 0..PAGES {
        for off in 0..96 {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut b = base.clone();
                b[page * PS + off] ^= flip;
                if run_with(&b, &DbLimits::default()).is_err() {
                    refused += 1;
                }
            }
        }
    }
    assert!(refused > 0);
}
