//! Advisory-level difference between two merged OSV snapshots (`feeds/advisories.ndjson`).
//!
//! Both snapshots are sorted by id (spec/feeds.md: the merger writes them that way), so one
//! merge-join pass over the two files finds every added, changed, withdrawn and removed advisory
//! while holding two lines at a time. Entries are handed to a callback as they are found, so the
//! caller decides where they go (a temporary file for `.ouk/changes.json`, the terminal for
//! `diff`); only the per-ecosystem and per-severity counts stay in memory.

use std::collections::BTreeMap;
use std::io::BufRead;

use ouk_format::lines::{read_capped_line, CappedLine};
use serde::{Deserialize, Serialize};

use crate::error::{ChangesError, Side};
use crate::record_facts::{read_facts, RecordFacts};

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
    fn add(&mut self, facts: &RecordFacts) {
        if facts.withdrawn {
            return;
        }
        self.advisories += 1;
        for eco in ecosystems(facts) {
            *self.by_ecosystem.entry(eco).or_default() += 1;
        }
        *self
            .by_severity
            .entry(facts.severity().to_owned())
            .or_default() += 1;
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

/// One line: its id, raw bytes and the facts read from it (never a whole JSON tree: see
/// `record_facts`).
struct Line {
    id: String,
    raw: Vec<u8>,
    facts: RecordFacts,
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

    fn next_line(&mut self) -> Result<Option<Line>, ChangesError> {
        loop {
            self.line_no += 1;
            let read = read_capped_line(&mut self.reader, &mut self.buf, self.max_line_bytes)
                .map_err(|source| ChangesError::Read {
                    side: self.side,
                    source,
                })?;
            match read {
                CappedLine::End => return Ok(None),
                CappedLine::TooLong => {
                    return Err(ChangesError::LineTooLong {
                        side: self.side,
                        line: self.line_no,
                        limit: self.max_line_bytes,
                    })
                }
                CappedLine::Line | CappedLine::Unterminated => {}
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let facts = read_facts(&self.buf).map_err(|e| ChangesError::BadRecord {
                side: self.side,
                line: self.line_no,
                reason: e.to_string(),
            })?;
            if facts.id.is_empty() {
                return Err(ChangesError::BadRecord {
                    side: self.side,
                    line: self.line_no,
                    reason: "no string `id`".to_owned(),
                });
            }
            let id = facts.id.clone();
            if let Some(last) = &self.last_id {
                if id.as_bytes() <= last.as_bytes() {
                    return Err(ChangesError::NotSorted {
                        side: self.side,
                        line: self.line_no,
                        id,
                        previous: last.clone(),
                    });
                }
            }
            self.last_id = Some(id.clone());
            return Ok(Some(Line {
                id,
                raw: std::mem::take(&mut self.buf),
                facts,
            }));
        }
    }
}

fn ecosystems(facts: &RecordFacts) -> Vec<String> {
    if facts.ecosystems.is_empty() {
        return vec!["(none)".to_owned()];
    }
    facts.ecosystems.iter().cloned().collect()
}

/// The top-level fields whose values differ, `modified` left out when something else changed
/// too (a bumped `modified` alone is still reported, as `modified`).
fn changed_fields(a: &RecordFacts, b: &RecordFacts) -> Vec<String> {
    let mut fields = a.changed_fields(b);
    if fields.len() > 1 {
        fields.retain(|f| f != "modified");
    }
    fields
}

fn change_of(kind: ChangeKind, line: &Line, fields: Vec<String>) -> AdvisoryChange {
    AdvisoryChange {
        id: line.id.clone(),
        aliases: line.facts.aliases.clone(),
        kind,
        ecosystems: ecosystems(&line.facts),
        severity: line.facts.severity().to_owned(),
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
        Some(o) => o.next_line()?,
        None => None,
    };
    let mut b = new.next_line()?;
    let mut found = |change: AdvisoryChange, summary: &mut AdvisorySummary| {
        summary.record(&change);
        emit(&change)
    };
    loop {
        let order = match (&a, &b) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => x.id.as_bytes().cmp(y.id.as_bytes()),
        };
        match order {
            std::cmp::Ordering::Less => {
                let x = a.take().expect("present");
                summary.records_before += 1;
                found(change_of(ChangeKind::Removed, &x, Vec::new()), &mut summary)?;
                a = old.as_mut().expect("reader").next_line()?;
            }
            std::cmp::Ordering::Greater => {
                let y = b.take().expect("present");
                summary.records_after += 1;
                summary.after.add(&y.facts);
                let kind = if y.facts.withdrawn {
                    ChangeKind::Withdrawn
                } else {
                    ChangeKind::Added
                };
                found(change_of(kind, &y, Vec::new()), &mut summary)?;
                b = new.next_line()?;
            }
            std::cmp::Ordering::Equal => {
                let x = a.take().expect("present");
                let y = b.take().expect("present");
                summary.records_before += 1;
                summary.records_after += 1;
                summary.after.add(&y.facts);
                if x.raw == y.raw {
                    summary.unchanged += 1;
                } else {
                    let fields = changed_fields(&x.facts, &y.facts);
                    if fields.is_empty() {
                        // Same JSON value, different bytes (key order, spacing).
                        summary.unchanged += 1;
                    } else {
                        let kind = if y.facts.withdrawn && !x.facts.withdrawn {
                            ChangeKind::Withdrawn
                        } else {
                            ChangeKind::Changed
                        };
                        found(change_of(kind, &y, fields), &mut summary)?;
                    }
                }
                a = old.as_mut().expect("reader").next_line()?;
                b = new.next_line()?;
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
    fn emit_errors_stop_the_walk() {
        let err = diff_snapshots(None::<&[u8]>, "{\"id\":\"A\"}".as_bytes(), 4096, |_| {
            Err(ChangesError::Output(std::io::Error::other("disk full")))
        })
        .unwrap_err();
        assert!(matches!(err, ChangesError::Output(_)));
    }
}
