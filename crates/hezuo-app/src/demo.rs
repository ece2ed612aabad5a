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

const VILLAGES: [(&str, &str); 3] =
    [("桃源村", "320206103201"), ("安阳山村", "320206103202"), ("火炬村", "320206103203")];

/// Yearly income targets: 桃源村 and 火炬村 their own, 安阳山村 the configured default.
const TARGETS: [Option<&str>; 3] = [Some("50000.00"), None, Some("30000.00")];

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
        return Ok(DemoSeed { seeded: false, users: Vec::new() });
    }
    let admin = Principal::Admin;
    let mut villages = Vec::new();
    for ((name, code), target) in VILLAGES.into_iter().zip(TARGETS) {
        let income_target = target.map(m).transpose()?;
        let v = app
            .create_village(
                &admin,
                CreateVillage {
                    name: name.into(), code: code.into(), income_target, township: Some("阳山镇".into())
                },
            )
            .await?;
        villages.push(v);
    }
    let mut households = Vec::new();
    for (name, v, members) in HOUSEHOLDS {
        let h = app
            .create_household(&admin, CreateHousehold { village_id: villages[v].id, name: name.into(), members })
            .await?;
        households.push(h);
    }
    let coop = app.create_cooperative(&admin, CreateCooperative { name: "阳山水蜜桃专业合作社".into() }).await?;
    for (v, capital) in villages.iter().zip(["60000", "40000", "30000"]) {
        app.add_member(
            &admin,
            coop.id,
            CreateMember { household_id: None, village_id: Some(v.id), capital: m(capital)? },
        )
        .await?;
    }
    for (i, h) in households.iter().enumerate() {
        let capital = if i % 3 == 0 { "20000" } else { "5000" };
        app.add_member(
            &admin,
            coop.id,
            CreateMember { household_id: Some(h.id), village_id: None, capital: m(capital)? },
        )
        .await?;
    }
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).ok_or_else(|| AppError::Internal("demo date".into()))?;
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
    let alliance = app.create_alliance(&admin, CreateAlliance { name: "惠山区农村电商联盟".into() }).await?;
    let mut stations = Vec::new();
    for (name, v, phone) in
        [("阳山镇桃源村电商服务站", 0, "0510-83591201"), ("阳山镇火炬村电商服务站", 2, "0510-83591203")]
    {
        let s = app
            .create_station(
                &admin,
                CreateStation {
                    name: name.into(),
                    village_id: villages[v].id,
                    cooperative_id: coop.id,
                    alliance_id: alliance.id,
                    phone: Some(phone.into()),
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
            CreateChannel { code: code.into(), name: name.into(), fee_rate: r(fee)?, alliance_id: alliance.id },
        )
        .await?;
    }
    let users = [
        ("admin", Role::Admin, None, None, None),
        ("alliance", Role::Alliance, Some(alliance.id), None, None),
        ("staff-taoyuan", Role::Staff, None, Some(stations[0].id), None),
        ("staff-huoju", Role::Staff, None, Some(stations[1].id), None),
        ("village-taoyuan", Role::Village, None, None, Some(villages[0].id)),
    ];
    seed_catalog(app, &stations, &households).await?;
    seed_history(app, &stations, &households).await?;
    seed_orders(app, &stations).await?;
    seed_income(app, &villages).await?;
    close_past_months(app, coop.id).await?;
    seed_statements(app, alliance.id).await?;
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
    Ok(DemoSeed { seeded: true, users: made })
}

/// (name, unit, price, category, low-stock threshold)
const PRODUCTS: [(&str, &str, &str, &str, &str); 30] = [
    ("阳山水蜜桃（精品礼盒）", "box", "168.00", "鲜果", "20"),
    ("阳山水蜜桃", "斤", "15.80", "鲜果", "200"),
    ("白凤桃", "斤", "9.90", "鲜果", "100"),
    ("湖景蜜露", "斤", "12.80", "鲜果", "100"),
    ("黄桃", "斤", "8.80", "鲜果", "50"),
    ("青梅", "斤", "6.50", "鲜果", "30"),
    ("杨梅", "斤", "25.00", "鲜果", "30"),
    ("枇杷", "斤", "18.00", "鲜果", "30"),
    ("葡萄", "斤", "10.00", "鲜果", "50"),
    ("板栗", "斤", "13.50", "干果", "50"),
    ("银杏果", "斤", "22.00", "干果", "20"),
    ("桃胶", "斤", "38.00", "干货", "10"),
    ("碧螺春茶叶", "斤", "680.00", "茶叶", "5"),
    ("阳山白茶", "斤", "420.00", "茶叶", "5"),
    ("新米（粳米）", "kg", "6.80", "粮油", "500"),
    ("糯米", "kg", "8.50", "粮油", "100"),
    ("菜籽油", "桶", "98.00", "粮油", "20"),
    ("土鸡蛋", "piece", "1.50", "禽蛋", "300"),
    ("咸鸭蛋", "piece", "2.50", "禽蛋", "200"),
    ("散养土鸡", "只", "128.00", "禽蛋", "10"),
    ("百花蜂蜜", "瓶", "58.00", "土特产", "20"),
    ("桃花酒", "瓶", "88.00", "土特产", "10"),
    ("腊肉", "斤", "45.00", "土特产", "20"),
    ("年糕", "斤", "9.00", "土特产", "50"),
    ("青团", "box", "36.00", "土特产", "20"),
    ("桂花糕", "box", "32.00", "土特产", "20"),
    ("太湖白虾", "斤", "60.00", "水产", "20"),
    ("莲藕", "斤", "5.50", "蔬菜", "100"),
    ("茭白", "斤", "6.00", "蔬菜", "100"),
    ("竹笋", "斤", "7.50", "蔬菜", "100"),
];

/// About 30 products over the two stations, with lots received from the households over the
/// last three months at a floor of about 65 % of the list price.
async fn seed_catalog(app: &App, stations: &[Station], households: &[Household]) -> Result<(), AppError> {
    use crate::catalog::{CreateLot, CreateProduct};
    use hezuo_catalog::ProductStatus;
    use hezuo_core::Quantity;

    let admin = Principal::Admin;
    let actor = crate::Actor::default();
    let now = chrono::Utc::now();
    for (i, (name, unit, price, category, threshold)) in PRODUCTS.iter().enumerate() {
        let station = &stations[i % stations.len()];
        let price = m(price)?;
        let product = app
            .create_product(
                &admin,
                station.id,
                CreateProduct {
                    name: (*name).into(),
                    unit: (*unit).into(),
                    sku: Some(format!("HZ-{:03}", i + 1)),
                    price,
                    status: Some(if i % 10 == 9 { ProductStatus::Draft } else { ProductStatus::Listed }),
                    category: Some((*category).into()),
                    description: None,
                    image_urls: None,
                    low_stock_threshold: Quantity::parse(threshold).ok(),
                },
            )
            .await?;
        let floor = Money::round(price.to_decimal() * hezuo_core::Decimal::new(65, 2))?;
        for k in 0..2 {
            let household = &households[(i * 2 + k) % households.len()];
            let quantity = Quantity::from_thousandths(1_000 * (40 + ((i * 37 + k * 53) % 160) as i64));
            let received_at = now - chrono::Duration::days((90 - (i as i64 * 2) - k as i64 * 20).max(1));
            app.create_lot(
                &admin,
                &actor,
                product.id,
                CreateLot { household_id: household.id, quantity, floor_price: floor, received_at: Some(received_at) },
            )
            .await?;
        }
    }
    Ok(())
}

/// Last month's settlement statement of each platform channel, as the platform would send it,
/// with a few discrepancies for the alliance to work through: one order settled a yuan short,
/// one missing, one row sent twice, and one order the books do not know.
async fn seed_statements(app: &App, alliance_id: i64) -> Result<(), AppError> {
    use crate::periods::Period;
    use hezuo_db::entities::{channel, order, order_part};
    use hezuo_db::sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    use std::fmt::Write as _;
    let tz = app.config.timezone;
    let last = Period::of(app.today()).prev();
    let (from, to) = (app.local_midnight(last.first_day())?, app.local_midnight(last.next().first_day())?);
    let principal = Principal::Alliance { alliance_id };
    for code in ["taobao", "pdd", "douyin"] {
        let Some(ch) = channel::Entity::find()
            .filter(channel::Column::AllianceId.eq(alliance_id))
            .filter(channel::Column::Code.eq(code))
            .one(&app.db)
            .await?
        else {
            continue;
        };
        let orders = order::Entity::find()
            .filter(order::Column::ChannelId.eq(ch.id))
            .filter(order::Column::PlacedAt.gte(from))
            .filter(order::Column::PlacedAt.lt(to))
            .filter(order::Column::Status.ne("cancelled"))
            .order_by_asc(order::Column::Id)
            .all(&app.db)
            .await?;
        let mut csv = String::from("external_id,kind,amount,fee,settled_at\n");
        let row = |csv: &mut String, id: &str, kind: &str, amount: i64, fee: i64, at: chrono::DateTime<chrono::Utc>| {
            let t = at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S");
            let (a, f) = (Money::from_cents(amount), Money::from_cents(fee));
            let _ = writeln!(csv, "{id},{kind},{a},{f},{t}");
        };
        for (i, o) in orders.iter().enumerate() {
            if i == 1 {
                continue; // missing in the statement
            }
            let settled = o.placed_at + chrono::Duration::days(1);
            let gross = if i == 0 { o.gross - 100 } else { o.gross };
            row(&mut csv, &o.external_id, "sale", gross, o.fee, settled);
            if i == 2 {
                row(&mut csv, &o.external_id, "sale", gross, o.fee, settled); // sent twice
            }
            if o.refunded > 0 {
                let fee: Option<i64> = order_part::Entity::find()
                    .select_only()
                    .column_as(hezuo_db::sea_orm::sea_query::Expr::cust("CAST(SUM(refunded_fee) AS BIGINT)"), "f")
                    .filter(order_part::Column::OrderId.eq(o.id))
                    .into_tuple()
                    .one(&app.db)
                    .await?
                    .flatten();
                row(
                    &mut csv,
                    &o.external_id,
                    "refund",
                    o.refunded,
                    fee.unwrap_or(0),
                    settled + chrono::Duration::hours(2),
                );
            }
        }
        if let Some(o) = orders.first() {
            row(&mut csv, &format!("{}-X", code.to_uppercase()), "sale", 5_000, 250, o.placed_at);
        }
        app.import_statement(&principal, &crate::Actor::default(), code, "generic", csv.as_bytes()).await?;
    }
    Ok(())
}

/// Closes every month of the demo before the current one, oldest first.
async fn close_past_months(app: &App, cooperative_id: i64) -> Result<(), AppError> {
    use crate::periods::Period;
    use hezuo_db::entities::ledger_transaction;
    use hezuo_db::sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let first = ledger_transaction::Entity::find()
        .filter(ledger_transaction::Column::CooperativeId.eq(cooperative_id))
        .order_by_asc(ledger_transaction::Column::BookingDate)
        .one(&app.db)
        .await?;
    let Some(first) = first else { return Ok(()) };
    let current = Period::of(app.today());
    let mut p = Period::of(first.booking_date);
    while p < current {
        app.close_period(&Principal::Admin, &crate::Actor::default(), cooperative_id, &p.to_string()).await?;
        p = p.next();
    }
    Ok(())
}

/// About 300 orders over the last three months across the four channels, one in ten refunded
/// in part and one in thirty cancelled. A fixed pseudo-random sequence keeps the demo the same
/// on every machine.
async fn seed_orders(app: &App, stations: &[Station]) -> Result<(), AppError> {
    use crate::catalog::ProductFilter;
    use crate::orders::{CreateRefund, PlaceLine, PlaceOrder};
    use hezuo_catalog::ProductStatus;
    use hezuo_core::Quantity;

    let admin = Principal::Admin;
    let actor = crate::Actor::default();
    let mut next = sequence(20_261_128);
    let listed = ProductFilter { status: Some(ProductStatus::Listed), q: None };
    let mut catalog = Vec::new();
    for st in stations {
        let page = app.list_products(&admin, st.id, &listed, crate::PageRequest { limit: 100, after: None }).await?;
        catalog.push((st.id, page.items));
    }
    let channels = ["own", "taobao", "pdd", "douyin"];
    let now = chrono::Utc::now();
    for i in 0..300u64 {
        let (station_id, products) = &catalog[(i % 2) as usize];
        let product = &products[next(products.len() as u64) as usize];
        let quantity = Quantity::from_thousandths(1_000 * (1 + next(3) as i64));
        let minutes = (90 * 24 * 60) - (i as i64 * 430) - next(300) as i64;
        let placed_at = (now - chrono::Duration::minutes(minutes.max(5))).fixed_offset();
        let channel = channels[next(4) as usize];
        let req = PlaceOrder {
            station_id: *station_id,
            channel: channel.into(),
            external_id: format!("{}-{:06}", channel.to_uppercase(), 100_000 + i),
            placed_at,
            lines: vec![PlaceLine::priced(product.id, quantity, product.price)],
            payment_method: counter_payment(channel, i),
        };
        let placed = match app.place_order(&admin, &actor, req).await {
            Ok(p) => p.order,
            Err(AppError::Invalid { code: "insufficient_stock", .. }) => continue,
            Err(e) => return Err(e),
        };
        if i % 10 == 3 {
            let line = &placed.lines[0];
            let amount = Money::from_cents(line.gross.cents() / 2);
            if amount.cents() > 0 {
                let refund = CreateRefund {
                    line_id: line.id,
                    amount,
                    quantity: Quantity::ZERO,
                    restock: false,
                    reason: "部分退款：品相不佳".into(),
                };
                app.refund(&admin, &actor, placed.id, refund).await?;
            }
        } else if i % 30 == 7 {
            app.cancel_order(&admin, &actor, placed.id).await?;
        }
    }
    Ok(())
}

/// How a demo sale at the counter (channel `own`) was paid; platform orders have none.
fn counter_payment(channel: &str, i: u64) -> Option<crate::orders::PaymentMethod> {
    use crate::orders::PaymentMethod;
    (channel == "own").then(|| PaymentMethod::ALL[(i % 4) as usize])
}

/// A pseudo-random sequence of the demo (the same data on every run): values below `n`.
fn sequence(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |n: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    }
}

/// Two years of business before the recent months: a lot of every listed product received in
/// December two years back, and a few orders a week from January of last year until three
/// months ago, so that the village reports show a previous year to grow from.
async fn seed_history(app: &App, stations: &[Station], households: &[Household]) -> Result<(), AppError> {
    use crate::catalog::{CreateLot, ProductFilter};
    use crate::orders::{PlaceLine, PlaceOrder};
    use chrono::Datelike;
    use hezuo_catalog::ProductStatus;
    use hezuo_core::Quantity;

    let admin = Principal::Admin;
    let actor = crate::Actor::default();
    let year = app.today().year() - 1;
    let start =
        app.local_midnight(NaiveDate::from_ymd_opt(year, 1, 1).ok_or(AppError::Internal("demo year".into()))?)?;
    let received = start - chrono::Duration::days(31);
    let end = chrono::Utc::now() - chrono::Duration::days(95);
    let listed = ProductFilter { status: Some(ProductStatus::Listed), q: None };
    let mut catalog = Vec::new();
    for (n, st) in stations.iter().enumerate() {
        let page = app.list_products(&admin, st.id, &listed, crate::PageRequest { limit: 100, after: None }).await?;
        for (i, p) in page.items.iter().enumerate() {
            let household = &households[(i * 3 + n * 5) % households.len()];
            let floor = Money::round(p.price.to_decimal() * hezuo_core::Decimal::new(60, 2))?;
            app.create_lot(
                &admin,
                &actor,
                p.id,
                CreateLot {
                    household_id: household.id,
                    quantity: Quantity::from_thousandths(2_000_000),
                    floor_price: floor,
                    received_at: Some(received),
                },
            )
            .await?;
        }
        catalog.push((st.id, page.items));
    }
    let mut next = sequence(20_250_101);
    let channels = ["own", "taobao", "pdd", "douyin"];
    let mut at = start + chrono::Duration::hours(10);
    let mut i = 0u64;
    while at < end {
        let (station_id, products) = &catalog[(i % 2) as usize];
        let product = &products[next(products.len() as u64) as usize];
        let channel = channels[next(4) as usize];
        // More sold in the second year: the reports show growth.
        let extra = i64::from(at.year() > year);
        let req = PlaceOrder {
            station_id: *station_id,
            channel: channel.into(),
            external_id: format!("{}-H{:06}", channel.to_uppercase(), i),
            placed_at: at.fixed_offset(),
            lines: vec![PlaceLine::priced(
                product.id,
                Quantity::from_thousandths(1_000 * (1 + next(3) as i64 + extra)),
                product.price,
            )],
            payment_method: counter_payment(channel, i),
        };
        app.place_order(&admin, &actor, req).await?;
        at += chrono::Duration::hours(30 + next(30) as i64);
        i += 1;
    }
    Ok(())
}

/// Other operating income of the villages for last year and this one: rent paid for a year at
/// once (spread over its months), service fees, investment returns, and one entry removed.
async fn seed_income(app: &App, villages: &[Village]) -> Result<(), AppError> {
    use crate::reports::RecordIncome;
    use chrono::Datelike;
    let admin = Principal::Admin;
    let actor = crate::Actor::default();
    let (y, p) = (app.today().year(), app.today().year() - 1);
    // (village, date, amount, category, note, covers)
    type Entry<'a> = (usize, String, &'a str, &'a str, &'a str, Option<(String, String)>);
    let entries: [Entry<'_>; 9] = [
        (
            0,
            format!("{p}-01-08"),
            "52000.00",
            "rent",
            "村集体厂房租赁（全年）",
            Some((format!("{p}-01"), format!("{p}-12"))),
        ),
        (
            0,
            format!("{y}-01-06"),
            "60000.00",
            "rent",
            "村集体厂房租赁（全年）",
            Some((format!("{y}-01"), format!("{y}-12"))),
        ),
        (0, format!("{y}-05-20"), "3200.00", "service", "代收代发快递服务费", None),
        (0, format!("{y}-03-10"), "1500.00", "other", "误录：应为补助收入", None),
        (
            1,
            format!("{p}-03-15"),
            "18000.00",
            "rent",
            "鱼塘承包费（12个月）",
            Some((format!("{p}-03"), format!("{y}-02"))),
        ),
        (1, format!("{y}-04-01"), "6500.00", "service", "农机作业服务", None),
        (2, format!("{p}-06-30"), "12000.00", "investment", "村级光伏电站收益", None),
        (2, format!("{y}-06-30"), "15000.00", "investment", "村级光伏电站收益", None),
        (
            2,
            format!("{y}-02-01"),
            "14400.00",
            "rent",
            "门面房租赁（12个月）",
            Some((format!("{y}-02"), format!("{}-01", y + 1))),
        ),
    ];
    let today = app.today();
    for (v, date, amount, category, note, covers) in entries {
        if NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_ok_and(|d| d > today) {
            continue;
        }
        let (covers_from, covers_to) = covers.map_or((None, None), |(f, t)| (Some(f), Some(t)));
        let e = app
            .record_income(
                &admin,
                &actor,
                villages[v].id,
                RecordIncome {
                    date,
                    amount: m(amount)?,
                    category: category.into(),
                    note: Some(note.into()),
                    covers_from,
                    covers_to,
                },
            )
            .await?;
        if note.starts_with("误录") {
            app.reverse_income(&admin, &actor, villages[v].id, e.id).await?;
        }
    }
    Ok(())
}
