//! Books generated set-based in the database, as bookings would have written them: villages,
//! households, cooperatives with their members and rules, an alliance with its channels,
//! stations, products and one lot per household (the "world"); then sale parts described by a
//! benchmark in the helper table `bench_gen`, turned into orders, lines, lot parts, refunds,
//! ledger transactions with all their postings, the per-day account sums and bases, the
//! villages' month sums and the stations' sales sums. Stock journals are not generated: no
//! benchmark reads them (`hezuo verify`'s stock check does not hold on these books).
//!
//! Every part sells 1 kg at its gross of at least 10.00, so the rule's share always exceeds the
//! lots' floor of 5.00/kg; amounts follow docs/domain.md "A sale" with the rule version below
//! (household 0.70, station 0.05, collective 0.05; taobao's fee 0.05), rounded half up.

/// Sale days in the format the backend stores.
pub(crate) const TIMESTAMP_SQLITE: &str = "'2026-10-01T00:00:00+00:00'";
pub(crate) const TIMESTAMP_PG: &str = "TIMESTAMPTZ '2026-10-01 00:00:00+00'";

/// `WITH RECURSIVE name(i)`: the integers 1..=upto.
pub(crate) fn seq(name: &str, upto: usize) -> String {
    format!("WITH RECURSIVE {name}(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM {name} WHERE i < {upto})")
}

/// The day `offset` (an integer expression) days after `start` (`YYYY-MM-DD`).
pub(crate) fn day(sqlite: bool, start: &str, offset: &str) -> String {
    if sqlite {
        format!("date('{start}', '+' || ({offset}) || ' days')")
    } else {
        format!("(DATE '{start}' + CAST({offset} AS INTEGER))")
    }
}

/// The first day of the month of a date expression.
pub(crate) fn month(sqlite: bool, date: &str) -> String {
    if sqlite {
        format!("date({date}, 'start of month')")
    } else {
        format!("CAST(date_trunc('month', {date}) AS DATE)")
    }
}

/// The first day of the year of `date`, in SQL.
pub(crate) fn year(sqlite: bool, date: &str) -> String {
    if sqlite { format!("date({date}, 'start of year')") } else { format!("CAST(date_trunc('year', {date}) AS DATE)") }
}

pub(crate) fn timestamp(sqlite: bool) -> &'static str {
    if sqlite { TIMESTAMP_SQLITE } else { TIMESTAMP_PG }
}

/// The dimensions of the generated books. Household `h` lives in village `1 + h % villages`;
/// village `v` is served by station `1 + (v − 1) % stations`, which lies in village `s` and
/// belongs to cooperative `1 + (s − 1) % cooperatives`; each station sells `products` products,
/// and a household's one lot is of one of its station's products. Households are members of
/// their station's cooperative, and so are the village collectives.
pub(crate) struct World {
    pub villages: usize,
    pub households: usize,
    pub stations: usize,
    pub cooperatives: usize,
    pub products: usize,
}

impl World {
    pub fn village_of(&self, household: &str) -> String {
        format!("(1 + ({household}) % {})", self.villages)
    }

    /// The station of a village.
    pub fn station_of_village(&self, village: &str) -> String {
        format!("(1 + (({village}) - 1) % {})", self.stations)
    }

    pub fn station_of(&self, household: &str) -> String {
        self.station_of_village(&self.village_of(household))
    }

    pub fn cooperative_of(&self, station: &str) -> String {
        format!("(1 + (({station}) - 1) % {})", self.cooperatives)
    }

    pub fn product_of(&self, household: &str) -> String {
        let p = self.products;
        format!("((({}) - 1) * {p} + 1 + (({household}) / {}) % {p})", self.station_of(household), self.villages)
    }

    /// The statements that create the world (ids from 1, every table empty before).
    pub fn create(&self, sqlite: bool) -> Vec<String> {
        assert!(self.stations <= self.villages, "a station lies in a village of its own");
        let ts = timestamp(sqlite);
        let (nv, nh, ns, nc) = (self.villages, self.households, self.stations, self.cooperatives);
        vec![
            // Every fourth village has its own target (10,000.00), the others the configured one.
            format!(
                "INSERT INTO villages (id, name, code, income_target, created_at) {} \
                 SELECT i, 'V' || i, CAST(320206100000 + i AS TEXT), CASE WHEN i % 4 = 0 THEN 1000000 END, {ts} FROM v",
                seq("v", nv)
            ),
            format!(
                "INSERT INTO households (id, village_id, name, members, created_at) {} \
                 SELECT i, {}, 'H' || i, 1 + (i % 5), {ts} FROM h",
                seq("h", nh),
                self.village_of("i")
            ),
            format!("INSERT INTO cooperatives (id, name, created_at) {} SELECT i, 'C' || i, {ts} FROM c", seq("c", nc)),
            format!(
                "INSERT INTO cooperative_members (id, cooperative_id, household_id, village_id, capital, created_at) {} \
                 SELECT i, {}, i, NULL, 100000 + (i % 7) * 50000, {ts} FROM h",
                seq("h", nh),
                self.cooperative_of(&self.station_of("i"))
            ),
            format!(
                "INSERT INTO cooperative_members (id, cooperative_id, household_id, village_id, capital, created_at) {} \
                 SELECT {nh} + i, {}, NULL, i, 5000000, {ts} FROM v",
                seq("v", nv),
                self.cooperative_of(&self.station_of_village("i"))
            ),
            format!(
                "INSERT INTO rule_versions (id, cooperative_id, effective_from, household_share, station_fee_rate, \
                 collective_rate, reserve_rate, rebate_rate, created_at) {} \
                 SELECT i, i, '2024-01-01', 700000, 50000, 50000, 100000, 600000, {ts} FROM c",
                seq("c", nc)
            ),
            format!("INSERT INTO alliances (id, name, created_at) VALUES (1, 'bench', {ts})"),
            format!(
                "INSERT INTO stations (id, name, village_id, cooperative_id, alliance_id, created_at) {} \
                 SELECT i, 'S' || i, i, {}, 1, {ts} FROM s",
                seq("s", ns),
                self.cooperative_of("i")
            ),
            format!(
                "INSERT INTO channels (id, alliance_id, code, name, fee_rate, created_at) \
                 VALUES (1, 1, 'own', 'own', 0, {ts}), (2, 1, 'taobao', 'taobao', 50000, {ts})"
            ),
            format!(
                "INSERT INTO products (id, station_id, name, unit, price, status, category, description, image_urls, \
                 low_stock_threshold, created_at, updated_at) {} \
                 SELECT i, 1 + (i - 1) / {p}, 'P' || i, 'kg', 2000, 'listed', NULL, NULL, '[]', NULL, {ts}, {ts} FROM p",
                seq("p", ns * self.products),
                p = self.products
            ),
            format!(
                "INSERT INTO lots (id, product_id, station_id, household_id, village_id, received, remaining, floor_price, \
                 received_at, created_at) {} SELECT i, {}, {}, i, {}, 1000000000, 1000000000, 500, {ts}, {ts} FROM h",
                seq("h", nh),
                self.product_of("i"),
                self.station_of("i"),
                self.village_of("i")
            ),
        ]
    }

    /// Creates `bench_gen` and fills it from `parts`, a query of one row per lot part with the
    /// columns `n` (the part's and its line's id), `o` (its order), `line_no` (from 1),
    /// `channel` (1 own, 2 taobao), `day`, `household`, `gross` (cents, at least 1000) and
    /// `refund_day` (a full refund booked that day, or NULL). One order's lines are of one
    /// household's station.
    pub fn fill(&self, parts: &str) -> Vec<String> {
        let net = "(gross - fee)";
        let h = format!("(({net} * 7 + 5) / 10)");
        let s = format!("(({net} * 5 + 50) / 100)");
        vec![
            "CREATE TABLE bench_gen (n BIGINT PRIMARY KEY, o BIGINT, line_no INTEGER, channel BIGINT, day DATE, \
             household BIGINT, station BIGINT, coop BIGINT, product BIGINT, village BIGINT, gross BIGINT, fee BIGINT, \
             h BIGINT, s BIGINT, k BIGINT, c BIGINT, refund_day DATE)"
                .to_owned(),
            format!(
                "INSERT INTO bench_gen (n, o, line_no, channel, day, household, station, coop, product, village, \
                 gross, fee, h, s, k, c, refund_day) \
                 SELECT n, o, line_no, channel, day, household, {station}, {coop}, {product}, {village}, gross, fee, \
                        {h}, {s}, {s}, {net} - {h} - 2 * {s}, refund_day \
                 FROM (SELECT b.*, CASE WHEN channel = 2 THEN (gross * 5 + 50) / 100 ELSE 0 END AS fee FROM ({parts}) b) g",
                station = self.station_of("household"),
                coop = self.cooperative_of(&self.station_of("household")),
                product = self.product_of("household"),
                village = self.village_of("household"),
            ),
        ]
    }
}

/// The statements that book the parts of `bench_gen` (then dropped): what order intake and
/// refunds write, with every per-day and per-month sum in slot 0.
pub(crate) fn book(sqlite: bool) -> Vec<String> {
    let ts = timestamp(sqlite);
    let refunded = |x: &str| format!("CASE WHEN refund_day IS NULL THEN 0 ELSE {x} END");
    let refunds = "WHERE refund_day IS NOT NULL";
    // Ledger transactions: the sales take the orders' ids, the refunds follow.
    let refund_tx = "(SELECT MAX(o) FROM bench_gen) + n";
    // A transaction's postings (zero amounts left out), `sign` "-" for a refund's reversal.
    let postings = |tx: &str, date: &str, sign: &str, filter: &str| {
        let and = |cond: &str| if filter.is_empty() { format!("WHERE {cond}") } else { format!("{filter} AND {cond}") };
        let select = |account: &str, amount: &str, filter: &str| {
            format!("SELECT {tx}, coop, {account}, {sign}{amount}, {date}, n FROM bench_gen {filter}")
        };
        let rows = [
            select("CASE channel WHEN 1 THEN 'channel:own' ELSE 'channel:taobao' END", "(-gross)", filter),
            select("'fees:channel:taobao'", "fee", &and("fee <> 0")),
            select("'household:' || household", "h", filter),
            select("'station:' || station", "s", filter),
            select("'village:' || village", "k", filter),
            select("'coop:' || coop || ':pool'", "c", &and("c <> 0")),
        ];
        format!(
            "INSERT INTO postings (transaction_id, cooperative_id, account, amount, booking_date, line_id, alliance_id) \
             SELECT x.*, 1 FROM ({}) x",
            rows.join(" UNION ALL ")
        )
    };
    vec![
        format!(
            "INSERT INTO orders (id, station_id, alliance_id, cooperative_id, channel_id, external_id, request_hash, \
             placed_at, booking_date, status, tracking_number, gross, fee, refunded, created_at, updated_at) \
             SELECT o, MIN(station), 1, MIN(coop), MIN(channel), 'B' || o, 'bench', {ts}, MIN(day), 'placed', NULL, \
                    SUM(gross), SUM(fee), SUM({}), {ts}, {ts} \
             FROM bench_gen GROUP BY o",
            refunded("gross")
        ),
        format!(
            "INSERT INTO order_lines (id, order_id, line_no, product_id, quantity, unit_price, gross, fee, refunded, returned) \
             SELECT n, o, line_no, product, 1000, gross, gross, fee, {}, 0 FROM bench_gen",
            refunded("gross")
        ),
        format!(
            "INSERT INTO order_parts (id, order_id, line_id, seq, lot_id, household_id, village_id, booking_date, quantity, returned, \
             gross, fee, household, station, collective, pool, refunded_gross, refunded_fee, refunded_household, \
             refunded_station, refunded_collective, refunded_pool) \
             SELECT n, o, n, 0, household, household, village, day, 1000, 0, gross, fee, h, s, k, c, {}, {}, {}, {}, {}, {} \
             FROM bench_gen",
            refunded("gross"),
            refunded("fee"),
            refunded("h"),
            refunded("s"),
            refunded("k"),
            refunded("c")
        ),
        format!(
            "INSERT INTO refunds (id, order_id, line_id, amount, quantity, restock, reason, booking_date, actor_user_id, \
             actor_token_id, created_at) \
             SELECT n, o, n, gross, 0, FALSE, 'bench', refund_day, NULL, NULL, {ts} FROM bench_gen {refunds}"
        ),
        format!(
            "INSERT INTO ledger_transactions (id, kind, cooperative_id, alliance_id, order_id, refund_id, booking_date, memo, created_at) \
             SELECT o, 'sale', MIN(coop), 1, o, NULL, MIN(day), 'order', {ts} FROM bench_gen GROUP BY o"
        ),
        format!(
            "INSERT INTO ledger_transactions (id, kind, cooperative_id, alliance_id, order_id, refund_id, booking_date, memo, created_at) \
             SELECT {refund_tx}, 'refund', coop, 1, o, n, refund_day, 'refund', {ts} FROM bench_gen {refunds}"
        ),
        postings("o", "day", "", ""),
        postings(refund_tx, "refund_day", "-", refunds),
        "INSERT INTO account_days (alliance_id, account, day, amount, postings) \
         SELECT alliance_id, account, booking_date, SUM(amount), COUNT(*) FROM postings GROUP BY alliance_id, account, booking_date"
            .to_owned(),
        format!(
            "INSERT INTO basis_days (cooperative_id, day, household_id, amount) \
             SELECT coop, d, household, SUM(a) FROM ( \
               SELECT coop, day AS d, household, gross - fee AS a FROM bench_gen \
               UNION ALL SELECT coop, refund_day, household, fee - gross FROM bench_gen {refunds}) b \
             GROUP BY coop, d, household"
        ),
        format!(
            "INSERT INTO village_sums (village_id, span, period_start, slot, sales, dividends) \
             SELECT village, 'month', m, 0, SUM(k), 0 FROM ( \
               SELECT village, {} AS m, k FROM bench_gen \
               UNION ALL SELECT village, {}, -k FROM bench_gen {refunds}) v \
             GROUP BY village, m",
            month(sqlite, "day"),
            month(sqlite, "refund_day")
        ),
        format!(
            "INSERT INTO village_sums (village_id, span, period_start, slot, sales, dividends) \
             SELECT village_id, 'year', {}, slot, SUM(sales), SUM(dividends) FROM village_sums WHERE span = 'month' \
             GROUP BY village_id, {}, slot",
            year(sqlite, "period_start"),
            year(sqlite, "period_start")
        ),
        format!(
            "INSERT INTO sales_days (station_id, day, product_id, channel_id, orders, quantity, gross, fee, refunded) \
             SELECT station, d, product, channel, SUM(orders), SUM(quantity), SUM(gross), SUM(fee), SUM(refunded) FROM ( \
               SELECT station, day AS d, product, channel, CASE WHEN line_no = 1 THEN 1 ELSE 0 END AS orders, \
                      1000 AS quantity, gross, fee, 0 AS refunded FROM bench_gen \
               UNION ALL SELECT station, refund_day, product, channel, 0, 0, 0, -fee, gross FROM bench_gen {refunds}) s \
             GROUP BY station, d, product, channel"
        ),
        "DROP TABLE bench_gen".to_owned(),
    ]
}

/// After the generated rows, the id sequences continue above them (PostgreSQL; SQLite's
/// `AUTOINCREMENT` follows explicit ids by itself).
pub(crate) fn sequences(sqlite: bool) -> Vec<String> {
    if sqlite {
        return Vec::new();
    }
    [
        "villages",
        "households",
        "cooperatives",
        "cooperative_members",
        "rule_versions",
        "alliances",
        "stations",
        "channels",
        "products",
        "lots",
        "orders",
        "order_lines",
        "order_parts",
        "refunds",
        "ledger_transactions",
        "village_income",
    ]
    .iter()
    // `is_called` false when the table is empty, so the next id is 1.
    .map(|t| {
        format!(
            "SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 1), \
             (SELECT MAX(id) FROM {t}) IS NOT NULL)"
        )
    })
    .collect()
}

/// The sequences, then fresh planner statistics.
pub(crate) fn finish(sqlite: bool) -> Vec<String> {
    let mut s = sequences(sqlite);
    s.push("ANALYZE".to_owned());
    s
}
