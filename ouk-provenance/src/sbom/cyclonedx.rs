//! Structural checks of CycloneDX 1.5 / 1.6 / 1.7 JSON (cyclonedx.org/docs/1.5/json, /1.6/json,
//! /1.7/json). Covers what a
//! consumer relies on: format and version, serial number, components and services (type, name, nested),
//! hash algorithms and values, bom-ref uniqueness across the whole BOM, and that every dependency ref
//! resolves. Full schema validation is left to `cyclonedx-python-lib` in CI.

use super::verdict::{park, IdSet, Pending, Rank, Shared, Verdict, CONTENT, SHAPE};
use super::walk::{is_lower_hex, Obj};
use super::{SbomError, SbomFormat};
use crate::json_walk::Node;
use crate::text::bounded;

const COMPONENT_TYPES_15: &[&str] = &[
    "application",
    "framework",
    "library",
    "container",
    "platform",
    "operating-system",
    "device",
    "device-driver",
    "firmware",
    "file",
    "machine-learning-model",
    "data",
];

/// CycloneDX hash algorithms with their hex length (0 = any of the schema's lengths, for BLAKE3);
/// see [`HASH_ALGS_17`] for the ones 1.7 added.
const HASH_ALGS: &[(&str, usize)] = &[
    ("MD5", 32),
    ("SHA-1", 40),
    ("SHA-256", 64),
    ("SHA-384", 96),
    ("SHA-512", 128),
    ("SHA3-256", 64),
    ("SHA3-384", 96),
    ("SHA3-512", 128),
    ("BLAKE2b-256", 64),
    ("BLAKE2b-384", 96),
    ("BLAKE2b-512", 128),
    ("BLAKE3", 0),
];

/// Hash algorithms valid from CycloneDX 1.7 on (GOST R 34.11-2012).
const HASH_ALGS_17: &[(&str, usize)] = &[("Streebog-256", 64), ("Streebog-512", 128)];

/// `urn:uuid:` followed by an RFC 4122 UUID (8-4-4-4-12 hex).
fn valid_serial(s: &str) -> bool {
    let Some(u) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    let groups: Vec<&str> = u.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks one hash object; `Ok(true)` when its algorithm exists only from CycloneDX 1.7 on (the
/// caller knows the version, or learns it later).
fn check_hash(h: &Obj<'_>) -> Result<bool, SbomError> {
    let alg = h.req_str("alg")?;
    let content = h.req_str("content")?;
    let (len, needs_17) = match HASH_ALGS.iter().find(|(a, _)| *a == alg) {
        Some((_, len)) => (len, false),
        None => match HASH_ALGS_17.iter().find(|(a, _)| *a == alg) {
            Some((_, len)) => (len, true),
            None => {
                return Err(SbomError::InvalidHash {
                    path: h.path.clone(),
                    reason: "unknown hash algorithm",
                })
            }
        },
    };
    // The schema allows either case; compare on lowercase.
    let lower = content.to_ascii_lowercase();
    let ok = if *len == 0 {
        [32, 40, 64, 96, 128]
            .iter()
            .any(|n| is_lower_hex(&lower, *n))
    } else {
        is_lower_hex(&lower, *len)
    };
    if !ok {
        return Err(SbomError::InvalidHash {
            path: h.path.clone(),
            reason: "content must be hex of the algorithm's length",
        });
    }
    Ok(needs_17)
}

fn hash_needs_17(path: String) -> SbomError {
    SbomError::InvalidHash {
        path,
        reason: "unknown hash algorithm for this specVersion",
    }
}

/// The steps of the check order (the `stage` of a `Rank`): header fields, the whole-tree scan of
/// `bom-ref`s and `hashes`, then metadata, components, services and the references.
const ST_FORMAT: u8 = 1;
const ST_SPEC: u8 = 2;
const ST_SERIAL: u8 = 3;
const ST_VERSION: u8 = 4;
const ST_SCAN: u8 = 5;
const ST_METADATA: u8 = 6;
const ST_COMPONENTS: u8 = 7;
const ST_SERVICES: u8 = 8;
const ST_DEPENDENCIES: u8 = 9;
const ST_VULNERABILITIES: u8 = 10;

const ARRAYS: &[(&str, u8)] = &[
    ("components", ST_COMPONENTS),
    ("services", ST_SERVICES),
    ("dependencies", ST_DEPENDENCIES),
    ("vulnerabilities", ST_VULNERABILITIES),
];

/// Streaming CycloneDX 1.5/1.6/1.7 checker: fed each top-level value (or each element of a top-level
/// array) as a small bounded tree, it keeps only `bom-ref` fingerprints, parked forward references and
/// the lowest-ranked refusal. A `cryptographic-asset` component (1.6 on) or a Streebog hash (1.7 on)
/// seen before `specVersion` is kept as a conditional refusal until the version is known.
pub(super) struct Checker<'a> {
    sh: &'a Shared<'a>,
    verdict: Verdict,
    version: Option<SbomFormat>,
    spec_seen: bool,
    refs: IdSet,
    parked: Vec<Pending>,
    /// Refusals that hold only below a version (`cryptographic-asset` below 1.6, Streebog below
    /// 1.7), seen before `specVersion`: the lowest-ranked one per version.
    below: Vec<(SbomFormat, Rank, SbomError)>,
}

/// The minor version of a CycloneDX format, to compare versions.
fn minor(v: SbomFormat) -> u8 {
    match v {
        SbomFormat::CycloneDx15 => 5,
        SbomFormat::CycloneDx16 => 6,
        SbomFormat::CycloneDx17 => 7,
        _ => 0,
    }
}

impl<'a> Checker<'a> {
    pub(super) fn new(sh: &'a Shared<'a>) -> Self {
        Checker {
            sh,
            verdict: Verdict::default(),
            version: None,
            spec_seen: false,
            refs: IdSet::default(),
            parked: Vec::new(),
            below: Vec::new(),
        }
    }

    /// `err` holds only when the document's version is below `min`: returned now when the
    /// version is known and lower, dropped when it is `min` or later, kept while `specVersion` is
    /// still to come.
    fn below(&mut self, min: SbomFormat, stage: u8, err: SbomError) -> Result<(), SbomError> {
        match self.version {
            Some(v) if minor(v) >= minor(min) => Ok(()),
            Some(_) => Err(err),
            None => {
                let rank = self.verdict.rank(stage, CONTENT);
                match self.below.iter_mut().find(|(m, _, _)| *m == min) {
                    Some(kept) if rank < kept.1 => *kept = (min, rank, err),
                    Some(_) => {}
                    None => self.below.push((min, rank, err)),
                }
                Ok(())
            }
        }
    }

    /// A top-level value that is not an array.
    pub(super) fn value(&mut self, key: &str, node: &Node) {
        let path = format!("/{key}");
        let r = self.scan_entry(key, node, &path);
        self.verdict.check(ST_SCAN, CONTENT, r);
        let (stage, r) = match key {
            "bomFormat" => (
                ST_FORMAT,
                header_str(node, &path).and_then(|s| {
                    if s == "CycloneDX" {
                        Ok(())
                    } else {
                        Err(SbomError::InvalidValue {
                            path: path.clone(),
                            reason: "must be CycloneDX",
                        })
                    }
                }),
            ),
            "specVersion" => {
                self.spec_seen = true;
                let r = header_str(node, &path).and_then(|s| match s {
                    "1.5" => Ok(SbomFormat::CycloneDx15),
                    "1.6" => Ok(SbomFormat::CycloneDx16),
                    "1.7" => Ok(SbomFormat::CycloneDx17),
                    other => Err(SbomError::UnsupportedCycloneDxVersion {
                        found: bounded(other),
                    }),
                });
                (ST_SPEC, r.map(|v| self.version = Some(v)))
            }
            "serialNumber" => (
                ST_SERIAL,
                header_str(node, &path).and_then(|s| {
                    if valid_serial(s) {
                        Ok(())
                    } else {
                        Err(SbomError::InvalidValue {
                            path: path.clone(),
                            reason: "must be urn:uuid:<RFC 4122 UUID>",
                        })
                    }
                }),
            ),
            "version" => (ST_VERSION, bom_version(node, &path)),
            "metadata" => (ST_METADATA, self.metadata(node, path.clone())),
            _ => match ARRAYS.iter().find(|(k, _)| *k == key) {
                Some((_, stage)) => {
                    let e = SbomError::WrongType {
                        path: path.clone(),
                        expected: "array",
                    };
                    return self.verdict.check(*stage, SHAPE, Err(e));
                }
                None => return,
            },
        };
        self.verdict.check(stage, CONTENT, r);
    }

    /// A top-level array starts under `key`.
    pub(super) fn array_start(&mut self, key: &str) {
        let path = format!("/{key}");
        let wrong = |expected| {
            Err(SbomError::WrongType {
                path: path.clone(),
                expected,
            })
        };
        let (stage, r) = match key {
            "bom-ref" => (ST_SCAN, wrong("string")),
            "bomFormat" => (ST_FORMAT, wrong("string")),
            "specVersion" => {
                self.spec_seen = true;
                (ST_SPEC, wrong("string"))
            }
            "serialNumber" => (ST_SERIAL, wrong("string")),
            "version" => (
                ST_VERSION,
                Err(SbomError::InvalidValue {
                    path: path.clone(),
                    reason: "must be an integer >= 1",
                }),
            ),
            "metadata" => (ST_METADATA, wrong("object")),
            _ => return,
        };
        self.verdict.check(stage, CONTENT, r);
    }

    /// One element of a top-level array.
    pub(super) fn element(&mut self, key: &str, index: usize, node: &Node) {
        let path = format!("/{key}/{index}");
        let r = match key {
            "hashes" => Obj::new(node, path.clone())
                .and_then(|h| check_hash(&h))
                .and_then(|needs_17| self.hash_version(needs_17, &path)),
            "bom-ref" => Ok(()),
            _ => self.scan(node, &path),
        };
        self.verdict.check(ST_SCAN, CONTENT, r);
        let Some((_, stage)) = ARRAYS.iter().find(|(k, _)| *k == key) else {
            return;
        };
        let stage = *stage;
        let o = match Obj::new(node, path) {
            Ok(o) => o,
            Err(e) => return self.verdict.check(stage, SHAPE, Err(e)),
        };
        let r = match stage {
            ST_COMPONENTS => self.component(&o, stage),
            ST_SERVICES => service(&o),
            ST_DEPENDENCIES => self.dependency(&o),
            _ => self.vulnerability(&o),
        };
        self.verdict.check(stage, CONTENT, r);
    }

    /// One entry of an object during the whole-tree scan: every `bom-ref` anywhere in the BOM is an
    /// identifier and must be unique; every `hashes` array is a list of hash objects. Walking every
    /// value catches them in places the typed checks skip (tools, externalReferences, formulation...).
    fn scan_entry(&mut self, key: &str, child: &Node, p: &str) -> Result<(), SbomError> {
        match (key, child) {
            ("bom-ref", Node::Str(r)) => {
                if r.is_empty() || r.len() > self.sh.max_string_bytes {
                    return Err(SbomError::InvalidValue {
                        path: p.to_owned(),
                        reason: "bom-ref must be a non-empty, bounded string",
                    });
                }
                // An annotation's annotator is the component, service or party that wrote it,
                // repeated inline: cdxgen 12 copies its own tool component there, bom-ref and
                // all. Such a copy is not a second definition; it is checked as a string only.
                if is_annotator(p) {
                    return Ok(());
                }
                if !self.refs.insert(self.sh, r)? {
                    return Err(SbomError::DuplicateBomRef {
                        bom_ref: bounded(r),
                    });
                }
                Ok(())
            }
            ("bom-ref", _) => Err(SbomError::WrongType {
                path: p.to_owned(),
                expected: "string",
            }),
            ("hashes", Node::Arr(hs)) => {
                for (i, h) in hs.iter().enumerate() {
                    let at = format!("{p}/{i}");
                    let needs_17 = check_hash(&Obj::new(h, at.clone())?)?;
                    self.hash_version(needs_17, &at)?;
                }
                Ok(())
            }
            _ => self.scan(child, p),
        }
    }

    /// A hash whose algorithm needs 1.7 is refused under an earlier `specVersion`.
    fn hash_version(&mut self, needs_17: bool, path: &str) -> Result<(), SbomError> {
        if !needs_17 {
            return Ok(());
        }
        let err = hash_needs_17(path.to_owned());
        self.below(SbomFormat::CycloneDx17, ST_SCAN, err)
    }

    fn scan(&mut self, v: &Node, path: &str) -> Result<(), SbomError> {
        match v {
            Node::Obj(m) => {
                for (k, child) in m {
                    self.scan_entry(k, child, &format!("{path}/{k}"))?;
                }
            }
            Node::Arr(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.scan(child, &format!("{path}/{i}"))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn metadata(&mut self, node: &Node, path: String) -> Result<(), SbomError> {
        let md = Obj::new(node, path)?;
        if let Some(ts) = md.opt_str("timestamp")? {
            if crate::timefmt::parse_rfc3339(ts).is_none() {
                return Err(SbomError::InvalidValue {
                    path: md.at("timestamp"),
                    reason: "must be an RFC 3339 date-time",
                });
            }
        }
        if let Some(c) = md.opt_obj("component")? {
            self.component(&c, ST_METADATA)?;
        }
        Ok(())
    }

    fn component(&mut self, c: &Obj<'_>, stage: u8) -> Result<(), SbomError> {
        let ty = c.req_str("type")?;
        if !COMPONENT_TYPES_15.contains(&ty) {
            let unknown = SbomError::InvalidValue {
                path: c.at("type"),
                reason: "unknown component type for this specVersion",
            };
            if ty != "cryptographic-asset" {
                return Err(unknown);
            }
            self.below(SbomFormat::CycloneDx16, stage, unknown)?;
        }
        c.req_text("name")?;
        c.opt_str("version")?;
        if let Some(purl) = c.opt_str("purl")? {
            if !purl.starts_with("pkg:") {
                return Err(SbomError::InvalidValue {
                    path: c.at("purl"),
                    reason: "purl must start with pkg:",
                });
            }
        }
        for sub in c.opt_objs("components")? {
            self.component(&sub, stage)?;
        }
        Ok(())
    }

    /// A local reference to a `bom-ref`: resolved now when possible, otherwise parked.
    fn resolve(&mut self, stage: u8, path: String, r: &str) -> Result<(), SbomError> {
        if self.refs.contains(self.sh, r) {
            return Ok(());
        }
        let p = Pending {
            fp: self.sh.fp.of(r),
            tag: 0,
            rank: self.verdict.rank(stage, CONTENT),
            err: SbomError::UnknownReference {
                path,
                id: bounded(r),
            },
        };
        park(self.sh, &mut self.parked, p)
    }

    fn dependency(&mut self, d: &Obj<'_>) -> Result<(), SbomError> {
        self.resolve(ST_DEPENDENCIES, d.at("ref"), d.req_str("ref")?)?;
        for (path, on) in d.opt_strs("dependsOn")? {
            self.resolve(ST_DEPENDENCIES, path, on)?;
        }
        Ok(())
    }

    fn vulnerability(&mut self, v: &Obj<'_>) -> Result<(), SbomError> {
        v.opt_str("id")?;
        for a in v.opt_objs("affects")? {
            let r = a.req_str("ref")?;
            // `ref` may also be a BOM-Link to another BOM (urn:cdx:...); only local refs must resolve.
            if !r.starts_with("urn:cdx:") {
                self.resolve(ST_VULNERABILITIES, a.at("ref"), r)?;
            }
        }
        Ok(())
    }

    /// End of document: `specVersion` present, the refusals that wait for the version, then every
    /// parked reference.
    pub(super) fn finish(mut self) -> Result<SbomFormat, SbomError> {
        let missing_spec = SbomError::MissingField {
            path: "/specVersion".into(),
        };
        if !self.spec_seen {
            self.verdict
                .check(ST_SPEC, CONTENT, Err(missing_spec.clone()));
        }
        for (min, rank, err) in std::mem::take(&mut self.below) {
            if self.version.is_some_and(|v| minor(v) < minor(min)) {
                self.verdict.record(rank, err);
            }
        }
        for p in std::mem::take(&mut self.parked) {
            if !self.refs.contains_fp(p.fp) {
                self.verdict.record(p.rank, p.err);
            }
        }
        self.verdict.finish()?;
        self.version.ok_or(missing_spec)
    }
}

/// Whether a JSON pointer lies inside an annotation's `annotator` (`/annotations/<i>/annotator/…`).
pub(super) fn is_annotator(pointer: &str) -> bool {
    let mut parts = pointer.split('/').skip(1);
    parts.next() == Some("annotations") && parts.nth(1) == Some("annotator")
}

fn header_str<'n>(node: &'n Node, path: &str) -> Result<&'n str, SbomError> {
    node.as_str().ok_or_else(|| SbomError::WrongType {
        path: path.to_owned(),
        expected: "string",
    })
}

fn bom_version(node: &Node, path: &str) -> Result<(), SbomError> {
    if matches!(node.as_u64(), Some(n) if n >= 1) {
        Ok(())
    } else {
        Err(SbomError::InvalidValue {
            path: path.to_owned(),
            reason: "must be an integer >= 1",
        })
    }
}

fn service(s: &Obj<'_>) -> Result<(), SbomError> {
    s.req_text("name")?;
    for sub in s.opt_objs("services")? {
        service(&sub)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_shape() {
        assert!(valid_serial(
            "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
        ));
        assert!(!valid_serial("urn:uuid:3e671687-395b-41f5-a30f"));
        assert!(!valid_serial("3e671687-395b-41f5-a30f-a58921a69b79"));
    }
}
