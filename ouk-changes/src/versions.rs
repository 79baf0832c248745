//! Per-ecosystem version ordering, used to evaluate OSV `SEMVER` and `ECOSYSTEM` ranges.
//!
//! An OSV range is only meaningful under the ordering of its ecosystem (`2.0.0rc1 < 2.0.0` in
//! PyPI, `1.0-SNAPSHOT < 1.0` in Maven), so each ecosystem gets the ordering its package
//! manager uses:
//! * npm, crates.io, Hex, Pub, SwiftURL: SemVer 2 (`semver` crate, precedence only: build
//!   metadata is ignored). Go too, after stripping the leading `v`; Go pseudo-versions
//!   (`v0.0.0-20220906165146-f3363e06e74c`) are SemVer prereleases and order by timestamp.
//!   Versions with fewer than three numeric parts (`0.2`, as GHSA writes range caps) are padded.
//! * PyPI: PEP 440 (`pep440_rs` crate).
//! * Maven: Maven's `ComparableVersion` (`mvn_version` crate).
//! * RubyGems, NuGet, Packagist: hand-written below, as no maintained crate implements these
//!   orderings (checked on crates.io); each follows the reference implementation's rules.
//! * Debian, Ubuntu: dpkg's ordering (`debversion` crate): epoch, upstream version, revision,
//!   `~` before everything.
//! * AlmaLinux, Rocky Linux, SUSE, openSUSE: RPM's ordering (`rpm-version` crate): epoch, then version and
//!   release by `rpmvercmp`, `~` before and `^` after the plain version.
//! * Alpine, Wolfi, Chainguard: apk-tools' ordering, hand-written below (`apk_version_compare`):
//!   the one crate (`apk-version`) wraps apk-tools' C through `unsafe` FFI, which the importer
//!   does not take.
//! * anything else: an approximate generic ordering (see [`compare_generic`]).

use std::cmp::Ordering;
use std::str::FromStr;

/// Compares two versions under the ordering of `ecosystem` (an OSV ecosystem name; a suffix such
/// as `:11` is ignored). `None` when either version does not parse for that ecosystem, so a
/// caller never evaluates a range under a guessed order.
pub fn compare(ecosystem: &str, a: &str, b: &str) -> Option<Ordering> {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    match base {
        "npm" | "crates.io" | "Hex" | "Pub" | "SwiftURL" => compare_semver(a, b),
        "Go" => compare_semver(a, b),
        "PyPI" => {
            let a = pep440_rs::Version::from_str(a.trim()).ok()?;
            let b = pep440_rs::Version::from_str(b.trim()).ok()?;
            Some(a.cmp(&b))
        }
        "Maven" => compare_maven(a, b),
        "RubyGems" => Some(RubyVersion::parse(a)?.cmp(&RubyVersion::parse(b)?)),
        "NuGet" => Some(NuGetVersion::parse(a)?.cmp(&NuGetVersion::parse(b)?)),
        "Packagist" => Some(ComposerVersion::parse(a)?.cmp(&ComposerVersion::parse(b)?)),
        "Debian" | "Ubuntu" => compare_dpkg(a, b),
        "Alpine" | "Wolfi" | "Chainguard" => compare_apk(a, b),
        "AlmaLinux" | "Rocky Linux" | "SUSE" | "openSUSE" => compare_rpm(a, b),
        _ => compare_generic(a, b),
    }
}

/// RPM's ordering of `[epoch:]version[-release]` (a missing epoch is 0). `None` for an empty or
/// over-long string, or one with characters RPM does not allow in a version (whitespace, control
/// characters, a second `-` in the release), so a range is never evaluated on garbage.
fn compare_rpm(a: &str, b: &str) -> Option<Ordering> {
    let ok = |v: &str| {
        !v.is_empty()
            && v.len() <= MAX_VERSION_LEN
            && v.matches('-').count() <= 1
            && v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b".:_+~^-".contains(&c))
    };
    (ok(a) && ok(b)).then(|| rpm_version::rpm_evr_compare(a, b))
}

/// dpkg's ordering. `None` for a string dpkg would not accept as a version.
fn compare_dpkg(a: &str, b: &str) -> Option<Ordering> {
    let parse = |v: &str| {
        if v.is_empty() || v.len() > MAX_VERSION_LEN {
            return None;
        }
        debversion::Version::from_str(v.trim()).ok()
    };
    Some(parse(a)?.cmp(&parse(b)?))
}

/// apk-tools' version token kinds, in its order (a later kind at the same position is "less
/// final": see [`compare_apk`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ApkToken {
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    RevisionNo,
    End,
    Invalid,
}

/// apk-tools' `next_token`: the kind of the token starting at `v[*i]`, given the previous kind;
/// consumes a separator (`.`, `_`, `-r`).
fn apk_next_kind(prev: ApkToken, v: &[u8], i: &mut usize) -> ApkToken {
    use ApkToken::*;
    let mut n = Invalid;
    match v.get(*i) {
        None => n = End,
        Some(c) if matches!(prev, Digit | DigitOrZero) && c.is_ascii_lowercase() => n = Letter,
        Some(c) if prev == Letter && c.is_ascii_digit() => n = Digit,
        Some(c) if prev == Suffix && c.is_ascii_digit() => n = SuffixNo,
        Some(c) => {
            match c {
                b'.' => n = DigitOrZero,
                b'_' => n = Suffix,
                b'-' if v.get(*i + 1) == Some(&b'r') => {
                    n = RevisionNo;
                    *i += 1;
                }
                _ => {}
            }
            *i += 1;
        }
    }
    let allowed_back = matches!(
        (n, prev),
        (DigitOrZero, Digit) | (Suffix, SuffixNo) | (Digit, Letter)
    );
    if n < prev && !allowed_back {
        n = Invalid;
    }
    n
}

/// apk-tools' `get_token`: the value of the token of kind `*kind` at `v[*i]`, then the next
/// kind. Pre-release suffixes are negative, leading zeros make a part compare low.
fn apk_token(kind: &mut ApkToken, v: &[u8], i: &mut usize) -> i64 {
    use ApkToken::*;
    const PRE: [&[u8]; 4] = [b"alpha", b"beta", b"pre", b"rc"];
    const POST: [&[u8]; 5] = [b"cvs", b"svn", b"git", b"hg", b"p"];
    if *i >= v.len() {
        *kind = End;
        return 0;
    }
    let start = *i;
    let value: i64;
    let mut next = Invalid;
    let digits = |i: &mut usize| {
        let mut n: i64 = 0;
        while let Some(c) = v.get(*i).filter(|c| c.is_ascii_digit()) {
            // Saturating: a 30-digit "version" orders after every real one, never panics.
            n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
            *i += 1;
        }
        n
    };
    match *kind {
        DigitOrZero if v[start] == b'0' => {
            while v.get(*i) == Some(&b'0') {
                *i += 1;
            }
            next = Digit;
            value = -((*i - start) as i64);
        }
        DigitOrZero | Digit | SuffixNo | RevisionNo => value = digits(i),
        Letter => {
            value = i64::from(v[start]);
            *i += 1;
        }
        Suffix => {
            let rest = &v[start..];
            if let Some(p) = PRE.iter().position(|s| rest.starts_with(s)) {
                value = p as i64 - PRE.len() as i64;
                *i += PRE[p].len();
            } else if let Some(p) = POST.iter().position(|s| rest.starts_with(s)) {
                value = p as i64;
                *i += POST[p].len();
            } else {
                *kind = Invalid;
                return -1;
            }
        }
        End | Invalid => {
            *kind = Invalid;
            return -1;
        }
    }
    *kind = if *i >= v.len() {
        End
    } else if next != Invalid {
        next
    } else {
        apk_next_kind(*kind, v, i)
    };
    value
}

/// apk-tools' `apk_version_compare` (src/version.c), token by token as Trivy's port
/// (`go-apk-version`) does: at the first difference the larger value wins; when one version
/// ends first, the longer one is greater unless what follows is a pre-release suffix
/// (`1.1_rc1 < 1.1 < 1.1_p1 < 1.1-r1`). `None` for a malformed version.
fn compare_apk(a: &str, b: &str) -> Option<Ordering> {
    use ApkToken::*;
    let (a, b) = (a.trim().as_bytes(), b.trim().as_bytes());
    // apk_version_validate: every token well-formed up to the end.
    let valid = |v: &[u8]| {
        if v.is_empty() || v.len() > MAX_VERSION_LEN || !v[0].is_ascii_digit() {
            return false;
        }
        let (mut kind, mut i) = (Digit, 0usize);
        while kind != End && kind != Invalid {
            apk_token(&mut kind, v, &mut i);
        }
        kind == End
    };
    if !valid(a) || !valid(b) {
        return None;
    }
    let (mut ai, mut bi) = (0usize, 0usize);
    let (mut at, mut bt) = (Digit, Digit);
    let (mut av, mut bv) = (0i64, 0i64);
    while at == bt && at != End && at != Invalid && av == bv {
        av = apk_token(&mut at, a, &mut ai);
        bv = apk_token(&mut bt, b, &mut bi);
    }
    if at == Invalid || bt == Invalid {
        return None;
    }
    match av.cmp(&bv) {
        Ordering::Equal => {}
        other => return Some(other),
    }
    if at == bt {
        return Some(Ordering::Equal);
    }
    let pre_release = |kind: ApkToken, v: &[u8], i: usize| {
        let (mut k, mut j) = (kind, i);
        kind == Suffix && apk_token(&mut k, v, &mut j) < 0
    };
    if pre_release(at, a, ai) {
        return Some(Ordering::Less);
    }
    if pre_release(bt, b, bi) {
        return Some(Ordering::Greater);
    }
    Some(bt.cmp(&at))
}

/// SemVer 2 precedence, as OSV's `SEMVER` range type defines it. Accepts a leading `v` (Go) and
/// pads a version core with fewer than three parts (`0.2` → `0.2.0`).
pub fn compare_semver(a: &str, b: &str) -> Option<Ordering> {
    Some(parse_semver(a)?.cmp_precedence(&parse_semver(b)?))
}

fn parse_semver(v: &str) -> Option<semver::Version> {
    let v = v.trim();
    let v = v.strip_prefix('v').unwrap_or(v);
    if let Ok(parsed) = semver::Version::parse(v) {
        return Some(parsed);
    }
    // Pad `1` / `1.2` (optionally followed by `-pre` or `+build`) to three parts.
    let split = v.find(['-', '+']).unwrap_or(v.len());
    let (core, tail) = v.split_at(split);
    let parts = core.split('.').count();
    if core.is_empty() || parts >= 3 {
        return None;
    }
    let padded = format!("{core}{}{tail}", ".0".repeat(3 - parts));
    semver::Version::parse(&padded).ok()
}

/// Maven's ComparableVersion via `mvn_version`. Its parser accepts every string, so a version
/// without any digit (not a release anyone publishes) is refused here instead of ordered.
fn compare_maven(a: &str, b: &str) -> Option<Ordering> {
    let ok =
        |s: &str| !s.trim().is_empty() && s.chars().any(|c| c.is_ascii_digit()) && s.len() <= 256;
    if !ok(a) || !ok(b) {
        return None;
    }
    let a = mvn_version::ComparableVersion::new(a.trim());
    let b = mvn_version::ComparableVersion::new(b.trim());
    Some(a.cmp(&b))
}

/// Longest version string any hand-written parser accepts.
const MAX_VERSION_LEN: usize = 256;

/// One segment of a RubyGems version: numbers sort after strings (a string segment marks a
/// prerelease).
#[derive(Debug, Clone, PartialEq, Eq)]
enum GemSegment {
    Num(u64),
    Str(String),
}

impl PartialOrd for GemSegment {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GemSegment {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (GemSegment::Num(a), GemSegment::Num(b)) => a.cmp(b),
            (GemSegment::Str(a), GemSegment::Str(b)) => a.cmp(b),
            (GemSegment::Str(_), GemSegment::Num(_)) => Ordering::Less,
            (GemSegment::Num(_), GemSegment::Str(_)) => Ordering::Greater,
        }
    }
}

/// `Gem::Version` (rubygems/version.rb): a version must match `\d+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+
/// (\.[0-9A-Za-z-]+)*)?`; `-` means `.pre.`; segments are the runs of digits or letters;
/// trailing zeros of the release part and of the prerelease part are dropped
/// (`canonical_segments`); missing segments compare as 0.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RubyVersion(Vec<GemSegment>);

impl RubyVersion {
    fn parse(v: &str) -> Option<Self> {
        let v = v.trim();
        if v.is_empty() || v.len() > MAX_VERSION_LEN || !v.starts_with(|c: char| c.is_ascii_digit())
        {
            return None;
        }
        if !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return None;
        }
        let v = v.replace('-', ".pre.");
        let mut segs = Vec::new();
        for part in v.split('.') {
            if part.is_empty() {
                return None;
            }
            for run in runs(part) {
                segs.push(match run.parse::<u64>() {
                    Ok(n) => GemSegment::Num(n),
                    Err(_) if run.starts_with(|c: char| c.is_ascii_digit()) => return None,
                    Err(_) => GemSegment::Str(run.to_string()),
                });
            }
        }
        // canonical_segments: split at the first string segment, strip trailing zeros of each.
        let first_str = segs
            .iter()
            .position(|s| matches!(s, GemSegment::Str(_)))
            .unwrap_or(segs.len());
        let mut pre = segs.split_off(first_str);
        strip_trailing_zeros(&mut segs);
        strip_trailing_zeros(&mut pre);
        segs.extend(pre);
        Some(RubyVersion(segs))
    }
}

fn strip_trailing_zeros(segs: &mut Vec<GemSegment>) {
    while segs.last() == Some(&GemSegment::Num(0)) {
        segs.pop();
    }
}

impl PartialOrd for RubyVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RubyVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = GemSegment::Num(0);
        let n = self.0.len().max(other.0.len());
        for i in 0..n {
            let a = self.0.get(i).unwrap_or(&zero);
            let b = other.0.get(i).unwrap_or(&zero);
            match a.cmp(b) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    }
}

/// Splits `2a10` into `2`, `a`, `10`.
fn runs(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = s.as_bytes();
    for i in 1..=bytes.len() {
        if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[i - 1].is_ascii_digit() {
            out.push(&s[start..i]);
            start = i;
        }
    }
    out
}

/// NuGet's `NuGetVersion` (NuGet.Versioning): SemVer 2 with an optional fourth numeric part
/// (`4.0.0.1`), missing parts are 0, build metadata after `+` is ignored, prerelease labels
/// compare case-insensitively (numeric labels numerically, and before alphanumeric ones), and a
/// release sorts after its prereleases.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NuGetVersion {
    release: [u64; 4],
    pre: Vec<PreLabel>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum PreLabel {
    // Declared first: numeric identifiers sort before alphanumeric ones (SemVer 2 rule 11).
    Num(u64),
    Str(String),
}

impl NuGetVersion {
    fn parse(v: &str) -> Option<Self> {
        let v = v.trim();
        if v.is_empty() || v.len() > MAX_VERSION_LEN {
            return None;
        }
        let v = v.split('+').next()?;
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (v, None),
        };
        let mut release = [0u64; 4];
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 4 {
            return None;
        }
        for (slot, p) in release.iter_mut().zip(&parts) {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            *slot = p.parse().ok()?;
        }
        let mut labels = Vec::new();
        if let Some(pre) = pre {
            for l in pre.split('.') {
                if l.is_empty() || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return None;
                }
                labels.push(match l.parse::<u64>() {
                    Ok(n) if l.bytes().all(|b| b.is_ascii_digit()) => PreLabel::Num(n),
                    _ => PreLabel::Str(l.to_ascii_lowercase()),
                });
            }
        }
        Some(NuGetVersion {
            release,
            pre: labels,
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.release.cmp(&other.release).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                // Vec ordering: label by label, a shorter list that is a prefix sorts first.
                (false, false) => self.pre.cmp(&other.pre),
            }
        })
    }
}

/// Composer's version normalisation (`VersionParser::normalize`) followed by PHP's
/// `version_compare` on the result: a leading `v` is dropped, up to four numeric parts (missing
/// ones are 0), then an optional stability suffix ordered `dev < alpha < beta < RC < stable <
/// patch` (`a`/`b`/`p`/`pl` are aliases) with an optional number. Branch names (`dev-main`)
/// have no order and are refused.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ComposerVersion {
    release: [u64; 4],
    stability: u8,
    stability_num: Vec<u64>,
}

impl ComposerVersion {
    fn parse(v: &str) -> Option<Self> {
        let v = v.trim();
        if v.is_empty() || v.len() > MAX_VERSION_LEN {
            return None;
        }
        let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
        let v = v.split('+').next()?;
        let lower = v.to_ascii_lowercase();
        // The numeric part: digits and dots from the start.
        let num_end = lower
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(lower.len());
        let (num, rest) = lower.split_at(num_end);
        let num = num.trim_end_matches('.');
        let parts: Vec<&str> = num.split('.').collect();
        if num.is_empty() || parts.len() > 4 {
            return None;
        }
        let mut release = [0u64; 4];
        for (slot, p) in release.iter_mut().zip(&parts) {
            if p.is_empty() {
                return None;
            }
            *slot = p.parse().ok()?;
        }
        let rest = rest.trim_start_matches(['-', '_', '.']);
        if rest.is_empty() {
            return Some(ComposerVersion {
                release,
                stability: STABLE,
                stability_num: Vec::new(),
            });
        }
        // Longest names first so `beta` is not read as `b` + `eta`.
        const SUFFIXES: [(&str, u8); 10] = [
            ("stable", STABLE),
            ("alpha", 1),
            ("patch", 5),
            ("beta", 2),
            ("dev", 0),
            ("rc", 3),
            ("pl", 5),
            ("a", 1),
            ("b", 2),
            ("p", 5),
        ];
        let (stability, tail) = SUFFIXES
            .iter()
            .find_map(|(name, rank)| rest.strip_prefix(name).map(|t| (*rank, t)))?;
        let mut stability_num = Vec::new();
        for n in tail.split(['.', '-']).filter(|s| !s.is_empty()) {
            if n == "dev" {
                // `1.0.0-beta2-dev`: a dev build of that prerelease sorts just below it.
                stability_num.push(0);
                continue;
            }
            stability_num.push(n.parse().ok()?);
        }
        Some(ComposerVersion {
            release,
            stability,
            stability_num,
        })
    }
}

const STABLE: u8 = 4;

/// Approximate ordering for ecosystems without a dedicated comparator: the version is split into
/// runs of digits (compared numerically) and runs of letters (compared lexically, case-folded);
/// every other character only separates runs; a number sorts after a word at the same position
/// and a version that is a prefix of another sorts first. Right for plain dotted numbers, not
/// for prerelease suffixes (`1.0rc1` sorts after `1.0`). `None` when there is no digit at all.
pub fn compare_generic(a: &str, b: &str) -> Option<Ordering> {
    let ta = generic_tokens(a)?;
    let tb = generic_tokens(b)?;
    Some(ta.cmp(&tb))
}

/// A generic token: words sort before numbers (declaration order); a number compares by its
/// digit count, then its digits, so arbitrarily long numbers order correctly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum GenericToken {
    Word(String),
    Num { len: usize, digits: String },
}

fn generic_tokens(v: &str) -> Option<Vec<GenericToken>> {
    if v.len() > MAX_VERSION_LEN || !v.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut out = Vec::new();
    for chunk in v.split(|c: char| !c.is_ascii_alphanumeric()) {
        for run in runs(chunk).into_iter().filter(|r| !r.is_empty()) {
            out.push(if run.starts_with(|c: char| c.is_ascii_digit()) {
                let digits = run.trim_start_matches('0').to_string();
                GenericToken::Num {
                    len: digits.len(),
                    digits,
                }
            } else {
                GenericToken::Word(run.to_ascii_lowercase())
            });
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn check(eco: &str, pairs: &[(&str, &str, Ordering)]) {
        for (a, b, want) in pairs {
            assert_eq!(compare(eco, a, b), Some(*want), "{eco}: {a} vs {b}");
            assert_eq!(
                compare(eco, b, a),
                Some(want.reverse()),
                "{eco}: {b} vs {a}"
            );
        }
    }

    #[test]
    fn semver_ecosystems() {
        check(
            "npm",
            &[
                ("4.17.20", "4.17.21", Less),
                ("6.3.0", "6.3.1", Less),
                ("7.0.0-rc.1", "7.0.0", Less),
                ("1.0.0-alpha.beta", "1.0.0-beta", Less),
                ("1.0.0+build.1", "1.0.0+build.2", Equal),
                ("10.0.0", "9.9.9", Greater),
            ],
        );
        check(
            "crates.io",
            &[
                ("0.1.43", "0.2", Less),
                ("0.3.9", "0.2", Greater),
                ("1.6.0", "1.6.0", Equal),
            ],
        );
        assert_eq!(compare("npm", "not-a-version", "1.0.0"), None);
        assert_eq!(compare("npm", "", "1.0.0"), None);
    }

    #[test]
    fn rpm_ordering_for_almalinux_and_rocky() {
        // Cases from rpm's own rpmvercmp tests and the shapes ALSA/RLSA records use.
        for eco in ["AlmaLinux:8", "Rocky Linux:9"] {
            check(
                eco,
                &[
                    ("1:1.1.1k-9.el8_7", "1:1.1.1k-12.el8_9", Less),
                    ("1:1.1.1k-9.el8_7", "1.1.1k-12.el8_9", Greater),
                    ("0:2.9.13-6.el9_4", "2.9.13-6.el9_4", Equal),
                    ("8.7p1-43.el9", "8.7p1-38.el9_4.4", Greater),
                    ("7.61.1-33.el8_9.5", "7.61.1-34.el8_10.2", Less),
                    ("1.0~rc1", "1.0", Less),
                    ("1.0^git1", "1.0", Greater),
                    ("1.0^git1", "1.1", Less),
                    ("1.0a", "1.0", Greater),
                    ("2.0", "10", Less),
                    ("5.5p1", "5.5p10", Less),
                    ("1.0010", "1.9", Greater),
                ],
            );
        }
        assert_eq!(compare("AlmaLinux:8", "", "1.0-1"), None);
        assert_eq!(compare("AlmaLinux:8", "1.0 || >0", "1.0-1"), None);
        assert_eq!(compare("Rocky Linux:9", "1.0-1-2", "1.0-1"), None);
        // Odd but allowed strings order without panicking, and consistently both ways (the
        // importer compares versions from SBOMs it did not write).
        let odd = [
            ":",
            "1:",
            ":1",
            "a:b",
            "1:2:3",
            "-",
            "1-",
            "-1",
            "^",
            "~",
            "0:0",
            "~~",
            "^^",
            ".",
            "_",
            "+",
            "1..2",
            "99999999999999999999999:1",
            "1:99999999999999999999999",
        ];
        for a in odd {
            for b in odd {
                let ab = compare("AlmaLinux:8", a, b);
                assert_eq!(
                    ab.map(Ordering::reverse),
                    compare("AlmaLinux:8", b, a),
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn go_versions_and_pseudo_versions() {
        check(
            "Go",
            &[
                ("v1.6.3", "1.7.0", Less),
                ("v1.7.0", "1.7.0", Equal),
                ("v0.16.0", "0.17.0", Less),
                // Pseudo-versions are prereleases of the next version: below it, ordered by time.
                (
                    "0.0.0-20220906165146-f3363e06e74c",
                    "0.0.0-20221004154528-8021a29435af",
                    Less,
                ),
                ("v0.0.0-20220906165146-f3363e06e74c", "0.1.0", Less),
                ("v0.1.1-0.20220906165146-f3363e06e74c", "v0.1.0", Greater),
                ("v2.0.0+incompatible", "2.0.0", Equal),
            ],
        );
    }

    #[test]
    fn pypi_pep440() {
        check(
            "PyPI",
            &[
                ("2.0.0rc1", "2.0.0", Less),
                ("1.0.post1", "1.0", Greater),
                ("1.0.dev0", "1.0a1", Less),
                ("2.31.0", "2.31", Equal),
                ("1!0.1", "2.0", Greater),
                ("2.3.0", "2.30.0", Less),
                ("1.11.0", "1.9", Greater),
            ],
        );
        assert_eq!(compare("PyPI", "not a version", "1.0"), None);
    }

    #[test]
    fn maven_comparable_version() {
        check(
            "Maven",
            &[
                ("1.0-SNAPSHOT", "1.0", Less),
                ("2.15.0", "2.3.1", Greater),
                ("2.0-beta9", "2.0", Less),
                ("2.0-beta9", "2.3.1", Less),
                ("2.0-alpha1", "2.0-beta1", Less),
                ("2.0-rc1", "2.0", Less),
                ("1.0", "1.0.0", Equal),
                ("1.0-sp1", "1.0", Greater),
                ("2.12.2", "2.14.1", Less),
            ],
        );
        assert_eq!(compare("Maven", "", "1.0"), None);
    }

    #[test]
    fn rubygems() {
        check(
            "RubyGems",
            &[
                ("2.0.9.1", "2.0.9", Greater),
                ("2.1.0.pre", "2.1.0", Less),
                ("2.1.0.pre", "2.0.9", Greater),
                ("2.2.3", "2.2.3.1", Less),
                ("1.0", "1.0.0", Equal),
                ("1.0.a10", "1.0.a9", Greater),
                ("1.0.0-rc1", "1.0.0", Less),
                ("1.0.b1", "1.0.a2", Greater),
            ],
        );
        assert_eq!(compare("RubyGems", "abc", "1.0"), None);
        assert_eq!(compare("RubyGems", "1..0", "1.0"), None);
    }

    #[test]
    fn nuget() {
        check(
            "NuGet",
            &[
                ("12.0.3", "13.0.1", Less),
                ("13.0.1", "13.0.1.0", Equal),
                ("4.0.0.1", "4.0.0", Greater),
                ("1.0.0-Beta", "1.0.0-beta", Equal),
                ("1.0.0-beta.2", "1.0.0-beta.10", Less),
                ("1.0.0-alpha", "1.0.0", Less),
                ("1.0.0+meta", "1.0.0", Equal),
                ("1.0", "1.0.0", Equal),
            ],
        );
        assert_eq!(compare("NuGet", "1.0.0.0.0", "1.0"), None);
    }

    #[test]
    fn packagist_composer() {
        check(
            "Packagist",
            &[
                ("7.4.4", "7.4.5", Less),
                ("v7.4.5", "7.4.5", Equal),
                ("7.0.0-beta1", "7.0.0", Less),
                ("7.0.0-alpha2", "7.0.0-beta1", Less),
                ("7.0.0-RC1", "7.0.0-beta3", Greater),
                ("7.0.0-p1", "7.0.0", Greater),
                ("7.0.0-dev", "7.0.0-alpha1", Less),
                ("6.5.8", "7.0.0", Less),
                ("1.0.0-beta2", "1.0.0-beta10", Less),
            ],
        );
        assert_eq!(compare("Packagist", "dev-main", "1.0"), None);
    }

    #[test]
    fn dpkg_order_for_debian_and_ubuntu() {
        for eco in ["Debian:12", "Ubuntu:22.04:LTS"] {
            check(
                eco,
                &[
                    ("3.0.11-1~deb12u1", "3.0.13-1~deb12u1", Ordering::Less),
                    ("3.0.11-1~deb12u1", "3.0.11-1", Ordering::Less),
                    ("1:1.2.12-1", "1.2.13.dfsg-1", Ordering::Greater),
                    ("1:1.2.13.dfsg-1", "1:1.2.12-1", Ordering::Greater),
                    ("3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.15", Ordering::Less),
                    ("1.0-1", "1.0-1", Ordering::Equal),
                    ("1.0~rc1-1", "1.0-1", Ordering::Less),
                    ("1.0-1+b1", "1.0-1", Ordering::Greater),
                ],
            );
        }
        assert_eq!(compare("Debian:12", "", "1.0"), None);
    }

    #[test]
    fn apk_order_for_alpine() {
        // Cases from apk-tools' version rules: suffix ranks, revisions, letters, leading zeros.
        check(
            "Alpine:v3.19",
            &[
                ("3.1.4-r1", "3.1.4-r5", Ordering::Less),
                ("1.36.1-r15", "1.36.1-r15", Ordering::Equal),
                ("1.0", "1.1", Ordering::Less),
                ("1.1_alpha", "1.1", Ordering::Less),
                ("1.1_alpha1", "1.1_beta", Ordering::Less),
                ("1.1_rc1", "1.1", Ordering::Less),
                // apk-tools' quirk, kept because Trivy's comparator (go-apk-version, a port of
                // the same C) has it too: after a `.0` part the suffix is read as a later token,
                // so the version with the suffix is the longer, greater one.
                ("1.0_alpha", "1.0", Ordering::Greater),
                ("1.1_rc1", "1.1_rc2", Ordering::Less),
                ("1.1", "1.1_p1", Ordering::Less),
                ("1.1_p1", "1.1-r1", Ordering::Greater),
                ("1.0", "1.0-r1", Ordering::Less),
                ("1.0a", "1.0", Ordering::Greater),
                ("1.0a", "1.0b", Ordering::Less),
                ("1.01", "1.1", Ordering::Less),
                ("0.1.0", "0.1", Ordering::Greater),
                ("2.10", "2.9", Ordering::Greater),
                ("1.2.3_git20240101-r0", "1.2.3-r0", Ordering::Greater),
            ],
        );
        for bad in ["", "r1", "1.0_bogus", "1.0-x1", "1..0-", "v1.0"] {
            assert_eq!(compare("Alpine:v3.19", bad, "1.0"), None, "{bad}");
        }
    }

    #[test]
    fn generic_fallback_is_approximate() {
        check(
            "Hackage",
            &[
                ("1.2.10", "1.2.9", Greater),
                ("1.2", "1.2.1", Less),
                ("1.0a", "1.0.1", Less),
                ("1.00", "1.0", Equal),
                ("99999999999999999999999", "1", Greater),
            ],
        );
        assert_eq!(compare("Hackage", "abc", "1"), None);
    }

    #[test]
    fn odd_input_never_panics_and_is_antisymmetric() {
        let odd = [
            "",
            "0",
            "-",
            ".",
            "..",
            "v",
            "1-",
            "1.",
            "1..2",
            "é1",
            "1.é",
            "١٢",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-a..b",
            "dev-main",
            "1.0-SNAPSHOT",
            "99999999999999999999999999.1",
            "0000000000000000000",
            "1.2.3.4.5.6",
            "1.0.0-0.3.7",
            "2.0.0rc1",
            "~1",
            "*",
            "1:1.2-3",
            "1:",
            "1.0-r",
            "1.0-r1-r2",
            "1.0_p",
            "1.0a_rc1-r3",
            "1.0.00001",
            "1.0_alpha_beta",
        ];
        let ecosystems = [
            "npm",
            "crates.io",
            "Go",
            "PyPI",
            "Maven",
            "RubyGems",
            "NuGet",
            "Packagist",
            "Hex",
            "Pub",
            "SwiftURL",
            "Debian:11",
            "Ubuntu:22.04:LTS",
            "Alpine:v3.19",
            "",
        ];
        for eco in ecosystems {
            for a in odd {
                for b in odd {
                    let ab = compare(eco, a, b);
                    assert_eq!(
                        ab.map(Ordering::reverse),
                        compare(eco, b, a),
                        "{eco}: {a} {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn ecosystem_suffix_is_ignored() {
        assert_eq!(
            compare("Maven:https://maven.google.com", "1.0", "2.0"),
            Some(Less)
        );
    }
}
