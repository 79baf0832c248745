//! One qualitative severity per advisory, so reports can be grouped the way Trivy groups its
//! findings: GHSA's `database_specific.severity` label first, else the CVSS v3 (then v4) base
//! score rated by the `cvss` crate, else `UNKNOWN`. The change report and the re-scan matcher
//! both use [`rate`], so a finding and the advisory it comes from always agree.

use serde_json::{Map, Value};

/// Qualitative severity of a merged OSV record: `CRITICAL`, `HIGH`, `MEDIUM`, `LOW` or `UNKNOWN`.
pub fn severity_of(record: &Map<String, Value>) -> String {
    let label = record
        .get("database_specific")
        .and_then(|d| d.get("severity"))
        .and_then(Value::as_str);
    let top = vectors(record.get("severity"));
    let per_package = record
        .get("affected")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|a| vectors(a.get("severity")));
    rate(label, top.chain(per_package))
        .unwrap_or("UNKNOWN")
        .to_owned()
}

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
    let sev = v3.or_else(|| {
        vectors
            .filter(|(kind, _)| *kind == "CVSS_V4")
            .find_map(|(_, v)| clean(v).parse::<cvss::v4::Vector>().ok())
            .map(|v| v.score().severity())
    })?;
    match sev {
        cvss::Severity::None => None,
        cvss::Severity::Low => Some("LOW"),
        cvss::Severity::Medium => Some("MEDIUM"),
        cvss::Severity::High => Some("HIGH"),
        cvss::Severity::Critical => Some("CRITICAL"),
    }
}

fn vectors(severities: Option<&Value>) -> impl Iterator<Item = (&str, &str)> + Clone {
    severities
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some((
                s.get("type").and_then(Value::as_str)?,
                s.get("score").and_then(Value::as_str)?,
            ))
        })
        .filter(|(_, v)| !v.is_empty() && v.len() <= 256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> Map<String, Value> {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn label_wins_over_cvss_and_moderate_is_medium() {
        let r = obj(r#"{"database_specific":{"severity":"MODERATE"},
                "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#);
        assert_eq!(severity_of(&r), "MEDIUM");
    }

    #[test]
    fn cvss_v3_scores_without_a_label() {
        let r = obj(
            r#"{"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#,
        );
        assert_eq!(severity_of(&r), "CRITICAL");
        let r = obj(
            r#"{"affected":[{"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}]}]}"#,
        );
        assert_eq!(severity_of(&r), "MEDIUM");
    }

    #[test]
    fn nothing_usable_is_unknown() {
        assert_eq!(
            severity_of(&obj(
                r#"{"severity":[{"type":"CVSS_V3","score":"garbage"}]}"#
            )),
            "UNKNOWN"
        );
        assert_eq!(
            severity_of(&obj(r#"{"database_specific":{"severity":"weird"}}"#)),
            "UNKNOWN"
        );
    }
}
