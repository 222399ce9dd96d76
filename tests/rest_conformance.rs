//! Kafka Connect 4.3.0's REST API, replayed from its recording.
//!
//! `tests/fixtures/kafka-connect-4.3.0-rest.txt` holds every call a script made against a real
//! Kafka Connect 4.3.0 worker, with the status code and body it answered. This test parses that
//! file, sends the same calls in the same order to one of our workers (in this process, over
//! HTTP, with librdkafka's mock cluster as Kafka and our file source as `FileStreamSource`) and
//! compares each answer with the recorded one:
//!
//! - the same status code;
//! - the same JSON shape: object keys and value types, recursively, arrays element by element;
//! - the same values, except those that depend on the run or the build (`version`, `commit`,
//!   `kafka_cluster_id`, `worker_id`, version strings) and the list of installed plugins inside
//!   the unknown-class message.
//!
//! The recording's bodies of more than 1,500 characters are cut off mid-JSON. Its objects have
//! their keys sorted (Python's `json.dumps(sort_keys=True)`), so a cut object still says which
//! keys exist up to the last one it shows; those keys are compared, and nothing is assumed about
//! keys after it. A cut string is compared as a prefix.
//!
//! Deliberate differences, listed in the README's REST API section: a malformed JSON body and a
//! `POST /connectors` body without `config` answer 400 here (Kafka Connect answers 500).
//!
//! The recorded input file, `/data/in.txt`, does not exist here: every request body has it
//! replaced by a temporary file, and every answer has that file's path replaced back by
//! `/data/in.txt`, so paths are compared by value too. The temporary file has 6 bytes, as the
//! recorded one had (its offset reads `"position": 6`).

mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{kafka, start_worker, wait_for, worker_props, Http};
use tributary_runtime::worker::parse_properties;

const RECORDING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/kafka-connect-4.3.0-rest.txt"
);

/// The recorded input file's path, replaced by a temporary file in requests.
const RECORDED_FILE: &str = "/data/in.txt";

/// How long a `GET` is repeated until its answer matches the recording (a connector reaching
/// RUNNING, an offset being flushed).
const SETTLE: Duration = Duration::from_secs(30);

/// Keys whose values depend on the run or on the build, compared by type only.
const RUN_DEPENDENT_KEYS: &[&str] = &["version", "commit", "kafka_cluster_id", "worker_id"];

/// Version strings of the recorded build (Kafka Connect's, Debezium's), wherever they appear
/// (`connector.plugin.version`'s default and recommended values): compared by type only.
const RECORDED_VERSIONS: &[&str] = &["4.3.0", "3.6.3.Final"];

/// Kafka Connect's unknown-class message ends with the installed plugins, which differ.
const PLUGIN_LIST_INTRO: &str = "available connectors are: ";

// ---------------------------------------------------------------------------------------------
// The recording

/// A recorded JSON value. Bodies longer than the recorder's limit are cut off, so containers and
/// strings may be incomplete.
#[derive(Debug)]
enum Rec {
    Null,
    Bool(bool),
    Number(Value),
    Str {
        text: String,
        complete: bool,
    },
    Array {
        items: Vec<Rec>,
        complete: bool,
    },
    /// Keys in sorted order; `complete == false` means keys after the last one may be missing.
    Object {
        entries: Vec<(String, Rec)>,
        complete: bool,
    },
    /// The recording ends inside this number or literal: only its type is known.
    TypeOnly(&'static str),
    /// The recording ends before this value: nothing is known about it.
    Cut,
}

#[derive(Debug)]
enum RequestBody {
    None,
    Json(Value),
    /// Sent as is (the recorded malformed body).
    Raw(String),
}

#[derive(Debug)]
enum Answer {
    Empty,
    Json(Rec),
}

#[derive(Debug)]
struct Call {
    /// 1-based line of the request in the recording.
    line: usize,
    method: String,
    path: String,
    body: RequestBody,
    status: u16,
    answer: Answer,
    /// The recorded answer as written, for the report.
    answer_text: String,
}

impl Call {
    fn title(&self) -> String {
        let body = match &self.body {
            RequestBody::None => String::new(),
            RequestBody::Json(b) => format!("  body={b}"),
            RequestBody::Raw(r) => format!("  raw={r:?}"),
        };
        format!("{} {}{}", self.method, self.path, body)
    }
}

fn parse_recording(text: &str) -> Vec<Call> {
    let lines: Vec<&str> = text.lines().collect();
    let mut calls = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let request = lines[i];
        if request.trim().is_empty() {
            i += 1;
            continue;
        }
        let line = i + 1;
        let response = lines
            .get(i + 1)
            .and_then(|l| l.strip_prefix("  -> "))
            .unwrap_or_else(|| panic!("recording line {line}: no `  -> ` answer after the call"));
        i += 2;

        let (head, body) = if let Some((head, json)) = request.split_once("  body=") {
            let json = serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("recording line {line}: request body: {e}"));
            (head, RequestBody::Json(json))
        } else if let Some((head, raw)) = request.split_once("  raw=") {
            (head, RequestBody::Raw(python_str(raw, line)))
        } else {
            (request, RequestBody::None)
        };
        let (method, path) = head
            .split_once(' ')
            .unwrap_or_else(|| panic!("recording line {line}: expected `METHOD PATH`"));

        let (status, answer_text) = response
            .split_once(' ')
            .unwrap_or_else(|| panic!("recording line {}: expected `STATUS BODY`", line + 1));
        let status: u16 = status
            .parse()
            .unwrap_or_else(|e| panic!("recording line {}: status: {e}", line + 1));
        let answer = if answer_text == "''" {
            Answer::Empty
        } else {
            Answer::Json(
                parse_cut_json(answer_text)
                    .unwrap_or_else(|e| panic!("recording line {}: answer: {e}", line + 1)),
            )
        };
        calls.push(Call {
            line,
            method: method.to_owned(),
            path: path.to_owned(),
            body,
            status,
            answer,
            answer_text: answer_text.to_owned(),
        });
    }
    calls
}

/// A Python `repr` of a string, as the recorder wrote raw bodies: `'…'`.
fn python_str(repr: &str, line: usize) -> String {
    let inner = repr
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .unwrap_or_else(|| panic!("recording line {line}: raw body is not a quoted string"));
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => panic!("recording line {line}: raw body ends in a backslash"),
        }
    }
    out
}

/// Parses JSON that may be cut off anywhere: what is there is returned, with the containers
/// and the string the cut went through marked incomplete.
fn parse_cut_json(text: &str) -> Result<Rec, String> {
    let mut p = CutParser {
        s: text.as_bytes(),
        i: 0,
    };
    let value = p.value()?;
    p.ws();
    if !p.eof() {
        return Err(format!("trailing characters at byte {}", p.i));
    }
    Ok(value)
}

struct CutParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl CutParser<'_> {
    fn eof(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Rec, String> {
        self.ws();
        match self.peek() {
            None => Ok(Rec::Cut),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => {
                let (text, complete) = self.string()?;
                Ok(Rec::Str { text, complete })
            }
            Some(b't') => self.literal("true", Rec::Bool(true), "boolean"),
            Some(b'f') => self.literal("false", Rec::Bool(false), "boolean"),
            Some(b'n') => self.literal("null", Rec::Null, "null"),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.i += 1;
                }
                if self.eof() {
                    // `12` might have been `123`.
                    return Ok(Rec::TypeOnly("number"));
                }
                let literal =
                    std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                serde_json::from_str(literal)
                    .map(Rec::Number)
                    .map_err(|e| format!("number {literal:?}: {e}"))
            }
            Some(c) => Err(format!("unexpected {:?} at byte {}", c as char, self.i)),
        }
    }

    fn literal(&mut self, word: &str, value: Rec, ty: &'static str) -> Result<Rec, String> {
        let rest = &self.s[self.i..];
        if rest.starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(value)
        } else if word.as_bytes().starts_with(rest) {
            self.i = self.s.len();
            Ok(Rec::TypeOnly(ty))
        } else {
            Err(format!("bad literal at byte {}", self.i))
        }
    }

    /// At a `"`: the string's text and whether its closing quote is there.
    fn string(&mut self) -> Result<(String, bool), String> {
        self.i += 1;
        let mut bytes = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Ok((String::from_utf8_lossy(&bytes).into_owned(), false));
            };
            self.i += 1;
            match c {
                b'"' => {
                    let text = String::from_utf8(bytes).map_err(|e| e.to_string())?;
                    return Ok((text, true));
                }
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Ok((String::from_utf8_lossy(&bytes).into_owned(), false));
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let Some(code) = self.hex4() else {
                                return Ok((String::from_utf8_lossy(&bytes).into_owned(), false));
                            };
                            let code = if (0xD800..0xDC00).contains(&code)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let Some(low) = self.hex4() else {
                                    return Ok((
                                        String::from_utf8_lossy(&bytes).into_owned(),
                                        false,
                                    ));
                                };
                                0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                code
                            };
                            char::from_u32(code).unwrap_or('\u{fffd}')
                        }
                        other => return Err(format!("bad escape \\{}", other as char)),
                    };
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                other => bytes.push(other),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.i..self.i + 4)?;
        let code = u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
        self.i += 4;
        Some(code)
    }

    fn array(&mut self) -> Result<Rec, String> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Rec::Array {
                items,
                complete: true,
            });
        }
        loop {
            let item = self.value()?;
            if !matches!(item, Rec::Cut) {
                items.push(item);
            }
            self.ws();
            match self.peek() {
                None => {
                    return Ok(Rec::Array {
                        items,
                        complete: false,
                    })
                }
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Rec::Array {
                        items,
                        complete: true,
                    });
                }
                Some(c) => return Err(format!("unexpected {:?} at byte {}", c as char, self.i)),
            }
        }
    }

    fn object(&mut self) -> Result<Rec, String> {
        self.i += 1;
        let mut entries: Vec<(String, Rec)> = Vec::new();
        let cut = |entries| {
            Ok(Rec::Object {
                entries,
                complete: false,
            })
        };
        loop {
            self.ws();
            match self.peek() {
                None => return cut(entries),
                Some(b'}') if entries.is_empty() => {
                    self.i += 1;
                    return Ok(Rec::Object {
                        entries,
                        complete: true,
                    });
                }
                Some(b'"') => {}
                Some(c) => return Err(format!("unexpected {:?} at byte {}", c as char, self.i)),
            }
            let (key, complete) = self.string()?;
            if !complete {
                return cut(entries);
            }
            if let Some((last, _)) = entries.last() {
                if *last >= key {
                    return Err(format!(
                        "keys are not sorted ({last:?} before {key:?}): cut objects could not be compared"
                    ));
                }
            }
            self.ws();
            if self.eof() {
                entries.push((key, Rec::Cut));
                return cut(entries);
            }
            if self.peek() != Some(b':') {
                return Err(format!("expected ':' at byte {}", self.i));
            }
            self.i += 1;
            let value = self.value()?;
            entries.push((key, value));
            self.ws();
            match self.peek() {
                None => return cut(entries),
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Rec::Object {
                        entries,
                        complete: true,
                    });
                }
                Some(c) => return Err(format!("unexpected {:?} at byte {}", c as char, self.i)),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Comparison

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn rec_type_name(r: &Rec) -> &'static str {
    match r {
        Rec::Null => "null",
        Rec::Bool(_) => "boolean",
        Rec::Number(_) => "number",
        Rec::Str { .. } => "string",
        Rec::Array { .. } => "array",
        Rec::Object { .. } => "object",
        Rec::TypeOnly(ty) => ty,
        Rec::Cut => "(cut off)",
    }
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let head: String = text.chars().take(max).collect();
        format!("{head}… ({} chars)", text.chars().count())
    }
}

/// Compares an answer with the recording at `path`; `key` is the object key holding it.
/// `values`: compare scalar values too (not only types).
fn compare(
    path: &str,
    key: Option<&str>,
    expected: &Rec,
    actual: &Value,
    values: bool,
    diffs: &mut Vec<String>,
) {
    let type_differs = |diffs: &mut Vec<String>| {
        diffs.push(format!(
            "{path}: expected {}, got {} {}",
            rec_type_name(expected),
            type_name(actual),
            short(&actual.to_string(), 120)
        ))
    };
    let run_dependent = key.is_some_and(|k| RUN_DEPENDENT_KEYS.contains(&k));
    let values = values && !run_dependent;
    match (expected, actual) {
        (Rec::Cut, _) => {}
        (Rec::TypeOnly(ty), a) if *ty == type_name(a) => {}
        (Rec::Null, Value::Null) => {}
        (Rec::Bool(e), Value::Bool(a)) => {
            if values && e != a {
                diffs.push(format!("{path}: expected {e}, got {a}"));
            }
        }
        (Rec::Number(e), Value::Number(_)) => {
            if values && e != actual {
                diffs.push(format!("{path}: expected {e}, got {actual}"));
            }
        }
        (Rec::Str { text, complete }, Value::String(a)) => {
            let version = RECORDED_VERSIONS.iter().any(|v| {
                if *complete {
                    v == text
                } else {
                    v.starts_with(text.as_str())
                }
            });
            if values && !version {
                compare_string(path, key, text, *complete, a, diffs);
            }
        }
        (Rec::Array { items, complete }, Value::Array(a)) => {
            if *complete && items.len() != a.len() {
                diffs.push(format!(
                    "{path}: expected {} elements, got {}: {}",
                    items.len(),
                    a.len(),
                    short(&actual.to_string(), 200)
                ));
            } else if !*complete && a.len() < items.len() {
                diffs.push(format!(
                    "{path}: expected at least {} elements, got {}",
                    items.len(),
                    a.len()
                ));
            }
            for (i, (e, a)) in items.iter().zip(a).enumerate() {
                compare(&format!("{path}[{i}]"), None, e, a, values, diffs);
            }
        }
        (Rec::Object { entries, complete }, Value::Object(a)) => {
            for (k, e) in entries {
                match a.get(k) {
                    Some(v) => compare(&format!("{path}.{k}"), Some(k), e, v, values, diffs),
                    None => diffs.push(format!(
                        "{path}: key {k:?} ({}) is missing",
                        rec_type_name(e)
                    )),
                }
            }
            // A cut object's keys are known up to its last one (they are sorted).
            let horizon = entries.last().map(|(k, _)| k.as_str());
            for k in a.keys() {
                let known = *complete || horizon.is_some_and(|h| k.as_str() <= h);
                if known && !entries.iter().any(|(e, _)| e == k) {
                    diffs.push(format!(
                        "{path}: unexpected key {k:?} = {}",
                        short(&a[k].to_string(), 120)
                    ));
                }
            }
        }
        _ => type_differs(diffs),
    }
}

fn compare_string(
    path: &str,
    key: Option<&str>,
    expected: &str,
    complete: bool,
    actual: &str,
    diffs: &mut Vec<String>,
) {
    let (expected, complete) = match expected.find(PLUGIN_LIST_INTRO) {
        Some(at) if key == Some("message") => (&expected[..at + PLUGIN_LIST_INTRO.len()], false),
        _ => (expected, complete),
    };
    let ok = if complete {
        actual == expected
    } else {
        actual.starts_with(expected)
    };
    if !ok {
        let how = if complete { "" } else { " (a prefix)" };
        diffs.push(format!(
            "{path}: expected{how} {:?}, got {:?}",
            short(expected, 300),
            short(actual, 300)
        ));
    }
}

/// `GET /connector-plugins`: the list depends on what is installed. Every element has the
/// recorded elements' shape, and the plugins both have (Kafka's FileStream connectors, Debezium's
/// MySQL class) are listed with the same type in the same order (sinks, then sources, each by
/// class name).
fn compare_plugin_list(expected: &Rec, actual: &Value, diffs: &mut Vec<String>) {
    let (Rec::Array { items, .. }, Value::Array(list)) = (expected, actual) else {
        diffs.push(format!(
            "$: expected an array of plugins, got {}",
            short(&actual.to_string(), 200)
        ));
        return;
    };
    let Some(first) = items.first() else {
        diffs.push("$: the recording lists no plugins".to_owned());
        return;
    };
    for (i, a) in list.iter().enumerate() {
        compare(&format!("$[{i}]"), None, first, a, false, diffs);
    }
    let class_of = |r: &Rec| match r {
        Rec::Object { entries, .. } => entries.iter().find_map(|(k, v)| match (k.as_str(), v) {
            ("class", Rec::Str { text, .. }) => Some(text.clone()),
            _ => None,
        }),
        _ => None,
    };
    let ours: Vec<&str> = list.iter().filter_map(|p| p["class"].as_str()).collect();
    let mut shared = Vec::new();
    for e in items {
        let Some(class) = class_of(e) else { continue };
        if let Some(i) = ours.iter().position(|c| *c == class) {
            shared.push(i);
            compare(&format!("$[{i}]"), None, e, &list[i], true, diffs);
        }
    }
    if shared.len() < 2 {
        diffs.push(format!(
            "$: Kafka's FileStream connectors are not both listed: {}",
            short(&actual.to_string(), 300)
        ));
    }
    if shared.windows(2).any(|w| w[0] > w[1]) {
        diffs.push(format!(
            "$: the plugins both list are not in the recorded order: {}",
            short(&actual.to_string(), 300)
        ));
    }
}

/// Why a call may answer differently from the recording, when it is one of the README's
/// deliberate differences.
fn deliberate_difference(call: &Call) -> Option<&'static str> {
    if call.status != 500 {
        return None;
    }
    match &call.body {
        RequestBody::Raw(r) if serde_json::from_str::<Value>(r).is_err() => {
            Some("malformed JSON is the client's error: 400, not 500")
        }
        RequestBody::Json(b)
            if call.method == "POST" && call.path == "/connectors" && b.get("config").is_none() =>
        {
            Some("a body without \"config\" is the client's error: 400, not 500")
        }
        _ => None,
    }
}

/// The differences between our answer and the recorded one (empty when it conforms).
fn check(call: &Call, status: u16, body: &Option<Value>, text: &str) -> Vec<String> {
    let mut diffs = Vec::new();
    if deliberate_difference(call).is_some() {
        // Kafka Connect's error shape, with our status.
        let ok = status == 400
            && body.as_ref().is_some_and(|b| {
                b.as_object().is_some_and(|o| o.len() == 2)
                    && b["error_code"] == json!(400)
                    && b["message"].as_str().is_some_and(|m| !m.is_empty())
            });
        if !ok {
            diffs.push(format!(
                "expected 400 {{\"error_code\": 400, \"message\": string}} (deliberate difference from the recorded 500), got {status} {}",
                short(text, 300)
            ));
        }
        return diffs;
    }
    if status != call.status {
        diffs.push(format!("status: expected {}, got {status}", call.status));
    }
    match (&call.answer, body) {
        (Answer::Empty, None) => {}
        (Answer::Empty, Some(_)) => {
            diffs.push(format!("body: expected none, got {}", short(text, 300)))
        }
        (Answer::Json(_), None) => {
            diffs.push(format!("body: expected JSON, got {:?}", short(text, 300)))
        }
        (Answer::Json(e), Some(a))
            if call.path.starts_with("/connector-plugins?")
                || call.path == "/connector-plugins" =>
        {
            compare_plugin_list(e, a, &mut diffs)
        }
        (Answer::Json(e), Some(a)) => compare("$", None, e, a, true, &mut diffs),
    }
    diffs
}

/// A compact rendering of a JSON value's shape (keys and types), for the report.
fn shape(v: &Value, max: usize) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::Object(o) => {
                out.push('{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{k}: ");
                    walk(v, out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                if let Some(first) = a.first() {
                    walk(first, out);
                    if a.len() > 1 {
                        let _ = write!(out, ", … ({} elements)", a.len());
                    }
                }
                out.push(']');
            }
            other => out.push_str(type_name(other)),
        }
    }
    let mut out = String::new();
    walk(v, &mut out);
    short(&out, max)
}

fn rec_shape(r: &Rec, max: usize) -> String {
    fn walk(r: &Rec, out: &mut String) {
        match r {
            Rec::Object { entries, complete } => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{k}: ");
                    walk(v, out);
                }
                out.push_str(if *complete { "}" } else { " …cut" });
            }
            Rec::Array { items, complete } => {
                out.push('[');
                if let Some(first) = items.first() {
                    walk(first, out);
                    if items.len() > 1 {
                        let _ = write!(out, ", … ({} elements)", items.len());
                    }
                }
                out.push_str(if *complete { "]" } else { " …cut" });
            }
            other => out.push_str(rec_type_name(other)),
        }
    }
    let mut out = String::new();
    walk(r, &mut out);
    short(&out, max)
}

// ---------------------------------------------------------------------------------------------
// Replay

/// Replaces every string `from` inside `v` by `to`.
fn replace_strings(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) if s.contains(from) => *s = s.replace(from, to),
        Value::Array(a) => a.iter_mut().for_each(|v| replace_strings(v, from, to)),
        Value::Object(o) => o.values_mut().for_each(|v| replace_strings(v, from, to)),
        _ => {}
    }
}

/// Sends one call; the answer's status, its JSON (None for an empty body) and its text.
async fn send(
    client: &reqwest::Client,
    base: &str,
    call: &Call,
    input: &str,
) -> (u16, Option<Value>, String) {
    let method = reqwest::Method::from_bytes(call.method.as_bytes()).expect("recorded method");
    let mut req = client.request(method, format!("{base}{}", call.path));
    match &call.body {
        RequestBody::None => {}
        RequestBody::Json(b) => {
            let mut b = b.clone();
            replace_strings(&mut b, RECORDED_FILE, input);
            req = req.json(&b);
        }
        RequestBody::Raw(r) => {
            req = req
                .header("content-type", "application/json")
                .body(r.clone());
        }
    }
    let resp = req
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: HTTP request failed: {e}", call.title()));
    let status = resp.status().as_u16();
    let text = resp
        .text()
        .await
        .unwrap_or_else(|e| panic!("{}: reading the answer failed: {e}", call.title()));
    let body = if text.is_empty() {
        None
    } else {
        match serde_json::from_str::<Value>(&text) {
            Ok(mut v) => {
                replace_strings(&mut v, input, RECORDED_FILE);
                Some(v)
            }
            // Not JSON: reported as a type difference.
            Err(_) => Some(Value::String(text.clone())),
        }
    };
    (status, body, text.replace(input, RECORDED_FILE))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recorded_call_answers_as_kafka_connect_4_3_0() {
    let text = std::fs::read_to_string(RECORDING).expect("read the recorded REST calls");
    let calls = parse_recording(&text);
    let recorded_calls = text.lines().filter(|l| l.starts_with("  -> ")).count();
    assert_eq!(calls.len(), recorded_calls, "every recorded call is parsed");
    assert!(calls.len() >= 30, "the recording has {} calls", calls.len());

    let kafka = kafka();
    kafka
        .create_topic("judge-file", 1, 1)
        .expect("create topic judge-file");
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.txt");
    // 6 bytes, as the recorded input (its offset reads "position": 6).
    std::fs::write(&input, "ab\ncd\n").expect("write the input file");
    let input = input.display().to_string();
    let worker = start_worker(
        &worker_props(&kafka.bootstrap_servers(), dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![],
    )
    .await;
    let base = format!("http://{}", worker.rest_addr);
    let client = reqwest::Client::new();

    let mut report = String::new();
    let mut failures = 0;
    for (n, call) in calls.iter().enumerate() {
        // GETs are repeated until they match: the recorder gave Kafka Connect time between calls
        // (connectors reaching RUNNING, offsets being flushed).
        let deadline = Instant::now() + SETTLE;
        let (status, body, answer, diffs) = loop {
            let (status, body, answer) = send(&client, &base, call, &input).await;
            let diffs = check(call, status, &body, &answer);
            if diffs.is_empty() || call.method != "GET" || Instant::now() >= deadline {
                break (status, body, answer, diffs);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let n = n + 1;
        if diffs.is_empty() {
            let note = deliberate_difference(call)
                .map(|why| format!(" (deliberately {status}: {why})"))
                .unwrap_or_default();
            let _ = writeln!(
                report,
                "ok   #{n} line {}: {}{note}",
                call.line,
                call.title()
            );
            continue;
        }
        failures += 1;
        let expected_shape = match &call.answer {
            Answer::Empty => "(no body)".to_owned(),
            Answer::Json(r) => rec_shape(r, 600),
        };
        let actual_shape = body
            .as_ref()
            .map_or_else(|| "(no body)".to_owned(), |b| shape(b, 600));
        let _ = writeln!(
            report,
            "DIFF #{n} line {}: {}\n  expected: {} {}\n            shape {}\n  actual:   {status} {}\n            shape {}\n  differences{}:",
            call.line,
            call.title(),
            call.status,
            short(&call.answer_text, 400),
            expected_shape,
            short(&answer, 400),
            actual_shape,
            if call.method == "GET" {
                format!(" (still, after {SETTLE:?} of retries)")
            } else {
                String::new()
            },
        );
        for d in &diffs {
            let _ = writeln!(report, "    - {d}");
        }
    }
    worker.shutdown().await;
    if failures == 0 {
        println!("{report}");
    }
    assert!(
        failures == 0,
        "{failures} of {} calls answer differently from Kafka Connect 4.3.0:\n{report}",
        calls.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Kafka's quickstart configs, unchanged

/// The settings of `config/connect-file-source.properties` in Kafka's distribution (its licence
/// header left out).
const KAFKA_FILE_SOURCE: &str = "\
name=local-file-source
connector.class=FileStreamSource
tasks.max=1
file=test.txt
topic=connect-test
";

/// The settings of `config/connect-file-sink.properties` in Kafka's distribution (its licence
/// header left out).
const KAFKA_FILE_SINK: &str = "\
name=local-file-sink
connector.class=FileStreamSink
tasks.max=1
file=test.sink.txt
topics=connect-test
";

/// Kafka's quickstart configs run unchanged, and every name Kafka Connect accepts for its file
/// connectors (full class name, simple name, simple name without `Connector`) names ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_quickstart_configs_and_file_connector_aliases_run_unchanged() {
    let kafka = kafka();
    kafka
        .create_topic("connect-test", 1, 1)
        .expect("create topic connect-test");
    let dir = tempfile::tempdir().expect("tempdir");
    let source_file = dir.path().join("test.txt");
    let sink_file = dir.path().join("test.sink.txt");
    std::fs::write(&source_file, "hello\nworld\n").expect("write the source file");
    let source_file = source_file.display().to_string();
    let sink_file = sink_file.display().to_string();
    // Only the relative file names are made absolute (the worker's directory is not the test's).
    let source = parse_properties(
        &KAFKA_FILE_SOURCE.replace("file=test.txt", &format!("file={source_file}")),
    );
    let sink = parse_properties(
        &KAFKA_FILE_SINK.replace("file=test.sink.txt", &format!("file={sink_file}")),
    );
    let worker = start_worker(
        &worker_props(&kafka.bootstrap_servers(), dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![source, sink],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    api.wait_state("local-file-source", "RUNNING", SETTLE).await;
    api.wait_state("local-file-sink", "RUNNING", SETTLE).await;
    let written = wait_for(
        "the quickstart sink to write both lines of the source file",
        SETTLE,
        || async {
            let text = std::fs::read_to_string(&sink_file).unwrap_or_default();
            (text.lines().count() >= 2).then_some(text)
        },
    )
    .await;
    assert_eq!(written, "hello\nworld\n");

    let names = [
        (
            "source",
            "org.apache.kafka.connect.file.FileStreamSourceConnector",
        ),
        ("source", "FileStreamSourceConnector"),
        ("source", "FileStreamSource"),
        (
            "sink",
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
        ),
        ("sink", "FileStreamSinkConnector"),
        ("sink", "FileStreamSink"),
    ];
    for (i, (kind, class)) in names.iter().enumerate() {
        let name = format!("alias-{i}");
        let config = if *kind == "source" {
            json!({"connector.class": class, "file": source_file, "topic": "connect-test"})
        } else {
            let out = dir.path().join(format!("{name}.txt")).display().to_string();
            json!({"connector.class": class, "file": out, "topics": "connect-test"})
        };
        let (code, created) = api
            .call(
                "POST",
                "/connectors",
                Some(json!({"name": name, "config": config})),
            )
            .await;
        assert_eq!(code, 201, "{class}: {created}");
        assert_eq!(created["type"], *kind, "{class}: {created}");
        assert_eq!(
            created["config"]["connector.class"], *class,
            "the config is kept as sent"
        );
        api.wait_state(&name, "RUNNING", SETTLE).await;
        let canonical = format!("org.apache.kafka.connect.file.FileStream{}Connector", {
            if *kind == "source" {
                "Source"
            } else {
                "Sink"
            }
        });
        let (code, v) = api
            .call(
                "PUT",
                &format!("/connector-plugins/{class}/config/validate"),
                Some(config),
            )
            .await;
        assert_eq!(code, 200, "{class}: {v}");
        assert_eq!(v["name"], json!(canonical), "{class} names our file {kind}");
        let (code, defs) = api.get(&format!("/connector-plugins/{class}/config")).await;
        assert_eq!(
            (code, &defs[0]["name"]),
            (200, &json!("file")),
            "{class}: {defs}"
        );
    }
    worker.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The comparison itself

fn diffs_of(recorded: &str, actual: Value) -> Vec<String> {
    let rec = parse_cut_json(recorded).expect("recorded JSON");
    let mut diffs = Vec::new();
    compare("$", None, &rec, &actual, true, &mut diffs);
    diffs
}

#[test]
fn a_cut_recording_is_compared_as_far_as_it_goes() {
    let recorded = r#"{"a": 1, "b": {"c": "xy"#;
    // Keys after the last one shown ("b") may exist; the cut string is a prefix.
    assert_eq!(
        diffs_of(recorded, json!({"a": 1, "b": {"c": "xyz", "d": 1}, "z": 0})),
        Vec::<String>::new()
    );
    // A key before the last one shown may not.
    let d = diffs_of(recorded, json!({"a": 1, "aa": 2, "b": {"c": "xy"}}));
    assert!(d.len() == 1 && d[0].contains("\"aa\""), "{d:?}");
    let d = diffs_of(recorded, json!({"a": 1, "b": {"c": "other"}}));
    assert!(d.len() == 1 && d[0].starts_with("$.b.c"), "{d:?}");
    // A number cut off may have had more digits: only its type is known.
    assert!(diffs_of(r#"[1, 2"#, json!([1, 23])).is_empty());
    assert!(!diffs_of(r#"[1, 2"#, json!([1, "23"])).is_empty());
}

#[test]
fn complete_answers_must_match_in_keys_types_and_values() {
    let recorded = r#"{"error_code": 404, "message": "Connector nope not found"}"#;
    assert!(diffs_of(
        recorded,
        json!({"error_code": 404, "message": "Connector nope not found"})
    )
    .is_empty());
    assert_eq!(
        diffs_of(
            recorded,
            json!({"error_code": 404, "message": "Connector nope not found", "x": 1})
        )
        .len(),
        1
    );
    assert_eq!(
        diffs_of(
            recorded,
            json!({"error_code": "404", "message": "Connector nope not found"})
        )
        .len(),
        1
    );
    assert_eq!(
        diffs_of(
            recorded,
            json!({"error_code": 404, "message": "Connector nope"})
        )
        .len(),
        1
    );
    // Run-dependent values: type only.
    assert!(diffs_of(
        r#"{"version": "4.3.0", "worker_id": "127.0.0.1:8083"}"#,
        json!({"version": "0.1.0", "worker_id": "127.0.0.1:1"})
    )
    .is_empty());
    assert_eq!(
        diffs_of(r#"{"version": "4.3.0"}"#, json!({"version": 1})).len(),
        1
    );
    // Arrays element by element, same length.
    assert_eq!(diffs_of(r#"[{"id": 0}]"#, json!([])).len(), 1);
    assert_eq!(diffs_of(r#"[]"#, json!([{"id": 0}])).len(), 1);
}

#[test]
fn the_unknown_class_message_is_compared_up_to_the_plugin_list() {
    let recorded = r#"{"error_code": 400, "message": "Failed to find any class that implements Connector and which name matches X, available connectors are: PluginDesc{klass=class io.debez"#;
    assert!(diffs_of(
        recorded,
        json!({"error_code": 400, "message": "Failed to find any class that implements Connector and which name matches X, available connectors are: ours"})
    )
    .is_empty());
    assert_eq!(
        diffs_of(
            recorded,
            json!({"error_code": 400, "message": "Unknown connector X"})
        )
        .len(),
        1
    );
}
