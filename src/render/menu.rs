//! The menu of one language, rendered once instead of once per page.
//!
//! The default theme's menu lists every page of the language on every page
//! of it, so rendering `partials/nav.html` per page costs the square of the
//! number of pages: on a portal of 250 pages per language it was most of the
//! build. Only one thing differs between the pages' menus: which item is
//! the current page. So each item is rendered twice (plain and current),
//! each alone in the partial, and a page's menu is the partial's frame with
//! the items' fragments put in, the page's own one current.
//!
//! That is only right for a partial that renders each item on its own
//! (no `loop.index`, no count of the items, nothing of the page), so the
//! assembly is checked against the partial rendered whole, once with no
//! current item and once with the first one current. A partial that fails
//! the check, reads `page`, or errors is left to be rendered per page, as
//! before: the result is the same, only slower.

use std::sync::Arc;
use std::time::Duration;

use super::budget::{self, Job, Outcome};

/// The partial that renders the menu.
pub const TEMPLATE: &str = "partials/nav.html";

/// The menus this module puts together have at least this many items:
/// below it, rendering the partial per page measured as fast (the example
/// portal's menu has 12).
pub const WORTH_IT: usize = 32;

/// What the pages' contexts hold that differs between the pages of one
/// language (`nav` aside, whose differences this module handles).
const PER_PAGE: [&str; 7] = [
    "page",
    "languages",
    "translations",
    "right_texts",
    "form",
    "earlier",
    "menu",
];

/// A language's menu in pieces: the frame around the items, and each item
/// rendered plain and as the current page.
pub struct Menu {
    head: String,
    items: Vec<(String, String)>,
    tail: String,
}

impl Menu {
    /// The menu with item `current` (an index into the language's menu)
    /// as the current page, or none.
    pub fn html(&self, current: Option<usize>) -> String {
        let len = self.head.len()
            + self.tail.len()
            + self
                .items
                .iter()
                .map(|(p, c)| p.len().max(c.len()))
                .sum::<usize>();
        let mut out = String::with_capacity(len);
        out.push_str(&self.head);
        for (i, (plain, cur)) in self.items.iter().enumerate() {
            out.push_str(if Some(i) == current { cur } else { plain });
        }
        out.push_str(&self.tail);
        out
    }
}

/// Renders the menu of one language in pieces, or `None` when the theme's
/// partial must be rendered per page. `context` holds what every page of
/// the language shares (no `page`); `items` are each menu item's value,
/// plain and current.
pub fn build(
    renderer: &budget::Renderer,
    tera: &Arc<tera::Tera>,
    context: &tera::Context,
    items: &[(tera::Value, tera::Value)],
    budget: Duration,
) -> Option<Menu> {
    // A partial that reads what differs from page to page (tera's own list
    // of the variables a template and its includes read).
    let reads = tera.get_template_variables(TEMPLATE).ok()?;
    if reads.iter().any(|v| PER_PAGE.contains(v)) {
        return None;
    }
    let job = |nav: Vec<tera::Value>| {
        let mut context = context.clone();
        context.insert_value("nav", tera::Value::from(nav));
        Job {
            output: TEMPLATE.to_string(),
            template: TEMPLATE,
            context,
            size_hint: 0,
            late: Vec::new(),
        }
    };
    let all_plain: Vec<tera::Value> = items.iter().map(|(p, _)| p.clone()).collect();
    let mut first_current = all_plain.clone();
    if let (Some(first), Some((_, current))) = (first_current.first_mut(), items.first()) {
        *first = current.clone();
    }
    let mut jobs = vec![job(Vec::new()), job(all_plain), job(first_current)];
    for (plain, current) in items {
        jobs.push(job(vec![plain.clone()]));
        jobs.push(job(vec![current.clone()]));
    }
    let mut rendered = Vec::with_capacity(jobs.len());
    for outcome in renderer.render_all(Arc::clone(tera), jobs, budget) {
        match outcome {
            Some(Outcome::Rendered(bytes)) => rendered.push(String::from_utf8(bytes).ok()?),
            _ => return None,
        }
    }
    let mut rendered = rendered.into_iter();
    let (empty, whole, whole_first_current) =
        (rendered.next()?, rendered.next()?, rendered.next()?);
    let singles: Vec<String> = rendered.collect();
    // The frame splits where the first item's render departs from the empty
    // one; any split will do that the checks below confirm.
    let split = match singles.first() {
        Some(one) => common_prefix(&empty, one),
        None => empty.len(),
    };
    let (head, tail) = empty.split_at(split);
    let fragment = |single: &String| -> Option<String> {
        let inner = single.strip_prefix(head)?.strip_suffix(tail)?;
        Some(inner.to_string())
    };
    let mut pieces = Vec::with_capacity(items.len());
    for pair in singles.chunks(2) {
        pieces.push((fragment(&pair[0])?, fragment(&pair[1])?));
    }
    let menu = Menu {
        head: head.to_string(),
        items: pieces,
        tail: tail.to_string(),
    };
    let first = (!items.is_empty()).then_some(0);
    (menu.html(None) == whole && menu.html(first) == whole_first_current).then_some(menu)
}

/// The length in bytes of the longest common prefix, at a char boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    (0..=n).rev().find(|&i| a.is_char_boundary(i)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu(partial: &str, titles: &[&str]) -> (Option<Menu>, Arc<tera::Tera>) {
        let mut tera = tera::Tera::new();
        budget::install(&mut tera);
        tera.add_raw_template(TEMPLATE, partial).unwrap();
        let tera = Arc::new(tera);
        let item = |title: &str, current: bool| {
            tera::Value::from_serializable(&serde_json::json!({
                "title": title, "url": format!("/{title}/"), "current": current,
            }))
        };
        let items: Vec<(tera::Value, tera::Value)> = titles
            .iter()
            .map(|t| (item(t, false), item(t, true)))
            .collect();
        let built = build(
            &budget::Renderer::default(),
            &tera,
            &tera::Context::new(),
            &items,
            Duration::from_secs(10),
        );
        (built, tera)
    }

    fn whole(tera: &tera::Tera, titles: &[&str], current: Option<usize>) -> String {
        let nav: Vec<serde_json::Value> = titles
            .iter()
            .enumerate()
            .map(|(i, t)| serde_json::json!({"title": t, "url": format!("/{t}/"), "current": Some(i) == current}))
            .collect();
        let mut ctx = tera::Context::new();
        ctx.insert("nav", &nav);
        tera.render(TEMPLATE, &ctx).unwrap()
    }

    const NAV: &str = "<nav>\n<ul>\n{%- for item in nav %}\n<li><a href=\"{{ item.url }}\"{% if item.current %} aria-current=\"page\"{% endif %}>{{ item.title }}</a></li>\n{%- endfor %}\n</ul>\n</nav>\n";

    #[test]
    fn every_page_gets_the_menu_the_partial_would_render() {
        let titles = ["Home", "Privacy & you", "Cookies", "About"];
        let (menu, tera) = menu(NAV, &titles);
        let menu = menu.expect("a menu of items rendered one by one");
        assert_eq!(menu.html(None), whole(&tera, &titles, None));
        for i in 0..titles.len() {
            assert_eq!(menu.html(Some(i)), whole(&tera, &titles, Some(i)));
        }
    }

    #[test]
    fn a_partial_that_counts_its_items_is_rendered_per_page() {
        let counting =
            "<ol>{% for item in nav %}<li>{{ loop.index }}. {{ item.title }}</li>{% endfor %}</ol>";
        assert!(menu(counting, &["a", "b", "c"]).0.is_none());
        let sized = "<ul data-n=\"{{ nav | length }}\">{% for item in nav %}<li>{{ item.title }}</li>{% endfor %}</ul>";
        assert!(menu(sized, &["a", "b"]).0.is_none());
    }

    #[test]
    fn a_partial_that_reads_the_page_is_rendered_per_page() {
        let reading = "{% for item in nav %}{% if item.url == page.url %}<b>{% endif %}{{ item.title }}{% endfor %}";
        assert!(menu(reading, &["a", "b"]).0.is_none());
    }

    #[test]
    fn the_built_in_menu_is_rendered_once_per_language() {
        let partial = include_str!("../../themes/default/templates/partials/nav.html");
        let mut tera = tera::Tera::new();
        budget::install(&mut tera);
        tera.add_raw_template(TEMPLATE, partial).unwrap();
        let mut context = tera::Context::new();
        context.insert("t", &serde_json::json!({"site_nav_label": "Menu"}));
        let item = |title: &str, current: bool| {
            tera::Value::from_serializable(
                &serde_json::json!({"title": title, "url": "/x/", "current": current}),
            )
        };
        let items = vec![
            (item("a", false), item("a", true)),
            (item("b", false), item("b", true)),
        ];
        let menu = build(
            &budget::Renderer::default(),
            &Arc::new(tera),
            &context,
            &items,
            Duration::from_secs(10),
        );
        assert!(
            menu.is_some(),
            "the default theme's partial renders item by item"
        );
    }

    #[test]
    fn an_empty_menu_is_the_frame_alone() {
        let (menu, tera) = menu(NAV, &[]);
        assert_eq!(menu.expect("a frame").html(None), whole(&tera, &[], None));
    }
}
