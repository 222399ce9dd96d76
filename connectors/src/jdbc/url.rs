//! `connection.url`: which database to talk to, and how.
//!
//! Users bring URLs from the Confluent and Debezium JDBC sinks (`jdbc:mysql://…`,
//! `jdbc:postgresql://…`, `jdbc:sqlserver://host:1433;databaseName=x`) or the native forms
//! (`mysql://`, `mariadb://`, `postgres://`, `postgresql://`, `sqlserver://`). The scheme picks
//! the dialect; everything else becomes explicit connection settings, so no driver-specific URL
//! parameter can change behaviour behind our back.
//!
//! A URL may carry a password: [`ConnectionUrl`]'s `Debug` and `Display` never show it, and
//! parse errors never quote the URL.

use std::fmt;

use super::dialect::Dialect;

/// A parsed `connection.url` (credentials from the URL; `connection.user`/`password` are
/// applied on top by [`ConnectionUrl::with_credentials`]).
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionUrl {
    pub dialect: Dialect,
    pub host: String,
    pub port: u16,
    /// MySQL/MariaDB: the default database; PostgreSQL: the database; SQL Server:
    /// `databaseName`.
    pub database: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Remaining `?k=v&…` (or `;k=v;…` for SQL Server) properties, keys as written.
    pub properties: Vec<(String, String)>,
}

impl ConnectionUrl {
    pub fn parse(url: &str) -> Result<ConnectionUrl, String> {
        let url = url.trim();
        let rest = strip_prefix_ignore_case(url, "jdbc:").unwrap_or(url);
        let (scheme, rest) = rest.split_once("://").ok_or_else(|| {
            "connection.url must look like mysql://, mariadb://, postgresql://, sqlserver:// or \
             their jdbc: forms"
                .to_owned()
        })?;
        let dialect = match scheme.to_ascii_lowercase().as_str() {
            "mysql" | "mariadb" => Dialect::MySql,
            "postgres" | "postgresql" => Dialect::Postgres,
            "sqlserver" => Dialect::SqlServer,
            other => {
                return Err(format!(
                    "unsupported database '{other}' in connection.url: use mysql, mariadb, \
                     postgresql or sqlserver"
                ))
            }
        };
        match dialect {
            Dialect::SqlServer => parse_sqlserver(rest),
            _ => parse_hierarchical(dialect, rest),
        }
    }

    /// `connection.user`/`connection.password` override what the URL says (as in the Confluent
    /// sink, where they are the usual way to pass credentials).
    pub fn with_credentials(mut self, user: Option<String>, password: Option<String>) -> Self {
        if user.is_some() {
            self.user = user;
        }
        if password.is_some() {
            self.password = password;
        }
        self
    }

    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for ConnectionUrl {
    /// `scheme://user@host:port/db`, never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.dialect.scheme())?;
        if let Some(user) = &self.user {
            write!(f, "{user}")?;
            if self.password.is_some() {
                write!(f, ":{}", tributary_runtime::config::REDACTED)?;
            }
            write!(f, "@")?;
        }
        write!(f, "{}:{}", self.host, self.port)?;
        if let Some(db) = &self.database {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionUrl({self})")
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

/// `[user[:password]@]host[:port][/database][?k=v&…]`.
fn parse_hierarchical(dialect: Dialect, rest: &str) -> Result<ConnectionUrl, String> {
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (rest, None),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (mut user, mut password) = (None, None);
    if let Some(info) = userinfo {
        let (u, p) = match info.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (info, None),
        };
        user = Some(percent_decode(u)?).filter(|u| !u.is_empty());
        password = p.map(percent_decode).transpose()?;
    }
    let (host, port) = host_and_port(hostport, dialect.default_port())?;
    let database = path
        .map(percent_decode)
        .transpose()?
        .filter(|d| !d.is_empty());
    let mut properties = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k)?, percent_decode(v)?);
        match k.as_str() {
            "user" => user = Some(v),
            "password" => password = Some(v),
            _ => properties.push((k, v)),
        }
    }
    Ok(ConnectionUrl {
        dialect,
        host,
        port,
        database,
        user,
        password,
        properties,
    })
}

/// Microsoft's JDBC form: `host[\instance][:port][;key=value;…]`, also accepting a
/// `user:password@` prefix and a `/database` path as in the other schemes.
fn parse_sqlserver(rest: &str) -> Result<ConnectionUrl, String> {
    let mut parts = rest.split(';');
    let server = parts.next().unwrap_or("");
    let (server, path) = match server.split_once('/') {
        Some((s, p)) => (s, Some(p)),
        None => (server, None),
    };
    let mut url = parse_hierarchical(Dialect::SqlServer, server)?;
    if let Some(db) = path.filter(|p| !p.is_empty()) {
        url.database = Some(percent_decode(db)?);
    }
    if let Some((host, instance)) = url.host.clone().split_once('\\') {
        url.host = host.to_owned();
        url.properties
            .push(("instanceName".to_owned(), instance.to_owned()));
    }
    for pair in parts.filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (k.trim(), v.trim());
        match k.to_ascii_lowercase().as_str() {
            "databasename" | "database" => url.database = Some(v.to_owned()),
            "user" | "username" => url.user = Some(v.to_owned()),
            "password" => url.password = Some(v.to_owned()),
            "portnumber" | "port" => {
                url.port = v
                    .parse()
                    .map_err(|_| format!("invalid port '{v}' in connection.url"))?
            }
            _ => url.properties.push((k.to_owned(), v.to_owned())),
        }
    }
    Ok(url)
}

fn host_and_port(hostport: &str, default_port: u16) -> Result<(String, u16), String> {
    if hostport.contains(',') {
        return Err("connection.url names several hosts; give exactly one".to_owned());
    }
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        // [ipv6]:port
        let (h, after) = rest
            .split_once(']')
            .ok_or("unclosed '[' in the host of connection.url")?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("connection.url names no host".to_owned());
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("invalid port '{p}' in connection.url"))?,
        None => default_port,
    };
    Ok((host.to_owned(), port))
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("invalid %-escape in connection.url")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "connection.url is not valid UTF-8 once decoded".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> ConnectionUrl {
        ConnectionUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn every_scheme_picks_its_dialect() {
        for (url, dialect) in [
            ("mysql://h/db", Dialect::MySql),
            ("mariadb://h/db", Dialect::MySql),
            ("jdbc:mysql://h:3306/db", Dialect::MySql),
            ("jdbc:mariadb://h/db", Dialect::MySql),
            ("postgres://h/db", Dialect::Postgres),
            ("postgresql://h/db", Dialect::Postgres),
            ("jdbc:postgresql://h:5432/db", Dialect::Postgres),
            ("sqlserver://h", Dialect::SqlServer),
            ("JDBC:sqlserver://h:1433;databaseName=x", Dialect::SqlServer),
        ] {
            assert_eq!(parse(url).dialect, dialect, "{url}");
        }
    }

    #[test]
    fn unknown_schemes_and_garbage_are_refused() {
        assert!(ConnectionUrl::parse("oracle://h/db").is_err());
        assert!(ConnectionUrl::parse("jdbc:oracle:thin:@h:1521:x").is_err());
        assert!(ConnectionUrl::parse("localhost:3306").is_err());
        assert!(ConnectionUrl::parse("mysql://h:notaport/db").is_err());
        assert!(ConnectionUrl::parse("mysql://a,b/db").is_err());
    }

    #[test]
    fn host_port_database_and_credentials_are_read() {
        let u = parse("mysql://root:p%40ss@127.0.0.1:3317/shop?useSSL=false");
        assert_eq!(
            (u.host.as_str(), u.port, u.database.as_deref()),
            ("127.0.0.1", 3317, Some("shop"))
        );
        assert_eq!(
            (u.user.as_deref(), u.password.as_deref()),
            (Some("root"), Some("p@ss"))
        );
        assert_eq!(u.property("usessl"), Some("false"));
        let u = parse("jdbc:postgresql://db.example:6432/app?user=bob&password=x&currentSchema=s");
        assert_eq!(
            (u.port, u.user.as_deref(), u.password.as_deref()),
            (6432, Some("bob"), Some("x"))
        );
        assert_eq!(u.property("currentSchema"), Some("s"));
        assert_eq!(parse("postgres://h").port, 5432);
        assert_eq!(parse("mysql://[::1]:3310/d").host, "::1");
    }

    #[test]
    fn sqlserver_properties_follow_microsofts_jdbc_form() {
        let u = parse(
            "jdbc:sqlserver://sql1\\inst:1500;databaseName=inv;user=sa;password=Secret1;encrypt=false",
        );
        assert_eq!((u.host.as_str(), u.port), ("sql1", 1500));
        assert_eq!(u.database.as_deref(), Some("inv"));
        assert_eq!(
            (u.user.as_deref(), u.password.as_deref()),
            (Some("sa"), Some("Secret1"))
        );
        assert_eq!(u.property("instanceName"), Some("inst"));
        assert_eq!(u.property("encrypt"), Some("false"));
        assert_eq!(parse("sqlserver://h").port, 1433);
    }

    #[test]
    fn config_credentials_override_the_urls() {
        let u = parse("mysql://a:b@h/d").with_credentials(Some("c".into()), None);
        assert_eq!(
            (u.user.as_deref(), u.password.as_deref()),
            (Some("c"), Some("b"))
        );
    }

    #[test]
    fn the_password_is_never_displayed() {
        let u = parse("jdbc:sqlserver://h;user=sa;password=hunter2");
        assert!(!format!("{u} {u:?}").contains("hunter2"));
        let u = parse("postgres://bob:hunter2@h/db");
        assert_eq!(u.to_string(), "postgresql://bob:[hidden]@h:5432/db");
        let err = ConnectionUrl::parse("mysql://bob:hunter2@h:99999/db").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
