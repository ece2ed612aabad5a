//! The business metrics the use cases count (API.md "Operations"), kept as Prometheus
//! families that the server registers beside its HTTP metrics and renders on `/metrics`.
//! Labels are bounded sets (platforms, outcomes), never ids or client text.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedRun {
    platform: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedItems {
    platform: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Platform {
    platform: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Delivery {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefundKind {
    kind: String,
}

/// Counters and histograms of the use cases. Cheap to share (`Arc` in the `App`).
pub struct Metrics {
    feed_runs: Family<FeedRun, Counter>,
    feed_items: Family<FeedItems, Counter>,
    feed_parked: Family<Platform, Gauge>,
    deliveries: Family<Delivery, Counter>,
    delivery_seconds: Family<Delivery, Histogram>,
    orders_placed: Counter,
    orders_refused: Family<Reason, Counter>,
    refunds: Family<RefundKind, Counter>,
    closes: Counter,
    statements: Counter,
    writer_queue: Gauge,
    writer_batch: Histogram,
    imbalance: Gauge,
    /// When the imbalance was last computed.
    imbalance_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            feed_runs: Family::default(),
            feed_items: Family::default(),
            feed_parked: Family::default(),
            deliveries: Family::default(),
            // 5 ms to ~20 s: a receiver's answer, up to the 15 s limit.
            delivery_seconds: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.005, 2.0, 13))),
            orders_placed: Counter::default(),
            orders_refused: Family::default(),
            refunds: Family::default(),
            closes: Counter::default(),
            statements: Counter::default(),
            writer_queue: Gauge::default(),
            // 1 to 256 orders (the writer's largest batch).
            writer_batch: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            imbalance: Gauge::default(),
            imbalance_at: std::sync::Mutex::default(),
        }
    }
}

impl Metrics {
    /// Registers every family (clones share their values) in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "orders_placed",
            "Orders booked (a replayed request is not counted again)",
            self.orders_placed.clone(),
        );
        registry.register(
            "orders_refused",
            "Orders refused, by reason (the error code: insufficient_stock, product_not_listed, period_closed, …)",
            self.orders_refused.clone(),
        );
        registry.register("refunds", "Refunds booked, by kind (refund, cancel, platform)", self.refunds.clone());
        registry.register(
            "ledger_imbalance_cents",
            "Sum of every per-day account sum, in cents: 0 while the books balance (recomputed at most every 30 s)",
            self.imbalance.clone(),
        );
        registry.register("period_closes", "Periods closed", self.closes.clone());
        registry.register("statements_imported", "Platform statements imported", self.statements.clone());
        registry.register(
            "order_writer_queue_depth",
            "Orders waiting for the SQLite order writer after its last batch began",
            self.writer_queue.clone(),
        );
        registry.register(
            "order_writer_batch_size",
            "Orders the SQLite order writer booked per transaction",
            self.writer_batch.clone(),
        );
        registry.register(
            "feed_runs",
            "Platform feed runs by platform and outcome (ok, error)",
            self.feed_runs.clone(),
        );
        registry.register(
            "feed_items",
            "Platform orders and refunds taken by feeds, by platform and result (booked, replayed, cancelled, refunded)",
            self.feed_items.clone(),
        );
        registry.register(
            "feed_parked",
            "Platform orders and refunds parked now (waiting for a sku, stock or their order), by platform",
            self.feed_parked.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome (delivered, failed, dead, gone)",
            self.deliveries.clone(),
        );
        registry.register(
            "webhook_delivery_duration_seconds",
            "How long webhook delivery attempts took, by outcome",
            self.delivery_seconds.clone(),
        );
    }

    /// A `POST /orders` ended: booked, replayed (not counted), or refused with the error's code.
    pub(crate) fn order_placed(&self, result: &Result<crate::orders::Placed, crate::AppError>) {
        match result {
            Ok(p) if p.created => self.orders_placed.inc(),
            Ok(_) => 0,
            Err(e) => self.orders_refused.get_or_create(&Reason { reason: e.code().into() }).inc(),
        };
    }

    /// A refund was booked: `refund`, `cancel` or `platform` (a feed's).
    pub(crate) fn refund(&self, kind: &str) {
        self.refunds.get_or_create(&RefundKind { kind: kind.into() }).inc();
    }

    pub(crate) fn period_closed(&self) {
        self.closes.inc();
    }

    pub(crate) fn statement_imported(&self) {
        self.statements.inc();
    }

    /// The order writer took a batch of `size`, leaving `waiting` in its queue.
    pub(crate) fn writer_batch(&self, size: usize, waiting: usize) {
        self.writer_batch.observe(size as f64);
        self.writer_queue.set(i64::try_from(waiting).unwrap_or(i64::MAX));
    }

    /// A feed run ended: `ok` or `error`, and what it took.
    pub(crate) fn feed_run(&self, platform: &str, ok: bool, taken: [(&str, i32); 4]) {
        let outcome = if ok { "ok" } else { "error" };
        self.feed_runs.get_or_create(&FeedRun { platform: platform.into(), outcome: outcome.into() }).inc();
        for (result, n) in taken {
            let n = u64::try_from(n).unwrap_or(0);
            if n > 0 {
                self.feed_items
                    .get_or_create(&FeedItems { platform: platform.into(), result: result.into() })
                    .inc_by(n);
            }
        }
    }

    /// How many items of `platform`'s feeds are parked now.
    pub(crate) fn feed_parked(&self, platform: &str, parked: i64) {
        self.feed_parked.get_or_create(&Platform { platform: platform.into() }).set(parked);
    }

    /// A webhook attempt ended with `outcome` after `took`.
    pub(crate) fn webhook_delivery(&self, outcome: &str, took: Duration) {
        let labels = Delivery { outcome: outcome.into() };
        self.deliveries.get_or_create(&labels).inc();
        self.delivery_seconds.get_or_create(&labels).observe(took.as_secs_f64());
    }
}

/// How often a scrape recomputes the ledger's imbalance (a sum over every per-day sum).
const IMBALANCE_EVERY: Duration = Duration::from_secs(30);

impl crate::App {
    /// Brings the gauges that are read from the database up to date before `/metrics` renders:
    /// the ledger's imbalance, at most every [`IMBALANCE_EVERY`] (on the replica when there is
    /// one). A failed read leaves the last value and is logged.
    pub async fn refresh_metrics(&self) {
        use hezuo_db::sea_orm::ConnectionTrait;
        {
            let mut at = self.metrics.imbalance_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if at.is_some_and(|t| t.elapsed() < IMBALANCE_EVERY) {
                return;
            }
            *at = Some(std::time::Instant::now());
        }
        let db = self.reader();
        let sql = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM account_days";
        let stmt = hezuo_db::sea_orm::Statement::from_string(db.get_database_backend(), sql);
        match db.query_one_raw(stmt).await.map(|r| r.map(|r| r.try_get_by_index::<i64>(0))) {
            Ok(Some(Ok(sum))) => {
                self.metrics.imbalance.set(sum);
            }
            Ok(_) => tracing::warn!("ledger imbalance: no row"),
            Err(e) => tracing::warn!(error = %e, "ledger imbalance not read"),
        }
    }
}
