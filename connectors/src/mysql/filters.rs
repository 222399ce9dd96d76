//! Debezium's include/exclude lists: comma-separated regular expressions matched against the
//! whole identifier (`db`, `db.table`, `db.table.column`).

use regex::Regex;
use tributary_runtime::config::ConfigError;

/// Databases never captured unless named explicitly.
const SYSTEM_DATABASES: [&str; 4] = ["mysql", "information_schema", "performance_schema", "sys"];

#[derive(Clone, Debug, Default)]
pub struct Filters {
    db_include: Vec<Regex>,
    db_exclude: Vec<Regex>,
    table_include: Vec<Regex>,
    table_exclude: Vec<Regex>,
    column_include: Vec<Regex>,
    column_exclude: Vec<Regex>,
}

/// A regex that must match the whole identifier, case-insensitively (as Debezium).
pub fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("(?i)^(?:{pattern})$"))
}

fn compile(key: &str, patterns: &[String]) -> Result<Vec<Regex>, ConfigError> {
    patterns
        .iter()
        .map(|p| anchored(p).map_err(|e| ConfigError::invalid(key, p, e.to_string())))
        .collect()
}

impl Filters {
    pub fn new(
        db_include: &[String],
        db_exclude: &[String],
        table_include: &[String],
        table_exclude: &[String],
        column_include: &[String],
        column_exclude: &[String],
    ) -> Result<Filters, ConfigError> {
        Ok(Filters {
            db_include: compile("database.include.list", db_include)?,
            db_exclude: compile("database.exclude.list", db_exclude)?,
            table_include: compile("table.include.list", table_include)?,
            table_exclude: compile("table.exclude.list", table_exclude)?,
            column_include: compile("column.include.list", column_include)?,
            column_exclude: compile("column.exclude.list", column_exclude)?,
        })
    }

    pub fn database(&self, db: &str) -> bool {
        if !self.db_include.is_empty() {
            return self.db_include.iter().any(|r| r.is_match(db));
        }
        !SYSTEM_DATABASES.iter().any(|s| s.eq_ignore_ascii_case(db))
            && !self.db_exclude.iter().any(|r| r.is_match(db))
    }

    pub fn table(&self, db: &str, table: &str) -> bool {
        if !self.database(db) {
            return false;
        }
        let full = format!("{db}.{table}");
        if !self.table_include.is_empty() {
            return self.table_include.iter().any(|r| r.is_match(&full));
        }
        !self.table_exclude.iter().any(|r| r.is_match(&full))
    }

    pub fn column(&self, db: &str, table: &str, column: &str) -> bool {
        let full = format!("{db}.{table}.{column}");
        if !self.column_include.is_empty() {
            return self.column_include.iter().any(|r| r.is_match(&full));
        }
        !self.column_exclude.iter().any(|r| r.is_match(&full))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn empty_lists_capture_everything_but_system_databases() {
        let f = Filters::default();
        assert!(f.table("shop", "orders"));
        assert!(!f.table("mysql", "user"));
    }

    #[test]
    fn include_lists_match_whole_identifiers() {
        let f =
            Filters::new(&s(&["shop"]), &[], &s(&["shop\\.ord.*"]), &[], &[], &[]).expect("valid");
        assert!(f.table("shop", "orders"));
        assert!(!f.table("shop", "customers"));
        assert!(
            !f.table("shopping", "orders"),
            "database names are matched whole"
        );
    }

    #[test]
    fn exclusions_apply_when_there_is_no_include_list() {
        let f = Filters::new(
            &[],
            &s(&["tmp.*"]),
            &[],
            &s(&["shop\\.audit"]),
            &[],
            &s(&["shop\\.customers\\.ssn"]),
        )
        .expect("valid");
        assert!(!f.table("tmp1", "x"));
        assert!(!f.table("shop", "audit"));
        assert!(f.table("shop", "orders"));
        assert!(!f.column("shop", "customers", "ssn"));
        assert!(f.column("shop", "customers", "name"));
    }

    #[test]
    fn a_bad_regex_names_its_key() {
        let err = Filters::new(&[], &[], &s(&["shop.("]), &[], &[], &[]).unwrap_err();
        assert_eq!(err.key(), Some("table.include.list"));
    }
}
