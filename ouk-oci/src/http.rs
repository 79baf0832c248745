//! The registry requests of the pull path, made with `reqwest` directly: the token exchange, the
//! manifest GET and the ranged blob GET.
//!
//! Hand-written rather than oci-client's calls because oci-client 0.18 reads token responses,
//! manifest bodies and the bodies of failed blob requests whole, with no limit: a hostile
//! registry could exhaust the importer's memory before any of our caps applied. Here every body
//! we read is capped, error bodies are never read, the token realm must be HTTPS, and the blob
//! response's status, `Content-Range` and `Content-Length` are checked before a byte is written.

use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_RANGE, RANGE, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, StatusCode};

use crate::download::{Answer, GetError};
use crate::error::{Error, Result};
use crate::reference::Digest;

/// Largest token response read.
const MAX_TOKEN_BYTES: u64 = 64 << 10;

/// How requests to one registry are authorized.
#[derive(Clone)]
pub(crate) enum Auth {
    /// Nothing (anonymous pulls).
    None,
    /// HTTP Basic with the operator's credentials.
    Basic(String, String),
    /// A bearer token from the registry's token service.
    Bearer(String),
}

impl Auth {
    pub(crate) fn apply(&self, req: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::None => req,
            Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
            Auth::Bearer(t) => req.bearer_auth(t),
        }
    }
}

/// A registry error with the whole cause chain (a TLS failure is three levels down in reqwest's
/// sources, and "error sending request" alone tells the operator nothing).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Reads a response body of at most `cap` bytes (refusing more, before and while reading).
pub(crate) async fn read_capped(
    resp: reqwest::Response,
    cap: u64,
    what: &str,
) -> Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(format!("{what} is larger than {cap} bytes"));
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| chain(&e))?;
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(format!("{what} is larger than {cap} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The registry at `base` (`https://host:port`), for `repository` and `actions` (`pull` or
/// `pull,push`): asks `/v2/` what it wants (distribution-spec's token auth), and returns how to
/// authorize. The token realm must be HTTPS (plain HTTP only when the registry itself was
/// explicitly reached over plain HTTP, where no credentials are configured).
pub(crate) async fn authenticate(
    http: &reqwest::Client,
    base: &str,
    repository: &str,
    actions: &str,
    credentials: Option<(&str, &str)>,
) -> Result<Auth, String> {
    let resp = http
        .get(format!("{base}/v2/"))
        .send()
        .await
        .map_err(|e| chain(&e))?;
    match resp.status() {
        s if s.is_success() => return Ok(Auth::None),
        StatusCode::UNAUTHORIZED => {}
        s => return Err(format!("{base}/v2/ answered HTTP {s}")),
    }
    let header = resp
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let challenges = http_auth::parse_challenges(&header)
        .map_err(|e| format!("unreadable WWW-Authenticate header {header:?}: {e}"))?;
    if let Some(bearer) = challenges
        .iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
    {
        let param = |name: &str| {
            bearer
                .params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_unescaped())
        };
        let realm = param("realm").ok_or("bearer challenge without a realm")?;
        let plain_registry = base.starts_with("http://");
        let acceptable =
            realm.starts_with("https://") || (plain_registry && realm.starts_with("http://"));
        if !acceptable {
            return Err(format!("token realm {realm:?} is not HTTPS; refused"));
        }
        let scope = format!("repository:{repository}:{actions}");
        let mut query = vec![("scope", scope)];
        if let Some(service) = param("service") {
            query.push(("service", service));
        }
        let mut req = http.get(&realm).query(&query);
        if let Some((u, p)) = credentials {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req.send().await.map_err(|e| chain(&e))?;
        if !resp.status().is_success() {
            return Err(format!(
                "token service {realm} answered HTTP {}",
                resp.status()
            ));
        }
        let body = read_capped(resp, MAX_TOKEN_BYTES, "the token response").await?;
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let t: Token = serde_json::from_slice(&body).map_err(|e| format!("token response: {e}"))?;
        return t
            .token
            .or(t.access_token)
            .map(Auth::Bearer)
            .ok_or_else(|| "token response without a token".to_owned());
    }
    if challenges
        .iter()
        .any(|c| c.scheme.eq_ignore_ascii_case("basic"))
    {
        return match credentials {
            Some((u, p)) => Ok(Auth::Basic(u.to_owned(), p.to_owned())),
            None => Err("the registry requires credentials (--username, --password-file)".into()),
        };
    }
    Err(format!("unsupported authentication challenge {header:?}"))
}

/// GET a manifest (by tag or digest) under a size cap. `Ok(None)` on 404.
pub(crate) async fn get_manifest(
    http: &reqwest::Client,
    base: &str,
    repository: &str,
    by: &str,
    auth: &Auth,
    accept: &str,
    cap: u64,
) -> Result<Option<Vec<u8>>, String> {
    let url = format!("{base}/v2/{repository}/manifests/{by}");
    let resp = auth
        .apply(http.get(&url).header(ACCEPT, accept))
        .send()
        .await
        .map_err(|e| chain(&e))?;
    match resp.status() {
        StatusCode::OK => read_capped(resp, cap, "the manifest").await.map(Some),
        StatusCode::NOT_FOUND => Ok(None),
        s => Err(format!("HTTP {s}")),
    }
}

/// Parses `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`).
fn content_range_start(value: &str) -> Option<(u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, _total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, end.trim().parse().ok()?))
}

/// One ranged GET of a blob from `offset`, classified for the download loop: the registry's
/// answer (whole blob, or a range starting where it says), a transient failure to retry, or a
/// refusal. Bodies of failed requests are never read.
pub(crate) async fn get_blob(
    http: &reqwest::Client,
    base: &str,
    repository: &str,
    digest: &Digest,
    size: u64,
    offset: u64,
    auth: &Auth,
) -> std::result::Result<Answer, GetError> {
    let url = format!("{base}/v2/{repository}/blobs/{digest}");
    let mut req = auth.apply(http.get(&url));
    if offset > 0 {
        req = req.header(RANGE, format!("bytes={offset}-"));
    }
    let resp = req
        .send()
        .await
        .map_err(|e| GetError::Transient(chain(&e)))?;
    let length = resp
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let status = resp.status();
    let answer = match status {
        StatusCode::OK => {
            if length.is_some_and(|n| n != size) {
                return Err(GetError::Mismatch(format!(
                    "the registry sends {} bytes for a blob of {size}",
                    length.unwrap_or_default()
                )));
            }
            Answer::Whole(Box::pin(resp.bytes_stream().map(|r| r.map_err(|e| chain(&e)))))
        }
        StatusCode::PARTIAL_CONTENT => {
            let (start, end) = resp
                .headers()
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(content_range_start)
                .ok_or_else(|| GetError::Transient("206 without a readable Content-Range".into()))?;
            let consistent = end >= start && length.is_none_or(|n| n == end - start + 1);
            if !consistent {
                return Err(GetError::Transient(format!(
                    "Content-Range {start}-{end} and Content-Length {length:?} disagree"
                )));
            }
            Answer::Range {
                start,
                stream: Box::pin(resp.bytes_stream().map(|r| r.map_err(|e| chain(&e)))),
            }
        }
        StatusCode::RANGE_NOT_SATISFIABLE => {
            return Err(GetError::Mismatch(format!(
                "the registry's blob is shorter than {offset} bytes (HTTP 416); the manifest says {size}"
            )))
        }
        StatusCode::UNAUTHORIZED => return Err(GetError::Unauthorized),
        s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::REQUEST_TIMEOUT => {
            return Err(GetError::Transient(format!("HTTP {s}")))
        }
        s => return Err(GetError::Refused(format!("HTTP {s}"))),
    };
    Ok(answer)
}

/// The error for a failed registry request, classified by its reason: refused credentials
/// (`Auth`), a refused TLS certificate (`Tls`), or anything else (`Registry`). The reasons are our
/// own texts (HTTP status lines) or rustls's error text in the cause chain ("invalid peer
/// certificate"), which reqwest gives no typed access to.
pub(crate) fn registry_error(
    registry: &str,
    operation: impl Into<String>,
    reason: impl Into<String>,
) -> Error {
    let (registry, operation, reason) = (registry.to_owned(), operation.into(), reason.into());
    let auth = ["HTTP 401", "HTTP 403", "requires credentials"]
        .iter()
        .any(|m| reason.contains(m));
    let tls = [
        "invalid peer certificate",
        "certificate verify failed",
        "UnknownIssuer",
        "NotValidForName",
    ]
    .iter()
    .any(|m| reason.contains(m));
    if tls {
        Error::Tls {
            registry,
            operation,
            reason,
        }
    } else if auth {
        Error::Auth {
            registry,
            operation,
            reason,
        }
    } else {
        Error::Registry {
            registry,
            operation,
            reason,
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_errors_are_classified() {
        let e = registry_error("r", "op", "HTTP 401 Unauthorized");
        assert_eq!(e.kind(), "oci_auth");
        let e = registry_error(
            "r",
            "op",
            "client error (Connect): invalid peer certificate: UnknownIssuer",
        );
        assert_eq!(e.kind(), "oci_tls");
        let e = registry_error("r", "op", "HTTP 503 Service Unavailable");
        assert_eq!(e.kind(), "oci_registry");
    }

    #[test]
    fn content_range() {
        assert_eq!(content_range_start("bytes 100-199/200"), Some((100, 199)));
        assert_eq!(content_range_start("bytes 0-0/*"), Some((0, 0)));
        assert_eq!(content_range_start("items 0-1/2"), None);
        assert_eq!(content_range_start("bytes x-1/2"), None);
    }
}
