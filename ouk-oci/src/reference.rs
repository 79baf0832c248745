//! `oci://host[:port]/repository[:tag][@sha256:<hex>]` references and strict digests.
//!
//! Inside an air gap there is no default registry: a reference without an explicit host would
//! silently mean Docker Hub, so the host is required. Parsing of the repository/tag grammar is
//! left to `oci_client::Reference`; this module adds the scheme, the host rule and the strict
//! digest form.

use std::fmt;

use ouk_format::digest::Sha256;

use crate::error::{Error, Result};

/// A content digest of the only algorithm we accept, `sha256:<64 lower-case hex>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub Sha256);

impl Digest {
    /// Parse the strict `sha256:<hex>` form (registries hand back other algorithms and upper case
    /// too; we refuse them so one object has one name).
    pub fn parse(s: &str) -> Option<Digest> {
        s.strip_prefix("sha256:")
            .and_then(Sha256::from_hex)
            .map(Digest)
    }

    /// Digest of a byte slice.
    pub fn of(data: &[u8]) -> Digest {
        Digest(Sha256::of(data))
    }

    /// The hex part alone (blob file names, fallback tags).
    pub fn hex(&self) -> String {
        self.0.to_hex()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.0.to_hex())
    }
}

/// A parsed `oci://` reference.
#[derive(Debug, Clone)]
pub struct OciRef {
    /// Registry host and port, as written.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Tag, if one was given.
    pub tag: Option<String>,
    /// Pinned manifest digest, if one was given.
    pub digest: Option<Digest>,
}

impl OciRef {
    /// Parse `oci://host[:port]/repo[:tag][@sha256:hex]`.
    pub fn parse(input: &str) -> Result<OciRef> {
        let bad = |reason: &str| Error::BadReference {
            reference: input.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = input
            .strip_prefix("oci://")
            .ok_or_else(|| bad("must start with oci://"))?;
        let (host, _) = rest
            .split_once('/')
            .ok_or_else(|| bad("no repository after the host"))?;
        if !(host.contains('.') || host.contains(':') || host == "localhost") {
            return Err(bad(
                "the first component must be a registry host (with a dot or a port, or localhost): \
                 there is no default registry",
            ));
        }
        let parsed: oci_client::Reference = rest.parse().map_err(|e| bad(&format!("{e}")))?;
        let digest = match parsed.digest() {
            None => None,
            Some(d) => Some(
                Digest::parse(d)
                    .ok_or_else(|| bad("the digest must be sha256:<64 lower-case hex>"))?,
            ),
        };
        // `oci_client` defaults a reference with neither tag nor digest to `latest`; so do we, but
        // only when nothing was written.
        Ok(OciRef {
            registry: parsed.registry().to_owned(),
            repository: parsed.repository().to_owned(),
            tag: parsed.tag().map(str::to_owned),
            digest,
        })
    }

    /// The same repository at a tag (for pushes and the referrers fallback tag).
    pub fn with_tag(&self, tag: &str) -> oci_client::Reference {
        oci_client::Reference::with_tag(
            self.registry.clone(),
            self.repository.clone(),
            tag.to_owned(),
        )
    }

    /// The same repository at a digest.
    pub fn with_digest(&self, digest: &Digest) -> oci_client::Reference {
        oci_client::Reference::with_digest(
            self.registry.clone(),
            self.repository.clone(),
            digest.to_string(),
        )
    }
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    #[test]
    fn parses_tag_and_digest_forms() {
        let r = OciRef::parse("oci://127.0.0.1:5443/ouk/kits:stable").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5443");
        assert_eq!(r.repository, "ouk/kits");
        assert_eq!(r.tag.as_deref(), Some("stable"));
        assert!(r.digest.is_none());
        let r = OciRef::parse(&format!("oci://registry.site.example/kits@sha256:{HEX}")).unwrap();
        assert_eq!(r.digest.unwrap().hex(), HEX);
        assert_eq!(
            r.to_string(),
            format!("oci://registry.site.example/kits@sha256:{HEX}")
        );
    }

    #[test]
    fn refuses_what_would_be_ambiguous_or_weak() {
        for bad in [
            "https://host.example/kits:1",
            "oci://kits:1",
            "oci://library/kits:1",
            "oci://host.example",
            &format!("oci://host.example/kits@sha256:{}", HEX.to_uppercase()),
            &format!("oci://host.example/kits@sha512:{HEX}{HEX}"),
            "oci://host.example/Kits:1",
        ] {
            assert!(
                matches!(OciRef::parse(bad), Err(Error::BadReference { .. })),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn digest_is_strict() {
        assert!(Digest::parse(&format!("sha256:{HEX}")).is_some());
        assert!(Digest::parse(HEX).is_none());
        assert!(Digest::parse(&format!("sha256:{}", &HEX[1..])).is_none());
        assert_eq!(Digest::of(b"{}").hex(), HEX);
    }
}
