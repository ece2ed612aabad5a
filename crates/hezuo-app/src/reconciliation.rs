//! Reconciliation of platform statements (SPEC §9): a statement is parsed as it streams in,
//! its rows land in `statement_rows`, and matching against the books is a few set-based SQL
//! statements in the same transaction — one item per external id, each with exactly one status.

use crate::{Actor, App, AppError, Page, PageRequest, Principal};
use chrono::{DateTime, Days, NaiveDate, Utc};
use hezuo_core::Money;
use hezuo_db::entities::{channel, statement, statement_error, statement_item as item, statement_row};
use hezuo_db::sea_orm::sea_query::Expr;
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TransactionTrait, Value,
};
use hezuo_recon::{Format, StatementReader};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::hash::BuildHasher;

/// The statuses of docs/domain.md "Reconciliation", in the order summaries list them.
pub const STATUSES: [&str; 5] = ["matched", "amount_mismatch", "missing_in_books", "missing_in_statement", "duplicate"];

/// Rows per INSERT of statement rows (10 columns: under SQLite's 32,766 bind parameters).
const ROW_BATCH: usize = 3_000;
/// Rows per INSERT on PostgreSQL, where a batch travels as one JSON parameter.
const PG_ROW_BATCH: usize = 10_000;
/// Malformed rows listed in the import's answer.
const ERRORS_SHOWN: usize = 1_000;
/// Malformed rows kept with their reasons (all are counted). A file with at least this many
/// bad rows, and more bad rows than good ones, is not a statement: it is refused unread.
const MAX_STORED_ERRORS: i64 = 1_000;
const STAGING: &str = "staging";
const READY: &str = "ready";

/// A file most of whose rows cannot be read.
fn unreadable(good: i64, bad: i64) -> AppError {
    AppError::Invalid {
        code: "statement_unreadable",
        field: None,
        message: format!(
            "{bad} of the file's rows cannot be read and {good} can: is it a statement of this format? Nothing was imported"
        ),
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowErrorView {
    pub line: i64,
    pub reason: String,
}

/// Count and totals of one status.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct StatusSummary {
    pub count: i64,
    /// Σ statement net of the items (for `missing_in_statement`: Σ what the books expect).
    pub amount: Money,
    pub statement_amount: Money,
    pub book_amount: Money,
    /// Σ (statement − books).
    pub difference: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementView {
    pub id: i64,
    pub channel: String,
    pub channel_id: i64,
    pub format: String,
    /// SHA-256 of the file: the same file again is this statement, not a new one.
    pub content_hash: String,
    /// Rows read and matched.
    pub rows: i64,
    /// Malformed rows (listed in `errors`, the first 1,000 of them).
    pub rejected: i64,
    pub errors: Vec<RowErrorView>,
    /// The local days the rows were settled on; orders placed in them are expected in it.
    pub range_from: Option<NaiveDate>,
    pub range_to: Option<NaiveDate>,
    /// Every status with its count and totals.
    pub summary: BTreeMap<String, StatusSummary>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub id: i64,
    pub statement_id: i64,
    pub external_id: String,
    pub order_id: Option<i64>,
    pub status: String,
    /// Σ net of the statement's rows for this id (none when missing in the statement).
    pub statement_amount: Option<Money>,
    /// Σ (G − F) − Σ (a − f) of the order (none when missing in the books).
    pub book_amount: Option<Money>,
    /// Statement − books.
    pub difference: Money,
    /// The statement's rows for this id.
    pub rows: i64,
    pub note: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by_user_id: Option<i64>,
}

impl From<item::Model> for ItemView {
    fn from(m: item::Model) -> Self {
        ItemView {
            id: m.id,
            statement_id: m.statement_id,
            external_id: m.external_id,
            order_id: m.order_id,
            status: m.status,
            statement_amount: m.statement_amount.map(Money::from_cents),
            book_amount: m.book_amount.map(Money::from_cents),
            difference: Money::from_cents(m.difference),
            rows: m.rows,
            note: m.note,
            resolved_at: m.resolved_at,
            resolved_by_user_id: m.resolved_by_user_id,
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemFilter {
    /// One of matched, amount_mismatch, missing_in_books, missing_in_statement, duplicate.
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// What was done about it (1–500 characters).
    #[schema(value_type = crate::openapi::Note)]
    pub note: String,
}

/// The result of an import: the statement, and whether this request created it.
pub struct Imported {
    pub statement: StatementView,
    pub created: bool,
}

/// Who may import and resolve: alliance users. Admins may read.
fn importer(p: &Principal) -> Result<i64, AppError> {
    match *p {
        Principal::Alliance { alliance_id } => Ok(alliance_id),
        _ => Err(AppError::Forbidden),
    }
}

/// The published statements the caller may read.
fn reader(p: &Principal) -> Result<Condition, AppError> {
    let ready = Condition::all().add(statement::Column::State.eq(READY));
    match *p {
        Principal::Admin => Ok(ready),
        Principal::Alliance { alliance_id } => Ok(ready.add(statement::Column::AllianceId.eq(alliance_id))),
        _ => Err(AppError::Forbidden),
    }
}

/// A statement for `sql` with `?` placeholders, numbered for PostgreSQL.
fn stmt(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == hezuo_db::sea_orm::DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// A statement row on its way into `statement_rows`.
#[derive(Serialize)]
struct StoredRow {
    statement_id: i64,
    line: i64,
    external_id: String,
    kind: &'static str,
    amount: i64,
    fee: i64,
    net: i64,
    settled_at: DateTime<Utc>,
    repeated: bool,
}

/// Stores a batch of rows: multi-row INSERT on SQLite; on PostgreSQL one JSON parameter
/// unpacked by `json_to_recordset` (ten thousand rows cost one bind instead of a hundred
/// thousand).
async fn store_rows(txn: &DatabaseTransaction, rows: &[StoredRow]) -> Result<(), AppError> {
    if txn.get_database_backend() == hezuo_db::sea_orm::DbBackend::Postgres {
        let json = serde_json::to_string(&rows).map_err(|e| AppError::Internal(format!("rows as JSON: {e}")))?;
        txn.execute_raw(stmt(
            txn,
            "INSERT INTO statement_rows (statement_id, line, external_id, kind, amount, fee, net, settled_at, repeated) \
             SELECT statement_id, line, external_id, kind, amount, fee, net, settled_at, repeated \
             FROM json_to_recordset(CAST(? AS json)) AS x(statement_id bigint, line bigint, external_id text, kind text, \
               amount bigint, fee bigint, net bigint, settled_at timestamptz, repeated boolean)",
            vec![json.into()],
        ))
        .await?;
        return Ok(());
    }
    let models = rows.iter().map(|r| statement_row::ActiveModel {
        statement_id: Set(r.statement_id),
        line: Set(r.line),
        external_id: Set(r.external_id.clone()),
        kind: Set(r.kind.to_owned()),
        amount: Set(r.amount),
        fee: Set(r.fee),
        net: Set(r.net),
        settled_at: Set(r.settled_at),
        repeated: Set(r.repeated),
    });
    statement_row::Entity::insert_many(models).exec_without_returning(txn).await?;
    Ok(())
}

/// What the books expect an order to settle: Σ (G − F) − Σ (a − f).
/// The refunded fees are read only for orders with a refund (an order without one has none),
/// through the parts' index on their order.
const BOOK: &str = "(o.gross - o.fee - o.refunded + CASE WHEN o.refunded = 0 THEN 0 ELSE \
     (SELECT COALESCE(SUM(p.refunded_fee), 0) FROM order_parts p WHERE p.order_id = o.id) END)";

impl App {
    /// `POST /reconciliation/statements?channel=&format=`: imports and matches a statement.
    ///
    /// In steps, so that no transaction is long: the statement row is written as `staging`,
    /// its rows are stored in chunks of short transactions while the file streams in, the
    /// items are matched in chunks of external ids, and one short last transaction publishes
    /// it (`ready`). Until then nobody sees it; a failure deletes what was staged. On SQLite
    /// every other write of the process waits at most for one chunk.
    pub async fn import_statement(
        &self,
        p: &Principal,
        actor: &Actor,
        channel_code: &str,
        format: &str,
        body: &[u8],
    ) -> Result<Imported, AppError> {
        let (ch, format) = self.statement_target(p, channel_code, format).await?;
        let hash = hex::encode(Sha256::digest(body));
        // One import per channel at a time: matching looks at what earlier statements of the
        // channel settled.
        let _channel = self.statement_imports.lock(ch.id).await;
        if let Some(found) = self.statement_by_hash(ch.id, &hash).await? {
            return self.earlier_import(found).await;
        }
        let rows = StatementReader::new(body, format, self.config.timezone).map_err(|e| AppError::Invalid {
            code: "statement_unreadable",
            field: None,
            message: e.to_string(),
        })?;
        let staged = statement::ActiveModel {
            alliance_id: Set(ch.alliance_id),
            channel_id: Set(ch.id),
            format: Set(format.as_str().to_owned()),
            content_hash: Set(hash.clone()),
            bytes: Set(i64::try_from(body.len()).unwrap_or(i64::MAX)),
            rows: Set(0),
            rejected: Set(0),
            first_settled_at: Set(None),
            last_settled_at: Set(None),
            range_from: Set(None),
            range_to: Set(None),
            actor_user_id: Set(actor.user_id),
            actor_token_id: Set(actor.token_id),
            created_at: Set(crate::now()),
            state: Set(STAGING.to_owned()),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await;
        let s = match staged {
            Ok(s) => s,
            // The same file imported by another replica: answer with that one.
            Err(e) if matches!(AppError::from(e.clone()), AppError::Conflict { code: "already_exists", .. }) => {
                let found = self
                    .statement_by_hash(ch.id, &hash)
                    .await?
                    .ok_or_else(|| AppError::Internal(format!("statement vanished: {e}")))?;
                return self.earlier_import(found).await;
            }
            Err(e) => return Err(e.into()),
        };
        match self.stage_and_match(&s, rows).await {
            Ok(view) => {
                self.wake_webhooks();
                {
                    self.metrics.statement_imported();
                    Ok(Imported { statement: view, created: true })
                }
            }
            Err(e) => {
                if let Err(cleanup) = self.discard_statement(s.id).await {
                    tracing::error!(statement = s.id, error = %cleanup, "a failed statement import was not cleaned up");
                }
                Err(e)
            }
        }
    }

    /// Whether the caller may import a statement of this channel and format (checked before
    /// the file is read).
    pub async fn check_statement_import(
        &self,
        p: &Principal,
        channel_code: &str,
        format: &str,
    ) -> Result<(), AppError> {
        self.statement_target(p, channel_code, format).await.map(|_| ())
    }

    async fn statement_target(
        &self,
        p: &Principal,
        channel_code: &str,
        format: &str,
    ) -> Result<(channel::Model, Format), AppError> {
        let alliance_id = importer(p)?;
        let format =
            Format::parse(format).ok_or_else(|| AppError::invalid("format", "must be generic, wechat or alipay"))?;
        let ch = channel::Entity::find()
            .filter(channel::Column::AllianceId.eq(alliance_id))
            .filter(channel::Column::Code.eq(channel_code))
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::unknown_reference("channel", "channel of your alliance"))?;
        Ok((ch, format))
    }

    /// A statement already imported from the same file is the answer; one still being staged
    /// is a conflict.
    async fn earlier_import(&self, s: statement::Model) -> Result<Imported, AppError> {
        if s.state == STAGING {
            return Err(AppError::conflict(
                "import_in_progress",
                "this file is being imported right now; ask again in a minute",
            ));
        }
        Ok(Imported { statement: self.statement_view(s).await?, created: false })
    }

    async fn statement_by_hash(&self, channel_id: i64, hash: &str) -> Result<Option<statement::Model>, AppError> {
        Ok(statement::Entity::find()
            .filter(statement::Column::ChannelId.eq(channel_id))
            .filter(statement::Column::ContentHash.eq(hash))
            .one(&self.db)
            .await?)
    }

    /// Stores the rows in chunks, matches, and publishes the statement.
    async fn stage_and_match(
        &self,
        s: &statement::Model,
        mut rows: StatementReader<&[u8]>,
    ) -> Result<StatementView, AppError> {
        let started = std::time::Instant::now();
        let (mut good, mut bad) = (0i64, 0i64);
        let mut first: Option<DateTime<Utc>> = None;
        let mut last: Option<DateTime<Utc>> = None;
        let postgres = hezuo_db::backend(&self.db) == hezuo_db::Backend::Postgres;
        let batch_size = if postgres { PG_ROW_BATCH } else { ROW_BATCH };
        let stage_chunk = self.config.statement_chunk.max(1);
        let mut chunk: Vec<StoredRow> = Vec::with_capacity(stage_chunk);
        let mut errors = Vec::new();
        // Exact repeats within the file, by a 128-bit digest of (id, kind, amount, fee, time):
        // two independent keyed hashes, so a false repeat is out of reach (~2⁻¹²⁸ per pair).
        let (h1, h2) = (std::hash::RandomState::new(), std::hash::RandomState::new());
        let mut seen: std::collections::HashSet<(u64, u64)> = std::collections::HashSet::new();
        loop {
            let next = rows.next();
            let done = next.is_none();
            match next {
                Some(Ok(r)) => {
                    good += 1;
                    first = Some(first.map_or(r.settled_at, |f| f.min(r.settled_at)));
                    last = Some(last.map_or(r.settled_at, |l| l.max(r.settled_at)));
                    let key = (&r.external_id, r.kind.as_str(), r.amount.cents(), r.fee.cents(), r.settled_at);
                    let repeated = !seen.insert((h1.hash_one(key), h2.hash_one(key)));
                    chunk.push(StoredRow {
                        statement_id: s.id,
                        line: i64::try_from(r.line).unwrap_or(i64::MAX),
                        net: r.net()?.cents(),
                        kind: r.kind.as_str(),
                        amount: r.amount.cents(),
                        fee: r.fee.cents(),
                        settled_at: r.settled_at,
                        external_id: r.external_id,
                        repeated,
                    });
                }
                Some(Err(e)) => {
                    bad += 1;
                    // Every bad row is counted; the first ones are kept with their reasons.
                    if bad <= MAX_STORED_ERRORS {
                        errors.push(statement_error::ActiveModel {
                            statement_id: Set(s.id),
                            line: Set(i64::try_from(e.line).unwrap_or(i64::MAX)),
                            reason: Set(e.reason),
                            ..Default::default()
                        });
                    }
                    // A file that is mostly junk is not a statement: stop reading it.
                    if bad >= MAX_STORED_ERRORS && bad > good {
                        return Err(unreadable(good, bad));
                    }
                }
                None => {}
            }
            if chunk.len() >= stage_chunk
                || errors.len() >= stage_chunk
                || (done && !(chunk.is_empty() && errors.is_empty()))
            {
                let (rows_now, errors_now) = (std::mem::take(&mut chunk), std::mem::take(&mut errors));
                let _turn = self.write_turn().await;
                let txn = self.db.begin().await?;
                let result = async {
                    for part in rows_now.chunks(batch_size) {
                        store_rows(&txn, part).await?;
                    }
                    for part in errors_now.chunks(ROW_BATCH) {
                        statement_error::Entity::insert_many(part.to_vec()).exec(&txn).await?;
                    }
                    Ok(())
                }
                .await;
                crate::finish(txn, result).await?;
            }
            if done {
                break;
            }
        }
        rows.finish().map_err(|e| AppError::Invalid {
            code: "statement_corrupt",
            field: None,
            message: e.to_string(),
        })?;
        if good == 0 || bad > good {
            return Err(unreadable(good, bad));
        }
        tracing::debug!(
            statement = s.id,
            rows = good,
            rejected = bad,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "statement rows staged"
        );

        let tz = self.config.timezone;
        let range_from = first.map(|t| t.with_timezone(&tz).date_naive());
        let range_to = last.map(|t| t.with_timezone(&tz).date_naive());
        self.match_statement(s.id, s.channel_id, range_from.zip(range_to)).await?;
        tracing::debug!(statement = s.id, elapsed_ms = started.elapsed().as_millis() as u64, "statement matched");
        // The view as published, read before: its items are final, and the sums over them do
        // not hold the writer's turn.
        let published = statement::Model {
            rows: good,
            rejected: bad,
            first_settled_at: first,
            last_settled_at: last,
            range_from,
            range_to,
            state: READY.to_owned(),
            ..s.clone()
        };
        let view = self.statement_view(published).await?;
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let result = async {
            statement::Entity::update_many()
                .col_expr(statement::Column::Rows, Expr::value(good))
                .col_expr(statement::Column::Rejected, Expr::value(bad))
                .col_expr(statement::Column::FirstSettledAt, Expr::value(first))
                .col_expr(statement::Column::LastSettledAt, Expr::value(last))
                .col_expr(statement::Column::RangeFrom, Expr::value(range_from))
                .col_expr(statement::Column::RangeTo, Expr::value(range_to))
                .col_expr(statement::Column::State, Expr::value(READY))
                .filter(statement::Column::Id.eq(s.id))
                .exec(&txn)
                .await?;
            // Published and announced together (`crate::webhooks::outbox`).
            let audience = crate::webhooks::outbox::Audience::Alliance(s.alliance_id);
            let event = crate::webhooks::Event::StatementImported;
            crate::webhooks::outbox::record(&txn, event, s.id, audience, &view).await
        }
        .await;
        crate::finish(txn, result).await?;
        Ok(view)
    }

    /// Deletes a statement that was not published, a chunk at a time.
    async fn discard_statement(&self, id: i64) -> Result<(), AppError> {
        let tables = ["statement_items", "statement_rows", "statement_errors"];
        for table in tables {
            loop {
                let key = if table == "statement_rows" { "line" } else { "id" };
                let sql = format!(
                    "DELETE FROM {table} WHERE statement_id = ? AND {key} IN \
                     (SELECT {key} FROM {table} WHERE statement_id = ? LIMIT {})",
                    self.config.statement_chunk.max(1)
                );
                let w = self.writer().await;
                let gone = w.execute_raw(stmt(&*w, &sql, vec![id.into(), id.into()])).await?.rows_affected();
                if gone == 0 {
                    break;
                }
            }
        }
        statement::Entity::delete_by_id(id).exec(&*self.writer().await).await?;
        Ok(())
    }

    /// Statements a stopped process left half imported (SQLite: any; PostgreSQL, where
    /// another replica may be importing: those older than an hour).
    pub(crate) async fn discard_abandoned_statements(&self) -> Result<(), AppError> {
        let mut q = statement::Entity::find().filter(statement::Column::State.eq(STAGING));
        if hezuo_db::backend(&self.db) == hezuo_db::Backend::Postgres {
            q = q.filter(statement::Column::CreatedAt.lt(crate::now() - chrono::Duration::hours(1)));
        }
        for s in q.all(&self.db).await? {
            tracing::warn!(statement = s.id, "discarding a statement import that did not finish");
            self.discard_statement(s.id).await?;
        }
        Ok(())
    }

    /// The boundaries of chunks of `statement_chunk` external ids of `table`'s rows whose
    /// `scope` column is `value`: each boundary is the last external id of its chunk.
    async fn boundaries(&self, table: &str, scope: &str, value: i64) -> Result<Vec<String>, AppError> {
        let sql = format!(
            "SELECT external_id FROM {table} WHERE {scope} = ? AND external_id > ? ORDER BY external_id LIMIT 1 OFFSET {}",
            self.config.statement_chunk.max(1) - 1
        );
        let mut out: Vec<String> = Vec::new();
        loop {
            let after = out.last().cloned().unwrap_or_default();
            let row = self.db.query_one_raw(stmt(&self.db, &sql, vec![value.into(), after.into()])).await?;
            match row.map(|r| r.try_get_by_index::<String>(0)).transpose()? {
                Some(b) => out.push(b),
                None => return Ok(out),
            }
        }
    }

    /// docs/domain.md "Reconciliation" matching, set-based: one item per external id of the statement, then one per
    /// booked order of the channel placed in the statement's days that it lacks (items in
    /// external-id order within each group). Each runs over chunks of external ids, a short
    /// transaction each.
    async fn match_statement(
        &self,
        id: i64,
        channel_id: i64,
        range: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<(), AppError> {
        let postgres = hezuo_db::backend(&self.db) == hezuo_db::Backend::Postgres;
        if postgres {
            // The rows were just written: give the planner their real size (it would otherwise
            // loop over index look-ups). On its own, not in a long transaction.
            self.db.execute_unprepared("ANALYZE statement_rows").await?;
        }
        // Whether an earlier statement of the channel already settled the id: one probe of the
        // items' index by external id (a join to all earlier items would be read again for
        // every chunk).
        let settled = "EXISTS (SELECT 1 FROM statement_items i JOIN statements s ON s.id = i.statement_id \
             WHERE i.external_id = {id} AND s.channel_id = ? AND i.statement_id <> ? AND s.state = 'ready' \
             AND i.status IN ('matched', 'amount_mismatch'))";
        // SQLite has one writer, so its matching goes in chunks that each hold the writer turn
        // briefly. PostgreSQL's writers do not wait for one another (this statement locks only
        // the items it writes), and one set-based statement per phase is several times faster
        // there than chunks (BENCHMARKS.md), so it matches in one chunk.
        let statement_ids =
            if postgres { Vec::new() } else { self.boundaries("statement_rows", "statement_id", id).await? };
        let sql = format!(
            "INSERT INTO statement_items (statement_id, external_id, order_id, status, statement_amount, book_amount, difference, rows) \
             SELECT ?, r.external_id, o.id, \
               CASE WHEN r.repeated > 0 OR {settled} THEN 'duplicate' \
                    WHEN o.id IS NULL THEN 'missing_in_books' \
                    WHEN r.net = {BOOK} THEN 'matched' ELSE 'amount_mismatch' END, \
               r.net, CASE WHEN o.id IS NULL THEN NULL ELSE {BOOK} END, \
               r.net - CASE WHEN o.id IS NULL THEN 0 ELSE {BOOK} END, r.n \
             FROM (SELECT external_id, SUM(net) AS net, COUNT(*) AS n, \
                     SUM(CASE WHEN repeated THEN 1 ELSE 0 END) AS repeated \
                   FROM statement_rows WHERE statement_id = ? AND external_id > ? {{upper:external_id}} \
                   GROUP BY external_id) r \
             LEFT JOIN orders o ON o.channel_id = ? AND o.external_id = r.external_id \
             ORDER BY r.external_id",
            settled = settled.replace("{id}", "r.external_id"),
        );
        self.in_chunks(
            &statement_ids,
            |lo, hi| {
                let mut v: Vec<Value> = vec![id.into(), channel_id.into(), id.into(), id.into(), lo.into()];
                v.extend(hi.map(Value::from));
                v.push(channel_id.into());
                v
            },
            &sql,
        )
        .await?;

        let Some((from, to)) = range else { return Ok(()) };
        let (lo, hi) = (self.local_midnight(from)?, self.local_midnight(to + Days::new(1))?);
        let order_ids = if postgres { Vec::new() } else { self.boundaries("orders", "channel_id", channel_id).await? };
        let sql = format!(
            "INSERT INTO statement_items (statement_id, external_id, order_id, status, statement_amount, book_amount, difference, rows) \
             SELECT ?, o.external_id, o.id, 'missing_in_statement', NULL, {BOOK}, -({BOOK}), 0 \
             FROM orders o \
             WHERE o.channel_id = ? AND o.external_id > ? {{upper:o.external_id}} \
               AND o.status <> 'cancelled' AND o.placed_at >= ? AND o.placed_at < ? \
               AND NOT EXISTS (SELECT 1 FROM statement_rows r WHERE r.statement_id = ? AND r.external_id = o.external_id) \
               AND NOT {settled} ORDER BY o.external_id",
            settled = settled.replace("{id}", "o.external_id"),
        );
        self.in_chunks(
            &order_ids,
            |a, b| {
                let mut v: Vec<Value> = vec![id.into(), channel_id.into(), a.into()];
                v.extend(b.map(Value::from));
                v.extend([lo.into(), hi.into(), id.into(), channel_id.into(), id.into()]);
                v
            },
            &sql,
        )
        .await?;
        Ok(())
    }

    /// Runs `sql` once per chunk of external ids `(lo, hi]`, the last chunk open above, each in
    /// its own short transaction after the writer turn. `{upper:COLUMN}` in `sql` becomes the
    /// upper bound (`AND COLUMN <= ?`), absent in the last chunk: a bound that is a plain range
    /// keeps every chunk an index range scan (a bound made optional by a parameter would not,
    /// once PostgreSQL plans the statement generically).
    async fn in_chunks(
        &self,
        boundaries: &[String],
        values: impl Fn(String, Option<String>) -> Vec<Value>,
        sql: &str,
    ) -> Result<(), AppError> {
        let postgres = hezuo_db::backend(&self.db) == hezuo_db::Backend::Postgres;
        let (head, rest) = sql.split_once("{upper:").ok_or_else(|| AppError::Internal("no upper bound".into()))?;
        let (column, tail) = rest.split_once('}').ok_or_else(|| AppError::Internal("no upper bound".into()))?;
        let bounded = format!("{head}AND {column} <= ?{tail}");
        let open = format!("{head}{tail}");
        let mut lo = String::new();
        for i in 0..=boundaries.len() {
            let hi = boundaries.get(i).cloned();
            let sql = if hi.is_some() { &bounded } else { &open };
            let _turn = self.write_turn().await;
            let txn = self.db.begin().await?;
            let result = async {
                if postgres {
                    txn.execute_unprepared("SET LOCAL work_mem = '64MB'").await?;
                }
                txn.execute_raw(stmt(&txn, sql, values(lo.clone(), hi.clone()))).await?;
                Ok(())
            }
            .await;
            crate::finish(txn, result).await?;
            lo = hi.unwrap_or_default();
        }
        Ok(())
    }

    async fn statement_view(&self, s: statement::Model) -> Result<StatementView, AppError> {
        let channel =
            channel::Entity::find_by_id(s.channel_id).one(&self.db).await?.map(|c| c.code).unwrap_or_default();
        let errors = statement_error::Entity::find()
            .filter(statement_error::Column::StatementId.eq(s.id))
            .order_by(statement_error::Column::Line, Order::Asc)
            .limit(ERRORS_SHOWN as u64)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| RowErrorView { line: e.line, reason: e.reason })
            .collect();
        let sums: Vec<(String, i64, i64, i64, i64)> = item::Entity::find()
            .select_only()
            .column(item::Column::Status)
            .column_as(Expr::cust("COUNT(*)"), "n")
            .column_as(Expr::cust("CAST(COALESCE(SUM(statement_amount), 0) AS BIGINT)"), "st")
            .column_as(Expr::cust("CAST(COALESCE(SUM(book_amount), 0) AS BIGINT)"), "bk")
            .column_as(Expr::cust("CAST(COALESCE(SUM(difference), 0) AS BIGINT)"), "df")
            .filter(item::Column::StatementId.eq(s.id))
            .group_by(item::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut summary: BTreeMap<String, StatusSummary> =
            STATUSES.iter().map(|st| ((*st).to_owned(), StatusSummary::default())).collect();
        for (status, n, st, bk, df) in sums {
            let amount = if status == "missing_in_statement" { bk } else { st };
            summary.insert(
                status,
                StatusSummary {
                    count: n,
                    amount: Money::from_cents(amount),
                    statement_amount: Money::from_cents(st),
                    book_amount: Money::from_cents(bk),
                    difference: Money::from_cents(df),
                },
            );
        }
        Ok(StatementView {
            id: s.id,
            channel,
            channel_id: s.channel_id,
            format: s.format,
            content_hash: s.content_hash,
            rows: s.rows,
            rejected: s.rejected,
            errors,
            range_from: s.range_from,
            range_to: s.range_to,
            summary,
            created_at: s.created_at,
        })
    }

    async fn find_statement(&self, p: &Principal, id: i64) -> Result<statement::Model, AppError> {
        statement::Entity::find_by_id(id).filter(reader(p)?).one(&self.db).await?.ok_or(AppError::NotFound("statement"))
    }

    /// `GET /reconciliation/statements?channel=`: the statements in scope, newest last, each
    /// with its summary.
    pub async fn list_statements(
        &self,
        p: &Principal,
        channel_code: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<StatementView>, AppError> {
        let mut q = statement::Entity::find();
        if let Some(code) = channel_code {
            q = q.filter(
                statement::Column::ChannelId.in_subquery(
                    hezuo_db::sea_orm::sea_query::Query::select()
                        .column(channel::Column::Id)
                        .from(channel::Entity)
                        .and_where(channel::Column::Code.eq(code))
                        .to_owned(),
                ),
            );
        }
        let found = crate::page::fetch_page(self.reader(), q, reader(p)?, page, |m| m.id, |m| m).await?;
        let mut items = Vec::with_capacity(found.items.len());
        for s in found.items {
            items.push(self.statement_view(s).await?);
        }
        Ok(Page { items, next_cursor: found.next_cursor })
    }

    /// `GET /reconciliation/statements/{id}`.
    pub async fn get_statement(&self, p: &Principal, id: i64) -> Result<StatementView, AppError> {
        let s = self.find_statement(p, id).await?;
        self.statement_view(s).await
    }

    fn item_query(id: i64, filter: &ItemFilter) -> Result<hezuo_db::sea_orm::Select<item::Entity>, AppError> {
        let mut q = item::Entity::find().filter(item::Column::StatementId.eq(id));
        if let Some(st) = &filter.status {
            if !STATUSES.contains(&st.as_str()) {
                return Err(AppError::invalid("status", format!("must be one of {}", STATUSES.join(", "))));
            }
            q = q.filter(item::Column::Status.eq(st.as_str()));
        }
        Ok(q)
    }

    /// `GET /reconciliation/statements/{id}/items?status=`.
    pub async fn statement_items(
        &self,
        p: &Principal,
        id: i64,
        filter: &ItemFilter,
        page: PageRequest,
    ) -> Result<Page<ItemView>, AppError> {
        self.find_statement(p, id).await?;
        let q = Self::item_query(id, filter)?;
        crate::page::fetch_page(self.reader(), q, Condition::all(), page, |m| m.id, ItemView::from).await
    }

    /// Every item of a statement (optionally of one status), for CSV and xlsx export.
    pub async fn all_statement_items(
        &self,
        p: &Principal,
        id: i64,
        filter: &ItemFilter,
    ) -> Result<Vec<ItemView>, AppError> {
        self.find_statement(p, id).await?;
        Ok(Self::item_query(id, filter)?
            .order_by(item::Column::Id, Order::Asc)
            .all(&self.db)
            .await?
            .into_iter()
            .map(ItemView::from)
            .collect())
    }

    /// `POST /reconciliation/items/{id}/resolve`: once, with a note, by an alliance user.
    pub async fn resolve_item(
        &self,
        p: &Principal,
        actor: &Actor,
        id: i64,
        req: Resolve,
    ) -> Result<ItemView, AppError> {
        let alliance_id = importer(p)?;
        let note = hezuo_catalog::text("note", &req.note, 500)?;
        let found = item::Entity::find_by_id(id).one(&self.db).await?.ok_or(AppError::NotFound("item"))?;
        statement::Entity::find_by_id(found.statement_id)
            .filter(statement::Column::AllianceId.eq(alliance_id))
            .filter(statement::Column::State.eq(READY))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("item"))?;
        let done = item::Entity::update_many()
            .col_expr(item::Column::Note, Expr::value(note))
            .col_expr(item::Column::ResolvedAt, Expr::value(crate::now()))
            .col_expr(item::Column::ResolvedByUserId, Expr::value(actor.user_id))
            .col_expr(item::Column::ResolvedByTokenId, Expr::value(actor.token_id))
            .filter(item::Column::Id.eq(id))
            .filter(item::Column::ResolvedAt.is_null())
            .exec(&*self.writer().await)
            .await?;
        if done.rows_affected == 0 {
            return Err(AppError::conflict("already_resolved", "this item is already resolved"));
        }
        let m = item::Entity::find_by_id(id).one(&self.db).await?.ok_or(AppError::NotFound("item"))?;
        Ok(m.into())
    }
}

/// One item as a CSV/xlsx row.
#[derive(Serialize)]
struct ItemRow<'a> {
    id: i64,
    external_id: &'a str,
    order_id: Option<i64>,
    status: &'a str,
    statement_amount: Option<String>,
    book_amount: Option<String>,
    difference: String,
    rows: i64,
    note: Option<&'a str>,
    resolved_at: Option<String>,
}

fn item_rows(items: &[ItemView]) -> impl Iterator<Item = ItemRow<'_>> {
    items.iter().map(|i| ItemRow {
        id: i.id,
        external_id: &i.external_id,
        order_id: i.order_id,
        status: &i.status,
        statement_amount: i.statement_amount.map(|m| m.to_string()),
        book_amount: i.book_amount.map(|m| m.to_string()),
        difference: i.difference.to_string(),
        rows: i.rows,
        note: i.note.as_deref(),
        resolved_at: i.resolved_at.map(|t| t.to_rfc3339()),
    })
}

const ITEM_COLUMNS: [&str; 10] = [
    "id",
    "external_id",
    "order_id",
    "status",
    "statement_amount",
    "book_amount",
    "difference",
    "rows",
    "note",
    "resolved_at",
];

/// The items as CSV (UTF-8, header row; amounts as exact decimal text).
pub fn items_csv(items: &[ItemView]) -> Result<String, AppError> {
    crate::catalog::to_csv(item_rows(items))
}

/// The items as an xlsx workbook (`reports::table`): amounts as numbers with two decimals
/// (Excel stores them as doubles; the exact decimal text is in the CSV and the API), ids and
/// external ids as text.
pub fn items_xlsx(items: &[ItemView]) -> Result<Vec<u8>, AppError> {
    use crate::reports::{Cell, Table};
    let money = |m: Option<Money>| Cell::opt(m, Cell::Money);
    let rows = items
        .iter()
        .map(|i| {
            vec![
                Cell::code(i.id),
                Cell::code(&i.external_id),
                Cell::opt(i.order_id, Cell::code),
                Cell::text(&i.status),
                money(i.statement_amount),
                money(i.book_amount),
                Cell::Money(i.difference),
                Cell::Int(i.rows),
                Cell::opt(i.note.as_deref(), Cell::text),
                Cell::opt(i.resolved_at, |t| Cell::text(t.to_rfc3339())),
            ]
        })
        .collect();
    crate::reports::table::to_xlsx(&[Table { title: "对账明细", headers: ITEM_COLUMNS.to_vec(), rows }])
}
