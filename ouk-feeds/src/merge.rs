//! Merge of one cluster into one OSV record: canonical id, withdrawn handling,
//! dates, text by content precedence, severities per source with a configurable
//! primary, `affected` merged per normalised package, provenance under
//! `database_specific.ouk`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::cluster::{joins, upstream_joins};
use crate::ids::{is_cve, is_ghsa};
use crate::limits::Limits;
use crate::model::{Affected, Event, EventIn, Package, Range, Reference, Severity, SourceRecord};
use crate::provenance::{
    DatabaseSpecific, EnrichmentOut, Ouk, SeverityEntry, SortedSeverity, SourceOut,
};
use crate::source::SourceKind;
use crate::timestamp::Ts;
use crate::version;

/// A disagreement between sources inside one cluster (reported, never fatal).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Conflict {
    /// Merged record id.
    pub id: String,
    /// Field concerned: `severity`, `affected`, `withdrawn`.
    pub field: String,
    /// `source:id => value` strings, sorted.
    pub values: Vec<String>,
}

/// A record dropped because another copy with the same source and id was newer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Duplicate {
    /// Source kind.
    pub source: SourceKind,
    /// Record id.
    pub id: String,
    /// File kept.
    pub kept: String,
    /// File dropped.
    pub dropped: String,
}

/// One member of a cluster, for the report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Member {
    /// Source kind.
    pub source: SourceKind,
    /// Record id.
    pub id: String,
    /// File.
    pub file: String,
}

/// A multi-record cluster, for the report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClusterReport {
    /// Canonical (output) id.
    pub id: String,
    /// All ids joined (record ids, aliases, upstream), sorted.
    pub ids: Vec<String>,
    /// Primary records merged.
    pub members: Vec<Member>,
    /// Regional records attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enrichment: Vec<Member>,
    /// True when this group came from splitting a runaway cluster.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub split_runaway: bool,
}

/// Everything merging one cluster produced.
pub(crate) struct MergedCluster {
    pub id: String,
    pub line: String,
    pub modified: Ts,
    pub cluster: Option<ClusterReport>,
    pub conflicts: Vec<Conflict>,
    pub duplicates: Vec<Duplicate>,
    pub placeholder_fallback: bool,
    pub withdrawn: bool,
}

/// Settings the merge needs.
pub(crate) struct MergeCfg<'a> {
    pub severity_precedence: &'a [SourceKind],
    pub limits: &'a Limits,
    pub fallback_modified: Option<Ts>,
}

/// Output record. Field order follows the OSV schema document.
#[derive(Serialize)]
struct OsvOut<'a> {
    schema_version: &'static str,
    id: String,
    modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    withdrawn: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<&'a str>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    upstream: BTreeSet<&'a str>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    related: BTreeSet<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    severity: Vec<Severity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    affected: Vec<AffectedOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<&'a Reference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    credits: Vec<&'a Value>,
    database_specific: DatabaseSpecific<'a>,
}

#[derive(Serialize)]
struct AffectedOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<Package>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    severity: Vec<Severity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ranges: Vec<RangeOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    versions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ecosystem_specific: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_specific: Option<Map<String, Value>>,
}

#[derive(Serialize, Clone, PartialEq)]
struct RangeOut {
    #[serde(rename = "type")]
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    repo: Option<String>,
    events: Vec<EventIn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_specific: Option<Value>,
}

/// Schema patterns for severity scores (copied from ossf/osv-schema
/// `validation/schema.json`, Apache-2.0), so the primary severity we emit is valid.
fn score_valid(s: &Severity) -> bool {
    static RES: OnceLock<[Regex; 3]> = OnceLock::new();
    let res = RES.get_or_init(|| {
        let mk = |p: &str| Regex::new(p).unwrap_or_else(|e| panic!("static regex: {e}"));
        [
            mk(r"^((AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))/)*(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))$"),
            mk(r"^CVSS:3[.][01]/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])/)*(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$"),
            mk(r"^CVSS:4[.]0/AV:[NALP]/AC:[LH]/AT:[NP]/PR:[NLH]/UI:[NPA]/VC:[HLN]/VI:[HLN]/VA:[HLN]/SC:[HLN]/SI:[HLN]/SA:[HLN](/E:[XAPU])?(/CR:[XHML])?(/IR:[XHML])?(/AR:[XHML])?(/MAV:[XNALP])?(/MAC:[XLH])?(/MAT:[XNP])?(/MPR:[XNLH])?(/MUI:[XNPA])?(/MVC:[XNLH])?(/MVI:[XNLH])?(/MVA:[XNLH])?(/MSC:[XNLH])?(/MSI:[XNLHS])?(/MSA:[XNLHS])?(/S:[XNP])?(/AU:[XNY])?(/R:[XAUI])?(/V:[XDC])?(/RE:[XLMH])?(/U:(X|Clear|Green|Amber|Red))?$"),
        ]
    });
    match s.kind.as_str() {
        "CVSS_V2" => res[0].is_match(&s.score),
        "CVSS_V3" => res[1].is_match(&s.score),
        "CVSS_V4" => res[2].is_match(&s.score),
        "Ubuntu" => !s.score.is_empty(),
        _ => false,
    }
}

fn content_order(a: &SourceRecord, b: &SourceRecord) -> Ordering {
    a.source
        .content_rank()
        .cmp(&b.source.content_rank())
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.file.cmp(&b.file))
}

/// Canonical id: the CVE when the joined ids hold exactly one; else a GHSA id
/// (preferring ids of GHSA-source records, then the smallest); else the record id
/// of the first record by source precedence (GHSA, OSV, NVD), smallest id first.
fn canonical(ids: &BTreeSet<&str>, members: &[&SourceRecord]) -> String {
    let cves: Vec<&&str> = ids.iter().filter(|i| is_cve(i)).collect();
    if cves.len() == 1 {
        return cves[0].to_string();
    }
    if let Some(g) = members
        .iter()
        .filter(|m| m.source == SourceKind::Ghsa && is_ghsa(&m.id))
        .map(|m| m.id.as_str())
        .min()
    {
        return g.to_string();
    }
    if let Some(g) = ids.iter().find(|i| is_ghsa(i)) {
        return g.to_string();
    }
    // members are in content order (GHSA, OSV, NVD).
    members.first().map(|m| m.id.clone()).unwrap_or_default()
}

/// Split a range into one range per `introduced` interval when its events are
/// written as pairs (introduced, end?)*, which is how upstream feeds write them;
/// otherwise keep it whole. Union semantics are unchanged either way.
fn split_range(r: &Range) -> Vec<RangeOut> {
    let mk = |events: Vec<&Event>| RangeOut {
        kind: r.kind.clone(),
        repo: r.repo.clone(),
        events: events.into_iter().map(Event::to_out).collect(),
        database_specific: r.database_specific.clone(),
    };
    let mut out = Vec::new();
    let mut i = 0;
    let ev = &r.events;
    while i < ev.len() {
        match (&ev[i], ev.get(i + 1)) {
            (Event::Introduced(_), Some(e @ (Event::Fixed(_) | Event::LastAffected(_)))) => {
                out.push(mk(vec![&ev[i], e]));
                i += 2;
            }
            (Event::Introduced(_), None) => {
                out.push(mk(vec![&ev[i]]));
                i += 1;
            }
            _ => return vec![mk(ev.iter().collect())],
        }
    }
    out
}

fn ev_version(e: &EventIn) -> &str {
    e.introduced
        .as_deref()
        .or(e.fixed.as_deref())
        .or(e.last_affected.as_deref())
        .or(e.limit.as_deref())
        .unwrap_or("")
}

fn range_cmp(a: &RangeOut, b: &RangeOut) -> Ordering {
    a.kind
        .cmp(&b.kind)
        .then_with(|| a.repo.cmp(&b.repo))
        .then_with(|| {
            for (x, y) in a.events.iter().zip(b.events.iter()) {
                let o = version::compare(ev_version(x), ev_version(y)).then_with(|| x.cmp(y));
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.events.len().cmp(&b.events.len())
        })
        .then_with(|| {
            let sa = a.database_specific.as_ref().map(Value::to_string);
            let sb = b.database_specific.as_ref().map(Value::to_string);
            sa.cmp(&sb)
        })
}

type PkgKey = (String, String, Option<String>);

struct PkgAcc {
    package: Option<Package>,
    severity: Vec<Severity>,
    ranges: Vec<RangeOut>,
    versions: BTreeSet<String>,
    eco: Map<String, Value>,
    db: Map<String, Value>,
    /// Per source record (`source:id`): the set of ECOSYSTEM/SEMVER ranges it gave.
    by_source: BTreeMap<String, BTreeSet<String>>,
}

fn lkavr(a: &Affected) -> Option<String> {
    a.database_specific
        .as_ref()
        .and_then(|d| d.get("last_known_affected_version_range"))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
}

fn shallow_merge(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (k, v) in from {
        if !into.contains_key(k) {
            into.insert(k.clone(), v.clone());
        }
    }
}

/// Merge `affected` of the contributing members (already in content order).
/// Entries are grouped by (ecosystem, normalised name, GHSA
/// `last_known_affected_version_range`): the last key keeps that cap attached to
/// the open range it belongs to, as the Trivy exporter needs.
fn merge_affected(
    id: &str,
    members: &[&SourceRecord],
    conflicts: &mut Vec<Conflict>,
) -> Vec<AffectedOut> {
    let mut acc: BTreeMap<PkgKey, PkgAcc> = BTreeMap::new();
    for m in members {
        let tag = format!("{}:{}", m.source, m.id);
        for a in &m.affected {
            let key = match &a.package {
                Some(p) => (p.ecosystem.clone(), p.name.clone(), lkavr(a)),
                None => (String::new(), String::new(), lkavr(a)),
            };
            let e = acc.entry(key).or_insert_with(|| PkgAcc {
                package: a.package.clone(),
                severity: Vec::new(),
                ranges: Vec::new(),
                versions: BTreeSet::new(),
                eco: Map::new(),
                db: Map::new(),
                by_source: BTreeMap::new(),
            });
            if let (Some(p), Some(ep)) = (&a.package, e.package.as_mut()) {
                if ep.purl.is_none() {
                    ep.purl.clone_from(&p.purl);
                }
            }
            for s in &a.severity {
                if !e.severity.contains(s) {
                    e.severity.push(s.clone());
                }
            }
            let sig = e.by_source.entry(tag.clone()).or_default();
            for r in &a.ranges {
                for ro in split_range(r) {
                    if ro.kind != "GIT" {
                        sig.insert(serde_json::to_string(&ro.events).unwrap_or_default());
                    }
                    if !e.ranges.contains(&ro) {
                        e.ranges.push(ro);
                    }
                }
            }
            e.versions.extend(a.versions.iter().cloned());
            if let Some(Value::Object(o)) = &a.ecosystem_specific {
                shallow_merge(&mut e.eco, o);
            }
            if let Some(d) = &a.database_specific {
                shallow_merge(&mut e.db, d);
            }
        }
    }
    let mut out = Vec::with_capacity(acc.len());
    for ((eco, name, _), mut a) in acc {
        let sigs: Vec<(&String, &BTreeSet<String>)> =
            a.by_source.iter().filter(|(_, s)| !s.is_empty()).collect();
        if sigs.len() > 1 && sigs.iter().any(|(_, s)| *s != sigs[0].1) {
            conflicts.push(Conflict {
                id: id.to_string(),
                field: format!("affected {eco}/{name}"),
                values: sigs
                    .iter()
                    .map(|(t, s)| {
                        format!("{t} => {}", s.iter().cloned().collect::<Vec<_>>().join(" "))
                    })
                    .collect(),
            });
        }
        a.ranges.sort_by(range_cmp);
        let mut versions: Vec<String> = a.versions.into_iter().collect();
        versions.sort_by(|x, y| version::compare(x, y));
        out.push(AffectedOut {
            package: a.package,
            severity: a.severity,
            ranges: a.ranges,
            versions,
            ecosystem_specific: (!a.eco.is_empty()).then_some(Value::Object(a.eco)),
            database_specific: (!a.db.is_empty()).then_some(a.db),
        });
    }
    out
}

/// Merge one cluster.
pub(crate) fn merge_cluster(
    records: &[SourceRecord],
    group: &[usize],
    enrich: &[usize],
    split: bool,
    cfg: &MergeCfg<'_>,
) -> MergedCluster {
    let mut members: Vec<&SourceRecord> = group.iter().map(|&i| &records[i]).collect();
    members.sort_by(|a, b| content_order(a, b));
    // Same source + same id: keep the newest, report the rest.
    let mut duplicates = Vec::new();
    let mut kept: Vec<&SourceRecord> = Vec::with_capacity(members.len());
    for m in members {
        if let Some(k) = kept
            .iter_mut()
            .find(|k| k.source == m.source && k.id == m.id)
        {
            let (keep, drop) = if m.modified > k.modified {
                (m, *k)
            } else {
                (*k, m)
            };
            duplicates.push(Duplicate {
                source: m.source,
                id: m.id.clone(),
                kept: keep.file.clone(),
                dropped: drop.file.clone(),
            });
            *k = keep;
        } else {
            kept.push(m);
        }
    }
    let members = kept;
    let mut enrichment: Vec<&SourceRecord> = enrich.iter().map(|&i| &records[i]).collect();
    enrichment.sort_by(|a, b| content_order(a, b));
    enrichment.dedup_by(|a, b| a.source == b.source && a.id == b.id && a.modified <= b.modified);

    // Joined ids (what the closure used) and all ids mentioned (for `aliases`).
    let mut joined: BTreeSet<&str> = BTreeSet::new();
    let mut mentioned: BTreeSet<&str> = BTreeSet::new();
    for m in &members {
        joined.insert(&m.id);
        mentioned.insert(&m.id);
        mentioned.extend(m.aliases.iter().map(String::as_str));
        if !split && joins(m, cfg.limits) {
            joined.extend(m.aliases.iter().map(String::as_str));
            if upstream_joins(m.upstream.iter().map(String::as_str)) {
                joined.extend(m.upstream.iter().map(String::as_str));
            }
        }
    }
    let id = canonical(&joined, &members);

    let active: Vec<&SourceRecord> = members
        .iter()
        .copied()
        .filter(|m| m.withdrawn.is_none())
        .collect();
    let mut conflicts = Vec::new();
    let (contrib, withdrawn) = if active.is_empty() {
        (
            members.clone(),
            members.iter().filter_map(|m| m.withdrawn).max(),
        )
    } else {
        if active.len() != members.len() {
            conflicts.push(Conflict {
                id: id.clone(),
                field: "withdrawn".into(),
                values: members
                    .iter()
                    .map(|m| {
                        format!(
                            "{}:{} => {}",
                            m.source,
                            m.id,
                            m.withdrawn
                                .map(Ts::to_rfc3339)
                                .unwrap_or_else(|| "active".into())
                        )
                    })
                    .collect(),
            });
        }
        (active, None)
    };

    let all_dates = members.iter().chain(enrichment.iter());
    let mut placeholder_fallback = false;
    let modified = match all_dates.clone().filter_map(|m| m.modified).max() {
        Some(t) => t,
        None => {
            placeholder_fallback = true;
            members
                .iter()
                .filter_map(|m| m.published)
                .max()
                .or(cfg.fallback_modified)
                .unwrap_or_else(Ts::epoch)
        }
    };
    let published = contrib.iter().filter_map(|m| m.published).min();

    let summary = contrib.iter().find_map(|m| m.summary.as_deref());
    let details = contrib.iter().find_map(|m| m.details.as_deref());

    // Severities: every source's list is kept under ouk.severity; the primary is
    // the first source in precedence order with a schema-valid vector.
    let sev_entries: Vec<SeverityEntry<'_>> = contrib
        .iter()
        .chain(enrichment.iter())
        .filter(|m| !m.severity.is_empty() || m.rating.is_some())
        .map(|m| SeverityEntry {
            id: &m.id,
            rating: m.rating.as_deref(),
            severity: m.severity.iter().map(SortedSeverity::from).collect(),
            source: m.source,
        })
        .collect();
    let mut primary: Option<(&SourceRecord, Vec<Severity>)> = None;
    'outer: for k in cfg.severity_precedence {
        for m in contrib
            .iter()
            .chain(enrichment.iter())
            .filter(|m| m.source == *k)
        {
            let valid: Vec<Severity> = m
                .severity
                .iter()
                .filter(|s| score_valid(s))
                .cloned()
                .collect();
            if !valid.is_empty() {
                primary = Some((m, valid));
                break 'outer;
            }
        }
    }
    let mut by_type: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for m in contrib.iter() {
        for s in &m.severity {
            by_type
                .entry(s.kind.as_str())
                .or_default()
                .insert(format!("{}:{} => {}", m.source, m.id, s.score));
        }
    }
    for (t, vals) in &by_type {
        let distinct: BTreeSet<&str> = vals
            .iter()
            .filter_map(|v| v.split_once(" => ").map(|x| x.1))
            .collect();
        if distinct.len() > 1 {
            conflicts.push(Conflict {
                id: id.clone(),
                field: format!("severity {t}"),
                values: vals.iter().cloned().collect(),
            });
        }
    }

    let mut affected = merge_affected(&id, &contrib, &mut conflicts);
    let severity = primary.as_ref().map(|(_, v)| v.clone()).unwrap_or_default();
    if !severity.is_empty() {
        for a in &mut affected {
            a.severity.clear();
        }
    }

    let mut references: Vec<&Reference> = Vec::new();
    let mut seen_refs: HashSet<(&str, &str)> = HashSet::new();
    for m in &contrib {
        for r in &m.references {
            if seen_refs.insert((&r.kind, &r.url)) {
                references.push(r);
            }
        }
    }
    let mut credits: Vec<&Value> = Vec::new();
    for m in &contrib {
        for c in &m.credits {
            if !credits.contains(&c) {
                credits.push(c);
            }
        }
    }
    let aliases: Vec<&str> = mentioned.iter().copied().filter(|a| *a != id).collect();
    let upstream: BTreeSet<&str> = contrib
        .iter()
        .flat_map(|m| m.upstream.iter().map(String::as_str))
        .filter(|u| *u != id)
        .collect();
    let related: BTreeSet<&str> = contrib
        .iter()
        .flat_map(|m| m.related.iter().map(String::as_str))
        .filter(|r| !mentioned.contains(r) && *r != id)
        .collect();

    let sources: Vec<SourceOut<'_>> = members
        .iter()
        .map(|m| SourceOut {
            id: &m.id,
            modified: m.modified.map(Ts::to_rfc3339),
            source: m.source,
            withdrawn: m.withdrawn.map(Ts::to_rfc3339),
        })
        .collect();
    let mut cwes: BTreeSet<&str> = BTreeSet::new();
    for m in contrib.iter().chain(enrichment.iter()) {
        cwes.extend(m.cwe_ids.iter().map(String::as_str));
    }
    let enrich_out: Vec<EnrichmentOut<'_>> = enrichment
        .iter()
        .map(|m| EnrichmentOut {
            aliases: &m.aliases,
            description: m.details.as_deref(),
            extra: m.database_specific.as_ref(),
            id: &m.id,
            modified: m.modified.map(Ts::to_rfc3339),
            published: m.published.map(Ts::to_rfc3339),
            references: m.references.iter().map(|r| r.url.as_str()).collect(),
            source: m.source,
            title: m.summary.as_deref(),
        })
        .collect();
    let mut ds = DatabaseSpecific {
        upstream: BTreeMap::new(),
        ouk: Ouk {
            cwe_ids: cwes,
            enrichment: enrich_out,
            severity: sev_entries,
            severity_source: primary
                .as_ref()
                .map(|(m, _)| format!("{}:{}", m.source, m.id)),
            sources,
        },
    };
    for m in &contrib {
        if let Some(d) = &m.database_specific {
            ds.add_upstream(d);
        }
    }

    let is_withdrawn = withdrawn.is_some();
    let out = OsvOut {
        schema_version: "1.7.0",
        id: id.clone(),
        modified: modified.to_rfc3339(),
        published: published.map(Ts::to_rfc3339),
        withdrawn: withdrawn.map(Ts::to_rfc3339),
        aliases,
        upstream,
        related,
        summary,
        details,
        severity,
        affected,
        references,
        credits,
        database_specific: ds,
    };
    // Serialising plain data cannot fail; an empty line would be caught by validation.
    let line = serde_json::to_string(&out).unwrap_or_default();

    let cluster = (members.len() > 1 || !enrichment.is_empty() || split).then(|| ClusterReport {
        id: id.clone(),
        ids: joined.iter().map(|s| s.to_string()).collect(),
        members: members
            .iter()
            .map(|m| Member {
                source: m.source,
                id: m.id.clone(),
                file: m.file.clone(),
            })
            .collect(),
        enrichment: enrichment
            .iter()
            .map(|m| Member {
                source: m.source,
                id: m.id.clone(),
                file: m.file.clone(),
            })
            .collect(),
        split_runaway: split,
    });
    MergedCluster {
        id,
        line,
        modified,
        cluster,
        conflicts,
        duplicates,
        placeholder_fallback,
        withdrawn: is_withdrawn,
    }
}
