//! Trivy DB cases (issue 11, items 1 and 6): validly signed kits whose `trivy/db.tar.gz` member
//! carries a malicious Bolt file or archive, or that place Trivy data where the importer would
//! install it unchecked. The format layer cannot judge the DB, so each passes `verify_kit` and
//! must be refused by the importer (before this validator, several of them crashed it with
//! SIGSEGV or grew it without bound).
//!
//! The DB, tar and gzip bytes are built here by hand (no dependency on `ouk-trivy`, whose
//! validator is what is under test): a 40 KiB Bolt file laid out page by page, then patched at
//! known offsets, so each case is reproducible from source and differs from a valid DB in one
//! thing only.

use ouk_format::media_types::TRIVY_DB_MEDIA_TYPE;

use super::{format_case, Ctx};
use crate::fixture::{Kit, KitOptions};
use crate::rawtar::{self, Entry, Header};
use crate::{Category, HostileCase, Layer, EXIT_VERIFICATION};

/// Importer error kinds for Trivy refusals (`ouk-importer/src/error.rs`).
pub mod kinds {
    /// The Trivy DB archive or its Bolt file was refused (`Error::Trivy`, exit 10).
    pub const INVALID: &str = "trivy_db_invalid";
    /// Trivy data outside the one allowed member (`Error::TrivyMisplaced`, exit 10).
    pub const MISPLACED: &str = "trivy_misplaced";
}

/// Where the importer expects the DB member.
pub const TRIVY_PATH: &str = "trivy/db.tar.gz";

/// A hand-built Bolt file (Go bbolt's layout): page size 4096, high-water mark 10.
/// 0, 1 meta (txid 2, 3); 2 freelist (free: 9); 3 root branch → 4, 5; 4 leaf "data-source"
/// (inline bucket), "npm::OUK" (bucket at 6); 5 leaf "vulnerability" (bucket at 7); 6 leaf
/// "lodash" (inline bucket); 7 leaf with one overflow page (8), a 5000-byte value; 9 free.
pub mod bolt {
    /// Page size.
    pub const PS: usize = 4096;
    /// Pages in the file (and the high-water mark).
    pub const PAGES: usize = 10;
    const LEAF: u16 = 0x02;
    const BRANCH: u16 = 0x01;

    fn header(id: u64, flags: u16, count: u16, overflow: u32) -> Vec<u8> {
        let mut b = id.to_le_bytes().to_vec();
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&count.to_le_bytes());
        b.extend_from_slice(&overflow.to_le_bytes());
        b
    }

    /// Element array, then keys and values; `pos` is relative to each element (as in bbolt).
    fn leaf(id: u64, overflow: u32, elems: &[(u32, &[u8], Vec<u8>)]) -> Vec<u8> {
        let mut b = header(id, LEAF, elems.len() as u16, overflow);
        let mut data = Vec::new();
        let start = 16 + elems.len() * 16;
        for (i, (flags, k, v)) in elems.iter().enumerate() {
            let pos = (start + data.len() - (16 + i * 16)) as u32;
            for f in [*flags, pos, k.len() as u32, v.len() as u32] {
                b.extend_from_slice(&f.to_le_bytes());
            }
            data.extend_from_slice(k);
            data.extend_from_slice(v);
        }
        b.extend_from_slice(&data);
        b
    }

    fn branch(id: u64, elems: &[(&[u8], u64)]) -> Vec<u8> {
        let mut b = header(id, BRANCH, elems.len() as u16, 0);
        let mut data = Vec::new();
        let start = 16 + elems.len() * 16;
        for (i, (k, child)) in elems.iter().enumerate() {
            let pos = (start + data.len() - (16 + i * 16)) as u32;
            b.extend_from_slice(&pos.to_le_bytes());
            b.extend_from_slice(&(k.len() as u32).to_le_bytes());
            b.extend_from_slice(&child.to_le_bytes());
            data.extend_from_slice(k);
        }
        b.extend_from_slice(&data);
        b
    }

    fn bucket(root: u64) -> Vec<u8> {
        let mut v = root.to_le_bytes().to_vec();
        v.extend_from_slice(&0u64.to_le_bytes());
        v
    }

    fn inline(key: &[u8], value: &[u8]) -> Vec<u8> {
        let mut v = bucket(0);
        v.extend_from_slice(&leaf(0, 0, &[(0, key, value.to_vec())]));
        v
    }

    fn fnv(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    fn meta(txid: u64) -> Vec<u8> {
        let mut m = 0xED0C_DAEDu32.to_le_bytes().to_vec();
        for v in [2u32, PS as u32, 0] {
            m.extend_from_slice(&v.to_le_bytes());
        }
        for v in [3u64, 0, 2, PAGES as u64, txid] {
            m.extend_from_slice(&v.to_le_bytes());
        }
        let sum = fnv(&m);
        m.extend_from_slice(&sum.to_le_bytes());
        let mut p = header(txid % 2, 0x04, 0, 0);
        p.extend_from_slice(&m);
        p
    }

    /// The valid DB.
    pub fn valid() -> Vec<u8> {
        let mut big = b"{\"Title\":\"".to_vec();
        big.resize(4990, b'x');
        big.extend_from_slice(b"\"}");
        let mut free = header(2, 0x10, 1, 0);
        free.extend_from_slice(&9u64.to_le_bytes());
        let pages: Vec<(usize, Vec<u8>)> = vec![
            (0, meta(2)),
            (1, meta(3)),
            (2, free),
            (3, branch(3, &[(b"data-source", 4), (b"vulnerability", 5)])),
            (
                4,
                leaf(
                    4,
                    0,
                    &[
                        (
                            1,
                            b"data-source",
                            inline(b"npm::OUK", br#"{"ID":"ouk","Name":"OUK"}"#),
                        ),
                        (1, b"npm::OUK", bucket(6)),
                    ],
                ),
            ),
            (5, leaf(5, 0, &[(1, b"vulnerability", bucket(7))])),
            (
                6,
                leaf(
                    6,
                    0,
                    &[(
                        1,
                        b"lodash",
                        inline(b"CVE-2099-1", br#"{"VulnerableVersions":["<1"]}"#),
                    )],
                ),
            ),
            (7, leaf(7, 1, &[(0, b"CVE-2099-1", big)])),
        ];
        let mut file = vec![0u8; PAGES * PS];
        for (id, bytes) in pages {
            file[id * PS..id * PS + bytes.len()].copy_from_slice(&bytes);
        }
        file
    }

    /// Offset of element `index` of page `pgid`.
    pub fn elem(pgid: usize, index: usize) -> usize {
        pgid * PS + 16 + index * 16
    }

    /// Writes a little-endian integer of `bytes.len()` bytes.
    pub fn set(file: &mut [u8], off: usize, bytes: &[u8]) {
        file[off..off + bytes.len()].copy_from_slice(bytes);
    }

    /// Reads a u32.
    pub fn get32(file: &[u8], off: usize) -> usize {
        let mut a = [0u8; 4];
        a.copy_from_slice(&file[off..off + 4]);
        u32::from_le_bytes(a) as usize
    }

    /// Sets a u64 meta field (offset in the meta struct) on both meta pages and re-computes
    /// their checksums, as a builder that writes any bytes it likes would.
    pub fn patch_meta(file: &mut [u8], field: usize, bytes: &[u8]) {
        for page in 0..2 {
            let m = page * PS + 16;
            set(file, m + field, bytes);
            let sum = fnv(&file[m..m + 56]);
            set(file, m + 56, &sum.to_le_bytes());
        }
    }

    /// Offset of the value of leaf element `index` of page `pgid`.
    pub fn value(file: &[u8], pgid: usize, index: usize) -> usize {
        let e = elem(pgid, index);
        e + get32(file, e + 4) + get32(file, e + 8)
    }
}

/// CRC-32 (IEEE), as gzip's trailer needs; bitwise, the inputs are small.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A gzip member with stored (uncompressed) deflate blocks: enough for these small archives, and
/// keeps the hostile crate free of a compression dependency.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut chunks = data.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(c) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = c.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

const METADATA: &[u8] = br#"{"Version":2,"NextUpdate":"2026-01-02T00:00:00Z","UpdatedAt":"2026-01-01T00:00:00Z","DownloadedAt":"2026-01-01T00:00:00Z"}"#;

/// `db.tar.gz` with `trivy.db` then `metadata.json`, as the builder packs it.
pub fn db_tar_gz(db: Vec<u8>) -> Vec<u8> {
    archive(vec![
        Entry::file(b"trivy.db", db),
        Entry::file(b"metadata.json", METADATA.to_vec()),
    ])
}

fn archive(entries: Vec<Entry>) -> Vec<u8> {
    gzip_stored(&rawtar::encode(&entries, &rawtar::end_marker()))
}

/// Sum of the regular files' sizes in a list of tar entries: the `unpacked_size` a builder would
/// sign for an archive made of them.
pub fn expanded(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .filter(|e| matches!(e.header.typeflag, b'0' | 0))
        .map(|e| e.data.len() as u64)
        .sum()
}

/// The signed `unpacked_size` of [`db_tar_gz`] for a DB of `db_len` bytes.
fn db_expanded(db_len: usize) -> u64 {
    (db_len + METADATA.len()) as u64
}

/// The fixture kit plus one payload member (linked to the kit SBOM, attested), with the signed
/// `unpacked_size` the format requires exactly for the Trivy DB media type.
pub fn kit_with_member(path: &str, media_type: &str, data: Vec<u8>, unpacked: u64) -> Vec<u8> {
    let opts = KitOptions::default();
    let mut kit = Kit::build(&opts);
    kit.push_payload(path, media_type, &data).unpacked_size =
        (media_type == TRIVY_DB_MEDIA_TYPE).then_some(unpacked);
    kit.rederive(&opts);
    kit.bytes()
}

fn case(ctx: &Ctx, name: &str, kind: &'static str, kit: Vec<u8>, desc: &str) -> HostileCase {
    let mut c = format_case(
        ctx,
        Category::Trivy,
        name,
        kind,
        EXIT_VERIFICATION,
        kit,
        desc,
    );
    c.layer = Layer::Importer;
    c
}

fn db_case(ctx: &Ctx, name: &str, edit: impl FnOnce(&mut Vec<u8>), desc: &str) -> HostileCase {
    let mut db = bolt::valid();
    edit(&mut db);
    let unpacked = db_expanded(db.len());
    let kit = kit_with_member(TRIVY_PATH, TRIVY_DB_MEDIA_TYPE, db_tar_gz(db), unpacked);
    case(ctx, name, kinds::INVALID, kit, desc)
}

fn tgz_case(ctx: &Ctx, name: &str, entries: Vec<Entry>, desc: &str) -> HostileCase {
    let unpacked = expanded(&entries);
    let kit = kit_with_member(TRIVY_PATH, TRIVY_DB_MEDIA_TYPE, archive(entries), unpacked);
    case(ctx, name, kinds::INVALID, kit, desc)
}

/// All Trivy cases.
pub fn cases(ctx: &Ctx) -> Vec<HostileCase> {
    use bolt::{elem, patch_meta, set, value};
    let db = bolt::valid;
    let md = || Entry::file(b"metadata.json", METADATA.to_vec());
    let symlink = {
        let mut h = Header::regular(b"trivy.db", 0);
        h.typeflag = b'2';
        h.linkname = b"/etc/passwd".to_vec();
        Entry {
            header: h,
            data: Vec::new(),
        }
    };
    let oversized = {
        // The header claims 16 GiB (base-256: above the 8 GiB per-file cap and beyond what
        // octal can say); a few bytes follow.
        let mut h = Header::regular(b"trivy.db", 0);
        h.size_field = Some([0x80, 0, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0]);
        Entry {
            header: h,
            data: vec![0; 512],
        }
    };
    let mut trailing = db_tar_gz(db());
    trailing.extend_from_slice(b"hidden data after the gzip member");
    let mut truncated_gz = db_tar_gz(db());
    truncated_gz.truncate(truncated_gz.len() - 8);
    vec![
        db_case(ctx, "trivy_bolt_root_pgid_2_28", |b| patch_meta(b, 16, &(1u64 << 28).to_le_bytes()),
            "Meta pages with valid checksums whose root page id is 2^28, far past the 40 KiB file (crashed the importer with SIGSEGV through bbolt-rs's unchecked mmap indexing)."),
        db_case(ctx, "trivy_bolt_leaf_pos_huge", |b| set(b, elem(4, 0) + 4, &0x7fff_ffffu32.to_le_bytes()),
            "A leaf element whose key offset (`pos`) is 0x7fffffff (SIGSEGV before)."),
        db_case(ctx, "trivy_bolt_leaf_ksize_huge", |b| set(b, elem(4, 0) + 8, &0x7fff_ffffu32.to_le_bytes()),
            "A leaf element whose key size is 0x7fffffff (SIGSEGV before)."),
        db_case(ctx, "trivy_bolt_leaf_vsize_huge", |b| set(b, elem(7, 0) + 12, &u32::MAX.to_le_bytes()),
            "A leaf value of 4 GiB in a page of 8 KiB (with its overflow page)."),
        db_case(ctx, "trivy_bolt_branch_child_is_itself", |b| set(b, elem(3, 1) + 8, &3u64.to_le_bytes()),
            "The root branch page names itself as a child (grew the importer's memory without bound before)."),
        db_case(ctx, "trivy_bolt_branch_children_shared", |b| set(b, elem(3, 1) + 8, &4u64.to_le_bytes()),
            "Two branch elements share one child page (a DAG, not a tree)."),
        db_case(ctx, "trivy_bolt_subbucket_root_outside_file", |b| { let v = value(b, 4, 1); set(b, v, &(1u64 << 40).to_le_bytes()) },
            "A sub-bucket whose root page id is 2^40 (was installed as the active DB before)."),
        db_case(ctx, "trivy_bolt_subbucket_root_shared", |b| { let v = value(b, 4, 1); set(b, v, &5u64.to_le_bytes()) },
            "A sub-bucket whose root is a page of the root bucket's own tree."),
        db_case(ctx, "trivy_bolt_inline_bucket_truncated", |b| set(b, elem(4, 0) + 12, &40u32.to_le_bytes()),
            "An inline bucket value cut inside its first element."),
        db_case(ctx, "trivy_bolt_overflow_past_eof", |b| set(b, 7 * bolt::PS + 12, &1000u32.to_le_bytes()),
            "A page whose overflow run (1000 pages) ends far past the end of the file."),
        db_case(ctx, "trivy_bolt_meta_page_size_zero", |b| patch_meta(b, 8, &0u32.to_le_bytes()),
            "Both meta pages checksum-valid with page size 0."),
        db_case(ctx, "trivy_bolt_meta_page_size_odd", |b| patch_meta(b, 8, &4097u32.to_le_bytes()),
            "Both meta pages checksum-valid with page size 4097."),
        db_case(ctx, "trivy_bolt_freelist_count_huge", |b| { set(b, 2 * bolt::PS + 10, &0xffffu16.to_le_bytes()); set(b, 2 * bolt::PS + 16, &(1u64 << 60).to_le_bytes()) },
            "A freelist page claiming 2^60 free page ids."),
        db_case(ctx, "trivy_bolt_truncated", |b| b.truncate(5 * bolt::PS),
            "The Bolt file cut after 5 of its 10 pages (valid meta pages)."),
        db_case(ctx, "trivy_bolt_unsorted_keys", |b| { let e = elem(4, 1); let k = e + bolt::get32(b, e + 4); b[k] = b'a' },
            "Leaf keys out of order (\"apm::OUK\" after \"data-source\")."),
        db_case(ctx, "trivy_bolt_no_vulnerability_bucket", |b| { let e = elem(5, 0); let k = e + bolt::get32(b, e + 4); b[k] = b'w' },
            "A well-formed DB without the `vulnerability` bucket Trivy needs (Trivy panics on such a DB)."),
        tgz_case(ctx, "trivy_tgz_extra_entry", vec![Entry::file(b"trivy.db", db()), md(), Entry::file(b"run.sh", b"#!/bin/sh\n".to_vec())],
            "The DB archive carries a third file."),
        tgz_case(ctx, "trivy_tgz_symlink_entry", vec![symlink, md()],
            "`trivy.db` is a symlink to /etc/passwd."),
        tgz_case(ctx, "trivy_tgz_dotdot_entry", vec![Entry::file(b"../trivy.db", db()), md()],
            "`../trivy.db`: an entry escaping the install directory."),
        tgz_case(ctx, "trivy_tgz_size_over_cap", vec![oversized, md()],
            "A `trivy.db` header declaring 16 GiB: refused before a byte is written."),
        case(ctx, "trivy_tgz_trailing_data", kinds::INVALID, kit_with_member(TRIVY_PATH, TRIVY_DB_MEDIA_TYPE, trailing, db_expanded(db().len())),
            "Bytes hidden after the gzip member."),
        case(ctx, "trivy_tgz_truncated_gzip", kinds::INVALID, kit_with_member(TRIVY_PATH, TRIVY_DB_MEDIA_TYPE, truncated_gz, db_expanded(db().len())),
            "The gzip trailer (CRC and length) is missing."),
        case(ctx, "trivy_expands_beyond_unpacked_size", kinds::INVALID, kit_with_member(TRIVY_PATH, TRIVY_DB_MEDIA_TYPE, db_tar_gz(db()), 4096),
            "A valid DB archive whose signed unpacked_size (4 KiB) is smaller than what it expands to: extraction stops at the signed size (a gzip bomb cannot grow outside the signed accounting and the free-space check)."),
        case(ctx, "trivy_expands_below_unpacked_size", kinds::INVALID, kit_with_member(TRIVY_PATH, TRIVY_DB_MEDIA_TYPE, db_tar_gz(db()), db_expanded(db().len()) + 1),
            "A valid DB archive that expands to one byte less than its signed unpacked_size: the signed size is exact, not an upper bound."),
        case(ctx, "trivy_plain_member_at_db_path", kinds::MISPLACED, kit_with_member("trivy/db/trivy.db", "application/octet-stream", db(), 0),
            "A plain payload at `trivy/db/trivy.db` would become the active DB unchecked (issue 11 item 6): everything under `trivy/` except the DB member is refused."),
        case(ctx, "trivy_db_member_wrong_media_type", kinds::MISPLACED, kit_with_member(TRIVY_PATH, "application/octet-stream", db_tar_gz(db()), 0),
            "`trivy/db.tar.gz` with another media type: the DB member is chosen by path and media type together."),
        case(ctx, "trivy_db_media_type_elsewhere", kinds::MISPLACED, kit_with_member("feeds/db.tar.gz", TRIVY_DB_MEDIA_TYPE, db_tar_gz(db()), db_expanded(db().len())),
            "The Trivy DB media type on a member outside `trivy/db.tar.gz`."),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_reference() {
        // The check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn valid_db_layout() {
        let b = bolt::valid();
        assert_eq!(b.len(), 40 * 1024);
        // Root branch keys and the leaf keys they point to.
        let e = bolt::elem(3, 0);
        let k = e + bolt::get32(&b, e);
        assert_eq!(&b[k..k + 11], b"data-source");
        let v = bolt::value(&b, 5, 0);
        assert_eq!(&b[v..v + 8], &7u64.to_le_bytes());
    }
}
