//! One qualitative severity per advisory, so reports can be grouped the way Trivy groups its
//! findings: GHSA's `database_specific.severity` label first, else the CVSS v3 (then v4) base
//! score rated by the `cvss` crate, else an Ubuntu priority (OSV's `Ubuntu` severity type, the
//! only rating Ubuntu's records carry, mapped as trivy-db maps it), else `UNKNOWN`. The change
//! report and the re-scan matcher both use [`rate`], so a finding and the advisory it comes
//! from always agree.

/// The one rating rule, for callers that parsed the record their own way (the matcher):
/// the label when it is one of the four (GHSA's `MODERATE` is `MEDIUM`, as in Trivy), else the
/// first CVSS v3 vector's base score, else the first CVSS v4 vector's, rated by the `cvss`
/// crate (the same bands as Trivy's `scoreToSeverity`). `vectors` yields `(type, vector)`.
pub fn rate<'a>(
    label: Option<&str>,
    vectors: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> Option<&'static str> {
    if let Some(l) = label {
        match l.trim().to_ascii_uppercase().as_str() {
            "CRITICAL" => return Some("CRITICAL"),
            "HIGH" => return Some("HIGH"),
            "MODERATE" | "MEDIUM" => return Some("MEDIUM"),
            "LOW" => return Some("LOW"),
            _ => {}
        }
    }
    let clean = |v: &'a str| v.trim().trim_end_matches('/');
    let v3 = vectors
        .clone()
        .filter(|(kind, _)| *kind == "CVSS_V3")
        .find_map(|(_, v)| clean(v).parse::<cvss::v3::Base>().ok())
        .map(|b| b.score().severity());
    let v4 = || {
        vectors
            .clone()
            .filter(|(kind, _)| *kind == "CVSS_V4")
            .find_map(|(_, v)| clean(v).parse::<cvss::v4::Vector>().ok())
            .map(|v| v.score().severity())
    };
    let Some(sev) = v3.or_else(v4) else {
        return vectors
            .filter(|(kind, _)| *kind == "Ubuntu")
            .find_map(|(_, p)| ubuntu_priority(p));
    };
    match sev {
        cvss::Severity::None => None,
        cvss::Severity::Low => Some("LOW"),
        cvss::Severity::Medium => Some("MEDIUM"),
        cvss::Severity::High => Some("HIGH"),
        cvss::Severity::Critical => Some("CRITICAL"),
    }
}

/// Ubuntu's priorities as trivy-db rates them (`negligible` is `LOW`; `untriaged` says nothing),
/// by the rule the Trivy DB export shares (`ouk_distro`).
pub fn ubuntu_priority(priority: &str) -> Option<&'static str> {
    const NAMES: [&str; 4] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
    let rank = ouk_distro::ubuntu_priority_rank(priority)?;
    NAMES.get(usize::from(rank) - 1).copied()
}

#[cfg(test)]
mod tests {
    use crate::record_facts::read_facts;

    fn severity_of(line: &str) -> &'static str {
        read_facts(line.as_bytes()).unwrap().severity()
    }

    const CRIT: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";

    #[test]
    fn label_wins_over_cvss_and_moderate_is_medium() {
        let r = format!(
            r#"{{"database_specific":{{"severity":"MODERATE"}},"severity":[{{"type":"CVSS_V3","score":"{CRIT}"}}]}}"#
        );
        assert_eq!(severity_of(&r), "MEDIUM");
    }

    #[test]
    fn cvss_scores_without_a_label() {
        let r = format!(r#"{{"severity":[{{"type":"CVSS_V3","score":"{CRIT}"}}]}}"#);
        assert_eq!(severity_of(&r), "CRITICAL");
        let r = r#"{"affected":[{"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}]}]}"#;
        assert_eq!(severity_of(r), "MEDIUM");
        let r = r#"{"severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"}]}"#;
        assert_eq!(severity_of(r), "MEDIUM");
    }

    #[test]
    fn an_ubuntu_priority_rates_a_record_without_label_or_cvss() {
        let r = r#"{"affected":[{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"openssl"}}],
                    "severity":[{"type":"Ubuntu","score":"negligible"}]}"#;
        assert_eq!(severity_of(r), "LOW");
        let r = format!(
            r#"{{"severity":[{{"type":"Ubuntu","score":"low"}},{{"type":"CVSS_V3","score":"{CRIT}"}}]}}"#
        );
        assert_eq!(severity_of(&r), "CRITICAL");
        assert_eq!(
            severity_of(r#"{"severity":[{"type":"Ubuntu","score":"untriaged"}]}"#),
            "UNKNOWN"
        );
    }

    #[test]
    fn nothing_usable_is_unknown() {
        assert_eq!(
            severity_of(r#"{"severity":[{"type":"CVSS_V3","score":"garbage"}]}"#),
            "UNKNOWN"
        );
        assert_eq!(
            severity_of(r#"{"database_specific":{"severity":"weird"}}"#),
            "UNKNOWN"
        );
    }
}
