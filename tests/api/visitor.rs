//! A browser without a browser, for the console's HTTP tests: cookies kept, redirects not
//! followed, the last page's CSRF token sent with every form.

use hezuo_tests::{Tenant, TestApp, json};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

/// A browser without a browser: cookies kept, redirects not followed, the last page's CSRF
/// token sent with every form.
pub struct Visitor {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
}

pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub html: String,
}

impl Visitor {
    pub fn new(app: &TestApp) -> Visitor {
        let http =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Visitor { http, base: app.base.clone(), csrf: String::new() }
    }

    pub async fn read(&mut self, res: reqwest::Response) -> Page {
        let status = res.status();
        let location = res.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned());
        let cookies = res.headers().get_all(SET_COOKIE).iter().map(|c| c.to_str().unwrap().to_owned()).collect();
        let html = res.text().await.unwrap();
        if let Some(t) = csrf_of(&html) {
            self.csrf = t;
        }
        Page { status, location, cookies, html }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let res = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        self.read(res).await
    }

    /// Posts a form with the CSRF token of the last page read.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        let res = self.http.post(format!("{}{path}", self.base)).form(&form).send().await.unwrap();
        self.read(res).await
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Page {
        let p = self.get("/login").await;
        assert_eq!(p.status, StatusCode::OK);
        self.post("/login", &[("username", username), ("password", password), ("next", "/")]).await
    }
}

pub const PASSWORD: &str = "correct-horse-2026";

pub async fn user(app: &TestApp, username: &str, role: &str, scope: (&str, i64)) -> i64 {
    let mut body = json!({"username": username, "password": PASSWORD, "role": role});
    if !scope.0.is_empty() {
        body[scope.0] = json!(scope.1);
    }
    app.create("/api/v1/users", body).await
}

pub async fn staff_of(app: &TestApp, t: &Tenant, name: &str) -> Visitor {
    user(app, name, "staff", ("station_id", t.station)).await;
    let mut v = Visitor::new(app);
    let p = v.login(name, PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    v
}

pub fn chinese_404(p: &Page) {
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.html.contains("lang=\"zh-CN\"") && p.html.contains("页面不存在"), "{}", p.html);
}

/// The Chinese error beside `field` on a refused form.
pub fn beside(p: &Page, field: &str) -> String {
    let start = format!("<p class=\"error\" id=\"{field}-error\">");
    let at = p.html.find(&start).unwrap_or_else(|| panic!("no error beside {field}: {}", p.html)) + start.len();
    p.html[at..].split("</p>").next().unwrap().to_owned()
}
