//! Media types inferred from a bundle path when the configuration names none.

/// Helm chart archive (OCI artifact content type).
pub const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Helm chart metadata (`Chart.yaml`).
pub const HELM_CHART_META: &str = "application/vnd.cncf.helm.chart.meta.v1+yaml";
/// OCI image layout marker file.
pub const OCI_LAYOUT: &str = "application/vnd.oci.layout.header.v1+json";
/// OCI image index (`index.json` of a layout).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Blob of an OCI image layout: a manifest, a config or a layer; which one is only known
/// from the index that points at it, so the blob is labelled as plain bytes.
pub const OCI_BLOB: &str = "application/octet-stream";
/// Docker Compose file.
pub const COMPOSE: &str = "application/vnd.docker.compose+yaml";
/// Anything not recognised.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// Infers the media type of `path` (a `/`-separated bundle path). `in_oci_layout` tells
/// whether the file's folder, or a parent of it, holds an `oci-layout` marker.
pub fn infer(path: &str, in_oci_layout: bool) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    let folders: Vec<&str> = path.split('/').rev().skip(1).collect();
    let under = |folder: &str| folders.iter().any(|f| f.eq_ignore_ascii_case(folder));

    if lower == "oci-layout" {
        return OCI_LAYOUT;
    }
    if in_oci_layout {
        if lower == "index.json" {
            return OCI_INDEX;
        }
        if under("blobs") {
            return OCI_BLOB;
        }
    }
    if lower == "chart.yaml" {
        return HELM_CHART_META;
    }
    if is_compose_file(&lower) {
        return COMPOSE;
    }
    if lower.ends_with(".tgz") && under("charts") {
        return HELM_CHART;
    }
    if lower.ends_with(".tgz") && under("npm") {
        return "application/vnd.npm.package+gzip";
    }
    let extension_types: &[(&str, &str)] = &[
        (".nupkg", "application/vnd.nuget.package+zip"),
        (".snupkg", "application/vnd.nuget.symbols+zip"),
        (".crate", "application/vnd.rust.crate+gzip"),
        (".whl", "application/vnd.python.wheel+zip"),
        (".deb", "application/vnd.debian.binary-package"),
        (".rpm", "application/x-rpm"),
        (".yaml", "application/yaml"),
        (".yml", "application/yaml"),
        (".json", "application/json"),
        (".jsonl", "application/jsonl"),
        (".ndjson", "application/x-ndjson"),
        (".toml", "application/toml"),
        (".xml", "application/xml"),
        (".tar.gz", "application/gzip"),
        (".tgz", "application/gzip"),
        (".gz", "application/gzip"),
        (".tar", "application/x-tar"),
        (".zip", "application/zip"),
        (".zst", "application/zstd"),
        (".sh", "text/x-shellscript"),
        (".py", "text/x-python"),
        (".md", "text/markdown"),
        (".txt", "text/plain"),
        (".pem", "application/x-pem-file"),
        (".crt", "application/x-pem-file"),
        (".sig", "application/octet-stream"),
    ];
    extension_types
        .iter()
        .find(|(ext, _)| lower.ends_with(ext))
        .map_or(OCTET_STREAM, |(_, media_type)| media_type)
}

fn is_compose_file(lower_name: &str) -> bool {
    matches!(
        lower_name,
        "compose.yaml" | "compose.yml" | "docker-compose.yaml" | "docker-compose.yml"
    ) || ((lower_name.starts_with("docker-compose.") || lower_name.starts_with("compose."))
        && (lower_name.ends_with(".yaml") || lower_name.ends_with(".yml")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_the_documented_types() {
        assert_eq!(infer("charts/scanner-1.2.0.tgz", false), HELM_CHART);
        assert_eq!(infer("charts/scanner/Chart.yaml", false), HELM_CHART_META);
        assert_eq!(
            infer("charts/scanner/values.yaml", false),
            "application/yaml"
        );
        assert_eq!(infer("images/scanner/oci-layout", true), OCI_LAYOUT);
        assert_eq!(infer("images/scanner/index.json", true), OCI_INDEX);
        assert_eq!(infer("images/scanner/blobs/sha256/ab12", true), OCI_BLOB);
        assert_eq!(infer("config/index.json", false), "application/json");
        assert_eq!(infer("compose/docker-compose.yaml", false), COMPOSE);
        assert_eq!(infer("compose/compose.override.yml", false), COMPOSE);
        assert_eq!(
            infer("nuget/Foo.1.0.0.nupkg", false),
            "application/vnd.nuget.package+zip"
        );
        assert_eq!(
            infer("npm/left-pad-1.3.0.tgz", false),
            "application/vnd.npm.package+gzip"
        );
        assert_eq!(
            infer("crates/serde-1.0.0.crate", false),
            "application/vnd.rust.crate+gzip"
        );
        assert_eq!(infer("layers/blob1.tar.gz", false), "application/gzip");
        assert_eq!(infer("README", false), OCTET_STREAM);
    }
}
