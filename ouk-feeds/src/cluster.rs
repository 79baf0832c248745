//! Alias-graph closure over primary records: union-find over `id`, `aliases`
//! and `upstream` (never `related`), with the runaway guards from [`Limits`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::limits::Limits;
use crate::model::SourceRecord;
use crate::source::SourceKind;

/// What clustering looks at in a record. Implemented by the full record (the
/// merge re-checks [`joins`]) and by the spill index entry (clustering runs on
/// the index so the records themselves can stay on disk).
pub(crate) trait Joinable {
    /// Source kind.
    fn source(&self) -> SourceKind;
    /// Record id.
    fn id(&self) -> &str;
    /// Valid aliases.
    fn aliases(&self) -> &[String];
    /// Valid upstream ids.
    fn upstream(&self) -> &[String];
}

impl<T: Joinable + ?Sized> Joinable for &T {
    fn source(&self) -> SourceKind {
        (**self).source()
    }
    fn id(&self) -> &str {
        (**self).id()
    }
    fn aliases(&self) -> &[String] {
        (**self).aliases()
    }
    fn upstream(&self) -> &[String] {
        (**self).upstream()
    }
}

impl Joinable for SourceRecord {
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

/// Whether a record's aliases may join clusters.
pub(crate) fn joins<R: Joinable + ?Sized>(r: &R, limits: &Limits) -> bool {
    r.aliases().len() + r.upstream().len() <= limits.max_aliases_per_record
}

/// Cluster the records at `idx` (primary records only).
pub(crate) fn cluster<R: Joinable>(records: &[R], idx: &[usize], limits: &Limits) -> Clustering {
    let mut nodes: HashMap<&str, u32> = HashMap::with_capacity(idx.len() * 3);
    let mut uf = Uf {
        parent: Vec::with_capacity(idx.len() * 3),
    };
    fn get<'a>(s: &'a str, nodes: &mut HashMap<&'a str, u32>, uf: &mut Uf) -> u32 {
        if let Some(n) = nodes.get(s) {
            return *n;
        }
        let n = uf.parent.len() as u32;
        uf.parent.push(n);
        nodes.insert(s, n);
        n
    }
    let mut alias_limited = Vec::new();
    for &i in idx {
        let r = &records[i];
        let a = get(r.id(), &mut nodes, &mut uf);
        if joins(r, limits) {
            for x in r.aliases().iter().chain(r.upstream().iter()) {
                let b = get(x, &mut nodes, &mut uf);
                uf.union(a, b);
            }
        } else {
            alias_limited.push(AliasLimited {
                source: r.source(),
                id: r.id().to_string(),
                count: r.aliases().len() + r.upstream().len(),
            });
        }
    }
    // Group records by root, in order of first record index.
    let mut by_root: HashMap<u32, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &i in idx {
        let root = uf.find(nodes[records[i].id()]);
        let g = *by_root.entry(root).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    let mut out_groups = Vec::with_capacity(groups.len());
    let mut split = Vec::with_capacity(groups.len());
    let mut runaway = Vec::new();
    for g in groups {
        let mut ids: Vec<&str> = Vec::new();
        for &i in &g {
            let r = &records[i];
            ids.push(r.id());
            if joins(r, limits) {
                ids.extend(r.aliases().iter().map(String::as_str));
                ids.extend(r.upstream().iter().map(String::as_str));
            }
        }
        ids.sort_unstable();
        ids.dedup();
        if ids.len() > limits.max_cluster_ids {
            runaway.push(Runaway {
                ids: ids.len(),
                records: g.len(),
                sample: ids.iter().take(20).map(|s| s.to_string()).collect(),
            });
            let mut by_id: Vec<(&str, Vec<usize>)> = Vec::new();
            let mut pos: HashMap<&str, usize> = HashMap::new();
            for &i in &g {
                let id = records[i].id();
                let p = *pos.entry(id).or_insert_with(|| {
                    by_id.push((id, Vec::new()));
                    by_id.len() - 1
                });
                by_id[p].1.push(i);
            }
            for (_, sub) in by_id {
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
