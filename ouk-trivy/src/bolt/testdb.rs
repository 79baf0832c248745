//! A tiny hand-built Bolt file for tests, laid out page by page so hostile variants can be made
//! by patching known offsets. Also compiled into `tests/install.rs` (by path), so the install
//! and validate tests run without the `export` feature (and without bbolt-rs).
//!
//! Layout (page size 4096, high-water mark 10, 10 pages = 40 KiB):
//! - 0, 1: meta (txid 2 and 3: meta 1 is the one in use)
//! - 2: freelist, one free page (9)
//! - 3: root bucket, branch: "data-source" → 4, "vulnerability" → 5
//! - 4: leaf: "data-source" (inline bucket, one value), "npm::OUK" (bucket, root page 6)
//! - 5: leaf: "vulnerability" (bucket, root page 7)
//! - 6: leaf: "lodash" (inline bucket: "CVE-2099-1" → advisory JSON)
//! - 7, 8: leaf with one overflow page: "CVE-2099-1" → a 5000-byte value
//! - 9: free
#![allow(dead_code)]

pub const PS: usize = 4096;
pub const HWM: u64 = 10;
pub const PAGES: usize = 10;
pub const META_FLAG: u16 = 0x04;
pub const FREELIST_FLAG: u16 = 0x10;
pub const BRANCH_FLAG: u16 = 0x01;
pub const LEAF_FLAG: u16 = 0x02;
/// Offset of the meta struct in a meta page.
pub const META: usize = 16;
/// Offsets of meta fields inside the meta struct.
pub const META_PAGE_SIZE: usize = 8;
pub const META_ROOT: usize = 16;
pub const META_FREELIST: usize = 32;
pub const META_HWM: usize = 40;
pub const META_TXID: usize = 48;

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn header(id: u64, flags: u16, count: u16, overflow: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(16);
    b.extend_from_slice(&id.to_le_bytes());
    b.extend_from_slice(&flags.to_le_bytes());
    b.extend_from_slice(&count.to_le_bytes());
    b.extend_from_slice(&overflow.to_le_bytes());
    b
}

/// A leaf page (header + elements + data); `elems` are (flags, key, value).
pub fn leaf(id: u64, overflow: u32, elems: &[(u32, &[u8], Vec<u8>)]) -> Vec<u8> {
    let mut b = header(id, LEAF_FLAG, elems.len() as u16, overflow);
    let mut data = Vec::new();
    let data_start = 16 + elems.len() * 16;
    for (i, (flags, k, v)) in elems.iter().enumerate() {
        let elem = 16 + i * 16;
        let pos = data_start + data.len() - elem;
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&(pos as u32).to_le_bytes());
        b.extend_from_slice(&(k.len() as u32).to_le_bytes());
        b.extend_from_slice(&(v.len() as u32).to_le_bytes());
        data.extend_from_slice(k);
        data.extend_from_slice(v);
    }
    b.extend_from_slice(&data);
    b
}

/// A branch page; `elems` are (key, child page).
pub fn branch(id: u64, elems: &[(&[u8], u64)]) -> Vec<u8> {
    let mut b = header(id, BRANCH_FLAG, elems.len() as u16, 0);
    let mut data = Vec::new();
    let data_start = 16 + elems.len() * 16;
    for (i, (k, child)) in elems.iter().enumerate() {
        let elem = 16 + i * 16;
        let pos = data_start + data.len() - elem;
        b.extend_from_slice(&(pos as u32).to_le_bytes());
        b.extend_from_slice(&(k.len() as u32).to_le_bytes());
        b.extend_from_slice(&child.to_le_bytes());
        data.extend_from_slice(k);
    }
    b.extend_from_slice(&data);
    b
}

/// A bucket value whose root is page `root`.
pub fn bucket_ref(root: u64) -> Vec<u8> {
    let mut v = root.to_le_bytes().to_vec();
    v.extend_from_slice(&0u64.to_le_bytes());
    v
}

/// An inline bucket value holding `elems` (plain values).
pub fn inline_bucket(elems: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut v = bucket_ref(0);
    let e: Vec<(u32, &[u8], Vec<u8>)> = elems.iter().map(|(k, x)| (0, *k, x.to_vec())).collect();
    v.extend_from_slice(&leaf(0, 0, &e));
    v
}

fn meta(txid: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&0xED0C_DAEDu32.to_le_bytes());
    m.extend_from_slice(&2u32.to_le_bytes());
    m.extend_from_slice(&(PS as u32).to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(&3u64.to_le_bytes()); // root bucket root page
    m.extend_from_slice(&0u64.to_le_bytes()); // sequence
    m.extend_from_slice(&2u64.to_le_bytes()); // freelist
    m.extend_from_slice(&HWM.to_le_bytes());
    m.extend_from_slice(&txid.to_le_bytes());
    let sum = fnv(&m);
    m.extend_from_slice(&sum.to_le_bytes());
    let mut p = header(txid % 2, META_FLAG, 0, 0);
    p.extend_from_slice(&m);
    p
}

/// The value stored under vulnerability/CVE-2099-1 (large enough to need an overflow page).
pub fn big_value() -> Vec<u8> {
    let mut v = b"{\"Title\":\"".to_vec();
    v.resize(4990, b'x');
    v.extend_from_slice(b"\"}");
    v
}

/// The valid test database.
pub fn build() -> Vec<u8> {
    let mut file = vec![0u8; PAGES * PS];
    let mut put = |pgid: usize, bytes: Vec<u8>| {
        file[pgid * PS..pgid * PS + bytes.len()].copy_from_slice(&bytes);
    };
    put(0, meta(2));
    put(1, meta(3));
    let mut free = header(2, FREELIST_FLAG, 1, 0);
    free.extend_from_slice(&9u64.to_le_bytes());
    put(2, free);
    put(3, branch(3, &[(b"data-source", 4), (b"vulnerability", 5)]));
    put(
        4,
        leaf(
            4,
            0,
            &[
                (
                    1,
                    b"data-source",
                    inline_bucket(&[(b"npm::OUK", br#"{"ID":"ouk","Name":"OUK"}"#)]),
                ),
                (1, b"npm::OUK", bucket_ref(6)),
            ],
        ),
    );
    put(5, leaf(5, 0, &[(1, b"vulnerability", bucket_ref(7))]));
    put(
        6,
        leaf(
            6,
            0,
            &[(
                1,
                b"lodash",
                inline_bucket(&[(b"CVE-2099-1", br#"{"VulnerableVersions":["<1"]}"#)]),
            )],
        ),
    );
    put(7, leaf(7, 1, &[(0, b"CVE-2099-1", big_value())]));
    file
}

/// Offset of element `index` of page `pgid`.
pub fn elem(pgid: usize, index: usize) -> usize {
    pgid * PS + 16 + index * 16
}

pub fn set_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

pub fn set_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn set_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

pub fn get_u32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

/// Sets a meta field (offset inside the meta struct) on meta page `page` (0 or 1) and fixes
/// its checksum, as a signer who can write any file would.
pub fn patch_meta_u32(b: &mut [u8], page: usize, field: usize, v: u32) {
    set_u32(b, page * PS + META + field, v);
    resum(b, page);
}

/// Like [`patch_meta_u32`] for a u64 field.
pub fn patch_meta_u64(b: &mut [u8], page: usize, field: usize, v: u64) {
    set_u64(b, page * PS + META + field, v);
    resum(b, page);
}

fn resum(b: &mut [u8], page: usize) {
    let start = page * PS + META;
    let sum = fnv(&b[start..start + 56]);
    set_u64(b, start + 56, sum);
}

/// Patches a u64 meta field on both meta pages.
pub fn patch_both_u64(b: &mut [u8], field: usize, v: u64) {
    patch_meta_u64(b, 0, field, v);
    patch_meta_u64(b, 1, field, v);
}
