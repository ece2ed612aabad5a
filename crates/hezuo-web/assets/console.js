// hezuo console: progressive enhancement only; every page works without it.
(function () {
  "use strict";
  // Buttons that print the page.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  // 退出 while the counter still keeps sales in this browser (counter.js counts them here).
  var logout = document.getElementById("logout");
  if (logout && logout.form) {
    logout.form.addEventListener("submit", function (e) {
      var waiting = 0;
      try { waiting = Number(window.localStorage.getItem("hezuo.counter.pending") || "0"); } catch (err) { waiting = 0; }
      if (waiting > 0 && !window.confirm("还有 " + waiting + " 笔销售保存在本浏览器中、尚未上传。退出后它们仍保留，下次登录并打开收银页时上传。确定退出？")) {
        e.preventDefault();
      }
    });
  }
  // The users' form: only the scope field the chosen role needs (without the script every
  // field shows, each saying for which role it is required).
  var role = document.querySelector("select#role");
  if (role) {
    var scoped = document.querySelectorAll("[data-for-role]");
    var show = function () {
      scoped.forEach(function (f) { f.hidden = f.getAttribute("data-for-role") !== role.value; });
    };
    role.addEventListener("change", show);
    show();
  }
  // Copy buttons: the text of the element they name (a webhook's secret, shown once).
  document.querySelectorAll("[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) { return; }
      var done = function () { b.textContent = "已复制"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(el.textContent).then(done);
      } else {
        var range = document.createRange();
        range.selectNodeContents(el);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        if (document.execCommand("copy")) { done(); }
      }
    });
  });
  // Forms that ask for a confirmation first.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
  // The village's income chart: the twelve months stacked, the running total and the target.
  var el = document.getElementById("income-chart");
  if (el && window.echarts) {
    var d = JSON.parse(el.getAttribute("data-chart"));
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 40, containLabel: true },
      xAxis: { type: "category", data: d.months },
      yAxis: { type: "value", name: "元" },
      series: [
        { name: "集体提成", type: "bar", stack: "income", data: d.sales_share },
        { name: "投资收益（分红）", type: "bar", stack: "income", data: d.dividends },
        { name: "其他经营收入", type: "bar", stack: "income", data: d.other },
        { name: "累计收入", type: "line", data: d.cumulative, symbol: "circle" },
        { name: "年度目标", type: "line", data: d.target, symbol: "none", lineStyle: { type: "dashed" } }
      ]
    });
    el.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { chart.resize(); });
    window.addEventListener("beforeprint", function () { chart.resize(); });
  }
})();
