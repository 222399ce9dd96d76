//! What a schema statement from the binlog is about: the tables or the database it names, read
//! from its leading words. Debezium parses the whole statement with a MySQL grammar to keep its
//! table model; we only need the targets, because the structure of a table after the statement
//! is read from the server's catalog.

use super::table_changes::ChangeType;

/// A table a statement names: its database when qualified, and its name, unquoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableName {
    pub db: Option<String>,
    pub name: String,
}

/// What a schema statement changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DdlTarget {
    /// `CREATE TABLE`, `ALTER TABLE`, `DROP TABLE a, b`, `RENAME TABLE a TO b, …` (the new
    /// names, as `ALTER`), `CREATE INDEX … ON t` / `DROP INDEX … ON t` (as `ALTER`).
    Tables(ChangeType, Vec<TableName>),
    /// `TRUNCATE [TABLE] t`.
    Truncate(TableName),
    /// `CREATE`/`ALTER`/`DROP DATABASE|SCHEMA db`.
    Database(String),
    /// Another `CREATE`/`ALTER`/`DROP`/`RENAME` (views, routines, triggers, events, users …).
    Other,
}

/// The target of a schema statement; `None` for statements that change no schema (`BEGIN`,
/// `GRANT`, `FLUSH`, `SET` …).
pub fn classify(sql: &str) -> Option<DdlTarget> {
    let text = skip_comments(sql);
    let (verb, rest) = keyword(text)?;
    Some(match verb.as_str() {
        "TRUNCATE" => {
            let rest = skip_sequence(rest, &["TABLE"]).unwrap_or(rest);
            match qualified_name(rest) {
                Some((t, _)) => DdlTarget::Truncate(t),
                None => DdlTarget::Other,
            }
        }
        "RENAME" => {
            let Some(mut rest) =
                skip_sequence(rest, &["TABLE"]).or(skip_sequence(rest, &["TABLES"]))
            else {
                return Some(DdlTarget::Other);
            };
            let mut renamed = Vec::new();
            while let Some((_, after_old)) = qualified_name(rest) {
                let Some(after_to) = skip_sequence(after_old, &["TO"]) else {
                    break;
                };
                let Some((new, after_new)) = qualified_name(after_to) else {
                    break;
                };
                renamed.push(new);
                match after_new.trim_start().strip_prefix(',') {
                    Some(next) => rest = next,
                    None => break,
                }
            }
            if renamed.is_empty() {
                DdlTarget::Other
            } else {
                DdlTarget::Tables(ChangeType::Alter, renamed)
            }
        }
        "CREATE" | "ALTER" | "DROP" => {
            let kind = match verb.as_str() {
                "CREATE" => ChangeType::Create,
                "ALTER" => ChangeType::Alter,
                _ => ChangeType::Drop,
            };
            let rest = skip_any(
                rest,
                &[
                    "OR",
                    "REPLACE",
                    "TEMPORARY",
                    "ONLINE",
                    "OFFLINE",
                    "IGNORE",
                    "UNIQUE",
                    "FULLTEXT",
                    "SPATIAL",
                ],
            );
            let Some((object, rest)) = keyword(rest) else {
                return Some(DdlTarget::Other);
            };
            let rest = skip_if_exists(rest);
            match object.as_str() {
                "DATABASE" | "SCHEMA" => match identifier(rest) {
                    Some((name, _)) => DdlTarget::Database(name),
                    None => DdlTarget::Other,
                },
                "TABLE" => {
                    let tables = if kind == ChangeType::Drop {
                        table_list(rest)
                    } else {
                        qualified_name(rest).map(|(t, _)| t).into_iter().collect()
                    };
                    if tables.is_empty() {
                        DdlTarget::Other
                    } else {
                        DdlTarget::Tables(kind, tables)
                    }
                }
                "INDEX" if kind != ChangeType::Alter => match index_table(rest) {
                    Some(t) => DdlTarget::Tables(ChangeType::Alter, vec![t]),
                    None => DdlTarget::Other,
                },
                _ => DdlTarget::Other,
            }
        }
        _ => return None,
    })
}

/// The text after leading whitespace and `/* … */` comments.
fn skip_comments(mut text: &str) -> &str {
    loop {
        let t = text.trim_start();
        match t
            .strip_prefix("/*")
            .and_then(|r| r.find("*/").map(|end| &r[end + 2..]))
        {
            Some(rest) => text = rest,
            None => return t,
        }
    }
}

/// The next bare word (letters and `_`), upper-cased, and the text after it.
fn keyword(text: &str) -> Option<(String, &str)> {
    let t = text.trim_start();
    let end = t
        .find(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
        .unwrap_or(t.len());
    (end > 0).then(|| (t[..end].to_ascii_uppercase(), &t[end..]))
}

/// `keywords` in this order at the start of `text` (any case): the text after them, or `None`
/// (consuming nothing) when they are not all there.
fn skip_sequence<'a>(text: &'a str, keywords: &[&str]) -> Option<&'a str> {
    let mut rest = text;
    for k in keywords {
        let (word, after) = keyword(rest)?;
        if word != *k {
            return None;
        }
        rest = after;
    }
    Some(rest)
}

/// Any of `keywords`, any number of times, at the start of `text`.
fn skip_any<'a>(mut text: &'a str, keywords: &[&str]) -> &'a str {
    while let Some((word, after)) = keyword(text) {
        if !keywords.contains(&word.as_str()) {
            break;
        }
        text = after;
    }
    text
}

fn skip_if_exists(text: &str) -> &str {
    skip_sequence(text, &["IF", "NOT", "EXISTS"])
        .or_else(|| skip_sequence(text, &["IF", "EXISTS"]))
        .unwrap_or(text)
}

/// One identifier at the start of `text`: backtick-quoted (with doubled backticks) or bare.
fn identifier(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start();
    if let Some(rest) = text.strip_prefix('`') {
        let mut name = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '`' {
                if chars.peek().map(|(_, n)| *n) == Some('`') {
                    name.push('`');
                    chars.next();
                } else {
                    return Some((name, &rest[i + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        None
    } else {
        let end = text
            .find(|c: char| c.is_whitespace() || matches!(c, '.' | '(' | ';' | ','))
            .unwrap_or(text.len());
        (end > 0).then(|| (text[..end].to_owned(), &text[end..]))
    }
}

/// `[db.]name` at the start of `text`, and the text after it.
fn qualified_name(text: &str) -> Option<(TableName, &str)> {
    let (first, rest) = identifier(text)?;
    match rest.strip_prefix('.') {
        Some(rest) => identifier(rest).map(|(second, rest)| {
            (
                TableName {
                    db: Some(first),
                    name: second,
                },
                rest,
            )
        }),
        None => Some((
            TableName {
                db: None,
                name: first,
            },
            rest,
        )),
    }
}

/// `a, b, c` (of `DROP TABLE`).
fn table_list(mut text: &str) -> Vec<TableName> {
    let mut out = Vec::new();
    while let Some((t, rest)) = qualified_name(text) {
        out.push(t);
        match rest.trim_start().strip_prefix(',') {
            Some(next) => text = next,
            None => break,
        }
    }
    out
}

/// The table of `CREATE INDEX name [USING …] ON table …` / `DROP INDEX name ON table`.
fn index_table(text: &str) -> Option<TableName> {
    let (_, mut rest) = identifier(text)?;
    while let Some((word, after)) = keyword(rest).or_else(|| identifier(rest)) {
        if word.eq_ignore_ascii_case("ON") {
            return qualified_name(after).map(|(t, _)| t);
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(db: Option<&str>, name: &str) -> TableName {
        TableName {
            db: db.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    #[test]
    fn table_statements_name_their_tables() {
        assert_eq!(
            classify("ALTER TABLE refdb.all_types ADD COLUMN c_added VARCHAR(10) DEFAULT 'dflt'"),
            Some(DdlTarget::Tables(
                ChangeType::Alter,
                vec![t(Some("refdb"), "all_types")]
            ))
        );
        assert_eq!(
            classify("CREATE TABLE IF NOT EXISTS `a`.`b` (x int)"),
            Some(DdlTarget::Tables(
                ChangeType::Create,
                vec![t(Some("a"), "b")]
            ))
        );
        assert_eq!(
            classify("/* app */ create or replace table t1 (x int)"),
            Some(DdlTarget::Tables(ChangeType::Create, vec![t(None, "t1")]))
        );
        assert_eq!(
            classify("DROP TABLE IF EXISTS `x`,`d`.`y` /* generated by server */"),
            Some(DdlTarget::Tables(
                ChangeType::Drop,
                vec![t(None, "x"), t(Some("d"), "y")]
            ))
        );
        assert_eq!(
            classify("RENAME TABLE a TO b, d.c TO d.e"),
            Some(DdlTarget::Tables(
                ChangeType::Alter,
                vec![t(None, "b"), t(Some("d"), "e")]
            ))
        );
        assert_eq!(
            classify("CREATE UNIQUE INDEX i USING BTREE ON s.t (a)"),
            Some(DdlTarget::Tables(
                ChangeType::Alter,
                vec![t(Some("s"), "t")]
            ))
        );
        assert_eq!(
            classify("DROP INDEX i ON t"),
            Some(DdlTarget::Tables(ChangeType::Alter, vec![t(None, "t")]))
        );
    }

    #[test]
    fn truncates_databases_and_the_rest() {
        assert_eq!(
            classify("TRUNCATE TABLE refdb.composite"),
            Some(DdlTarget::Truncate(t(Some("refdb"), "composite")))
        );
        assert_eq!(
            classify("truncate `my.db`.`t`"),
            Some(DdlTarget::Truncate(t(Some("my.db"), "t")))
        );
        assert_eq!(
            classify("DROP DATABASE IF EXISTS shop"),
            Some(DdlTarget::Database("shop".into()))
        );
        assert_eq!(
            classify("CREATE SCHEMA IF NOT EXISTS `shop`"),
            Some(DdlTarget::Database("shop".into()))
        );
        assert_eq!(
            classify("CREATE VIEW v AS SELECT 1"),
            Some(DdlTarget::Other)
        );
        assert_eq!(classify("GRANT ALL ON *.* TO x"), None);
        assert_eq!(classify("FLUSH PRIVILEGES"), None);
    }
}
