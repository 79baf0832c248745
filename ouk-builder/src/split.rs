//! `build --split SIZE`: cut a written kit into parts small enough for a FAT32 stick
//! (`OUT.001`, `OUT.002`, …, the kit's bytes unchanged and in order) and write the signed part
//! index `OUT.parts.json` (spec §17), signed by the kit key(s) that signed the manifest.
//!
//! Deterministic: the parts are slices of a deterministic kit, the index is canonical JSON and
//! the signatures are deterministic (Ed25519; P-256 with RFC 6979 nonces).

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use ouk_format::digest::{Hasher, Sha256};
use ouk_format::keys::Signer;
use ouk_format::media_types::PARTS_FORMAT;
use ouk_format::parts::{
    index_name, part_names, Part, PartsIndex, MAX_PARTS, MAX_PART_SIZE, MIN_PART_SIZE,
};
use serde::Serialize;

use crate::build::BuildSummary;
use crate::error::BuildError;

/// What a split wrote.
#[derive(Debug, Clone, Serialize)]
pub struct SplitSummary {
    /// The signed part index.
    pub index: PathBuf,
    /// The part files, in order.
    pub parts: Vec<PathBuf>,
    /// Size of every part but the last.
    pub part_size: u64,
    /// Whether the whole kit file was kept (`--keep-whole`).
    pub kept_whole: bool,
}

/// Parse a part size: plain bytes (`1048576`), binary units (`KiB`, `MiB`, `GiB`, also `K`,
/// `M`, `G`) or decimal ones (`kB`, `MB`, `GB`); case-insensitive, optional space.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err(format!("size {s:?} does not start with a number"));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("size {s:?} is too large"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        other => {
            return Err(format!(
                "size {s:?}: unknown unit {other:?} (use B, KiB, MiB, GiB, kB, MB or GB)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

/// Refuse part sizes a FAT32 stick cannot hold or that only multiply files.
pub fn check_part_size(size: u64) -> Result<(), BuildError> {
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&size) {
        return Err(BuildError::Config(format!(
            "--split {size}: a part must be 1 MiB to 4 GiB - 1 bytes ({MIN_PART_SIZE}..={MAX_PART_SIZE}; FAT32 cannot hold a 4 GiB file)"
        )));
    }
    Ok(())
}

/// Cut the kit `summary.kit` into parts of `part_size` bytes next to it and write the index
/// signed by `signers`; remove the whole kit unless `keep_whole`.
pub fn split_kit(
    summary: &BuildSummary,
    part_size: u64,
    signers: &[&dyn Signer],
    keep_whole: bool,
) -> Result<SplitSummary, BuildError> {
    check_part_size(part_size)?;
    if signers.is_empty() {
        return Err(BuildError::Config(
            "splitting needs the kit signing key(s)".into(),
        ));
    }
    let kit = &summary.kit;
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source: io::Error| BuildError::Io { path: p, source }
    };
    let kit_name = kit
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| BuildError::Config("the kit file name is not UTF-8".into()))?;
    let dir = kit.parent().unwrap_or(Path::new("."));
    let size = fs::metadata(kit).map_err(io_err(kit))?.len();
    if size != summary.kit_size {
        return Err(BuildError::Config(format!(
            "{} changed after it was built",
            kit.display()
        )));
    }
    let count = usize::try_from(size.div_ceil(part_size)).unwrap_or(usize::MAX);
    if count == 0 || count > MAX_PARTS {
        return Err(BuildError::Config(format!(
            "--split {part_size} gives {count} parts; an index holds 1 to {MAX_PARTS}"
        )));
    }
    let names = part_names(kit_name, count);
    let mut input = BufReader::with_capacity(1 << 20, File::open(kit).map_err(io_err(kit))?);
    let mut whole = Hasher::new();
    let mut parts = Vec::with_capacity(count);
    let mut paths = Vec::with_capacity(count);
    let mut buf = vec![0u8; 1 << 20];
    for name in &names {
        let path = dir.join(name);
        let tmp = dir.join(format!("{name}.tmp"));
        let mut out = File::create(&tmp).map_err(io_err(&tmp))?;
        let mut hasher = Hasher::new();
        let mut left = part_size;
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = input.read(&mut buf[..want]).map_err(io_err(kit))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            whole.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io_err(&tmp))?;
            left -= n as u64;
        }
        out.sync_all().map_err(io_err(&tmp))?;
        drop(out);
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        let (sha256, len) = hasher.finish();
        parts.push(Part {
            name: name.clone(),
            size: len,
            sha256,
        });
        paths.push(path);
    }
    let (kit_sha256, kit_size) = whole.finish();
    if kit_size != size || Some(kit_sha256) != Sha256::from_hex(&summary.kit_sha256) {
        return Err(BuildError::Config(format!(
            "{} changed while it was split",
            kit.display()
        )));
    }
    let index = PartsIndex {
        format: PARTS_FORMAT.to_owned(),
        kit_id: summary.kit_id.clone(),
        channel: summary.channel.clone(),
        sequence: summary.sequence,
        kit_sha256,
        kit_size,
        part_size,
        parts,
    };
    let envelope = index.sign(signers)?;
    let index_path = dir.join(index_name(kit_name));
    let tmp = dir.join(format!("{}.tmp", index_name(kit_name)));
    {
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(&envelope).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
    }
    fs::rename(&tmp, &index_path).map_err(io_err(&index_path))?;
    if !keep_whole {
        fs::remove_file(kit).map_err(io_err(kit))?;
    }
    Ok(SplitSummary {
        index: index_path,
        parts: paths,
        part_size,
        kept_whole: keep_whole,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_size("100MiB").unwrap(), 100 << 20);
        assert_eq!(parse_size("1 MiB").unwrap(), 1 << 20);
        assert_eq!(parse_size("1m").unwrap(), 1 << 20);
        assert_eq!(parse_size("2000000").unwrap(), 2_000_000);
        assert_eq!(parse_size("3MB").unwrap(), 3_000_000);
        assert_eq!(parse_size("7b").unwrap(), 7);
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("1.5GiB").is_err());
        assert!(parse_size("1TiB").is_err());
        assert!(parse_size("99999999999999999999").is_err());
        assert!(parse_size("99999999999GiB").is_err());
    }

    #[test]
    fn fat32_bounds() {
        assert!(check_part_size((1 << 20) - 1).is_err());
        assert!(check_part_size(1 << 20).is_ok());
        assert!(check_part_size((4 << 30) - 1).is_ok());
        assert!(check_part_size(4 << 30).is_err());
    }
}
