//! Target table names: `table.name.format` rendered for a record.
//!
//! The format may use `${topic}` and, for Debezium change events, `${source.db}`,
//! `${source.schema}` and `${source.table}` (from the event's `source` block). Dots written in
//! the format itself separate a schema (MySQL: database) from the table
//! (`inventory.${source.table}`); dots inside substituted values are replaced by `_`, so the
//! default `${topic}` turns Debezium's `server.inventory.customers` into the single table
//! name `server_inventory_customers` instead of guessing which part is a schema.

use std::fmt;

/// A table, optionally qualified by its schema (MySQL: database).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId {
    pub schema: Option<String>,
    pub name: String,
}

impl TableId {
    pub fn new(schema: Option<&str>, name: &str) -> TableId {
        TableId {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// `a.b` → schema `a`, table `b`; `b` → table `b` (for names given in the config).
    pub fn parse(text: &str) -> TableId {
        match text.trim().split_once('.') {
            Some((schema, name)) => TableId::new(Some(schema), name),
            None => TableId::new(None, text.trim()),
        }
    }
}

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// What a record offers to a table name format.
#[derive(Clone, Copy, Debug, Default)]
pub struct NameSource<'a> {
    pub topic: &'a str,
    pub db: Option<&'a str>,
    pub schema: Option<&'a str>,
    pub table: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Topic,
    SourceDb,
    SourceSchema,
    SourceTable,
}

/// A parsed `table.name.format`: up to two dot-separated parts (schema, table), each a
/// sequence of literal text and placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableNameFormat {
    parts: Vec<Vec<Piece>>,
}

impl TableNameFormat {
    pub fn parse(format: &str) -> Result<TableNameFormat, String> {
        let mut parts: Vec<Vec<Piece>> = vec![Vec::new()];
        let mut literal = String::new();
        let mut rest = format.trim();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("${") {
                let (name, tail) = after
                    .split_once('}')
                    .ok_or_else(|| format!("unclosed '${{' in table.name.format '{format}'"))?;
                let piece = match name.trim() {
                    "topic" => Piece::Topic,
                    "source.db" => Piece::SourceDb,
                    "source.schema" => Piece::SourceSchema,
                    "source.table" => Piece::SourceTable,
                    other => {
                        return Err(format!(
                            "unknown placeholder '${{{other}}}' in table.name.format: use \
                             ${{topic}}, ${{source.db}}, ${{source.schema}} or ${{source.table}}"
                        ))
                    }
                };
                let current = parts.last_mut().ok_or("empty format")?;
                if !literal.is_empty() {
                    current.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                current.push(piece);
                rest = tail;
            } else {
                let mut chars = rest.chars();
                let c = chars.next().unwrap_or_default();
                rest = chars.as_str();
                if c == '.' {
                    let current = parts.last_mut().ok_or("empty format")?;
                    if !literal.is_empty() {
                        current.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Vec::new());
                } else {
                    literal.push(c);
                }
            }
        }
        if let Some(current) = parts.last_mut() {
            if !literal.is_empty() {
                current.push(Piece::Literal(literal));
            }
        }
        if parts.len() > 2 {
            return Err(format!(
                "table.name.format '{format}' has more than one literal '.': write schema.table \
                 at most (dots inside ${{topic}} and other values become '_')"
            ));
        }
        if parts.iter().any(Vec::is_empty) {
            return Err(format!(
                "table.name.format '{format}' has an empty part around a '.'"
            ));
        }
        Ok(TableNameFormat { parts })
    }

    /// Whether rendered names name a schema (MySQL: database) themselves.
    pub fn is_qualified(&self) -> bool {
        self.parts.len() == 2
    }

    /// Whether rendering needs the `source` block of a Debezium event.
    pub fn uses_source(&self) -> bool {
        self.parts.iter().flatten().any(|p| {
            matches!(
                p,
                Piece::SourceDb | Piece::SourceSchema | Piece::SourceTable
            )
        })
    }

    pub fn render(&self, source: &NameSource<'_>) -> Result<TableId, String> {
        let mut rendered = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            let mut out = String::new();
            for piece in part {
                let value = match piece {
                    Piece::Literal(text) => {
                        out.push_str(text);
                        continue;
                    }
                    Piece::Topic => Some(source.topic),
                    Piece::SourceDb => source.db,
                    Piece::SourceSchema => source.schema,
                    Piece::SourceTable => source.table,
                };
                let value = value.filter(|v| !v.is_empty()).ok_or_else(|| {
                    format!(
                        "table.name.format needs {piece:?} but the record from topic '{}' has \
                         no such source field",
                        source.topic
                    )
                })?;
                out.extend(value.chars().map(|c| if c == '.' { '_' } else { c }));
            }
            rendered.push(out);
        }
        Ok(match rendered.as_slice() {
            [schema, name] => TableId::new(Some(schema), name),
            [name] => TableId::new(None, name),
            _ => return Err("empty table.name.format".to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: &str, source: NameSource<'_>) -> Result<TableId, String> {
        TableNameFormat::parse(format)?.render(&source)
    }

    fn topic(topic: &str) -> NameSource<'_> {
        NameSource {
            topic,
            ..NameSource::default()
        }
    }

    #[test]
    fn the_default_keeps_the_topic_as_one_name_with_dots_replaced() {
        assert_eq!(
            render("${topic}", topic("srv.inventory.customers")),
            Ok(TableId::new(None, "srv_inventory_customers"))
        );
        assert_eq!(
            render("kafka_${topic}", topic("orders")),
            Ok(TableId::new(None, "kafka_orders"))
        );
    }

    #[test]
    fn literal_dots_qualify_the_table_with_a_schema() {
        assert_eq!(
            render("archive.${topic}", topic("a.b")),
            Ok(TableId::new(Some("archive"), "a_b"))
        );
        let src = NameSource {
            topic: "srv.inventory.customers",
            db: Some("inventory"),
            schema: None,
            table: Some("customers"),
        };
        assert_eq!(
            render("${source.db}.${source.table}", src),
            Ok(TableId::new(Some("inventory"), "customers"))
        );
        assert_eq!(
            render("${source.table}", src),
            Ok(TableId::new(None, "customers"))
        );
    }

    #[test]
    fn bad_formats_are_refused_with_the_reason() {
        assert!(TableNameFormat::parse("${nope}")
            .unwrap_err()
            .contains("unknown placeholder"));
        assert!(TableNameFormat::parse("a.b.${topic}").is_err());
        assert!(TableNameFormat::parse("${topic").is_err());
        assert!(TableNameFormat::parse(".${topic}").is_err());
        assert!(render("${source.table}", topic("t"))
            .unwrap_err()
            .contains("no such source field"));
    }

    #[test]
    fn hostile_values_are_kept_verbatim_for_quoting() {
        assert_eq!(
            render(
                "${source.table}",
                NameSource {
                    topic: "t",
                    table: Some("a`b\"c]d; DROP"),
                    ..NameSource::default()
                }
            ),
            Ok(TableId::new(None, "a`b\"c]d; DROP"))
        );
    }
}
