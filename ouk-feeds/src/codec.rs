//! Compact binary encoding of [`SourceRecord`] for the spill file.
//!
//! Why not JSON: encoding every record and decoding it again was most of the
//! spill's cost (escaping and parsing every string twice). Here strings are
//! length-prefixed bytes, so both directions are little more than copies. The
//! free-form JSON parts (`database_specific`, `ecosystem_specific`, `credits`)
//! stay JSON text inside the record. The format is private to one merge run
//! (written and read by the same binary), so it has no version tag.

use serde_json::{Map, Value};

use crate::error::FeedError;
use crate::model::{Affected, Event, Package, Range, Reference, Severity, SourceRecord};
use crate::source::SourceKind;
use crate::timestamp::Ts;

/// Append the encoding of `r` to `out`.
pub(crate) fn encode(out: &mut Vec<u8>, r: &SourceRecord) -> Result<(), FeedError> {
    let mut e = Enc(out);
    e.u8(kind_tag(r.source));
    e.str(&r.file);
    e.str(&r.id);
    e.strs(&r.aliases);
    e.strs(&r.upstream);
    e.strs(&r.related);
    e.ts(r.modified);
    e.ts(r.published);
    e.ts(r.withdrawn);
    e.u8(u8::from(r.placeholder_dates));
    e.opt_str(r.summary.as_deref());
    e.opt_str(r.details.as_deref());
    e.severities(&r.severity);
    e.opt_str(r.rating.as_deref());
    e.len(r.affected.len());
    for a in &r.affected {
        match &a.package {
            None => e.u8(0),
            Some(p) => {
                e.u8(1);
                e.str(&p.ecosystem);
                e.str(&p.name);
                e.opt_str(p.purl.as_deref());
            }
        }
        e.severities(&a.severity);
        e.len(a.ranges.len());
        for rg in &a.ranges {
            e.str(&rg.kind);
            e.opt_str(rg.repo.as_deref());
            e.len(rg.events.len());
            for ev in &rg.events {
                let (t, v) = match ev {
                    Event::Introduced(v) => (0, v),
                    Event::Fixed(v) => (1, v),
                    Event::LastAffected(v) => (2, v),
                    Event::Limit(v) => (3, v),
                };
                e.u8(t);
                e.str(v);
            }
            e.opt_value(rg.database_specific.as_ref())?;
        }
        e.strs(&a.versions);
        e.opt_value(a.ecosystem_specific.as_ref())?;
        e.opt_map(a.database_specific.as_ref())?;
    }
    e.len(r.references.len());
    for x in &r.references {
        e.str(&x.kind);
        e.str(&x.url);
    }
    e.len(r.credits.len());
    for c in &r.credits {
        e.value(c)?;
    }
    e.opt_map(r.database_specific.as_ref())?;
    e.strs(&r.cwe_ids);
    e.strs(&r.ignored_aliases);
    Ok(())
}

/// Decode one record encoded by [`encode`] (the whole of `b`).
pub(crate) fn decode(b: &[u8]) -> Result<SourceRecord, FeedError> {
    let mut d = Dec { b, pos: 0 };
    let source = tag_kind(d.u8()?)?;
    let file = d.string()?;
    let id = d.string()?;
    let mut r = SourceRecord::new(source, file, id);
    r.aliases = d.strings()?;
    r.upstream = d.strings()?;
    r.related = d.strings()?;
    r.modified = d.ts()?;
    r.published = d.ts()?;
    r.withdrawn = d.ts()?;
    r.placeholder_dates = d.u8()? != 0;
    r.summary = d.opt_string()?;
    r.details = d.opt_string()?;
    r.severity = d.severities()?;
    r.rating = d.opt_string()?;
    let n = d.len()?;
    r.affected = Vec::with_capacity(n);
    for _ in 0..n {
        let package = match d.u8()? {
            0 => None,
            _ => Some(Package {
                ecosystem: d.string()?,
                name: d.string()?,
                purl: d.opt_string()?,
            }),
        };
        let severity = d.severities()?;
        let nr = d.len()?;
        let mut ranges = Vec::with_capacity(nr);
        for _ in 0..nr {
            let kind = d.string()?;
            let repo = d.opt_string()?;
            let ne = d.len()?;
            let mut events = Vec::with_capacity(ne);
            for _ in 0..ne {
                let t = d.u8()?;
                let v = d.string()?;
                events.push(match t {
                    0 => Event::Introduced(v),
                    1 => Event::Fixed(v),
                    2 => Event::LastAffected(v),
                    3 => Event::Limit(v),
                    _ => return Err(bad("event tag")),
                });
            }
            let database_specific = d.opt_value()?;
            ranges.push(Range {
                kind,
                repo,
                events,
                database_specific,
            });
        }
        let versions = d.strings()?;
        let ecosystem_specific = d.opt_value()?;
        let database_specific = d.opt_map()?;
        r.affected.push(Affected {
            package,
            severity,
            ranges,
            versions,
            ecosystem_specific,
            database_specific,
        });
    }
    let n = d.len()?;
    r.references = Vec::with_capacity(n);
    for _ in 0..n {
        r.references.push(Reference {
            kind: d.string()?,
            url: d.string()?,
        });
    }
    let n = d.len()?;
    r.credits = Vec::with_capacity(n);
    for _ in 0..n {
        r.credits.push(d.value()?);
    }
    r.database_specific = d.opt_map()?;
    r.cwe_ids = d.strings()?;
    r.ignored_aliases = d.strings()?;
    if d.pos != b.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(r)
}

fn kind_tag(k: SourceKind) -> u8 {
    SourceKind::ALL.iter().position(|x| *x == k).unwrap_or(0) as u8
}

fn tag_kind(t: u8) -> Result<SourceKind, FeedError> {
    SourceKind::ALL
        .get(usize::from(t))
        .copied()
        .ok_or_else(|| bad("source kind"))
}

fn bad(what: &'static str) -> FeedError {
    FeedError::spill(
        "decoding a record",
        std::io::Error::new(std::io::ErrorKind::InvalidData, what),
    )
}

struct Enc<'a>(&'a mut Vec<u8>);

impl Enc<'_> {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn len(&mut self, n: usize) {
        // Lengths come from in-memory data already bounded by the input limits
        // (max_file_bytes is far below 4 GiB by default); saturate rather than wrap.
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&n.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    fn strs(&mut self, v: &[String]) {
        self.len(v.len());
        for s in v {
            self.str(s);
        }
    }
    fn ts(&mut self, t: Option<Ts>) {
        match t.map(Ts::to_parts) {
            None => self.u8(0),
            Some((secs, nanos)) => {
                self.u8(1);
                self.0.extend_from_slice(&secs.to_le_bytes());
                self.0.extend_from_slice(&nanos.to_le_bytes());
            }
        }
    }
    fn severities(&mut self, v: &[Severity]) {
        self.len(v.len());
        for s in v {
            self.str(&s.kind);
            self.str(&s.score);
        }
    }
    fn value(&mut self, v: &Value) -> Result<(), FeedError> {
        let s = serde_json::to_string(v).map_err(|source| FeedError::Serialize {
            what: "spilled record",
            source,
        })?;
        self.str(&s);
        Ok(())
    }
    fn opt_value(&mut self, v: Option<&Value>) -> Result<(), FeedError> {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.value(v)?;
            }
        }
        Ok(())
    }
    fn opt_map(&mut self, m: Option<&Map<String, Value>>) -> Result<(), FeedError> {
        match m {
            None => self.u8(0),
            Some(m) => {
                self.u8(1);
                let s = serde_json::to_string(m).map_err(|source| FeedError::Serialize {
                    what: "spilled record",
                    source,
                })?;
                self.str(&s);
            }
        }
        Ok(())
    }
}

struct Dec<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FeedError> {
        let end = self.pos.checked_add(n).ok_or_else(|| bad("length"))?;
        let s = self.b.get(self.pos..end).ok_or_else(|| bad("truncated"))?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, FeedError> {
        Ok(self.take(1)?[0])
    }
    fn len(&mut self) -> Result<usize, FeedError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a) as usize)
    }
    fn str(&mut self) -> Result<&'a str, FeedError> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| bad("utf-8"))
    }
    fn string(&mut self) -> Result<String, FeedError> {
        self.str().map(str::to_string)
    }
    fn opt_string(&mut self) -> Result<Option<String>, FeedError> {
        Ok(match self.u8()? {
            0 => None,
            _ => Some(self.string()?),
        })
    }
    fn strings(&mut self) -> Result<Vec<String>, FeedError> {
        let n = self.len()?;
        // Each string takes at least 4 bytes: a corrupt count cannot over-allocate.
        let mut v = Vec::with_capacity(n.min(self.b.len() / 4));
        for _ in 0..n {
            v.push(self.string()?);
        }
        Ok(v)
    }
    fn ts(&mut self) -> Result<Option<Ts>, FeedError> {
        if self.u8()? == 0 {
            return Ok(None);
        }
        let mut s = [0u8; 8];
        s.copy_from_slice(self.take(8)?);
        let mut n = [0u8; 4];
        n.copy_from_slice(self.take(4)?);
        Ts::from_parts(i64::from_le_bytes(s), u32::from_le_bytes(n))
            .map(Some)
            .ok_or_else(|| bad("timestamp"))
    }
    fn severities(&mut self) -> Result<Vec<Severity>, FeedError> {
        let n = self.len()?;
        let mut v = Vec::with_capacity(n.min(self.b.len() / 8));
        for _ in 0..n {
            v.push(Severity {
                kind: self.string()?,
                score: self.string()?,
            });
        }
        Ok(v)
    }
    fn value(&mut self) -> Result<Value, FeedError> {
        serde_json::from_str(self.str()?).map_err(|source| FeedError::SpillDecode { source })
    }
    fn opt_value(&mut self) -> Result<Option<Value>, FeedError> {
        Ok(match self.u8()? {
            0 => None,
            _ => Some(self.value()?),
        })
    }
    fn opt_map(&mut self) -> Result<Option<Map<String, Value>>, FeedError> {
        Ok(match self.u8()? {
            0 => None,
            _ => Some(
                serde_json::from_str(self.str()?)
                    .map_err(|source| FeedError::SpillDecode { source })?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn full() -> SourceRecord {
        let mut r = SourceRecord::new(SourceKind::Jvn, "f/ü.xml".into(), "JVNDB-2024-1".into());
        r.aliases = vec!["CVE-2024-1".into(), String::new()];
        r.upstream = vec!["CVE-2024-2".into()];
        r.related = vec!["GHSA-aaaa-bbbb-cccc".into()];
        r.modified = Ts::from_parts(1_700_000_000, 123_456_789);
        r.published = Ts::from_unix(0);
        r.placeholder_dates = true;
        r.summary = Some("s \"quoted\"\n".into());
        r.details = Some(String::new());
        r.severity = vec![Severity {
            kind: "CVSS_V3".into(),
            score: "CVSS:3.1/AV:N".into(),
        }];
        r.rating = Some("HIGH".into());
        let Value::Object(db) = json!({"a": [1, 2.5, -0.0, null], "b": {"c": "d"}}) else {
            unreachable!()
        };
        r.affected = vec![
            Affected {
                package: Some(Package {
                    ecosystem: "PyPI".into(),
                    name: "x".into(),
                    purl: None,
                }),
                severity: Vec::new(),
                ranges: vec![Range {
                    kind: "ECOSYSTEM".into(),
                    repo: Some("r".into()),
                    events: vec![
                        Event::Introduced("0".into()),
                        Event::Fixed("1".into()),
                        Event::LastAffected("2".into()),
                        Event::Limit("3".into()),
                    ],
                    database_specific: Some(Value::Null),
                }],
                versions: vec!["1.0".into()],
                ecosystem_specific: Some(json!({"k": true})),
                database_specific: Some(db.clone()),
            },
            Affected {
                package: None,
                severity: Vec::new(),
                ranges: Vec::new(),
                versions: Vec::new(),
                ecosystem_specific: None,
                database_specific: None,
            },
        ];
        r.references = vec![Reference {
            kind: "WEB".into(),
            url: "https://e.x/".into(),
        }];
        r.credits = vec![json!({"name": "n"}), Value::Null];
        r.database_specific = Some(db);
        r.cwe_ids = vec!["CWE-79".into()];
        r.ignored_aliases = vec!["BID-1".into()];
        r
    }

    #[test]
    fn every_field_round_trips() {
        for r in [
            full(),
            SourceRecord::new(SourceKind::Osv, String::new(), String::new()),
        ] {
            let mut b = Vec::new();
            encode(&mut b, &r).unwrap();
            let back = decode(&b).unwrap();
            assert_eq!(format!("{back:?}"), format!("{r:?}"));
        }
    }

    #[test]
    fn truncated_or_padded_input_is_an_error() {
        let mut b = Vec::new();
        encode(&mut b, &full()).unwrap();
        assert!(decode(&b[..b.len() - 1]).is_err());
        b.push(0);
        assert!(decode(&b).is_err());
    }
}
