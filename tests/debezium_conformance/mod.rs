//! Helpers of the Debezium conformance test: a private MariaDB started as the recording's was,
//! the recorded SQL split into statements, Avro values in the recording's JSON form, and a
//! readable diff of two JSON documents.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use apache_avro::types::Value as Avro;
use base64::Engine;
use serde_json::{json, Value as Json};

/// A fresh private MariaDB (`scripts/mariadb.sh`), stopped when dropped.
pub struct PrivateMariaDb {
    name: &'static str,
    port: u16,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/mariadb.sh")
}

fn run_script(args: &[&str]) -> Result<(), String> {
    let out = Command::new(script())
        .args(args)
        .output()
        .map_err(|e| format!("scripts/mariadb.sh {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "scripts/mariadb.sh {} failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl PrivateMariaDb {
    /// Starts `name` on `port` with an empty datadir and `args` appended to mariadbd's command
    /// line (the script's own bounded wait says when it does not answer).
    pub fn start_fresh(name: &'static str, port: u16, args: &[&str]) -> PrivateMariaDb {
        let port_text = port.to_string();
        run_script(&["stop", name, &port_text]).unwrap_or_else(|e| panic!("{e}"));
        let state = std::env::var("TRIBUTARY_STATE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".state"));
        let dir = state.join(format!("mariadb-{name}"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .unwrap_or_else(|e| panic!("removing {} for a fresh server: {e}", dir.display()));
        }
        let mut all = vec!["start", name, &port_text];
        all.extend_from_slice(args);
        run_script(&all).unwrap_or_else(|e| panic!("{e}"));
        PrivateMariaDb { name, port }
    }

    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PrivateMariaDb {
    fn drop(&mut self) {
        if let Err(e) = run_script(&["stop", self.name, &self.port.to_string()]) {
            eprintln!("{e}");
        }
    }
}

/// Statements of a SQL script, split at semicolons outside quotes; comments dropped.
pub fn statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for line in script.lines() {
        if quote.is_none() && line.trim_start().starts_with("--") {
            continue;
        }
        for c in line.chars() {
            match (quote, c) {
                (None, '\'' | '"' | '`') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, ';') => {
                    if !current.trim().is_empty() {
                        out.push(current.trim().to_owned());
                    }
                    current.clear();
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        current.push('\n');
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

/// Decimal scales of the record fields of a writer schema, by field name.
pub fn decimal_scales(schema: &Json, out: &mut BTreeMap<String, u32>) {
    match schema {
        Json::Object(o) => {
            if let (Some(Json::String(name)), Some(t)) = (o.get("name"), o.get("type")) {
                let inner = match t {
                    Json::Array(branches) => branches
                        .iter()
                        .find(|b| b.is_object())
                        .cloned()
                        .unwrap_or(Json::Null),
                    other => other.clone(),
                };
                if inner.get("logicalType") == Some(&json!("decimal")) {
                    out.insert(
                        name.clone(),
                        inner.get("scale").and_then(Json::as_u64).unwrap_or(0) as u32,
                    );
                }
            }
            for v in o.values() {
                decimal_scales(v, out);
            }
        }
        Json::Array(a) => a.iter().for_each(|v| decimal_scales(v, out)),
        _ => {}
    }
}

/// An independently decoded Avro value in the recording's JSON form (bytes as
/// `{"base64": …}`, decimals as `{"decimal": "…"}`).
pub fn to_json(v: &Avro, field: &str, scales: &BTreeMap<String, u32>) -> Json {
    match v {
        Avro::Union(_, inner) => to_json(inner, field, scales),
        Avro::Null => Json::Null,
        Avro::Boolean(b) => json!(b),
        Avro::Int(i) | Avro::Date(i) => json!(i),
        Avro::Long(i) => json!(i),
        Avro::Float(f) => json!(f64::from(*f)),
        Avro::Double(f) => json!(f),
        Avro::String(s) | Avro::Enum(_, s) => json!(s),
        Avro::Bytes(b) | Avro::Fixed(_, b) => {
            json!({"base64": base64::engine::general_purpose::STANDARD.encode(b)})
        }
        Avro::Decimal(d) => {
            let bytes = Vec::<u8>::try_from(d).unwrap_or_default();
            json!({"decimal": tributary_runtime::data::logical::decimal_from_bytes(&bytes, scales.get(field).copied().unwrap_or(0))})
        }
        Avro::Array(items) => {
            Json::Array(items.iter().map(|i| to_json(i, field, scales)).collect())
        }
        Avro::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(n, v)| (n.clone(), to_json(v, n, scales)))
                .collect(),
        ),
        other => json!(format!("{other:?}")),
    }
}

fn short(v: &Json) -> String {
    let text = v.to_string();
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(160).collect::<String>())
    } else {
        text
    }
}

/// Where `ours` differs from `debezium`, one line per difference: the path of the field
/// (array elements that are named, like record fields and columns, show their name), what
/// Debezium has and what we have.
pub fn diff(path: &str, debezium: &Json, ours: &Json, out: &mut Vec<String>) {
    match (debezium, ours) {
        (Json::Object(d), Json::Object(o)) => {
            for (k, dv) in d {
                let p = format!("{path}.{k}");
                match o.get(k) {
                    Some(ov) => diff(&p, dv, ov, out),
                    None => out.push(format!("{p}: missing in ours (debezium: {})", short(dv))),
                }
            }
            for (k, ov) in o {
                if !d.contains_key(k) {
                    out.push(format!("{path}.{k}: only in ours ({})", short(ov)));
                }
            }
        }
        (Json::Array(d), Json::Array(o)) => {
            for i in 0..d.len().max(o.len()) {
                let named = d
                    .get(i)
                    .or(o.get(i))
                    .and_then(|e| e.get("name"))
                    .and_then(Json::as_str);
                let p = match named {
                    Some(n) => format!("{path}[{i}:{n}]"),
                    None => format!("{path}[{i}]"),
                };
                match (d.get(i), o.get(i)) {
                    (Some(dv), Some(ov)) => diff(&p, dv, ov, out),
                    (Some(dv), None) => {
                        out.push(format!("{p}: missing in ours (debezium: {})", short(dv)))
                    }
                    (None, Some(ov)) => out.push(format!("{p}: only in ours ({})", short(ov))),
                    (None, None) => {}
                }
            }
        }
        _ if debezium == ours => {}
        _ => out.push(format!(
            "{path}: debezium {}, ours {}",
            short(debezium),
            short(ours)
        )),
    }
}

#[test]
fn the_diff_names_paths_and_both_values() {
    let mut out = Vec::new();
    diff(
        "$",
        &json!({"a": 1, "f": [{"name": "x", "t": "int"}], "gone": true}),
        &json!({"a": 2, "f": [{"name": "x", "t": "long"}], "new": null}),
        &mut out,
    );
    assert_eq!(
        out,
        [
            "$.a: debezium 1, ours 2",
            "$.f[0:x].t: debezium \"int\", ours \"long\"",
            "$.gone: missing in ours (debezium: true)",
            "$.new: only in ours (null)",
        ]
    );
}
