//! Human-readable text of a statement, for `ouk-importer inspect KIT --provenance`.

use crate::limits::Limits;
use crate::strict_json;
use serde_json::Value;
use std::fmt::Write as _;

/// Makes attacker-controlled text safe to print on a terminal: control characters (ESC, CR, …) are
/// shown escaped instead of being interpreted.
fn safe(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn s<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, k| cur.get(*k))
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(x)) => safe(x),
        Some(Value::Null) | None => "(absent)".to_owned(),
        Some(other) => safe(&other.to_string()),
    }
}

fn digests(v: Option<&Value>) -> String {
    match v.and_then(Value::as_object) {
        Some(m) => m
            .iter()
            .map(|(k, d)| format!("{}:{}", safe(k), text(Some(d))))
            .collect::<Vec<_>>()
            .join(" "),
        None => "(no digest)".to_owned(),
    }
}

/// Renders a statement payload as readable text. It renders only: nothing is verified here (the
/// importer runs [`crate::check_statement`] for that), and it never fails — a payload that is not
/// parseable JSON yields a one-line explanation instead. Every string from the payload is escaped so it
/// cannot drive the terminal.
pub fn render_statement(payload: &[u8]) -> String {
    let limits = Limits::default();
    if payload.len() > limits.max_statement_bytes {
        return format!(
            "provenance statement too large to render ({} bytes)\n",
            payload.len()
        );
    }
    let v = match strict_json::parse(payload, limits.max_json_depth, limits.max_json_values) {
        Ok(v) => v,
        Err(e) => return format!("provenance statement is not parseable JSON: {e:?}\n"),
    };
    let mut out = String::new();
    // `write!` to a String cannot fail; results are ignored on purpose.
    let _ = writeln!(out, "Statement type:  {}", text(v.get("_type")));
    let _ = writeln!(out, "Predicate type:  {}", text(v.get("predicateType")));
    let p = v.get("predicate");
    let bd = p.and_then(|p| p.get("buildDefinition"));
    let rd = p.and_then(|p| p.get("runDetails"));
    let _ = writeln!(
        out,
        "Build type:      {}",
        text(bd.and_then(|b| b.get("buildType")))
    );
    let _ = writeln!(
        out,
        "Builder id:      {}",
        text(rd.and_then(|r| s(r, &["builder", "id"])))
    );
    if let Some(ver) = rd
        .and_then(|r| s(r, &["builder", "version"]))
        .and_then(Value::as_object)
    {
        for (k, x) in ver {
            let _ = writeln!(out, "Builder version: {} {}", safe(k), text(Some(x)));
        }
    }
    let _ = writeln!(
        out,
        "Invocation id:   {}",
        text(rd.and_then(|r| s(r, &["metadata", "invocationId"])))
    );
    let _ = writeln!(
        out,
        "Started on:      {}",
        text(rd.and_then(|r| s(r, &["metadata", "startedOn"])))
    );
    let _ = writeln!(
        out,
        "Finished on:     {}",
        text(rd.and_then(|r| s(r, &["metadata", "finishedOn"])))
    );

    let subjects = v
        .get("subject")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let _ = writeln!(out, "\nSubjects ({}):", subjects.len());
    for sub in subjects {
        let _ = writeln!(
            out,
            "  {}  {}",
            digests(sub.get("digest")),
            text(sub.get("name"))
        );
    }

    let ext = bd.and_then(|b| b.get("externalParameters"));
    let _ = writeln!(out, "\nBuild request (externalParameters):");
    let sources = ext
        .and_then(|e| e.get("sources"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for src in sources {
        let uri = src
            .get("uri")
            .map(|u| format!("  {}", text(Some(u))))
            .unwrap_or_default();
        let _ = writeln!(out, "  source  {}{}", text(src.get("name")), uri);
    }
    if let Some(opts) = ext
        .and_then(|e| e.get("options"))
        .and_then(Value::as_object)
    {
        for (k, x) in opts {
            let _ = writeln!(out, "  option  {} = {}", safe(k), text(Some(x)));
        }
    }

    let deps = bd
        .and_then(|b| b.get("resolvedDependencies"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let _ = writeln!(out, "\nResolved dependencies ({}):", deps.len());
    for d in deps {
        let ann = d.get("annotations");
        let kind = text(ann.and_then(|a| a.get("kind")));
        let mut line = format!("  [{kind}] {}", text(d.get("name")));
        if let Some(ver) = ann.and_then(|a| a.get("version")) {
            let _ = write!(line, "  version {}", text(Some(ver)));
        }
        if let Some(uri) = d.get("uri") {
            let _ = write!(line, "  {}", text(Some(uri)));
        }
        let _ = writeln!(out, "{line}\n      {}", digests(d.get("digest")));
    }
    out
}
