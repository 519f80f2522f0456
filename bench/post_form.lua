-- wrk: POST a form body with an Authorization header, both from the environment.
--   BODY='grant_type=client_credentials&scope=global' AUTH='Basic …' wrk -s bench/post_form.lua URL
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("AUTH")
