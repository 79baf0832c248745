//! What can be wrong with a Bolt file, as small `Copy` values that carry page ids and indexes but
//! never attacker bytes (bucket names travel separately, bounded, in [`BucketName`]).

use std::fmt;

/// Why a meta page is not usable (Go bbolt's `Meta.Validate`, plus the page flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetaProblem {
    /// The file ends before the meta page does.
    Short,
    /// The page header does not carry the meta flag.
    NotMetaPage,
    /// Not Go bbolt's magic number.
    BadMagic,
    /// Not Bolt file format version 2.
    BadVersion,
    /// The FNV-1a checksum of the meta struct does not match.
    BadChecksum,
}

impl fmt::Display for MetaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MetaProblem::Short => "file too short",
            MetaProblem::NotMetaPage => "meta flag missing",
            MetaProblem::BadMagic => "bad magic (not a Go-compatible Bolt file)",
            MetaProblem::BadVersion => "unsupported version",
            MetaProblem::BadChecksum => "checksum mismatch",
        })
    }
}

/// Where a page-level problem sits: a page of the file, or the inline page stored in a bucket
/// value (element `index` of leaf page `page`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRef {
    /// A page of the file.
    Page(u64),
    /// An inline bucket's page.
    Inline {
        /// The leaf page holding the bucket value.
        page: u64,
        /// The element of that page.
        index: u16,
    },
}

impl fmt::Display for PageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageRef::Page(id) => write!(f, "page {id}"),
            PageRef::Inline { page, index } => {
                write!(f, "inline bucket of page {page} element {index}")
            }
        }
    }
}

/// Which part of an element points outside its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementPart {
    /// The key (`pos` + `ksize`).
    Key,
    /// The value (`vsize` after the key).
    Value,
}

/// The kind of page a reference expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// A B+tree page (branch or leaf).
    Tree,
    /// A leaf page (inline buckets are always leaves).
    Leaf,
    /// The freelist page.
    Freelist,
}

/// One structural defect of a Bolt file, found by [`crate::validate_bolt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoltProblem {
    /// The file is larger than [`crate::DbLimits::max_db_bytes`].
    #[error("file of {len} bytes is larger than the limit")]
    FileTooLarge {
        /// The file size.
        len: u64,
    },
    /// Neither meta page is valid.
    #[error("no valid meta page (meta 0: {meta0}; meta 1: {meta1})")]
    NoValidMeta {
        /// What is wrong with meta page 0.
        meta0: MetaProblem,
        /// What is wrong with meta page 1.
        meta1: MetaProblem,
    },
    /// A checksum-valid meta page declares a page size Go bbolt cannot use.
    #[error("meta page {meta} declares page size {size}")]
    BadPageSize {
        /// 0 or 1.
        meta: u8,
        /// The declared size.
        size: u32,
    },
    /// The two valid meta pages disagree on the page size.
    #[error("the meta pages disagree on the page size ({first} vs {second})")]
    PageSizeMismatch {
        /// Meta 0's page size.
        first: u32,
        /// Meta 1's page size.
        second: u32,
    },
    /// A reference to page 0 or 1 (the meta pages) from the tree or the freelist.
    #[error("reference to meta page {pgid}")]
    MetaPageReferenced {
        /// The page id.
        pgid: u64,
    },
    /// A page id at or above the meta's high-water mark.
    #[error("page {pgid} is at or above the high-water mark {hwm}")]
    BeyondHighWaterMark {
        /// The page id.
        pgid: u64,
        /// The meta's `pgid` (pages allocated).
        hwm: u64,
    },
    /// A page id whose page lies (partly) past the end of the file.
    #[error("page {pgid} lies past the end of the file")]
    PageOutsideFile {
        /// The page id.
        pgid: u64,
    },
    /// A page's overflow run ends past the high-water mark or the end of the file.
    #[error("page {pgid} overflows by {overflow} pages past the end of the database")]
    OverflowOutOfRange {
        /// The page id.
        pgid: u64,
        /// Its overflow count.
        overflow: u32,
    },
    /// A page (with its overflow) is larger than [`crate::DbLimits::max_page_span_bytes`].
    #[error("page {pgid} spans {bytes} bytes, more than the limit")]
    PageTooLarge {
        /// The page id.
        pgid: u64,
        /// Its size with overflow.
        bytes: u64,
    },
    /// The page header names another page id than the one it was reached by.
    #[error("page {pgid} says it is page {found}")]
    PageIdMismatch {
        /// The page id used to reach it.
        pgid: u64,
        /// The id in its header.
        found: u64,
    },
    /// The page's flags do not fit the way it is used.
    #[error("{at} has flags {flags:#x}, expected a {expected:?} page")]
    UnexpectedPageType {
        /// The page.
        at: PageRef,
        /// Its flags.
        flags: u16,
        /// What the reference expected.
        expected: PageKind,
    },
    /// A page reached twice: a cycle or two parents sharing a child.
    #[error("page {pgid} is reached twice (cycle or shared page)")]
    PageReachedTwice {
        /// The page id.
        pgid: u64,
    },
    /// The element array does not fit in the page.
    #[error("{at}: {count} elements do not fit in the page")]
    ElementsOverflowPage {
        /// The page.
        at: PageRef,
        /// The element count.
        count: u64,
    },
    /// A branch page without elements.
    #[error("{at}: branch page without elements")]
    EmptyBranch {
        /// The page.
        at: PageRef,
    },
    /// An element's key or value reaches outside its page.
    #[error("{at}: element {index}: {part:?} lies outside the page")]
    ElementOutOfPage {
        /// The page.
        at: PageRef,
        /// The element index.
        index: u16,
        /// Key or value.
        part: ElementPart,
    },
    /// A zero-length key (bbolt never stores one).
    #[error("{at}: element {index} has an empty key")]
    EmptyKey {
        /// The page.
        at: PageRef,
        /// The element index.
        index: u16,
    },
    /// Keys of a page are not strictly increasing (unsorted or duplicated).
    #[error("{at}: key of element {index} is not greater than the previous key")]
    KeysNotSorted {
        /// The page.
        at: PageRef,
        /// The element index.
        index: u16,
    },
    /// A leaf element with flags other than "bucket".
    #[error("{at}: element {index} has unknown flags {flags:#x}")]
    BadElementFlags {
        /// The page.
        at: PageRef,
        /// The element index.
        index: u16,
        /// The flags.
        flags: u32,
    },
    /// A key of the root bucket that is not a bucket (Go bbolt cannot write one).
    #[error("{at}: root-level element {index} is not a bucket")]
    RootValueNotBucket {
        /// The page.
        at: PageRef,
        /// The element index.
        index: u16,
    },
    /// A bucket value too short for its header (or, inline, for its page).
    #[error("{at}: bucket value of element {index} is too short")]
    BucketValueTooShort {
        /// The page.
        at: PageRef,
        /// The element index.
        index: u16,
    },
    /// An inline bucket containing a bucket (Go bbolt never inlines such a bucket).
    #[error("{at}: inline bucket holds a sub-bucket at element {index}")]
    SubBucketInInlineBucket {
        /// The inline page.
        at: PageRef,
        /// The element index.
        index: u16,
    },
    /// Branch pages nested deeper than [`crate::DbLimits::max_tree_depth`].
    #[error("page {pgid} is {depth} levels deep, more than the limit")]
    TreeTooDeep {
        /// The page.
        pgid: u64,
        /// Its depth.
        depth: u32,
    },
    /// Buckets nested deeper than [`crate::DbLimits::max_bucket_depth`].
    #[error("buckets nested {depth} deep, more than the limit")]
    BucketsTooDeep {
        /// The depth.
        depth: u32,
    },
    /// More elements than [`crate::DbLimits::max_elements`].
    #[error("more than {limit} elements")]
    TooManyElements {
        /// The limit.
        limit: u64,
    },
    /// More pages waiting to be visited than [`crate::DbLimits::max_pending_pages`].
    #[error("more than {limit} pages pending in the walk")]
    TooManyPending {
        /// The limit.
        limit: u64,
    },
    /// The freelist's id array does not fit in its page.
    #[error("freelist page {pgid}: {count} ids do not fit in the page")]
    FreelistOverflowsPage {
        /// The freelist page.
        pgid: u64,
        /// The declared count.
        count: u64,
    },
    /// A free page id is a meta page or at/above the high-water mark.
    #[error("freelist names page {id}, outside 2..{hwm}")]
    FreePageOutOfRange {
        /// The free page id.
        id: u64,
        /// The high-water mark.
        hwm: u64,
    },
    /// Free page ids not strictly increasing.
    #[error("freelist ids are not strictly increasing at page {id}")]
    FreelistNotSorted {
        /// The first id out of order.
        id: u64,
    },
    /// A page is both free and part of the tree.
    #[error("page {id} is free and in use")]
    FreePageInUse {
        /// The page id.
        id: u64,
    },
    /// A root bucket Trivy needs is missing.
    #[error("root bucket {name:?} is missing")]
    MissingBucket {
        /// The bucket name.
        name: &'static str,
    },
}

/// Most characters of a bucket path kept for error messages.
const MAX_NAME_CHARS: usize = 128;

/// A bucket path ("outer/inner") for error messages: lossily decoded, control characters
/// escaped and cut to 128 characters, so attacker-chosen names cannot flood logs or terminals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketName(String);

impl BucketName {
    /// The path of `name` inside `self`.
    pub(crate) fn child(&self, name: &[u8]) -> BucketName {
        let mut s = self.0.clone();
        if s.chars().count() >= MAX_NAME_CHARS {
            return BucketName(s);
        }
        if !s.is_empty() {
            s.push('/');
        }
        let room = MAX_NAME_CHARS.saturating_sub(s.chars().count());
        s.extend(
            String::from_utf8_lossy(name)
                .chars()
                .flat_map(char::escape_debug)
                .take(room),
        );
        BucketName(s)
    }

    /// The bounded text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("<root>")
        } else {
            f.write_str(&self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_are_bounded_and_escaped() {
        let root = BucketName::default();
        assert_eq!(root.to_string(), "<root>");
        let a = root.child(b"npm::x").child(b"a\nb");
        assert_eq!(a.as_str(), "npm::x/a\\nb");
        let long = root.child(&[b'z'; 10_000]).child(b"more");
        assert_eq!(long.as_str().chars().count(), MAX_NAME_CHARS);
    }
}
