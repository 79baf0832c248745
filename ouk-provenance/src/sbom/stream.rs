//! The streaming pass over one SBOM: the root object key by key, each top-level array element by
//! element, each element (or non-array top-level value) materialised as a small bounded tree, handed
//! to the SPDX and the CycloneDX checker, and dropped.
//!
//! Why both checkers: the format is told by `spdxVersion` or `bomFormat`, which JSON allows anywhere
//! among the top-level keys (serde_json itself writes them in sorted order, so `spdxVersion` often
//! comes last). Rather than buffer the document until the discriminating key arrives, both checkers
//! run until one of the two keys is seen; from then on only the matching one (the other one could
//! only matter for an "unknown format" refusal). Both share one identifier and one forward-reference
//! budget, so this costs no extra memory an attacker can claim.

use super::guard::{Guard, Trip};
use super::verdict::Shared;
use super::{cyclonedx, spdx, SbomError, SbomFormat};
use crate::json_walk::{Caps, KeySeed, KeySet, Node, NodeSeed, Walk, WalkError};
use crate::limits::Limits;
use crate::text::bounded;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;
use std::io::Read;

struct State<'a> {
    spdx: Option<spdx::Checker<'a>>,
    cdx: Option<cyclonedx::Checker<'a>>,
    spdx_key: bool,
    cdx_key: bool,
    not_object: bool,
}

/// Top-level keys the SPDX checker looks at (all others it ignores).
const SPDX_KEYS: &[&str] = &[
    "spdxVersion",
    "SPDXID",
    "dataLicense",
    "name",
    "documentNamespace",
    "creationInfo",
    "externalDocumentRefs",
    "packages",
    "files",
    "snippets",
    "hasExtractedLicensingInfos",
    "documentDescribes",
    "relationships",
];

impl State<'_> {
    fn root_key(&mut self, key: &str) {
        match key {
            "spdxVersion" => {
                self.spdx_key = true;
                self.cdx = None;
            }
            "bomFormat" => {
                self.cdx_key = true;
                self.spdx = None;
            }
            _ => {}
        }
    }

    /// Whether any live checker needs the value under `key` (otherwise it is only counted).
    fn wants(&self, key: &str) -> bool {
        self.cdx.is_some() || (self.spdx.is_some() && SPDX_KEYS.contains(&key))
    }

    fn value(&mut self, key: &str, node: &Node) {
        if let Some(c) = &mut self.spdx {
            c.value(key, node);
        }
        if let Some(c) = &mut self.cdx {
            c.value(key, node);
        }
    }

    fn array_start(&mut self, key: &str) {
        if let Some(c) = &mut self.spdx {
            c.array_start(key);
        }
        if let Some(c) = &mut self.cdx {
            c.array_start(key);
        }
    }

    fn element(&mut self, key: &str, index: usize, node: &Node) {
        if let Some(c) = &mut self.spdx {
            c.element(key, index, node);
        }
        if let Some(c) = &mut self.cdx {
            c.element(key, index, node);
        }
    }

    fn finish(self) -> Result<SbomFormat, SbomError> {
        if self.not_object {
            return Err(SbomError::WrongType {
                path: String::new(),
                expected: "object",
            });
        }
        match (self.spdx_key, self.cdx_key, self.spdx, self.cdx) {
            (true, false, Some(c), _) => c.finish(),
            (false, true, _, Some(c)) => c.finish(),
            _ => Err(SbomError::UnknownFormat),
        }
    }
}

/// The root value: an object walked key by key; anything else is only counted (and refused at the end).
struct Root<'a, 's> {
    walk: &'a Walk,
    st: &'s mut State<'a>,
    max_elements: usize,
}

impl<'de> DeserializeSeed<'de> for Root<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Root<'_, '_> {
    fn other<E: de::Error>(self) -> Result<(), E> {
        self.st.not_object = true;
        self.walk.take_value(false)
    }
}

impl<'de> Visitor<'de> for Root<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an SBOM document")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.other()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.other()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.other()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.other()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.other()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.other()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.st.not_object = true;
        self.walk.take_value(false)?;
        self.walk.check_depth(0)?;
        let child = NodeSeed {
            walk: self.walk,
            depth: 1,
            keep: false,
        };
        while seq.next_element_seed(child)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.walk.take_value(false)?;
        self.walk.check_depth(0)?;
        let mut seen = KeySet::default();
        loop {
            self.walk.start_element();
            let Some(key) = map.next_key_seed(KeySeed {
                walk: self.walk,
                seen: &mut seen,
                keep: true,
            })?
            else {
                return Ok(());
            };
            self.st.root_key(&key);
            let keep = self.st.wants(&key);
            map.next_value_seed(Top {
                walk: self.walk,
                st: &mut *self.st,
                key: &key,
                keep,
                max_elements: self.max_elements,
            })?;
        }
    }
}

/// One top-level value: an array is streamed element by element, anything else materialised whole.
struct Top<'a, 's, 'k> {
    walk: &'a Walk,
    st: &'s mut State<'a>,
    key: &'k str,
    keep: bool,
    max_elements: usize,
}

impl Top<'_, '_, '_> {
    fn node(&self) -> NodeSeed<'_> {
        NodeSeed {
            walk: self.walk,
            depth: 1,
            keep: self.keep,
        }
    }
    fn done<E: de::Error>(self, node: Result<Node, E>) -> Result<(), E> {
        let node = node?;
        if self.keep {
            self.st.value(self.key, &node);
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        let n = self.node().visit_bool(v);
        self.done(n)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        let n = self.node().visit_i64(v);
        self.done(n)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        let n = self.node().visit_u64(v);
        self.done(n)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        let n = self.node().visit_f64(v);
        self.done(n)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let n = self.node().visit_str(v);
        self.done(n)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        let n = self.node().visit_unit();
        self.done(n)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let n = self.node().visit_map(map);
        self.done(n)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.walk.take_value(false)?;
        self.walk.check_depth(1)?;
        if self.keep {
            self.st.array_start(self.key);
        }
        let child = NodeSeed {
            walk: self.walk,
            depth: 2,
            keep: self.keep,
        };
        let mut index = 0usize;
        loop {
            self.walk.start_element();
            let Some(node) = seq.next_element_seed(child)? else {
                return Ok(());
            };
            if index >= self.max_elements {
                return Err(self.walk.fail(WalkError::ArrayTooLong(self.max_elements)));
            }
            if self.keep {
                self.st.element(self.key, index, &node);
            }
            index += 1;
        }
    }
}

/// See [`super::validate_sbom_reader`].
pub(super) fn validate<R: Read>(reader: R, limits: &Limits) -> Result<SbomFormat, SbomError> {
    let trip = Cell::new(None);
    let guard = Guard::new(
        reader,
        limits.max_sbom_bytes,
        limits.max_sbom_element_bytes,
        &trip,
    );
    let walk = Walk::new(Caps {
        max_depth: limits.max_json_depth,
        max_values: limits.max_json_values,
        max_object_keys: limits.max_json_object_keys,
        max_array_len: limits.max_sbom_element_values,
        element_values: limits.max_sbom_element_values,
        element_bytes: limits.max_sbom_element_bytes,
        // The guard already cuts longer tokens; this keeps the cap explicit at the parser too.
        max_string: limits.max_sbom_element_bytes,
    });
    let shared = Shared {
        fp: walk.fingerprinter(),
        ids_left: Cell::new(limits.max_sbom_ids),
        ids_limit: limits.max_sbom_ids,
        forward_left: Cell::new(limits.max_sbom_forward_ref_bytes),
        forward_limit: limits.max_sbom_forward_ref_bytes,
        max_string_bytes: limits.max_string_bytes,
    };
    let mut state = State {
        spdx: Some(spdx::Checker::new(&shared)),
        cdx: Some(cyclonedx::Checker::new(&shared)),
        spdx_key: false,
        cdx_key: false,
        not_object: false,
    };
    let mut de = serde_json::Deserializer::from_reader(guard);
    let parsed = Root {
        walk: &walk,
        st: &mut state,
        max_elements: limits.max_sbom_elements,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Err(e) = parsed {
        return Err(match (trip.get(), walk.take_abort()) {
            (Some(Trip::TooLarge { read }), _) => SbomError::TooLarge {
                size: read,
                limit: limits.max_sbom_bytes,
            },
            (Some(Trip::TokenTooLong), _) => SbomError::JsonLimit {
                what: "token bytes",
                limit: limits.max_sbom_element_bytes,
            },
            (None, Some(WalkError::DuplicateKey(key))) => SbomError::DuplicateKey { key },
            (None, Some(w)) => match w.limit() {
                Some((what, limit)) => SbomError::JsonLimit { what, limit },
                None => SbomError::Json(bounded(&e.to_string())),
            },
            (None, None) if e.is_io() => SbomError::Read(bounded(&e.to_string())),
            (None, None) => SbomError::Json(bounded(&e.to_string())),
        });
    }
    state.finish()
}
