"""Pre-signs OAuth 1.0a requests for the load benchmark (bench/http.sh): runs the three legs for
`login` with the demo's oob desktop client (requests-oauthlib, approving on the real page), then
writes COUNT `Authorization: OAuth …` headers for GET PATH, each with its own nonce, one per line.
Usage: oauth1_pool.py BASE KEY SECRET LOGIN PASSWORD PATH COUNT OUT"""
import re, sys, time
import requests
from oauthlib.oauth1 import Client
from requests_oauthlib import OAuth1Session

base, key, secret, login, password, path, count, out = sys.argv[1:9]
oauth = OAuth1Session(key, client_secret=secret, callback_uri="oob")
rt = oauth.fetch_request_token(base + "/oauth1/request")
browser = requests.Session()
page = browser.get(base + "/login").text
csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
browser.post(base + "/login", data={"log": login, "pwd": password, "_csrf": csrf}, allow_redirects=False)
page = browser.get(oauth.authorization_url(base + "/oauth1/authorize")).text
csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
answer = browser.post(base + "/oauth1/authorize", data={"_csrf": csrf, "oauth_token": rt["oauth_token"], "decision": "allow"}).text
verifier = re.search(r'id="verifier" readonly value="([^"]+)"', answer).group(1)
oauth = OAuth1Session(key, client_secret=secret, resource_owner_key=rt["oauth_token"],
                      resource_owner_secret=rt["oauth_token_secret"], verifier=verifier)
token = oauth.fetch_access_token(base + "/oauth1/access")
client = Client(key, client_secret=secret, resource_owner_key=token["oauth_token"],
                resource_owner_secret=token["oauth_token_secret"])
url = base + path
with open(out, "w") as f:
    for _ in range(int(count)):
        _, headers, _ = client.sign(url, http_method="GET")
        f.write(headers["Authorization"] + "\n")
