//! One qualitative severity per advisory, so reports can be grouped the way Trivy groups its
//! findings: GHSA's `database_specific.severity` label first, else the CVSS v3 base score
//! (scored by the `cvss` crate with Trivy's thresholds), else `UNKNOWN`. The same rule as the
//! Trivy DB export (ouk-trivy/src/mapping.rs), so the report and a Trivy scan agree.

use serde_json::{Map, Value};

/// Qualitative severity of a merged OSV record: `CRITICAL`, `HIGH`, `MEDIUM`, `LOW` or `UNKNOWN`.
pub fn severity_of(record: &Map<String, Value>) -> String {
    label(record)
        .or_else(|| cvss_v3(record))
        .unwrap_or("UNKNOWN")
        .to_owned()
}

fn label(record: &Map<String, Value>) -> Option<&'static str> {
    let raw = record.get("database_specific")?.get("severity")?.as_str()?;
    match raw.to_ascii_uppercase().as_str() {
        "CRITICAL" => Some("CRITICAL"),
        "HIGH" => Some("HIGH"),
        "MODERATE" | "MEDIUM" => Some("MEDIUM"),
        "LOW" => Some("LOW"),
        _ => None,
    }
}

fn vectors(severities: Option<&Value>) -> impl Iterator<Item = &str> {
    severities
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|s| s.get("type").and_then(Value::as_str) == Some("CVSS_V3"))
        .filter_map(|s| s.get("score").and_then(Value::as_str))
        .map(|s| s.trim().trim_end_matches('/'))
        .filter(|s| !s.is_empty() && s.len() <= 256)
}

fn cvss_v3(record: &Map<String, Value>) -> Option<&'static str> {
    let top = vectors(record.get("severity"));
    let per_package = record
        .get("affected")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|a| vectors(a.get("severity")));
    let vector = top.chain(per_package).next()?;
    let score = vector.parse::<cvss::v3::Base>().ok()?.score().value();
    // Trivy's scoreToSeverity.
    Some(if score >= 9.0 {
        "CRITICAL"
    } else if score >= 7.0 {
        "HIGH"
    } else if score >= 4.0 {
        "MEDIUM"
    } else if score > 0.0 {
        "LOW"
    } else {
        return None;
    })
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
