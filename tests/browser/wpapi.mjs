// The wpapi client (node-wpapi, the WordPress REST API client for JavaScript) used unchanged
// against Gatehouse: discovery-free endpoint, application-password Basic auth, list, create,
// update and delete posts, users/me. Inputs (env): BASE_URL, LOGIN, APP_PASSWORD.
import WPAPI from "wpapi";

const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };
const wp = new WPAPI({
  endpoint: `${process.env.BASE_URL}/wp-json`,
  username: process.env.LOGIN,
  password: process.env.APP_PASSWORD,
});

const me = await wp.users().me().auth();
check(me.slug === process.env.LOGIN, `users/me slug ${me.slug}`);
const created = await wp.posts().auth().create({ title: "From wpapi", content: "<p>Hello</p>", status: "publish" });
check(created.id > 0 && created.status === "publish", "create");
const updated = await wp.posts().id(created.id).auth().update({ title: "From wpapi, edited" });
check(updated.title.raw === "From wpapi, edited", "update");
const list = await wp.posts().perPage(1);
check(Array.isArray(list) && list._paging && list._paging.total >= 1, "list with paging from X-WP-Total");
const anon = new WPAPI({ endpoint: `${process.env.BASE_URL}/wp-json` });
let refused = null;
try {
  await anon.posts().create({ title: "nope" });
} catch (e) {
  refused = e.code;
}
check(refused === "rest_cannot_create", `anonymous create refused with ${refused}`);
const deleted = await wp.posts().id(created.id).auth().delete({ force: true });
check(deleted.deleted === true, "delete");
if (problems.length) {
  console.error("WPAPI TEST FAILED:\n- " + problems.join("\n- "));
  process.exit(1);
}
console.log("wpapi ok");
