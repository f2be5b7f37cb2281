//! The fixed wording around forms in each language: the submit button, the
//! required marker, the endpoint's error and acknowledgement texts. Fixed so
//! that nothing a visitor typed ever becomes part of a message's wording.

use serde::{Deserialize, Serialize};

use crate::site::lang::Lang;

#[derive(Debug, Clone, Serialize)]
pub struct FormStrings {
    pub submit: &'static str,
    pub required: &'static str,
    /// The empty first option of a list: nothing chosen yet.
    pub choose: &'static str,
    pub honeypot: &'static str,
}

impl FormStrings {
    pub fn get(lang: Lang) -> FormStrings {
        match lang {
            Lang::Nl => FormStrings {
                submit: "Verzenden",
                required: "verplicht",
                choose: "Maak een keuze",
                honeypot: "Laat dit veld leeg",
            },
            Lang::Fr => FormStrings {
                submit: "Envoyer",
                required: "obligatoire",
                choose: "Faites votre choix",
                honeypot: "Laissez ce champ vide",
            },
            Lang::De => FormStrings {
                submit: "Senden",
                required: "Pflichtfeld",
                choose: "Bitte auswählen",
                honeypot: "Dieses Feld leer lassen",
            },
            Lang::En => FormStrings {
                submit: "Send",
                required: "required",
                choose: "Choose one",
                honeypot: "Leave this field empty",
            },
        }
    }
}

/// Why a field was refused, in words for the visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    Missing,
    TooLong,
    NotAnEmail,
    /// A valid address of a form the endpoint does not mail to (address
    /// literal, quoted local part, `localhost`…).
    UnusableEmail,
    NotADate,
    NotAPhone,
    NotAnOption,
    /// Control characters in a one-line field: tampering.
    Forbidden,
    Unknown,
}

impl Problem {
    pub fn text(self, lang: Lang) -> &'static str {
        use Problem::*;
        match (lang, self) {
            (Lang::Nl, Missing) => "is verplicht",
            (Lang::Nl, TooLong) => "is te lang",
            (Lang::Nl, NotAnEmail) => "is geen geldig e-mailadres",
            (Lang::Nl, UnusableEmail) => {
                "is geen e-mailadres waarop wij kunnen antwoorden; gebruik een gewoon adres zoals naam@voorbeeld.be"
            }
            (Lang::Nl, NotADate) => "is geen geldige datum",
            (Lang::Nl, NotAPhone) => "is geen geldig telefoonnummer",
            (Lang::Nl, NotAnOption) => "is geen van de mogelijke keuzes",
            (Lang::Nl, Forbidden) => "bevat tekens die niet zijn toegestaan",
            (Lang::Nl, Unknown) => "hoort niet bij dit formulier",
            (Lang::Fr, Missing) => "est obligatoire",
            (Lang::Fr, TooLong) => "est trop long",
            (Lang::Fr, NotAnEmail) => "n'est pas une adresse e-mail valide",
            (Lang::Fr, UnusableEmail) => {
                "n'est pas une adresse à laquelle nous pouvons répondre ; utilisez une adresse ordinaire comme nom@exemple.be"
            }
            (Lang::Fr, NotADate) => "n'est pas une date valide",
            (Lang::Fr, NotAPhone) => "n'est pas un numéro de téléphone valide",
            (Lang::Fr, NotAnOption) => "n'est pas un des choix possibles",
            (Lang::Fr, Forbidden) => "contient des caractères non autorisés",
            (Lang::Fr, Unknown) => "ne fait pas partie de ce formulaire",
            (Lang::De, Missing) => "ist erforderlich",
            (Lang::De, TooLong) => "ist zu lang",
            (Lang::De, NotAnEmail) => "ist keine gültige E-Mail-Adresse",
            (Lang::De, UnusableEmail) => {
                "ist keine Adresse, an die wir antworten können; verwenden Sie eine gewöhnliche Adresse wie name@beispiel.de"
            }
            (Lang::De, NotADate) => "ist kein gültiges Datum",
            (Lang::De, NotAPhone) => "ist keine gültige Telefonnummer",
            (Lang::De, NotAnOption) => "ist keine der möglichen Auswahlen",
            (Lang::De, Forbidden) => "enthält unzulässige Zeichen",
            (Lang::De, Unknown) => "gehört nicht zu diesem Formular",
            (Lang::En, Missing) => "is required",
            (Lang::En, TooLong) => "is too long",
            (Lang::En, NotAnEmail) => "is not a valid e-mail address",
            (Lang::En, UnusableEmail) => {
                "is not an address we can answer; use an ordinary address such as name@example.com"
            }
            (Lang::En, NotADate) => "is not a valid date",
            (Lang::En, NotAPhone) => "is not a valid phone number",
            (Lang::En, NotAnOption) => "is not one of the choices",
            (Lang::En, Forbidden) => "contains characters that are not allowed",
            (Lang::En, Unknown) => "is not part of this form",
        }
    }
}

/// Texts of the endpoint's own pages and mails.
pub struct EndpointStrings {
    pub error_title: &'static str,
    pub error_intro: &'static str,
    pub back: &'static str,
    pub forbidden: &'static str,
    pub expired: &'static str,
    pub too_large: &'static str,
    pub too_many: &'static str,
    pub unavailable: &'static str,
    pub ack_subject: &'static str,
    /// `{reference}`, `{due}` and `{firm}` (the controller's legal name
    /// from portal.toml) are replaced; nothing the visitor typed is inserted.
    pub ack_body: &'static str,
}

impl EndpointStrings {
    pub fn get(lang: Lang) -> EndpointStrings {
        match lang {
            Lang::Nl => EndpointStrings {
                error_title: "Uw verzoek is niet verzonden",
                error_intro: "Verbeter het volgende en probeer opnieuw:",
                back: "Terug naar het formulier",
                forbidden: "Dit formulier is niet (meer) geldig. Laad de pagina opnieuw en probeer nog eens.",
                expired: "Dit formulier is verlopen. Laad de pagina opnieuw en probeer nog eens.",
                too_large: "Uw verzoek is te groot.",
                too_many: "Te veel verzoeken. Probeer het over enkele minuten opnieuw.",
                unavailable: "Uw verzoek kon niet worden opgeslagen. Probeer het later opnieuw.",
                ack_subject: "Wij hebben uw aanvraag ontvangen",
                ack_body: "{firm} heeft uw aanvraag ontvangen onder referentie {reference}.\nU krijgt uiterlijk op {due} een antwoord.\n\nAntwoorden op deze e-mail gaan naar {firm}. Vermeld altijd de referentie.\nDit is een automatisch bericht.\n",
            },
            Lang::Fr => EndpointStrings {
                error_title: "Votre demande n'a pas été envoyée",
                error_intro: "Corrigez ce qui suit et réessayez\u{202f}:",
                back: "Retour au formulaire",
                forbidden: "Ce formulaire n'est pas (ou plus) valide. Rechargez la page et réessayez.",
                expired: "Ce formulaire a expiré. Rechargez la page et réessayez.",
                too_large: "Votre demande est trop volumineuse.",
                too_many: "Trop de demandes. Réessayez dans quelques minutes.",
                unavailable: "Votre demande n'a pas pu être enregistrée. Réessayez plus tard.",
                ack_subject: "Nous avons bien reçu votre demande",
                ack_body: "{firm} a bien reçu votre demande sous la référence {reference}.\nVous recevrez une réponse au plus tard le {due}.\n\nLes réponses à ce courriel sont adressées à {firm}. Mentionnez toujours la référence.\nCeci est un message automatique.\n",
            },
            Lang::De => EndpointStrings {
                error_title: "Ihr Antrag wurde nicht gesendet",
                error_intro: "Bitte korrigieren Sie Folgendes und versuchen Sie es erneut:",
                back: "Zurück zum Formular",
                forbidden: "Dieses Formular ist nicht (mehr) gültig. Laden Sie die Seite neu und versuchen Sie es erneut.",
                expired: "Dieses Formular ist abgelaufen. Laden Sie die Seite neu und versuchen Sie es erneut.",
                too_large: "Ihr Antrag ist zu groß.",
                too_many: "Zu viele Anträge. Versuchen Sie es in einigen Minuten erneut.",
                unavailable: "Ihr Antrag konnte nicht gespeichert werden. Versuchen Sie es später erneut.",
                ack_subject: "Wir haben Ihren Antrag erhalten",
                ack_body: "{firm} hat Ihren Antrag unter der Referenz {reference} erhalten.\nSie erhalten spätestens am {due} eine Antwort.\n\nAntworten auf diese E-Mail gehen an {firm}. Geben Sie immer die Referenz an.\nDies ist eine automatische Nachricht.\n",
            },
            Lang::En => EndpointStrings {
                error_title: "Your request was not sent",
                error_intro: "Please correct the following and try again:",
                back: "Back to the form",
                forbidden: "This form is not (or no longer) valid. Reload the page and try again.",
                expired: "This form has expired. Reload the page and try again.",
                too_large: "Your request is too large.",
                too_many: "Too many requests. Please try again in a few minutes.",
                unavailable: "Your request could not be stored. Please try again later.",
                ack_subject: "We have received your request",
                ack_body: "{firm} has received your request under reference {reference}.\nYou will get an answer by {due} at the latest.\n\nReplies to this e-mail go to {firm}. Always mention the reference.\nThis is an automatic message.\n",
            },
        }
    }
}

/// The wording of the endpoint's two mails in one language: the theme's
/// `[mail]` table (`themes/default/i18n/*.toml`, overridable key by key in a
/// site's theme). Copied into each ticket when its post is accepted, so a
/// ticket waiting in the spool is sent with the words it was accepted
/// with, even after a restart with another theme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailStrings {
    pub request: RequestNames,
    pub ticket: TicketWords,
    pub ack: AckWords,
    pub language: LanguageNames,
}

/// What the ticket's subject calls each kind of request, with its article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestNames {
    pub access: String,
    pub rectification: String,
    pub erasure: String,
    pub restriction: String,
    pub portability: String,
    pub objection: String,
    pub objection_direct_marketing: String,
    pub withdraw_consent: String,
    pub complaint: String,
    pub other: String,
}

/// The labels and notes of the ticket mail to the firm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketWords {
    pub reference: String,
    pub request: String,
    pub firm: String,
    pub site: String,
    pub form: String,
    pub language: String,
    pub received: String,
    pub due: String,
    pub extended: String,
    pub one_month: String,
    pub stop_direct_marketing: String,
    pub withdraw_consent: String,
    pub complaint: String,
    pub yes: String,
    pub no: String,
    pub reply: String,
    pub no_reply_to: String,
}

/// The acknowledgement to the requester: one body per kind of request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckWords {
    pub subject: String,
    pub subject_complaint: String,
    pub subject_withdrawal: String,
    pub one_month: String,
    pub stop_direct_marketing: String,
    pub withdraw_consent: String,
    pub complaint: String,
    pub footer: String,
}

/// Each language's name in this language, to name the requester's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageNames {
    pub nl: String,
    pub fr: String,
    pub de: String,
    pub en: String,
}

impl LanguageNames {
    pub fn of(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.nl,
            Lang::Fr => &self.fr,
            Lang::De => &self.de,
            Lang::En => &self.en,
        }
    }
}

impl MailStrings {
    /// The `[mail]` table of one language's merged theme strings; the
    /// problem (a missing key, a number where text belongs) otherwise.
    pub fn from_theme(strings: &toml::Table) -> Result<MailStrings, String> {
        let table = strings
            .get("mail")
            .cloned()
            .ok_or_else(|| "the theme has no [mail] strings".to_string())?;
        table
            .try_into()
            .map_err(|e: toml::de::Error| format!("[mail] strings: {}", e.message().trim_end()))
    }

    /// The built-in theme's wording: for tickets spooled by a version that
    /// did not store their wording.
    pub fn builtin(lang: Lang) -> MailStrings {
        MailStrings::from_theme(&crate::theme::builtin_strings(lang))
            .expect("the built-in theme has every [mail] string")
    }
}
