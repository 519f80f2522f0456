// The OAuth 2.0 code flow as a person and a single-page app go through it, in headless Chromium:
// the app (served here on another origin, 127.0.0.1 on its own port) sends the browser to
// /oauth/authorize with PKCE; the person logs in, sees the consent page, picks the site and
// allows; the browser comes back to the app, whose page exchanges the code at /oauth/token with
// fetch (CORS, no secret) and calls /wp-json/wp/v2/users/me with the token.
// Inputs (env): BASE_URL, LOGIN, PASSWORD, CLIENT_ID, SITE_ID, SCREENSHOT_DIR, CHROMIUM.
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";

const base = process.env.BASE_URL;
const shots = process.env.SCREENSHOT_DIR;
mkdirSync(shots, { recursive: true });
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };

const verifier = randomBytes(48).toString("base64url");
const challenge = createHash("sha256").update(verifier).digest("base64url");
const state = randomBytes(12).toString("hex");

// The single-page app: one page that handles the redirect back.
const app = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><title>Demo SPA</title><h1>Demo SPA</h1><pre id="out">working…</pre>
<script>
(async () => {
  const q = new URLSearchParams(location.search);
  const out = document.getElementById("out");
  const show = (o) => { out.textContent = JSON.stringify(o, null, 2); document.title = "done"; };
  if (q.get("state") !== ${JSON.stringify(state)}) return show({ error: "state mismatch" });
  const body = new URLSearchParams({ grant_type: "authorization_code", code: q.get("code"),
    client_id: ${JSON.stringify(process.env.CLIENT_ID)}, code_verifier: ${JSON.stringify(verifier)},
    redirect_uri: location.origin + "/cb" });
  const t = await fetch(${JSON.stringify(base)} + "/oauth/token", { method: "POST", body });
  const tokens = await t.json();
  const me = await fetch(${JSON.stringify(base)} + "/wp-json/wp/v2/users/me",
    { headers: { Authorization: "Bearer " + tokens.access_token } });
  show({ iss: q.get("iss"), token_status: t.status, has_refresh: !!tokens.refresh_token,
         scope: tokens.scope, me_status: me.status, slug: (await me.json()).slug });
})().catch((e) => { document.getElementById("out").textContent = "error: " + e; document.title = "done"; });
</script>`);
});
await new Promise((r) => app.listen(0, "127.0.0.1", r));
const appOrigin = `http://127.0.0.1:${app.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await (await browser.newContext()).newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  const shot = (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

  const authorize = `${base}/oauth/authorize?` + new URLSearchParams({
    client_id: process.env.CLIENT_ID, redirect_uri: `${appOrigin}/cb`, response_type: "code",
    scope: "posts", state, code_challenge: challenge, code_challenge_method: "S256" });
  await page.goto(authorize);
  check(page.url().startsWith(`${base}/login`), `log-in first: ${page.url()}`);
  await shot("oauth-login");
  await page.fill('input[name="log"]', process.env.LOGIN);
  await page.fill('input[name="pwd"]', process.env.PASSWORD);
  await Promise.all([page.waitForURL(/\/oauth\/authorize\?/), page.click('button:has-text("Log in")')]);
  const text = await page.textContent("main");
  check(text.includes("Browser SPA") && text.includes("wants to use your account"), "the consent page names the app");
  check(text.includes("Read and write posts on one site"), "scopes in words");
  check(text.includes("127.0.0.1"), "names where the browser goes");
  await page.selectOption('select[name="blog"]', process.env.SITE_ID);
  await shot("oauth-consent");
  await Promise.all([page.waitForURL(`${appOrigin}/cb?*`), page.click('button:has-text("Allow")')]);
  await page.waitForFunction(() => document.title === "done", null, { timeout: 20000 });
  const result = JSON.parse(await page.textContent("#out"));
  check(result.token_status === 200, `token exchange from another origin: ${JSON.stringify(result)}`);
  check(result.me_status === 200 && result.slug === process.env.LOGIN, `the token works: ${JSON.stringify(result)}`);
  check(result.iss === base, `iss names the issuer: ${result.iss}`);
  check(result.has_refresh && result.scope === "posts", `a refresh token and the scope: ${JSON.stringify(result)}`);
  await shot("oauth-callback");
  check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(" | ")}`);
} finally {
  await browser.close();
  app.close();
}
if (problems.length) {
  console.error("OAUTH BROWSER TEST FAILED:\n- " + problems.join("\n- "));
  process.exit(1);
}
console.log("oauth browser flow ok");
