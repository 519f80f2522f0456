// OAuth 1.0a as a developer and a person go through it, in headless Chromium: the developer
// registers an application on /developer (the secret shown once); the app (Node's oauth-1.0a)
// gets a request token for oob; the person opens /oauth1/authorize, logs in, approves and reads
// the verification code; the app exchanges it and calls users/me; the person revokes the app on
// the profile page and the app's next call is refused.
// Inputs (env): BASE_URL, LOGIN, PASSWORD, SCREENSHOT_DIR, CHROMIUM.
import { chromium } from "playwright-core";
import OAuth from "oauth-1.0a";
import crypto from "node:crypto";
import { mkdirSync } from "node:fs";

const base = process.env.BASE_URL;
const shots = process.env.SCREENSHOT_DIR;
mkdirSync(shots, { recursive: true });
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };
const form = (text) => Object.fromEntries(new URLSearchParams(text));

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

  // The developer registers an application (no callback: oob).
  await page.goto(`${base}/login?redirect_to=/developer`);
  await page.fill('input[name="log"]', process.env.LOGIN);
  await page.fill('input[name="pwd"]', process.env.PASSWORD);
  await Promise.all([page.waitForURL(/\/developer/), page.click('button:has-text("Log in")')]);
  await page.fill('input[name="o1_name"]', "Desk Client");
  await page.fill('input[name="o1_description"]', "Posts from the desktop");
  await Promise.all([page.waitForURL(/\/developer/), page.click('#oauth1 button:has-text("Register")')]);
  const secret = await page.inputValue("#new-secret");
  // The secret's heading names the key; the key is also in the list.
  const heading = await page.textContent("section.secret h2");
  const key = (heading.match(/\(key ([A-Za-z0-9]{12})\)/) || [])[1] || "";
  check(await page.locator("#oauth1 table code", { hasText: key }).count() === 1, `key ${key} listed`);
  check(secret.length === 48 && key.length === 12, `key ${key} and secret shown once`);
  await shot("oauth1-developer");
  await page.reload();
  check(await page.locator("#new-secret").count() === 0, "the secret is not shown again");

  // The app: temporary credentials for oob.
  const oauth = OAuth({
    consumer: { key, secret },
    signature_method: "HMAC-SHA1",
    hash_function: (text, k) => crypto.createHmac("sha1", k).update(text).digest("base64"),
  });
  // oauth-1.0a signs `data` and copies its oauth_ parameters (oauth_callback, oauth_verifier)
  // into the header, so they are sent there only: the same parameter in the header and the body
  // would be a duplicate, refused with 400.
  const post = async (url, data, token) => fetch(url, {
    method: "POST",
    headers: oauth.toHeader(oauth.authorize({ url, method: "POST", data }, token)),
  });
  const rt = await post(`${base}/oauth1/request`, { oauth_callback: "oob" });
  const request = form(await rt.text());
  check(rt.status === 200 && request.oauth_callback_confirmed === "true", `request token ${rt.status}`);
  if (rt.status !== 200) throw new Error(`request token: ${rt.status} ${JSON.stringify(request)}`);

  // The person approves (a fresh browser: log in first, then back to the approval page).
  const person = await (await browser.newContext()).newPage();
  person.on("pageerror", (e) => consoleErrors.push(`${person.url()}: ${e.message}`));
  const pshot = (name) => person.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
  await person.goto(`${base}/oauth1/authorize?oauth_token=${request.oauth_token}`);
  check(person.url().startsWith(`${base}/login`), `log-in first: ${person.url()}`);
  await person.fill('input[name="log"]', process.env.LOGIN);
  await person.fill('input[name="pwd"]', process.env.PASSWORD);
  await Promise.all([person.waitForURL(/\/oauth1\/authorize\?/), person.click('button:has-text("Log in")')]);
  const text = await person.textContent("main");
  check(text.includes("Desk Client") && text.includes("wants to use your account"), "the page names the app");
  check(text.includes("Posts from the desktop"), "and its description");
  check(text.includes("type into the application"), "says a code follows (oob)");
  await pshot("oauth1-approve");
  await Promise.all([person.waitForLoadState(), person.click('button:has-text("Approve")')]);
  const verifier = await person.inputValue("#verifier");
  check(verifier.length === 24, `verifier shown: ${verifier}`);
  await pshot("oauth1-verifier");

  // The app: token credentials, then the API.
  const reqToken = { key: request.oauth_token, secret: request.oauth_token_secret };
  const at = await post(`${base}/oauth1/access`, { oauth_verifier: verifier }, reqToken);
  const access = form(await at.text());
  check(at.status === 200 && access.oauth_token, `access token ${at.status}`);
  const token = { key: access.oauth_token, secret: access.oauth_token_secret };
  const me = async () => {
    const url = `${base}/wp-json/wp/v2/users/me`;
    const r = await fetch(url, { headers: oauth.toHeader(oauth.authorize({ url, method: "GET" }, token)) });
    return [r.status, await r.json()];
  };
  const [status, body] = await me();
  check(status === 200 && body.slug === process.env.LOGIN, `users/me ${status}`);

  // The person revokes it on the profile page.
  await person.goto(`${base}/profile#authorized-apps`);
  const row = person.locator("#authorized-apps tr", { hasText: "Desk Client" });
  check(await row.count() === 1, "listed under Authorized applications");
  await pshot("oauth1-profile");
  await Promise.all([person.waitForURL(/\/profile\/oauth1\/\d+\/revoke/), row.locator("a:has-text('Revoke')").click()]);
  await pshot("oauth1-revoke-confirm");
  await Promise.all([person.waitForURL(/\/profile/), person.click('button:has-text("Revoke access")')]);
  check((await person.textContent("main")).includes("was revoked"), "says it was revoked");
  await pshot("oauth1-revoked");
  const [after, refused] = await me();
  check(after === 401 && refused.code === "token_rejected", `after revoking: ${after} ${refused.code}`);
  check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(" | ")}`);
} finally {
  await browser.close();
}
if (problems.length) {
  console.error("OAUTH1 BROWSER TEST FAILED:\n- " + problems.join("\n- "));
  process.exit(1);
}
console.log("oauth1 browser flow ok");
