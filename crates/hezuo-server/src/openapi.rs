use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hezuo",
        description = "Rural e-commerce service stations: catalog, orders, attribution to farmer households and village collectives, period close and reconciliation. Money and quantities travel as strings.",
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::ErrorBody)),
    tags(
        (name = "auth", description = "Log in for a bearer token"),
        (name = "set-up", description = "Villages, households, cooperatives, alliances, stations, channels, users"),
        (name = "orders", description = "Order intake with FIFO lot draw and attribution, refunds, cancellation, shipping"),
        (name = "ledger", description = "Accounts, balances and transactions of the double-entry ledger"),
        (name = "catalog", description = "Products, household lots, stock adjustments, traceability, CSV import and export"),
        (name = "periods", description = "Period close (二次返利): preview, close, closed periods"),
        (name = "reconciliation", description = "Platform statements (对账): import, matching, items, resolution"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
