// Fupin war map (挂图作战, contract §9): a small vanilla-JS app on the gateway's own routes, no external resource.
"use strict";

const I18N = {
  zh: {
    app: "扶贫挂图作战", login: "登录", username: "用户名", password: "密码", logout: "退出", lang: "English",
    bad_login: "用户名或密码错误", locked: "登录失败次数过多，账户已锁定，请稍后再试", failed: "请求失败",
    city: "市", county: "县", town: "镇", village: "村",
    population: "农村人口", poor_persons: "贫困人口", incidence: "贫困发生率", exited_div: "已摘帽/出列",
    households_title: "贫困户（按状态）", registered_hh: "建档立卡户", exits: "今年脱贫户数",
    villages_exited: "出列村", counties_exited: "摘帽县",
    funds: "扶贫资金（按项目）", allocated: "下达", paid: "已支付", pending: "待支付",
    loans: "扶贫小额信贷笔数", households_with_loans: "获贷户数", loan_rate: "获贷率", outstanding: "贷款余额（元）",
    grants: "教育资助人次", grants_amount: "教育资助金额（元）",
    settlements: "医疗救助结算人次", paid_by_payers: "救助与兜底支付（元）", patient_paid: "个人自付（元）",
    children: "下级区划", all: "全部", page: "页", prev: "上一页", next: "下一页",
    household_list: "贫困户名单", head: "户主", status: "状态", members: "人口", causes: "致贫原因",
    not_found: "未找到该区划，或不在您的管辖范围内。", back_home: "返回本级", as_of: "数据截至",
    none: "无", red: "≥3%", amber: "1%–3%", green: "<1%",
    identified: "识别", town_verified: "乡镇审核", registered: "已建档", exited: "已脱贫", returned: "返贫",
    removed: "已清退", rejected: "未通过",
    education_grants: "教育资助", medical_assistance: "医疗救助", loan_interest_subsidy: "贷款贴息",
    risk_compensation: "风险补偿", minimum_living: "农村低保", temporary_assistance: "临时救助",
    eco_ranger: "生态护林员", relocation: "易地扶贫搬迁",
    illness: "因病", disability: "因残", education: "因学", lack_skills: "缺技术", lack_labor: "缺劳力",
    lack_funds: "缺资金", disaster: "因灾", lack_land: "缺土地", lack_water: "缺水", transport: "交通条件落后",
    self_motivation: "自身发展动力不足", other: "其他",
  },
  en: {
    app: "Fupin war map", login: "Log in", username: "Username", password: "Password", logout: "Log out", lang: "中文",
    bad_login: "Unknown username or wrong password", locked: "Too many failed logins: the account is locked for a while",
    failed: "The request failed", city: "city", county: "county", town: "town", village: "village",
    population: "Rural population", poor_persons: "Poor persons", incidence: "Poverty incidence",
    exited_div: "Exited", households_title: "Poor households by status", registered_hh: "Registered households",
    exits: "Households exited this year", villages_exited: "Villages exited", counties_exited: "Counties exited",
    funds: "Funds per programme", allocated: "Allocated", paid: "Paid", pending: "Pending",
    loans: "Microcredit loans", households_with_loans: "Households with loans", loan_rate: "Loan rate",
    outstanding: "Outstanding (yuan)", grants: "Education grants", grants_amount: "Grant amount (yuan)",
    settlements: "Medical settlements", paid_by_payers: "Paid by assistance (yuan)", patient_paid: "Patient paid (yuan)",
    children: "Divisions below", all: "All", page: "page", prev: "Previous", next: "Next",
    household_list: "Households", head: "Head", status: "Status", members: "Members", causes: "Causes",
    not_found: "Division not found, or not in your area.", back_home: "Back to my division", as_of: "Figures as of",
    none: "none", red: "≥3%", amber: "1%–3%", green: "<1%",
    identified: "identified", town_verified: "town verified", registered: "registered", exited: "exited",
    returned: "returned", removed: "removed", rejected: "rejected",
    education_grants: "Education grants", medical_assistance: "Medical assistance",
    loan_interest_subsidy: "Interest subsidy", risk_compensation: "Risk compensation",
    minimum_living: "Minimum living", temporary_assistance: "Temporary aid",
    eco_ranger: "Eco rangers", relocation: "Relocation",
  },
};
const STATUSES = ["identified", "town_verified", "registered", "exited", "returned", "removed", "rejected"];
const GRID_PAGE = 100;
const HOUSEHOLD_PAGE = 50;
let lang = localStorage.getItem("fupin.lang") === "en" ? "en" : "zh";
let me = null;

function t(key) { return I18N[lang][key] || I18N.zh[key] || key; }
function paren(text) { return lang === "zh" ? `（${text}）` : ` (${text})`; }

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

async function api(method, path, body) {
  const headers = { "X-Requested-With": "fupin", Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(path, { method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await answer.json(); } catch (e) { data = null; }
  return { status: answer.status, data };
}

// Display formats (the browser test formats the API's values with the same rules).
function fmtInt(v) { return Number(v || 0).toLocaleString("en-US"); }
function fmtMoney(v) { const [i, f] = String(v || "0.00").split("."); return `${Number(i).toLocaleString("en-US")}.${f || "00"}`; }
function fmtPct(v) { return v === null || v === undefined ? "—" : `${(Number(v) * 100).toFixed(2)}%`; }

function main(...nodes) { const m = document.getElementById("main"); m.replaceChildren(...nodes); window.scrollTo(0, 0); }

function renderBar() {
  const bar = document.getElementById("bar");
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `${t("app")} · Fupin`;
  const items = [h("span", { class: "title" }, t("app"))];
  if (me) items.push(h("span", { class: "who", "data-testid": "who" }, `${me.username} · ${me.division_code}`));
  items.push(h("button", { type: "button", "data-testid": "lang", onclick: () => {
    lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("fupin.lang", lang); route(); } }, t("lang")));
  if (me) items.push(h("button", { type: "button", "data-testid": "logout", onclick: logout }, t("logout")));
  bar.replaceChildren(...items);
}

async function logout() {
  await api("POST", "/auth/logout");
  me = null;
  location.hash = "#/login";
  route();
}

function renderLogin() {
  renderBar();
  const error = h("div", { class: "error", "data-testid": "login-error", role: "alert" });
  const user = h("input", { name: "username", autocomplete: "username", required: true, "data-testid": "username" });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true,
    "data-testid": "password" });
  const form = h("form", { class: "login", onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const answer = await api("POST", "/auth/login", { username: user.value, password: pass.value });
    if (answer.status === 200) { me = answer.data; location.hash = `#/d/${me.division_code}`; route(); return; }
    error.textContent = answer.status === 429 ? t("locked") : answer.status === 401 ? t("bad_login") : t("failed");
  } }, h("h1", {}, t("app")), h("label", {}, t("username"), user), h("label", {}, t("password"), pass),
  h("button", { type: "submit", "data-testid": "login-submit" }, t("login")), error);
  main(form);
  user.focus();
}

function tile(key, label, value, sub) {
  return h("div", { class: "tile", "data-testid": `tile-${key}` }, h("div", { class: "label" }, label),
    h("div", { class: "value", "data-testid": `value-${key}` }, value), sub ? h("div", { class: "sub" }, sub) : null);
}

function statusChart(households) {
  const max = Math.max(1, ...STATUSES.map((k) => households[k] || 0));
  const row = 22, width = 320, left = 90;
  const svg = s("svg", { viewBox: `0 0 ${left + width + 70} ${STATUSES.length * row + 6}`, width: "100%", role: "img",
    "aria-label": t("households_title") });
  STATUSES.forEach((k, i) => {
    const v = households[k] || 0, w = Math.round((v / max) * width * 0.8);
    svg.append(s("text", { x: 0, y: i * row + 15 }, t(k)),
      s("rect", { class: "bar-status", x: left, y: i * row + 4, width: Math.max(w, v ? 2 : 0), height: 14, rx: 2 }),
      s("text", { x: left + w + 6, y: i * row + 15 }, fmtInt(v)));
  });
  return h("div", { class: "chart", "data-testid": "chart-households" }, h("h2", {}, t("households_title")), svg);
}

function fundsChart(funds) {
  const programs = Object.keys(funds);
  const max = Math.max(1, ...programs.map((p) => Number(funds[p].allocated)));
  const row = 34, width = 260, left = 120;
  const svg = s("svg", { viewBox: `0 0 ${left + width + 150} ${programs.length * row + 24}`, width: "100%", role: "img",
    "aria-label": t("funds") });
  programs.forEach((p, i) => {
    const paid = Number(funds[p].paid), pending = Number(funds[p].pending);
    const wp = (paid / max) * width, wq = (pending / max) * width;
    svg.append(s("text", { x: 0, y: i * row + 16 }, t(p)),
      s("rect", { class: "bar-paid", x: left, y: i * row + 5, width: wp, height: 16 }),
      s("rect", { class: "bar-pending", x: left + wp, y: i * row + 5, width: wq, height: 16 }),
      s("text", { x: left + wp + wq + 6, y: i * row + 17 }, `${fmtMoney(funds[p].paid)} / ${fmtMoney(funds[p].allocated)}`));
  });
  const y = programs.length * row + 14;
  svg.append(s("rect", { class: "bar-paid", x: left, y: y - 9, width: 10, height: 10 }),
    s("text", { x: left + 14, y }, t("paid")),
    s("rect", { class: "bar-pending", x: left + 90, y: y - 9, width: 10, height: 10 }),
    s("text", { x: left + 104, y }, t("pending")));
  return h("div", { class: "chart", "data-testid": "chart-funds" }, h("h2", {}, `${t("funds")}${paren(`${t("paid")} / ${t("allocated")}`)}`), svg);
}

function crumbs(d) {
  const parts = [];
  for (const a of d.ancestors || []) {
    parts.push(h("a", { href: `#/d/${a.code}`, "data-testid": "crumb" }, a.name || a.code), h("span", { class: "sep" }, "›"));
  }
  parts.push(h("span", { "data-testid": "crumb-current" }, d.name || d.code));
  return h("nav", { class: "crumbs", "data-testid": "breadcrumbs" }, parts);
}

function childGrid(d, page, filter) {
  const all = d.children || [];
  const shown = filter ? all.filter((c) => c.color === filter) : all;
  const pages = Math.max(1, Math.ceil(shown.length / GRID_PAGE));
  page = Math.min(Math.max(1, page), pages);
  const counts = { red: 0, amber: 0, green: 0 };
  all.forEach((c) => { counts[c.color] += 1; });
  const go = (p, f) => { location.hash = `#/d/${d.code}?page=${p}${f ? `&color=${f}` : ""}`; };
  const toolbar = h("div", { class: "toolbar" },
    h("button", { type: "button", class: filter ? "" : "on", onclick: () => go(1, "") }, `${t("all")} ${all.length}`),
    ["red", "amber", "green"].map((c) => h("button", { type: "button", class: filter === c ? "on" : "",
      "data-testid": `filter-${c}`, onclick: () => go(1, c) }, h("span", { class: "legend" }, h("i", { class: c })),
      `${t(c)} ${counts[c]}`)));
  const cells = shown.slice((page - 1) * GRID_PAGE, page * GRID_PAGE).map((c) =>
    h("a", { class: `cell ${c.color}`, href: `#/d/${c.code}`, "data-testid": "child", "data-code": c.code,
      "data-color": c.color, title: `${c.name || c.code}: ${fmtPct(c.incidence)}` },
    h("div", { class: "n" }, c.name || c.code), h("div", { class: "i" }, fmtPct(c.incidence)),
    h("div", { class: "h" }, `${t("registered_hh")} ${fmtInt(c.registered_households)}`)));
  const pager = pages > 1 ? h("div", { class: "pager" },
    h("button", { type: "button", disabled: page <= 1, onclick: () => go(page - 1, filter) }, t("prev")),
    h("span", { "data-testid": "grid-page" }, `${page} / ${pages}`),
    h("button", { type: "button", disabled: page >= pages, onclick: () => go(page + 1, filter) }, t("next"))) : null;
  return h("section", { "data-testid": "children" }, h("h2", {}, `${t("children")}${paren(all.length)}`), toolbar,
    h("div", { class: "grid" }, cells), pager);
}

async function householdList(code, page) {
  const answer = await api("GET", `/registry/warmap/villages/${code}/households?page=${page}&page_size=${HOUSEHOLD_PAGE}`);
  if (answer.status !== 200) return h("section", {}, h("p", { class: "muted" }, t("failed")));
  const body = answer.data;
  const pages = Math.max(1, Math.ceil(body.total / HOUSEHOLD_PAGE));
  const go = (p) => { location.hash = `#/d/${code}?page=${p}`; };
  const rows = body.households.map((x) => h("tr", { "data-testid": "household" },
    h("td", {}, x.head_name), h("td", {}, h("span", { class: `status ${x.status}` }, t(x.status))),
    h("td", {}, fmtInt(x.members)), h("td", {}, (x.causes || []).map(t).join("、") || t("none"))));
  return h("section", { "data-testid": "households" }, h("h2", {}, `${t("household_list")}${paren(fmtInt(body.total))}`),
    h("table", { class: "households" }, h("thead", {}, h("tr", {}, h("th", {}, t("head")), h("th", {}, t("status")),
      h("th", {}, t("members")), h("th", {}, t("causes")))), h("tbody", {}, rows)),
    pages > 1 ? h("div", { class: "pager" },
      h("button", { type: "button", disabled: page <= 1, onclick: () => go(page - 1) }, t("prev")),
      h("span", {}, `${page} / ${pages}`),
      h("button", { type: "button", disabled: page >= pages, onclick: () => go(page + 1) }, t("next"))) : null);
}

function notFound() {
  main(h("div", { class: "notfound", "data-testid": "not-found" }, h("h1", {}, "404"), h("p", {}, t("not_found")),
    h("a", { href: `#/d/${me.division_code}` }, t("back_home"))));
}

async function renderDivision(code, page, filter) {
  renderBar();
  const answer = await api("GET", `/dashboard/divisions/${code}`);
  if (answer.status === 401) { me = null; renderLogin(); return; }
  if (answer.status === 404 || answer.status === 422) { notFound(); return; }
  if (answer.status !== 200) { main(h("p", { class: "error" }, `${t("failed")} (${answer.status})`)); return; }
  const d = answer.data;
  const hh = d.households, mc = d.microcredit;
  const tiles = h("div", { class: "tiles" },
    tile("population", t("population"), fmtInt(d.population)),
    tile("poor_persons", t("poor_persons"), fmtInt(d.poor_persons)),
    tile("incidence", t("incidence"), fmtPct(d.incidence), d.exited ? t("exited_div") : null),
    tile("registered", t("registered_hh"), fmtInt(hh.registered)),
    tile("exits", t("exits"), fmtInt(d.exits.households_this_year)),
    tile("villages_exited", t("villages_exited"), fmtInt(d.exits.villages_exited)),
    tile("counties_exited", t("counties_exited"), fmtInt(d.exits.counties_exited)),
    tile("loans", t("loans"), fmtInt(mc.loans)),
    tile("households_with_loans", t("households_with_loans"), fmtInt(mc.households_with_loans)),
    tile("loan_rate", t("loan_rate"), fmtPct(mc.loan_rate)),
    tile("outstanding", t("outstanding"), fmtMoney(mc.outstanding)),
    tile("grants", t("grants"), fmtInt(d.education.grants)),
    tile("grants_amount", t("grants_amount"), fmtMoney(d.education.amount)),
    tile("settlements", t("settlements"), fmtInt(d.medical.settlements)),
    tile("paid_by_payers", t("paid_by_payers"), fmtMoney(d.medical.paid_by_payers)),
    tile("patient_paid", t("patient_paid"), fmtMoney(d.medical.patient_paid)));
  const badge = h("span", { class: `badge ${d.color}`, "data-testid": "color" }, fmtPct(d.incidence));
  const heading = h("h1", { class: "division", "data-testid": "division-name", "data-code": d.code },
    `${d.name || d.code}`, h("span", { class: "muted" }, ` · ${t(d.level)}`), badge);
  const lower = d.level === "village" ? await householdList(d.code, page) : childGrid(d, page, filter);
  main(crumbs(d), heading, tiles, h("div", { class: "charts" }, statusChart(hh), fundsChart(d.funds)), lower,
    h("div", { class: "asof" }, `${t("as_of")} ${d.as_of ? new Date(d.as_of).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB") : "—"}`));
}

async function route() {
  if (!me) {
    const answer = await api("GET", "/auth/me");
    me = answer.status === 200 ? answer.data : null;
  }
  if (!me) { renderLogin(); return; }
  const m = (location.hash || "").match(/^#\/d\/([0-9]+)(?:\?(.*))?$/);
  if (!m) { location.hash = `#/d/${me.division_code}`; return; }
  const params = new URLSearchParams(m[2] || "");
  await renderDivision(m[1], parseInt(params.get("page") || "1", 10) || 1, params.get("color") || "");
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
