//! A tiny record-at-a-time XML reader: it builds a small element tree only for
//! each record element (`<entry>`, `<vulnerability>`, `<vul>`, ...) and hands it
//! to a callback, so a large export never becomes one big DOM.
//!
//! Names are local names (namespace prefixes dropped); every regional format uses
//! distinct local names, so prefixes carry no information we need.

use std::io::{self, BufRead, Read};

use quick_xml::events::Event as XEvent;
use quick_xml::Reader;

/// One element of a record subtree.
#[derive(Debug, Default, Clone)]
pub(crate) struct El {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<El>,
}

impl El {
    /// First child with this local name.
    pub fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }
    /// All children with this local name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// Trimmed text of the first child with this name, if non-empty.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).and_then(|c| c.trimmed())
    }
    /// Trimmed own text, if non-empty.
    pub fn trimmed(&self) -> Option<String> {
        let t = self.text.trim();
        (!t.is_empty()).then(|| t.to_string())
    }
    /// Attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// Follow a path of child names.
    pub fn path(&self, names: &[&str]) -> Option<&El> {
        let mut cur = self;
        for n in names {
            cur = cur.child(n)?;
        }
        Some(cur)
    }
}

const MAX_DEPTH: usize = 64;

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => s.into_owned(),
    }
}

fn start_el(e: &quick_xml::events::BytesStart<'_>) -> El {
    let mut el = El {
        name: local(e.name().as_ref()),
        ..El::default()
    };
    for a in e.attributes().flatten() {
        let v = a
            .unescape_value()
            .map(|c| c.into_owned())
            .unwrap_or_default();
        el.attrs.push((local(a.key.as_ref()), v));
    }
    el
}

/// The input of [`for_each_record`], counting what the XML reader consumes since the last mark:
/// quick_xml buffers one whole event (a text, a tag), so an endless text or tag in a streamed
/// export would otherwise grow memory without bound. The mark is moved after every event outside
/// a record and at each record's end, so the cap applies to one record, or to one event between
/// records.
struct RecordBudget<R> {
    inner: R,
    since_mark: u64,
    max: u64,
}

impl<R: BufRead> Read for RecordBudget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        super::read_through(self, buf)
    }
}

impl<R: BufRead> BufRead for RecordBudget<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_mark > self.max {
            return Err(io::Error::other(OVER_BUDGET));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.since_mark += n as u64;
        self.inner.consume(n);
    }
}

const OVER_BUDGET: &str = "record above the size limit";

/// Call `f` for every element named `record` (local name), as each one ends: memory holds one
/// record's tree at a time, however large the document. One record (or one event between
/// records) may not span more than `max_record` bytes of input. Returns the number of records
/// seen, or an error text (with byte offset) when the XML is malformed or a record is too large;
/// records before the error have already been delivered.
pub(crate) fn for_each_record(
    src: impl BufRead,
    record: &str,
    max_record: u64,
    mut f: impl FnMut(El),
) -> Result<usize, String> {
    let mut reader = Reader::from_reader(RecordBudget {
        inner: src,
        since_mark: 0,
        max: max_record,
    });
    reader.config_mut().trim_text(false);
    let mut buf = Vec::new();
    let mut stack: Vec<El> = Vec::new();
    let mut count = 0usize;
    loop {
        let too_large = |at: u64| {
            format!(
                "a <{record}> record (or the text before it) ending after byte {at} is larger \
                 than {max_record} bytes (limit max_file_bytes)"
            )
        };
        let ev = match reader.read_event_into(&mut buf) {
            // An input read as one slice hands over a whole event at once: checked here too.
            Ok(_) if reader.get_ref().since_mark > max_record => {
                return Err(too_large(reader.buffer_position()));
            }
            Ok(ev) => ev,
            Err(_) if reader.get_ref().since_mark > max_record => {
                return Err(too_large(reader.buffer_position()));
            }
            Err(e) => {
                return Err(format!(
                    "malformed XML at byte {}: {e}",
                    reader.buffer_position()
                ))
            }
        };
        match ev {
            XEvent::Start(e) => {
                let el = start_el(&e);
                if !stack.is_empty() || el.name == record {
                    if stack.len() >= MAX_DEPTH {
                        return Err(format!(
                            "XML nesting deeper than {MAX_DEPTH} inside a record"
                        ));
                    }
                    stack.push(el);
                }
            }
            XEvent::Empty(e) => {
                let el = start_el(&e);
                if let Some(top) = stack.last_mut() {
                    top.children.push(el);
                } else if el.name == record {
                    count += 1;
                    f(el);
                }
            }
            XEvent::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.unescape().map_err(|e| {
                        format!("bad XML text at byte {}: {e}", reader.buffer_position())
                    })?;
                    top.text.push_str(&s);
                }
            }
            XEvent::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c.into_inner()));
                }
            }
            XEvent::End(_) => {
                if let Some(done) = stack.pop() {
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(done);
                    } else {
                        count += 1;
                        f(done);
                    }
                }
            }
            XEvent::Eof => break,
            _ => {}
        }
        if stack.is_empty() {
            reader.get_mut().since_mark = 0;
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("XML ended inside a record".into());
    }
    Ok(count)
}

/// One XML document of `kind` parsed record by record with `one` (the adapter's converter of a
/// `<record>` element, given the output, the file name, the element and the id length limit); a
/// malformed document or an over-large record rejects the file from that point on, the records
/// before it kept.
pub(crate) fn parse_records(
    kind: crate::source::SourceKind,
    file: &str,
    src: impl BufRead,
    record: &str,
    opts: &super::ReadOptions<'_>,
    mut one: impl FnMut(&mut super::Parsed, &str, El, usize),
) -> super::Parsed {
    let mut out = super::Parsed::default();
    let max_id = opts.limits.max_id_len;
    let read = for_each_record(src, record, opts.limits.max_file_bytes, |e| {
        one(&mut out, file, e, max_id)
    });
    if let Err(e) = read {
        out.reject(kind, file, None, e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_errors() {
        let x = br#"<?xml version="1.0"?><r xmlns:a="u"><v><a:id k="1">X&#xD;</a:id><e/></v><v><id>Y</id></v></r>"#;
        let mut got = Vec::new();
        let n = for_each_record(&x[..], "v", 1 << 20, |e| got.push(e)).unwrap();
        assert_eq!(n, 2);
        assert_eq!(got[0].child("id").unwrap().text, "X\r");
        assert_eq!(got[0].child("id").unwrap().attr("k"), Some("1"));
        assert!(got[0].child("e").is_some());
        let bad = b"<r><v><id>1</id></v><v><id>2</id></w></r>";
        let mut n2 = 0;
        assert!(for_each_record(&bad[..], "v", 1 << 20, |_| n2 += 1).is_err());
        assert_eq!(n2, 1);
    }

    #[test]
    fn one_record_or_one_text_between_records_is_capped() {
        // Many small records fit, however long the document; one big record does not.
        let small = "<v><id>1</id></v>".repeat(10_000);
        let doc = format!("<r>{small}</r>");
        let n = for_each_record(doc.as_bytes(), "v", 64, |_| {}).unwrap();
        assert_eq!(n, 10_000);
        let big = format!(
            "<r><v><id>1</id></v><v><d>{}</d></v></r>",
            "x".repeat(100_000)
        );
        let mut seen = 0;
        let err = for_each_record(big.as_bytes(), "v", 4096, |_| seen += 1).unwrap_err();
        assert!(err.contains("larger than 4096 bytes"), "{err}");
        assert_eq!(seen, 1);
        // An endless text outside any record is refused too, not buffered.
        let junk = format!("<r>{}<v><id>1</id></v></r>", "y".repeat(100_000));
        let err = for_each_record(junk.as_bytes(), "v", 4096, |_| {}).unwrap_err();
        assert!(err.contains("limit max_file_bytes"), "{err}");
    }
}
