//! The tar container: names, entry types, extension headers, order, header integrity.
//!
//! The manifest in these kits is valid and correctly signed; only the container around it lies.
//! Most entries here cannot be produced by the `tar` crate's builder, which is why the generator
//! writes raw headers ([`crate::rawtar`]).

use super::{format_case, Ctx, ADVISORIES, ATTESTATION, ENVELOPE, SBOM, SNAPSHOT};
use crate::rawtar::{Entry, Magic};
use crate::{Category, HostileCase, EXIT_VERIFICATION};

const V: i32 = EXIT_VERIFICATION;

fn renamed(ctx: &Ctx, index: usize, name: &[u8]) -> Vec<u8> {
    ctx.edited(|e| e[index].header.name = name.to_vec())
}

fn retyped(ctx: &Ctx, index: usize, typeflag: u8, linkname: &[u8]) -> Vec<u8> {
    ctx.edited(|e| {
        e[index].header.typeflag = typeflag;
        e[index].header.linkname = linkname.to_vec();
        e[index].header.size = 0;
        e[index].data.clear();
    })
}

/// An extension-header entry (PAX or GNU) inserted before entry `before`.
fn with_extension(
    ctx: &Ctx,
    before: usize,
    typeflag: u8,
    magic: Magic,
    name: &[u8],
    body: &[u8],
) -> Vec<u8> {
    ctx.edited(|e| {
        let mut ext = Entry::file(name, body.to_vec());
        ext.header.typeflag = typeflag;
        ext.header.magic = magic;
        e.insert(before, ext);
    })
}

/// A PAX record `"<len> key=value\n"`, where len counts the whole record.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body_len = 1 + key.len() + 1 + value.len() + 1;
    let mut len = body_len + 1;
    while len.to_string().len() + body_len != len {
        len = len.to_string().len() + body_len;
    }
    let mut out = format!("{len} {key}=").into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

/// All archive cases.
pub fn cases(ctx: &Ctx) -> Vec<HostileCase> {
    let c = |name: &str, kind: &'static str, bytes: Vec<u8>, desc: &str| {
        format_case(ctx, Category::Archive, name, kind, V, bytes, desc)
    };
    let mut out = vec![
        // ---- names ------------------------------------------------------------------------------
        c("entry_dotdot", "unexpected_member",
          renamed(ctx, ADVISORIES, b"members/../../../etc/cron.d/ouk.zst"),
          "A member entry whose name climbs out with `..`: entry names are compared byte for byte with the name derived from the signed manifest path, so a traversal name can never be matched, let alone extracted."),
        c("entry_absolute", "unexpected_member",
          renamed(ctx, ADVISORIES, b"/etc/cron.d/ouk"),
          "A member entry with an absolute name (tar-rs `unpack_in` would silently strip the `/`): refused as a name the manifest does not list."),
        c("entry_backslash", "unexpected_member",
          renamed(ctx, ADVISORIES, b"members\\feeds\\advisories.ndjson.zst"),
          "Windows separators in an entry name: no normalisation happens, the name simply does not match."),
        c("entry_unicode_lookalike", "unexpected_member",
          renamed(ctx, ADVISORIES, "members/feeds/\u{0430}dvisories.ndjson.zst".as_bytes()),
          "Cyrillic `а` (U+0430) in place of Latin `a`: a look-alike name that a human would accept; byte comparison refuses it."),
        c("entry_non_utf8", "unexpected_member",
          renamed(ctx, ADVISORIES, b"members/feeds/\xff\xfeadvisories.ndjson.zst"),
          "Non-UTF-8 bytes in an entry name: refused without lossy decoding ever being used for a decision."),
        c("entry_very_long_name", "unexpected_member",
          ctx.edited(|e| {
              e[ADVISORIES].header.prefix = [b"members/".as_slice(), &[b'a'; 146]].concat();
              e[ADVISORIES].header.name = vec![b'b'; 100];
          }),
          "A 255-byte ustar name (prefix + name fields both full): no buffer assumption breaks, the name just does not match."),
        c("envelope_dotdot", "manifest_not_first",
          renamed(ctx, ENVELOPE, b"../ouk/manifest.dsse.json"),
          "The envelope entry under a traversal name: the first entry must be exactly `ouk/manifest.dsse.json`."),
        c("manifest_not_first", "manifest_not_first",
          ctx.edited(|e| e.swap(ENVELOPE, ATTESTATION)),
          "A member precedes the envelope: nothing is read before the signed manifest, so the kit is refused at its first entry."),
        // ---- entry types ------------------------------------------------------------------------
        c("entry_symlink", "forbidden_entry_type",
          retyped(ctx, ADVISORIES, b'2', b"/etc/shadow"),
          "A symlink entry under a member's exact name pointing at /etc/shadow: only regular files are accepted, whatever the name."),
        c("entry_hardlink", "forbidden_entry_type",
          retyped(ctx, ADVISORIES, b'1', b"members/sbom/kit.spdx.json.zst"),
          "A hard link to another member: refused by type (tar-rs would create it)."),
        c("entry_char_device", "forbidden_entry_type",
          retyped(ctx, ADVISORIES, b'3', b""),
          "A character device node under a member name."),
        c("entry_block_device", "forbidden_entry_type",
          retyped(ctx, ADVISORIES, b'4', b""),
          "A block device node under a member name."),
        c("entry_fifo", "forbidden_entry_type",
          retyped(ctx, ADVISORIES, b'6', b""),
          "A FIFO under a member name (would block an extractor that opens it)."),
        c("entry_directory", "forbidden_entry_type",
          retyped(ctx, ADVISORIES, b'5', b""),
          "A directory entry under a member name."),
        c("envelope_symlink", "forbidden_entry_type",
          retyped(ctx, ENVELOPE, b'2', b"/etc/passwd"),
          "The envelope entry itself is a symlink: the type check runs before the name is even considered."),
        c("gnu_magic_regular_file", "forbidden_entry_type",
          ctx.edited(|e| e[ADVISORIES].header.magic = Magic::Gnu),
          "A regular file with GNU (not POSIX ustar) magic: only plain ustar headers are accepted, so GNU extensions can never apply."),
        c("v7_header", "forbidden_entry_type",
          ctx.edited(|e| e[ADVISORIES].header.magic = Magic::V7),
          "A pre-POSIX V7 header (no magic) for a member."),
        c("gnu_sparse_entry", "forbidden_entry_type",
          ctx.edited(|e| {
              e[ADVISORIES].header.typeflag = b'S';
              e[ADVISORIES].header.magic = Magic::Gnu;
          }),
          "A GNU sparse entry: its map would let the data on disk differ from the bytes hashed; refused by type."),
        // ---- extension headers that would override paths -----------------------------------------
        c("pax_path_override", "forbidden_entry_type",
          with_extension(ctx, ADVISORIES, b'x', Magic::Ustar, b"PaxHeaders/evil",
                         &pax_record("path", b"../../../../etc/cron.d/ouk")),
          "A PAX extended header whose `path` record would rename the next (valid) member to a traversal path: extension headers are refused, so no parser disagreement about names is possible."),
        c("pax_size_override", "forbidden_entry_type",
          with_extension(ctx, ADVISORIES, b'x', Magic::Ustar, b"PaxHeaders/size",
                         &pax_record("size", b"0")),
          "A PAX `size` record that would make readers disagree about where the next header starts (the classic tar smuggling trick)."),
        c("pax_global_header_first", "forbidden_entry_type",
          with_extension(ctx, ENVELOPE, b'g', Magic::Ustar, b"pax_global_header",
                         &pax_record("comment", b"git archive style")),
          "A PAX global header before the envelope (as `git archive` emits): the first entry must be the envelope as a plain file."),
        c("gnu_longname_override", "forbidden_entry_type",
          with_extension(ctx, ADVISORIES, b'L', Magic::Gnu, b"././@LongLink",
                         &[b"../../../../../../tmp/ouk-pwned".as_slice(), b"\0"].concat()),
          "A GNU long-name (`L`) entry that would replace the next member's name with a traversal path."),
        c("gnu_longlink_override", "forbidden_entry_type",
          with_extension(ctx, ADVISORIES, b'K', Magic::Gnu, b"././@LongLink",
                         b"/etc/shadow\0"),
          "A GNU long-link (`K`) entry (link target for the next entry)."),
        // ---- duplicates, extras, missing, order -------------------------------------------------
        c("duplicate_member", "unexpected_member",
          ctx.edited(|e| {
              let dup = e[ADVISORIES].clone();
              e.insert(SNAPSHOT, dup);
          }),
          "The same member twice in a row: the second copy is where the next manifest member must be, so it is refused as repeated (no last-one-wins)."),
        c("duplicate_envelope", "unexpected_member",
          ctx.edited(|e| {
              let dup = e[ENVELOPE].clone();
              e.insert(ATTESTATION, dup);
          }),
          "A second manifest envelope after the first: only one manifest can ever be read."),
        c("member_not_in_manifest", "unexpected_member",
          ctx.edited(|e| e.insert(ATTESTATION, Entry::file(b"members/feeds/extra.json.zst", b"{}".to_vec()))),
          "An entry the manifest does not list, placed between the envelope and the first member: refused before its data is read."),
        c("member_after_last", "unexpected_member",
          ctx.edited(|e| e.push(Entry::file(b"members/zz/late.json.zst", b"late".to_vec()))),
          "An extra entry after the last manifest member: two-way accounting catches additions at the end too."),
        c("member_missing_last", "missing_member",
          ctx.edited(|e| { e.pop(); }),
          "The last manifest member is absent: the kit is refused, not imported partially."),
        c("member_missing_middle", "unexpected_member",
          ctx.edited(|e| { e.remove(SBOM); }),
          "A middle member (the SBOM) is absent, so the next member arrives early: refused as out of order."),
        c("members_swapped", "unexpected_member",
          ctx.edited(|e| e.swap(ADVISORIES, SNAPSHOT)),
          "Two members in the wrong order: the container order must equal the signed manifest order."),
        // ---- header integrity -------------------------------------------------------------------
        c("bad_checksum_envelope", "tar_format",
          ctx.edited(|e| e[ENVELOPE].header.checksum_delta = 1),
          "The envelope header's checksum is off by one."),
        c("bad_checksum_member", "tar_format",
          ctx.edited(|e| e[ADVISORIES].header.checksum_delta = -1),
          "A member header's checksum is off by one."),
        c("size_field_not_octal", "tar_format",
          ctx.edited(|e| e[ADVISORIES].header.size_field = Some(*b"zzzzzzzzzzz\0")),
          "A member size field that is not an octal number."),
        c("member_size_field_lies", "compressed_size_mismatch",
          ctx.edited(|e| e[ADVISORIES].header.size += 512),
          "A member header claims 512 more bytes than the signed compressed size: refused before any data is read."),
        c("envelope_size_base256_huge", "limit_exceeded",
          ctx.edited(|e| {
              let mut f = [0u8; 12];
              f[0] = 0x80;
              f[4] = 0x40;
              e[ENVELOPE].header.size_field = Some(f);
          }),
          "The envelope header declares 4 EiB in GNU base-256 encoding: the envelope cap applies before any allocation."),
        c("size_field_overflow", "tar_format",
          ctx.edited(|e| {
              let mut f = [0xffu8; 12];
              f[0] = 0x80;
              e[ADVISORIES].header.size_field = Some(f);
          }),
          "A member size field whose base-256 value overflows 64 bits: refused as malformed, no arithmetic wraps."),
        c("empty_file", "truncated", Vec::new(),
          "A zero-byte kit file."),
        c("only_end_marker", "truncated", vec![0u8; 1024],
          "A kit that is nothing but the end-of-archive marker."),
        c("not_a_tar", "tar_format",
          [b"PK\x03\x04".as_slice(), &[b'x'; 1020]].concat(),
          "A zip-like file given as a kit."),
    ];
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use super::pax_record;

    #[test]
    fn pax_record_length_counts_itself() {
        let r = pax_record("path", b"abc");
        assert_eq!(r, b"12 path=abc\n");
        let long = pax_record("path", &[b'a'; 95]);
        assert_eq!(long.len().to_string(), String::from_utf8_lossy(&long[..3]));
    }
}
