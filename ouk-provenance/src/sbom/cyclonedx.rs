//! Structural checks of CycloneDX 1.5 / 1.6 JSON (cyclonedx.org/docs/1.5/json, /1.6/json). Covers what a
//! consumer relies on: format and version, serial number, components and services (type, name, nested),
//! hash algorithms and values, bom-ref uniqueness across the whole BOM, and that every dependency ref
//! resolves. Full schema validation is left to `cyclonedx-python-lib` in CI.

use super::walk::{is_lower_hex, Obj};
use super::{SbomError, SbomFormat};
use crate::limits::Limits;
use crate::strict_json::bounded;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

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

/// CycloneDX hash algorithms with their hex length (0 = any of the schema's lengths, for BLAKE3).
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

fn check_hash(h: &Obj<'_>) -> Result<(), SbomError> {
    let alg = h.req_str("alg")?;
    let content = h.req_str("content")?;
    let Some((_, len)) = HASH_ALGS.iter().find(|(a, _)| *a == alg) else {
        return Err(SbomError::InvalidHash {
            path: h.path.clone(),
            reason: "unknown hash algorithm",
        });
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
    Ok(())
}

struct Walker<'l> {
    version: SbomFormat,
    refs: BTreeSet<String>,
    limits: &'l Limits,
}

impl Walker<'_> {
    /// Every `bom-ref` anywhere in the BOM is an identifier and must be unique; every `hashes` array is
    /// a list of hash objects. Walking the whole tree catches them in places the typed checks skip
    /// (tools, externalReferences, formulation, ...).
    fn scan_map(&mut self, m: &Map<String, Value>, path: &str) -> Result<(), SbomError> {
        for (k, child) in m {
            let p = format!("{path}/{k}");
            match (k.as_str(), child) {
                ("bom-ref", Value::String(r)) => {
                    if r.is_empty() || r.len() > self.limits.max_string_bytes {
                        return Err(SbomError::InvalidValue {
                            path: p,
                            reason: "bom-ref must be a non-empty, bounded string",
                        });
                    }
                    if !self.refs.insert(r.clone()) {
                        return Err(SbomError::DuplicateBomRef {
                            bom_ref: bounded(r),
                        });
                    }
                }
                ("bom-ref", _) => {
                    return Err(SbomError::WrongType {
                        path: p,
                        expected: "string",
                    })
                }
                ("hashes", Value::Array(hs)) => {
                    for (i, h) in hs.iter().enumerate() {
                        let hp = format!("{p}/{i}");
                        let map = h.as_object().ok_or(SbomError::WrongType {
                            path: hp.clone(),
                            expected: "object",
                        })?;
                        check_hash(&Obj { path: hp, map })?;
                    }
                }
                _ => self.scan(child, &p)?,
            }
        }
        Ok(())
    }

    fn scan(&mut self, v: &Value, path: &str) -> Result<(), SbomError> {
        match v {
            Value::Object(m) => self.scan_map(m, path)?,
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.scan(child, &format!("{path}/{i}"))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn component(&self, c: &Obj<'_>) -> Result<(), SbomError> {
        let ty = c.req_str("type")?;
        let known = COMPONENT_TYPES_15.contains(&ty)
            || (self.version == SbomFormat::CycloneDx16 && ty == "cryptographic-asset");
        if !known {
            return Err(SbomError::InvalidValue {
                path: c.at("type"),
                reason: "unknown component type for this specVersion",
            });
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
            self.component(&sub)?;
        }
        Ok(())
    }

    fn service(&self, s: &Obj<'_>) -> Result<(), SbomError> {
        s.req_text("name")?;
        for sub in s.opt_objs("services")? {
            self.service(&sub)?;
        }
        Ok(())
    }
}

pub(super) fn check(map: &Map<String, Value>, limits: &Limits) -> Result<SbomFormat, SbomError> {
    let bom = Obj::root(map);
    if bom.req_str("bomFormat")? != "CycloneDX" {
        return Err(SbomError::InvalidValue {
            path: bom.at("bomFormat"),
            reason: "must be CycloneDX",
        });
    }
    let spec = bom.req_str("specVersion")?;
    let version = match spec {
        "1.5" => SbomFormat::CycloneDx15,
        "1.6" => SbomFormat::CycloneDx16,
        other => {
            return Err(SbomError::UnsupportedCycloneDxVersion {
                found: bounded(other),
            })
        }
    };
    if let Some(sn) = bom.opt_str("serialNumber")? {
        if !valid_serial(sn) {
            return Err(SbomError::InvalidValue {
                path: bom.at("serialNumber"),
                reason: "must be urn:uuid:<RFC 4122 UUID>",
            });
        }
    }
    if let Some(v) = bom.map.get("version") {
        if !matches!(v.as_u64(), Some(n) if n >= 1) {
            return Err(SbomError::InvalidValue {
                path: bom.at("version"),
                reason: "must be an integer >= 1",
            });
        }
    }
    let mut w = Walker {
        version,
        refs: BTreeSet::new(),
        limits,
    };
    w.scan_map(map, "")?;

    if let Some(md) = bom.opt_obj("metadata")? {
        if let Some(ts) = md.opt_str("timestamp")? {
            if crate::timefmt::parse_rfc3339(ts).is_none() {
                return Err(SbomError::InvalidValue {
                    path: md.at("timestamp"),
                    reason: "must be an RFC 3339 date-time",
                });
            }
        }
        if let Some(c) = md.opt_obj("component")? {
            w.component(&c)?;
        }
    }
    for c in bom.opt_objs("components")? {
        w.component(&c)?;
    }
    for s in bom.opt_objs("services")? {
        w.service(&s)?;
    }
    for d in bom.opt_objs("dependencies")? {
        let r = d.req_str("ref")?;
        if !w.refs.contains(r) {
            return Err(SbomError::UnknownReference {
                path: d.at("ref"),
                id: bounded(r),
            });
        }
        for (path, on) in d.opt_strs("dependsOn")? {
            if !w.refs.contains(on) {
                return Err(SbomError::UnknownReference {
                    path,
                    id: bounded(on),
                });
            }
        }
    }
    for v in bom.opt_objs("vulnerabilities")? {
        v.opt_str("id")?;
        for a in v.opt_objs("affects")? {
            let r = a.req_str("ref")?;
            // `ref` may also be a BOM-Link to another BOM (urn:cdx:...); only local refs must resolve.
            if !r.starts_with("urn:cdx:") && !w.refs.contains(r) {
                return Err(SbomError::UnknownReference {
                    path: a.at("ref"),
                    id: bounded(r),
                });
            }
        }
    }
    Ok(version)
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
