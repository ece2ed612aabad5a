//! QR codes for produce labels, drawn as inline SVG by the `qrcode` crate: one unit per
//! module (the page sizes it in millimetres), a quiet zone of four modules, error correction
//! level M (a label may be smudged or creased).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The SVG element of a QR code of `text`, to be placed inline in a page, labelled for
/// screen readers with `label`. `None` if `text` is too long for a QR code.
pub fn svg(text: &str, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let drawn = code.render::<svg::Color<'_>>().module_dimensions(1, 1).quiet_zone(true).build();
    let element = drawn.find("<svg").map(|i| &drawn[i..])?;
    let label: String = label.chars().filter(|c| !matches!(c, '"' | '<' | '>' | '&')).collect();
    Some(element.replacen("<svg ", &format!("<svg class=\"qr\" role=\"img\" aria-label=\"{label}\" "), 1))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_code_is_an_svg_element_sized_by_its_modules() {
        let s = super::svg("http://127.0.0.1:8080/t/Kx7mP2qRtW", "溯源码").unwrap();
        assert!(s.starts_with("<svg class=\"qr\" role=\"img\" aria-label=\"溯源码\" xmlns="), "{s}");
        assert!(s.ends_with("</svg>"));
        // Version 3 (29 modules) with a quiet zone of 4 on each side.
        assert!(s.contains("viewBox=\"0 0 37 37\""), "{s}");
        assert!(super::svg(&"x".repeat(4000), "").is_none());
    }
}
