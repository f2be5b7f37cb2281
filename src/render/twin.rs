//! The statement's machine-readable twin: `/<lang>/privacy/statement.json`
//! (described by `schema/statement.schema.json`) and the same facts as
//! JSON-LD in W3C Data Privacy Vocabulary terms (`statement.jsonld`), for an
//! agency's records of processing or a regulator's tool.
//!
//! A fact the firm did not declare is absent from both, never "none":
//! `recipients`, `transfers`, `cookies` and `automated_decisions` are either
//! missing, the string `"none"` (declared so in portal.toml), or the list.

use serde_json::{Map, Value, json};

use super::model::LangView;
use crate::site::config::{Config, LegalBasis, Retention, Safeguard};
use crate::site::duration::{Duration, Unit};
use crate::vocab::lang::Lang;
use crate::vocab::text::Text;

/// The format's name and version, written into every twin.
pub const FORMAT: &str = "portaal-statement";
pub const FORMAT_VERSION: u64 = 1;

/// Where the twins of `lang` are written, below the output root.
pub fn json_path(lang: Lang) -> String {
    format!("{lang}/privacy/statement.json")
}

pub fn jsonld_path(lang: Lang) -> String {
    format!("{lang}/privacy/statement.jsonld")
}

/// A duration in ISO 8601 (`P7Y`, `P1Y1M`, `PT30M`), or `session`. Weeks
/// are written as days, so that every reader of ISO 8601 takes it.
pub fn iso_duration(d: &Duration) -> String {
    let Duration::Span(parts) = d else {
        return "session".into();
    };
    let mut date = String::new();
    let mut time = String::new();
    let mut days = 0u64;
    for (n, unit) in parts {
        match unit {
            Unit::Year => date.push_str(&format!("{n}Y")),
            Unit::Month => date.push_str(&format!("{n}M")),
            Unit::Week => days += 7 * u64::from(*n),
            Unit::Day => days += u64::from(*n),
            Unit::Hour => time.push_str(&format!("{n}H")),
            Unit::Minute => time.push_str(&format!("{n}M")),
            Unit::Second => time.push_str(&format!("{n}S")),
        }
    }
    if days > 0 {
        date.push_str(&format!("{days}D"));
    }
    if time.is_empty() {
        format!("P{date}")
    } else {
        format!("P{date}T{time}")
    }
}

/// Inserts `value` under `key` when there is one.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        map.insert(key.into(), v.into());
    }
}

/// A built-in key's own name (`identity`), when `t` is one: the page shows
/// the theme's wording, which then differs from what portal.toml says.
fn builtin_key(t: &Text, label: &str) -> Option<String> {
    match t {
        Text::Same(key) if key != label => Some(key.clone()),
        _ => None,
    }
}

fn retention(r: Option<&Retention>, text: Option<&str>, view_criteria: Option<&str>) -> Value {
    let mut m = Map::new();
    let Some(r) = r else {
        return Value::Object(m);
    };
    put(
        &mut m,
        "period",
        r.period.as_ref().map(|d| iso_duration(d.get_ref())),
    );
    put(&mut m, "period_text", text);
    put(
        &mut m,
        "start",
        r.start.as_ref().and_then(|s| match s.get_ref() {
            Text::Same(k) if crate::site::config::RETENTION_STARTS.contains(&k.as_str()) => {
                Some(k.clone())
            }
            _ => None,
        }),
    );
    put(&mut m, "criteria", view_criteria);
    Value::Object(m)
}

/// `statement.json` of one language.
pub fn statement_json(config: &Config, view: &LangView, lang: Lang) -> Value {
    let base = &view.site.base_url;
    let origin = base
        .strip_suffix(view.site.base_path.trim_end_matches('/'))
        .unwrap_or(base);
    let url = format!("{origin}{}{lang}/privacy/", view.site.base_path);

    let ctl = &view.controller;
    let mut controller = Map::new();
    controller.insert("legal_name".into(), json!(ctl.legal_name));
    put(&mut controller, "trade_name", ctl.trade_name.clone());
    put(&mut controller, "legal_form", ctl.legal_form.clone());
    put(
        &mut controller,
        "enterprise_number",
        ctl.enterprise_number.clone(),
    );
    controller.insert("email".into(), json!(ctl.email));
    put(&mut controller, "phone", ctl.phone.clone());
    put(&mut controller, "website", ctl.website.clone());
    let mut address = Map::new();
    let a = &ctl.address;
    for (k, v) in [
        ("street", &a.street),
        ("postal_code", &a.postal_code),
        ("city", &a.city),
    ] {
        put(&mut address, k, (!v.is_empty()).then(|| v.clone()));
    }
    address.insert("country".into(), json!(a.country));
    controller.insert("address".into(), Value::Object(address));
    if let Some(d) = &ctl.dpo {
        let mut dpo = Map::new();
        put(&mut dpo, "name", d.name.clone());
        dpo.insert("email".into(), json!(d.email));
        put(&mut dpo, "phone", d.phone.clone());
        controller.insert("dpo".into(), Value::Object(dpo));
    }
    if let Some(r) = &ctl.representative {
        let mut rep = Map::new();
        rep.insert("name".into(), json!(r.name));
        rep.insert("email".into(), json!(r.email));
        put(&mut rep, "address", r.address.clone());
        put(&mut rep, "phone", r.phone.clone());
        controller.insert("representative".into(), Value::Object(rep));
    }

    let purposes: Vec<Value> = config
        .purposes
        .iter()
        .zip(&view.purposes)
        .map(|(p, v)| {
            let mut m = Map::new();
            m.insert("id".into(), json!(v.id));
            m.insert("name".into(), json!(v.name));
            put(&mut m, "description", v.description.clone());
            m.insert(
                "legal_bases".into(),
                json!(
                    p.legal_basis
                        .all()
                        .iter()
                        .map(|b| b.key())
                        .collect::<Vec<_>>()
                ),
            );
            put(&mut m, "legitimate_interest", v.legitimate_interest.clone());
            put(
                &mut m,
                "special_category_condition",
                v.special_condition
                    .map(|c| serde_json::to_value(c).unwrap_or(Value::Null)),
            );
            let categories: Vec<Value> = config
                .data_categories_of(p)
                .into_iter()
                .zip(&v.data_categories)
                .map(|(c, label)| {
                    let mut cm = Map::new();
                    put(&mut cm, "key", builtin_key(c.get_ref(), label));
                    cm.insert("label".into(), json!(label));
                    Value::Object(cm)
                })
                .collect();
            m.insert("data_categories".into(), Value::Array(categories));
            if !v.audiences.is_empty() {
                m.insert("audiences".into(), json!(v.audiences));
            }
            let r = retention(
                p.retention(&config.statement),
                v.retention_period.as_deref(),
                v.retention_criteria.as_deref(),
            );
            if r.as_object().is_some_and(|o| !o.is_empty()) {
                m.insert("retention".into(), r);
            }
            if let Some(ids) = &p.recipients {
                m.insert(
                    "recipients".into(),
                    json!(ids.iter().map(|i| i.get_ref()).collect::<Vec<_>>()),
                );
            }
            m.insert("direct_marketing".into(), json!(p.direct_marketing));
            put(
                &mut m,
                "provision_requirement",
                v.provision_requirement
                    .map(|r| serde_json::to_value(r).unwrap_or(Value::Null)),
            );
            put(&mut m, "source", v.source.clone());
            Value::Object(m)
        })
        .collect();

    let mut out = Map::new();
    out.insert("format".into(), json!(FORMAT));
    out.insert("format_version".into(), json!(FORMAT_VERSION));
    out.insert("language".into(), json!(lang.code()));
    out.insert("url".into(), json!(url));
    out.insert("policy_version".into(), json!(view.site.policy_version));
    put(
        &mut out,
        "last_updated",
        (!view.site.last_updated_iso.is_empty()).then(|| view.site.last_updated_iso.clone()),
    );
    out.insert("controller".into(), Value::Object(controller));
    let auth = &view.authority;
    if let Some(name) = &auth.name {
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        put(&mut m, "website", auth.website.clone());
        put(&mut m, "complaint_url", auth.complaint_url.clone());
        put(&mut m, "email", auth.email.clone());
        out.insert("authority".into(), Value::Object(m));
    }
    out.insert("purposes".into(), Value::Array(purposes));

    if !view.recipients.is_empty() {
        let list: Vec<Value> = view
            .recipients
            .iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("id".into(), json!(r.id));
                m.insert("name".into(), json!(r.name));
                m.insert("kind".into(), json!(r.kind));
                put(&mut m, "service", r.service.clone());
                put(&mut m, "country", r.country.clone());
                m.insert("outside_eea".into(), json!(r.outside_eea));
                Value::Object(m)
            })
            .collect();
        out.insert("recipients".into(), Value::Array(list));
    } else if view.statement.recipients_none {
        out.insert("recipients".into(), json!("none"));
    }

    if !config.transfers.is_empty() {
        let list: Vec<Value> = config
            .transfers
            .iter()
            .zip(&view.transfers)
            .map(|(t, v)| {
                let mut m = Map::new();
                m.insert("recipient".into(), json!(t.recipient.get_ref()));
                m.insert("country".into(), json!(v.country));
                m.insert("safeguard".into(), json!(t.safeguard.key()));
                put(&mut m, "details", v.details.clone());
                m.insert("dpf_certified".into(), json!(t.dpf_certified));
                Value::Object(m)
            })
            .collect();
        out.insert("transfers".into(), Value::Array(list));
    } else if view.statement.transfers_none {
        out.insert("transfers".into(), json!("none"));
    }

    if view.statement.automated_decisions_none {
        out.insert("automated_decisions".into(), json!("none"));
    } else if let Some(t) = &view.statement.automated_decisions {
        out.insert("automated_decisions".into(), json!({ "explanation": t }));
    }

    if !config.cookies.is_empty() {
        let list: Vec<Value> = config
            .cookies
            .iter()
            .map(|c| {
                let mut m = Map::new();
                put(&mut m, "name", c.name.as_ref().map(|n| n.get_ref().clone()));
                m.insert("prefix".into(), json!(c.prefix));
                m.insert("kind".into(), json!(c.kind));
                m.insert("provider".into(), json!(c.provider.get_ref().in_lang(lang)));
                m.insert("category".into(), json!(c.category.key()));
                m.insert("party".into(), json!(c.party));
                put(
                    &mut m,
                    "duration",
                    c.duration.as_ref().map(|d| iso_duration(d.get_ref())),
                );
                m.insert("purpose".into(), json!(c.purpose.get_ref().in_lang(lang)));
                Value::Object(m)
            })
            .collect();
        out.insert("cookies".into(), Value::Array(list));
    } else if view.statement.cookies_none {
        out.insert("cookies".into(), json!("none"));
    }

    let rights: Vec<Value> = view
        .rights
        .iter()
        .map(|r| json!({ "key": r.key, "article": r.article, "url": format!("{origin}{}", r.url) }))
        .collect();
    out.insert("rights".into(), Value::Array(rights));
    Value::Object(out)
}

/// The GDPR Art. 6(1) point of `basis` in DPV's GDPR extension.
fn dpv_basis(basis: LegalBasis) -> &'static str {
    match basis {
        LegalBasis::Consent => "eu-gdpr:A6-1-a",
        LegalBasis::Contract => "eu-gdpr:A6-1-b",
        LegalBasis::LegalObligation => "eu-gdpr:A6-1-c",
        LegalBasis::VitalInterests => "eu-gdpr:A6-1-d",
        LegalBasis::PublicTask => "eu-gdpr:A6-1-e",
        LegalBasis::LegitimateInterests => "eu-gdpr:A6-1-f",
    }
}

/// The article of Chapter V a safeguard rests on, in DPV's GDPR extension;
/// a derogation (Art. 49) has several points, so it gets a label instead.
fn dpv_safeguard(s: Safeguard) -> Value {
    match s {
        Safeguard::AdequacyDecision => json!({ "@id": "eu-gdpr:A45-3" }),
        Safeguard::StandardContractualClauses => json!({ "@id": "eu-gdpr:A46-2-c" }),
        Safeguard::BindingCorporateRules => json!({ "@id": "eu-gdpr:A46-2-b" }),
        Safeguard::Derogation => {
            json!({ "@type": "dpv:LegalBasis", "rdfs:label": "GDPR Art. 49(1) derogation" })
        }
    }
}

/// The DPV personal-data category closest to a built-in data category
/// key; `None` where DPV has no close term (the label is then given).
fn dpv_category(key: &str) -> Option<&'static str> {
    Some(match key {
        "identity" => "pd:Identifying",
        "contact" => "pd:Contact",
        "payment" => "pd:Financial",
        "order" => "pd:Transactional",
        "communication" => "pd:Communication",
        "usage" => "pd:Behavioral",
        "location" => "pd:Location",
        "employment" => "pd:Professional",
        "health" => "pd:Health",
        "ethnic_origin" => "pd:Ethnicity",
        "political_opinions" => "pd:PoliticalOpinion",
        "religious_beliefs" => "pd:Religion",
        "trade_union" => "pd:TradeUnionMembership",
        "genetic" => "pd:Genetic",
        "biometric" => "pd:Biometric",
        "sex_life" => "pd:Sexual",
        "judicial" => "pd:Criminal",
        _ => return None,
    })
}

/// `statement.jsonld`: the twin's facts as a graph in DPV terms. Each
/// purpose is a `dpv:Process` of the controller with its purpose, legal
/// bases, personal data, storage duration and recipients; each transfer a
/// `dpv:Transfer` process with its location and Chapter V basis.
pub fn statement_jsonld(json: &Value) -> Value {
    let url = json["url"].as_str().unwrap_or_default();
    let controller_id = format!("{url}#controller");
    let recipient_id = |id: &str| format!("{url}#recipient-{id}");
    let mut graph = Vec::new();
    let ctl = &json["controller"];
    let mut controller = json!({
        "@id": controller_id,
        "@type": "dpv:DataController",
        "rdfs:label": ctl["legal_name"],
        "schema:email": ctl["email"],
    });
    if let Some(dpo) = ctl.get("dpo") {
        controller["dpv:hasDataProtectionOfficer"] = json!({
            "@type": "dpv:DataProtectionOfficer",
            "schema:email": dpo["email"],
        });
    }
    graph.push(controller);

    if let Some(list) = json["recipients"].as_array() {
        for r in list {
            let id = r["id"].as_str().unwrap_or_default();
            let role = if r["kind"] == "processor" {
                "dpv:DataProcessor"
            } else {
                "dpv:DataController"
            };
            let mut node = json!({
                "@id": recipient_id(id),
                "@type": ["dpv:Recipient", role],
                "rdfs:label": r["name"],
            });
            if let Some(c) = r["country"].as_str() {
                node["dpv:hasLocation"] = location(c);
            }
            graph.push(node);
        }
    }

    for p in json["purposes"].as_array().into_iter().flatten() {
        let bases: Vec<Value> = p["legal_bases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| serde_json::from_value::<LegalBasis>(b.clone()).ok())
            .map(|b| json!({ "@id": dpv_basis(b) }))
            .collect();
        let data: Vec<Value> = p["data_categories"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| match c["key"].as_str().and_then(dpv_category) {
                Some(term) => json!({ "@id": term, "rdfs:label": c["label"] }),
                None => json!({ "@type": "dpv:PersonalData", "rdfs:label": c["label"] }),
            })
            .collect();
        let mut node = json!({
            "@id": format!("{url}#purpose-{}", p["id"].as_str().unwrap_or_default()),
            "@type": "dpv:Process",
            "dpv:hasDataController": { "@id": controller_id },
            "dpv:hasPurpose": { "@type": "dpv:Purpose", "rdfs:label": p["name"] },
            "dpv:hasLegalBasis": bases,
            "dpv:hasPersonalData": data,
        });
        if p["direct_marketing"] == true {
            node["dpv:hasPurpose"]["@type"] = json!(["dpv:Purpose", "dpv:DirectMarketing"]);
        }
        if let Some(r) = p.get("retention") {
            let mut storage = json!({ "@type": "dpv:StorageDuration" });
            if let Some(period) = r.get("period") {
                storage["dpv:hasDuration"] = json!({
                    "@type": "dpv:Duration",
                    "rdf:value": { "@value": period, "@type": "xsd:duration" },
                });
            }
            if let Some(c) = r.get("criteria") {
                storage["rdfs:comment"] = c.clone();
            }
            node["dpv:hasStorageCondition"] = storage;
        }
        if let Some(ids) = p["recipients"].as_array() {
            node["dpv:hasRecipient"] = ids
                .iter()
                .map(|i| json!({ "@id": recipient_id(i.as_str().unwrap_or_default()) }))
                .collect();
        }
        graph.push(node);
    }

    for t in json["transfers"].as_array().into_iter().flatten() {
        let safeguard = serde_json::from_value::<Safeguard>(t["safeguard"].clone())
            .map(dpv_safeguard)
            .unwrap_or(Value::Null);
        graph.push(json!({
            "@type": "dpv:Process",
            "dpv:hasDataController": { "@id": controller_id },
            "dpv:hasProcessing": { "@id": "dpv:Transfer" },
            "dpv:hasRecipient": { "@id": recipient_id(t["recipient"].as_str().unwrap_or_default()) },
            "dpv:hasLocation": location(t["country"].as_str().unwrap_or_default()),
            "dpv:hasLegalBasis": safeguard,
        }));
    }

    let mut doc = json!({
        "@context": {
            "dpv": "https://w3id.org/dpv#",
            "pd": "https://w3id.org/dpv/pd#",
            "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
            "loc": "https://w3id.org/dpv/loc#",
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "dct": "http://purl.org/dc/terms/",
            "schema": "https://schema.org/",
        },
        "@id": url,
        "dct:language": json["language"],
        "dct:hasVersion": json["policy_version"],
        "dct:conformsTo": format!("{FORMAT}/{FORMAT_VERSION}"),
        "@graph": graph,
    });
    if let Some(d) = json.get("last_updated") {
        doc["dct:modified"] = json!({ "@value": d, "@type": "xsd:date" });
    }
    doc
}

/// A country as a DPV location (`loc:US`); a region (`EEA`, `outside_eea`)
/// as a label, since it names no one place.
fn location(code: &str) -> Value {
    if crate::site::country::is_country(code) {
        json!({ "@id": format!("loc:{code}") })
    } else {
        json!({ "@type": "dpv:Location", "rdfs:label": code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_in_iso_8601() {
        let d = |s: &str| iso_duration(&s.parse::<Duration>().unwrap());
        assert_eq!(d("7y"), "P7Y");
        assert_eq!(d("1y1mo"), "P1Y1M");
        assert_eq!(d("30m"), "PT30M");
        assert_eq!(d("2w3d"), "P17D");
        assert_eq!(d("1d12h"), "P1DT12H");
        assert_eq!(d("session"), "session");
    }
}
