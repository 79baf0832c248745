//! The admin's status page: one self-contained, static HTML5 document.
//!
//! * Inline `<style>` only, **no JavaScript**, no external URL of any kind (fonts, images, links),
//!   and a Content-Security-Policy `<meta>` that forbids everything else, so the page can be opened
//!   from a USB stick on the air-gapped workstation and nothing can go wrong or leave the machine.
//! * Pure: [`render`] reads only its argument (the caller passes "now"), so the same model always
//!   gives byte-identical output.
//! * Every piece of text from the model goes through [`Esc`] (or [`escape`]); nothing from the
//!   model is ever placed in a tag name, a class or a URL — those come from fixed whitelists.
//! * Bounded: at most [`MAX_ROWS`] rows per table (with an "… and N more" line), at most
//!   [`MAX_SBOMS`] SBOM sections, [`MAX_CHART_GENERATIONS`] bars and [`MAX_CHART_SERIES`] series
//!   (+ "other") per chart.
//!
//! No templating crate: the page is small, and with `std::fmt::Write` each interpolation and its
//! escaping is visible at the `write!` site; askama/maud would add a proc-macro build to a crate
//! that otherwise compiles in seconds, without making the escaping any more explicit.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

/// Rows rendered per table before "… and N more".
pub const MAX_ROWS: usize = 200;
/// Newly affected SBOMs rendered (each with its own findings table).
pub const MAX_SBOMS: usize = 50;
/// Bars (generations, newest kept) per chart.
pub const MAX_CHART_GENERATIONS: usize = 24;
/// Series (ecosystems or severities) per chart; the rest are summed into one "other" series.
pub const MAX_CHART_SERIES: usize = 11;
/// Below this much time left, the active generation's expiry is shown in amber.
pub const EXPIRY_WARN_SECS: i64 = 3 * 86_400;

// ------------------------------------------------------------------------------------------------
// Model

/// Everything the page shows. Plain owned data; the importer fills it from the store.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusPage {
    /// Shown in the header and the document title, e.g. the store path.
    pub title: String,
    /// RFC 3339 "now", shown as "generated at".
    pub generated_at: String,
    /// The same "now" in Unix seconds: countdowns and ages are computed from it.
    pub now_unix: i64,
    /// Newest first; at most one is `active`.
    pub generations: Vec<GenerationRow>,
    /// Per kept generation: advisory counts per ecosystem and per severity (any order).
    pub advisories_by_generation: Vec<GenerationCounts>,
    pub last_changes: Option<ChangeSummary>,
    pub last_rescan: Option<RescanSummary>,
    pub audit: AuditStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GenerationRow {
    pub name: String,
    pub kit_id: String,
    pub sequence: u64,
    pub channel: String,
    pub created_at: String,
    pub created_unix: i64,
    pub imported_at: String,
    pub expires_at: String,
    pub expires_unix: i64,
    pub active: bool,
    pub trust_root_version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GenerationCounts {
    pub generation: String,
    pub sequence: u64,
    /// An advisory that names several ecosystems counts once in each.
    pub by_ecosystem: BTreeMap<String, u64>,
    pub by_severity: BTreeMap<String, u64>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChangeSummary {
    /// `None`: the first import (everything is "added").
    pub from: Option<String>,
    pub to: String,
    pub added: u64,
    pub changed: u64,
    pub withdrawn: u64,
    pub removed: u64,
    pub by_ecosystem: BTreeMap<String, CountsRow>,
    pub by_severity: BTreeMap<String, CountsRow>,
    /// The first N entries of the change report.
    pub examples: Vec<ChangeExample>,
    pub sbom_components_added: u64,
    pub sbom_components_removed: u64,
    pub sbom_components_changed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CountsRow {
    pub added: u64,
    pub changed: u64,
    pub withdrawn: u64,
    pub removed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChangeExample {
    pub id: String,
    /// `added`, `changed`, `withdrawn` or `removed`.
    pub kind: String,
    pub ecosystems: Vec<String>,
    pub severity: Option<String>,
    /// Changed fields (for `changed`).
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RescanSummary {
    pub at: String,
    pub generation: String,
    pub previous: Option<String>,
    pub sboms_scanned: u64,
    pub newly_affected: Vec<AffectedSbom>,
    /// `ouk` or `trivy x.y`.
    pub engine: String,
    /// SBOM files the re-scan could not read or scan, each with the reason: a re-scan with any
    /// is incomplete, and the page must not look clean.
    #[serde(default)]
    pub unreadable: Vec<String>,
    /// Components of the scanned SBOMs that were not checked, by kind (`rpm/redhat`): the kit
    /// has no advisories for them, so their absence from the findings means nothing.
    #[serde(default)]
    pub unchecked: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AffectedSbom {
    pub sbom: String,
    pub new_findings: Vec<FindingRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FindingRow {
    pub advisory: String,
    pub package: String,
    pub installed: String,
    pub fixed: Option<String>,
    pub severity: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditStatus {
    pub ok: bool,
    pub entries: u64,
    pub detail: String,
}

/// How close a generation is to its expiry, as of "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// [`EXPIRY_WARN_SECS`] or more left.
    Ok,
    /// Less than [`EXPIRY_WARN_SECS`] left.
    Soon,
    /// At or past `expires_unix`.
    Expired,
}

/// The expiry state of a generation expiring at `expires_unix`, as of `now_unix`.
pub fn expiry_state(now_unix: i64, expires_unix: i64) -> Expiry {
    let left = expires_unix.saturating_sub(now_unix);
    if left <= 0 {
        Expiry::Expired
    } else if left < EXPIRY_WARN_SECS {
        Expiry::Soon
    } else {
        Expiry::Ok
    }
}

// ------------------------------------------------------------------------------------------------
// Escaping

/// Escapes `& < > " '` for HTML text and (double- or single-quoted) attribute values.
pub fn escape(s: &str) -> String {
    Esc(s).to_string()
}

/// Display adapter that writes its string HTML-escaped (no intermediate allocation).
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

// ------------------------------------------------------------------------------------------------
// Rendering

/// Renders the whole page. Deterministic: same model, same bytes.
pub fn render(page: &StatusPage) -> String {
    let mut out = String::with_capacity(32 * 1024);
    write_page(&mut out, page).expect("fmt::Write for String never fails");
    out
}

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE: &str = r#"
:root{--ok:#1b7f3b;--warn:#9a5b00;--bad:#b3261e;--muted:#5f6368;--line:#d5d9de;--bg:#f4f5f7}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2328;background:var(--bg)}
header{background:#24292f;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c9d1d9;font-size:13px;overflow-wrap:anywhere}
header code{color:#fff}
main{max-width:1120px;margin:0 auto;padding:8px 24px 40px}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:14px 18px;margin:16px 0}
h2{font-size:17px;margin:0 0 10px}
h3{font-size:15px;margin:16px 0 6px;overflow-wrap:anywhere}
p{margin:6px 0}
table{border-collapse:collapse;width:100%;font-size:13.5px;margin:6px 0}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f4;font-weight:600;white-space:nowrap}
.n{text-align:right;font-variant-numeric:tabular-nums}
.nw,.nw code{white-space:nowrap;overflow-wrap:normal}
td.id{overflow-wrap:break-word}
.scroll{overflow-x:auto}
tr.active td{background:#edf7ef}
code,.id{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:12.5px;overflow-wrap:anywhere}
.muted{color:var(--muted)}
.empty{color:var(--muted);font-style:italic}
.more{color:var(--muted);font-style:italic}
.state{padding:9px 14px;border-radius:6px;border-left:6px solid;margin:8px 0}
.state.ok{border-color:var(--ok);background:#e8f5ec}
.state.warn{border-color:var(--warn);background:#fff3dc}
.state.bad{border-color:var(--bad);background:#fdecea;color:#8c1d18}
.state b{font-size:16px}
.big{font-size:24px;font-weight:700}
.ok-t{color:var(--ok)}.warn-t{color:var(--warn);font-weight:600}.bad-t{color:var(--bad);font-weight:700}
.tiles{display:flex;gap:10px;flex-wrap:wrap;margin:8px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:6px 14px;min-width:120px}
.tile b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;color:#fff;background:#757575;white-space:nowrap}
.sev-critical{background:#7f1d1d}.sev-high{background:#d32f2f}.sev-medium{background:#e65100}
.sev-low{background:#f2c200;color:#222}.sev-none{background:#9e9e9e}
.k-added{background:#2e7d32}.k-changed{background:#1565c0}.k-withdrawn{background:#9a5b00}.k-removed{background:#616161}
.charts{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;flex:1 1 460px;max-width:500px}
figcaption{font-size:13px;color:var(--muted)}
svg{max-width:100%;height:auto}
.cols{display:flex;flex-wrap:wrap;gap:20px}.cols>div{flex:1 1 320px;min-width:0}
"#;

fn write_page(out: &mut String, p: &StatusPage) -> fmt::Result {
    let active = p.generations.iter().find(|g| g.active);
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>OUK status \u{2014} {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        Esc(&p.title)
    )?;
    write!(
        out,
        "<header>\n<h1>Offline Update Kit \u{2014} status</h1>\n\
         <p>Store <code>{}</code> \u{b7} generated at {}</p>\n</header>\n<main>\n",
        Esc(&p.title),
        Esc(&p.generated_at)
    )?;
    glance(out, p, active)?;
    freshness(out, p, active)?;
    rescan(out, p.last_rescan.as_ref())?;
    changes(out, p.last_changes.as_ref())?;
    charts(out, p, active)?;
    generations(out, p)?;
    audit(out, &p.audit)?;
    out.push_str("</main>\n</body>\n</html>\n");
    Ok(())
}

/// "3 d 4 h", "5 h", "12 min" for a non-negative span.
fn span(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The top strip: one line each for freshness, newly affected SBOMs and the audit log.
fn glance(out: &mut String, p: &StatusPage, active: Option<&GenerationRow>) -> fmt::Result {
    out.push_str("<section id=\"glance\">\n<h2>At a glance</h2>\n");
    match active {
        None => out.push_str("<div class=\"state bad\"><b>No active generation</b></div>\n"),
        Some(g) => {
            let left = g.expires_unix.saturating_sub(p.now_unix);
            match expiry_state(p.now_unix, g.expires_unix) {
                Expiry::Expired => writeln!(
                    out,
                    "<div class=\"state bad\"><b>Data EXPIRED {} ago</b></div>",
                    span(left)
                )?,
                Expiry::Soon => writeln!(
                    out,
                    "<div class=\"state warn\"><b>Data expires in {}</b></div>",
                    span(left)
                )?,
                Expiry::Ok => writeln!(
                    out,
                    "<div class=\"state ok\"><b>Data valid for {}</b></div>",
                    span(left)
                )?,
            }
        }
    }
    match &p.last_rescan {
        None => out.push_str("<div class=\"state warn\"><b>No re-scan yet</b></div>\n"),
        Some(r) if r.newly_affected.is_empty() => {
            out.push_str("<div class=\"state ok\"><b>No SBOM newly affected</b></div>\n")
        }
        Some(r) => writeln!(
            out,
            "<div class=\"state bad\"><b>{} newly affected</b></div>",
            plural(r.newly_affected.len() as u64, "SBOM", "SBOMs")
        )?,
    }
    if let Some(r) = p.last_rescan.as_ref().filter(|r| !r.unreadable.is_empty()) {
        writeln!(
            out,
            "<div class=\"state warn\"><b>{} not scanned</b></div>",
            plural(r.unreadable.len() as u64, "SBOM", "SBOMs")
        )?;
    }
    if p.audit.ok {
        out.push_str("<div class=\"state ok\"><b>Audit log intact</b></div>\n");
    } else {
        out.push_str("<div class=\"state bad\"><b>Audit log BROKEN</b></div>\n");
    }
    out.push_str("</section>\n");
    Ok(())
}

fn freshness(out: &mut String, p: &StatusPage, active: Option<&GenerationRow>) -> fmt::Result {
    out.push_str("<section id=\"freshness\">\n<h2>Freshness</h2>\n");
    let Some(g) = active else {
        if p.generations.is_empty() {
            out.push_str("<p class=\"empty\">No generation imported yet.</p>\n");
        } else {
            out.push_str(
                "<p id=\"expiry\" class=\"state bad\">Generations are kept but none is active.</p>\n",
            );
        }
        out.push_str("</section>\n");
        return Ok(());
    };
    let left = g.expires_unix.saturating_sub(p.now_unix);
    let (class, text) = match expiry_state(p.now_unix, g.expires_unix) {
        Expiry::Expired => ("bad", format!("EXPIRED {} ago", span(left))),
        Expiry::Soon => ("warn", format!("Expires in {}", span(left))),
        Expiry::Ok => ("ok", format!("Expires in {}", span(left))),
    };
    writeln!(
        out,
        "<div id=\"expiry\" class=\"state {class}\"><span class=\"big\">{text}</span><br>\
         Active generation <code>{}</code> (sequence {}, channel {}) expires at {}.</div>",
        Esc(&g.name),
        g.sequence,
        Esc(&g.channel),
        Esc(&g.expires_at)
    )?;
    let age = p.now_unix.saturating_sub(g.created_unix);
    if age >= 0 {
        writeln!(
            out,
            "<p>Data age: <b>{}</b> since the kit was created ({}); imported {}.</p>",
            span(age),
            Esc(&g.created_at),
            Esc(&g.imported_at)
        )?;
    } else {
        writeln!(
            out,
            "<p class=\"warn-t\">The kit was created {} in the future ({}): check this machine's clock.</p>",
            span(age),
            Esc(&g.created_at)
        )?;
    }
    out.push_str("</section>\n");
    Ok(())
}

fn more(out: &mut String, total: usize, shown: usize, cols: usize) -> fmt::Result {
    if total > shown {
        writeln!(
            out,
            "<tr><td colspan=\"{cols}\" class=\"more\">\u{2026} and {} more</td></tr>",
            total - shown
        )?;
    }
    Ok(())
}

/// The paragraph form of [`more`], after a list: "… and N more" followed by `what`.
fn more_paragraph(out: &mut String, total: usize, shown: usize, what: &str) -> fmt::Result {
    if total > shown {
        writeln!(
            out,
            "<p class=\"more\">\u{2026} and {} more{what}</p>",
            total - shown
        )?;
    }
    Ok(())
}

/// Whitelisted CSS class for a severity string (never model text in an attribute).
fn sev_class(sev: &str) -> &'static str {
    match sev.to_ascii_lowercase().as_str() {
        "critical" => "sev-critical",
        "high" | "important" => "sev-high",
        "medium" | "moderate" => "sev-medium",
        "low" => "sev-low",
        _ => "sev-none",
    }
}

fn sev_badge(out: &mut String, sev: Option<&str>) -> fmt::Result {
    match sev {
        Some(s) => write!(
            out,
            "<span class=\"badge {}\">{}</span>",
            sev_class(s),
            Esc(s)
        ),
        None => {
            out.push_str("<span class=\"muted\">\u{2014}</span>");
            Ok(())
        }
    }
}

fn rescan(out: &mut String, r: Option<&RescanSummary>) -> fmt::Result {
    out.push_str("<section id=\"rescan\">\n<h2>Newly affected SBOMs (last re-scan)</h2>\n");
    let Some(r) = r else {
        out.push_str("<p class=\"empty\">No re-scan yet.</p>\n</section>\n");
        return Ok(());
    };
    if r.newly_affected.is_empty() {
        out.push_str("<p class=\"state ok\"><b>No SBOM newly affected.</b></p>\n");
    } else {
        let findings: usize = r.newly_affected.iter().map(|s| s.new_findings.len()).sum();
        writeln!(
            out,
            "<p class=\"state bad\"><span class=\"big\">{} newly affected</span><br>{} new.</p>",
            plural(r.newly_affected.len() as u64, "SBOM", "SBOMs"),
            plural(findings as u64, "finding", "findings")
        )?;
    }
    write!(
        out,
        "<p class=\"muted\">Re-scan at {} of {} against generation <code>{}</code>",
        Esc(&r.at),
        plural(r.sboms_scanned, "SBOM", "SBOMs"),
        Esc(&r.generation)
    )?;
    match &r.previous {
        Some(prev) => write!(out, ", compared with <code>{}</code>", Esc(prev))?,
        None => out.push_str(" (first scan: every finding is new)"),
    }
    writeln!(out, "; engine: {}.</p>", Esc(&r.engine))?;
    if !r.unreadable.is_empty() {
        writeln!(
            out,
            "<p class=\"state warn\"><b>Incomplete: {} could not be scanned.</b></p>\n<ul>",
            plural(r.unreadable.len() as u64, "SBOM file", "SBOM files")
        )?;
        for u in r.unreadable.iter().take(MAX_SBOMS) {
            writeln!(out, "<li><code>{}</code></li>", Esc(u))?;
        }
        out.push_str("</ul>\n");
        more_paragraph(out, r.unreadable.len(), MAX_SBOMS, "")?;
    }
    if !r.unchecked.is_empty() {
        let total: u64 = r.unchecked.values().sum();
        write!(
            out,
            "<p class=\"state warn\">{} not checked: the kit has no advisories for them (",
            plural(total, "component", "components")
        )?;
        for (i, (kind, n)) in r.unchecked.iter().take(MAX_ROWS).enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(out, "{sep}<code>{}</code> {n}", Esc(kind))?;
        }
        if r.unchecked.len() > MAX_ROWS {
            out.push_str(", \u{2026}");
        }
        out.push_str(").</p>\n");
    }
    for s in r.newly_affected.iter().take(MAX_SBOMS) {
        write!(
            out,
            "<h3><code>{}</code> \u{2014} {}</h3>\n<table>\n<thead><tr><th>Advisory</th><th>Package</th>\
             <th>Installed</th><th>Fixed in</th><th>Severity</th></tr></thead>\n<tbody>\n",
            Esc(&s.sbom),
            plural(s.new_findings.len() as u64, "new finding", "new findings")
        )?;
        for f in s.new_findings.iter().take(MAX_ROWS) {
            write!(
                out,
                "<tr><td class=\"id\">{}</td><td class=\"id\">{}</td><td class=\"id\">{}</td><td class=\"id\">",
                Esc(&f.advisory),
                Esc(&f.package),
                Esc(&f.installed)
            )?;
            match &f.fixed {
                Some(v) => write!(out, "{}", Esc(v))?,
                None => out.push_str("<span class=\"muted\">no fix</span>"),
            }
            out.push_str("</td><td>");
            sev_badge(out, f.severity.as_deref())?;
            out.push_str("</td></tr>\n");
        }
        more(out, s.new_findings.len(), MAX_ROWS, 5)?;
        out.push_str("</tbody>\n</table>\n");
    }
    more_paragraph(
        out,
        r.newly_affected.len(),
        MAX_SBOMS,
        " newly affected SBOMs",
    )?;
    out.push_str("</section>\n");
    Ok(())
}

fn counts_table(out: &mut String, key: &str, rows: &BTreeMap<String, CountsRow>) -> fmt::Result {
    if rows.is_empty() {
        return writeln!(out, "<p class=\"empty\">No changes by {key}.</p>");
    }
    let mut rows: Vec<(&String, &CountsRow)> = rows.iter().collect();
    if key == "Severity" {
        // CRITICAL, HIGH, MEDIUM, LOW, others, unknown (stable: ties stay alphabetical).
        rows.sort_by_key(|(k, _)| severity_rank(k).0);
    }
    write!(
        out,
        "<table>\n<thead><tr><th>{key}</th><th class=\"n\">Added</th><th class=\"n\">Changed</th>\
         <th class=\"n\">Withdrawn</th><th class=\"n\">Removed</th></tr></thead>\n<tbody>\n"
    )?;
    for (k, c) in rows.iter().take(MAX_ROWS) {
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td></tr>",
            Esc(k),
            c.added,
            c.changed,
            c.withdrawn,
            c.removed
        )?;
    }
    more(out, rows.len(), MAX_ROWS, 5)?;
    out.push_str("</tbody>\n</table>\n");
    Ok(())
}

fn changes(out: &mut String, c: Option<&ChangeSummary>) -> fmt::Result {
    out.push_str("<section id=\"changes\">\n<h2>Last change report</h2>\n");
    let Some(c) = c else {
        out.push_str("<p class=\"empty\">No change report yet.</p>\n</section>\n");
        return Ok(());
    };
    match &c.from {
        Some(from) => writeln!(
            out,
            "<p>From <code>{}</code> to <code>{}</code>.</p>",
            Esc(from),
            Esc(&c.to)
        )?,
        None => writeln!(
            out,
            "<p>First import: <code>{}</code> (everything is added).</p>",
            Esc(&c.to)
        )?,
    }
    write!(
        out,
        "<div class=\"tiles\"><div class=\"tile\">Added<b>{}</b></div><div class=\"tile\">Changed<b>{}</b></div>\
         <div class=\"tile\">Withdrawn<b>{}</b></div><div class=\"tile\">Removed<b>{}</b></div></div>\n\
         <p>SBOM components: {} added, {} removed, {} changed.</p>\n",
        c.added,
        c.changed,
        c.withdrawn,
        c.removed,
        c.sbom_components_added,
        c.sbom_components_removed,
        c.sbom_components_changed
    )?;
    out.push_str("<div class=\"cols\"><div>\n<h3>By ecosystem</h3>\n");
    counts_table(out, "Ecosystem", &c.by_ecosystem)?;
    out.push_str("</div><div>\n<h3>By severity</h3>\n");
    counts_table(out, "Severity", &c.by_severity)?;
    out.push_str("</div></div>\n<h3>Examples</h3>\n");
    if c.examples.is_empty() {
        out.push_str("<p class=\"empty\">No entries.</p>\n");
    } else {
        let total = c.added + c.changed + c.withdrawn + c.removed;
        let shown = c.examples.len().min(MAX_ROWS);
        if (shown as u64) < total {
            writeln!(
                out,
                "<p class=\"muted\">The first {shown} of {total} entries.</p>"
            )?;
        }
        out.push_str(
            "<table>\n<thead><tr><th>Advisory</th><th>Kind</th><th>Ecosystems</th><th>Severity</th>\
             <th>Changed fields</th></tr></thead>\n<tbody>\n",
        );
        for e in c.examples.iter().take(MAX_ROWS) {
            let kind_class = match e.kind.as_str() {
                "added" => "k-added",
                "changed" => "k-changed",
                "withdrawn" => "k-withdrawn",
                "removed" => "k-removed",
                _ => "",
            };
            write!(
                out,
                "<tr><td class=\"id\">{}</td><td><span class=\"badge {kind_class}\">{}</span></td><td>",
                Esc(&e.id),
                Esc(&e.kind)
            )?;
            join(out, &e.ecosystems)?;
            out.push_str("</td><td>");
            sev_badge(out, e.severity.as_deref())?;
            out.push_str("</td><td>");
            join(out, &e.fields)?;
            out.push_str("</td></tr>\n");
        }
        more(out, c.examples.len(), MAX_ROWS, 5)?;
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
    Ok(())
}

/// Comma-separated, escaped, at most 20 items.
fn join(out: &mut String, items: &[String]) -> fmt::Result {
    if items.is_empty() {
        out.push_str("<span class=\"muted\">\u{2014}</span>");
    }
    for (i, s) in items.iter().take(20).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write!(out, "{}", Esc(s))?;
    }
    if items.len() > 20 {
        write!(out, ", \u{2026} and {} more", items.len() - 20)?;
    }
    Ok(())
}

fn generations(out: &mut String, p: &StatusPage) -> fmt::Result {
    out.push_str("<section id=\"generations\">\n<h2>Generations</h2>\n");
    if p.generations.is_empty() {
        out.push_str("<p class=\"empty\">No generation imported yet.</p>\n</section>\n");
        return Ok(());
    }
    out.push_str(
        "<div class=\"scroll\"><table>\n<thead><tr><th>Generation</th><th>Kit id</th><th class=\"n\">Sequence</th><th>Channel</th>\
         <th>Created / imported</th><th>Expires</th><th class=\"n\">Trust root</th><th>Active</th></tr></thead>\n<tbody>\n",
    );
    for g in p.generations.iter().take(MAX_ROWS) {
        let left = g.expires_unix.saturating_sub(p.now_unix);
        let (class, state) = match expiry_state(p.now_unix, g.expires_unix) {
            Expiry::Expired => ("bad-t", "expired".to_string()),
            Expiry::Soon => ("warn-t", format!("in {}", span(left))),
            Expiry::Ok => ("ok-t", format!("in {}", span(left))),
        };
        writeln!(
            out,
            "<tr{}><td class=\"nw\"><code>{}</code></td><td class=\"id\">{}</td><td class=\"n\">{}</td><td>{}</td>\
             <td class=\"nw\">{}<br><span class=\"muted\">{}</span></td><td class=\"nw\">{}<br><span class=\"{class}\">{state}</span></td>\
             <td class=\"n\">v{}</td><td class=\"nw\">{}</td></tr>",
            if g.active { " class=\"active\"" } else { "" },
            Esc(&g.name),
            Esc(&g.kit_id),
            g.sequence,
            Esc(&g.channel),
            Esc(&g.created_at),
            Esc(&g.imported_at),
            Esc(&g.expires_at),
            g.trust_root_version,
            if g.active { "<b class=\"ok-t\">\u{25cf} active</b>" } else { "" }
        )?;
    }
    more(out, p.generations.len(), MAX_ROWS, 8)?;
    out.push_str("</tbody>\n</table></div>\n</section>\n");
    Ok(())
}

fn audit(out: &mut String, a: &AuditStatus) -> fmt::Result {
    out.push_str("<section id=\"audit\">\n<h2>Audit log</h2>\n");
    if a.ok {
        write!(
            out,
            "<p class=\"state ok\"><b>Intact</b>: {} verified.",
            plural(a.entries, "entry", "entries")
        )?;
    } else {
        write!(
            out,
            "<p class=\"state bad\"><b>BROKEN</b> ({} read).",
            plural(a.entries, "entry", "entries")
        )?;
    }
    if !a.detail.is_empty() {
        write!(out, "<br>{}", Esc(&a.detail))?;
    }
    out.push_str("</p>\n</section>\n");
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Charts (inline SVG, stacked bars: one bar per kept generation, one segment per series)

const PALETTE: [&str; 12] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#86bcb6", "#d37295", "#bab0ac",
];
const OTHER_COLOR: &str = "#79706e";

struct Series {
    label: String,
    color: &'static str,
    values: Vec<u64>,
}

#[derive(Clone, Copy)]
enum Dim {
    Ecosystem,
    Severity,
}

fn severity_rank(s: &str) -> (u8, &'static str) {
    match s.to_ascii_lowercase().as_str() {
        "critical" => (0, "#7f1d1d"),
        "high" | "important" => (1, "#d32f2f"),
        "medium" | "moderate" => (2, "#e65100"),
        "low" => (3, "#f2c200"),
        "none" | "unknown" | "" => (5, "#9e9e9e"),
        _ => (4, ""),
    }
}

fn dim_counts(g: &GenerationCounts, dim: Dim) -> &BTreeMap<String, u64> {
    match dim {
        Dim::Ecosystem => &g.by_ecosystem,
        Dim::Severity => &g.by_severity,
    }
}

fn build_series(gens: &[&GenerationCounts], dim: Dim) -> Vec<Series> {
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for g in gens {
        for (k, v) in dim_counts(g, dim) {
            *totals.entry(k.as_str()).or_default() += *v;
        }
    }
    let mut keys: Vec<(&str, u64)> = totals.into_iter().filter(|(_, v)| *v > 0).collect();
    match dim {
        Dim::Ecosystem => keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0))),
        Dim::Severity => keys.sort_by(|a, b| {
            severity_rank(a.0)
                .0
                .cmp(&severity_rank(b.0).0)
                .then(a.0.cmp(b.0))
        }),
    }
    // Keep all when one extra would only be replaced by an "other" of one.
    let keep = if keys.len() > MAX_CHART_SERIES + 1 {
        MAX_CHART_SERIES
    } else {
        keys.len()
    };
    let mut series: Vec<Series> = keys[..keep]
        .iter()
        .enumerate()
        .map(|(i, (k, _))| {
            let color = match dim {
                Dim::Severity if !severity_rank(k).1.is_empty() => severity_rank(k).1,
                _ => PALETTE[i % PALETTE.len()],
            };
            Series {
                label: (*k).to_string(),
                color,
                values: gens
                    .iter()
                    .map(|g| dim_counts(g, dim).get(*k).copied().unwrap_or(0))
                    .collect(),
            }
        })
        .collect();
    if keep < keys.len() {
        let rest = &keys[keep..];
        series.push(Series {
            label: format!("{} others", rest.len()),
            color: OTHER_COLOR,
            values: gens
                .iter()
                .map(|g| {
                    rest.iter()
                        .map(|(k, _)| dim_counts(g, dim).get(*k).copied().unwrap_or(0))
                        .sum()
                })
                .collect(),
        });
    }
    series
}

/// A round step (1, 2 or 5 × 10^k) giving at most five ticks up to `max`.
fn nice_step(max: u64) -> u64 {
    let raw = max.div_ceil(5).max(1);
    let mut mag = 1u64;
    while mag.saturating_mul(10) <= raw {
        mag *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10 * mag)
}

/// At most `n` characters, with an ellipsis when cut.
fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('\u{2026}');
        t
    }
}

fn charts(out: &mut String, p: &StatusPage, active: Option<&GenerationRow>) -> fmt::Result {
    out.push_str("<section id=\"advisories\">\n<h2>Advisories in the kept generations</h2>\n");
    let mut gens: Vec<&GenerationCounts> = p.advisories_by_generation.iter().collect();
    gens.sort_by(|a, b| {
        a.sequence
            .cmp(&b.sequence)
            .then(a.generation.cmp(&b.generation))
    });
    let dropped = gens.len().saturating_sub(MAX_CHART_GENERATIONS);
    let gens = &gens[dropped..];
    if gens.is_empty() {
        out.push_str("<p class=\"empty\">No advisory counts recorded yet.</p>\n</section>\n");
        return Ok(());
    }
    if dropped > 0 {
        writeln!(
            out,
            "<p class=\"muted\">The newest {} generations; {dropped} older not shown.</p>",
            gens.len()
        )?;
    }
    let active_name = active.map(|g| g.name.as_str());
    out.push_str("<div class=\"charts\">\n");
    chart(out, gens, Dim::Ecosystem, active_name)?;
    chart(out, gens, Dim::Severity, active_name)?;
    out.push_str(
        "</div>\n<table>\n<thead><tr><th>Generation</th><th class=\"n\">Sequence</th>\
                  <th class=\"n\">Advisories</th></tr></thead>\n<tbody>\n",
    );
    for g in gens.iter().rev() {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            Esc(&g.generation),
            g.sequence,
            g.total
        )?;
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
    Ok(())
}

fn chart(
    out: &mut String,
    gens: &[&GenerationCounts],
    dim: Dim,
    active: Option<&str>,
) -> fmt::Result {
    const W: f64 = 500.0;
    const H: f64 = 300.0;
    const L: f64 = 58.0; // plot left
    const T: f64 = 24.0; // plot top
    const PW: f64 = 290.0; // plot width
    const PH: f64 = 200.0; // plot height
    let what = match dim {
        Dim::Ecosystem => "ecosystem",
        Dim::Severity => "severity",
    };
    let series = build_series(gens, dim);
    let sums: Vec<u64> = (0..gens.len())
        .map(|i| series.iter().map(|s| s.values[i]).sum())
        .collect();
    let max = sums.iter().copied().max().unwrap_or(0);
    writeln!(out, "<figure>")?;
    if max == 0 {
        write!(
            out,
            "<p class=\"empty\">No advisories by {what} in the kept generations.</p>\n</figure>\n"
        )?;
        return Ok(());
    }
    let step = nice_step(max);
    let ymax = step * max.div_ceil(step);
    let first = gens.first().map_or(0, |g| g.sequence);
    let last = gens.last().map_or(0, |g| g.sequence);
    let label = format!(
        "Stacked bar chart: advisories by {what} in {} kept generation{} (sequence {first} to {last}); \
         the largest bar is {max}.",
        gens.len(),
        if gens.len() == 1 { "" } else { "s" }
    );
    write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-label=\"{}\" \
         viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" font-family=\"system-ui, 'DejaVu Sans', sans-serif\" font-size=\"11\">\n\
         <title>{}</title>\n\
         <text x=\"{L}\" y=\"14\" font-size=\"13\" font-weight=\"600\" fill=\"#1f2328\">Advisories by {what}</text>\n",
        Esc(&label),
        Esc(&label)
    )?;
    // y grid, ticks and title
    let bottom = T + PH;
    let mut v = 0;
    while v <= ymax {
        let y = bottom - v as f64 / ymax as f64 * PH;
        writeln!(
            out,
            "<line x1=\"{L}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"{}\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#5f6368\">{v}</text>",
            L + PW,
            if v == 0 { "#5f6368" } else { "#e3e6ea" },
            L - 6.0,
            y + 4.0
        )?;
        v += step;
    }
    write!(
        out,
        "<line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{bottom}\" stroke=\"#5f6368\" stroke-width=\"1\"/>\n\
         <text transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\" fill=\"#1f2328\">advisories</text>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#1f2328\">generation (sequence, oldest \u{2192} newest)</text>\n",
        T + PH / 2.0,
        L + PW / 2.0,
        H - 8.0
    )?;
    // bars
    let n = gens.len() as f64;
    let slot = PW / n;
    let bw = (slot * 0.6).min(48.0);
    let labels = gens.len() <= 8;
    // About 6 px per character at font-size 10.
    let name_chars = ((slot / 6.0) as usize).clamp(4, 20);
    for (i, g) in gens.iter().enumerate() {
        let x = L + slot * i as f64 + (slot - bw) / 2.0;
        let cx = x + bw / 2.0;
        let mut acc = 0u64;
        for s in &series {
            let val = s.values[i];
            if val == 0 {
                continue;
            }
            let y0 = bottom - acc as f64 / ymax as f64 * PH;
            acc += val;
            let y1 = bottom - acc as f64 / ymax as f64 * PH;
            writeln!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y1:.2}\" width=\"{bw:.1}\" height=\"{:.2}\" fill=\"{}\">\
                 <title>{} (#{}): {} {val}</title></rect>",
                y0 - y1,
                s.color,
                Esc(&g.generation),
                g.sequence,
                Esc(&s.label)
            )?;
        }
        let top = bottom - acc as f64 / ymax as f64 * PH;
        let is_active = active == Some(g.generation.as_str());
        let weight = if is_active {
            " font-weight=\"700\""
        } else {
            ""
        };
        write!(
            out,
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#1f2328\">{acc}</text>\n\
             <text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#1f2328\"{weight}>#{}</text>\n",
            top - 4.0,
            bottom + 14.0,
            g.sequence
        )?;
        if labels {
            writeln!(
                out,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#5f6368\" font-size=\"10\"{weight}>{}</text>",
                bottom + 27.0,
                Esc(&truncate(&g.generation, name_chars)),
            )?;
        }
        if is_active {
            writeln!(
                out,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#1b7f3b\" font-size=\"10\" font-weight=\"700\">active</text>",
                bottom + if labels { 40.0 } else { 27.0 }
            )?;
        }
    }
    // legend (circles, so that every <rect> is a bar)
    let lx = L + PW + 20.0;
    for (j, s) in series.iter().enumerate() {
        let y = T + 8.0 + j as f64 * 18.0;
        let total: u64 = s.values.iter().sum();
        writeln!(
            out,
            "<circle cx=\"{lx:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1f2328\">{}\
             <title>{}: {total} over the kept generations</title></text>",
            s.color,
            lx + 11.0,
            y + 4.0,
            Esc(&truncate(&s.label, 20)),
            Esc(&s.label)
        )?;
    }
    out.push_str("</svg>\n");
    write!(
        out,
        "<figcaption>By {what}; hover a segment for its count.{}</figcaption>\n</figure>\n",
        match dim {
            Dim::Ecosystem => " An advisory naming several ecosystems counts in each.",
            Dim::Severity => "",
        }
    )?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z
    const DAY: i64 = 86_400;

    fn gen(seq: u64, active: bool, expires_in: i64) -> GenerationRow {
        GenerationRow {
            name: format!("gen-{seq:04}"),
            kit_id: format!("kit-{seq}"),
            sequence: seq,
            channel: "stable".into(),
            created_at: "2024-12-30T00:00:00Z".into(),
            created_unix: NOW - 2 * DAY,
            imported_at: "2024-12-31T00:00:00Z".into(),
            expires_at: "later".into(),
            expires_unix: NOW + expires_in,
            active,
            trust_root_version: 2,
        }
    }

    fn counts(seq: u64, eco: &[(&str, u64)], sev: &[(&str, u64)]) -> GenerationCounts {
        GenerationCounts {
            generation: format!("gen-{seq:04}"),
            sequence: seq,
            by_ecosystem: eco.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            by_severity: sev.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            total: eco.iter().map(|(_, v)| v).sum(),
        }
    }

    fn sample() -> StatusPage {
        StatusPage {
            title: "/var/lib/ouk/store".into(),
            generated_at: "2025-01-01T00:00:00Z".into(),
            now_unix: NOW,
            generations: vec![
                gen(3, true, 10 * DAY),
                gen(2, false, 5 * DAY),
                gen(1, false, -DAY),
            ],
            advisories_by_generation: vec![
                counts(1, &[("npm", 10), ("PyPI", 5)], &[("HIGH", 15)]),
                counts(
                    2,
                    &[("npm", 12), ("PyPI", 0), ("Go", 3)],
                    &[("HIGH", 10), ("LOW", 5)],
                ),
                counts(
                    3,
                    &[("npm", 14), ("PyPI", 6), ("Go", 4)],
                    &[("CRITICAL", 1), ("HIGH", 20), ("LOW", 3)],
                ),
            ],
            last_changes: Some(ChangeSummary {
                from: Some("gen-0002".into()),
                to: "gen-0003".into(),
                added: 9,
                changed: 1,
                withdrawn: 0,
                removed: 0,
                by_ecosystem: [(
                    "npm".to_string(),
                    CountsRow {
                        added: 2,
                        changed: 1,
                        ..Default::default()
                    },
                )]
                .into(),
                by_severity: BTreeMap::new(),
                examples: vec![ChangeExample {
                    id: "GHSA-aaaa-bbbb-cccc".into(),
                    kind: "changed".into(),
                    ecosystems: vec!["npm".into()],
                    severity: Some("HIGH".into()),
                    fields: vec!["affected".into()],
                }],
                ..Default::default()
            }),
            last_rescan: Some(RescanSummary {
                at: "2025-01-01T00:00:00Z".into(),
                generation: "gen-0003".into(),
                previous: Some("gen-0002".into()),
                sboms_scanned: 4,
                unchecked: [("rpm/redhat".to_string(), 212)].into(),
                newly_affected: vec![AffectedSbom {
                    sbom: "web.cdx.json".into(),
                    new_findings: vec![FindingRow {
                        advisory: "CVE-2024-0001".into(),
                        package: "left-pad".into(),
                        installed: "1.0.0".into(),
                        fixed: Some("1.0.1".into()),
                        severity: Some("HIGH".into()),
                    }],
                }],
                engine: "ouk".into(),
                unreadable: vec![],
            }),
            audit: AuditStatus {
                ok: true,
                entries: 12,
                detail: String::new(),
            },
        }
    }

    #[test]
    fn escape_all_five() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
        assert_eq!(escape(""), "");
        assert_eq!(escape("&&"), "&amp;&amp;");
    }

    #[test]
    fn hostile_strings_are_escaped_everywhere() {
        let evil = [
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
            "'><svg onload=alert(1)>",
        ];
        for e in evil {
            let mut p = sample();
            p.title = e.into();
            p.generated_at = e.into();
            for g in &mut p.generations {
                g.kit_id = e.into();
                g.name = format!("{e}{}", g.sequence);
                g.channel = e.into();
                g.expires_at = e.into();
            }
            for c in &mut p.advisories_by_generation {
                c.generation = format!("{e}{}", c.sequence);
                c.by_ecosystem.insert(e.into(), 3);
                c.by_severity.insert(e.into(), 1);
            }
            let ch = p.last_changes.as_mut().unwrap();
            ch.from = Some(e.into());
            ch.examples[0].id = e.into();
            ch.examples[0].kind = e.into();
            ch.examples[0].fields.push(e.into());
            ch.by_severity.insert(e.into(), CountsRow::default());
            let r = p.last_rescan.as_mut().unwrap();
            r.engine = e.into();
            r.unreadable = vec![e.into()];
            r.unchecked.insert(e.into(), 1);
            r.newly_affected[0].sbom = e.into();
            let f = &mut r.newly_affected[0].new_findings[0];
            f.advisory = e.into();
            f.package = e.into();
            f.severity = Some(e.into());
            p.audit = AuditStatus {
                ok: false,
                entries: 1,
                detail: e.into(),
            };
            let html = render(&p);
            let lower = html.to_ascii_lowercase();
            assert!(!lower.contains("<script"), "{e}");
            assert!(!lower.contains("<img"), "{e}");
            // The only <svg> elements are our two charts.
            assert_eq!(lower.matches("<svg").count(), 2, "{e}");
            // Attribute breakouts are escaped too: no raw quote right before the payload.
            assert!(!html.contains("\"><img") && !html.contains("'><svg"), "{e}");
            assert!(html.contains(&escape(e)), "{e}");
            assert!(
                html.contains("<td class=\"id\">&lt;")
                    || html.contains("<td class=\"id\">&quot;&gt;&lt;")
                    || html.contains("<td class=\"id\">&#39;&gt;&lt;"),
                "{e}"
            );
        }
    }

    #[test]
    fn no_script_no_external_urls_and_csp() {
        let html = render(&sample());
        assert!(html.starts_with("<!DOCTYPE html>\n"));
        assert!(html.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        ));
        assert!(!html.to_ascii_lowercase().contains("<script"));
        assert!(!html.contains("<link"));
        assert!(!html.contains("href="));
        assert!(!html.contains("src="));
        // The only http(s) string is the SVG namespace, which is a name, not a fetch.
        let urls = html.matches("http://").count() + html.matches("https://").count();
        assert_eq!(
            urls,
            html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        );
    }

    #[test]
    fn deterministic() {
        let p = sample();
        let a = render(&p);
        let b = render(&p.clone());
        assert_eq!(a, b);
        // And through a serde round trip (what the CLI would load from JSON).
        let json = serde_json::to_string(&p).unwrap();
        let q: StatusPage = serde_json::from_str(&json).unwrap();
        assert_eq!(render(&q), a);
        // Order of the counts input does not matter.
        let mut r = p.clone();
        r.advisories_by_generation.reverse();
        assert_eq!(render(&r), a);
    }

    #[test]
    fn sections_present() {
        let html = render(&sample());
        for id in [
            "glance",
            "freshness",
            "rescan",
            "changes",
            "advisories",
            "generations",
            "audit",
        ] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        assert!(html.contains("1 SBOM newly affected"));
        assert!(html.contains("web.cdx.json"));
        assert!(html.contains("CVE-2024-0001"));
        assert!(html.contains("GHSA-aaaa-bbbb-cccc"));
        assert!(html.contains("kit-3"));
        assert!(html.contains("\u{25cf} active"));
        assert!(html.contains("Intact"));
        assert!(html.contains("Data age: <b>2 d 0 h</b>"));
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn empty_states() {
        let html = render(&StatusPage {
            title: "s".into(),
            generated_at: "now".into(),
            now_unix: NOW,
            ..Default::default()
        });
        assert!(html.contains("No generation imported yet."));
        assert!(html.contains("No active generation"));
        assert!(html.contains("No advisory counts recorded yet."));
        assert!(html.contains("No change report yet."));
        assert!(html.contains("No re-scan yet."));
        assert!(html.contains("BROKEN"));
        assert!(!html.contains("<svg"));
        assert!(!html.contains("<table"));

        // A re-scan with nothing new, and a change report with no entries.
        let mut p = sample();
        p.last_rescan.as_mut().unwrap().newly_affected.clear();
        p.last_rescan.as_mut().unwrap().unchecked.clear();
        p.last_changes = Some(ChangeSummary {
            to: "gen-0001".into(),
            ..Default::default()
        });
        let html = render(&p);
        assert!(html.contains("No SBOM newly affected."));
        assert!(!html.contains("not scanned") && !html.contains("Incomplete"));
        assert!(html.contains("First import"));

        // ...but an incomplete one does not look clean: the banner and the section say so.
        p.last_rescan.as_mut().unwrap().unreadable =
            vec!["app.cdx.json: trivy failed on it (exit status: 1): invalid version".into()];
        let html = render(&p);
        assert!(html.contains("<div class=\"state warn\"><b>1 SBOM not scanned</b></div>"));
        assert!(html.contains("Incomplete: 1 SBOM file could not be scanned."));
        assert!(html.contains("<li><code>app.cdx.json: trivy failed on it"));
        assert!(
            !html.contains("components not checked") && !html.contains("component not checked")
        );
        // Components nothing was compared with are named, not left to look clean.
        p.last_rescan.as_mut().unwrap().unchecked =
            [("rpm/redhat".to_string(), 212), ("conan".to_string(), 1)].into();
        let html = render(&p);
        assert!(
            html.contains(
                "213 components not checked: the kit has no advisories for them \
                 (<code>conan</code> 1, <code>rpm/redhat</code> 212)."
            ),
            "{html}"
        );
        assert!(html.contains("No changes by Ecosystem."));
        assert!(html.contains("No entries."));

        // Generations kept, none active.
        let mut p = sample();
        for g in &mut p.generations {
            g.active = false;
        }
        assert!(render(&p).contains("none is active"));
    }

    #[test]
    fn svg_bars_and_structure() {
        let p = sample();
        let html = render(&p);
        // Nonzero (generation, series) pairs: ecosystem 2 + 2 + 3, severity 1 + 2 + 3.
        let bars: usize = p
            .advisories_by_generation
            .iter()
            .map(|g| {
                g.by_ecosystem.values().filter(|v| **v > 0).count()
                    + g.by_severity.values().filter(|v| **v > 0).count()
            })
            .sum();
        assert_eq!(bars, 13);
        assert_eq!(html.matches("<rect").count(), bars);
        assert_eq!(html.matches("<svg").count(), 2);
        assert_eq!(html.matches("</svg>").count(), 2);
        assert_eq!(
            html.matches("<text").count(),
            html.matches("</text>").count()
        );
        assert_eq!(
            html.matches("<title>").count(),
            html.matches("</title>").count()
        );
        assert_eq!(
            html.matches("<rect").count(),
            html.matches("</rect>").count()
        );
        assert_eq!(html.matches("role=\"img\" aria-label=\"").count(), 2);
        // Legend: one circle per series (npm, PyPI, Go; CRITICAL, HIGH, LOW).
        assert_eq!(html.matches("<circle").count(), 6);
        // Severity keeps its natural order in the legend.
        let c = html.find(">CRITICAL<title>").unwrap();
        let h = html.find(">HIGH<title>").unwrap();
        let l = html.find(">LOW<title>").unwrap();
        assert!(c < h && h < l);
        // Stacks reach the bar totals: the labelled sums are there.
        assert!(html.contains(">24</text>"));
    }

    #[test]
    fn many_series_fold_into_other() {
        let eco: Vec<(String, u64)> = (0..30).map(|i| (format!("eco{i:02}"), 1 + i)).collect();
        let eco: Vec<(&str, u64)> = eco.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let mut p = sample();
        p.advisories_by_generation = vec![counts(1, &eco, &[])];
        let html = render(&p);
        assert_eq!(html.matches("<rect").count(), MAX_CHART_SERIES + 1);
        assert!(html.contains("19 others"));
        assert!(html.contains("No advisories by severity"));
    }

    #[test]
    fn expiry_countdown_states() {
        assert_eq!(expiry_state(NOW, NOW + 10 * DAY), Expiry::Ok);
        assert_eq!(expiry_state(NOW, NOW + EXPIRY_WARN_SECS), Expiry::Ok);
        assert_eq!(expiry_state(NOW, NOW + EXPIRY_WARN_SECS - 1), Expiry::Soon);
        assert_eq!(expiry_state(NOW, NOW + 1), Expiry::Soon);
        assert_eq!(expiry_state(NOW, NOW), Expiry::Expired);
        assert_eq!(expiry_state(NOW, i64::MIN), Expiry::Expired);
        assert_eq!(expiry_state(i64::MIN, i64::MAX), Expiry::Ok);

        let with = |expires_in: i64| {
            let mut p = sample();
            p.generations[0].expires_unix = NOW + expires_in;
            render(&p)
        };
        let ok = with(10 * DAY + 5 * 3600);
        assert!(ok.contains(
            "<div id=\"expiry\" class=\"state ok\"><span class=\"big\">Expires in 10 d 5 h</span>"
        ));
        let soon = with(2 * DAY + 3 * 3600);
        assert!(soon.contains(
            "<div id=\"expiry\" class=\"state warn\"><span class=\"big\">Expires in 2 d 3 h</span>"
        ));
        let hours = with(5 * 3600 + 60 * 7);
        assert!(
            hours.contains("class=\"state warn\"><span class=\"big\">Expires in 5 h 7 min</span>")
        );
        let expired = with(-(3 * DAY + 4 * 3600));
        assert!(expired.contains(
            "<div id=\"expiry\" class=\"state bad\"><span class=\"big\">EXPIRED 3 d 4 h ago</span>"
        ));
        assert!(expired.contains("Data EXPIRED 3 d 4 h ago"));
    }

    #[test]
    fn tables_are_bounded() {
        let mut p = sample();
        let mut findings = Some(
            (0..MAX_ROWS + 7)
                .map(|i| FindingRow {
                    advisory: format!("CVE-2024-{i:05}"),
                    package: "p".into(),
                    installed: "1".into(),
                    fixed: None,
                    severity: None,
                })
                .collect(),
        );
        p.last_rescan.as_mut().unwrap().newly_affected = (0..MAX_SBOMS + 2)
            .map(|i| AffectedSbom {
                sbom: format!("sbom-{i}"),
                new_findings: findings.take().unwrap_or_default(),
            })
            .collect();
        p.generations = (0..MAX_ROWS as u64 + 3)
            .map(|i| gen(i, i == 0, DAY * 30))
            .collect();
        let html = render(&p);
        assert!(html.contains("\u{2026} and 7 more</td>"));
        assert!(html.contains("\u{2026} and 3 more</td>"));
        assert!(html.contains("\u{2026} and 2 more newly affected SBOMs"));
        assert!(!html.contains(&format!("CVE-2024-{MAX_ROWS:05}")));
        assert!(html.contains(&format!("CVE-2024-{:05}", MAX_ROWS - 1)));
    }

    #[test]
    fn spans() {
        assert_eq!(span(0), "0 min");
        assert_eq!(span(59 * 60), "59 min");
        assert_eq!(span(3600), "1 h 0 min");
        assert_eq!(span(DAY + 3599), "1 d 0 h");
        assert_eq!(span(-2 * DAY), "2 d 0 h");
        assert_eq!(span(i64::MIN), "106751991167300 d 15 h");
        assert_eq!(nice_step(0), 1);
        assert_eq!(nice_step(24), 5);
        assert_eq!(nice_step(512_345), 200_000);
        assert_eq!(truncate("abcdef", 4), "abc\u{2026}");
    }
}
