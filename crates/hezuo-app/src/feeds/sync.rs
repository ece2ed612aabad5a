//! A feed's run (PLATFORMS.md §1): parked items first, then consecutive closed windows from the
//! cursor to a minute ago, orders then refunds, pages read last to first; the cursor moves to a
//! window's end only once everything of that window is committed, so a run that dies (or is
//! killed) starts again where it was. One run per feed at a time, across replicas, by a lease
//! on the feed's row. The scheduler inside `serve` starts due runs.

use super::Outcome;
use super::client::FeedClient;
use crate::{App, AppError, now};
use chrono::{DateTime, Utc};
use hezuo_db::entities::{channel, feed, feed_parked};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait};
use hezuo_db::sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use hezuo_platforms::{Credentials, Platform, PlatformError, PlatformOrder, PlatformRefund, Window};
use serde::Serialize;
use std::time::{Duration, Instant};

/// How long a run's lease holds: past the run's own budget, so that a live run never loses it
/// and a dead one frees the feed soon after.
const LEASE: Duration = Duration::from_secs(15 * 60);
/// How often the scheduler looks for due feeds.
const SCHEDULER_TICK: Duration = Duration::from_secs(5);

/// `POST /channels/{id}/feed:sync`: what one run did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SyncSummary {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Orders booked by this run.
    pub orders_created: i32,
    /// Orders the platform sent again that were booked before.
    pub orders_replayed: i32,
    /// Orders cancelled because the platform closed them after payment.
    pub orders_cancelled: i32,
    pub refunds: i32,
    /// Orders and refunds waiting when the run ended (parked: an unknown sku, not enough stock,
    /// a refund of an order not booked yet); each run retries them first.
    pub parked: i32,
    /// Where the next run starts.
    pub cursor: DateTime<Utc>,
    /// False when the run stopped at its time budget (10 minutes) with windows left to read;
    /// the next run then starts at once instead of after the feed's interval.
    pub caught_up: bool,
    /// Why the run stopped early (the platform's code and message, a connection error, the
    /// run's time budget); the cursor stays at the last window that was committed whole.
    pub error: Option<String>,
}

/// A run in progress: the feed, its platform and credentials.
pub(crate) struct Run<'a> {
    pub app: &'a App,
    pub feed: feed::Model,
    pub channel_code: String,
    platform: &'static dyn Platform,
    credentials: Credentials,
    client: FeedClient,
    started: Instant,
    summary: SyncSummary,
    /// The run stopped at its time budget with windows left: the next one starts at once.
    more: bool,
}

/// Why a run stopped.
struct Stop(String);

impl From<AppError> for Stop {
    fn from(e: AppError) -> Stop {
        tracing::error!(error = %e, "feed run failed");
        Stop(match e {
            AppError::Internal(_) => "internal error; see the service log".into(),
            other => other.to_string(),
        })
    }
}

/// Takes the feed's lease: `false` when a live run holds it.
async fn lease(app: &App, feed_id: i64, owner: &str) -> Result<bool, AppError> {
    let t = now();
    let until = t + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let taken = feed::Entity::update_many()
        .col_expr(feed::Column::LeaseOwner, Expr::value(owner))
        .col_expr(feed::Column::LeaseUntil, Expr::value(until))
        .col_expr(feed::Column::LastStartedAt, Expr::value(t))
        .filter(feed::Column::Id.eq(feed_id))
        .filter(Condition::any().add(feed::Column::LeaseUntil.is_null()).add(feed::Column::LeaseUntil.lt(t)))
        .exec(&*app.writer().await)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// One run of the feed `feed_id`; 409 `feed_busy` when another run holds it.
pub(crate) async fn run(app: &App, feed_id: i64) -> Result<SyncSummary, AppError> {
    let owner = format!("{:032x}", rand::random::<u128>());
    if !lease(app, feed_id, &owner).await? {
        return Err(AppError::conflict("feed_busy", "a run of this feed is under way"));
    }
    let outcome = run_leased(app, feed_id).await;
    // The lease is released and the run recorded whatever happened.
    let t = now();
    let f = feed::Entity::find_by_id(feed_id).one(&app.db).await?.ok_or(AppError::NotFound("feed"))?;
    let caught_up = outcome.as_ref().map_or(true, |s| s.caught_up);
    let next = if caught_up { t + chrono::Duration::seconds(i64::from(f.interval_seconds)) } else { t };
    let (summary, result) = match outcome {
        Ok(s) => (Some(s.clone()), Ok(s)),
        Err(e) => (None, Err(e)),
    };
    let mut update = feed::Entity::update_many()
        .col_expr(feed::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(feed::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(feed::Column::LastFinishedAt, Expr::value(t))
        .col_expr(feed::Column::NextRunAt, Expr::value(next));
    update = match &summary {
        Some(s) => update
            .col_expr(feed::Column::LastOrdersCreated, Expr::value(s.orders_created))
            .col_expr(feed::Column::LastOrdersReplayed, Expr::value(s.orders_replayed))
            .col_expr(feed::Column::LastRefunds, Expr::value(s.refunds))
            .col_expr(feed::Column::LastParked, Expr::value(s.parked))
            .col_expr(feed::Column::LastError, Expr::value(s.error.clone())),
        None => update.col_expr(feed::Column::LastError, Expr::value(Some("internal error; see the service log"))),
    };
    update
        .filter(feed::Column::Id.eq(feed_id))
        .filter(feed::Column::LeaseOwner.eq(owner.as_str()))
        .exec(&*app.writer().await)
        .await?;
    count_run(app, &f.platform, summary.as_ref()).await?;
    result
}

/// The run's metrics: its outcome, what it took, and what the platform's feeds have parked now.
async fn count_run(app: &App, platform: &str, summary: Option<&SyncSummary>) -> Result<(), AppError> {
    let ok = summary.is_some_and(|s| s.error.is_none());
    let taken = summary.map_or([0; 4], |s| [s.orders_created, s.orders_replayed, s.orders_cancelled, s.refunds]);
    let [booked, replayed, cancelled, refunded] = taken;
    app.metrics.feed_run(
        platform,
        ok,
        [("booked", booked), ("replayed", replayed), ("cancelled", cancelled), ("refunded", refunded)],
    );
    let parked = feed_parked::Entity::find()
        .filter(
            feed_parked::Column::FeedId.in_subquery(
                hezuo_db::sea_orm::sea_query::Query::select()
                    .column(feed::Column::Id)
                    .from(feed::Entity)
                    .and_where(Expr::col(feed::Column::Platform).eq(platform))
                    .to_owned(),
            ),
        )
        .count(&app.db)
        .await?;
    app.metrics.feed_parked(platform, i64::try_from(parked).unwrap_or(i64::MAX));
    Ok(())
}

async fn run_leased(app: &App, feed_id: i64) -> Result<SyncSummary, AppError> {
    let f = feed::Entity::find_by_id(feed_id).one(&app.db).await?.ok_or(AppError::NotFound("feed"))?;
    let ch = channel::Entity::find_by_id(f.channel_id).one(&app.db).await?.ok_or(AppError::NotFound("channel"))?;
    let platform = hezuo_platforms::platform(&f.platform)
        .ok_or_else(|| AppError::Internal(format!("feed {} has an unknown platform", f.id)))?;
    let key = app
        .config
        .secret_key
        .as_ref()
        .ok_or_else(|| AppError::Internal("no secret key to open the feed's credentials".into()))?;
    let secret = key.open(&f.app_secret, &super::seal_context(f.channel_id, "app_secret"))?;
    let token = f
        .access_token
        .as_deref()
        .map(|t| key.open(t, &super::seal_context(f.channel_id, "access_token")))
        .transpose()?;
    let credentials = Credentials::new(f.app_key.clone(), secret, token);
    let mut run = Run {
        app,
        client: FeedClient::new(app.config.feed_allow_nets.clone())?,
        summary: SyncSummary { started_at: now(), cursor: f.cursor, ..Default::default() },
        feed: f,
        channel_code: ch.code,
        platform,
        credentials,
        started: Instant::now(),
        more: false,
    };
    if let Err(Stop(why)) = run.everything().await {
        run.summary.error = Some(why);
    }
    run.summary.parked = run.still_parked().await?;
    run.summary.finished_at = now();
    tracing::info!(
        feed = run.feed.id,
        platform = run.platform.name(),
        created = run.summary.orders_created,
        replayed = run.summary.orders_replayed,
        refunds = run.summary.refunds,
        parked = run.summary.parked,
        error = run.summary.error.as_deref().unwrap_or(""),
        "feed run finished"
    );
    run.summary.caught_up = !run.more;
    Ok(run.summary)
}

impl Run<'_> {
    async fn everything(&mut self) -> Result<(), Stop> {
        self.retry_parked(false).await?;
        let windows: Vec<Window> = self.platform.windows(self.feed.cursor, self.app.now()).take(10_000).collect();
        for w in windows {
            // A run ends within its budget, well inside its lease, whatever the backlog: a
            // cursor far behind is caught up by the runs that follow at once.
            if self.started.elapsed() >= self.app.config.feed_run_budget {
                self.more = true;
                break;
            }
            let orders: Vec<PlatformOrder> = self.read(&w, Kind::Orders).await?.0;
            for o in &orders {
                self.count(self.order(o).await?);
            }
            let refunds: Vec<PlatformRefund> = self.read(&w, Kind::Refunds).await?.1;
            for r in &refunds {
                self.count(self.refund(r).await?);
            }
            // Everything of the window is committed: the cursor moves to its end.
            feed::Entity::update_many()
                .col_expr(feed::Column::Cursor, Expr::value(w.to))
                .filter(feed::Column::Id.eq(self.feed.id))
                .exec(&*self.app.writer().await)
                .await
                .map_err(AppError::from)?;
            self.summary.cursor = w.to;
        }
        // Refunds that came before their orders: the orders may have come in this run.
        self.retry_parked(true).await
    }

    /// What is parked when the run ends.
    async fn still_parked(&self) -> Result<i32, AppError> {
        use hezuo_db::sea_orm::PaginatorTrait;
        let n = feed_parked::Entity::find()
            .filter(feed_parked::Column::FeedId.eq(self.feed.id))
            .count(&self.app.db)
            .await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    fn count(&mut self, o: Outcome) {
        let s = &mut self.summary;
        match o {
            Outcome::Created => s.orders_created += 1,
            Outcome::Replayed => s.orders_replayed += 1,
            Outcome::Cancelled => s.orders_cancelled += 1,
            Outcome::Refunded => s.refunds += 1,
            Outcome::Parked | Outcome::Unchanged => {}
        }
    }

    /// Every parked item of the feed (or its refunds only), oldest first, booked or parked again.
    async fn retry_parked(&mut self, refunds_only: bool) -> Result<(), Stop> {
        let mut query = feed_parked::Entity::find().filter(feed_parked::Column::FeedId.eq(self.feed.id));
        if refunds_only {
            query = query.filter(feed_parked::Column::Kind.eq("refund"));
        }
        let parked = query.order_by_asc(feed_parked::Column::Id).all(&self.app.db).await.map_err(AppError::from)?;
        for p in parked {
            let outcome = if p.kind == "order" {
                match serde_json::from_str::<PlatformOrder>(&p.item) {
                    Ok(o) => self.order(&o).await?,
                    Err(e) => return Err(Stop(format!("parked order {} is unreadable: {e}", p.external_id))),
                }
            } else {
                match serde_json::from_str::<PlatformRefund>(&p.item) {
                    Ok(r) => self.refund(&r).await?,
                    Err(e) => return Err(Stop(format!("parked refund {} is unreadable: {e}", p.external_id))),
                }
            };
            self.count(outcome);
        }
        Ok(())
    }

    /// Everything of one kind in a window: the first page tells the total; then every page,
    /// last to first (the first page again last, so a row that moved to it meanwhile is seen).
    async fn read(&self, w: &Window, kind: Kind) -> Result<(Vec<PlatformOrder>, Vec<PlatformRefund>), Stop> {
        let first = self.platform.first_page();
        let (mut orders, mut refunds) = (Vec::new(), Vec::new());
        let (o, r, total) = self.call(w, kind, first).await?;
        let pages: Vec<u32> = self.platform.pages(total).collect();
        if pages.len() <= 1 {
            return Ok((o, r));
        }
        for page in pages {
            let (o, r, _) = self.call(w, kind, page).await?;
            orders.extend(o);
            refunds.extend(r);
        }
        Ok((orders, refunds))
    }

    /// One page, waiting out throttling answers within the run's budget.
    async fn call(
        &self,
        w: &Window,
        kind: Kind,
        page: u32,
    ) -> Result<(Vec<PlatformOrder>, Vec<PlatformRefund>, u64), Stop> {
        let mut attempt = 0u32;
        loop {
            let signed_at = Utc::now();
            let req = match kind {
                Kind::Orders => self.platform.orders_request(&self.credentials, w, page, signed_at),
                Kind::Refunds => self.platform.refunds_request(&self.credentials, w, page, signed_at),
            };
            let body = self.client.send(&self.feed.base_url, &req).await.map_err(|e| Stop(e.0))?;
            let parsed = match kind {
                Kind::Orders => self.platform.parse_orders(&body).map(|p| (p.items, Vec::new(), p.total)),
                Kind::Refunds => self.platform.parse_refunds(&body).map(|p| (Vec::new(), p.items, p.total)),
            };
            match parsed {
                Ok(p) => return Ok(p),
                Err(PlatformError::Throttled { wait }) => {
                    let jitter = rand::random_range(-1000..=1000);
                    let wait = hezuo_platforms::throttle_wait(wait, attempt, jitter);
                    let budget = self.app.config.feed_run_budget;
                    if self.started.elapsed().checked_add(wait).is_none_or(|end| end > budget) {
                        return Err(Stop("throttled by the platform past the run's 10 minutes".into()));
                    }
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(Stop(e.scrubbed(&self.credentials).to_string())),
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Orders,
    Refunds,
}

/// Runs every enabled feed when it is due, until `shutdown` resolves. Runs of different feeds
/// go side by side; the lease keeps one run per feed across replicas.
pub async fn run_scheduler(app: App, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(SCHEDULER_TICK) => {}
        }
        let t = now();
        let due = feed::Entity::find()
            .filter(feed::Column::Enabled.eq(true))
            .filter(feed::Column::NextRunAt.lte(t))
            .filter(Condition::any().add(feed::Column::LeaseUntil.is_null()).add(feed::Column::LeaseUntil.lt(t)))
            .all(&app.db)
            .await;
        match due {
            Ok(feeds) => {
                for f in feeds {
                    let app = app.clone();
                    tokio::spawn(async move {
                        match run(&app, f.id).await {
                            Ok(_) | Err(AppError::Conflict { .. }) => {}
                            Err(e) => tracing::error!(feed = f.id, error = %e, "scheduled feed run failed"),
                        }
                    });
                }
            }
            Err(e) => tracing::error!(error = %e, "looking for due feeds failed"),
        }
    }
}
