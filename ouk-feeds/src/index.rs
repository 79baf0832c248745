//! The in-memory index of spilled records: per record only what clustering,
//! the "newer copy wins" rule's ordering and the reports need (source, id, file,
//! `modified`, aliases, upstream) plus where the full record lies in the spill
//! file. The full [`SourceRecord`] is read back one cluster at a time.
//!
//! Why interned: with its own `String`s and `Vec`s an entry cost ~0.6 KiB and five
//! allocations per record, most of the merge's memory at 500 000 records
//! (issue 14). Here every distinct string (record id, alias, upstream id, file
//! name) is held once in [`Names`] (`string-interner`: one buffer, dense `u32`
//! symbols), and an entry is a few fixed-size numbers; clustering then runs on
//! the symbols without hashing a string again.

use string_interner::backend::StringBackend;
use string_interner::symbol::{Symbol, SymbolU32};
use string_interner::StringInterner;

use crate::adapters::Parsed;
use crate::codec;
use crate::error::FeedError;
use crate::model::SourceRecord;
use crate::report::{Dropped, Rejected};
use crate::source::SourceKind;
use crate::spill::Slot;
use crate::timestamp::Ts;

/// A string of the index, by number: equal strings have equal symbols, and the
/// symbols of one [`Names`] are dense from 0 (usable as array positions).
pub(crate) type Sym = SymbolU32;

/// Position of a symbol in arrays sized [`Names::len`].
pub(crate) fn pos(s: Sym) -> usize {
    s.to_usize()
}

/// Every string the index names, once each.
pub(crate) struct Names(StringInterner<StringBackend<Sym>>);

impl Names {
    fn new() -> Self {
        Names(StringInterner::new())
    }

    /// The symbol of `s`, adding it when new. Fails (instead of the crate's panic)
    /// when the `u32` symbols run out: 4 billion distinct strings.
    fn intern(&mut self, s: &str) -> Result<Sym, FeedError> {
        if self.0.len() >= u32::MAX as usize - 1 {
            return Err(FeedError::spill(
                "indexing record ids",
                std::io::Error::other("more than 4 billion distinct ids"),
            ));
        }
        Ok(self.0.get_or_intern(s))
    }

    /// The string of a symbol of this table.
    pub(crate) fn get(&self, s: Sym) -> &str {
        // Symbols only come from `intern` on this table, so this always finds one.
        self.0.resolve(s).unwrap_or_default()
    }

    /// Number of distinct strings (symbols are `0..len`).
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// One parsed record, without its content.
#[derive(Debug, Clone)]
pub(crate) struct IndexEntry {
    /// Source kind (sort key, primary/enrichment split, reports).
    pub source: SourceKind,
    /// Record id (sort key, cluster node, enrichment lookup).
    pub id: Sym,
    /// File (and zip entry) it came from (sort key, reports).
    pub file: Sym,
    /// Sort key (ties between copies) and the source's `newest_modified`.
    pub modified: Option<Ts>,
    /// Its aliases, then its upstream ids, start here in [`Index`]'s link list.
    links_at: usize,
    /// Number of aliases (cluster edges, enrichment lookup).
    aliases: u32,
    /// Number of upstream ids (cluster edges).
    upstream: u32,
    /// Where the whole record lies in the spill file.
    pub slot: Slot,
}

/// All index entries, with the names and link lists they point into.
pub(crate) struct Index {
    /// The strings.
    pub names: Names,
    /// Every entry's aliases then upstream ids, back to back.
    links: Vec<Sym>,
    /// One per spilled record.
    pub entries: Vec<IndexEntry>,
}

impl Index {
    /// An empty index.
    pub(crate) fn new() -> Self {
        Index {
            names: Names::new(),
            links: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Add a parsed entry whose record lies at `slot`.
    pub(crate) fn push(&mut self, e: &ParsedEntry, slot: Slot) -> Result<(), FeedError> {
        let links_at = self.links.len();
        let count = |n: usize| {
            u32::try_from(n).map_err(|_| {
                FeedError::spill(
                    "indexing a record",
                    std::io::Error::other("more than 4 billion aliases"),
                )
            })
        };
        let (aliases, upstream) = (count(e.aliases.len())?, count(e.upstream.len())?);
        for x in e.aliases.iter().chain(&e.upstream) {
            let s = self.names.intern(x)?;
            self.links.push(s);
        }
        let entry = IndexEntry {
            source: e.source,
            id: self.names.intern(&e.id)?,
            file: self.names.intern(&e.file)?,
            modified: e.modified,
            links_at,
            aliases,
            upstream,
            slot,
        };
        self.entries.push(entry);
        Ok(())
    }

    /// Drop the entries from `len` on (a source over its record limit). Their
    /// strings stay in [`Names`], unused: a table cannot shrink, and the limit bounds them.
    pub(crate) fn truncate(&mut self, len: usize) {
        if let Some(first) = self.entries.get(len) {
            self.links.truncate(first.links_at);
        }
        self.entries.truncate(len);
    }

    /// Put the entries in the merge's deterministic order, whatever the order of
    /// sources and files: by source, id, file, then `modified` (stable, so exact
    /// copies keep their reading order).
    pub(crate) fn sort(&mut self) {
        use rayon::slice::ParallelSliceMut as _;
        let names = &self.names;
        self.entries.par_sort_by(|a, b| {
            a.source
                .cmp(&b.source)
                .then_with(|| names.get(a.id).cmp(names.get(b.id)))
                .then_with(|| names.get(a.file).cmp(names.get(b.file)))
                .then_with(|| a.modified.cmp(&b.modified))
        });
    }

    /// An entry's aliases.
    pub(crate) fn aliases(&self, e: &IndexEntry) -> &[Sym] {
        &self.links[e.links_at..e.links_at + e.aliases as usize]
    }

    /// An entry's aliases followed by its upstream ids: its cluster edges.
    pub(crate) fn links(&self, e: &IndexEntry) -> &[Sym] {
        &self.links[e.links_at..e.links_at + e.aliases as usize + e.upstream as usize]
    }
}

/// One parsed record's index fields as a parser thread produces them, before
/// [`Index::push`] interns them (which only the thread that owns the index does).
#[derive(Debug)]
pub(crate) struct ParsedEntry {
    /// Source kind.
    pub source: SourceKind,
    /// Record id.
    pub id: String,
    /// File (and zip entry) it came from.
    pub file: String,
    /// `modified`, if real.
    pub modified: Option<Ts>,
    /// Valid aliases.
    pub aliases: Vec<String>,
    /// Valid upstream ids.
    pub upstream: Vec<String>,
    /// Relative to the start of [`EncodedFile::blob`].
    pub slot: Slot,
}

/// One file's records encoded for the spill file (built on a parser thread).
pub(crate) struct EncodedFile {
    /// The encoded records, back to back.
    pub blob: Vec<u8>,
    /// Their index fields, in the same order.
    pub entries: Vec<ParsedEntry>,
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
    for r in parsed.records {
        let off = blob.len();
        codec::encode(&mut blob, &r)?;
        let len = u32::try_from(blob.len() - off).map_err(|_| {
            FeedError::spill(
                "encoding a record",
                std::io::Error::other("record larger than 4 GiB"),
            )
        })?;
        let SourceRecord {
            source,
            id,
            file,
            modified,
            aliases,
            upstream,
            ignored_aliases,
            ..
        } = r;
        entries.push(ParsedEntry {
            source,
            id,
            file,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(id: &str, file: &str, aliases: &[&str], upstream: &[&str]) -> ParsedEntry {
        ParsedEntry {
            source: SourceKind::Osv,
            id: id.into(),
            file: file.into(),
            modified: None,
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            upstream: upstream.iter().map(|s| s.to_string()).collect(),
            slot: Slot { off: 0, len: 0 },
        }
    }

    fn strings<'a>(index: &'a Index, syms: &[Sym]) -> Vec<&'a str> {
        syms.iter().map(|&s| index.names.get(s)).collect()
    }

    #[test]
    fn equal_strings_share_one_symbol_and_links_keep_their_order() {
        let mut index = Index::new();
        let slot = |off| Slot { off, len: 1 };
        index
            .push(
                &parsed("GHSA-1", "a.json", &["CVE-1", "CVE-2"], &["X-1"]),
                slot(0),
            )
            .unwrap();
        index
            .push(&parsed("CVE-1", "a.json", &[], &["GHSA-1"]), slot(1))
            .unwrap();
        let (a, b) = (&index.entries[0], &index.entries[1]);
        assert_eq!(index.names.get(a.id), "GHSA-1");
        assert_eq!(a.file, b.file, "one file name, one symbol");
        assert_eq!(strings(&index, index.aliases(a)), ["CVE-1", "CVE-2"]);
        assert_eq!(strings(&index, index.links(a)), ["CVE-1", "CVE-2", "X-1"]);
        assert_eq!(
            index.links(b),
            [a.id],
            "the upstream id is the first record's id"
        );
        assert_eq!(
            index.links(a)[0],
            b.id,
            "the alias is the second record's id"
        );
        // GHSA-1, a.json, CVE-1, CVE-2, X-1: dense symbols 0..5.
        assert_eq!(index.names.len(), 5);
        let mut positions: Vec<usize> = [a.id, a.file, b.id].iter().map(|&s| pos(s)).collect();
        positions.extend(index.links(a).iter().map(|&s| pos(s)));
        positions.sort_unstable();
        positions.dedup();
        assert_eq!(positions, [0, 1, 2, 3, 4]);
        assert_eq!(index.entries[1].slot, slot(1));
    }

    #[test]
    fn truncate_drops_entries_and_their_links() {
        let mut index = Index::new();
        let slot = Slot { off: 0, len: 1 };
        index.push(&parsed("A", "f", &["B"], &[]), slot).unwrap();
        index
            .push(&parsed("C", "f", &["D", "E"], &[]), slot)
            .unwrap();
        index.truncate(1);
        assert_eq!(index.entries.len(), 1);
        assert_eq!(index.links.len(), 1);
        index.push(&parsed("F", "f", &["G"], &[]), slot).unwrap();
        assert_eq!(strings(&index, index.aliases(&index.entries[1])), ["G"]);
        assert_eq!(strings(&index, index.aliases(&index.entries[0])), ["B"]);
    }
}
