// A person's path through the Gatehouse pages in headless Chromium: the front door, log in (after
// a wrong password, which keeps the username), a refused API key form, create an API key, see it
// once, use it with fetch against /wp-json/wp/v2/users/me, reload (no second key), revoke it after
// confirming, change a member's role on the admin page and see the result, visit the
// authorize-application page, log out. Saves a screenshot of each page and fails on any console
// error. Inputs (env): BASE_URL, LOGIN, PASSWORD, MEMBER (a member of the first site),
// SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium).
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
  // Clicks and waits for the page the form redirects to (post/redirect/get) to load.
  const landOn = async (path, action) => {
    await Promise.all([
      page.waitForResponse((r) => r.url() === `${base}${path}` && r.request().method() === "GET"),
      action(),
    ]);
    await page.waitForLoadState("load");
  };

  // The front door: what this is, and the way in.
  await page.goto(`${base}/`);
  check((await page.textContent("h1")) === "Gatehouse", "front door heading");
  for (const href of ["/wp-json/", "/openapi.json", "/healthz"]) {
    check(await page.locator(`a[href="${href}"]`).count() === 1, `front door links ${href}`);
  }
  await shot("home");
  await Promise.all([page.waitForURL(`${base}/login`), page.click('a.button:has-text("Log in")')]);
  check((await page.title()).includes("Log in"), "login page title");
  await shot("login");
  // A wrong password keeps the username typed.
  await page.fill('input[name="log"]', process.env.LOGIN);
  await page.fill('input[name="pwd"]', "not the password");
  await Promise.all([page.waitForLoadState("load"), page.click('button[type="submit"]:has-text("Log in")')]);
  check((await page.content()).includes("The username or password is incorrect."), "wrong password said");
  check((await page.inputValue('input[name="log"]')) === process.env.LOGIN, "the username stays after a wrong password");
  await shot("login-wrong-password");
  await page.fill('input[name="pwd"]', process.env.PASSWORD);
  await Promise.all([page.waitForURL(`${base}/profile`), page.click('button[type="submit"]:has-text("Log in")')]);
  check((await page.title()).includes("Your profile"), "profile after log-in");
  await shot("profile");

  // A bad scope: the error lists the valid ones and the form keeps what was typed.
  await page.fill('#api-keys input[name="description"]', "browser test");
  await page.fill('#api-keys input[name="scopes"]', "posts:delete");
  await landOn("/profile", () => page.click('button:has-text("Create API key")'));
  const refused = await page.textContent(".error");
  check(refused.includes('Unknown scope "posts:delete"') && refused.includes("posts:read"), `bad scope explained: ${refused}`);
  check((await page.inputValue('#api-keys input[name="description"]')) === "browser test", "description kept");
  check((await page.inputValue('#api-keys input[name="scopes"]')) === "posts:delete", "scopes kept");
  await shot("profile-bad-scope");

  await page.fill('#api-keys input[name="scopes"]', "");
  await landOn("/profile", () => page.click('button:has-text("Create API key")'));
  check(await page.evaluate(() => window.scrollY) === 0, "the new secret is in sight, at the top");
  const key = await page.inputValue("#new-secret");
  check(key.startsWith("gak_") && key.length === 53, `a new API key is shown (${key.slice(0, 4)})`);
  check(!page.url().includes(key.slice(4, 20)), "the secret is not in the address bar");
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

  // Reloading the page after creating a key creates nothing and shows the secret no more.
  const rows = () => page.locator('#api-keys tbody tr', { hasText: "browser test" }).count();
  check(await rows() === 1, "one key after creating one");
  await page.reload();
  check(await rows() === 1, `still one key after a reload (${await rows()})`);
  check(!(await page.content()).includes(key), "the key is shown only once");
  await shot("profile-reloaded");

  // Revoking asks first, naming the key; going back revokes nothing.
  await Promise.all([page.waitForLoadState("load"), page.click('#api-keys tr:has-text("browser test") a:has-text("Revoke")')]);
  check((await page.textContent(".question")).includes("Revoke the API key “browser test”?"), "the confirmation names the key");
  await shot("revoke-confirm");
  await Promise.all([page.waitForLoadState("load"), page.click('a:has-text("No, go back")')]);
  check(await rows() === 1, "going back keeps the key");
  await Promise.all([page.waitForLoadState("load"), page.click('#api-keys tr:has-text("browser test") a:has-text("Revoke")')]);
  await landOn("/profile", () => page.click('button:has-text("Revoke API key")'));
  check((await page.content()).includes("The API key “browser test” was revoked."), "revoked notice names the key");
  check(await rows() === 0, "the key is gone from the list");
  await shot("profile-revoked");
  await page.reload();
  check(!(await page.content()).includes("was revoked"), "the notice is shown once");
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
  check(await page.locator(`#users tr:has-text("${process.env.LOGIN} (you)") button`).count() === 0, "no Disable button on your own row");
  await shot("admin");
  // A role change shows its result: the notice names the site, the member list has it.
  const site = page.locator("#sites .site").first();
  const siteName = (await site.locator("h3").textContent()).split("\n")[0].replace(/\s+http.*$/, "").trim();
  await site.locator('input[name="login"]').fill(process.env.MEMBER);
  await site.locator('select[name="role"]').selectOption("editor");
  await landOn("/admin", () => site.locator('button:has-text("Set role")').click());
  const notice = await page.textContent(".notice");
  check(notice.includes(`${process.env.MEMBER} is now editor on “`) && !notice.includes("site 1"), `role notice: ${notice}`);
  check(await page.locator("#sites .site").first().locator(`tr:has-text("${process.env.MEMBER}")`).textContent().then((t) => t.includes("editor")),
        "the member list shows the new role");
  check((await page.textContent("#audit")).includes(`${process.env.MEMBER} is now editor on`), "the audit log says it in words");
  check(siteName.length > 0, "site name read");
  await shot("admin-role-changed");
  // The developer page: register an application, see its secret once.
  await page.goto(`${base}/developer`);
  await page.fill('#register input[name="name"]', "Browser app");
  await page.fill('#register textarea[name="redirect_uris"]', "https://app.example/cb");
  await landOn("/developer", () => page.click('button:has-text("Register")'));
  const clientSecret = await page.inputValue("#new-secret");
  check(clientSecret.startsWith("gcs_"), "a client secret is shown once");
  check((await page.textContent("#apps")).includes("Browser app"), "the app is listed");
  await shot("developer");
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
