//! The console's static files, compiled into the binary and served under names that carry a
//! digest of their content, so that browsers may keep them for a year: a new release has new
//! names. Nothing is fetched from any other host.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One file: its logical name, the name it is served under, its type and its bytes.
pub struct Asset {
    pub logical: &'static str,
    pub served: String,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// Apache ECharts, vendored from the npm package `echarts` (its `dist/echarts.common.min.js`);
/// licence and notice beside it in `assets/vendor/`.
pub const ECHARTS_VERSION: &str = "6.1.0";

const FILES: &[(&str, &str, &[u8])] = &[
    ("console.css", "text/css; charset=utf-8", include_bytes!("../assets/console.css")),
    ("console.js", "text/javascript; charset=utf-8", include_bytes!("../assets/console.js")),
    ("counter.js", "text/javascript; charset=utf-8", include_bytes!("../assets/counter.js")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../assets/favicon.svg")),
    (
        "echarts.common.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/echarts-6.1.0/echarts.common.min.js"),
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(logical, content_type, bytes)| {
            let digest = hex::encode(&Sha256::digest(bytes)[..6]);
            let (stem, ext) = logical.split_once('.').unwrap_or((logical, ""));
            Asset { logical, served: format!("{stem}.{digest}.{ext}"), content_type, bytes }
        })
        .collect()
});

/// The path a page links to for a logical asset name.
pub fn url(logical: &str) -> String {
    ASSETS
        .iter()
        .find(|a| a.logical == logical)
        .map(|a| format!("/assets/{}", a.served))
        .unwrap_or_else(|| format!("/assets/{logical}"))
}

/// `GET /assets/{name}`: only the hashed names exist.
pub async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.served == name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(a.content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
                (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            ],
            a.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn served_names_carry_a_digest_of_the_content() {
        let css = super::url("console.css");
        assert!(
            css.starts_with("/assets/console.")
                && css.ends_with(".css")
                && css.len() == "/assets/console..css".len() + 12,
            "{css}"
        );
        assert_ne!(super::url("console.js"), "/assets/console.js");
    }
}
