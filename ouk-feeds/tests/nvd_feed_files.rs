//! NVD 2.0 data feed files (`nvdcve-2.0-*.json.gz` / `.json.zip`), made here from the real API
//! page in `../shared/feeds/nvd/api-responses` (read in place): they must merge exactly like the
//! page itself, and broken or oversized ones must be rejected whole, with the limit named.

mod common;

use std::io::Write;
use std::path::Path;

use ouk_feeds::{merge_sources, MergeOptions, SourceKind, SourceSpec};

fn page() -> Vec<u8> {
    std::fs::read(common::shared_feeds().join("nvd/api-responses/vunnel-full-page.json"))
        .expect("shared NVD API page")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn zip_of(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(
        name,
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated),
    )
    .unwrap();
    w.write_all(bytes).unwrap();
    w.finish().unwrap().into_inner()
}

fn specs(nvd: &Path) -> Vec<SourceSpec> {
    vec![
        SourceSpec::new(SourceKind::Ghsa, common::shared_feeds().join("ghsa")),
        SourceSpec::new(SourceKind::Nvd, nvd.to_path_buf()),
    ]
}

/// Output lines with the source file names (which differ by construction) blanked.
fn lines_without_files(out: &ouk_feeds::MergeOutput, file: &str) -> Vec<(String, String)> {
    common::lines(out)
        .into_iter()
        .map(|(id, l)| (id, l.replace(file, "FILE")))
        .collect()
}

#[test]
fn gz_and_zip_feed_files_merge_like_the_page_they_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, gz, zip) = (
        dir.path().join("plain"),
        dir.path().join("gz"),
        dir.path().join("zip"),
    );
    for d in [&plain, &gz, &zip] {
        std::fs::create_dir(d).unwrap();
    }
    let page = page();
    std::fs::write(plain.join("nvdcve-2.0-2024.json"), &page).unwrap();
    std::fs::write(gz.join("nvdcve-2.0-2024.json.gz"), gzip(&page)).unwrap();
    std::fs::write(
        zip.join("nvdcve-2.0-2024.json.zip"),
        zip_of("nvdcve-2.0-2024.json", &page),
    )
    .unwrap();

    let opts = MergeOptions::default();
    let want = merge_sources(&specs(&plain), &opts).unwrap();
    let want_nvd = want
        .snapshot()
        .sources
        .iter()
        .find(|s| s.kind == SourceKind::Nvd);
    assert_eq!(
        want_nvd.unwrap().records,
        38,
        "the shared page holds 38 CVEs"
    );
    let want_lines =
        lines_without_files(&want, &format!("{}/nvdcve-2.0-2024.json", plain.display()));

    for (d, file) in [
        (&gz, format!("{}/nvdcve-2.0-2024.json.gz", gz.display())),
        (
            &zip,
            format!(
                "{}/nvdcve-2.0-2024.json.zip!nvdcve-2.0-2024.json",
                zip.display()
            ),
        ),
    ] {
        let got = merge_sources(&specs(d), &opts).unwrap();
        let nvd = got
            .snapshot()
            .sources
            .iter()
            .find(|s| s.kind == SourceKind::Nvd)
            .unwrap();
        assert_eq!((nvd.records, nvd.rejected, nvd.files), (38, 0, 1), "{file}");
        assert_eq!(lines_without_files(&got, &file), want_lines, "{file}");
    }
}

fn nvd_rejections(dir: &Path, opts: &MergeOptions) -> (u64, Vec<String>) {
    let out = merge_sources(&specs(dir), opts).unwrap();
    let nvd = out
        .snapshot()
        .sources
        .iter()
        .find(|s| s.kind == SourceKind::Nvd)
        .unwrap()
        .records;
    let reasons = out
        .report()
        .rejected
        .iter()
        .filter(|r| r.source == SourceKind::Nvd)
        .map(|r| format!("{}: {}", r.file, r.reason))
        .collect();
    (nvd, reasons)
}

#[test]
fn a_truncated_feed_file_is_rejected_whole() {
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip(&page());
    std::fs::write(
        dir.path().join("nvdcve-2.0-2024.json.gz"),
        &gz[..gz.len() * 2 / 3],
    )
    .unwrap();
    let (records, reasons) = nvd_rejections(dir.path(), &MergeOptions::default());
    assert_eq!(records, 0, "no CVE of a broken file is kept: {reasons:?}");
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].contains("nvdcve-2.0-2024.json.gz"),
        "{reasons:?}"
    );
}

#[test]
fn decompressed_size_and_element_size_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let page = page();
    std::fs::write(dir.path().join("nvdcve-2.0-2024.json.gz"), gzip(&page)).unwrap();

    let mut small_total = MergeOptions::default();
    small_total.limits.max_zip_total_bytes = page.len() as u64 / 2;
    let (records, reasons) = nvd_rejections(dir.path(), &small_total);
    assert_eq!(records, 0);
    assert!(
        reasons.len() == 1 && reasons[0].contains("limit max_zip_total_bytes"),
        "{reasons:?}"
    );

    // A bomb: 64 MiB of whitespace inside one element, from a ~64 KiB file.
    let mut bomb = b"{\"vulnerabilities\":[{\"cve\":".to_vec();
    bomb.extend(std::iter::repeat_n(b' ', 64 << 20));
    bomb.extend_from_slice(b"{}}]}");
    let bomb_gz = gzip(&bomb);
    assert!(bomb_gz.len() < 1 << 20);
    std::fs::write(dir.path().join("nvdcve-2.0-2024.json.gz"), bomb_gz).unwrap();
    let mut small_element = MergeOptions::default();
    small_element.limits.max_file_bytes = 1 << 20;
    let (_, reasons) = nvd_rejections(dir.path(), &small_element);
    assert!(
        reasons.len() == 1 && reasons[0].contains("limit max_file_bytes"),
        "{reasons:?}"
    );
}

#[test]
fn a_feed_file_without_vulnerabilities_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nvdcve-2.0-modified.json.gz"),
        gzip(br#"{"format":"NVD_CVE","version":"2.0"}"#),
    )
    .unwrap();
    let (records, reasons) = nvd_rejections(dir.path(), &MergeOptions::default());
    assert_eq!(records, 0);
    assert!(
        reasons.len() == 1 && reasons[0].contains("not an NVD 2.0 feed file"),
        "{reasons:?}"
    );
}
