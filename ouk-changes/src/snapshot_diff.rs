//! Advisory-level difference between two merged OSV snapshots (`feeds/advisories.ndjson`).
//!
//! Both snapshots are sorted by id (spec/feeds.md: the merger writes them that way), so one
//! merge-join pass over the two files finds every added, changed, withdrawn and removed advisory
//! while holding two lines at a time. Entries are handed to a callback as they are found, so the
//! caller decides where they go (a temporary file for `.ouk/changes.json`, the terminal for
//! `diff`); only the per-ecosystem and per-severity counts stay in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ChangesError, Side};
use crate::severity::severity_of;

/// Why an advisory is in the change report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// New id, not withdrawn.
    Added,
    /// Same id, different content, not newly withdrawn.
    Changed,
    /// Newly carries `withdrawn` (or appears already withdrawn).
    Withdrawn,
    /// The id is gone from the newer snapshot.
    Removed,
}

/// One advisory that differs between the two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryChange {
    /// Advisory id (the merged record's id).
    pub id: String,
    /// Its aliases (the first few; a merged record's id is often the CVE, the GHSA id is here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// What happened to it.
    pub kind: ChangeKind,
    /// Ecosystems of its `affected[]` packages (newer side; older side for `removed`).
    pub ecosystems: Vec<String>,
    /// Qualitative severity (newer side; older side for `removed`).
    pub severity: String,
    /// For `changed`: which parts differ (`affected`, `severity`, `aliases`, `summary`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// Counts of one row of the report (an ecosystem, a severity, or the total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// New advisories.
    pub added: u64,
    /// Advisories whose content changed.
    pub changed: u64,
    /// Advisories newly withdrawn.
    pub withdrawn: u64,
    /// Advisories gone from the newer snapshot.
    pub removed: u64,
}

impl Counts {
    fn bump(&mut self, kind: ChangeKind) {
        match kind {
            ChangeKind::Added => self.added += 1,
            ChangeKind::Changed => self.changed += 1,
            ChangeKind::Withdrawn => self.withdrawn += 1,
            ChangeKind::Removed => self.removed += 1,
        }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added + self.changed + self.withdrawn + self.removed == 0
    }
}

/// The summary half of an advisory diff: what an admin reads first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisorySummary {
    /// Records in the older snapshot (0 when there is none).
    pub records_before: u64,
    /// Records in the newer snapshot.
    pub records_after: u64,
    /// Records present and byte-identical on both sides.
    pub unchanged: u64,
    /// All changes.
    pub totals: Counts,
    /// Per ecosystem (an advisory affecting two ecosystems counts in both).
    pub by_ecosystem: BTreeMap<String, Counts>,
    /// Per qualitative severity (`CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `UNKNOWN`).
    pub by_severity: BTreeMap<String, Counts>,
    /// What the newer snapshot holds (not withdrawn), for charts over generations: computed in
    /// the same pass, so a status page never has to re-read a snapshot.
    pub after: Composition,
}

/// Advisories of one snapshot per ecosystem and severity (withdrawn ones excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Composition {
    /// Advisories not withdrawn.
    pub advisories: u64,
    /// Per ecosystem (an advisory affecting two ecosystems counts in both).
    pub by_ecosystem: BTreeMap<String, u64>,
    /// Per qualitative severity.
    pub by_severity: BTreeMap<String, u64>,
}

impl Composition {
    fn add(&mut self, object: &Map<String, Value>) {
        if is_withdrawn(object) {
            return;
        }
        self.advisories += 1;
        for eco in ecosystems(object) {
            *self.by_ecosystem.entry(eco).or_default() += 1;
        }
        *self.by_severity.entry(severity_of(object)).or_default() += 1;
    }
}

impl AdvisorySummary {
    fn record(&mut self, change: &AdvisoryChange) {
        self.totals.bump(change.kind);
        for eco in &change.ecosystems {
            self.by_ecosystem
                .entry(eco.clone())
                .or_default()
                .bump(change.kind);
        }
        self.by_severity
            .entry(change.severity.clone())
            .or_default()
            .bump(change.kind);
    }
}

/// Reads one snapshot line by line with a per-line cap and checks the sort order as it goes.
struct SortedLines<R> {
    reader: R,
    side: Side,
    max_line_bytes: usize,
    line_no: u64,
    last_id: Option<String>,
    buf: Vec<u8>,
}

/// One parsed line: its id, raw bytes and the parsed object.
struct Line {
    id: String,
    raw: Vec<u8>,
    object: Map<String, Value>,
}

/// One line read but not parsed yet, with its line number.
struct RawLine {
    raw: Vec<u8>,
    line_no: u64,
}

impl<R: BufRead> SortedLines<R> {
    fn new(reader: R, side: Side, max_line_bytes: usize) -> Self {
        SortedLines {
            reader,
            side,
            max_line_bytes,
            line_no: 0,
            last_id: None,
            buf: Vec::new(),
        }
    }

    /// The next non-blank line, within the cap, unparsed.
    fn next_raw(&mut self) -> Result<Option<RawLine>, ChangesError> {
        loop {
            self.buf.clear();
            self.line_no += 1;
            let cap = self.max_line_bytes as u64 + 1;
            let n = (&mut self.reader)
                .take(cap)
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| ChangesError::Read {
                    side: self.side,
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            if self.buf.last() == Some(&b'\n') {
                self.buf.pop();
            } else if n as u64 == cap {
                return Err(ChangesError::LineTooLong {
                    side: self.side,
                    line: self.line_no,
                    limit: self.max_line_bytes,
                });
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(RawLine {
                raw: std::mem::take(&mut self.buf),
                line_no: self.line_no,
            }));
        }
    }

    /// Parses a line read by [`Self::next_raw`] and checks it sorts after the previous one.
    fn parse(&mut self, line: RawLine) -> Result<Line, ChangesError> {
        let object: Map<String, Value> =
            serde_json::from_slice(&line.raw).map_err(|e| ChangesError::BadRecord {
                side: self.side,
                line: line.line_no,
                reason: e.to_string(),
            })?;
        let id = match object.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(ChangesError::BadRecord {
                    side: self.side,
                    line: line.line_no,
                    reason: "no string `id`".to_owned(),
                })
            }
        };
        self.check_order(&id, line.line_no)?;
        Ok(Line {
            id,
            raw: line.raw,
            object,
        })
    }

    fn check_order(&mut self, id: &str, line_no: u64) -> Result<(), ChangesError> {
        if let Some(last) = &self.last_id {
            if id.as_bytes() <= last.as_bytes() {
                return Err(ChangesError::NotSorted {
                    side: self.side,
                    line: line_no,
                    id: id.to_owned(),
                    previous: last.clone(),
                });
            }
        }
        match &mut self.last_id {
            Some(last) => {
                last.clear();
                last.push_str(id);
            }
            None => self.last_id = Some(id.to_owned()),
        }
        Ok(())
    }

    fn next_line(&mut self) -> Result<Option<Line>, ChangesError> {
        match self.next_raw()? {
            Some(raw) => self.parse(raw).map(Some),
            None => Ok(None),
        }
    }
}

/// A line of the older snapshot: parsed, or not yet. Most lines of a day's snapshot are
/// byte-identical to the newer snapshot's line at the same place; those are never parsed (the
/// newer line, parsed anyway for the composition counts, gives the id and the outcome a parse
/// would have had).
enum Older {
    Parsed(Line),
    Raw(RawLine),
}

/// Reads the next line of the newer snapshot. When that fails while the older side has a line
/// read but not parsed, that line is parsed first and its error wins: the order in which
/// problems are reported is the one of reading both sides in full, older first.
fn next_newer<A: BufRead, B: BufRead>(
    new: &mut SortedLines<B>,
    old: Option<&mut SortedLines<A>>,
    a: &mut Option<Older>,
) -> Result<Option<Line>, ChangesError> {
    match new.next_line() {
        Ok(line) => Ok(line),
        Err(e) => {
            if let (Some(old), Some(Older::Raw(_))) = (old, &a) {
                if let Some(Older::Raw(raw)) = a.take() {
                    *a = Some(Older::Parsed(old.parse(raw)?));
                }
            }
            Err(e)
        }
    }
}

fn ecosystems(object: &Map<String, Value>) -> Vec<String> {
    let mut set = BTreeSet::new();
    if let Some(Value::Array(affected)) = object.get("affected") {
        for a in affected {
            if let Some(eco) = a
                .get("package")
                .and_then(|p| p.get("ecosystem"))
                .and_then(Value::as_str)
            {
                // `Debian:12` and `Debian:11` are one ecosystem for the report.
                let base = eco.split(':').next().unwrap_or(eco);
                set.insert(base.to_owned());
            }
        }
    }
    if set.is_empty() {
        set.insert("(none)".to_owned());
    }
    set.into_iter().collect()
}

fn is_withdrawn(object: &Map<String, Value>) -> bool {
    matches!(object.get("withdrawn"), Some(Value::String(s)) if !s.is_empty())
}

/// The top-level keys whose values differ, `modified` excluded when something else changed too
/// (a bumped `modified` alone is still reported, as `modified`).
fn changed_fields(a: &Map<String, Value>, b: &Map<String, Value>) -> Vec<String> {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut fields: Vec<String> = keys
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| k.to_string())
        .collect();
    if fields.len() > 1 {
        fields.retain(|f| f != "modified");
    }
    fields
}

/// Aliases kept per change entry (the report stays small for records with hundreds).
const MAX_ALIASES: usize = 8;

fn aliases(object: &Map<String, Value>) -> Vec<String> {
    object
        .get("aliases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .take(MAX_ALIASES)
        .map(str::to_owned)
        .collect()
}

fn change_of(kind: ChangeKind, line: &Line, fields: Vec<String>) -> AdvisoryChange {
    AdvisoryChange {
        id: line.id.clone(),
        aliases: aliases(&line.object),
        kind,
        ecosystems: ecosystems(&line.object),
        severity: severity_of(&line.object),
        fields,
    }
}

/// Compares two sorted snapshots in one pass. `before` is `None` for a store's first
/// generation (everything is `added`). Each change is passed to `emit` in id order.
pub fn diff_snapshots<A: BufRead, B: BufRead>(
    before: Option<A>,
    after: B,
    max_line_bytes: usize,
    mut emit: impl FnMut(&AdvisoryChange) -> Result<(), ChangesError>,
) -> Result<AdvisorySummary, ChangesError> {
    let mut summary = AdvisorySummary::default();
    let mut old = before.map(|r| SortedLines::new(r, Side::Before, max_line_bytes));
    let mut new = SortedLines::new(after, Side::After, max_line_bytes);
    let mut a = match old.as_mut() {
        Some(o) => o.next_raw()?.map(Older::Raw),
        None => None,
    };
    let mut b = next_newer(&mut new, old.as_mut(), &mut a)?;
    let mut found = |change: AdvisoryChange, summary: &mut AdvisorySummary| {
        summary.record(&change);
        emit(&change)
    };
    loop {
        if let Some(Older::Raw(raw)) = &a {
            match &b {
                Some(y) if y.raw == raw.raw => {
                    // Byte-identical: same id, unchanged; only the older side's order is left
                    // to check.
                    let o = old.as_mut().expect("reader");
                    o.check_order(&y.id, raw.line_no)?;
                    summary.records_before += 1;
                    summary.records_after += 1;
                    summary.after.add(&y.object);
                    summary.unchanged += 1;
                    a = o.next_raw()?.map(Older::Raw);
                    b = next_newer(&mut new, old.as_mut(), &mut a)?;
                    continue;
                }
                _ => {
                    if let Some(Older::Raw(raw)) = a.take() {
                        let line = old.as_mut().expect("reader").parse(raw)?;
                        a = Some(Older::Parsed(line));
                    }
                }
            }
        }
        let order = match (&a, &b) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(Older::Parsed(x)), Some(y)) => x.id.as_bytes().cmp(y.id.as_bytes()),
            (Some(Older::Raw(_)), Some(_)) => unreachable!("parsed above"),
        };
        match order {
            std::cmp::Ordering::Less => {
                let Some(Older::Parsed(x)) = a.take() else {
                    unreachable!("parsed above")
                };
                summary.records_before += 1;
                found(change_of(ChangeKind::Removed, &x, Vec::new()), &mut summary)?;
                a = old.as_mut().expect("reader").next_raw()?.map(Older::Raw);
            }
            std::cmp::Ordering::Greater => {
                let y = b.take().expect("present");
                summary.records_after += 1;
                summary.after.add(&y.object);
                let kind = if is_withdrawn(&y.object) {
                    ChangeKind::Withdrawn
                } else {
                    ChangeKind::Added
                };
                found(change_of(kind, &y, Vec::new()), &mut summary)?;
                b = next_newer(&mut new, old.as_mut(), &mut a)?;
            }
            std::cmp::Ordering::Equal => {
                let Some(Older::Parsed(x)) = a.take() else {
                    unreachable!("parsed above")
                };
                let y = b.take().expect("present");
                summary.records_before += 1;
                summary.records_after += 1;
                summary.after.add(&y.object);
                if x.raw == y.raw {
                    summary.unchanged += 1;
                } else {
                    let fields = changed_fields(&x.object, &y.object);
                    if fields.is_empty() {
                        // Same JSON value, different bytes (key order, spacing).
                        summary.unchanged += 1;
                    } else {
                        let kind = if is_withdrawn(&y.object) && !is_withdrawn(&x.object) {
                            ChangeKind::Withdrawn
                        } else {
                            ChangeKind::Changed
                        };
                        found(change_of(kind, &y, fields), &mut summary)?;
                    }
                }
                a = old.as_mut().expect("reader").next_raw()?.map(Older::Raw);
                b = next_newer(&mut new, old.as_mut(), &mut a)?;
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, extra: &str) -> String {
        format!(
            r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"PyPI","name":"x"}}}}]{extra}}}"#
        )
    }

    fn run(
        before: Option<&str>,
        after: &str,
    ) -> Result<(AdvisorySummary, Vec<AdvisoryChange>), ChangesError> {
        let mut out = Vec::new();
        let s = diff_snapshots(before.map(str::as_bytes), after.as_bytes(), 4096, |c| {
            out.push(c.clone());
            Ok(())
        })?;
        Ok((s, out))
    }

    #[test]
    fn classifies_added_changed_withdrawn_removed_and_unchanged() {
        let before = [
            rec("A", ""),
            rec("B", r#","database_specific":{"severity":"LOW"}"#),
            rec("C", ""),
            rec("D", ""),
        ]
        .join("\n");
        let after = [
            rec("A", ""),
            rec("B", r#","database_specific":{"severity":"HIGH"}"#),
            rec("C", r#","withdrawn":"2024-02-01T00:00:00Z""#),
            rec("E", ""),
        ]
        .join("\n")
            + "\n";
        let (s, out) = run(Some(&before), &after).unwrap();
        let kinds: Vec<(&str, ChangeKind)> = out.iter().map(|c| (c.id.as_str(), c.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("B", ChangeKind::Changed),
                ("C", ChangeKind::Withdrawn),
                ("D", ChangeKind::Removed),
                ("E", ChangeKind::Added),
            ]
        );
        assert_eq!(out[0].fields, ["database_specific"]);
        assert_eq!(out[0].severity, "HIGH");
        assert_eq!(s.unchanged, 1);
        assert_eq!((s.records_before, s.records_after), (4, 4));
        assert_eq!(
            s.totals,
            Counts {
                added: 1,
                changed: 1,
                withdrawn: 1,
                removed: 1
            }
        );
        assert_eq!(s.by_ecosystem["PyPI"].added, 1);
        // A, B, E are live after; C is withdrawn.
        assert_eq!(s.after.advisories, 3);
        assert_eq!(s.after.by_ecosystem["PyPI"], 3);
        assert_eq!(s.after.by_severity["HIGH"], 1);
        assert_eq!(s.after.by_severity["UNKNOWN"], 2);
        assert_eq!(s.by_severity["HIGH"].changed, 1);
    }

    #[test]
    fn first_generation_is_all_added() {
        let after = [rec("A", ""), rec("B", "")].join("\n");
        let (s, out) = run(None, &after).unwrap();
        assert_eq!(s.totals.added, 2);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn same_value_in_other_key_order_is_unchanged() {
        let before = r#"{"id":"A","summary":"s","modified":"m"}"#;
        let after = r#"{"modified":"m","id":"A","summary":"s"}"#;
        let (s, out) = run(Some(before), after).unwrap();
        assert!(out.is_empty());
        assert_eq!(s.unchanged, 1);
    }

    #[test]
    fn modified_alone_is_reported_but_hidden_beside_real_changes() {
        let (_, out) = run(
            Some(r#"{"id":"A","modified":"1"}"#),
            r#"{"id":"A","modified":"2"}"#,
        )
        .unwrap();
        assert_eq!(out[0].fields, ["modified"]);
        let (_, out) = run(
            Some(r#"{"id":"A","modified":"1","summary":"a"}"#),
            r#"{"id":"A","modified":"2","summary":"b"}"#,
        )
        .unwrap();
        assert_eq!(out[0].fields, ["summary"]);
    }

    #[test]
    fn unsorted_input_is_refused_with_its_line() {
        let err = run(None, "{\"id\":\"B\"}\n{\"id\":\"A\"}\n").unwrap_err();
        assert!(
            matches!(err, ChangesError::NotSorted { line: 2, ref id, .. } if id == "A"),
            "{err}"
        );
        let err = run(Some("{\"id\":\"A\"}\n{\"id\":\"A\"}\n"), "").unwrap_err();
        assert!(matches!(
            err,
            ChangesError::NotSorted {
                side: Side::Before,
                ..
            }
        ));
    }

    #[test]
    fn oversized_and_malformed_lines_are_refused() {
        let long = format!("{{\"id\":\"A\",\"x\":\"{}\"}}", "y".repeat(5000));
        let err = run(None, &long).unwrap_err();
        assert!(
            matches!(err, ChangesError::LineTooLong { line: 1, .. }),
            "{err}"
        );
        let err = run(None, "{\"id\":\"A\"}\nnot json\n").unwrap_err();
        assert!(
            matches!(err, ChangesError::BadRecord { line: 2, .. }),
            "{err}"
        );
        let err = run(None, "{\"name\":\"A\"}\n").unwrap_err();
        assert!(
            matches!(err, ChangesError::BadRecord { line: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn identical_lines_skip_the_older_parse_but_keep_its_errors_first() {
        // Identical on both sides, malformed: reported on the older side, as if read in full.
        let err = run(
            Some("{\"id\":\"A\"}\nnot json\n"),
            "{\"id\":\"A\"}\nnot json\n",
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ChangesError::BadRecord {
                    side: Side::Before,
                    line: 2,
                    ..
                }
            ),
            "{err}"
        );
        // Identical and out of order on both sides: the older side's order error comes first.
        let lines = "{\"id\":\"B\"}\n{\"id\":\"A\"}\n";
        let err = run(Some(lines), lines).unwrap_err();
        assert!(
            matches!(
                err,
                ChangesError::NotSorted {
                    side: Side::Before,
                    line: 2,
                    ..
                }
            ),
            "{err}"
        );
        // Out of order on the older side only, behind identical lines.
        let err = run(
            Some("{\"id\":\"A\"}\n{\"id\":\"C\"}\n{\"id\":\"B\"}\n"),
            "{\"id\":\"A\"}\n{\"id\":\"C\"}\n{\"id\":\"D\"}\n",
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ChangesError::NotSorted {
                    side: Side::Before,
                    line: 3,
                    ..
                }
            ),
            "{err}"
        );
        // A malformed older line wins over a newer line that is too long.
        let long = format!("{{\"id\":\"B\",\"x\":\"{}\"}}", "y".repeat(5000));
        let err = run(
            Some("{\"id\":\"A\"}\nnot json\n"),
            &format!("{{\"id\":\"A\"}}\n{long}\n"),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ChangesError::BadRecord {
                    side: Side::Before,
                    line: 2,
                    ..
                }
            ),
            "{err}"
        );
        // Identical lines, blank lines in between on one side: counted, line numbers kept.
        let (s, out) = run(
            Some("{\"id\":\"A\"}\n\n{\"id\":\"B\"}\n"),
            "{\"id\":\"A\"}\n{\"id\":\"B\"}\n",
        )
        .unwrap();
        assert!(out.is_empty());
        assert_eq!((s.records_before, s.records_after, s.unchanged), (2, 2, 2));
    }

    #[test]
    fn emit_errors_stop_the_walk() {
        let err = diff_snapshots(None::<&[u8]>, "{\"id\":\"A\"}".as_bytes(), 4096, |_| {
            Err(ChangesError::Output(std::io::Error::other("disk full")))
        })
        .unwrap_err();
        assert!(matches!(err, ChangesError::Output(_)));
    }
}
