//! Prometheus metrics: request counts and latency histograms by route (the matched path, so
//! ids do not explode the label set).

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// OpenTelemetry's HTTP server attributes, in Prometheus spelling.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OtelLabels {
    http_request_method: String,
    http_route: String,
    http_response_status_code: u16,
}

/// OpenTelemetry's advised buckets for `http.server.request.duration`, in seconds.
const OTEL_BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Family<OtelLabels, Histogram>,
}

impl Metrics {
    /// The HTTP metrics, and the use cases' `business` metrics beside them.
    pub fn new(business: &hezuo_app::metrics::Metrics) -> Arc<Metrics> {
        let mut registry = Registry::default();
        // The semantic-convention name, unprefixed, so dashboards made for it work as they are.
        let duration = Family::<OtelLabels, Histogram>::new_with_constructor(|| Histogram::new(OTEL_BUCKETS));
        registry.register(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests (OpenTelemetry http.server.request.duration), by method, route template and status",
            duration.clone(),
        );
        let ours = registry.sub_registry_with_prefix("hezuo");
        business.register(ours);
        let requests = Family::<RequestLabels, Counter>::default();
        ours.register("http_requests", "HTTP requests by method, route and status", requests.clone());
        Arc::new(Metrics { registry, requests, duration })
    }

    /// The Prometheus text format (0.0.4), as `promtool check metrics` reads it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        prometheus_text(&out)
    }
}

/// prometheus-client writes OpenMetrics, where a counter family `x` has samples `x_total`; the
/// Prometheus text format names the family as its samples, `x_total`, and has no `# EOF`.
fn prometheus_text(open_metrics: &str) -> String {
    let mut out = String::with_capacity(open_metrics.len() + 256);
    let mut help: Option<&str> = None;
    for line in open_metrics.lines() {
        if line == "# EOF" {
            continue;
        }
        if line.starts_with("# HELP ") {
            if let Some(h) = help.replace(line) {
                out.push_str(h);
                out.push('\n');
            }
            continue;
        }
        if let Some(name) = line.strip_prefix("# TYPE ").and_then(|t| t.strip_suffix(" counter")) {
            if let Some(h) = help.take() {
                let text = h.strip_prefix("# HELP ").and_then(|h| h.strip_prefix(name)).unwrap_or("");
                out.push_str(&format!("# HELP {name}_total{text}\n"));
            }
            out.push_str(&format!("# TYPE {name}_total counter\n"));
            continue;
        }
        if let Some(h) = help.take() {
            out.push_str(h);
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    metrics
        .duration
        .get_or_create(&OtelLabels {
            http_request_method: method.clone(),
            http_route: route.clone(),
            http_response_status_code: status,
        })
        .observe(start.elapsed().as_secs_f64());
    metrics.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn counters_are_named_as_their_samples() {
        let om = "# HELP a_requests Requests.\n# TYPE a_requests counter\na_requests_total 3\n# HELP g A gauge.\n# TYPE g gauge\ng 1\n# EOF\n";
        assert_eq!(
            super::prometheus_text(om),
            "# HELP a_requests_total Requests.\n# TYPE a_requests_total counter\na_requests_total 3\n# HELP g A gauge.\n# TYPE g gauge\ng 1\n"
        );
    }
}
