//! Alias-graph closure over primary records: union-find over `id`, `aliases`
//! and `upstream` (never `related`), with the runaway guards from [`Limits`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::index::{pos, Index, IndexEntry, Sym};
use crate::limits::Limits;
use crate::model::SourceRecord;
use crate::source::SourceKind;

struct Uf {
    parent: Vec<u32>,
}

impl Uf {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // Smaller root wins: keeps the structure independent of call order.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }
}

/// A record whose alias list was too long to be trusted for joining.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AliasLimited {
    /// Source kind.
    pub source: SourceKind,
    /// Record id.
    pub id: String,
    /// Number of aliases + upstream ids it listed.
    pub count: usize,
}

/// A cluster that grew past `max_cluster_ids` and was split by record id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Runaway {
    /// Distinct ids the closure reached.
    pub ids: usize,
    /// Records in it.
    pub records: usize,
    /// The first 20 ids (sorted), to find it again.
    pub sample: Vec<String>,
}

/// Result of clustering.
pub(crate) struct Clustering {
    /// Each group: indices into the record slice, ascending; groups ordered by first index.
    pub groups: Vec<Vec<usize>>,
    /// True for groups produced by splitting a runaway cluster.
    pub split: Vec<bool>,
    pub alias_limited: Vec<AliasLimited>,
    pub runaway: Vec<Runaway>,
}

/// Whether a record listing `links` aliases and upstream ids may join clusters
/// by them (the one rule, for index entries and for full records).
pub(crate) fn joins_by(links: usize, limits: &Limits) -> bool {
    links <= limits.max_aliases_per_record
}

/// Whether a full record's aliases may join clusters.
pub(crate) fn joins(r: &SourceRecord, limits: &Limits) -> bool {
    joins_by(r.aliases.len() + r.upstream.len(), limits)
}

/// Whether a record's `upstream` ids join clusters: not when they name more than one CVE. Such
/// a record is an aggregate advisory derived from several vulnerabilities (a Debian DSA/DLA,
/// an Ubuntu USN, a Red Hat RHSA fixing many CVEs at once); joining by its upstream ids would
/// merge those distinct vulnerabilities into one record. It stays its own cluster (joined by
/// its id and aliases) and keeps its `upstream` list; a per-CVE downstream record (Debian's
/// `DEBIAN-CVE-…`, Ubuntu's `UBUNTU-CVE-…`, one upstream CVE) still joins its CVE.
pub(crate) fn upstream_joins<'a>(upstream: impl IntoIterator<Item = &'a str>) -> bool {
    upstream
        .into_iter()
        .filter(|u| u.starts_with("CVE-"))
        .take(2)
        .count()
        <= 1
}

/// The links a record joins by when it joins at all: its aliases, and its upstream ids when
/// [`upstream_joins`] allows.
pub(crate) fn joining_links<'i>(index: &'i Index, r: &IndexEntry) -> &'i [Sym] {
    let links = index.links(r);
    let aliases = index.aliases(r).len();
    if upstream_joins(links[aliases..].iter().map(|&s| index.names.get(s))) {
        links
    } else {
        &links[..aliases]
    }
}

/// Cluster the index entries at `idx` (primary records only). Union-find runs
/// on the names' symbols, so it needs one `u32` per distinct string and no map.
pub(crate) fn cluster(index: &Index, idx: &[usize], limits: &Limits) -> Clustering {
    let records = &index.entries;
    let names = &index.names;
    let mut uf = Uf {
        parent: (0..names.len() as u32).collect(),
    };
    let node = |s: Sym| pos(s) as u32;
    let mut alias_limited = Vec::new();
    for &i in idx {
        let r = &records[i];
        let links = index.links(r);
        if joins_by(links.len(), limits) {
            for &x in joining_links(index, r) {
                uf.union(node(r.id), node(x));
            }
        } else {
            alias_limited.push(AliasLimited {
                source: r.source,
                id: names.get(r.id).to_string(),
                count: links.len(),
            });
        }
    }
    // Group records by root, in order of first record index.
    const NO_GROUP: u32 = u32::MAX;
    let mut group_of_root = vec![NO_GROUP; names.len()];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &i in idx {
        let root = uf.find(node(records[i].id));
        let g = &mut group_of_root[root as usize];
        if *g == NO_GROUP {
            *g = groups.len() as u32;
            groups.push(Vec::new());
        }
        groups[*g as usize].push(i);
    }
    drop(group_of_root);
    drop(uf);
    let mut out_groups = Vec::with_capacity(groups.len());
    let mut split = Vec::with_capacity(groups.len());
    let mut runaway = Vec::new();
    let mut ids: Vec<Sym> = Vec::new();
    for g in groups {
        ids.clear();
        for &i in &g {
            let r = &records[i];
            ids.push(r.id);
            let links = index.links(r);
            if joins_by(links.len(), limits) {
                ids.extend_from_slice(links);
            }
        }
        // Equal strings have equal symbols: counting symbols counts distinct ids.
        ids.sort_unstable();
        ids.dedup();
        if ids.len() > limits.max_cluster_ids {
            let mut sample: Vec<&str> = ids.iter().map(|&s| names.get(s)).collect();
            sample.sort_unstable();
            runaway.push(Runaway {
                ids: ids.len(),
                records: g.len(),
                sample: sample.iter().take(20).map(|s| s.to_string()).collect(),
            });
            let mut by_id: Vec<Vec<usize>> = Vec::new();
            let mut at: HashMap<Sym, usize> = HashMap::new();
            for &i in &g {
                let p = *at.entry(records[i].id).or_insert_with(|| {
                    by_id.push(Vec::new());
                    by_id.len() - 1
                });
                by_id[p].push(i);
            }
            for sub in by_id {
                out_groups.push(sub);
                split.push(true);
            }
        } else {
            out_groups.push(g);
            split.push(false);
        }
    }
    alias_limited.sort();
    runaway.sort();
    Clustering {
        groups: out_groups,
        split,
        alias_limited,
        runaway,
    }
}
