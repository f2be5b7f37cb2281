//! A client portal as read from disk: its facts, its prose, its theme.

pub mod authority;
pub mod config;
pub mod content;
pub mod country;
pub mod duration;
pub mod history;
pub mod validate;

use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::theme::Theme;
use config::Config;
use content::ContentFile;

/// The name of a site's data file.
pub const CONFIG_FILE: &str = "portal.toml";

/// Everything read from one site directory, checked and ready to render.
#[derive(Debug, Clone)]
pub struct Site {
    pub dir: PathBuf,
    pub config: Config,
    pub content: Vec<ContentFile>,
    pub theme: Theme,
    /// The request forms: built-in ones overlaid with the site's `forms/`.
    pub forms: Vec<crate::forms::definition::FormDef>,
}

impl Site {
    /// Reads and checks a site directory. Every problem found is returned,
    /// not just the first.
    pub fn load(dir: &Path) -> Result<Site, Diagnostics> {
        let (site, diags) = Site::load_with_problems(dir);
        match site {
            Some(site) => diags.into_result(site),
            None => Err(diags.sorted()),
        }
    }

    /// Like [`Site::load`], but returns the site even when it has problems,
    /// as long as `portal.toml` could be read, so that later stages (the
    /// link check) can add theirs to the same report.
    pub fn load_with_problems(dir: &Path) -> (Option<Site>, Diagnostics) {
        let mut diags = Diagnostics::default();
        // Problems name the file relative to the site: the caller shows
        // the site directory in front of it.
        let config_path = dir.join(CONFIG_FILE);
        let text = match std::fs::read(&config_path) {
            Ok(bytes) => match crate::diagnostics::decode_utf8(bytes, Path::new(CONFIG_FILE)) {
                Ok(t) => t,
                Err(d) => {
                    diags.push(d);
                    return (None, diags);
                }
            },
            Err(e) => {
                diags.push(
                    Diagnostic::error(CONFIG_FILE, format!("cannot read: {e}"))
                        .with_fix("run `portaal init DIR` to create a new portal, or pass the directory that holds portal.toml"),
                );
                return (None, diags);
            }
        };
        let file = SourceFile {
            path: Path::new(CONFIG_FILE),
            text: &text,
        };
        let Some(mut parts) = Config::parse_parts(file, &mut diags) else {
            return (None, diags);
        };
        authority::apply_preset(file, &mut parts.authority, &mut diags);
        validate::check(file, &parts, &mut diags);
        // Content, theme and forms need only [site]: they are checked even
        // when another section has a mistake, so that one run shows all.
        let Some(site_section) = &parts.site else {
            return (None, diags);
        };
        let languages = site_section.languages.get_ref().clone();
        let content = content::load(dir, &languages, &mut diags);
        let theme_name = crate::theme::checked_name(file, &site_section.theme, &mut diags);
        let theme = load_theme(dir, theme_name, &languages, &mut diags);
        let forms = crate::forms::load(dir, &languages, &mut diags);
        let Some(config) = parts.into_config() else {
            return (None, diags);
        };
        let site = Site {
            dir: dir.to_path_buf(),
            config,
            content,
            theme,
            forms,
        };
        (Some(site), diags)
    }

    pub fn languages(&self) -> &[crate::vocab::lang::Lang] {
        self.config.site.languages.get_ref()
    }

    pub fn id(&self) -> &str {
        self.config.site.id.get_ref()
    }
}

/// Loads the site's theme and checks the strings its forms and mails need.
pub fn load_theme(
    dir: &Path,
    name: &str,
    languages: &[crate::vocab::lang::Lang],
    diags: &mut Diagnostics,
) -> Theme {
    let theme = Theme::load(dir, name, languages, diags);
    crate::forms::strings::check_theme(&theme, name, diags);
    theme
}
