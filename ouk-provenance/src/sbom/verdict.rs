//! Order-independent verdicts and compact identifier sets for the streaming SBOM checks.
//!
//! Why: a streamed document arrives in whatever key order its producer chose (serde_json sorts keys,
//! so `spdxVersion` can come last), while the refusal reported must not depend on that order. Each
//! check therefore carries a [`Rank`] — its step in the specified check order, then stream order — and
//! only the lowest-ranked refusal is kept (O(1) memory). Identifiers are kept as 128-bit keyed
//! fingerprints under a count cap; references that point forward are parked (under a byte budget) and resolved at
//! the end.

use super::SbomError;
use crate::json_walk::Fingerprinter;
use std::cell::Cell;
use std::collections::HashSet;

/// Where a refusal sits in the check order: the step of the checker (`stage`), shape checks of a
/// whole array before content checks of its elements (`phase`), then stream order (`seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Rank {
    stage: u8,
    phase: u8,
    seq: u64,
}

/// `phase` of a check on an array's shape (its type, each element's type).
pub(super) const SHAPE: u8 = 0;
/// `phase` of a check on an element's content.
pub(super) const CONTENT: u8 = 1;

/// The lowest-ranked refusal seen so far.
#[derive(Default)]
pub(super) struct Verdict {
    best: Option<(Rank, SbomError)>,
    seq: u64,
}

impl Verdict {
    /// A rank for a check happening now.
    pub(super) fn rank(&mut self, stage: u8, phase: u8) -> Rank {
        self.seq += 1;
        Rank {
            stage,
            phase,
            seq: self.seq,
        }
    }

    /// Keeps `e` if it ranks before the current refusal.
    pub(super) fn record(&mut self, rank: Rank, e: SbomError) {
        if self.best.as_ref().is_none_or(|(r, _)| rank < *r) {
            self.best = Some((rank, e));
        }
    }

    /// Records the refusal of a check that just ran, if it refused.
    pub(super) fn check(&mut self, stage: u8, phase: u8, r: Result<(), SbomError>) {
        if let Err(e) = r {
            let rank = self.rank(stage, phase);
            self.record(rank, e);
        }
    }

    pub(super) fn finish(self) -> Result<(), SbomError> {
        match self.best {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

/// Budgets shared by both checkers while the format is still unknown, so running the SPDX and the
/// CycloneDX checks side by side never doubles the memory an attacker can make us hold.
pub(super) struct Shared<'a> {
    pub fp: &'a Fingerprinter,
    pub ids_left: Cell<usize>,
    pub ids_limit: usize,
    pub forward_left: Cell<usize>,
    pub forward_limit: usize,
    pub max_string_bytes: usize,
}

fn take(cell: &Cell<usize>, n: usize, limit: usize, what: &'static str) -> Result<(), SbomError> {
    let left = cell.get();
    if n > left {
        return Err(SbomError::TooMany { what, limit });
    }
    cell.set(left - n);
    Ok(())
}

/// A set of identifiers, as fingerprints.
#[derive(Default)]
pub(super) struct IdSet {
    set: HashSet<u128>,
}

impl IdSet {
    /// Adds `id`; `Ok(false)` when it was already there, an error past the shared cap.
    pub(super) fn insert(&mut self, sh: &Shared<'_>, id: &str) -> Result<bool, SbomError> {
        let fp = sh.fp.of(id);
        if self.set.contains(&fp) {
            return Ok(false);
        }
        take(&sh.ids_left, 1, sh.ids_limit, "identifiers")?;
        Ok(self.set.insert(fp))
    }

    pub(super) fn contains(&self, sh: &Shared<'_>, id: &str) -> bool {
        self.set.contains(&sh.fp.of(id))
    }

    pub(super) fn contains_fp(&self, fp: u128) -> bool {
        self.set.contains(&fp)
    }
}

/// A reference not yet resolvable when it streamed by: the fingerprint it needs, which set it must be
/// in (the caller's tag), and the refusal to report if it never resolves.
pub(super) struct Pending {
    pub fp: u128,
    pub tag: u8,
    pub rank: Rank,
    pub err: SbomError,
}

/// Bytes a parked reference may hold: its slot (twice, for the vector's growth) and its texts.
pub(super) fn cost(p: &Pending) -> usize {
    let texts = match &p.err {
        SbomError::UnknownReference { path, id } => path.len() + id.len(),
        _ => 0,
    };
    2 * std::mem::size_of::<Pending>() + texts
}

/// Parks a forward reference under the shared byte budget.
pub(super) fn park(
    sh: &Shared<'_>,
    parked: &mut Vec<Pending>,
    p: Pending,
) -> Result<(), SbomError> {
    take(
        &sh.forward_left,
        cost(&p),
        sh.forward_limit,
        "forward reference bytes",
    )?;
    parked.push(p);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(fp: &Fingerprinter, ids: usize) -> Shared<'_> {
        Shared {
            fp,
            ids_left: Cell::new(ids),
            ids_limit: ids,
            forward_left: Cell::new(2 * std::mem::size_of::<Pending>()),
            forward_limit: 2 * std::mem::size_of::<Pending>(),
            max_string_bytes: 64,
        }
    }

    #[test]
    fn lowest_rank_wins_whatever_the_arrival_order() {
        let mut v = Verdict::default();
        let late = v.rank(5, CONTENT);
        let early_shape = v.rank(5, SHAPE);
        let first_stage = v.rank(1, CONTENT);
        v.record(late, SbomError::UnknownFormat);
        v.record(early_shape, SbomError::Json("shape".into()));
        assert_eq!(
            v.best.as_ref().map(|b| &b.1),
            Some(&SbomError::Json("shape".into()))
        );
        v.record(first_stage, SbomError::Json("first".into()));
        v.record(late, SbomError::UnknownFormat);
        assert_eq!(v.finish(), Err(SbomError::Json("first".into())));
    }

    #[test]
    fn id_set_detects_repeats_and_caps() {
        let fp = Fingerprinter::new();
        let sh = shared(&fp, 2);
        let mut s = IdSet::default();
        assert_eq!(s.insert(&sh, "a"), Ok(true));
        assert_eq!(s.insert(&sh, "a"), Ok(false));
        assert_eq!(s.insert(&sh, "b"), Ok(true));
        assert!(s.contains(&sh, "b"));
        assert_eq!(
            s.insert(&sh, "c"),
            Err(SbomError::TooMany {
                what: "identifiers",
                limit: 2
            })
        );
        let mut parked = Vec::new();
        let mut v = Verdict::default();
        let p = |v: &mut Verdict| Pending {
            fp: 0,
            tag: 0,
            rank: v.rank(1, CONTENT),
            err: SbomError::UnknownFormat,
        };
        assert!(park(&sh, &mut parked, p(&mut v)).is_ok());
        assert_eq!(
            park(&sh, &mut parked, p(&mut v)),
            Err(SbomError::TooMany {
                what: "forward reference bytes",
                limit: 2 * std::mem::size_of::<Pending>()
            })
        );
    }
}
