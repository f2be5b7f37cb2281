//! The one HTML escaper: tera's, the one the templates use (tera escapes
//! every `.html` template's values), for the markup written in Rust.

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for element text and
/// quoted attribute values; the same five entities serve XML (the sitemap).
pub fn escape(text: &str) -> String {
    let mut buf = Vec::with_capacity(text.len());
    tera::escape_html(text, &mut buf).expect("writing to a Vec cannot fail");
    String::from_utf8(buf).expect("escaping keeps UTF-8")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_the_five_characters_of_markup() {
        assert_eq!(
            super::escape(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }
}
