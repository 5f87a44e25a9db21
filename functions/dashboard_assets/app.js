// The phone dashboard: one module, no framework, every value rendered as text (never as HTML).
const API = "/api/alpaca";
const TOKEN_KEY = "execution-engine.token";
const REFRESH_MS = 5000;
const CLOCK_MS = 60000; // the clock changes slowly: one upstream read a minute, not one per refresh
const RETRIES = 2; // a press is retried on a network error, 429 or 5xx, always with the same key

const $ = (selector, root = document) => root.querySelector(selector);
const panel = (id) => $(`[data-testid="${id}"]`);
const busy = new Set(); // actions in flight, e.g. "cancel:<order id>": their buttons stay disabled
const done = new Set(); // cancels and closes that succeeded: never offered again on this page
let refreshing = null;
let clockRead = null; // { at, promise }
let runMissing = null; // { at, error }: GET /eod answered 404
let onDemandRun = null; // the last "flatten now" pressed on this page
let timer = null;

class SignedOut extends Error {}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.reason = (body && body.error) || "";
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function takeTokenFromFragment() {
  const found = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!found) return;
  const value = decodeURIComponent(found[1]);
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  history.replaceState(null, "", location.pathname + location.search); // the fragment never stays
}

async function api(method, path, { body, key } = {}) {
  const headers = { Authorization: `Bearer ${token()}`, Accept: "application/json" };
  if (key) headers["Idempotency-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.status === 401) {
    signOut("Your token was refused: sign in again.");
    throw new SignedOut();
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// ---------- formatting

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

function num(value) {
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function usd(value) {
  const n = num(value);
  return n === null ? "–" : money.format(n);
}

function signed(value) {
  const n = num(value);
  if (n === null) return "–";
  return (n > 0 ? "+" : "") + money.format(n);
}

function tone(node, value) {
  const n = num(value);
  node.classList.toggle("up", n !== null && n > 0);
  node.classList.toggle("down", n !== null && n < 0);
}

function time(value) {
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? String(value || "–") : at.toLocaleTimeString([], { hour12: false });
}

function duration(ms) {
  const minutes = Math.max(0, Math.round(ms / 60000));
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function row(title, sub, extra) {
  const item = el("li");
  const main = el("div", "main");
  main.append(el("div", "title", title), el("div", "sub", sub));
  item.append(main);
  if (extra) item.append(extra);
  return item;
}

function list(id, items, empty) {
  const target = $("[data-list]", panel(id));
  target.replaceChildren(...items);
  note(id, items.length ? "" : empty);
}

function note(id, text, error = false) {
  const node = $("[data-note]", panel(id));
  node.textContent = text;
  node.classList.toggle("error", error);
}

function field(id, name, text) {
  const node = $(`[data-field="${name}"]`, panel(id));
  node.textContent = text;
  return node;
}

// ---------- actions: confirm, one request per press, button disabled while it is in flight

function actionButton(label, action, target, className = "small") {
  const button = el("button", className, label);
  button.type = "button";
  button.dataset.action = action;
  button.dataset.target = target;
  button.disabled = busy.has(`${action}:${target}`) || done.has(`${action}:${target}`);
  return button;
}

async function send(method, path, body) {
  const key = crypto.randomUUID(); // one key per press, reused by its retries
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await api(method, path, { body, key });
    } catch (error) {
      const retryable =
        !(error instanceof SignedOut) &&
        (!(error instanceof ApiError) || error.status === 429 || error.status >= 500);
      if (!retryable || attempt >= RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
    }
  }
}

async function press(button, id, name, question, method, path, body, { once = false } = {}) {
  if (button.disabled || busy.has(name)) return;
  if (!window.confirm(question)) return;
  busy.add(name);
  button.disabled = true; // before anything is awaited: a second tap finds it disabled
  note(id, "Sending…");
  try {
    const answer = await send(method, path, body);
    if (once) done.add(name);
    if (name === "flatten") onDemandRun = answer; // GET /eod reports the scheduled run only
    note(id, describe(answer));
  } catch (error) {
    if (!(error instanceof SignedOut)) note(id, `Failed: ${error.message}`, true);
  } finally {
    busy.delete(name);
    button.disabled = done.has(name);
    refresh();
  }
}

function describe(answer) {
  if (!answer || typeof answer !== "object") return "Done.";
  if (answer.trading_state) return `Trading state is now ${answer.trading_state}.`;
  if (answer.run) return `Flatten run ${answer.state}: ${answer.symbols.length} symbol(s).`;
  if (answer.status) return `Done: ${answer.status}.`;
  return "Done.";
}

function onPress(event) {
  const button = event.target.closest("button");
  if (!button || !panel("panels").contains(button)) return;
  const { action, target, state } = button.dataset;
  if (state) {
    press(button, "trading-state", `state:${state}`, `Set the trading state to ${state}?`, "PUT", "/risk", {
      trading_state: state,
    });
  } else if (action === "cancel") {
    press(button, "orders", `cancel:${target}`, `Cancel order ${target}?`, "DELETE",
      `/orders/${encodeURIComponent(target)}`, undefined, { once: true });
  } else if (action === "close") {
    press(button, "positions", `close:${target}`, `Close the whole ${target} position?`, "POST",
      `/positions/${encodeURIComponent(target)}/close`, undefined, { once: true });
  } else if (action === "flatten") {
    runMissing = null;
    press(button, "flatten", "flatten", "Flatten now: cancel every order and close every position?",
      "POST", "/flatten", {});
  }
}

// ---------- panels

function showAccount(account) {
  field("equity", "equity", usd(account.equity));
  field("equity", "cash", usd(account.cash));
  field("equity", "buying_power", usd(account.buying_power));
  const equity = num(account.equity);
  const last = num(account.last_equity);
  const pl = equity === null || last === null ? null : equity - last;
  const pct = pl === null || !last ? "" : ` (${((pl / last) * 100).toFixed(2)}%)`;
  tone(field("equity", "day_pl", signed(pl) + pct), pl);
  note("equity", account.status === "ACTIVE" ? "" : `Account status: ${account.status}`);
}

function showPositions(positions) {
  list("positions", positions.map((p) => {
    const close = actionButton("Close", "close", p.symbol);
    const item = row(p.symbol, `${p.qty} @ ${usd(p.current_price)} · value ${usd(p.market_value)}`, close);
    const pl = el("div", "num", signed(p.unrealized_pl));
    tone(pl, p.unrealized_pl);
    item.insertBefore(pl, close);
    item.dataset.symbol = p.symbol;
    return item;
  }), "No open positions.");
}

function showOrders(orders) {
  list("orders", orders.map((o) => {
    const price = o.limit_price ? ` @ ${usd(o.limit_price)}` : "";
    const sub = `${o.side} ${o.qty ?? usd(o.notional)} ${o.type}${price} · ${o.status}`;
    const item = row(o.symbol, sub, actionButton("Cancel", "cancel", o.id));
    item.dataset.orderId = o.id;
    return item;
  }), "No open orders.");
}

function showFills(page, analytics) {
  const bySymbol = (analytics && analytics.by_symbol) || {};
  const fills = page.fills.slice(-20).reverse();
  list("fills", fills.map((f) => {
    const slip = bySymbol[f.symbol] && bySymbol[f.symbol].slippage_bps.mean;
    const sub = `${f.side} ${f.qty} @ ${usd(f.price)} · ${time(f.transaction_time)}`;
    return row(f.symbol, sub, el("div", "num", slip == null ? "slip –" : `slip ${Number(slip).toFixed(1)} bps`));
  }), "No fills in the last week.");
}

function showRisk(risk) {
  const state = risk.trading_state;
  const pill = field("trading-state", "trading_state", state);
  pill.className = `pill ${state}`;
  for (const button of panel("trading-state").querySelectorAll("[data-state]")) {
    button.setAttribute("aria-pressed", String(button.dataset.state === state));
    button.disabled = busy.has(`state:${button.dataset.state}`);
  }
  note("trading-state", risk.reactivate_at ? `Active again at ${time(risk.reactivate_at)}` : "");
}

function riskUnavailable(error) {
  field("trading-state", "trading_state", "unavailable").className = "pill";
  for (const button of panel("trading-state").querySelectorAll("[data-state]")) button.disabled = true;
  note("trading-state", error.status === 403 ? "Needs a token with admin scope." : error.message, true);
}

function showClock(clock) {
  const now = new Date(clock.timestamp).getTime(); // the market's own time, not this phone's
  const text = clock.is_open
    ? `Market open · closes in ${duration(new Date(clock.next_close) - now)}`
    : `Market closed · opens in ${duration(new Date(clock.next_open) - now)}`;
  field("eod", "clock", text);
}

function showRun(run) {
  const closed = run.symbols.filter((s) => s.outcome === "closed").length;
  const failed = run.symbols.filter((s) => s.outcome === "failed").length;
  const text = `Last flatten (${run.kind}): ${run.state} at ${time(run.finished_at || run.started_at)}` +
    ` · ${closed} closed, ${failed} failed`;
  field("eod", "last_run", text);
}

function latest(scheduled, onDemand) {
  return onDemand && onDemand.started_at > scheduled.started_at ? onDemand : scheduled;
}

const ERROR_EVENT = /(rejected|denied|unresolved|not_sent|failed|error)/;

function showActivity(page) {
  const events = page.events.slice(-20).reverse();
  list("activity", events.map((e) => {
    const bad = ERROR_EVENT.test(e.type) || Boolean(e.error);
    const what = [e.symbol, e.reason || e.error, e.status].filter(Boolean).join(" · ");
    const item = row(e.type, `${time(e.time || e.created_at)} · ${e.caller || ""}${what ? " · " + what : ""}`);
    if (bad) item.classList.add("error");
    return item;
  }), "No events in the last six hours.");
}

function showLatency(analytics) {
  const phases = Object.entries(analytics.total.latency_ms);
  list("latency", phases.map(([name, phase]) => {
    const ms = (v) => (v == null ? "–" : `${Math.round(v)} ms`);
    return row(name.replaceAll("_", " "), `${phase.count} samples`, el("div", "num", `p50 ${ms(phase.p50)} · p95 ${ms(phase.p95)}`));
  }), "No orders in the last day.");
}

function failed(id, error) {
  if (!(error instanceof SignedOut)) note(id, `Unavailable: ${error.message}`, true);
}

function readClock(get) {
  if (!clockRead || Date.now() - clockRead.at > CLOCK_MS) {
    clockRead = { at: Date.now(), promise: get("/clock") };
    clockRead.promise.catch(() => {
      clockRead = null;
    });
  }
  return clockRead.promise;
}

function readRun(get) {
  // A 404 (no run this session yet) is remembered for a minute; a flatten from here forgets it.
  if (runMissing && Date.now() - runMissing.at < CLOCK_MS) return Promise.reject(runMissing.error);
  return get("/eod").catch((error) => {
    if (error instanceof ApiError && error.status === 404) runMissing = { at: Date.now(), error };
    throw error;
  });
}

function ago(hours) {
  return new Date(Date.now() - hours * 3600000).toISOString();
}

async function load() {
  const get = (path) => api("GET", path);
  const settle = (promise) => promise.then(
    (value) => ({ status: "fulfilled", value }),
    (reason) => ({ status: "rejected", reason }),
  );
  const clock = await settle(readClock(get)); // cached: one upstream read a minute
  // Fills carry the broker's transaction times: a week back from the market's clock.
  const marketNow = clock.status === "fulfilled" ? new Date(clock.value.timestamp).getTime() : Date.now();
  const weekBack = new Date(marketNow - 7 * 24 * 3600000).toISOString();
  const [account, positions, orders, fills, analytics, risk, run, audit] = await Promise.all([
    get("/account"),
    get("/positions"),
    get("/orders?status=open"),
    get(`/fills?since=${encodeURIComponent(weekBack)}&limit=500`),
    get("/analytics"),
    get("/risk"),
    readRun(get),
    get(`/audit?since=${encodeURIComponent(ago(6))}&limit=1000`),
  ].map(settle));
  if (!token()) return; // a 401 signed us out meanwhile
  const apply = (result, id, show, fail = failed) =>
    result.status === "fulfilled" ? show(result.value) : fail(id, result.reason);
  apply(account, "equity", showAccount);
  apply(positions, "positions", showPositions);
  apply(orders, "orders", showOrders);
  apply(fills, "fills", (page) => showFills(page, analytics.value));
  apply(analytics, "latency", showLatency);
  apply(risk, "trading-state", showRisk, (_, error) => riskUnavailable(error));
  apply(clock, "eod", showClock);
  apply(run, "eod", (scheduled) => showRun(latest(scheduled, onDemandRun)), (id, error) => {
    if (onDemandRun) showRun(onDemandRun);
    else if (error instanceof ApiError && error.status === 404) field(id, "last_run", "No flatten run this session.");
    else failed(id, error);
  });
  apply(audit, "activity", showActivity, (id, error) => {
    if (error instanceof ApiError && error.status === 403) note(id, "Needs a token with admin scope.", true);
    else failed(id, error);
  });
  $('[data-testid="status"]').textContent = `Updated ${time(new Date())}`;
}

function refresh() {
  if (!token() || document.visibilityState === "hidden") return refreshing;
  if (!refreshing) {
    refreshing = load().catch(() => {}).finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// ---------- sign-in

function show(signedIn) {
  panel("sign-in").hidden = signedIn;
  panel("panels").hidden = !signedIn;
  $('[data-action="sign-out"]').hidden = !signedIn;
  clearInterval(timer);
  timer = signedIn ? setInterval(refresh, REFRESH_MS) : null;
}

function signOut(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  show(false);
  $('[data-testid="status"]').textContent = message;
}

function signIn(event) {
  event.preventDefault();
  const input = $('input[name="token"]');
  const value = input.value.trim();
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value);
  input.value = "";
  $('[data-testid="status"]').textContent = "";
  show(true);
  refresh();
}

function start() {
  takeTokenFromFragment();
  panel("sign-in").addEventListener("submit", signIn);
  $('[data-action="sign-out"]').addEventListener("click", () => signOut());
  panel("panels").addEventListener("click", onPress);
  document.addEventListener("visibilitychange", () => refresh());
  window.addEventListener("hashchange", () => {
    takeTokenFromFragment();
    if (token()) {
      show(true);
      refresh();
    }
  });
  show(Boolean(token()));
  refresh();
}

start();
