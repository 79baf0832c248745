//! Reading a `db.tar.gz` strictly: the layout of Trivy's official OCI layer (media type
//! `application/vnd.aquasec.trivy.db.layer.v1.tar+gzip`), two regular files `trivy.db` and
//! `metadata.json` at the top level and nothing else.
//!
//! Raw tar headers (PAX and GNU long-name headers come back as entries of their own and are
//! refused, never buffered), only the two names, each once, regular files only, per-file caps,
//! a cap on the total expanded bytes counted while they are written, the gzip stream read to its
//! end (CRC checked) with nothing after it. Never `tar::Archive::unpack`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use flate2::bufread::GzDecoder;

use crate::{DbLimits, TrivyError, DB_FILE, METADATA_FILE};

/// Most bytes accepted after the tar end-of-archive marker (tar pads to 10 KiB records).
const MAX_TRAILER: u64 = 1 << 20;
/// Most characters of an entry name kept in errors.
const MAX_SHOWN_NAME: usize = 200;

/// One of the two files a DB archive may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbEntry {
    /// `trivy.db`.
    Db,
    /// `metadata.json`.
    Metadata,
}

impl DbEntry {
    fn name(self) -> &'static str {
        match self {
            DbEntry::Db => DB_FILE,
            DbEntry::Metadata => METADATA_FILE,
        }
    }
}

/// Reads the archive, handing each allowed entry to `sink` with its size and a reader of
/// exactly that many bytes. `sink` returns how many bytes it consumed (it must be all of them).
/// `max_total` caps the sum of the entries' sizes. Returns that sum.
pub(crate) fn read_archive<R: Read>(
    reader: R,
    archive: &Path,
    limits: &DbLimits,
    max_total: u64,
    mut sink: impl FnMut(DbEntry, u64, &mut dyn Read) -> Result<u64, TrivyError>,
) -> Result<u64, TrivyError> {
    let malformed = |e: io::Error| malformed(archive, &e);
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(reader)));
    let mut seen = [false; 2];
    let mut total = 0u64;
    let entries = tar.entries().map_err(malformed)?.raw(true);
    for (n, entry) in entries.enumerate() {
        let mut entry = entry.map_err(malformed)?;
        let name_bytes = entry.path_bytes().into_owned();
        let unexpected = |reason| TrivyError::UnexpectedEntry {
            archive: archive.to_path_buf(),
            entry: String::from_utf8_lossy(&name_bytes)
                .chars()
                .take(MAX_SHOWN_NAME)
                .collect(),
            reason,
        };
        if n >= limits.max_entries {
            return Err(unexpected("too many entries"));
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(unexpected("not a regular file"));
        }
        let which = match name_bytes.as_slice() {
            b"trivy.db" => DbEntry::Db,
            b"metadata.json" => DbEntry::Metadata,
            n if n.split(|b| *b == b'/').any(|c| c == b"..") => {
                return Err(unexpected("path with a `..` component"))
            }
            _ => return Err(unexpected("only trivy.db and metadata.json are allowed")),
        };
        let slot = &mut seen[which as usize];
        if *slot {
            return Err(TrivyError::DuplicateEntry {
                archive: archive.to_path_buf(),
                entry: which.name(),
            });
        }
        *slot = true;
        let size = entry.header().size().map_err(malformed)?;
        let cap = match which {
            DbEntry::Db => limits.max_db_bytes,
            DbEntry::Metadata => limits.max_metadata_bytes,
        };
        if size > cap {
            return Err(too_large(archive, which.name(), cap));
        }
        // Checked against the header before a byte is written; the sink's count is checked
        // against the header after.
        total = total
            .checked_add(size)
            .filter(|t| *t <= max_total)
            .ok_or_else(|| too_large(archive, "expanded archive", max_total))?;
        let mut limited = (&mut entry).take(size);
        let consumed = sink(which, size, &mut limited)?;
        if consumed != size {
            return Err(malformed(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} shorter than its header says", which.name()),
            )));
        }
    }
    // Read the gzip stream to its end so its CRC and length are checked, with a cap on what may
    // follow the tar end marker, then require that nothing follows the gzip member.
    let mut gz = tar.into_inner();
    let rest =
        io::copy(&mut (&mut gz).take(MAX_TRAILER + 1), &mut io::sink()).map_err(malformed)?;
    if rest > MAX_TRAILER {
        return Err(too_large(
            archive,
            "data after the tar end marker",
            MAX_TRAILER,
        ));
    }
    let mut inner = gz.into_inner();
    if !inner.fill_buf().map_err(malformed)?.is_empty() {
        return Err(TrivyError::MalformedArchive {
            archive: archive.to_path_buf(),
            reason: "data after the gzip stream".into(),
        });
    }
    // Only now, with the stream's CRC checked: a corrupt stream that decoded into an early tar
    // end marker is a broken archive, not one that lacks an entry.
    for (which, present) in [(DbEntry::Db, seen[0]), (DbEntry::Metadata, seen[1])] {
        if !present {
            return Err(TrivyError::MissingEntry {
                archive: archive.to_path_buf(),
                entry: which.name(),
            });
        }
    }
    Ok(total)
}

fn too_large(archive: &Path, entry: &'static str, limit: u64) -> TrivyError {
    TrivyError::TooLarge {
        archive: archive.to_path_buf(),
        entry,
        limit,
    }
}

fn malformed(archive: &Path, e: &io::Error) -> TrivyError {
    TrivyError::MalformedArchive {
        archive: archive.to_path_buf(),
        reason: e.to_string().chars().take(MAX_SHOWN_NAME).collect(),
    }
}

/// Copies an entry's data to `out`, telling a broken archive (read side: `MalformedArchive`)
/// from a failing disk (write side: `Io` on `out_path`). Returns the bytes copied.
pub(crate) fn copy_entry(
    data: &mut dyn Read,
    out: &mut dyn Write,
    archive: &Path,
    out_path: &Path,
) -> Result<u64, TrivyError> {
    let mut buf = vec![0u8; 64 << 10];
    let mut copied = 0u64;
    loop {
        let n = match data.read(&mut buf) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(malformed(archive, &e)),
        };
        out.write_all(buf.get(..n).unwrap_or_default())
            .map_err(|e| TrivyError::io(out_path, e))?;
        copied += n as u64;
    }
}

/// Reads `metadata.json` (at most `cap` bytes) into memory.
pub(crate) fn read_small(
    data: &mut dyn Read,
    cap: u64,
    archive: &Path,
) -> Result<Vec<u8>, TrivyError> {
    let mut buf = Vec::new();
    data.take(cap)
        .read_to_end(&mut buf)
        .map_err(|e| malformed(archive, &e))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, data) in entries {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    /// Runs `read_archive` with a sink that records what it was handed.
    fn read(bytes: &[u8], limits: &DbLimits, max: u64) -> Result<Vec<(DbEntry, u64)>, TrivyError> {
        let mut seen = Vec::new();
        read_archive(
            bytes,
            Path::new("a.tgz"),
            limits,
            max,
            |which, size, data| {
                let n = copy_entry(data, &mut io::sink(), Path::new("a.tgz"), Path::new("x"))?;
                seen.push((which, size));
                Ok(n)
            },
        )?;
        Ok(seen)
    }

    #[test]
    fn a_broken_gzip_stream_is_malformed_before_an_entry_is_missing() {
        // Only trivy.db, and the gzip trailer's CRC wrong: the integrity failure is the
        // reported cause, not the missing metadata.json.
        let mut a = tgz(&[("trivy.db", &[1; 1000])]);
        let crc_at = a.len() - 8;
        a[crc_at] ^= 0x01;
        assert!(matches!(
            read(&a, &DbLimits::default(), 1 << 20),
            Err(TrivyError::MalformedArchive { .. })
        ));
        // The same archive intact: the missing entry is named.
        let a = tgz(&[("trivy.db", &[1; 1000])]);
        assert!(matches!(
            read(&a, &DbLimits::default(), 1 << 20),
            Err(TrivyError::MissingEntry {
                entry: "metadata.json",
                ..
            })
        ));
    }

    #[test]
    fn hands_each_entry_to_the_sink_with_its_size() {
        let a = tgz(&[("trivy.db", &[1; 1000]), ("metadata.json", b"{}")]);
        assert_eq!(
            read(&a, &DbLimits::default(), 1002).unwrap(),
            [(DbEntry::Db, 1000), (DbEntry::Metadata, 2)]
        );
    }

    #[test]
    fn the_total_cap_counts_both_files() {
        let a = tgz(&[("trivy.db", &[1; 1000]), ("metadata.json", b"{}")]);
        assert!(matches!(
            read(&a, &DbLimits::default(), 1001),
            Err(TrivyError::TooLarge {
                entry: "expanded archive",
                limit: 1001,
                ..
            })
        ));
    }

    #[test]
    fn a_sink_that_stops_early_is_a_short_entry() {
        let a = tgz(&[("trivy.db", &[1; 1000]), ("metadata.json", b"{}")]);
        let r = read_archive(
            &a[..],
            Path::new("a.tgz"),
            &DbLimits::default(),
            1 << 20,
            |_, _, _| Ok(0),
        );
        assert!(matches!(r, Err(TrivyError::MalformedArchive { .. })));
    }

    #[test]
    fn entry_count_is_capped() {
        let limits = DbLimits {
            max_entries: 1,
            ..DbLimits::default()
        };
        let a = tgz(&[("trivy.db", &[1; 10]), ("metadata.json", b"{}")]);
        assert!(matches!(
            read(&a, &limits, 1 << 20),
            Err(TrivyError::UnexpectedEntry {
                reason: "too many entries",
                ..
            })
        ));
    }

    #[test]
    fn a_second_gzip_member_is_refused() {
        let mut a = tgz(&[("trivy.db", &[1; 10]), ("metadata.json", b"{}")]);
        let second = tgz(&[("x", b"y")]);
        a.extend_from_slice(&second);
        match read(&a, &DbLimits::default(), 1 << 20) {
            Err(TrivyError::MalformedArchive { reason, .. }) => {
                assert_eq!(reason, "data after the gzip stream")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_in_errors_are_bounded() {
        let long = "n".repeat(90);
        let a = tgz(&[(long.as_str(), b"x")]);
        match read(&a, &DbLimits::default(), 1 << 20) {
            Err(TrivyError::UnexpectedEntry { entry, .. }) => assert_eq!(entry, long),
            other => panic!("{other:?}"),
        }
        let e = malformed(Path::new("a"), &io::Error::other("e".repeat(1000)));
        match e {
            TrivyError::MalformedArchive { reason, .. } => {
                assert_eq!(reason.len(), MAX_SHOWN_NAME)
            }
            other => panic!("{other:?}"),
        }
    }
}
