//! `<store>/audit.jsonl`: one JSON record per attempt, append-only, hash-chained, fsynced.
//!
//! Each line carries `prev`, the sha256 of the previous line's bytes (64 zeros for the first), and
//! `record`, its 1-based number. Editing, removing or reordering a record breaks the chain at the
//! next one, and [`verify`] names the first broken record. (Cutting records off the *end* cannot be
//! detected by a chain alone; `state.json` being newer than the log's last import is the hint.)
//!
//! A record is written with a single `write` on an `O_APPEND` descriptor and then fsynced, so a
//! killed process leaves whole records. A torn last line can only come from a power cut during the
//! write; the next locked command cuts it off and logs that it did ([`Audit::open`]).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ouk_format::digest::Sha256;
use ouk_format::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::failpoint;
use crate::fsx::{self, Access};

/// Longest line accepted by [`verify`] (records are a few hundred bytes; bounded error text).
pub const MAX_RECORD_BYTES: usize = 64 * 1024;
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who ran the command (from the CLI: login name and host name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// Login name, or `uid:N`.
    pub user: String,
    /// Host name.
    pub host: String,
}

/// One audit record as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// 1-based position in the log.
    pub record: u64,
    /// sha256 (hex) of the previous line, without its newline.
    pub prev: String,
    /// Wall-clock time of the attempt (the system clock, as given to the library).
    pub time: Timestamp,
    /// `import`, `rollback`, `gc` or `recover`.
    pub action: String,
    /// `imported`, `already_imported`, `refused`, `failed`, `activated`, `removed`, ...
    pub outcome: String,
    /// Kit file, when the action concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kit: Option<String>,
    /// sha256 of the kit file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kit_sha256: Option<String>,
    /// Kit sequence, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Generation concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
    /// `Error::kind()` of a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Error message of a failure (bounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// An expired kit was accepted because of `--allow-expired`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_expired: bool,
    /// What an administrator said about a manual action (e.g. why the floor was reset), and the
    /// values it changed (bounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who.
    pub operator: String,
    /// Where.
    pub host: String,
}

/// What a caller fills in; numbering and chaining are done by [`Audit::append`].
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// See [`Record::action`].
    pub action: &'static str,
    /// See [`Record::outcome`].
    pub outcome: &'static str,
    /// See [`Record::kit`].
    pub kit: Option<String>,
    /// See [`Record::kit_sha256`].
    pub kit_sha256: Option<String>,
    /// See [`Record::sequence`].
    pub sequence: Option<u64>,
    /// See [`Record::generation`].
    pub generation: Option<String>,
    /// See [`Record::error_kind`].
    pub error_kind: Option<String>,
    /// See [`Record::error`].
    pub error: Option<String>,
    /// See [`Record::allow_expired`].
    pub allow_expired: bool,
    /// See [`Record::note`].
    pub note: Option<String>,
}

impl Entry {
    /// Record a failure.
    pub fn with_error(mut self, e: &Error) -> Entry {
        self.error_kind = Some(e.kind().to_owned());
        let mut msg = e.to_string();
        if msg.len() > 1000 {
            let mut cut = 1000;
            while !msg.is_char_boundary(cut) {
                cut -= 1;
            }
            msg.truncate(cut);
            msg.push('…');
        }
        self.error = Some(msg);
        self
    }
}

/// An audit log open for appending (the caller holds the store lock).
#[derive(Debug)]
pub struct Audit {
    path: PathBuf,
    file: File,
    next: u64,
    prev: String,
    operator: Operator,
}

impl Audit {
    /// Open (creating) `<store>/audit.jsonl`. A torn last line (power cut mid-write) is cut off;
    /// the returned flag says so, and the caller logs a `recover` record about it. The log is
    /// opened without following links ([`fsx::open_store_file`]): a planted link, FIFO or hard
    /// link is refused before a byte is cut or appended.
    pub fn open(store: &Path, operator: &Operator) -> Result<(Audit, bool)> {
        let path = store.join("audit.jsonl");
        let mut file: File = fsx::open_store_file(&path, Access::Append)?
            .ok_or(Error::Internal("audit log missing after create"))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("inspecting the audit log", &path, e))?
            .len();
        let tail_len = len.min(2 * MAX_RECORD_BYTES as u64);
        let mut tail = Vec::new();
        file.seek(SeekFrom::Start(len - tail_len))
            .and_then(|_| (&mut file).take(tail_len).read_to_end(&mut tail))
            .map_err(|e| Error::io("reading the audit log", &path, e))?;
        let mut torn = false;
        if !tail.is_empty() && tail.last() != Some(&b'\n') {
            let keep = tail.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let new_len = len - tail_len + keep as u64;
            file.set_len(new_len)
                .and_then(|_| file.sync_all())
                .map_err(|e| Error::io("cutting a torn audit record", &path, e))?;
            tail.truncate(keep);
            torn = true;
        }
        let (next, prev) = match tail.strip_suffix(b"\n") {
            None => (1, GENESIS.to_owned()),
            Some(body) => {
                let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                let line = &body[start..];
                let last: ChainFields =
                    serde_json::from_slice(line).map_err(|e| Error::AuditBroken {
                        path: path.clone(),
                        record: 0,
                        reason: format!("last record unreadable: {e}"),
                    })?;
                (last.record + 1, Sha256::of(line).to_hex())
            }
        };
        Ok((
            Audit {
                path,
                file,
                next,
                prev,
                operator: operator.clone(),
            },
            torn,
        ))
    }

    /// Append one record and fsync it.
    pub fn append(&mut self, time: Timestamp, entry: Entry) -> Result<()> {
        failpoint!("audit::append", &self.path);
        let record = Record {
            record: self.next,
            prev: self.prev.clone(),
            time,
            action: entry.action.to_owned(),
            outcome: entry.outcome.to_owned(),
            kit: entry.kit,
            kit_sha256: entry.kit_sha256,
            sequence: entry.sequence,
            generation: entry.generation,
            error_kind: entry.error_kind,
            error: entry.error,
            allow_expired: entry.allow_expired,
            note: entry.note,
            operator: self.operator.user.clone(),
            host: self.operator.host.clone(),
        };
        let mut line =
            serde_json::to_vec(&record).map_err(|_| Error::Internal("audit serialisation"))?;
        let hash = Sha256::of(&line).to_hex();
        line.push(b'\n');
        // One write call: a killed process leaves the whole line or none of it.
        self.file
            .write_all(&line)
            .map_err(|e| Error::io("appending to the audit log", &self.path, e))?;
        failpoint!("audit::fsync", &self.path);
        self.file
            .sync_data()
            .map_err(|e| Error::io("syncing the audit log", &self.path, e))?;
        self.next += 1;
        self.prev = hash;
        Ok(())
    }
}

#[derive(Deserialize)]
struct ChainFields {
    record: u64,
    prev: String,
}

/// Result of a successful [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditSummary {
    /// Records checked.
    pub records: u64,
    /// sha256 of the last record (pin it elsewhere to detect truncation later).
    pub head: String,
}

/// Check the whole chain; the error names the first broken record.
pub fn verify(store: &Path) -> Result<AuditSummary> {
    let path = store.join("audit.jsonl");
    let Some(file) = fsx::open_store_file(&path, Access::Read)? else {
        return Ok(AuditSummary {
            records: 0,
            head: GENESIS.to_owned(),
        });
    };
    let mut reader = BufReader::new(file);
    let mut prev = GENESIS.to_owned();
    let mut n = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_RECORD_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io("reading the audit log", &path, e))?;
        if read == 0 {
            break;
        }
        n += 1;
        let broken = |reason: String| Error::AuditBroken {
            path: path.clone(),
            record: n,
            reason,
        };
        let Some(body) = line.strip_suffix(b"\n") else {
            return Err(broken(if line.len() > MAX_RECORD_BYTES {
                "record too long".into()
            } else {
                "torn record (no end of line)".into()
            }));
        };
        let fields: ChainFields =
            serde_json::from_slice(body).map_err(|e| broken(format!("not a record: {e}")))?;
        if fields.record != n {
            return Err(broken(format!("numbered {} instead of {n}", fields.record)));
        }
        if fields.prev != prev {
            return Err(broken(
                "prev does not match the sha256 of the previous record".into(),
            ));
        }
        prev = Sha256::of(body).to_hex();
    }
    Ok(AuditSummary {
        records: n,
        head: prev,
    })
}
