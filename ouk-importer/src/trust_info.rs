//! `ouk-importer trust status|history|verify-chain`: what the store trusts, how it got there, and
//! a dry run of a rotation chain before it is carried across the air gap.

use std::path::Path;

use ouk_format::time::Timestamp;
use ouk_format::trust_root::{
    check_not_expired, revocations, verify_anchor, verify_chain, Revocation, RoleName, TrustRoot,
};
use ouk_format::Limits;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::state::State;
use crate::store::Store;
use crate::trust_store::TrustStore;

/// One role, for display.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RoleView {
    /// Key ids.
    pub keyids: Vec<String>,
    /// Threshold.
    pub threshold: u32,
}

/// A trust root, for display.
#[derive(Debug, Clone, Serialize)]
pub struct RootView {
    /// Version.
    pub version: u64,
    /// Expiry.
    pub expires: Timestamp,
    /// `ouk/trust-root/2` (TUF layout) or `ouk/trust-root/1` (legacy DSSE).
    pub format: String,
    /// `root` role.
    pub root: RoleView,
    /// `kit` role.
    pub kit: RoleView,
    /// `attestation` role.
    pub attestation: RoleView,
    /// Allowed builder ids.
    pub builders: Vec<String>,
}

impl RootView {
    fn of(r: &TrustRoot) -> RootView {
        let role = |n| {
            let x = r.role(n);
            RoleView {
                keyids: x.keyids.iter().map(|k| k.to_string()).collect(),
                threshold: x.threshold,
            }
        };
        RootView {
            version: r.version,
            expires: r.expires,
            format: r.type_.clone(),
            root: role(RoleName::Root),
            kit: role(RoleName::Kit),
            attestation: role(RoleName::Attestation),
            builders: r.builders.clone(),
        }
    }
}

/// `trust status`.
#[derive(Debug, Serialize)]
pub struct TrustStatusReport {
    /// The root the next import starts from (the store's newest), if the store holds one.
    pub root: Option<RootView>,
    /// Seconds until it expires (negative: expired; a kit carrying a newer root still imports).
    pub expires_in_secs: Option<i64>,
    /// Highest trust root version the store has used (also for stores from before rotation,
    /// which kept only this number).
    pub highest_version_used: Option<u64>,
    /// Keys taken out of a role, remembered to name them when they still sign.
    pub revoked: Vec<Revocation>,
    /// The latest trusted time seen (the importer refuses to run on a clock before it).
    pub time_high_water: Option<Timestamp>,
}

/// `trust status`: read-only.
pub fn status(store: &Path, now: Timestamp) -> Result<TrustStatusReport> {
    let store = Store::open(store)?;
    let state = State::load(store.root())?;
    let latest = TrustStore::new(store.root()).latest(&Limits::default())?;
    Ok(TrustStatusReport {
        expires_in_secs: latest.as_ref().map(|s| s.root.expires.unix() - now.unix()),
        root: latest.as_ref().map(|s| RootView::of(&s.root)),
        highest_version_used: state.as_ref().map(|s| s.trust_root_version),
        revoked: state
            .as_ref()
            .map(|s| s.revoked.clone())
            .unwrap_or_default(),
        time_high_water: state.as_ref().map(|s| s.time_high_water),
    })
}

/// One step of the history: a stored root and what changed from the one before it.
#[derive(Debug, Serialize)]
pub struct HistoryEntry {
    /// The root.
    pub root: RootView,
    /// Keys that left a role at this version.
    pub revoked: Vec<Revocation>,
    /// Key ids that joined a role at this version, as `role:keyid`.
    pub added: Vec<String>,
    /// Whether this root is signed by a threshold of the previous stored root (a rotation);
    /// `false` for the first root and for roots installed out of band with `--trust-root`.
    pub chained: bool,
}

/// `trust history`.
#[derive(Debug, Serialize)]
pub struct TrustHistoryReport {
    /// Oldest first.
    pub roots: Vec<HistoryEntry>,
}

/// `trust history`: every stored root, oldest first, with the key changes between them.
pub fn history(store: &Path) -> Result<TrustHistoryReport> {
    let store = Store::open(store)?;
    let trust = TrustStore::new(store.root());
    let limits = Limits::default();
    let mut roots = Vec::new();
    let mut previous: Option<crate::trust_store::StoredRoot> = None;
    for v in trust.versions()? {
        let cur = trust.load(v, &limits)?;
        let (revoked, added, chained) = match &previous {
            None => (Vec::new(), Vec::new(), false),
            Some(p) => {
                let added = [RoleName::Root, RoleName::Kit, RoleName::Attestation]
                    .iter()
                    .flat_map(|role| {
                        let before = &p.root.role(*role).keyids;
                        cur.root
                            .role(*role)
                            .keyids
                            .iter()
                            .filter(|k| !before.contains(k))
                            .map(|k| format!("{}:{k}", role.as_str()))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                let chained = p.version + 1 == v
                    && ouk_format::trust_root::verify_successor(&p.root, &cur.bytes, &limits)
                        .is_ok();
                (revocations(&p.root, &cur.root), added, chained)
            }
        };
        roots.push(HistoryEntry {
            root: RootView::of(&cur.root),
            revoked,
            added,
            chained,
        });
        previous = Some(cur);
    }
    Ok(TrustHistoryReport { roots })
}

/// `trust verify-chain`.
#[derive(Debug, Serialize)]
pub struct ChainReport {
    /// Whether the chain is accepted.
    pub accepted: bool,
    /// The final root (when accepted).
    pub root: Option<RootView>,
    /// Versions walked after the anchor.
    pub steps: Vec<u64>,
    /// Keys the chain revokes.
    pub revoked: Vec<Revocation>,
}

/// Walk `chain` from `anchor` exactly as an import would (each root the verified successor of
/// the one before, only the final root's expiry checked), writing nothing.
pub fn verify_chain_files(
    anchor: &[u8],
    chain: &[Vec<u8>],
    now: Timestamp,
    skew_secs: i64,
) -> Result<ChainReport> {
    let limits = Limits::default();
    let root = verify_anchor(anchor, &limits).map_err(Error::TrustRoot)?;
    let accepted = verify_chain(
        &root,
        chain.iter().map(|b| b.as_slice()),
        now,
        skew_secs,
        &limits,
    )
    .map_err(Error::TrustRoot)?;
    let mut revoked = Vec::new();
    let mut prev = &root;
    for next in &accepted {
        revoked.extend(revocations(prev, next));
        prev = next;
    }
    check_not_expired(prev, now, skew_secs).map_err(Error::TrustRoot)?;
    Ok(ChainReport {
        accepted: true,
        root: Some(RootView::of(prev)),
        steps: accepted.iter().map(|r| r.version).collect(),
        revoked,
    })
}
