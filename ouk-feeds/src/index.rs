//! The in-memory index of spilled records: per record only what clustering,
//! the "newer copy wins" rule's ordering and the reports need (source, id, file,
//! `modified`, aliases, upstream) plus where the full record lies in the spill
//! file. The full [`SourceRecord`] is read back one cluster at a time.

use std::sync::Arc;

use crate::adapters::Parsed;
use crate::cluster::Joinable;
use crate::codec;
use crate::error::FeedError;
use crate::model::SourceRecord;
use crate::report::{Dropped, Rejected};
use crate::source::SourceKind;
use crate::spill::Slot;
use crate::timestamp::Ts;

/// One parsed record, without its content.
#[derive(Debug, Clone)]
pub(crate) struct IndexEntry {
    /// Source kind (sort key, primary/enrichment split, reports).
    pub source: SourceKind,
    /// Record id (sort key, cluster node, enrichment lookup).
    pub id: String,
    /// Shared by all records of one file (NVD pages hold 2 000).
    pub file: Arc<str>,
    /// Sort key (ties between copies) and the source's `newest_modified`.
    pub modified: Option<Ts>,
    /// Cluster edges and enrichment lookup.
    pub aliases: Vec<String>,
    /// Cluster edges.
    pub upstream: Vec<String>,
    /// Where the whole record lies in the spill file.
    pub slot: Slot,
}

impl Joinable for IndexEntry {
    fn source(&self) -> SourceKind {
        self.source
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn upstream(&self) -> &[String] {
        &self.upstream
    }
}

/// One file's records encoded for the spill file (built on a parser thread).
pub(crate) struct EncodedFile {
    /// The encoded records, back to back.
    pub blob: Vec<u8>,
    /// Their index entries; `slot.off` is relative to the start of `blob`.
    pub entries: Vec<IndexEntry>,
    /// Per record (same order as `entries`): its ignored alias values.
    pub ignored: Vec<Vec<String>>,
    /// Records or files of this file rejected (for the report).
    pub rejected: Vec<Rejected>,
    /// Parts of records dropped (for the report).
    pub dropped: Vec<Dropped>,
}

/// Encode one file's parse result, dropping the parsed records from memory.
pub(crate) fn encode_file(parsed: Parsed) -> Result<EncodedFile, FeedError> {
    let mut blob = Vec::new();
    let mut entries = Vec::with_capacity(parsed.records.len());
    let mut ignored = Vec::with_capacity(parsed.records.len());
    let mut file: Option<Arc<str>> = None;
    for r in parsed.records {
        let off = blob.len();
        codec::encode(&mut blob, &r)?;
        let len = u32::try_from(blob.len() - off).map_err(|_| {
            FeedError::spill(
                "encoding a record",
                std::io::Error::other("record larger than 4 GiB"),
            )
        })?;
        let f = match &file {
            Some(f) if **f == *r.file => Arc::clone(f),
            _ => {
                let f: Arc<str> = Arc::from(r.file.as_str());
                file = Some(Arc::clone(&f));
                f
            }
        };
        let SourceRecord {
            source,
            id,
            modified,
            aliases,
            upstream,
            ignored_aliases,
            ..
        } = r;
        entries.push(IndexEntry {
            source,
            id,
            file: f,
            modified,
            aliases,
            upstream,
            slot: Slot {
                off: off as u64,
                len,
            },
        });
        ignored.push(ignored_aliases);
    }
    Ok(EncodedFile {
        blob,
        entries,
        ignored,
        rejected: parsed.rejected,
        dropped: parsed.dropped,
    })
}
