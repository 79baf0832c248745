//! The B+tree walk: every page of every bucket (inline buckets included), depth-first with an
//! explicit stack, checking each element against its page and each page's keys for order.

use std::rc::Rc;

use super::layout::{
    u32_at, u64_at, PageHeader, BRANCH_ELEMENT, BRANCH_FLAG, BUCKET_HEADER, BUCKET_LEAF_FLAG,
    LEAF_ELEMENT, LEAF_FLAG, PAGE_HEADER,
};
use super::pages::Pages;
use super::problem::{BoltProblem, BucketName, ElementPart, PageKind, PageRef};
use super::Fail;
use crate::DbLimits;

/// Most root bucket names kept for the summary.
const MAX_LISTED_BUCKETS: usize = 10_000;
/// Most characters kept of each listed root bucket name.
const MAX_LISTED_CHARS: usize = 200;

/// A page still to visit.
struct Task {
    pgid: u64,
    /// B+tree level inside its bucket (1 = the bucket's root page).
    depth: u32,
    /// Bucket nesting (0 = the root bucket, whose keys are the root buckets).
    bucket_depth: u32,
    bucket: Rc<BucketName>,
}

/// State of one walk.
pub(crate) struct Walk<'p, 'f> {
    pages: &'p mut Pages<'f>,
    limits: &'p DbLimits,
    stack: Vec<Task>,
    pub elements: u64,
    pub branch_pages: u64,
    pub overflow_pages: u64,
    pub root_buckets: Vec<String>,
    /// Names of the root buckets seen, among those the caller asked about.
    pub wanted: Vec<(&'static str, bool)>,
}

/// One element of a page after its bounds were checked.
struct Element<'a> {
    flags: u32,
    key: &'a [u8],
    value: &'a [u8],
    child: u64,
}

impl<'p, 'f> Walk<'p, 'f> {
    pub(crate) fn new(
        pages: &'p mut Pages<'f>,
        limits: &'p DbLimits,
        wanted: &[&'static str],
    ) -> Self {
        Walk {
            pages,
            limits,
            stack: Vec::new(),
            elements: 0,
            branch_pages: 0,
            overflow_pages: 0,
            root_buckets: Vec::new(),
            wanted: wanted.iter().map(|w| (*w, false)).collect(),
        }
    }

    /// Walks the tree whose root page is `root`.
    pub(crate) fn run(&mut self, root: u64) -> Result<(), Fail> {
        let bucket = Rc::new(BucketName::default());
        self.push(root, 1, 0, &bucket)
            .map_err(|p| Fail::Bad(Some(BucketName::default()), p))?;
        while let Some(task) = self.stack.pop() {
            self.visit(&task)
                .map_err(|f| f.in_bucket(task.bucket.as_ref()))?;
        }
        Ok(())
    }

    fn push(
        &mut self,
        pgid: u64,
        depth: u32,
        bucket_depth: u32,
        bucket: &Rc<BucketName>,
    ) -> Result<(), BoltProblem> {
        if depth > self.limits.max_tree_depth {
            return Err(BoltProblem::TreeTooDeep { pgid, depth });
        }
        // Cheap checks now, so a page of bad references fails before it fills the stack.
        self.pages.check_id(pgid)?;
        if self.pages.is_reached(pgid) {
            return Err(BoltProblem::PageReachedTwice { pgid });
        }
        // Every pending task must become a distinct page of the file: more references than
        // pages means some page is shared or out of range. This also bounds the stack by the
        // file size (which the caller capped).
        if self.pages.reached_count() + self.stack.len() as u64 >= self.pages.file_pages() {
            return Err(BoltProblem::PageReachedTwice { pgid });
        }
        if self.stack.len() as u64 >= self.limits.max_pending_pages {
            return Err(BoltProblem::TooManyPending {
                limit: self.limits.max_pending_pages,
            });
        }
        self.stack.push(Task {
            pgid,
            depth,
            bucket_depth,
            bucket: Rc::clone(bucket),
        });
        Ok(())
    }

    fn visit(&mut self, task: &Task) -> Result<(), Fail> {
        let (header, buf) = self.pages.read(task.pgid)?;
        let at = PageRef::Page(task.pgid);
        self.overflow_pages += u64::from(header.overflow);
        match header.flags {
            BRANCH_FLAG => {
                self.branch_pages += 1;
                if header.count == 0 {
                    return Err(BoltProblem::EmptyBranch { at }.into());
                }
                let mut children = Vec::with_capacity(usize::from(header.count));
                self.elements(&buf, header, at, |_, e| {
                    children.push(e.child);
                    Ok(())
                })?;
                // Pushed in reverse so the walk visits keys in order (easier to follow in a
                // debugger; the checks do not depend on it).
                for child in children.into_iter().rev() {
                    self.push(child, task.depth + 1, task.bucket_depth, &task.bucket)?;
                }
                Ok(())
            }
            LEAF_FLAG => self.leaf(&buf, header, at, task.bucket_depth, &task.bucket, false),
            flags => Err(BoltProblem::UnexpectedPageType {
                at,
                flags,
                expected: PageKind::Tree,
            }
            .into()),
        }
    }

    /// Checks a leaf page (of the file or inline) and queues or checks its buckets.
    fn leaf(
        &mut self,
        buf: &[u8],
        header: PageHeader,
        at: PageRef,
        bucket_depth: u32,
        bucket: &Rc<BucketName>,
        inline: bool,
    ) -> Result<(), Fail> {
        let page = match at {
            PageRef::Page(p) => p,
            PageRef::Inline { page, .. } => page,
        };
        // Sub-buckets are collected first and handled after the element loop, because the
        // loop borrows `self` for the element counter.
        let mut buckets: Vec<(u16, &[u8], &[u8])> = Vec::new();
        self.elements(buf, header, at, |index, e| {
            if e.flags & !BUCKET_LEAF_FLAG != 0 {
                return Err(BoltProblem::BadElementFlags {
                    at,
                    index,
                    flags: e.flags,
                });
            }
            let is_bucket = e.flags & BUCKET_LEAF_FLAG != 0;
            if bucket_depth == 0 && !is_bucket {
                return Err(BoltProblem::RootValueNotBucket { at, index });
            }
            if is_bucket {
                if inline {
                    return Err(BoltProblem::SubBucketInInlineBucket { at, index });
                }
                buckets.push((index, e.key, e.value));
            }
            Ok(())
        })?;
        for (index, key, value) in buckets {
            if bucket_depth == 0 {
                self.note_root_bucket(key);
            }
            let depth = bucket_depth + 1;
            if depth > self.limits.max_bucket_depth {
                return Err(BoltProblem::BucketsTooDeep { depth }.into());
            }
            let child = Rc::new(bucket.child(key));
            let bad = |p| Fail::Bad(Some((*child).clone()), p);
            let short = BoltProblem::BucketValueTooShort { at, index };
            if value.len() < BUCKET_HEADER {
                return Err(bad(short));
            }
            let root = u64_at(value, 0).ok_or_else(|| bad(short))?;
            if root == 0 {
                let inline_page = value.get(BUCKET_HEADER..).unwrap_or_default();
                let inline_at = PageRef::Inline { page, index };
                let inline_header = PageHeader::parse(inline_page).ok_or_else(|| bad(short))?;
                if inline_header.flags != LEAF_FLAG {
                    return Err(bad(BoltProblem::UnexpectedPageType {
                        at: inline_at,
                        flags: inline_header.flags,
                        expected: PageKind::Leaf,
                    }));
                }
                self.leaf(inline_page, inline_header, inline_at, depth, &child, true)
                    .map_err(|f| f.in_bucket(&child))?;
            } else {
                self.push(root, 1, depth, &child).map_err(bad)?;
            }
        }
        Ok(())
    }

    fn note_root_bucket(&mut self, key: &[u8]) {
        for (name, seen) in &mut self.wanted {
            if name.as_bytes() == key {
                *seen = true;
            }
        }
        if self.root_buckets.len() < MAX_LISTED_BUCKETS {
            self.root_buckets.push(
                String::from_utf8_lossy(key)
                    .chars()
                    .take(MAX_LISTED_CHARS)
                    .collect(),
            );
        }
    }

    /// Bounds-checks every element of a branch or leaf page and its keys' order, then hands
    /// each element to `each`.
    fn elements<'b>(
        &mut self,
        buf: &'b [u8],
        header: PageHeader,
        at: PageRef,
        mut each: impl FnMut(u16, Element<'b>) -> Result<(), BoltProblem>,
    ) -> Result<(), BoltProblem> {
        let branch = header.flags == BRANCH_FLAG;
        let size = if branch { BRANCH_ELEMENT } else { LEAF_ELEMENT };
        let count = usize::from(header.count);
        let array_end = count
            .checked_mul(size)
            .and_then(|n| n.checked_add(PAGE_HEADER));
        if array_end.is_none_or(|end| end > buf.len()) {
            return Err(BoltProblem::ElementsOverflowPage {
                at,
                count: count as u64,
            });
        }
        self.elements = self.elements.saturating_add(count as u64);
        if self.elements > self.limits.max_elements {
            return Err(BoltProblem::TooManyElements {
                limit: self.limits.max_elements,
            });
        }
        let mut previous: Option<&[u8]> = None;
        for index in 0..header.count {
            let off = PAGE_HEADER + usize::from(index) * size;
            let field = |o| u32_at(buf, off + o).unwrap_or(0);
            let (flags, pos, ksize, vsize, child) = if branch {
                (0, field(0), field(4), 0, u64_at(buf, off + 8).unwrap_or(0))
            } else {
                (field(0), field(4), field(8), field(12), 0)
            };
            // `pos` is relative to the element itself (Go: unsafe.Add(element, pos)).
            let key_range = off
                .checked_add(pos as usize)
                .and_then(|start| Some((start, start.checked_add(ksize as usize)?)))
                .filter(|(_, end)| *end <= buf.len());
            let Some((key_start, key_end)) = key_range else {
                return Err(BoltProblem::ElementOutOfPage {
                    at,
                    index,
                    part: ElementPart::Key,
                });
            };
            let value_end = key_end
                .checked_add(vsize as usize)
                .filter(|end| *end <= buf.len())
                .ok_or(BoltProblem::ElementOutOfPage {
                    at,
                    index,
                    part: ElementPart::Value,
                })?;
            let key = buf.get(key_start..key_end).unwrap_or_default();
            let value = buf.get(key_end..value_end).unwrap_or_default();
            if key.is_empty() {
                return Err(BoltProblem::EmptyKey { at, index });
            }
            if previous.is_some_and(|p| p >= key) {
                return Err(BoltProblem::KeysNotSorted { at, index });
            }
            previous = Some(key);
            each(
                index,
                Element {
                    flags,
                    key,
                    value,
                    child,
                },
            )?;
        }
        Ok(())
    }
}
