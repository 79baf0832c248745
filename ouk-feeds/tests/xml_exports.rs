//! Regional XML exports are streamed: FSTEC's full BDU export is hundreds of megabytes (86 000+
//! records in 2026), above the `max_file_bytes` a document read whole may have, and FSTEC
//! publishes it as `vulxml.zip`. Both shapes must be read record by record, with one record,
//! not the file, capped by `max_file_bytes`.

mod common;

use std::io::Write;
use std::path::Path;

use ouk_feeds::{merge_sources, parse_sources, Limits, MergeOptions, SourceKind, SourceSpec};

/// One `<vul>` in the layout of FSTEC's `vulxml` export (element names as the export has them,
/// Russian text, a CVSS 3 score with a decimal comma); constructed, ids in the year 2099.
fn vul(i: usize) -> String {
    format!(
        r#"<vul>
    <identifier>BDU:2099-{i:05}</identifier>
    <name>Уязвимость функции разбора сконструированной библиотеки demo-{i}, позволяющая нарушителю выполнить произвольный код</name>
    <description>Уязвимость функции разбора связана с выходом операции за границы буфера в памяти. Эксплуатация уязвимости может позволить нарушителю, действующему удалённо, выполнить произвольный код.</description>
    <vulnerable_software><soft><vendor>Сообщество свободного программного обеспечения</vendor><name>demo-{i}</name><version>от 1.0 до 1.{i}</version><platform>-</platform><types><type>Прикладное ПО информационных систем</type></types></soft></vulnerable_software>
    <environment><os><vendor>ООО «РусБИТех-Астра»</vendor><name>Astra Linux</name><version>1.7</version><platform>-</platform></os></environment>
    <cwes><cwe><identifier>CWE-787</identifier><name>Запись за границами буфера</name></cwe></cwes>
    <identify_date>06.01.2099</identify_date>
    <cvss><vector score="7,5">AV:N/AC:L/Au:N/C:P/I:P/A:P</vector></cvss>
    <cvss3><vector score="9,8">AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</vector></cvss3>
    <severity>Критический уровень опасности (базовая оценка CVSS 3.0 составляет 9,8)</severity>
    <solution>Использование рекомендаций производителя: https://example.org/demo-{i}/security</solution>
    <vul_status>Подтверждена производителем</vul_status>
    <exploit_status>Данные уточняются</exploit_status>
    <fix_status>Уязвимость устранена</fix_status>
    <sources>https://example.org/demo-{i}/advisory
https://example.org/demo-{i}/commit</sources>
    <identifiers><identifier type="CVE" link="https://nvd.nist.gov/vuln/detail/CVE-2099-{n}">CVE-2099-{n}</identifier></identifiers>
    <other>-</other>
    <vul_incident>0</vul_incident>
    <vul_class>Уязвимость кода</vul_class>
  </vul>
"#,
        n = 50_000 + i
    )
}

fn export(records: usize, extra: &str) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<vulnerabilities>\n");
    for i in 1..=records {
        s.push_str(&vul(i));
    }
    s.push_str(extra);
    s.push_str("</vulnerabilities>\n");
    s
}

fn zip_of(name: &str, body: &[u8], path: &Path) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    w.start_file(
        name,
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated),
    )
    .unwrap();
    w.write_all(body).unwrap();
    w.finish().unwrap();
}

/// BDU alone is not a required source: these merges allow that.
fn bdu_only() -> MergeOptions {
    MergeOptions {
        allow_partial: true,
        ..MergeOptions::default()
    }
}

fn small_documents() -> MergeOptions {
    MergeOptions {
        limits: Limits {
            max_file_bytes: 16 * 1024,
            ..Limits::default()
        },
        ..bdu_only()
    }
}

#[test]
fn a_bdu_export_larger_than_max_file_bytes_is_read_whole_as_xml_and_as_zip() {
    let dir = tempfile::tempdir().unwrap();
    let xml = export(1500, "");
    // ~2.6 MB of export against a 16 KiB document cap: only streaming reads it.
    assert!(xml.len() > 100 * 16 * 1024, "{}", xml.len());
    std::fs::create_dir(dir.path().join("plain")).unwrap();
    std::fs::write(dir.path().join("plain/export.xml"), &xml).unwrap();
    zip_of(
        "export/export.xml",
        xml.as_bytes(),
        &dir.path().join("vulxml.zip"),
    );
    for path in [dir.path().join("plain"), dir.path().join("vulxml.zip")] {
        let s = parse_sources(
            &[SourceSpec::new(SourceKind::Bdu, &path)],
            &small_documents(),
        )
        .unwrap();
        assert_eq!(
            (s.records, s.rejected, s.files),
            (1500, 0, 1),
            "{}",
            path.display()
        );
    }
    // The records are complete: a BDU record enriches the OSV record with its CVE.
    let osv = dir.path().join("osv");
    std::fs::create_dir(&osv).unwrap();
    std::fs::write(
        osv.join("OSV-2099-1.json"),
        r#"{"id":"OSV-2099-1","modified":"2099-01-01T00:00:00Z","aliases":["CVE-2099-51500"],
            "affected":[{"package":{"ecosystem":"npm","name":"demo"},"versions":["1.0.0"]}]}"#,
    )
    .unwrap();
    let out = merge_sources(
        &[
            SourceSpec::new(SourceKind::Osv, &osv),
            SourceSpec::new(SourceKind::Bdu, dir.path().join("vulxml.zip")),
        ],
        &small_documents(),
    )
    .unwrap();
    let merged = common::lines(&out);
    let line = &merged
        .iter()
        .find(|(id, _)| id == "CVE-2099-51500")
        .expect("merged")
        .1;
    assert!(line.contains("BDU:2099-01500"), "{line}");
    assert!(
        line.contains("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        "{line}"
    );
}

#[test]
fn one_record_above_max_file_bytes_is_refused_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let huge = format!(
        "<vul><identifier>BDU:2099-99999</identifier><description>{}</description></vul>\n",
        "ж".repeat(20_000)
    );
    std::fs::write(dir.path().join("export.xml"), export(20, &huge)).unwrap();
    let out = merge_sources(
        &[SourceSpec::new(SourceKind::Bdu, dir.path())],
        &small_documents(),
    )
    .unwrap();
    let rejected = &out.report().rejected;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].reason.contains("<vul> record"), "{rejected:?}");
    assert!(
        rejected[0].reason.contains("limit max_file_bytes"),
        "{rejected:?}"
    );
    // The records before it were read.
    let s = parse_sources(
        &[SourceSpec::new(SourceKind::Bdu, dir.path())],
        &small_documents(),
    )
    .unwrap();
    assert_eq!(s.records, 20);
}

#[test]
fn a_streamed_file_is_capped_by_max_zip_total_bytes_and_a_zip_needs_xml() {
    let dir = tempfile::tempdir().unwrap();
    let xml = export(200, "");
    zip_of(
        "export/export.xml",
        xml.as_bytes(),
        &dir.path().join("vulxml.zip"),
    );
    let mut o = bdu_only();
    o.limits.max_zip_total_bytes = xml.len() as u64 / 2;
    let out = merge_sources(
        &[SourceSpec::new(
            SourceKind::Bdu,
            dir.path().join("vulxml.zip"),
        )],
        &o,
    )
    .unwrap();
    let rejected = &out.report().rejected;
    assert!(
        rejected.len() == 1 && rejected[0].reason.contains("limit max_zip_total_bytes"),
        "{rejected:?}"
    );
    zip_of(
        "readme.txt",
        b"not the export",
        &dir.path().join("vulxml.zip"),
    );
    let out = merge_sources(
        &[SourceSpec::new(
            SourceKind::Bdu,
            dir.path().join("vulxml.zip"),
        )],
        &bdu_only(),
    )
    .unwrap();
    let rejected = &out.report().rejected;
    assert!(
        rejected.len() == 1 && rejected[0].reason.contains("no *.xml entry"),
        "{rejected:?}"
    );
}
