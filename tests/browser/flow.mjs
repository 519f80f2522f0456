// A person's path through the Gatehouse pages in headless Chromium: log in, create an API key,
// see it once, use it with fetch against /wp-json/wp/v2/users/me, revoke it, visit the admin and
// authorize-application pages, log out. Saves a screenshot of each page and fails on any console
// error. Inputs (env): BASE_URL, LOGIN, PASSWORD, SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const base = process.env.BASE_URL;
const shots = process.env.SCREENSHOT_DIR;
mkdirSync(shots, { recursive: true });
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  const shot = async (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

  await page.goto(`${base}/login`);
  check((await page.title()).includes("Log in"), "login page title");
  await shot("login");
  await page.fill('input[name="log"]', process.env.LOGIN);
  await page.fill('input[name="pwd"]', process.env.PASSWORD);
  await Promise.all([page.waitForURL(`${base}/profile`), page.click('button[type="submit"]:has-text("Log in")')]);
  check((await page.title()).includes("Your profile"), "profile after log-in");
  await shot("profile");

  await page.fill('#api-keys input[name="description"]', "browser test");
  await Promise.all([page.waitForLoadState("load"), page.click('button:has-text("Create API key")')]);
  const key = await page.inputValue("#new-secret");
  check(key.startsWith("gak_") && key.length === 53, `a new API key is shown (${key.slice(0, 4)})`);
  await page.click('button[data-copy="new-secret"]');
  await page.waitForFunction(() => document.querySelector('button[data-copy="new-secret"]').textContent !== "Copy");
  check((await page.textContent('button[data-copy="new-secret"]')) === "Copied", "the copy button says Copied");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check(copied === key, "the clipboard holds the new key");
  await shot("profile-new-key");

  const me = await page.evaluate(async (k) => {
    const r = await fetch("/wp-json/wp/v2/users/me", { headers: { Authorization: `ApiKey ${k}` }, credentials: "omit" });
    return { status: r.status, body: await r.json() };
  }, key);
  check(me.status === 200 && me.body.slug === process.env.LOGIN, `fetch with the key: ${me.status}`);

  await page.goto(`${base}/profile`);
  check(!(await page.content()).includes(key), "the key is shown only once");
  await Promise.all([page.waitForLoadState("load"), page.click('#api-keys button:has-text("Revoke")')]);
  check((await page.content()).includes("The API key was revoked."), "revoked notice");
  await shot("profile-revoked");
  // This fetch is meant to fail (401); Chromium logs that as a console error, which is expected.
  const expectedFrom = consoleErrors.length;
  const after = await page.evaluate(async (k) => {
    const r = await fetch("/wp-json/wp/v2/users/me", { headers: { Authorization: `ApiKey ${k}` }, credentials: "omit" });
    return r.status;
  }, key);
  check(after === 401, `the revoked key is refused: ${after}`);
  consoleErrors.splice(expectedFrom);

  await page.goto(`${base}/admin`);
  check((await page.title()).includes("Administration"), "admin page");
  await shot("admin");
  await page.goto(`${base}/wp-admin/authorize-application.php?app_name=Browser%20Test&success_url=${encodeURIComponent("https://app.example/ok")}`);
  check((await page.content()).includes("Browser Test"), "authorize-application page");
  check((await page.textContent("#destination") || "").includes("You will be sent to app.example"),
        "the page names where the password goes");
  await shot("authorize-application");

  await page.goto(`${base}/profile`);
  await Promise.all([page.waitForURL(/\/login\?loggedout=true/), page.click('header button:has-text("Log out")')]);
  check((await page.content()).includes("You are now logged out."), "logged out");
  await shot("logged-out");
  await page.goto(`${base}/profile`);
  check(page.url().includes("/login"), "profile needs a session again");

  check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(" | ")}`);
} finally {
  await browser.close();
}
if (problems.length) {
  console.error("BROWSER TEST FAILED:\n- " + problems.join("\n- "));
  process.exit(1);
}
console.log("browser flow ok");
