use crate::page::{fetch_page, find_scoped};
use crate::{App, AppError, Page, PageRequest, Principal, now, scope, validate};
use chrono::{DateTime, NaiveDate, Utc};
use hezuo_core::{Money, Rate};
use hezuo_db::entities::{cooperative, cooperative_member as member, household, rule_version, village};
use hezuo_db::sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set};
use hezuo_ledger::RuleSet;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCooperative {
    #[schema(value_type = crate::openapi::Name)]
    pub name: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCooperative {
    #[schema(value_type = Option<crate::openapi::Name>)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cooperative {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<cooperative::Model> for Cooperative {
    fn from(m: cooperative::Model) -> Self {
        Cooperative { id: m.id, name: m.name, created_at: m.created_at }
    }
}

/// A member with a capital contribution (出资额): a household or a village collective.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMember {
    pub household_id: Option<i64>,
    pub village_id: Option<i64>,
    #[schema(value_type = crate::openapi::MoneyInput)]
    pub capital: Money,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    #[schema(value_type = crate::openapi::MoneyInput)]
    pub capital: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub id: i64,
    pub cooperative_id: i64,
    pub household_id: Option<i64>,
    pub village_id: Option<i64>,
    pub capital: Money,
    /// Members are ordered by when they joined (docs/domain.md "Amounts" tie-break).
    pub created_at: DateTime<Utc>,
}

impl From<member::Model> for Member {
    fn from(m: member::Model) -> Self {
        Member {
            id: m.id,
            cooperative_id: m.cooperative_id,
            household_id: m.household_id,
            village_id: m.village_id,
            capital: Money::from_cents(m.capital),
            created_at: m.created_at,
        }
    }
}

/// A rule version (docs/domain.md "Distribution rules"): in force from `effective_from` until the next version.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRuleVersion {
    pub effective_from: NaiveDate,
    #[schema(value_type = crate::openapi::RateInput)]
    pub household_share: Rate,
    #[schema(value_type = crate::openapi::RateInput)]
    pub station_fee_rate: Rate,
    #[schema(value_type = crate::openapi::RateInput)]
    pub collective_rate: Rate,
    #[schema(value_type = crate::openapi::RateInput)]
    pub reserve_rate: Rate,
    #[schema(value_type = crate::openapi::RebateRateInput)]
    pub rebate_rate: Rate,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleVersion {
    pub id: i64,
    pub cooperative_id: i64,
    pub effective_from: NaiveDate,
    pub household_share: Rate,
    pub station_fee_rate: Rate,
    pub collective_rate: Rate,
    pub reserve_rate: Rate,
    pub rebate_rate: Rate,
    pub created_at: DateTime<Utc>,
}

/// Rates come from a CHECKed column; a value outside 0..1 there is corruption, not input.
pub(crate) fn stored_rate(v: i64) -> Result<Rate, AppError> {
    Rate::from_millionths(v).map_err(|_| AppError::Internal(format!("stored rate {v} out of range")))
}

/// The rule set of stored rates, in column order: household share, station fee, collective,
/// reserve, rebate.
pub(crate) fn stored_rules(rates: [i64; 5]) -> Result<RuleSet, AppError> {
    let [household_share, station_fee_rate, collective_rate, reserve_rate, rebate_rate] = rates.map(stored_rate);
    Ok(RuleSet {
        household_share: household_share?,
        station_fee_rate: station_fee_rate?,
        collective_rate: collective_rate?,
        reserve_rate: reserve_rate?,
        rebate_rate: rebate_rate?,
    })
}

/// No rule version of the cooperative is in force on `day` (422).
pub(crate) fn no_rules(day: NaiveDate) -> AppError {
    AppError::Invalid {
        code: "no_rules",
        field: None,
        message: format!("the cooperative has no rules in force on {day}"),
    }
}

impl TryFrom<rule_version::Model> for RuleVersion {
    type Error = AppError;
    fn try_from(m: rule_version::Model) -> Result<Self, AppError> {
        Ok(RuleVersion {
            id: m.id,
            cooperative_id: m.cooperative_id,
            effective_from: m.effective_from,
            household_share: stored_rate(m.household_share)?,
            station_fee_rate: stored_rate(m.station_fee_rate)?,
            collective_rate: stored_rate(m.collective_rate)?,
            reserve_rate: stored_rate(m.reserve_rate)?,
            rebate_rate: stored_rate(m.rebate_rate)?,
            created_at: m.created_at,
        })
    }
}

impl RuleVersion {
    pub fn rules(&self) -> RuleSet {
        RuleSet {
            household_share: self.household_share,
            station_fee_rate: self.station_fee_rate,
            collective_rate: self.collective_rate,
            reserve_rate: self.reserve_rate,
            rebate_rate: self.rebate_rate,
        }
    }
}

impl App {
    pub async fn create_cooperative(&self, p: &Principal, req: CreateCooperative) -> Result<Cooperative, AppError> {
        p.require_admin()?;
        let m = cooperative::ActiveModel {
            name: Set(validate::name("name", &req.name)?),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        Ok(m.into())
    }

    pub async fn get_cooperative(&self, p: &Principal, id: i64) -> Result<Cooperative, AppError> {
        Ok(find_scoped::<cooperative::Entity>(&self.db, id, scope::cooperatives(p)?, "cooperative").await?.into())
    }

    pub async fn list_cooperatives(&self, p: &Principal, page: PageRequest) -> Result<Page<Cooperative>, AppError> {
        fetch_page(&self.db, cooperative::Entity::find(), scope::cooperatives(p)?, page, |m| m.id, Cooperative::from)
            .await
    }

    pub async fn update_cooperative(
        &self,
        p: &Principal,
        id: i64,
        req: UpdateCooperative,
    ) -> Result<Cooperative, AppError> {
        p.require_admin()?;
        let m = find_scoped::<cooperative::Entity>(&self.db, id, Condition::all(), "cooperative").await?;
        let mut am = m.into_active_model();
        super::set_if(&mut am.name, req.name.map(|n| validate::name("name", &n)).transpose()?);
        Ok(super::save(am, &*self.writer().await).await?.into())
    }

    pub async fn add_member(&self, p: &Principal, cooperative_id: i64, req: CreateMember) -> Result<Member, AppError> {
        p.require_admin()?;
        find_scoped::<cooperative::Entity>(&self.db, cooperative_id, Condition::all(), "cooperative").await?;
        let capital = validate::non_negative("capital", req.capital)?;
        match (req.household_id, req.village_id) {
            (Some(h), None) => {
                if household::Entity::find_by_id(h).one(&self.db).await?.is_none() {
                    return Err(AppError::unknown_reference("household_id", "household"));
                }
            }
            (None, Some(v)) => {
                if village::Entity::find_by_id(v).one(&self.db).await?.is_none() {
                    return Err(AppError::unknown_reference("village_id", "village"));
                }
            }
            _ => {
                return Err(AppError::invalid("household_id", "give exactly one of household_id and village_id"));
            }
        }
        let m = member::ActiveModel {
            cooperative_id: Set(cooperative_id),
            household_id: Set(req.household_id),
            village_id: Set(req.village_id),
            capital: Set(capital.cents()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        Ok(m.into())
    }

    pub async fn list_members(
        &self,
        p: &Principal,
        cooperative_id: i64,
        page: PageRequest,
    ) -> Result<Page<Member>, AppError> {
        find_scoped::<cooperative::Entity>(&self.db, cooperative_id, scope::cooperatives(p)?, "cooperative").await?;
        let q = member::Entity::find().filter(member::Column::CooperativeId.eq(cooperative_id));
        fetch_page(&self.db, q, Condition::all(), page, |m| m.id, Member::from).await
    }

    pub async fn update_member(
        &self,
        p: &Principal,
        cooperative_id: i64,
        member_id: i64,
        req: UpdateMember,
    ) -> Result<Member, AppError> {
        p.require_admin()?;
        let cond = Condition::all().add(member::Column::CooperativeId.eq(cooperative_id));
        let m = find_scoped::<member::Entity>(&self.db, member_id, cond, "member").await?;
        let mut am = m.into_active_model();
        am.capital = Set(validate::non_negative("capital", req.capital)?.cents());
        Ok(super::save(am, &*self.writer().await).await?.into())
    }

    pub async fn add_rule_version(
        &self,
        p: &Principal,
        cooperative_id: i64,
        req: CreateRuleVersion,
    ) -> Result<RuleVersion, AppError> {
        p.require_admin()?;
        find_scoped::<cooperative::Entity>(&self.db, cooperative_id, Condition::all(), "cooperative").await?;
        let rules = RuleSet {
            household_share: req.household_share,
            station_fee_rate: req.station_fee_rate,
            collective_rate: req.collective_rate,
            reserve_rate: req.reserve_rate,
            rebate_rate: req.rebate_rate,
        };
        rules.validate().map_err(|e| AppError::invalid(e.field, e.message))?;
        let m = rule_version::ActiveModel {
            cooperative_id: Set(cooperative_id),
            effective_from: Set(req.effective_from),
            household_share: Set(rules.household_share.millionths()),
            station_fee_rate: Set(rules.station_fee_rate.millionths()),
            collective_rate: Set(rules.collective_rate.millionths()),
            reserve_rate: Set(rules.reserve_rate.millionths()),
            rebate_rate: Set(rules.rebate_rate.millionths()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        m.try_into()
    }

    pub async fn list_rule_versions(
        &self,
        p: &Principal,
        cooperative_id: i64,
        page: PageRequest,
    ) -> Result<Page<RuleVersion>, AppError> {
        find_scoped::<cooperative::Entity>(&self.db, cooperative_id, scope::cooperatives(p)?, "cooperative").await?;
        let q = rule_version::Entity::find().filter(rule_version::Column::CooperativeId.eq(cooperative_id));
        let page = fetch_page(&self.db, q, Condition::all(), page, |m| m.id, RuleVersion::try_from).await?;
        Ok(Page { items: page.items.into_iter().collect::<Result<_, _>>()?, next_cursor: page.next_cursor })
    }
}
