//! Where the connector is, as Debezium's MySQL offsets: `file`/`pos` of the binlog event that
//! starts the current transaction, `event` rows events and `row` rows of it already published,
//! `gtids`, and `snapshot` state. Every record carries the offset to resume from right after
//! it, so a restart from any stored offset neither skips nor repeats a change (within a
//! transaction the resume re-reads it from its start and skips what was published).

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};
use tributary_runtime::record::{SourceOffset, SourcePartition};

/// The source partition: one per server, as Debezium (`{"server": <topic.prefix>}`).
pub fn partition(topic_prefix: &str) -> SourcePartition {
    let mut p = SourcePartition::new();
    p.insert("server".into(), json!(topic_prefix));
    p
}

/// A binlog position plus how much of the transaction starting there is already published.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BinlogPosition {
    pub file: String,
    pub pos: u64,
    pub event: u64,
    pub row: u64,
    pub gtids: Option<String>,
}

/// Progress of an initial snapshot: the consistent binlog position it started from, the tables
/// finished, and for tables under way the primary key of the last row of the last finished
/// chunk.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnapshotProgress {
    pub done: Vec<String>,
    pub last_keys: BTreeMap<String, Vec<Json>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MySqlOffset {
    pub position: BinlogPosition,
    pub ts_sec: i64,
    pub server_id: u32,
    /// `Some` while the initial snapshot is not finished.
    pub snapshot: Option<SnapshotProgress>,
}

impl MySqlOffset {
    pub fn to_offset(&self) -> SourceOffset {
        let mut o = SourceOffset::new();
        o.insert("file".into(), json!(self.position.file));
        o.insert("pos".into(), json!(self.position.pos));
        o.insert("event".into(), json!(self.position.event));
        o.insert("row".into(), json!(self.position.row));
        if let Some(g) = &self.position.gtids {
            o.insert("gtids".into(), json!(g));
        }
        o.insert("ts_sec".into(), json!(self.ts_sec));
        o.insert("server_id".into(), json!(self.server_id));
        if let Some(s) = &self.snapshot {
            o.insert("snapshot".into(), json!(true));
            o.insert("snapshot_done".into(), json!(s.done));
            o.insert("snapshot_last_keys".into(), json!(s.last_keys));
        }
        o
    }

    /// Reads an offset written by us or by Debezium; `Err` names what is wrong.
    pub fn from_offset(o: &SourceOffset) -> Result<MySqlOffset, String> {
        let file = o
            .get("file")
            .and_then(Json::as_str)
            .ok_or("the stored offset has no binlog \"file\"")?
            .to_owned();
        let pos = o
            .get("pos")
            .and_then(Json::as_u64)
            .ok_or("the stored offset has no binlog \"pos\"")?;
        let n = |k: &str| o.get(k).and_then(Json::as_u64).unwrap_or(0);
        let snapshot = match o.get("snapshot") {
            Some(Json::Bool(true)) => Some(SnapshotProgress {
                done: o
                    .get("snapshot_done")
                    .and_then(Json::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                last_keys: o
                    .get("snapshot_last_keys")
                    .and_then(Json::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_array().cloned().unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(MySqlOffset {
            position: BinlogPosition {
                file,
                pos,
                event: n("event"),
                row: n("row"),
                gtids: o.get("gtids").and_then(Json::as_str).map(str::to_owned),
            },
            ts_sec: o.get("ts_sec").and_then(Json::as_i64).unwrap_or(0),
            server_id: u32::try_from(n("server_id")).unwrap_or(0),
            snapshot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip() {
        let o = MySqlOffset {
            position: BinlogPosition {
                file: "bin.000003".into(),
                pos: 4711,
                event: 2,
                row: 1,
                gtids: Some("0-1-42".into()),
            },
            ts_sec: 1_700_000_000,
            server_id: 1,
            snapshot: Some(SnapshotProgress {
                done: vec!["shop.a".into()],
                last_keys: [("shop.b".to_owned(), vec![json!(1000)])].into(),
            }),
        };
        assert_eq!(MySqlOffset::from_offset(&o.to_offset()), Ok(o));
    }

    #[test]
    fn debezium_offsets_are_understood() {
        let o: SourceOffset = serde_json::from_str(r#"{"file":"mysql-bin.000003","pos":154,"row":1,"event":2,"ts_sec":1,"server_id":223344}"#).expect("json");
        let parsed = MySqlOffset::from_offset(&o).expect("valid");
        assert_eq!(parsed.position.file, "mysql-bin.000003");
        assert_eq!(
            (
                parsed.position.pos,
                parsed.position.event,
                parsed.position.row
            ),
            (154, 2, 1)
        );
        assert!(parsed.snapshot.is_none());
    }

    #[test]
    fn an_offset_without_a_file_is_refused_with_a_reason() {
        let o: SourceOffset = serde_json::from_str(r#"{"pos":154}"#).expect("json");
        assert!(MySqlOffset::from_offset(&o).unwrap_err().contains("file"));
    }
}
