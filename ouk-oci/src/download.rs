//! The resumable download loop: a blob streamed into a `.partial` file with its sha256 computed
//! on the way, resumed with range requests after broken transfers, bounded in attempts and time,
//! and checked against the descriptor's digest and size before it leaves `.partial`.
//!
//! Generic over how one GET is made (`get(offset)`), so the loop's decisions — a registry that
//! ignores ranges, one that answers from the wrong byte, a short or oversized blob, a trickle —
//! are unit-tested without a network.

use std::fs::{self, File};
use std::future::Future;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};

use ouk_format::digest::Hasher;

use crate::artifact::Blob;
use crate::error::{Error, Result};

/// A body stream.
pub(crate) type Body = Pin<Box<dyn Stream<Item = Result<bytes::Bytes, String>> + Send>>;

/// What one GET from an offset got.
pub(crate) enum Answer {
    /// The whole blob from byte 0 (the range was ignored).
    Whole(Body),
    /// The blob from byte `start`.
    Range {
        /// First byte of the body.
        start: u64,
        /// The body.
        stream: Body,
    },
}

/// Why one GET failed.
#[derive(Debug)]
pub(crate) enum GetError {
    /// Worth retrying (connection broke, 5xx, 429).
    Transient(String),
    /// The credentials or token were refused (a token may have expired: re-authenticate once).
    Unauthorized,
    /// The registry's blob cannot be the one the descriptor names.
    Mismatch(String),
    /// The registry refused (404, 403, ...): retrying will not help.
    Refused(String),
}

/// Bounds of one download.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// Consecutive attempts without progress before giving up.
    pub retries: u32,
    /// Wall-clock limit for the whole download.
    pub deadline: Option<Duration>,
    /// Pause before the first retry (doubles, up to 32×).
    pub backoff: Duration,
}

/// An attempt counts as progress only if it moved the file on by this much (or finished it): a
/// registry trickling a few bytes per connection must not reset the retry count for ever.
const MIN_PROGRESS: u64 = 64 << 10;

/// Outcome of [`run`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Downloaded {
    /// Transfers broken and resumed.
    pub resumes: u32,
}

/// Continues the download of `layer` into `out` (which holds `offset` bytes already hashed into
/// `hasher`), calling `get(offset)` for each attempt and `reauth()` once after a 401. On a
/// mismatch the partial file at `partial` is removed; on a broken transfer that exhausts the
/// budget it is kept (flushed) for the next run.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run<G, F, R, RF>(
    layer: &Blob,
    partial: &Path,
    out: File,
    mut offset: u64,
    mut hasher: Hasher,
    budget: Budget,
    mut get: G,
    mut reauth: R,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Downloaded>
where
    G: FnMut(u64) -> F,
    F: Future<Output = std::result::Result<Answer, GetError>>,
    R: FnMut() -> RF,
    RF: Future<Output = std::result::Result<(), String>>,
{
    let size = layer.size;
    let digest = layer.digest.to_string();
    let mismatch = |what: String| {
        let _ = fs::remove_file(partial);
        Error::BlobMismatch {
            expected: digest.clone(),
            what,
        }
    };
    let mut out = BufWriter::with_capacity(1 << 20, out);
    let started = Instant::now();
    let mut failures = 0u32;
    let mut resumes = 0u32;
    let mut reauthorized = false;
    let mut last_error = String::new();
    progress(offset, size);
    while offset < size {
        let out_of_time = budget.deadline.is_some_and(|d| started.elapsed() > d);
        if failures > budget.retries || out_of_time {
            out.flush().map_err(|e| Error::io("writing", partial, e))?;
            return Err(Error::Interrupted {
                digest,
                offset,
                size,
                reason: if out_of_time {
                    format!(
                        "deadline of {}s reached; last error: {last_error}",
                        budget.deadline.unwrap_or_default().as_secs()
                    )
                } else {
                    last_error
                },
            });
        }
        if failures > 0 {
            resumes += 1;
            tokio::time::sleep(budget.backoff * (1u32 << failures.min(5))).await;
        }
        let (mut skip, mut stream) = match get(offset).await {
            Ok(Answer::Range { start, stream }) if start == offset => (0, stream),
            Ok(Answer::Range { start, .. }) => {
                // Appending bytes from another offset would corrupt the file; treat as a broken
                // attempt (a proxy's fault, usually) rather than trust it.
                last_error = format!("the registry answered from byte {start}, not {offset}");
                failures += 1;
                continue;
            }
            // The range was ignored: read past what the file already holds, keep appending.
            Ok(Answer::Whole(stream)) => (offset, stream),
            Err(GetError::Transient(e)) => {
                last_error = e;
                failures += 1;
                continue;
            }
            Err(GetError::Unauthorized) if !reauthorized => {
                reauthorized = true;
                reauth().await.map_err(|e| Error::Registry {
                    registry: String::new(),
                    operation: "authenticating again".into(),
                    reason: e,
                })?;
                continue;
            }
            Err(GetError::Unauthorized) => {
                return Err(Error::Registry {
                    registry: String::new(),
                    operation: format!("downloading {digest}"),
                    reason: "HTTP 401 Unauthorized".into(),
                })
            }
            Err(GetError::Mismatch(what)) => return Err(mismatch(what)),
            Err(GetError::Refused(why)) => {
                return Err(Error::Registry {
                    registry: String::new(),
                    operation: format!("downloading {digest}"),
                    reason: why,
                })
            }
        };
        let before = offset;
        let mut ended = false;
        loop {
            // The deadline also cuts a response that trickles: each read waits at most for what
            // is left of it.
            let next = match budget.deadline.map(|d| d.saturating_sub(started.elapsed())) {
                Some(left) => match tokio::time::timeout(left, stream.next()).await {
                    Ok(next) => next,
                    Err(_) => Some(Err("the download's deadline passed mid-transfer".to_owned())),
                },
                None => stream.next().await,
            };
            match next {
                Some(Ok(bytes)) => {
                    let mut b = &bytes[..];
                    if skip > 0 {
                        let k = usize::try_from(skip).unwrap_or(usize::MAX).min(b.len());
                        skip -= k as u64;
                        b = &b[k..];
                    }
                    if b.is_empty() {
                        continue;
                    }
                    if offset + b.len() as u64 > size {
                        drop(out);
                        return Err(mismatch(format!(
                            "the registry sent more than the {size} bytes the manifest names"
                        )));
                    }
                    out.write_all(b)
                        .map_err(|e| Error::io("writing", partial, e))?;
                    hasher.update(b);
                    offset += b.len() as u64;
                    progress(offset, size);
                }
                Some(Err(e)) => {
                    last_error = e;
                    break;
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if offset >= size {
            break;
        }
        if ended {
            // The registry finished its response and the blob is not complete: it is shorter
            // than the descriptor says (a broken connection is an error, not an end).
            drop(out);
            return Err(mismatch(format!(
                "the registry's blob ends after {offset} bytes; the manifest says {size}"
            )));
        }
        failures = if offset >= before + MIN_PROGRESS {
            1
        } else {
            failures + 1
        };
    }
    let file = out
        .into_inner()
        .map_err(|e| Error::io("writing", partial, e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io("syncing", partial, e))?;
    drop(file);
    let (sha, n) = hasher.finish();
    if sha != layer.digest.0 || n != size {
        return Err(mismatch(format!(
            "downloaded {n} bytes of sha256:{} (the partial download was removed)",
            sha.to_hex()
        )));
    }
    Ok(Downloaded { resumes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    const BLOB: usize = 1 << 20;

    fn blob() -> Vec<u8> {
        (0..BLOB).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn layer(data: &[u8]) -> Blob {
        Blob::of("x", data)
    }

    fn body(chunks: Vec<std::result::Result<Vec<u8>, String>>) -> Body {
        Box::pin(futures_util::stream::iter(
            chunks.into_iter().map(|c| c.map(bytes::Bytes::from)),
        ))
    }

    /// How the fake registry behaves on the n-th GET (0-based), given the offset asked for.
    type Script = Box<dyn FnMut(usize, u64) -> std::result::Result<Answer, GetError> + Send>;

    fn budget() -> Budget {
        Budget {
            retries: 3,
            deadline: Some(Duration::from_secs(30)),
            backoff: Duration::from_millis(1),
        }
    }

    /// Runs the loop against `script` on a fresh partial file holding `kept` bytes of `data`.
    fn fetch(data: &[u8], kept: usize, script: Script) -> (Result<Downloaded>, Vec<u8>, Vec<u64>) {
        let dir = tempfile::tempdir().unwrap();
        let partial = dir.path().join("x.partial");
        fs::write(&partial, &data[..kept]).unwrap();
        let out = fs::OpenOptions::new().append(true).open(&partial).unwrap();
        let mut hasher = Hasher::new();
        hasher.update(&data[..kept]);
        let asked = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let r = rt.block_on(run(
            &layer(data),
            &partial,
            out,
            kept as u64,
            hasher,
            budget(),
            |off| {
                let asked = asked.clone();
                let script = script.clone();
                async move {
                    let n = {
                        let mut a = asked.lock().unwrap();
                        a.push(off);
                        a.len() - 1
                    };
                    (script.lock().unwrap())(n, off)
                }
            },
            || async { Ok(()) },
            &mut |_, _| {},
        ));
        let written = fs::read(&partial).unwrap_or_default();
        let asked = asked.lock().unwrap().clone();
        (r, written, asked)
    }

    fn range(data: &[u8], from: u64, to: usize, then: Option<&str>) -> Answer {
        let mut chunks: Vec<_> = data[from as usize..to]
            .chunks(4096)
            .map(|c| Ok(c.to_vec()))
            .collect();
        if let Some(e) = then {
            chunks.push(Err(e.to_owned()));
        }
        Answer::Range {
            start: from,
            stream: body(chunks),
        }
    }

    #[test]
    fn resumes_broken_transfers_with_ranges() {
        let data = blob();
        let d = data.clone();
        let (r, written, asked) = fetch(
            &data,
            0,
            Box::new(move |n, off| match n {
                0 => Ok(range(&d, off, 300_000, Some("reset"))),
                1 => Ok(range(&d, off, 700_000, Some("reset"))),
                _ => Ok(range(&d, off, BLOB, None)),
            }),
        );
        assert_eq!(r.unwrap(), Downloaded { resumes: 2 });
        assert_eq!(written, data);
        assert_eq!(asked, [0, 300_000, 700_000]);
    }

    #[test]
    fn a_registry_ignoring_ranges_is_read_past_what_is_kept_and_ends() {
        // Every answer is the whole blob and breaks at the same byte: before, this restarted from
        // zero for ever; now the kept bytes are skipped and the file moves on.
        let data = blob();
        let d = data.clone();
        let (r, written, asked) = fetch(
            &data,
            100_000,
            Box::new(move |_, off| {
                let stop = (off as usize + 300_000).min(BLOB);
                let mut chunks: Vec<_> = d[..stop].chunks(4096).map(|c| Ok(c.to_vec())).collect();
                if stop < BLOB {
                    chunks.push(Err("cut".into()));
                }
                Ok(Answer::Whole(body(chunks)))
            }),
        );
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(written, data);
        assert_eq!(asked, [100_000, 400_000, 700_000, 1_000_000]);
    }

    #[test]
    fn a_trickle_gives_up_with_the_bytes_kept() {
        let data = blob();
        let d = data.clone();
        let (r, written, asked) = fetch(
            &data,
            0,
            Box::new(move |_, off| Ok(range(&d, off, off as usize + 100, Some("stalled")))),
        );
        match r {
            Err(Error::Interrupted { offset, .. }) => assert_eq!(offset, 400),
            other => panic!("{other:?}"),
        }
        assert_eq!(asked.len(), 4, "retries + 1 attempts without progress");
        assert_eq!(written, data[..400].to_vec(), "kept for the next run");
    }

    #[test]
    fn short_oversized_wrong_start_and_corrupt_blobs_are_refused() {
        let data = blob();
        // Short: the registry ends its response early without an error.
        let d = data.clone();
        let (r, written, _) = fetch(
            &data,
            0,
            Box::new(move |_, off| Ok(range(&d, off, 500_000, None))),
        );
        assert!(matches!(r, Err(Error::BlobMismatch { .. })), "{r:?}");
        assert!(written.is_empty(), "the partial file is removed");
        // Oversized.
        let mut longer = data.clone();
        longer.extend_from_slice(b"more");
        let (r, _, _) = fetch(
            &data,
            0,
            Box::new(move |_, _| Ok(Answer::Whole(body(vec![Ok(longer.clone())])))),
        );
        assert!(matches!(r, Err(Error::BlobMismatch { .. })), "{r:?}");
        // Wrong start: never appended; the retries run out.
        let d = data.clone();
        let (r, written, _) = fetch(
            &data,
            1000,
            Box::new(move |_, _| Ok(range(&d, 0, BLOB, None))),
        );
        assert!(
            matches!(r, Err(Error::Interrupted { offset: 1000, .. })),
            "{r:?}"
        );
        assert_eq!(written.len(), 1000);
        // Corrupt content of the right size.
        let mut bad = data.clone();
        bad[BLOB / 2] ^= 1;
        let (r, written, _) = fetch(
            &data,
            0,
            Box::new(move |_, off| Ok(range(&bad, off, BLOB, None))),
        );
        assert!(matches!(r, Err(Error::BlobMismatch { .. })), "{r:?}");
        assert!(written.is_empty());
        // 416, 404.
        let (r, _, _) = fetch(
            &data,
            10,
            Box::new(|_, _| Err(GetError::Mismatch("416".into()))),
        );
        assert!(matches!(r, Err(Error::BlobMismatch { .. })));
        let (r, written, _) = fetch(
            &data,
            10,
            Box::new(|_, _| Err(GetError::Refused("HTTP 404".into()))),
        );
        assert!(matches!(r, Err(Error::Registry { .. })));
        assert_eq!(
            written.len(),
            10,
            "a refusal keeps what was verified so far"
        );
    }

    #[test]
    fn the_deadline_cuts_a_response_that_never_ends() {
        let data = blob();
        let dir = tempfile::tempdir().unwrap();
        let partial = dir.path().join("x.partial");
        let out = File::create(&partial).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let d = data.clone();
        let r = rt.block_on(run(
            &layer(&data),
            &partial,
            out,
            0,
            Hasher::new(),
            Budget {
                retries: 3,
                deadline: Some(Duration::from_millis(300)),
                backoff: Duration::from_millis(1),
            },
            move |_| {
                let first = bytes::Bytes::from(d[..1000].to_vec());
                async move {
                    let stalled = futures_util::stream::once(async move { Ok(first) })
                        .chain(futures_util::stream::pending());
                    Ok(Answer::Range {
                        start: 0,
                        stream: Box::pin(stalled),
                    })
                }
            },
            || async { Ok(()) },
            &mut |_, _| {},
        ));
        match r {
            Err(Error::Interrupted {
                offset: 1000,
                reason,
                ..
            }) => assert!(reason.contains("deadline"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn transient_errors_are_retried_then_reported() {
        let data = blob();
        let d = data.clone();
        let (r, written, _) = fetch(
            &data,
            0,
            Box::new(move |n, off| match n {
                0 | 1 => Err(GetError::Transient("HTTP 503".into())),
                _ => Ok(range(&d, off, BLOB, None)),
            }),
        );
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(written, data);
        let (r, _, asked) = fetch(
            &data,
            0,
            Box::new(|_, _| Err(GetError::Transient("HTTP 503".into()))),
        );
        assert!(matches!(r, Err(Error::Interrupted { .. })), "{r:?}");
        assert_eq!(asked.len(), 4);
    }
}
