//! MySQL binary JSON can only come from MySQL; these hand-made TABLE_MAP + WRITE_ROWS
//! events run it through mysql_common's own row decoder and then [`from_binlog`].

use mysql_async::binlog::events::{Event, EventData, FormatDescriptionEvent, TableMapEvent};
use mysql_async::binlog::BinlogVersion;

use tributary_runtime::data::Value;

use super::test_support::col;
use super::*;

const TABLE_MAP_EVENT: u8 = 19;
const WRITE_ROWS_EVENT: u8 = 30;
const MYSQL_TYPE_JSON: u8 = 245;
const TABLE_ID: [u8; 6] = [7, 0, 0, 0, 0, 0];

fn event(fde: &FormatDescriptionEvent<'_>, event_type: u8, body: &[u8]) -> Event {
    let mut bytes = Vec::new();
    bytes.extend(0u32.to_le_bytes()); // timestamp
    bytes.push(event_type);
    bytes.extend(1u32.to_le_bytes()); // server id
    bytes.extend((19 + body.len() as u32).to_le_bytes());
    bytes.extend(0u32.to_le_bytes()); // log pos
    bytes.extend(0u16.to_le_bytes()); // flags
    bytes.extend(body);
    Event::read(fde, &bytes[..]).expect("a well-formed event")
}

fn table_map(fde: &FormatDescriptionEvent<'_>) -> TableMapEvent<'static> {
    let mut body = TABLE_ID.to_vec();
    body.extend([0, 0]); // flags
    body.extend([1, b'd', 0, 1, b't', 0]); // schema `d`, table `t`
    body.extend([1, MYSQL_TYPE_JSON]); // one column, JSON
    body.extend([1, 4]); // its metadata: a 4-byte length
    body.push(0b1); // nullable
    let ev = event(fde, TABLE_MAP_EVENT, &body);
    match ev.read_data().expect("decodes") {
        Some(EventData::TableMapEvent(tme)) => tme.into_owned(),
        _ => panic!("not a table map"),
    }
}

/// The after-image values of a one-row WRITE_ROWS event holding `jsonb`.
fn json_value(jsonb: &[u8]) -> Result<Value, TypeError> {
    let fde = FormatDescriptionEvent::new(BinlogVersion::Version4);
    let tme = table_map(&fde);
    let mut body = TABLE_ID.to_vec();
    body.extend([0, 0, 2, 0]); // flags, extra-data length (none)
    body.extend([1, 0b1]); // one column, present
    body.push(0); // null bitmap: not null
    body.extend((jsonb.len() as u32).to_le_bytes());
    body.extend(jsonb);
    let ev = event(&fde, WRITE_ROWS_EVENT, &body);
    let Some(EventData::RowsEvent(rows)) = ev.read_data().expect("decodes") else {
        panic!("not a rows event");
    };
    let mut out = Vec::new();
    for row in rows.rows(&tme) {
        let (_, after) = row.expect("row decodes");
        let after = after.expect("after image");
        let value = after.as_ref(0).expect("one value");
        out.push(from_binlog(
            &col("j", "json", true, None),
            value,
            &TypeModes::default(),
        ));
    }
    assert_eq!(out.len(), 1);
    out.remove(0)
}

#[test]
fn objects_and_arrays_print_as_the_server_does() {
    // {"k": [1, 2, {"x": null}]} in MySQL's binary JSON.
    let inner = [1, 0, 12, 0, 11, 0, 1, 0, 0x04, 0, 0, b'x'];
    let mut array = vec![3, 0, 25, 0, 0x05, 1, 0, 0x05, 2, 0, 0x00, 13, 0];
    array.extend(inner);
    let mut doc = vec![0x00, 1, 0, 37, 0, 11, 0, 1, 0, 0x02, 12, 0, b'k'];
    doc.extend(&array);
    assert_eq!(
        json_value(&doc),
        Ok(Value::String(r#"{"k": [1, 2, {"x": null}]}"#.into()))
    );

    // Keys stay in storage order (by length, then bytes), as the server prints them.
    let doc = [
        0x00, 2, 0, 21, 0, // small object, 2 members, 21 bytes
        18, 0, 1, 0, 19, 0, 2, 0, // keys "b" at 18, "aa" at 19
        0x05, 1, 0, 0x04, 1, 0, // b: int16 1, aa: true
        b'b', b'a', b'a',
    ];
    assert_eq!(
        json_value(&doc),
        Ok(Value::String(r#"{"b": 1, "aa": true}"#.into()))
    );
}

#[test]
fn scalars_and_strings_escape_like_json() {
    // A top-level string: type 0x0c, length 4, bytes.
    assert_eq!(
        json_value(&[0x0c, 4, b'a', b'"', b'\n', b'z']),
        Ok(Value::String(r#""a\"\nz""#.into()))
    );
    // A double.
    let mut doc = vec![0x0b];
    doc.extend(2.5f64.to_le_bytes());
    assert_eq!(json_value(&doc), Ok(Value::String("2.5".into())));
}
