//! The web console of hezuo, in Simplified Chinese: server-rendered pages (askama templates
//! compiled into the binary) over the same `App` use cases as the JSON API, with sessions,
//! CSRF-protected forms and every asset served by the binary itself.

mod assets;
mod i18n;
mod pages;
mod qr;
mod session;

pub use assets::ECHARTS_VERSION;
pub use session::{LOGIN_COOKIE, SESSION_COOKIE};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use hezuo_app::App;

/// The console's state: the use cases, and whether cookies must be `Secure`.
#[derive(Clone)]
pub struct Console {
    pub app: App,
    pub secure: bool,
}

/// Headers of every console response: no framing, no sniffing, scripts and requests only
/// to this host, pages never cached (they show money and people).
async fn headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    res
}

/// The console's routes, to be merged beside the API.
pub fn router(app: App) -> Router {
    use axum::routing::post;
    use pages::{alliance, auth, counter, imports, integrations, labels, orders, periods, setup, staff, village};
    let secure = app.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let console = Console { app, secure };
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(auth::form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/assets/{name}", get(assets::serve))
        .route("/stations/{id}/products", get(staff::products))
        .route("/stations/{id}/products/new", get(staff::new_product).post(staff::create_product))
        .route("/products/{id}", get(staff::product).post(staff::update_product))
        .route("/products/{id}/lots/new", get(staff::receive_form).post(staff::receive))
        .route("/stations/{id}/counter", get(counter::counter).post(counter::submit))
        .route("/counter/sales", post(counter::sale))
        .route("/orders/{id}/receipt", get(counter::receipt))
        .route("/lots/{id}/label", get(labels::label))
        .route("/t/{code}", get(labels::trace))
        .route("/setup", get(setup::home))
        .route("/setup/villages", get(setup::villages))
        .route("/setup/villages/new", get(setup::new_village).post(setup::create_village))
        .route("/setup/villages/{id}", get(setup::village).post(setup::update_village))
        .route("/setup/households", get(setup::households))
        .route("/setup/households/new", get(setup::new_household).post(setup::create_household))
        .route("/setup/households/{id}", get(setup::household).post(setup::update_household))
        .route("/setup/cooperatives", get(setup::cooperatives))
        .route("/setup/cooperatives/new", get(setup::new_cooperative).post(setup::create_cooperative))
        .route("/setup/cooperatives/{id}", get(setup::cooperative).post(setup::update_cooperative))
        .route("/setup/cooperatives/{id}/{form}", post(setup::cooperative_form))
        .route("/setup/stations", get(setup::stations))
        .route("/setup/stations/new", get(setup::new_station).post(setup::create_station))
        .route("/setup/stations/{id}", get(setup::station).post(setup::update_station))
        .route("/setup/channels", get(setup::channels))
        .route("/setup/channels/new", get(setup::new_channel).post(setup::create_channel))
        .route("/setup/channels/{id}", get(setup::channel).post(setup::update_channel))
        .route("/setup/users", get(setup::users))
        .route("/setup/users/new", get(setup::new_user).post(setup::create_user))
        .route("/setup/users/{id}", get(setup::user))
        .route("/setup/users/{id}/{action}", post(setup::user_action))
        .route("/channels", get(integrations::channels))
        .route("/channels/{id}/feed", get(integrations::feed_saved).post(integrations::save_feed))
        .route("/channels/{id}/feed/sync", post(integrations::sync))
        .route("/webhooks", get(integrations::webhooks).post(integrations::create_webhook))
        .route("/webhooks/{id}", get(integrations::webhook))
        .route("/webhooks/{id}/{switch}", post(integrations::webhook_switch))
        .route("/webhooks/{id}/deliveries/{delivery}/redeliver", post(integrations::redeliver))
        .route("/stations/{id}/orders", get(orders::orders))
        .route("/orders/{id}", get(orders::order))
        .route("/orders/{id}/ship", post(orders::ship))
        .route("/orders/{id}/refund", post(orders::refund))
        .route("/stations/{id}/import", get(imports::form))
        .route("/cooperatives", get(periods::cooperatives))
        .route("/cooperatives/{id}/periods", get(periods::periods))
        .route("/cooperatives/{id}/periods/{period}/close", post(periods::close))
        .route("/stations", get(alliance::stations))
        .route("/statements", get(alliance::statements))
        .route("/statements/{id}", get(alliance::statement))
        .route("/statements/{id}/{file}", get(alliance::download))
        .route("/items/{id}/resolve", post(alliance::resolve))
        .route("/villages", get(alliance::ranking))
        .route("/villages/{id}/revenue", get(village::revenue))
        .route("/villages/{id}/income", post(village::record_income))
        .route("/villages/{id}/income/{entry}/reverse", post(village::reverse_income))
        .route("/villages/{id}/print", get(village::print))
        .route("/villages/{id}/households", get(village::households))
        .route("/households/{id}/statement", get(village::statement))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        // Uploads take what the API's uploads take.
        .merge(
            Router::new()
                .route("/statements", post(alliance::upload))
                .layer(DefaultBodyLimit::max(hezuo_app::STATEMENT_BODY_LIMIT)),
        )
        .merge(
            Router::new()
                .route("/stations/{id}/import/{kind}", post(imports::upload))
                .layer(DefaultBodyLimit::max(hezuo_app::IMPORT_BODY_LIMIT)),
        )
        .with_state(console)
        .layer(axum::middleware::map_response(headers))
}

/// The Chinese 404 page, for paths that are neither the API's nor the console's.
pub async fn not_found() -> Response {
    pages::unknown_page().await
}
