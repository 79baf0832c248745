//! Typed access to one materialised (bounded) JSON object that reports failures as [`SbomError`]s
//! with a JSON pointer.

use super::SbomError;
use crate::json_walk::{self, Node};

/// A JSON object plus the pointer it was found at.
pub(super) struct Obj<'a> {
    pub path: String,
    pub map: &'a [(Box<str>, Node)],
}

impl<'a> Obj<'a> {
    /// The object `node` found at `path`, or the type error to report.
    pub fn new(node: &'a Node, path: String) -> Result<Self, SbomError> {
        match node.as_obj() {
            Some(map) => Ok(Obj { path, map }),
            None => Err(SbomError::WrongType {
                path,
                expected: "object",
            }),
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Node> {
        json_walk::get(self.map, key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn at(&self, key: &str) -> String {
        format!("{}/{}", self.path, key)
    }

    pub fn req(&self, key: &str) -> Result<&'a Node, SbomError> {
        self.get(key)
            .ok_or_else(|| SbomError::MissingField { path: self.at(key) })
    }

    pub fn req_str(&self, key: &str) -> Result<&'a str, SbomError> {
        self.req(key)?.as_str().ok_or_else(|| SbomError::WrongType {
            path: self.at(key),
            expected: "string",
        })
    }

    /// A required string that must not be empty.
    pub fn req_text(&self, key: &str) -> Result<&'a str, SbomError> {
        let s = self.req_str(key)?;
        if s.trim().is_empty() {
            return Err(SbomError::InvalidValue {
                path: self.at(key),
                reason: "must not be empty",
            });
        }
        Ok(s)
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, SbomError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or_else(|| SbomError::WrongType {
                path: self.at(key),
                expected: "string",
            }),
        }
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, SbomError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| SbomError::WrongType {
                path: self.at(key),
                expected: "boolean",
            }),
        }
    }

    pub fn req_obj(&self, key: &str) -> Result<Obj<'a>, SbomError> {
        let path = self.at(key);
        let map = self
            .req(key)?
            .as_obj()
            .ok_or_else(|| SbomError::WrongType {
                path: path.clone(),
                expected: "object",
            })?;
        Ok(Obj { path, map })
    }

    pub fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, SbomError> {
        if self.contains_key(key) {
            self.req_obj(key).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The elements of an array field (empty when absent).
    pub fn opt_arr(&self, key: &str) -> Result<&'a [Node], SbomError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(v) => v.as_arr().ok_or_else(|| SbomError::WrongType {
                path: self.at(key),
                expected: "array",
            }),
        }
    }

    /// The elements of an array field as objects, each with its pointer.
    pub fn opt_objs(&self, key: &str) -> Result<Vec<Obj<'a>>, SbomError> {
        let base = self.at(key);
        self.opt_arr(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let path = format!("{base}/{i}");
                v.as_obj()
                    .map(|map| Obj {
                        path: path.clone(),
                        map,
                    })
                    .ok_or(SbomError::WrongType {
                        path,
                        expected: "object",
                    })
            })
            .collect()
    }

    /// The elements of an array field as strings.
    pub fn opt_strs(&self, key: &str) -> Result<Vec<(String, &'a str)>, SbomError> {
        let base = self.at(key);
        self.opt_arr(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let path = format!("{base}/{i}");
                v.as_str()
                    .map(|s| (path.clone(), s))
                    .ok_or(SbomError::WrongType {
                        path,
                        expected: "string",
                    })
            })
            .collect()
    }
}

/// True if `s` is exactly `len` lowercase hex digits (or any non-zero length when `len` is 0).
pub(super) fn is_lower_hex(s: &str, len: usize) -> bool {
    (if len == 0 {
        !s.is_empty()
    } else {
        s.len() == len
    }) && s
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
