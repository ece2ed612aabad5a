//! Set-up endpoints (API.md "Set-up"): create, get, list and update of each organisation
//! object. Handlers only extract, call the use case and map the result.

use super::ListParams;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, Caller, Id, Ids};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hezuo_app::Page;
use hezuo_app::setup::*;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

type Created<T> = Result<(StatusCode, Json<T>), ApiError>;
type Found<T> = Result<Json<T>, ApiError>;

/// `?village_id=` filter of the household list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VillageFilter {
    pub village_id: Option<i64>,
}

/// `?alliance_id=` filter of the station list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllianceFilter {
    pub alliance_id: Option<i64>,
}

/// Creates a village with its division code.
#[utoipa::path(post, path = "/api/v1/villages", tag = "set-up", request_body = CreateVillage, security(("bearer" = [])),
    responses((status = 201, body = Village)))]
async fn create_village(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiJson(req): ApiJson<CreateVillage>,
) -> Created<Village> {
    Ok((StatusCode::CREATED, Json(s.app.create_village(&p, req).await?)))
}

/// Shows a village and its income target.
#[utoipa::path(get, path = "/api/v1/villages/{id}", tag = "set-up", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Village)))]
async fn get_village(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<Village> {
    Ok(Json(s.app.get_village(&p, id).await?))
}

/// Changes a village's name or income target.
#[utoipa::path(patch, path = "/api/v1/villages/{id}", tag = "set-up", params(("id" = i64, Path)), request_body = UpdateVillage,
    security(("bearer" = [])), responses((status = 200, body = Village)))]
async fn update_village(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<UpdateVillage>,
) -> Found<Village> {
    Ok(Json(s.app.update_village(&p, id, req).await?))
}

/// Lists the villages in scope.
#[utoipa::path(get, path = "/api/v1/villages", tag = "set-up", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = Page<Village>)))]
async fn list_villages(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<Village>> {
    Ok(Json(s.app.list_villages(&p, q.page()?).await?))
}

/// Registers a farmer household of a village.
#[utoipa::path(post, path = "/api/v1/households", tag = "set-up", request_body = CreateHousehold, security(("bearer" = [])),
    responses((status = 201, body = Household)))]
async fn create_household(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiJson(req): ApiJson<CreateHousehold>,
) -> Created<Household> {
    Ok((StatusCode::CREATED, Json(s.app.create_household(&p, req).await?)))
}

/// Shows a household.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "set-up", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Household)))]
async fn get_household(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<Household> {
    Ok(Json(s.app.get_household(&p, id).await?))
}

/// Changes a household's name or size.
#[utoipa::path(patch, path = "/api/v1/households/{id}", tag = "set-up", params(("id" = i64, Path)), request_body = UpdateHousehold,
    security(("bearer" = [])), responses((status = 200, body = Household)))]
async fn update_household(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<UpdateHousehold>,
) -> Found<Household> {
    Ok(Json(s.app.update_household(&p, id, req).await?))
}

/// Lists the households in scope, optionally of one village.
#[utoipa::path(get, path = "/api/v1/households", tag = "set-up", params(ListParams, VillageFilter), security(("bearer" = [])),
    responses((status = 200, body = Page<Household>)))]
async fn list_households(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(q): ApiQuery<ListParams>,
    ApiQuery(filter): ApiQuery<VillageFilter>,
) -> Found<Page<Household>> {
    Ok(Json(s.app.list_households(&p, filter.village_id, q.page()?).await?))
}

/// Creates a cooperative.
#[utoipa::path(post, path = "/api/v1/cooperatives", tag = "set-up", request_body = CreateCooperative, security(("bearer" = [])),
    responses((status = 201, body = Cooperative)))]
async fn create_cooperative(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiJson(req): ApiJson<CreateCooperative>,
) -> Created<Cooperative> {
    Ok((StatusCode::CREATED, Json(s.app.create_cooperative(&p, req).await?)))
}

/// Shows a cooperative.
#[utoipa::path(get, path = "/api/v1/cooperatives/{id}", tag = "set-up", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Cooperative)))]
async fn get_cooperative(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<Cooperative> {
    Ok(Json(s.app.get_cooperative(&p, id).await?))
}

/// Renames a cooperative.
#[utoipa::path(patch, path = "/api/v1/cooperatives/{id}", tag = "set-up", params(("id" = i64, Path)), request_body = UpdateCooperative,
    security(("bearer" = [])), responses((status = 200, body = Cooperative)))]
async fn update_cooperative(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<UpdateCooperative>,
) -> Found<Cooperative> {
    Ok(Json(s.app.update_cooperative(&p, id, req).await?))
}

/// Lists the cooperatives in scope.
#[utoipa::path(get, path = "/api/v1/cooperatives", tag = "set-up", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = Page<Cooperative>)))]
async fn list_cooperatives(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<Cooperative>> {
    Ok(Json(s.app.list_cooperatives(&p, q.page()?).await?))
}

/// Creates an alliance of stations.
#[utoipa::path(post, path = "/api/v1/alliances", tag = "set-up", request_body = CreateAlliance, security(("bearer" = [])),
    responses((status = 201, body = Alliance)))]
async fn create_alliance(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiJson(req): ApiJson<CreateAlliance>,
) -> Created<Alliance> {
    Ok((StatusCode::CREATED, Json(s.app.create_alliance(&p, req).await?)))
}

/// Shows an alliance.
#[utoipa::path(get, path = "/api/v1/alliances/{id}", tag = "set-up", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Alliance)))]
async fn get_alliance(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<Alliance> {
    Ok(Json(s.app.get_alliance(&p, id).await?))
}

/// Renames an alliance.
#[utoipa::path(patch, path = "/api/v1/alliances/{id}", tag = "set-up", params(("id" = i64, Path)), request_body = UpdateAlliance,
    security(("bearer" = [])), responses((status = 200, body = Alliance)))]
async fn update_alliance(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<UpdateAlliance>,
) -> Found<Alliance> {
    Ok(Json(s.app.update_alliance(&p, id, req).await?))
}

/// Lists the alliances in scope.
#[utoipa::path(get, path = "/api/v1/alliances", tag = "set-up", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = Page<Alliance>)))]
async fn list_alliances(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<Alliance>> {
    Ok(Json(s.app.list_alliances(&p, q.page()?).await?))
}

/// Opens a service station in a village.
#[utoipa::path(post, path = "/api/v1/stations", tag = "set-up", request_body = CreateStation, security(("bearer" = [])),
    responses((status = 201, body = Station)))]
async fn create_station(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiJson(req): ApiJson<CreateStation>,
) -> Created<Station> {
    Ok((StatusCode::CREATED, Json(s.app.create_station(&p, req).await?)))
}

/// Shows a station.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "set-up", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Station)))]
async fn get_station(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<Station> {
    Ok(Json(s.app.get_station(&p, id).await?))
}

/// Renames a station.
#[utoipa::path(patch, path = "/api/v1/stations/{id}", tag = "set-up", params(("id" = i64, Path)), request_body = UpdateStation,
    security(("bearer" = [])), responses((status = 200, body = Station)))]
async fn update_station(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<UpdateStation>,
) -> Found<Station> {
    Ok(Json(s.app.update_station(&p, id, req).await?))
}

/// Lists the stations in scope, optionally of one alliance.
#[utoipa::path(get, path = "/api/v1/stations", tag = "set-up", params(ListParams, AllianceFilter), security(("bearer" = [])),
    responses((status = 200, body = Page<Station>)))]
async fn list_stations(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(q): ApiQuery<ListParams>,
    ApiQuery(filter): ApiQuery<AllianceFilter>,
) -> Found<Page<Station>> {
    Ok(Json(s.app.list_stations(&p, filter.alliance_id, q.page()?).await?))
}

/// Adds a sales channel to an alliance.
#[utoipa::path(post, path = "/api/v1/channels", tag = "set-up", request_body = CreateChannel, security(("bearer" = [])),
    responses((status = 201, body = Channel)))]
async fn create_channel(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiJson(req): ApiJson<CreateChannel>,
) -> Created<Channel> {
    Ok((StatusCode::CREATED, Json(s.app.create_channel(&p, req).await?)))
}

/// Shows a channel.
#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "set-up", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Channel)))]
async fn get_channel(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<Channel> {
    Ok(Json(s.app.get_channel(&p, id).await?))
}

/// Changes a channel's name or fee rate.
#[utoipa::path(patch, path = "/api/v1/channels/{id}", tag = "set-up", params(("id" = i64, Path)), request_body = UpdateChannel,
    security(("bearer" = [])), responses((status = 200, body = Channel)))]
async fn update_channel(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<UpdateChannel>,
) -> Found<Channel> {
    Ok(Json(s.app.update_channel(&p, id, req).await?))
}

/// Lists the channels in scope.
#[utoipa::path(get, path = "/api/v1/channels", tag = "set-up", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = Page<Channel>)))]
async fn list_channels(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<Channel>> {
    Ok(Json(s.app.list_channels(&p, q.page()?).await?))
}

/// Adds a user who logs in with a password.
#[utoipa::path(post, path = "/api/v1/users", tag = "set-up", request_body = CreateUser, security(("bearer" = [])),
    responses((status = 201, body = User)))]
async fn create_user(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiJson(req): ApiJson<CreateUser>,
) -> Created<User> {
    Ok((StatusCode::CREATED, Json(s.app.create_user(&p, req).await?)))
}

/// Shows a user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "set-up", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = User)))]
async fn get_user(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<User> {
    Ok(Json(s.app.get_user(&p, id).await?))
}

/// Changes a password or disables a user, revoking their tokens.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "set-up", params(("id" = i64, Path)), request_body = UpdateUser,
    security(("bearer" = [])), responses((status = 200, body = User)))]
async fn update_user(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<UpdateUser>,
) -> Found<User> {
    Ok(Json(s.app.update_user(&p, id, req).await?))
}

/// Lists the users.
#[utoipa::path(get, path = "/api/v1/users", tag = "set-up", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = Page<User>)))]
async fn list_users(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<User>> {
    Ok(Json(s.app.list_users(&p, q.page()?).await?))
}

/// Adds a household or a village collective as a member with its capital.
#[utoipa::path(post, path = "/api/v1/cooperatives/{id}/members", tag = "set-up", params(("id" = i64, Path)),
    request_body = CreateMember, security(("bearer" = [])), responses((status = 201, body = Member)))]
async fn add_member(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<CreateMember>,
) -> Created<Member> {
    Ok((StatusCode::CREATED, Json(s.app.add_member(&p, id, req).await?)))
}

/// Lists a cooperative's members.
#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/members", tag = "set-up", params(("id" = i64, Path), ListParams),
    security(("bearer" = [])), responses((status = 200, body = Page<Member>)))]
async fn list_members(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<Member>> {
    Ok(Json(s.app.list_members(&p, id, q.page()?).await?))
}

/// Changes a member's capital.
#[utoipa::path(patch, path = "/api/v1/cooperatives/{id}/members/{member_id}", tag = "set-up",
    params(("id" = i64, Path), ("member_id" = i64, Path)), request_body = UpdateMember, security(("bearer" = [])),
    responses((status = 200, body = Member)))]
async fn update_member(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Ids(id, member): Ids,
    ApiJson(req): ApiJson<UpdateMember>,
) -> Found<Member> {
    Ok(Json(s.app.update_member(&p, id, member, req).await?))
}

/// Adds a rule version. Versions are never edited: a change is a new version from a later date.
#[utoipa::path(post, path = "/api/v1/cooperatives/{id}/rules", tag = "set-up", params(("id" = i64, Path)),
    request_body = CreateRuleVersion, security(("bearer" = [])), responses((status = 201, body = RuleVersion)))]
async fn add_rule_version(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<CreateRuleVersion>,
) -> Created<RuleVersion> {
    Ok((StatusCode::CREATED, Json(s.app.add_rule_version(&p, id, req).await?)))
}

/// Lists a cooperative's rule versions.
#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/rules", tag = "set-up", params(("id" = i64, Path), ListParams),
    security(("bearer" = [])), responses((status = 200, body = Page<RuleVersion>)))]
async fn list_rule_versions(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<RuleVersion>> {
    Ok(Json(s.app.list_rule_versions(&p, id, q.page()?).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_village, list_villages))
        .routes(routes!(get_village, update_village))
        .routes(routes!(create_household, list_households))
        .routes(routes!(get_household, update_household))
        .routes(routes!(create_cooperative, list_cooperatives))
        .routes(routes!(get_cooperative, update_cooperative))
        .routes(routes!(create_alliance, list_alliances))
        .routes(routes!(get_alliance, update_alliance))
        .routes(routes!(create_station, list_stations))
        .routes(routes!(get_station, update_station))
        .routes(routes!(create_channel, list_channels))
        .routes(routes!(get_channel, update_channel))
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, update_user))
        .routes(routes!(add_member, list_members))
        .routes(routes!(update_member))
        .routes(routes!(add_rule_version, list_rule_versions))
}
