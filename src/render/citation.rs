//! GDPR article citations as a lawyer of each language writes them.
//!
//! The code knows an article as `6(1)(a)` (article, paragraph, point); an
//! English page may print that, but a Dutch one writes "artikel 6, lid 1,
//! onder a, AVG", a French one "article 6, paragraphe 1, point a), du RGPD"
//! and a German one "Art. 6 Abs. 1 lit. a DSGVO". The patterns are theme
//! strings (`article_ref`, `article_ref_paragraph`, `article_ref_point`),
//! so a theme can follow a house style, e.g. the Belgian "art. 6.1.a AVG".

/// An article reference split into its parts: `6(1)(a)` → `6`, `1`, `a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Citation<'a> {
    pub article: &'a str,
    pub paragraph: Option<&'a str>,
    pub point: Option<&'a str>,
}

impl<'a> Citation<'a> {
    /// Splits the compact notation used in the code (`77`, `7(3)`, `6(1)(a)`).
    pub fn parse(compact: &'a str) -> Citation<'a> {
        let mut parts = compact.split('(').map(|p| p.trim_end_matches(')'));
        Citation {
            article: parts.next().unwrap_or_default(),
            paragraph: parts.next(),
            point: parts.next(),
        }
    }

    /// The citation in one language. `pattern` looks up a theme string by
    /// key; the most specific pattern that fits the citation is used.
    pub fn render(&self, pattern: impl Fn(&str) -> String) -> String {
        let template = match (self.paragraph, self.point) {
            (Some(_), Some(_)) => pattern("article_ref_point"),
            (Some(_), None) => pattern("article_ref_paragraph"),
            _ => pattern("article_ref"),
        };
        template
            .replace("{article}", self.article)
            .replace("{paragraph}", self.paragraph.unwrap_or_default())
            .replace("{point}", self.point.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nl(key: &str) -> String {
        match key {
            "article_ref" => "artikel {article} AVG",
            "article_ref_paragraph" => "artikel {article}, lid {paragraph}, AVG",
            "article_ref_point" => "artikel {article}, lid {paragraph}, onder {point}, AVG",
            _ => "",
        }
        .to_string()
    }

    #[test]
    fn splits_and_formats_each_depth() {
        assert_eq!(
            Citation::parse("6(1)(a)").render(nl),
            "artikel 6, lid 1, onder a, AVG"
        );
        assert_eq!(Citation::parse("7(3)").render(nl), "artikel 7, lid 3, AVG");
        assert_eq!(Citation::parse("77").render(nl), "artikel 77 AVG");
    }
}
