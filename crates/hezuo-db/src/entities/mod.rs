//! One module per table. Amounts are `i64` in the smallest unit (cents, thousandths,
//! millionths); the domain newtypes are applied where rows become domain values.

pub mod account_day;
pub mod alliance;
pub mod basis_day;
pub mod channel;
pub mod cooperative;
pub mod cooperative_member;
pub mod feed;
pub mod feed_order;
pub mod feed_parked;
pub mod household;
pub mod ledger_transaction;
pub mod login_failure;
pub mod lot;
pub mod order;
pub mod order_line;
pub mod order_part;
pub mod period_close;
pub mod period_close_line;
pub mod posting;
pub mod product;
pub mod refund;
pub mod rule_version;
pub mod sales_day;
pub mod statement;
pub mod statement_error;
pub mod statement_item;
pub mod statement_row;
pub mod station;
pub mod stock_movement;
pub mod token;
pub mod user;
pub mod village;
pub mod village_income;
pub mod village_income_month;
pub mod village_sum;
