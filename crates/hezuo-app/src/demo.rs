//! `serve --demo`: a believable organisation to explore, seeded once into an empty database.
//! Villages of 阳山镇 (无锡市惠山区), home of 阳山水蜜桃, with their households, one cooperative,
//! an alliance with two stations and four sales channels.

use crate::setup::*;
use crate::{App, AppError, Principal, Role};
use chrono::NaiveDate;
use hezuo_core::{Money, Rate};
use hezuo_db::entities::alliance;
use hezuo_db::sea_orm::{EntityTrait, PaginatorTrait};

/// The demo users' password (printed at start; demo databases only).
pub const DEMO_PASSWORD: &str = "hezuo-demo-2026";

/// What the demo seeding did.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    /// False when the database already had data and nothing was added.
    pub seeded: bool,
    pub users: Vec<(String, Role)>,
}

const VILLAGES: [(&str, &str); 3] = [
    ("桃源村", "320206103201"),
    ("安阳山村", "320206103202"),
    ("火炬村", "320206103203"),
];

const HOUSEHOLDS: [(&str, usize, i32); 12] = [
    ("王建国", 0, 4),
    ("李秀英", 0, 3),
    ("张德明", 0, 5),
    ("陈桂兰", 0, 2),
    ("刘永福", 1, 4),
    ("杨春花", 1, 3),
    ("赵长根", 1, 6),
    ("黄美玲", 1, 2),
    ("周志强", 2, 4),
    ("吴金娣", 2, 3),
    ("徐海林", 2, 5),
    ("孙小红", 2, 1),
];

fn m(s: &str) -> Result<Money, AppError> {
    Money::parse(s).map_err(|e| AppError::Internal(format!("demo amount {s}: {e}")))
}

fn r(s: &str) -> Result<Rate, AppError> {
    Rate::parse(s).map_err(|e| AppError::Internal(format!("demo rate {s}: {e}")))
}

/// Seeds the demo unless the database already holds an alliance.
pub async fn seed(app: &App) -> Result<DemoSeed, AppError> {
    if alliance::Entity::find().count(&app.db).await? > 0 {
        return Ok(DemoSeed {
            seeded: false,
            users: Vec::new(),
        });
    }
    let admin = Principal::Admin;
    let mut villages = Vec::new();
    for (name, code) in VILLAGES {
        let v = app
            .create_village(
                &admin,
                CreateVillage {
                    name: name.into(),
                    code: code.into(),
                    income_target: None,
                },
            )
            .await?;
        villages.push(v);
    }
    let mut households = Vec::new();
    for (name, v, members) in HOUSEHOLDS {
        let h = app
            .create_household(
                &admin,
                CreateHousehold {
                    village_id: villages[v].id,
                    name: name.into(),
                    members,
                },
            )
            .await?;
        households.push(h);
    }
    let coop = app
        .create_cooperative(
            &admin,
            CreateCooperative {
                name: "阳山水蜜桃专业合作社".into(),
            },
        )
        .await?;
    for (v, capital) in villages.iter().zip(["60000", "40000", "30000"]) {
        app.add_member(
            &admin,
            coop.id,
            CreateMember {
                household_id: None,
                village_id: Some(v.id),
                capital: m(capital)?,
            },
        )
        .await?;
    }
    for (i, h) in households.iter().enumerate() {
        let capital = if i % 3 == 0 { "20000" } else { "5000" };
        app.add_member(
            &admin,
            coop.id,
            CreateMember {
                household_id: Some(h.id),
                village_id: None,
                capital: m(capital)?,
            },
        )
        .await?;
    }
    let start = NaiveDate::from_ymd_opt(2025, 1, 1)
        .ok_or_else(|| AppError::Internal("demo date".into()))?;
    app.add_rule_version(
        &admin,
        coop.id,
        CreateRuleVersion {
            effective_from: start,
            household_share: r("0.70")?,
            station_fee_rate: r("0.05")?,
            collective_rate: r("0.05")?,
            reserve_rate: r("0.10")?,
            rebate_rate: r("0.60")?,
        },
    )
    .await?;
    let alliance = app
        .create_alliance(
            &admin,
            CreateAlliance {
                name: "惠山区农村电商联盟".into(),
            },
        )
        .await?;
    let mut stations = Vec::new();
    for (name, v) in [("阳山镇桃源村电商服务站", 0), ("阳山镇火炬村电商服务站", 2)]
    {
        let s = app
            .create_station(
                &admin,
                CreateStation {
                    name: name.into(),
                    village_id: villages[v].id,
                    cooperative_id: coop.id,
                    alliance_id: alliance.id,
                },
            )
            .await?;
        stations.push(s);
    }
    for (code, name, fee) in [
        ("own", "服务站自营店", "0"),
        ("taobao", "淘宝店", "0.05"),
        ("pdd", "拼多多店", "0.03"),
        ("douyin", "抖音小店", "0.05"),
    ] {
        app.create_channel(
            &admin,
            CreateChannel {
                code: code.into(),
                name: name.into(),
                fee_rate: r(fee)?,
                alliance_id: alliance.id,
            },
        )
        .await?;
    }
    let users = [
        ("admin", Role::Admin, None, None, None),
        ("alliance", Role::Alliance, Some(alliance.id), None, None),
        (
            "staff-taoyuan",
            Role::Staff,
            None,
            Some(stations[0].id),
            None,
        ),
        ("staff-huoju", Role::Staff, None, Some(stations[1].id), None),
        (
            "village-taoyuan",
            Role::Village,
            None,
            None,
            Some(villages[0].id),
        ),
    ];
    let mut made = Vec::new();
    for (username, role, alliance_id, station_id, village_id) in users {
        app.create_user(
            &admin,
            CreateUser {
                username: username.into(),
                password: DEMO_PASSWORD.into(),
                role,
                alliance_id,
                station_id,
                village_id,
            },
        )
        .await?;
        made.push((username.to_owned(), role));
    }
    Ok(DemoSeed {
        seeded: true,
        users: made,
    })
}
