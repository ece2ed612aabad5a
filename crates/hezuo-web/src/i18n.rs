//! The one table of Chinese names for the API's error codes, field names and the rules' usual
//! messages, so that every error the use cases give appears in Chinese next to its field.

use hezuo_app::AppError;

/// Field names as the API's request types name them.
const FIELDS: &[(&str, &str)] = &[
    ("username", "用户名"),
    ("password", "密码"),
    ("name", "名称"),
    ("unit", "单位"),
    ("price", "价格"),
    ("status", "状态"),
    ("category", "类别"),
    ("description", "描述"),
    ("image_urls", "图片地址"),
    ("low_stock_threshold", "低库存提醒"),
    ("sku", "商家编码"),
    ("household_id", "农户"),
    ("quantity", "数量"),
    ("floor_price", "保底价"),
    ("received_at", "收货时间"),
    ("product_id", "商品"),
    ("product_name", "商品名称"),
    ("line_id", "订单行"),
    ("amount", "金额"),
    ("restock", "退回库存"),
    ("reason", "原因"),
    ("tracking_number", "快递单号"),
    ("carrier", "快递公司"),
    ("note", "备注"),
    ("date", "日期"),
    ("covers_from", "起始月份"),
    ("covers_to", "结束月份"),
    ("year", "年份"),
    ("from", "开始日期"),
    ("to", "结束日期"),
    ("channel", "渠道"),
    ("format", "格式"),
    ("file", "文件"),
    ("kind", "类型"),
    ("external_id", "外部订单号"),
    ("lines", "订单行"),
    ("members", "人口数"),
    ("code", "代码"),
    ("period", "期间"),
    ("confirm", "确认"),
    ("income_target", "年度收入目标"),
    ("township", "乡镇"),
    ("village_id", "村"),
    ("cooperative_id", "合作社"),
    ("alliance_id", "电商联盟"),
    ("station_id", "服务站"),
    ("phone", "电话"),
    ("fee_rate", "平台费率"),
    ("role", "角色"),
    ("capital", "出资额"),
    ("effective_from", "生效日期"),
    ("household_share", "农户分成比例"),
    ("station_fee_rate", "服务站服务费比例"),
    ("collective_rate", "村集体提成比例"),
    ("reserve_rate", "公积金比例"),
    ("rebate_rate", "二次返利比例"),
    ("payment_method", "收款方式"),
    ("platform", "平台"),
    ("base_url", "接口地址"),
    ("app_key", "App Key"),
    ("app_secret", "App Secret"),
    ("access_token", "Access Token"),
    ("interval_seconds", "同步间隔"),
    ("start_at", "开始时间"),
    ("enabled", "启用"),
    ("url", "推送地址"),
    ("events", "事件"),
];

/// Error codes of the API (API.md "Conventions" and each section).
const CODES: &[(&str, &str)] = &[
    ("invalid_field", "填写有误"),
    ("invalid_body", "填写有误"),
    ("invalid_query", "查询条件有误"),
    ("unknown_reference", "不存在或不在您的管辖范围内"),
    ("insufficient_stock", "库存不足"),
    ("refund_exceeds", "超过可退的金额或数量"),
    ("already_exists", "已存在"),
    ("already_resolved", "该差异已处理"),
    ("already_reversed", "该笔收入已冲销"),
    ("is_reversal", "冲销记录不能再冲销"),
    ("household_not_member", "该农户不是本合作社成员"),
    ("product_not_listed", "商品未上架"),
    ("too_many_lots", "一次涉及的批次过多"),
    ("no_rules", "合作社没有生效的分配方案"),
    ("out_of_range", "超出允许范围"),
    ("period_not_ended", "该期间尚未结束，不能结账"),
    ("invalid_period", "期间不正确"),
    ("previous_period_open", "上一期间尚未结账"),
    ("period_closed", "该期间早于合作社首次结账的期间，无需结账"),
    ("invalid_transition", "订单当前的状态不能进行此操作"),
    ("import_rejected", "文件中有错误行，未导入任何数据"),
    ("bad_encoding", "文件编码无法识别（请使用 UTF-8 或 GBK）"),
    ("statement_unreadable", "对账单无法读取"),
    ("statement_corrupt", "对账单的合计与明细不符"),
    ("payload_too_large", "文件太大"),
    ("unreadable_body", "文件无法读取"),
    ("malformed_json", "请求格式不正确"),
    ("not_found", "未找到"),
    ("forbidden", "您的角色无权进行此操作"),
    ("unauthorized", "用户名或密码错误"),
    ("too_many_attempts", "登录失败次数过多，请稍后再试"),
    ("request_timeout", "处理超时，请稍后查看结果"),
    ("csrf", "页面已过期，请重新提交"),
    ("internal", "系统内部错误，请联系管理员"),
    ("address_not_allowed", "地址不允许"),
    ("feed_busy", "同步进行中"),
    ("endpoint_disabled", "推送地址已停用：请先启用"),
    ("secret_key_missing", "服务没有设置密钥（HEZUO_SECRET_KEY），无法保存平台密钥"),
];

/// The rules' usual messages, by their beginning.
const MESSAGES: &[(&str, &str)] = &[
    ("must be more than 0", "必须大于 0"),
    ("must not be negative", "不能为负数"),
    ("must not be empty", "不能为空"),
    ("must not be 0", "不能为 0"),
    ("must not be in the future", "不能晚于现在"),
    ("must be 8 to 128 characters", "长度须为 8 到 128 个字符"),
    ("must not contain control characters", "不能包含控制字符"),
    ("must not contain bidirectional control characters", "不能包含方向控制字符"),
    ("must start and end with a visible character", "首尾不能是空白"),
    ("must be one line", "只能填写一行"),
    ("must be one word", "不能包含空格"),
    ("is left to refund on this line", "超过本行还可退的金额"),
    ("has not been returned", "超过本行还可退回的数量"),
    ("must not be before covers_from", "不能早于起始月份"),
    ("must be given with covers_to", "须与结束月份一起填写"),
    ("must be given with covers_from", "须与起始月份一起填写"),
    ("must be rent, service, investment or other", "须为租赁、服务、投资收益或其他经营（补助收入不是经营收入）"),
    ("must be a date", "须为日期，格式 YYYY-MM-DD"),
    ("must be a month", "须为月份，格式 YYYY-MM"),
    ("must be a year", "须为年份"),
    (
        "must be at least 0.60",
        "不得低于 0.60：《农民专业合作社法》第四十四条规定，可分配盈余按交易量（额）返还的总额不得低于 60%",
    ),
    (
        "household_share + station_fee_rate + collective_rate must not exceed 1",
        "与服务站服务费、村集体提成三项合计不能超过 1",
    ),
    ("must be the 12-digit administrative division code", "须为 12 位统计用区划代码"),
    ("must be a phone number", "须为电话号码：数字，可含空格、- 或括号"),
    ("must be at most", "超出上限"),
    ("must be at least", "低于下限"),
    ("must be from", "超出允许范围"),
    ("must be one of", "不是可选的值"),
    ("is required", "必须填写"),
    ("required", "必须填写"),
    ("missing field", "必须填写"),
    ("is not a number", "须为数字"),
    ("has more than", "小数位数过多"),
    ("not a valid", "格式不正确"),
    ("invalid", "格式不正确"),
];

/// Conflicts that belong to one field of a form, by the use case's message.
const CONFLICTS: &[(&str, &str, &str)] = &[
    ("another product of the station has this sku", "sku", "商家编码已被本站的其他商品使用"),
    ("a village with this code already exists", "code", "已存在：该区划代码已有村使用"),
    ("this username is taken", "username", "已存在：该用户名已被使用"),
    ("the alliance already has a channel with this code", "code", "已存在：本联盟已有该代码的渠道"),
    ("the household is already a member", "household_id", "已存在：该农户已是本社成员"),
    ("the village collective is already a member", "village_id", "已存在：该村集体已是本社成员"),
    ("a rule version with this effective_from already exists", "effective_from", "已存在：该生效日期已有一版分配方案"),
];

/// The Chinese name of a field (its last path segment), or the field as given.
pub fn field(name: &str) -> String {
    let last = name.rsplit(['.', '[']).next().unwrap_or(name).trim_end_matches(']');
    FIELDS.iter().find(|(f, _)| *f == last).map_or_else(|| name.to_owned(), |(_, zh)| (*zh).to_owned())
}

/// The Chinese text of an error code; unknown codes read as a failed operation.
pub fn code(code: &str) -> &'static str {
    CODES.iter().find(|(c, _)| *c == code).map_or("操作未能完成", |(_, zh)| zh)
}

/// The Chinese text of a rule's message, if the table knows it.
fn message(m: &str) -> Option<&'static str> {
    MESSAGES.iter().find(|(en, _)| m.starts_with(en) || m.contains(en)).map(|(_, zh)| *zh)
}

/// An error as a page shows it: the field it belongs to (if any) and Chinese text. The
/// original message follows in parentheses when the table has no Chinese for it, so that
/// nothing of its detail is lost.
#[derive(Debug, Clone)]
pub struct Shown {
    pub field: Option<String>,
    pub text: String,
}

pub fn show(code_str: &str, field_name: Option<&str>, detail: &str) -> Shown {
    let text = match (field_name, message(detail)) {
        (Some(f), Some(m)) => format!("{}{m}", self::field(f)),
        (Some(f), None) => format!("{}{}（{detail}）", self::field(f), code(code_str)),
        (None, _) if detail.is_empty() => code(code_str).to_owned(),
        (None, _) => format!("{}（{detail}）", code(code_str)),
    };
    Shown { field: field_name.map(|f| f.rsplit('.').next().unwrap_or(f).to_owned()), text }
}

/// A use case's error, in Chinese.
pub fn error(e: &AppError) -> Shown {
    match e {
        AppError::Invalid { code: c, field: f, message: m } => show(c, f.as_deref(), m),
        AppError::Conflict { code: c, message: m } => match CONFLICTS.iter().find(|(en, _, _)| en == m) {
            Some((_, f, zh)) => Shown { field: Some((*f).to_owned()), text: (*zh).to_owned() },
            None => show(c, None, ""),
        },
        AppError::Rejected { code: c, .. } => show(c, None, ""),
        AppError::NotFound(_) => show("not_found", None, ""),
        AppError::Forbidden => show("forbidden", None, ""),
        AppError::Unauthorized(_) => show("unauthorized", None, ""),
        AppError::TooManyAttempts { retry_after } => {
            Shown { field: None, text: format!("{}（{retry_after} 秒后）", code("too_many_attempts")) }
        }
        AppError::Internal(_) => show("internal", None, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_reads_in_chinese_with_its_field() {
        let s = error(&AppError::invalid("price", "must be more than 0"));
        assert_eq!(s.field.as_deref(), Some("price"));
        assert_eq!(s.text, "价格必须大于 0");
        let s = error(&AppError::invalid("lines[0].quantity", "something new"));
        assert_eq!(s.field.as_deref(), Some("quantity"), "forms name their fields by the last segment");
        assert_eq!(s.text, "数量填写有误（something new）");
    }

    #[test]
    fn a_repeated_merchant_code_is_shown_beside_its_field() {
        let s = error(&AppError::conflict("already_exists", "another product of the station has this sku"));
        assert_eq!((s.field.as_deref(), s.text.as_str()), (Some("sku"), "商家编码已被本站的其他商品使用"));
        assert_eq!(error(&AppError::conflict("already_exists", "the period is closed")).text, "已存在");
    }

    #[test]
    fn every_code_has_chinese_text() {
        for (c, zh) in CODES {
            assert!(zh.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)), "{c}");
        }
        assert_eq!(code("no_such_code"), "操作未能完成");
    }
}
