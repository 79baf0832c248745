//! Human-readable text of a statement, for `ouk-importer inspect KIT --provenance`.

use crate::json_walk::{self, Caps, Node, NodeSeed, Walk};
use crate::limits::Limits;
use serde::de::DeserializeSeed;
use std::fmt::Write as _;

/// Most JSON values of a statement shown by `inspect --provenance`. Why: the rendered statement is
/// held as a tree, so its size must be bounded whatever a (validly signed) builder put in it; ~4
/// values per subject, so this shows statements of up to ~25k members.
const RENDER_MAX_VALUES: usize = 100_000;

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

/// The member `key` of an object node.
fn get<'v>(v: &'v Node, key: &str) -> Option<&'v Node> {
    v.as_obj().and_then(|m| json_walk::get(m, key))
}

fn s<'v>(v: &'v Node, path: &[&str]) -> Option<&'v Node> {
    path.iter().try_fold(v, |cur, k| get(cur, k))
}

/// Compact JSON text of a node (for values shown that are not strings).
fn json(v: &Node, out: &mut String) {
    match v {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Num(Some(n)) => out.push_str(&n.to_string()),
        Node::Num(None) => out.push_str("(number)"),
        Node::Str(x) => out.push_str(&serde_json::to_string(x).unwrap_or_default()),
        Node::Arr(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(x, out);
            }
            out.push(']');
        }
        Node::Obj(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                json(x, out);
            }
            out.push('}');
        }
    }
}

fn text(v: Option<&Node>) -> String {
    match v {
        Some(Node::Str(x)) => safe(x),
        Some(Node::Null) | None => "(absent)".to_owned(),
        Some(other) => {
            let mut out = String::new();
            json(other, &mut out);
            safe(&out)
        }
    }
}

fn digests(v: Option<&Node>) -> String {
    match v.and_then(Node::as_obj) {
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
    let walk = Walk::new(Caps {
        max_depth: limits.max_json_depth,
        max_values: RENDER_MAX_VALUES,
        max_object_keys: limits.max_json_object_keys,
        max_array_len: RENDER_MAX_VALUES,
        element_values: RENDER_MAX_VALUES,
        element_bytes: limits.max_statement_bytes,
        max_string: limits.max_statement_bytes,
    });
    let mut de = serde_json::Deserializer::from_slice(payload);
    let parsed = NodeSeed {
        walk: &walk,
        depth: 0,
        keep: true,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    let v = match parsed {
        Ok(v) => v,
        Err(e) => {
            return match walk.take_abort() {
                Some(why) => format!("provenance statement is not rendered: {why:?}\n"),
                None => format!("provenance statement is not parseable JSON: {e}\n"),
            }
        }
    };
    let mut out = String::new();
    // `write!` to a String cannot fail; results are ignored on purpose.
    let _ = writeln!(out, "Statement type:  {}", text(get(&v, "_type")));
    let _ = writeln!(out, "Predicate type:  {}", text(get(&v, "predicateType")));
    let p = get(&v, "predicate");
    let bd = p.and_then(|p| get(p, "buildDefinition"));
    let rd = p.and_then(|p| get(p, "runDetails"));
    let _ = writeln!(
        out,
        "Build type:      {}",
        text(bd.and_then(|b| get(b, "buildType")))
    );
    let _ = writeln!(
        out,
        "Builder id:      {}",
        text(rd.and_then(|r| s(r, &["builder", "id"])))
    );
    if let Some(ver) = rd
        .and_then(|r| s(r, &["builder", "version"]))
        .and_then(Node::as_obj)
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

    let subjects = get(&v, "subject").and_then(Node::as_arr).unwrap_or(&[]);
    let _ = writeln!(out, "\nSubjects ({}):", subjects.len());
    for sub in subjects {
        let _ = writeln!(
            out,
            "  {}  {}",
            digests(get(sub, "digest")),
            text(get(sub, "name"))
        );
    }

    let ext = bd.and_then(|b| get(b, "externalParameters"));
    let _ = writeln!(out, "\nBuild request (externalParameters):");
    let sources = ext
        .and_then(|e| get(e, "sources"))
        .and_then(Node::as_arr)
        .unwrap_or(&[]);
    for src in sources {
        let uri = get(src, "uri")
            .map(|u| format!("  {}", text(Some(u))))
            .unwrap_or_default();
        let _ = writeln!(out, "  source  {}{}", text(get(src, "name")), uri);
    }
    if let Some(opts) = ext.and_then(|e| get(e, "options")).and_then(Node::as_obj) {
        for (k, x) in opts {
            let _ = writeln!(out, "  option  {} = {}", safe(k), text(Some(x)));
        }
    }

    let deps = bd
        .and_then(|b| get(b, "resolvedDependencies"))
        .and_then(Node::as_arr)
        .unwrap_or(&[]);
    let _ = writeln!(out, "\nResolved dependencies ({}):", deps.len());
    for d in deps {
        let ann = get(d, "annotations");
        let kind = text(ann.and_then(|a| get(a, "kind")));
        let mut line = format!("  [{kind}] {}", text(get(d, "name")));
        if let Some(ver) = ann.and_then(|a| get(a, "version")) {
            let _ = write!(line, "  version {}", text(Some(ver)));
        }
        if let Some(uri) = get(d, "uri") {
            let _ = write!(line, "  {}", text(Some(uri)));
        }
        let _ = writeln!(out, "{line}\n      {}", digests(get(d, "digest")));
    }
    out
}
