//! Member paths: validated once, at construction, so no unsafe path can exist as a value.
//!
//! The rules are deliberately narrower than what filesystems allow. A path is relative, made of
//! 1–16 components of 1–64 bytes, each from `[A-Za-z0-9._+-]` and not starting with `.`. That
//! excludes in one stroke: absolute paths, `..` and `.`, backslashes and drive letters (Windows
//! tools), Unicode look-alikes and normalisation tricks, control characters, and names that only
//! differ by a trailing dot. The total stays below ustar's 255-byte name capacity so no PAX or GNU
//! extension header is ever needed. Components that Windows cannot create as ordinary files are
//! refused too: names ending in a dot (Windows strips it, so `a.` and `a` collide) and the reserved
//! device names (`CON`, `nul.txt`, `com1.json`...), which open a device instead of a file.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Name};

/// Longest member path in bytes.
pub const MAX_PATH_BYTES: usize = 180;
/// Longest path component in bytes.
pub const MAX_COMPONENT_BYTES: usize = 64;
/// Most components in a path.
pub const MAX_COMPONENTS: usize = 16;

/// A relative, normalised, portable member path. Deliberately no `Deref<Target = str>`: code that
/// wants a string must ask for [`MemberPath::as_str`], visibly.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberPath(String);

impl MemberPath {
    /// Validate a path.
    pub fn new(raw: &str) -> Result<MemberPath, Error> {
        let fail = |reason| Error::UnsafePath {
            path: Name::new(raw),
            reason,
        };
        if raw.is_empty() {
            return Err(fail("empty path"));
        }
        if raw.len() > MAX_PATH_BYTES {
            return Err(fail("path longer than 180 bytes"));
        }
        if raw.starts_with('/') {
            return Err(fail("absolute path"));
        }
        let mut count = 0;
        for component in raw.split('/') {
            count += 1;
            if component.is_empty() {
                return Err(fail("empty path component"));
            }
            if component == ".." {
                return Err(fail("parent directory component"));
            }
            if component.starts_with('.') {
                return Err(fail("component starts with a dot"));
            }
            if component.len() > MAX_COMPONENT_BYTES {
                return Err(fail("component longer than 64 bytes"));
            }
            if let Some(c) = component
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')))
            {
                return Err(fail(if c == '\\' {
                    "backslash in path"
                } else if c.is_ascii() {
                    "character outside [A-Za-z0-9._+-]"
                } else {
                    "non-ASCII character"
                }));
            }
            if component.ends_with('.') {
                return Err(fail("component ends with a dot"));
            }
            if is_windows_device(component) {
                return Err(fail("Windows device name"));
            }
        }
        if count > MAX_COMPONENTS {
            return Err(fail("more than 16 components"));
        }
        Ok(MemberPath(raw.to_owned()))
    }

    /// The path as a string (always ASCII, always safe to join below a directory).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Components, for joining onto a local directory one at a time.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// Key under which two paths collide on case-insensitive filesystems (FAT32 sticks, macOS).
    pub fn collision_key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// Names Windows reserves for devices in every directory, whatever the case and whatever follows
/// the first dot (`nul.txt` and `com1.tar.gz` are the device too).
const WINDOWS_DEVICES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn is_windows_device(component: &str) -> bool {
    let stem = component.split('.').next().unwrap_or(component);
    WINDOWS_DEVICES.iter().any(|d| d.eq_ignore_ascii_case(stem))
}

impl fmt::Display for MemberPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MemberPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Serialize for MemberPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MemberPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        MemberPath::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_normal_paths() {
        for ok in [
            "advisories.ndjson",
            "trivy/db.tar.gz",
            "sbom/kit.spdx.json",
            "a+b_c-d/e.1",
            "console.txt",
            "com10.json",
            "lpt.txt",
            "nulls/a",
            "a.b.c",
        ] {
            assert!(MemberPath::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_every_unsafe_shape() {
        let long_component = "a".repeat(65);
        let long_path = vec!["abcdefghij"; 17].join("/");
        let cases: Vec<(&str, &str)> = vec![
            ("", "empty path"),
            ("/etc/passwd", "absolute path"),
            ("../x", "parent directory component"),
            ("a/../x", "parent directory component"),
            ("./x", "component starts with a dot"),
            ("a//b", "empty path component"),
            ("a/", "empty path component"),
            (".hidden", "component starts with a dot"),
            ("a\\b", "backslash in path"),
            ("C:x", "character outside [A-Za-z0-9._+-]"),
            ("a b", "character outside [A-Za-z0-9._+-]"),
            ("a\u{0}b", "character outside [A-Za-z0-9._+-]"),
            ("\u{2024}\u{2024}/x", "non-ASCII character"),
            ("pаth", "non-ASCII character"),
            (&long_component, "component longer than 64 bytes"),
            (&long_path, "path longer than 180 bytes"),
            ("name.", "component ends with a dot"),
            ("a/b../c", "component ends with a dot"),
            ("CON", "Windows device name"),
            ("con", "Windows device name"),
            ("nul.txt", "Windows device name"),
            ("dir/com1.json", "Windows device name"),
            ("Lpt9.tar.gz/x", "Windows device name"),
            ("aux", "Windows device name"),
            ("PRN.", "component ends with a dot"),
            ("name ", "character outside [A-Za-z0-9._+-]"),
        ];
        for (raw, reason) in cases {
            match MemberPath::new(raw) {
                Err(Error::UnsafePath { reason: r, .. }) => assert_eq!(r, reason, "{raw:?}"),
                other => panic!("{raw:?} gave {other:?}"),
            }
        }
        let deep = vec!["a"; 17].join("/");
        assert!(matches!(
            MemberPath::new(&deep),
            Err(Error::UnsafePath {
                reason: "more than 16 components",
                ..
            })
        ));
    }
}
