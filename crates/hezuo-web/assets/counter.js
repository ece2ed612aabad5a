// hezuo counter (收银开单): the cart, 收款, and the queue of sales kept in the browser.
//
// Every sale is stored in the browser (IndexedDB; localStorage where it is missing) before it
// is sent, and leaves the store only on a 2xx answer. Its key, POS-{station}-{device}-{n}, is
// the order's external_id: sending it again — a second press, a retry after a lost answer, an
// upload from another tab — books it once, since the server answers a repeated key with the
// order it already booked. Without this script the page's form works as plain HTML.
(function () {
  "use strict";
  var form = document.getElementById("counter");
  if (!form || !window.fetch || typeof BigInt !== "function") { return; }

  var station = Number(form.getAttribute("data-station"));
  var csrf = form.getAttribute("data-csrf");
  var stationName = document.getElementById("station-name").textContent;
  var q = document.getElementById("q");
  var qMessage = document.getElementById("q-message");
  var list = document.getElementById("products");
  var tbody = form.querySelector("#cart tbody");
  var totalEl = document.getElementById("total");
  var general = document.getElementById("general-error");
  var payment = form.querySelector("select[name=payment]");
  var checkoutButton = document.getElementById("checkout");
  var pendingEl = document.getElementById("pending");
  var queueEl = document.getElementById("queue");
  var queueList = document.getElementById("queue-list");
  var provisional = document.getElementById("provisional");
  var PAY = { cash: "现金", wechat: "微信", alipay: "支付宝", other: "其他" };
  var RETRY_MS = 5000;
  var STALE_SENDING_MS = 60000;
  var MIRROR = "hezuo.counter.pending";

  // ---- exact amounts: quantities in thousandths, money in cents (docs/domain.md "A sale") ----
  function thousandths(s) {
    var m = /^(\d{1,12})(?:\.(\d{1,3}))?$/.exec(String(s).trim());
    if (!m) { return null; }
    var t = BigInt(m[1]) * 1000n + BigInt((m[2] || "").padEnd(3, "0"));
    return t > 0n ? t : null;
  }
  function cents(s) {
    var m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(String(s).trim());
    return m ? BigInt(m[1]) * 100n + BigInt((m[2] || "").padEnd(2, "0")) : null;
  }
  // round(quantity × unit price) to the cent, half away from zero (both are never negative).
  function gross(qty, price) { return (qty * price + 500n) / 1000n; }
  function yuan(c) { var s = c.toString().padStart(3, "0"); return s.slice(0, -2) + "." + s.slice(-2); }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  // ---- the cart ----
  var cart = [];
  tbody.querySelectorAll("tr[data-product-id]").forEach(function (tr) {
    cart.push({
      id: Number(tr.getAttribute("data-product-id")),
      name: tr.getAttribute("data-name"),
      unit: tr.getAttribute("data-unit"),
      price: tr.getAttribute("data-price"),
      qty: tr.querySelector("input[name=quantity]").value
    });
  });

  function render() {
    tbody.textContent = "";
    cart.forEach(function (r) {
      var tr = el("tr", { "data-product-id": String(r.id) });
      var name = el("td", {}, r.name);
      var qtd = el("td");
      var input = el("input", { name: "quantity", inputmode: "decimal", "class": "qty", autocomplete: "off", "aria-label": r.name + " 数量（" + r.unit + "）" });
      input.value = r.qty;
      input.addEventListener("input", function () { r.qty = input.value; totals(); });
      input.addEventListener("keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); q.focus(); }
      });
      qtd.appendChild(input);
      qtd.appendChild(document.createTextNode(" "));
      qtd.appendChild(el("span", { "class": "unit" }, r.unit));
      var remove = el("button", { type: "button", "class": "remove secondary", "aria-label": "移除 " + r.name }, "移除");
      remove.addEventListener("click", function () {
        cart = cart.filter(function (x) { return x !== r; });
        render();
        q.focus();
      });
      var rtd = el("td");
      rtd.appendChild(remove);
      tr.appendChild(name);
      tr.appendChild(qtd);
      tr.appendChild(el("td", { "class": "num" }, r.price));
      tr.appendChild(el("td", { "class": "num line-total" }, ""));
      tr.appendChild(rtd);
      tbody.appendChild(tr);
    });
    totals();
  }

  // The lines' totals and the sum, as the server will book them; null while a quantity is wrong.
  function totals() {
    var sum = 0n, ok = true;
    cart.forEach(function (r) {
      var tr = tbody.querySelector('tr[data-product-id="' + r.id + '"]');
      var t = thousandths(r.qty), p = cents(r.price);
      var cell = tr && tr.querySelector(".line-total");
      if (t === null || p === null) {
        ok = false;
        if (cell) { cell.textContent = "—"; }
      } else {
        var g = gross(t, p);
        sum += g;
        if (cell) { cell.textContent = yuan(g); }
      }
    });
    totalEl.textContent = ok ? yuan(sum) : "—";
    return ok ? sum : null;
  }

  function add(li) {
    var id = Number(li.getAttribute("data-product-id"));
    var row = cart.filter(function (r) { return r.id === id; })[0];
    if (row) {
      var t = thousandths(row.qty);
      row.qty = t === null ? "1" : trimQty(t + 1000n);
    } else {
      cart.push({ id: id, name: li.getAttribute("data-name"), unit: li.getAttribute("data-unit"), price: li.getAttribute("data-price"), qty: "1" });
    }
    clearErrors();
    render();
  }
  function trimQty(t) {
    var whole = (t / 1000n).toString(), frac = (t % 1000n).toString().padStart(3, "0").replace(/0+$/, "");
    return frac ? whole + "." + frac : whole;
  }

  function products() { return Array.prototype.slice.call(list.querySelectorAll("li[data-product-id]")); }
  function matches(li, text) {
    var t = text.toLowerCase();
    return li.getAttribute("data-name").toLowerCase().indexOf(t) >= 0 || li.getAttribute("data-sku").toLowerCase().indexOf(t) >= 0;
  }
  function filter() {
    var text = q.value.trim();
    products().forEach(function (li) { li.hidden = text !== "" && !matches(li, text); });
  }
  // A code typed or scanned: the product with that merchant code, else that name, else the only match.
  function lookup(text) {
    var all = products();
    var exact = all.filter(function (li) { return li.getAttribute("data-sku") === text; })[0] ||
      all.filter(function (li) { return li.getAttribute("data-name") === text; })[0];
    if (exact) { return exact; }
    var some = all.filter(function (li) { return matches(li, text); });
    return some.length === 1 ? some[0] : null;
  }
  q.addEventListener("input", function () { qMessage.hidden = true; filter(); });
  q.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") { return; }
    e.preventDefault();
    var text = q.value.trim();
    if (text === "") { return; }
    var li = lookup(text);
    if (li) {
      add(li);
      q.value = "";
      filter();
      qMessage.hidden = true;
    } else {
      qMessage.textContent = "没有找到编码或名称为“" + text + "”的有库存商品";
      qMessage.hidden = false;
    }
  });

  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("button[name=op]") : null;
    if (!b) { return; }
    e.preventDefault();
    var op = b.value;
    if (op === "checkout") { checkout(); return; }
    if (op.indexOf("add:") === 0) { add(b.closest("li")); return; }
    if (op.indexOf("remove:") === 0) {
      var id = Number(op.slice(7));
      cart = cart.filter(function (r) { return r.id !== id; });
      render();
      return;
    }
    if (op === "find") { q.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" })); }
  });

  function clearErrors() {
    general.hidden = true;
    tbody.querySelectorAll(".line-error").forEach(function (p) { p.remove(); });
    tbody.querySelectorAll("input[aria-invalid]").forEach(function (i) { i.removeAttribute("aria-invalid"); });
  }
  function lineError(index, text) {
    var r = cart[index];
    var tr = r && tbody.querySelector('tr[data-product-id="' + r.id + '"]');
    if (!tr) { showGeneral(text); return; }
    tr.cells[0].appendChild(el("p", { "class": "error line-error", role: "alert" }, text));
    tr.querySelector("input[name=quantity]").setAttribute("aria-invalid", "true");
  }
  function showGeneral(text) { general.textContent = text; general.hidden = false; }

  // ---- the store: IndexedDB, or localStorage where it is missing ----
  var db = null, ready = false;
  var LS_QUEUE = "hezuo.counter.queue", LS_SEQ = "hezuo.counter.seq";
  function randomId() {
    var a = new Uint8Array(6);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b % 36).toString(36); }).join("");
  }
  function openDb() {
    return new Promise(function (resolve) {
      var req;
      try { req = window.indexedDB && window.indexedDB.open("hezuo-counter", 1); } catch (e) { req = null; }
      if (!req) { resolve(null); return; }
      req.onupgradeneeded = function () {
        req.result.createObjectStore("sales", { keyPath: "key" });
        req.result.createObjectStore("meta");
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { resolve(null); };
    });
  }
  function tx(mode, work) {
    return new Promise(function (resolve, reject) {
      var t = db.transaction(["sales", "meta"], mode), out;
      t.oncomplete = function () { resolve(out); };
      t.onerror = t.onabort = function () { reject(t.error); };
      work(t, function (v) { out = v; });
    });
  }
  function lsRead() { try { return JSON.parse(localStorage.getItem(LS_QUEUE) || "[]"); } catch (e) { return []; } }
  function lsWrite(sales) { localStorage.setItem(LS_QUEUE, JSON.stringify(sales)); }
  var store = {
    // Numbers the sale and keeps it in one transaction, so two tabs never take the same number.
    // The device id lives with the counter: a cleared store starts a new device, never old keys.
    add: function (sale) {
      function keyed(seq) {
        sale.n = seq.n;
        sale.key = "POS-" + station + "-" + seq.device + "-" + seq.n;
        return sale;
      }
      if (!db) {
        var seq = JSON.parse(localStorage.getItem(LS_SEQ) || "null") || { device: randomId(), n: 0 };
        seq.n += 1;
        localStorage.setItem(LS_SEQ, JSON.stringify(seq));
        var sales = lsRead();
        sales.push(keyed(seq));
        lsWrite(sales);
        return Promise.resolve(sale);
      }
      return tx("readwrite", function (t, done) {
        var meta = t.objectStore("meta"), got = meta.get("seq");
        got.onsuccess = function () {
          var seq = got.result || { device: randomId(), n: 0 };
          seq.n += 1;
          meta.put(seq, "seq");
          t.objectStore("sales").put(keyed(seq));
          done(sale);
        };
      });
    },
    all: function () {
      if (!db) { return Promise.resolve(lsRead()); }
      return tx("readonly", function (t, done) {
        var got = t.objectStore("sales").getAll();
        got.onsuccess = function () { done(got.result); };
      });
    },
    put: function (sale) {
      if (!db) {
        lsWrite(lsRead().map(function (s) { return s.key === sale.key ? sale : s; }));
        return Promise.resolve();
      }
      return tx("readwrite", function (t) {
        // Only a sale still stored is written back: one another tab uploaded meanwhile stays gone.
        var store = t.objectStore("sales"), got = store.get(sale.key);
        got.onsuccess = function () { if (got.result) { store.put(sale); } };
      });
    },
    remove: function (key) {
      if (!db) {
        lsWrite(lsRead().filter(function (s) { return s.key !== key; }));
        return Promise.resolve();
      }
      return tx("readwrite", function (t) { t.objectStore("sales").delete(key); });
    }
  };

  // ---- sending ----
  function body(sale) {
    return {
      station_id: sale.station, channel: "own", external_id: sale.key, placed_at: sale.placed_at,
      payment_method: sale.payment,
      lines: sale.lines.map(function (l) { return { product_id: l.product_id, quantity: l.quantity, unit_price: l.unit_price }; })
    };
  }
  // ok: booked (201) or booked before (200); refused: the server said no (4xx), nothing booked;
  // offline: no answer; later: an answer that is no verdict (a 5xx, the session gone).
  function send(sale) {
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, 20000) : null;
    return fetch("/counter/sales", {
      method: "POST", credentials: "same-origin", redirect: "manual", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body(sale)), signal: ctl ? ctl.signal : undefined
    }).then(function (res) {
      if (res.type === "opaqueredirect" || res.status === 401) {
        return { kind: "later", why: "登录已过期：请重新登录，之后自动上传。" };
      }
      if (res.ok) { return res.json().then(function (j) { return { kind: "ok", order: j }; }); }
      return res.json().catch(function () { return null; }).then(function (j) {
        var err = (j && j.error) || { message: "服务器暂时无法处理（" + res.status + "）" };
        if (res.status >= 500 || res.status === 408 || res.status === 429) { return { kind: "later", why: err.message }; }
        if (res.status === 403 && err.code === "csrf") { return { kind: "later", why: "页面已过期：请刷新本页，之后自动上传。" }; }
        return { kind: "refused", error: err };
      });
    }, function () {
      return { kind: "offline" };
    }).then(function (r) {
      if (timer) { clearTimeout(timer); }
      return r;
    });
  }

  var busy = false;
  function checkout() {
    if (busy) { return; }
    clearErrors();
    if (!cart.length) { showGeneral("购物车是空的：请先加入商品。"); return; }
    var bad = false;
    cart.forEach(function (r, i) {
      if (thousandths(r.qty) === null) { lineError(i, "数量须大于 0，最多三位小数"); bad = true; }
    });
    var sum = totals();
    if (bad || sum === null) { return; }
    busy = true;
    checkoutButton.disabled = true;
    var now = new Date();
    var sale = {
      station: station, created: now.getTime(), placed_at: now.toISOString(), payment: payment.value,
      state: "sending", total: yuan(sum),
      lines: cart.map(function (r) {
        return { product_id: r.id, quantity: r.qty.trim(), unit_price: r.price, name: r.name, unit: r.unit, total: yuan(gross(thousandths(r.qty), cents(r.price))) };
      })
    };
    var leaving = false;
    opening.then(function () {
      return store.add(sale);
    }).then(function () {
      return send(sale);
    }).then(function (r) {
      if (r.kind === "ok") {
        leaving = true;
        return store.remove(sale.key).then(function () { window.location.assign(r.order.receipt + "?from=counter"); });
      }
      if (r.kind === "refused") {
        return store.remove(sale.key).then(function () {
          if (r.error.line !== null && r.error.line !== undefined) { lineError(r.error.line, r.error.message); } else { showGeneral(r.error.message); }
        });
      }
      sale.state = "waiting";
      return store.put(sale).then(function () {
        cart = [];
        render();
        showProvisional(sale, r.why);
      });
    }).catch(function (e) {
      showGeneral("本笔销售未能保存在本机，未收款：" + e);
    }).then(function () {
      if (!leaving) {
        busy = false;
        checkoutButton.disabled = false;
      }
      return refreshPending();
    });
  }

  function time(iso) {
    var d = new Date(iso);
    function two(n) { return String(n).padStart(2, "0"); }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function showProvisional(sale, why) {
    provisional.textContent = "";
    provisional.appendChild(el("h2", {}, "小票（待上传）"));
    provisional.appendChild(el("p", { "class": "warning", id: "provisional-mark" }, "待上传：" + (why || "暂时连不上服务器，本笔销售已保存在本机，连接恢复后自动上传。")));
    provisional.appendChild(el("p", {}, stationName));
    provisional.appendChild(el("p", {}, "单号：" + sale.key));
    provisional.appendChild(el("p", {}, "时间：" + time(sale.placed_at)));
    var table = el("table");
    sale.lines.forEach(function (l) {
      var tr = el("tr");
      tr.appendChild(el("td", {}, l.name + " " + l.quantity + " " + l.unit + " × " + l.unit_price));
      tr.appendChild(el("td", { "class": "num" }, l.total));
      table.appendChild(tr);
    });
    provisional.appendChild(table);
    provisional.appendChild(el("p", { "class": "total" }, "合计：" + sale.total + " 元"));
    provisional.appendChild(el("p", {}, "收款方式：" + (PAY[sale.payment] || sale.payment)));
    var print = el("button", { type: "button", "class": "no-print" }, "打印");
    print.addEventListener("click", function () { window.print(); });
    var close = el("button", { type: "button", "class": "secondary no-print", id: "provisional-close" }, "继续收银");
    close.addEventListener("click", function () { provisional.hidden = true; q.focus(); });
    provisional.appendChild(print);
    provisional.appendChild(document.createTextNode(" "));
    provisional.appendChild(close);
    provisional.hidden = false;
  }

  // ---- the queue on the page, and its upload ----
  function mine(sales) {
    return sales.filter(function (s) { return s.station === station; }).sort(function (a, b) { return a.created - b.created || a.n - b.n; });
  }
  function refreshPending() {
    return store.all().then(function (sales) {
      try { localStorage.setItem(MIRROR, String(sales.length)); } catch (e) { /* the warning on 退出 is then missing */ }
      var here = mine(sales);
      pendingEl.textContent = here.length + " 笔待上传";
      pendingEl.hidden = here.length === 0;
      queueList.textContent = "";
      here.forEach(function (s) {
        var li = el("li", { "data-key": s.key, "class": s.state === "refused" ? "refused" : "waiting" });
        li.appendChild(el("span", {}, time(s.placed_at) + " · " + s.total + " 元 · " + s.key + " · "));
        if (s.state === "refused") {
          li.appendChild(el("strong", { "class": "error reason" }, "被拒绝：" + s.reason));
          var retry = el("button", { type: "button", "class": "retry secondary" }, "重试");
          retry.addEventListener("click", function () {
            s.state = "waiting";
            s.reason = "";
            store.put(s).then(flush);
          });
          var discard = el("button", { type: "button", "class": "discard secondary" }, "放弃");
          discard.addEventListener("click", function () {
            if (window.confirm("放弃这笔销售（" + s.total + " 元）？它不会记账，也不会再上传。")) {
              store.remove(s.key).then(refreshPending);
            }
          });
          li.appendChild(document.createTextNode(" "));
          li.appendChild(retry);
          li.appendChild(document.createTextNode(" "));
          li.appendChild(discard);
        } else {
          li.appendChild(el("span", { "class": "state" }, "待上传"));
        }
        queueList.appendChild(li);
      });
      queueEl.hidden = here.length === 0;
    });
  }

  // Oldest first. A refused sale waits for the clerk; no answer stops the round until the next.
  var flushing = false;
  function flush() {
    if (flushing || !ready) { return Promise.resolve(); }
    flushing = true;
    var now = Date.now();
    return store.all().then(function (sales) {
      var due = mine(sales).filter(function (s) {
        return s.state === "waiting" || (s.state === "sending" && now - s.created > STALE_SENDING_MS);
      });
      function next() {
        var s = due.shift();
        if (!s) { return null; }
        return send(s).then(function (r) {
          if (r.kind === "ok") { return store.remove(s.key).then(next); }
          if (r.kind === "refused") {
            s.state = "refused";
            s.reason = r.error.message;
            return store.put(s).then(next);
          }
          return null;
        });
      }
      return next();
    }).catch(function () { return null; }).then(function () {
      flushing = false;
      return refreshPending();
    });
  }

  window.hezuoCounter = { flush: flush };
  var opening = openDb().then(function (opened) { db = opened; ready = true; });
  opening.then(function () {
    render();
    filter();
    refreshPending().then(flush);
    setInterval(flush, RETRY_MS);
    window.addEventListener("online", flush);
    window.addEventListener("storage", function (e) { if (e.key === MIRROR) { refreshPending(); } });
  });
})();
