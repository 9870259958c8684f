-- post.lua: wrk script for the API: a JSON POST whose body comes from $BENCH_BODY.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
