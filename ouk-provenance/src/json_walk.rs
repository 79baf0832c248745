//! Capped JSON walking over serde_json's streaming parser: every value counted, nesting bounded,
//! duplicate keys refused at every level, and (optionally) a compact tree built for ONE element at a
//! time under its own value and byte budget.
//!
//! Why hand-written: serde_json's `Value` keeps the last of two duplicate keys without a word, has no
//! caps, and a `Value` of a whole attacker-sized document is exactly the memory blow-up this crate must
//! avoid (3.9 M values ≈ 300 MiB). No maintained crate offers "duplicate-rejecting, capped, per-element"
//! parsing; this is a `DeserializeSeed` over serde_json's own parser, so serde_json still does the
//! actual (streaming) parsing. Duplicate detection keeps only 128-bit keyed fingerprints of the keys of
//! the objects currently open, never a whole document's keys.

use crate::text::bounded;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::fmt;
use std::hash::BuildHasher;

/// Marker message of the serde error raised when a cap or a duplicate stops the walk; the precise
/// reason is kept in [`Walk::take_abort`], never parsed back out of a message.
const ABORT: &str = "ouk: walk stopped";

/// Keyed 128-bit fingerprints of strings. Why keyed: the keys are random per process, so an attacker
/// cannot craft two different identifiers that collide and make a valid document look duplicated (or
/// hide a real duplicate); 128 bits make an accidental collision negligible.
pub(crate) struct Fingerprinter {
    a: RandomState,
    b: RandomState,
}

impl Fingerprinter {
    pub(crate) fn new() -> Self {
        Fingerprinter {
            a: RandomState::new(),
            b: RandomState::new(),
        }
    }

    pub(crate) fn of(&self, s: &str) -> u128 {
        (u128::from(self.a.hash_one(s)) << 64) | u128::from(self.b.hash_one(s))
    }
}

/// Keys held inline before an object's fingerprints move to a hash set.
const INLINE_KEYS: usize = 8;

/// Fingerprints of the keys of one open object. Why not just a `HashSet`: most JSON objects have a
/// handful of keys, and a heap allocation per object would dominate the walk; past
/// [`INLINE_KEYS`] keys the set spills to a hash set (linear scans stay short).
#[derive(Default)]
pub(crate) struct KeySet {
    inline: [u128; INLINE_KEYS],
    len: usize,
    spill: HashSet<u128>,
}

impl KeySet {
    pub(crate) fn len(&self) -> usize {
        if self.spill.is_empty() {
            self.len
        } else {
            self.spill.len()
        }
    }

    /// Adds `fp`; false if it was already there.
    pub(crate) fn insert(&mut self, fp: u128) -> bool {
        if self.spill.is_empty() {
            if self.inline.get(..self.len).unwrap_or(&[]).contains(&fp) {
                return false;
            }
            if let Some(slot) = self.inline.get_mut(self.len) {
                *slot = fp;
                self.len += 1;
                return true;
            }
            let held = self.inline.get(..self.len).unwrap_or(&[]);
            self.spill.extend(held.iter().copied());
        }
        self.spill.insert(fp)
    }
}

/// Why a walk stopped before any semantic check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WalkError {
    /// An object repeats a key (bounded copy of the key).
    DuplicateKey(String),
    /// Nesting deeper than the limit.
    TooDeep(usize),
    /// More values in the document than the limit.
    TooManyValues(usize),
    /// An object with more keys than the limit.
    TooManyKeys(usize),
    /// An array with more elements than the limit.
    ArrayTooLong(usize),
    /// One materialised element has more values than the limit.
    ElementValues(usize),
    /// One materialised element has more string/key bytes than the limit.
    ElementBytes(usize),
    /// One string or key is longer than the limit.
    StringTooLong(usize),
}

impl WalkError {
    /// `(what, limit)` for the `JsonLimit`-style variants of the callers' error types.
    pub(crate) fn limit(&self) -> Option<(&'static str, usize)> {
        match self {
            WalkError::DuplicateKey(_) => None,
            WalkError::TooDeep(l) => Some(("depth", *l)),
            WalkError::TooManyValues(l) => Some(("values", *l)),
            WalkError::TooManyKeys(l) => Some(("object keys", *l)),
            WalkError::ArrayTooLong(l) => Some(("array elements", *l)),
            WalkError::ElementValues(l) => Some(("element values", *l)),
            WalkError::ElementBytes(l) => Some(("element bytes", *l)),
            WalkError::StringTooLong(l) => Some(("string bytes", *l)),
        }
    }
}

/// The caps of one walk. Finite by construction: there is no "unlimited".
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub max_depth: usize,
    pub max_values: usize,
    pub max_object_keys: usize,
    pub max_array_len: usize,
    pub element_values: usize,
    pub element_bytes: usize,
    /// Longest string or key, materialised or not.
    pub max_string: usize,
}

/// State shared by all visitors of one document.
pub(crate) struct Walk {
    caps: Caps,
    values_left: Cell<usize>,
    elem_values_left: Cell<usize>,
    elem_bytes_left: Cell<usize>,
    abort: RefCell<Option<WalkError>>,
    fp: Fingerprinter,
}

impl Walk {
    pub(crate) fn new(caps: Caps) -> Self {
        Walk {
            caps,
            values_left: Cell::new(caps.max_values),
            elem_values_left: Cell::new(caps.element_values),
            elem_bytes_left: Cell::new(caps.element_bytes),
            abort: RefCell::new(None),
            fp: Fingerprinter::new(),
        }
    }

    /// The fingerprinter of this walk (also used by callers for their identifier sets).
    pub(crate) fn fingerprinter(&self) -> &Fingerprinter {
        &self.fp
    }

    /// Why the walk stopped, if a cap or a duplicate stopped it.
    pub(crate) fn take_abort(&self) -> Option<WalkError> {
        self.abort.borrow_mut().take()
    }

    /// Starts the budget of a new materialised element.
    pub(crate) fn start_element(&self) {
        self.elem_values_left.set(self.caps.element_values);
        self.elem_bytes_left.set(self.caps.element_bytes);
    }

    pub(crate) fn fail<E: de::Error>(&self, e: WalkError) -> E {
        let mut slot = self.abort.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
        E::custom(ABORT)
    }

    /// Counts one value against the document budget (and the element budget when materialising).
    pub(crate) fn take_value<E: de::Error>(&self, keep: bool) -> Result<(), E> {
        let left = self.values_left.get();
        if left == 0 {
            return Err(self.fail(WalkError::TooManyValues(self.caps.max_values)));
        }
        self.values_left.set(left - 1);
        if keep {
            let left = self.elem_values_left.get();
            if left == 0 {
                return Err(self.fail(WalkError::ElementValues(self.caps.element_values)));
            }
            self.elem_values_left.set(left - 1);
        }
        Ok(())
    }

    fn take_bytes<E: de::Error>(&self, n: usize) -> Result<(), E> {
        let left = self.elem_bytes_left.get();
        if n > left {
            return Err(self.fail(WalkError::ElementBytes(self.caps.element_bytes)));
        }
        self.elem_bytes_left.set(left - n);
        Ok(())
    }

    /// Refuses a container nested at `depth` (root = 0) when it reaches the depth limit.
    pub(crate) fn check_depth<E: de::Error>(&self, depth: usize) -> Result<(), E> {
        if depth >= self.caps.max_depth {
            return Err(self.fail(WalkError::TooDeep(self.caps.max_depth)));
        }
        Ok(())
    }

    /// Counts one more key of an object; refuses a repeated key or too many keys.
    pub(crate) fn check_key<E: de::Error>(&self, seen: &mut KeySet, key: &str) -> Result<(), E> {
        if seen.len() >= self.caps.max_object_keys {
            return Err(self.fail(WalkError::TooManyKeys(self.caps.max_object_keys)));
        }
        if !seen.insert(self.fp.of(key)) {
            return Err(self.fail(WalkError::DuplicateKey(bounded(key))));
        }
        Ok(())
    }

    /// Refuses a string or key longer than the cap.
    pub(crate) fn check_string<E: de::Error>(&self, s: &str) -> Result<(), E> {
        if s.len() > self.caps.max_string {
            return Err(self.fail(WalkError::StringTooLong(self.caps.max_string)));
        }
        Ok(())
    }

    /// Counts one more array element.
    pub(crate) fn check_len<E: de::Error>(&self, len: usize) -> Result<(), E> {
        if len > self.caps.max_array_len {
            return Err(self.fail(WalkError::ArrayTooLong(self.caps.max_array_len)));
        }
        Ok(())
    }
}

/// A compact JSON tree of one bounded element. Why not `serde_json::Value`: its objects are B-trees
/// whose smallest node is ~600 bytes, so a tree of tiny objects costs ~80× its JSON size; vectors of
/// pairs cost little more than the text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    /// A number; `Some` only for a non-negative integer (all the checks need).
    Num(Option<u64>),
    Str(Box<str>),
    Arr(Vec<Node>),
    Obj(Vec<(Box<str>, Node)>),
}

impl Node {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }
    pub(crate) fn as_obj(&self) -> Option<&[(Box<str>, Node)]> {
        match self {
            Node::Obj(m) => Some(m),
            _ => None,
        }
    }
    pub(crate) fn as_arr(&self) -> Option<&[Node]> {
        match self {
            Node::Arr(a) => Some(a),
            _ => None,
        }
    }
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Node::Num(n) => *n,
            _ => None,
        }
    }
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// Looks a key up in an object's pairs (objects are small: their key count is capped).
pub(crate) fn get<'a>(map: &'a [(Box<str>, Node)], key: &str) -> Option<&'a Node> {
    map.iter().find(|(k, _)| &**k == key).map(|(_, v)| v)
}

/// Parses one value: materialised as a [`Node`] when `keep`, otherwise only counted and checked
/// (the result is then `Node::Null`).
#[derive(Clone, Copy)]
pub(crate) struct NodeSeed<'w> {
    pub walk: &'w Walk,
    pub depth: usize,
    pub keep: bool,
}

impl NodeSeed<'_> {
    fn child(&self) -> Self {
        NodeSeed {
            walk: self.walk,
            depth: self.depth + 1,
            keep: self.keep,
        }
    }

    fn string<E: de::Error>(self, v: &str) -> Result<Node, E> {
        self.walk.take_value(self.keep)?;
        self.walk.check_string(v)?;
        if !self.keep {
            return Ok(Node::Null);
        }
        self.walk.take_bytes(v.len())?;
        Ok(Node::Str(v.into()))
    }

    fn scalar<E: de::Error>(self, n: Node) -> Result<Node, E> {
        self.walk.take_value(self.keep)?;
        Ok(if self.keep { n } else { Node::Null })
    }
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        self.scalar(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        self.scalar(Node::Num(u64::try_from(v).ok()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        self.scalar(Node::Num(Some(v)))
    }
    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<Node, E> {
        self.scalar(Node::Num(None))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        self.string(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        self.scalar(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        self.scalar(Node::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        self.walk.take_value(self.keep)?;
        self.walk.check_depth(self.depth)?;
        let mut out = Vec::new();
        let mut len = 0usize;
        while let Some(v) = seq.next_element_seed(self.child())? {
            len += 1;
            self.walk.check_len(len)?;
            if self.keep {
                out.push(v);
            }
        }
        out.shrink_to_fit();
        Ok(if self.keep {
            Node::Arr(out)
        } else {
            Node::Null
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        self.walk.take_value(self.keep)?;
        self.walk.check_depth(self.depth)?;
        let mut seen = KeySet::default();
        let mut out = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed {
            walk: self.walk,
            seen: &mut seen,
            keep: self.keep,
        })? {
            let v = map.next_value_seed(self.child())?;
            if self.keep {
                out.push((key, v));
            }
        }
        out.shrink_to_fit();
        Ok(if self.keep {
            Node::Obj(out)
        } else {
            Node::Null
        })
    }
}

/// Reads one object key: refuses a duplicate of the keys already seen in this object, and returns the
/// key text only when materialising (charged to the element's byte budget).
pub(crate) struct KeySeed<'w, 's> {
    pub walk: &'w Walk,
    pub seen: &'s mut KeySet,
    pub keep: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Box<str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Box<str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = Box<str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Box<str>, E> {
        self.walk.check_string(v)?;
        self.walk.check_key(self.seen, v)?;
        if !self.keep {
            return Ok(Box::from(""));
        }
        self.walk.take_bytes(v.len())?;
        Ok(v.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> Caps {
        Caps {
            max_depth: 8,
            max_values: 100,
            max_object_keys: 4,
            max_array_len: 5,
            element_values: 50,
            element_bytes: 64,
            max_string: 10,
        }
    }

    fn run(json: &str, caps: Caps, keep: bool) -> Result<Node, WalkError> {
        let walk = Walk::new(caps);
        let mut de = serde_json::Deserializer::from_str(json);
        let r = NodeSeed {
            walk: &walk,
            depth: 0,
            keep,
        }
        .deserialize(&mut de)
        .and_then(|n| de.end().map(|()| n));
        r.map_err(|e| walk.take_abort().unwrap_or_else(|| panic!("syntax: {e}")))
    }

    #[test]
    fn builds_compact_tree() {
        let n = run(r#"{"a":[1,-2,1.5,"x",true]}"#, caps(), true).unwrap();
        let arr = get(n.as_obj().unwrap(), "a").unwrap().as_arr().unwrap();
        assert_eq!(arr[0].as_u64(), Some(1));
        assert_eq!(arr[1].as_u64(), None);
        assert_eq!(arr[3].as_str(), Some("x"));
        assert_eq!(arr[4].as_bool(), Some(true));
        assert_eq!(run("[1]", caps(), false), Ok(Node::Null));
    }

    #[test]
    fn every_cap_has_its_error() {
        assert_eq!(
            run(r#"[{"k":1,"k":2}]"#, caps(), false),
            Err(WalkError::DuplicateKey("k".into()))
        );
        assert_eq!(
            run(r#"{"a":1,"b":2,"c":3,"d":4,"e":5}"#, caps(), false),
            Err(WalkError::TooManyKeys(4))
        );
        assert_eq!(
            run("[1,2,3,4,5,6]", caps(), false),
            Err(WalkError::ArrayTooLong(5))
        );
        let deep = Caps {
            max_depth: 3,
            ..caps()
        };
        assert_eq!(run("[[[1]]]", deep, false).map(|_| ()), Ok(()));
        assert_eq!(run("[[[[1]]]]", deep, false), Err(WalkError::TooDeep(3)));
        let few = Caps {
            max_values: 4,
            ..caps()
        };
        assert_eq!(
            run("[1,2,3,4]", few, false),
            Err(WalkError::TooManyValues(4))
        );
        let small = Caps {
            element_values: 3,
            ..caps()
        };
        assert_eq!(
            run("[1,2,3]", small, true),
            Err(WalkError::ElementValues(3))
        );
        assert!(run("[1,2,3]", small, false).is_ok());
        let wide = Caps {
            max_string: 100,
            ..caps()
        };
        assert_eq!(
            run(&format!("[\"{}\"]", "x".repeat(65)), wide, true),
            Err(WalkError::ElementBytes(64))
        );
        assert_eq!(
            run(r#"["01234567890"]"#, caps(), false),
            Err(WalkError::StringTooLong(10))
        );
        assert_eq!(
            run(r#"{"01234567890":1}"#, caps(), false),
            Err(WalkError::StringTooLong(10))
        );
    }

    #[test]
    fn key_set_spills_past_inline_capacity() {
        let mut k = KeySet::default();
        for i in 0..20u128 {
            assert!(k.insert(i), "{i}");
            assert_eq!(k.len(), usize::try_from(i + 1).unwrap());
        }
        for i in 0..20u128 {
            assert!(!k.insert(i), "{i}");
        }
        let mut small = KeySet::default();
        assert!(small.insert(7));
        assert!(!small.insert(7));
        assert_eq!(small.len(), 1);
    }

    #[test]
    fn fingerprints_are_stable_within_a_walk() {
        let f = Fingerprinter::new();
        assert_eq!(f.of("SPDXRef-A"), f.of("SPDXRef-A"));
        assert_ne!(f.of("SPDXRef-A"), f.of("SPDXRef-B"));
    }
}
