//! Deterministic generators of hostile-but-well-formed SBOMs and statements, for the memory test and
//! the `peak_rss` example. SBOMs are produced as a stream (one chunk at a time), so measuring the
//! validator's memory does not also measure a 64 MiB input buffer.

#![allow(dead_code)] // each user takes the generators it needs

use std::io::{self, Read};

/// A reader over chunks produced on demand by `next(index, buf)` (false = end).
pub struct Chunks<F> {
    next: F,
    index: usize,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<F: FnMut(usize, &mut Vec<u8>) -> bool> Read for Chunks<F> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            self.buf.clear();
            self.pos = 0;
            self.done = !(self.next)(self.index, &mut self.buf);
            self.index += 1;
        }
        let avail = self.buf.get(self.pos..).unwrap_or(&[]);
        let n = avail.len().min(out.len());
        out.iter_mut().zip(avail).for_each(|(d, s)| *d = *s);
        self.pos += n;
        Ok(n)
    }
}

fn chunks<F: FnMut(usize, &mut Vec<u8>) -> bool>(next: F) -> Chunks<F> {
    Chunks {
        next,
        index: 0,
        buf: Vec::new(),
        pos: 0,
        done: false,
    }
}

/// CycloneDX 1.6 with `components` components, each carrying `props` tiny property objects whose
/// value is `value_len` bytes: a flood of small values inside components.
pub fn cyclonedx(components: usize, props: usize, value_len: usize) -> impl Read {
    let value = "v".repeat(value_len);
    chunks(move |i, b| {
        if i == 0 {
            b.extend_from_slice(
                br#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":["#,
            );
        } else if i <= components {
            let c = i - 1;
            if c > 0 {
                b.push(b',');
            }
            b.extend_from_slice(
                format!(r#"{{"type":"library","name":"c{c}","bom-ref":"r{c}","properties":["#)
                    .as_bytes(),
            );
            for p in 0..props {
                if p > 0 {
                    b.push(b',');
                }
                b.extend_from_slice(format!(r#"{{"name":"p{p}","value":"{value}"}}"#).as_bytes());
            }
            b.extend_from_slice(b"]}");
        } else if i == components + 1 {
            b.extend_from_slice(b"]}");
        } else {
            return false;
        }
        true
    })
}

/// Number of bytes a generated stream yields.
pub fn stream_len(mut r: impl Read) -> usize {
    let mut bytes = 0;
    let mut buf = vec![0u8; 1 << 16];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        bytes += n;
    }
    bytes
}

/// Size in bytes and JSON value count of [`cyclonedx`]`(components, props, value_len)`.
pub fn cyclonedx_shape(components: usize, props: usize, value_len: usize) -> (usize, usize) {
    let bytes = stream_len(cyclonedx(components, props, value_len));
    let values = 1 + 3 + 1 + components * (1 + 3 + 1 + props * 3);
    (bytes, values)
}

/// SPDX 2.3 with `packages` packages (each with a checksum) and one DEPENDS_ON relationship per
/// package: many identifiers and references.
pub fn spdx(packages: usize) -> impl Read {
    chunks(move |i, b| {
        if i == 0 {
            b.extend_from_slice(
                br#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","dataLicense":"CC0-1.0","name":"big","documentNamespace":"https://example.invalid/big","creationInfo":{"created":"2024-01-01T00:00:00Z","creators":["Tool: gen"]},"packages":["#,
            );
        } else if i <= packages {
            let p = i - 1;
            if p > 0 {
                b.push(b',');
            }
            b.extend_from_slice(format!(r#"{{"SPDXID":"SPDXRef-P{p}","name":"pkg{p}","downloadLocation":"NOASSERTION","checksums":[{{"algorithm":"SHA1","checksumValue":"{:040x}"}}]}}"#, p).as_bytes());
        } else if i == packages + 1 {
            b.extend_from_slice(br#"],"relationships":["#);
        } else if i <= 2 * packages + 1 {
            let p = i - packages - 2;
            if p > 0 {
                b.push(b',');
            }
            let q = (p + 1) % packages;
            b.extend_from_slice(format!(r#"{{"spdxElementId":"SPDXRef-P{p}","relationshipType":"DEPENDS_ON","relatedSpdxElement":"SPDXRef-P{q}"}}"#).as_bytes());
        } else if i == 2 * packages + 2 {
            b.extend_from_slice(b"]}");
        } else {
            return false;
        }
        true
    })
}

/// CycloneDX 1.6 built to fill every bounded structure of the streaming validator at once: `forward`
/// dependencies naming 200-character bom-refs defined only later (parked references), `ids`
/// components each defining a bom-ref (the identifier set), and a `metadata` element of ~48k values
/// (one materialised element near its cap). Valid, so everything is held to the end.
pub fn cyclonedx_worst(forward: usize, ids: usize) -> impl Read {
    let long = |i: usize| format!("{i:0>200}");
    chunks(move |i, b| {
        if i == 0 {
            b.extend_from_slice(
                br#"{"bomFormat":"CycloneDX","specVersion":"1.6","dependencies":["#,
            );
        } else if i <= forward {
            let d = i - 1;
            if d > 0 {
                b.push(b',');
            }
            b.extend_from_slice(format!(r#"{{"ref":"{}"}}"#, long(d)).as_bytes());
        } else if i == forward + 1 {
            b.extend_from_slice(br#"],"metadata":{"properties":["#);
            for p in 0..24_000 {
                if p > 0 {
                    b.push(b',');
                }
                b.extend_from_slice(br#"{"a":0}"#);
            }
            b.extend_from_slice(br#"]},"components":["#);
        } else if i <= forward + 1 + ids {
            let c = i - forward - 2;
            if c > 0 {
                b.push(b',');
            }
            let id = if c < forward {
                long(c)
            } else {
                format!("r{c}")
            };
            b.extend_from_slice(
                format!(r#"{{"type":"library","name":"c","bom-ref":"{id}"}}"#).as_bytes(),
            );
        } else if i == forward + ids + 2 {
            b.extend_from_slice(b"]}");
        } else {
            return false;
        }
        true
    })
}

/// A statement whose externalParameters carry `rows` arrays of `cols` zeros (within every array and
/// key cap, so only the value cap or the typed layout can refuse it), wrapped around a valid-looking
/// statement head.
pub fn statement_flood(rows: usize, cols: usize) -> Vec<u8> {
    let mut s = String::with_capacity(rows * (cols * 2 + 2) + 1024);
    s.push_str(r#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","subject":[],"predicate":{"buildDefinition":{"buildType":"https://ouk.dev/buildtypes/kit/v1","externalParameters":{"sources":[],"x":["#);
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('[');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            s.push('0');
        }
        s.push(']');
    }
    s.push_str(r#"]}},"runDetails":{"builder":{"id":"b"},"metadata":{"invocationId":"i","startedOn":"2024-01-01T00:00:00Z","finishedOn":"2024-01-01T00:00:00Z"}}}}"#);
    s.into_bytes()
}

/// Peak resident set (VmHWM) of this process in KiB, from /proc (Linux only).
pub fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Current resident set (VmRSS) in KiB.
pub fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
