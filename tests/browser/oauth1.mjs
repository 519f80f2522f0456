// The oauth-1.0a package (Node's most used OAuth 1.0a signer) used unchanged against Gatehouse:
// signs GET /wp-json/wp/v2/users/me, a JSON POST that creates a post, and a form POST whose
// fields are part of the signature; a replayed header is refused.
// Inputs (env): BASE_URL, CONSUMER_KEY, CONSUMER_SECRET, TOKEN, TOKEN_SECRET, LOGIN.
import OAuth from "oauth-1.0a";
import crypto from "node:crypto";

const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };
const base = process.env.BASE_URL;
const oauth = OAuth({
  consumer: { key: process.env.CONSUMER_KEY, secret: process.env.CONSUMER_SECRET },
  signature_method: "HMAC-SHA1",
  hash_function: (text, key) => crypto.createHmac("sha1", key).update(text).digest("base64"),
});
const token = { key: process.env.TOKEN, secret: process.env.TOKEN_SECRET };
const signed = (method, url, data) => oauth.toHeader(oauth.authorize({ url, method, data }, token));

const meUrl = `${base}/wp-json/wp/v2/users/me`;
const meHeaders = signed("GET", meUrl);
const me = await fetch(meUrl, { headers: meHeaders });
const meBody = await me.json();
check(me.status === 200 && meBody.slug === process.env.LOGIN, `users/me ${me.status} ${JSON.stringify(meBody)}`);

const again = await fetch(meUrl, { headers: meHeaders });
const againBody = await again.json();
check(again.status === 401 && againBody.code === "nonce_used", `replay ${again.status} ${againBody.code}`);

const postsUrl = `${base}/wp-json/wp/v2/posts`;
const json = await fetch(postsUrl, {
  method: "POST",
  headers: { ...signed("POST", postsUrl), "Content-Type": "application/json" },
  body: JSON.stringify({ title: "From oauth-1.0a", status: "publish" }),
});
const jsonBody = await json.json();
check(json.status === 201 && jsonBody.title.raw === "From oauth-1.0a", `JSON post ${json.status} ${JSON.stringify(jsonBody)}`);

const form = { title: "Form from oauth-1.0a", status: "draft" };
const formPost = await fetch(postsUrl, {
  method: "POST",
  headers: { ...signed("POST", postsUrl, form), "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(form).toString(),
});
check(formPost.status === 201, `form post ${formPost.status} ${await formPost.text()}`);

const bad = OAuth({
  consumer: { key: process.env.CONSUMER_KEY, secret: "wrong" },
  signature_method: "HMAC-SHA1",
  hash_function: (text, key) => crypto.createHmac("sha1", key).update(text).digest("base64"),
});
const refused = await fetch(meUrl, { headers: bad.toHeader(bad.authorize({ url: meUrl, method: "GET" }, token)) });
check(refused.status === 401 && (await refused.json()).code === "signature_invalid", `bad signature ${refused.status}`);

if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("oauth-1.0a ok");
