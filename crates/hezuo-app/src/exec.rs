//! Where a booking's statements run. Use cases run them through sea-orm (its sqlx pools). On
//! SQLite, placing an order runs on the order writer's own connection instead
//! (`orders::writer`): sqlx hands every SQLite statement to a worker thread and back, which
//! costs more than the statement itself. The booking code is written once against [`Exec`],
//! with statements built by sea-query for the connection's backend, and runs on either.

use crate::AppError;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use hezuo_db::sea_orm::sea_query::Value;
use hezuo_db::sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, StatementBuilder};
use rusqlite::types::Value as LiteValue;

/// A connection or transaction that runs statements.
pub(crate) trait Exec {
    fn backend(&self) -> DbBackend;

    /// Runs a statement; the number of rows it changed.
    async fn execute(&self, stmt: Statement) -> Result<u64, AppError>;

    /// Runs a query; its rows.
    async fn rows<T: Row>(&self, stmt: Statement) -> Result<Vec<T>, AppError>;

    /// Builds `s` for this connection's backend.
    fn build(&self, s: &impl StatementBuilder) -> Statement {
        self.backend().build(s)
    }

    /// The first row of a query, if any.
    async fn row<T: Row>(&self, stmt: Statement) -> Result<Option<T>, AppError> {
        Ok(self.rows(stmt).await?.into_iter().next())
    }
}

impl<C: ConnectionTrait> Exec for C {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<u64, AppError> {
        Ok(self.execute_raw(stmt).await?.rows_affected())
    }

    async fn rows<T: Row>(&self, stmt: Statement) -> Result<Vec<T>, AppError> {
        let rows = self.query_all_raw(stmt).await?;
        rows.iter().map(|r| T::sea(r).map_err(AppError::from)).collect()
    }
}

/// A rusqlite connection (in a transaction its owner opened). Its futures are ready when first
/// polled: they never wait for anything but SQLite itself.
pub(crate) struct Lite<'c>(pub &'c rusqlite::Connection);

impl Exec for Lite<'_> {
    fn backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute(&self, stmt: Statement) -> Result<u64, AppError> {
        let params = lite_params(stmt.values)?;
        let mut s = self.0.prepare_cached(&stmt.sql).map_err(lite_error)?;
        let n = s.execute(rusqlite::params_from_iter(params)).map_err(lite_error)?;
        Ok(n as u64)
    }

    async fn rows<T: Row>(&self, stmt: Statement) -> Result<Vec<T>, AppError> {
        let params = lite_params(stmt.values)?;
        let mut s = self.0.prepare_cached(&stmt.sql).map_err(lite_error)?;
        let rows = s.query_map(rusqlite::params_from_iter(params), |r| T::lite(r)).map_err(lite_error)?;
        rows.collect::<Result<Vec<T>, _>>().map_err(lite_error)
    }
}

/// A value bound the way sqlx binds it on SQLite, so that rows read the same whichever
/// connection wrote them: dates `YYYY-MM-DD`, instants RFC 3339 with `+00:00`.
fn lite_value(v: Value) -> Result<LiteValue, AppError> {
    fn or_null<T>(v: Option<T>, f: impl FnOnce(T) -> LiteValue) -> LiteValue {
        v.map_or(LiteValue::Null, f)
    }
    Ok(match v {
        Value::Bool(b) => or_null(b, |b| LiteValue::Integer(i64::from(b))),
        Value::TinyInt(x) => or_null(x, |x| LiteValue::Integer(x.into())),
        Value::SmallInt(x) => or_null(x, |x| LiteValue::Integer(x.into())),
        Value::Int(x) => or_null(x, |x| LiteValue::Integer(x.into())),
        Value::BigInt(x) => or_null(x, LiteValue::Integer),
        Value::TinyUnsigned(x) => or_null(x, |x| LiteValue::Integer(x.into())),
        Value::SmallUnsigned(x) => or_null(x, |x| LiteValue::Integer(x.into())),
        Value::Unsigned(x) => or_null(x, |x| LiteValue::Integer(x.into())),
        Value::BigUnsigned(Some(x)) => LiteValue::Integer(
            i64::try_from(x).map_err(|_| AppError::Internal(format!("{x} is out of SQLite's range")))?,
        ),
        Value::BigUnsigned(None) => LiteValue::Null,
        Value::String(s) => or_null(s, LiteValue::Text),
        Value::Char(c) => or_null(c, |c| LiteValue::Text(c.to_string())),
        Value::Bytes(b) => or_null(b, LiteValue::Blob),
        Value::ChronoDate(d) => or_null(d, |d| LiteValue::Text(d.format("%F").to_string())),
        Value::ChronoDateTimeUtc(t) => or_null(t, |t| LiteValue::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))),
        other => return Err(AppError::Internal(format!("no SQLite binding for {other:?}"))),
    })
}

fn lite_params(values: Option<hezuo_db::sea_orm::Values>) -> Result<Vec<LiteValue>, AppError> {
    values.map_or(Ok(Vec::new()), |v| v.0.into_iter().map(lite_value).collect())
}

/// SQLite's errors as the rest of the application sees sqlx's: a violated unique key is
/// `already_exists`, anything else internal.
pub(crate) fn lite_error(e: rusqlite::Error) -> AppError {
    use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == SQLITE_CONSTRAINT_UNIQUE || f.extended_code == SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            AppError::conflict("already_exists", "already exists")
        }
        _ => AppError::Internal(format!("SQLite: {e}")),
    }
}

/// A row read through [`Exec`]: columns by position.
pub(crate) trait Row: Sized {
    fn sea(r: &QueryResult) -> Result<Self, DbErr>;
    fn lite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// A column's value, read from either driver.
pub(crate) trait Col: Sized {
    fn sea(r: &QueryResult, i: usize) -> Result<Self, DbErr>;
    fn lite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self>;
}

macro_rules! plain_col {
    ($($t:ty),*) => {$(
        impl Col for $t {
            fn sea(r: &QueryResult, i: usize) -> Result<Self, DbErr> {
                r.try_get_by_index(i)
            }
            fn lite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
                r.get(i)
            }
        }
    )*};
}
plain_col!(i64, i32, String, Option<i64>, Option<String>);

/// Text columns parsed as sqlx parses them.
fn parsed<T>(r: &rusqlite::Row<'_>, i: usize, parse: impl Fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, format!("unreadable {text:?}").into())
    })
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%F").ok()
}

fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%F %T%.f%:z"))
        .map(|t| t.with_timezone(&Utc))
        .ok()
}

impl Col for NaiveDate {
    fn sea(r: &QueryResult, i: usize) -> Result<Self, DbErr> {
        r.try_get_by_index(i)
    }
    fn lite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        parsed(r, i, parse_date)
    }
}

impl Col for Option<NaiveDate> {
    fn sea(r: &QueryResult, i: usize) -> Result<Self, DbErr> {
        r.try_get_by_index(i)
    }
    fn lite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        match r.get_ref(i)? {
            rusqlite::types::ValueRef::Null => Ok(None),
            _ => parsed(r, i, parse_date).map(Some),
        }
    }
}

impl Col for DateTime<Utc> {
    fn sea(r: &QueryResult, i: usize) -> Result<Self, DbErr> {
        r.try_get_by_index(i)
    }
    fn lite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        parsed(r, i, parse_instant)
    }
}

macro_rules! tuple_row {
    ($($t:ident $i:tt),*) => {
        impl<$($t: Col),*> Row for ($($t,)*) {
            fn sea(r: &QueryResult) -> Result<Self, DbErr> {
                Ok(($($t::sea(r, $i)?,)*))
            }
            fn lite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($($t::lite(r, $i)?,)*))
            }
        }
    };
}
tuple_row!(A 0);
tuple_row!(A 0, B 1);
tuple_row!(A 0, B 1, C 2);
tuple_row!(A 0, B 1, C 2, D 3);
tuple_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_dates_bind_as_sqlx_binds_them() {
        let t = DateTime::parse_from_rfc3339("2026-03-15T10:00:00.123456Z").map(|t| t.with_timezone(&Utc));
        let Ok(t) = t else { panic!("test instant") };
        assert_eq!(
            lite_value(Value::ChronoDateTimeUtc(Some(t))).ok(),
            Some(LiteValue::Text("2026-03-15T10:00:00.123456+00:00".into()))
        );
        let d = NaiveDate::from_ymd_opt(2026, 3, 1);
        assert_eq!(lite_value(Value::ChronoDate(d)).ok(), Some(LiteValue::Text("2026-03-01".into())));
        assert_eq!(parse_instant("2026-03-15T10:00:00.123456+00:00"), Some(t));
        assert_eq!(parse_instant("2026-03-15 18:00:00.123456+08:00"), Some(t));
        assert_eq!(lite_value(Value::BigInt(None)).ok(), Some(LiteValue::Null));
    }
}
