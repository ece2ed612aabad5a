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

/// Counters and histograms of the use cases. Cheap to share (`Arc` in the `App`).
pub struct Metrics {
    feed_runs: Family<FeedRun, Counter>,
    feed_items: Family<FeedItems, Counter>,
    feed_parked: Family<Platform, Gauge>,
    deliveries: Family<Delivery, Counter>,
    delivery_seconds: Family<Delivery, Histogram>,
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
        }
    }
}

impl Metrics {
    /// Registers every family (clones share their values) in `registry`.
    pub fn register(&self, registry: &mut Registry) {
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
